/*
 * The user center's password change (PUT /api/v1/me/password): the
 * current password, the new one twice, and whether to sign out the other
 * devices. An account made through a provider outside unid may have no
 * password (the form is marked data-first): there is no current one to
 * ask, and the core takes the first only shortly after a sign-in; when it
 * answers reauthentication_required, the page offers to prove the person
 * again through a linked provider, which sends them back here.
 */
(function () {
  'use strict';

  var u = window.unid, $ = u.$, t = u.t, api = u.api, value = u.value, showErrors = u.showErrors,
    passwordError = u.passwordError;

  var here = '/settings/password';

  // offerReauth shows the way to prove oneself again: the first provider
  // linked to the account (GET /api/v1/me/links), or, with none, to sign
  // in afresh.
  function offerReauth() {
    var box = $('password-reauth'), link = $('password-reauth-link');
    return api('GET', '/api/v1/me/links').then(function (res) {
      var l = res.ok && res.data && res.data.links && res.data.links[0];
      if (!l) {
        u.setFormError(t('password_reauth_none'));
        return;
      }
      var name = l.name || l.provider;
      u.setFormError(t('password_reauth', { provider: name }));
      link.textContent = t('password_reauth_via', { provider: name });
      link.href = u.reauthVia(l.provider, here);
      box.hidden = false;
      link.focus();
    }, function () {
      u.setFormError(t('network'));
    });
  }

  function initPassword(form) {
    var status = $('password-status');
    var loginName = form.getAttribute('data-login') || '';
    var first = form.getAttribute('data-first') === 'true';
    var fields = first ? ['password', 'password_confirm'] : ['current_password', 'password', 'password_confirm'];
    u.watchInputs(form);
    var others = false;
    u.submitter({
      form: form, button: $('password-submit'), status: status,
      check: function () {
        var current = first ? '' : value(form, 'current_password'), pw = value(form, 'password'), confirm = value(form, 'password_confirm');
        var errs = {};
        if (!first && !current) { errs.current_password = t('required'); }
        var pwErr = passwordError(pw, loginName);
        if (pwErr) { errs.password = pwErr; }
        if (!confirm) { errs.password_confirm = t('required'); } else if (confirm !== pw) { errs.password_confirm = t('password_mismatch'); }
        if (!showErrors(form, errs, fields)) { return false; }
        others = form.elements.sign_out_others.checked;
        $('password-reauth').hidden = true;
        var body = { password: pw, password_confirm: confirm, sign_out_others: others };
        if (!first) { body.current_password = current; }
        return body;
      },
      request: function (body) { return api('PUT', '/api/v1/me/password', body); },
      // Without a password, only a recent sign-in lets the first be set.
      answered: function (res) {
        // Changed, but not signed out everywhere: the form's work is done,
        // and the answer says what is left to do.
        if (res.data && res.data.error && res.data.error.code === 'password_changed_sessions_remain') {
          form.reset();
          status.textContent = res.data.error.message;
          return true;
        }
        if (!first || !u.needsReauth(res)) { return false; }
        offerReauth();
        return true;
      },
      done: function () {
        form.reset();
        if (first) {
          // Set once: from now on the page changes it, with the current
          // one, when loaded again.
          var parts = form.querySelectorAll('.field, .actions');
          for (var i = 0; i < parts.length; i++) { parts[i].hidden = true; }
          $('password-first-intro').hidden = true;
          status.textContent = t(others ? 'password_set_others' : 'password_set');
          return true;
        }
        status.textContent = t(others ? 'password_changed_others' : 'password_changed');
      },
      // A wrong current password is typed afresh.
      failed: function (res) {
        if (res && !first) { form.elements.current_password.value = ''; }
      }
    });
  }

  u.ready(function () {
    var f = $('password-form');
    if (f) { initPassword(f); }
  });
}());
