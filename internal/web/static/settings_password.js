/*
 * The user center's password change (PUT /api/v1/me/password): the
 * current password, the new one twice, and whether to sign out the other
 * devices.
 */
(function () {
  'use strict';

  var u = window.unid, $ = u.$, t = u.t, api = u.api, value = u.value, showErrors = u.showErrors,
    passwordError = u.passwordError;

  function initPassword(form) {
    var status = $('password-status');
    var loginName = form.getAttribute('data-login') || '';
    u.watchInputs(form);
    var others = false;
    u.submitter({
      form: form, button: $('password-submit'), status: status,
      check: function () {
        var current = value(form, 'current_password'), pw = value(form, 'password'), confirm = value(form, 'password_confirm');
        var errs = {};
        if (!current) { errs.current_password = t('required'); }
        var pwErr = passwordError(pw, loginName);
        if (pwErr) { errs.password = pwErr; }
        if (!confirm) { errs.password_confirm = t('required'); } else if (confirm !== pw) { errs.password_confirm = t('password_mismatch'); }
        if (!showErrors(form, errs, ['current_password', 'password', 'password_confirm'])) { return false; }
        others = form.elements.sign_out_others.checked;
        return { current_password: current, password: pw, password_confirm: confirm, sign_out_others: others };
      },
      request: function (body) { return api('PUT', '/api/v1/me/password', body); },
      done: function () {
        form.reset();
        status.textContent = t(others ? 'password_changed_others' : 'password_changed');
      },
      // A wrong current password is typed afresh.
      failed: function (res) {
        if (res) { form.elements.current_password.value = ''; }
      }
    });
  }

  u.ready(function () {
    var f = $('password-form');
    if (f) { initPassword(f); }
  });
}());
