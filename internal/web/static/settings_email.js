/*
 * The user center's email section: a code mailed to the address
 * (POST /api/v1/me/email/code), then the address bound with it
 * (PUT /api/v1/me/email).
 */
(function () {
  'use strict';

  var u = window.unid, $ = u.$, t = u.t, api = u.api, value = u.value, showErrors = u.showErrors,
    watchInputs = u.watchInputs, trim = u.trim;

  var emailRule = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

  function emailErrors(email) {
    var errs = {};
    if (!email) { errs.email = t('required'); } else if (!emailRule.test(email)) { errs.email = t('email'); }
    return errs;
  }

  function init(form) {
    var status = $('email-status');
    var done = $('email-done');
    watchInputs(form);

    u.codeSender({
      form: form, button: $('send-email-code'), status: status, focus: $('email_code'),
      check: function () {
        done.textContent = '';
        var email = trim(value(form, 'email'));
        return showErrors(form, emailErrors(email), ['email']) && email;
      },
      request: function (email) {
        return u.withReauth(function () { return api('POST', '/api/v1/me/email/code', { email: email }); });
      },
      sent: function (wait) { return t('email_sent', { wait: wait }); }
    });

    u.submitter({
      form: form, button: $('email-submit'), status: done,
      check: function () {
        var email = trim(value(form, 'email'));
        var code = value(form, 'email_code').replace(/\s+/g, '');
        var errs = emailErrors(email);
        if (!code) { errs.email_code = t('required'); } else if (!/^\d{6}$/.test(code)) { errs.email_code = t('email_code'); }
        return showErrors(form, errs, ['email', 'email_code']) && { email: email, email_code: code };
      },
      request: function (body) {
        return u.withReauth(function () { return api('PUT', '/api/v1/me/email', body); });
      },
      done: function (res) {
        var masked = (res.data && res.data.email) || '';
        $('email-current').textContent = masked;
        done.textContent = t('email_bound', { email: masked });
        status.textContent = '';
        form.reset();
      }
    });
  }

  u.ready(function () {
    var form = $('email-form');
    if (form) { init(form); }
  });
}());
