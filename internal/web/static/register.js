/*
 * The registration page: the SMS code (POST /api/v1/sms-codes), then the
 * account (POST /api/v1/users), and on to the page's safe next. The
 * account's fields and the code button are common.js's, shared with the
 * registration after a sign-in with Alipay (upstream_continue.js).
 */
(function () {
  'use strict';

  var u = window.unid, $ = u.$, t = u.t, api = u.api, value = u.value, showErrors = u.showErrors,
    watchInputs = u.watchInputs, digitsOnly = u.digitsOnly;

  function initRegister(form) {
    var captcha = new u.Captcha();
    var next = u.safeNext(form.getAttribute('data-next'));
    captcha.load(false);
    watchInputs(form);
    u.registerCode(form, captcha);

    u.submitter({
      form: form, button: $('register-submit'),
      check: function () {
        var errs = {};
        var body = u.newAccount(form, errs, false);
        var realName = u.trim(value(form, 'real_name'));
        var idNumber = digitsOnly(value(form, 'id_number')).toUpperCase();
        if (idNumber && !/^\d{17}[\dX]$/.test(idNumber)) { errs.id_number = t('id_number'); }
        if (!showErrors(form, errs, ['login_name', 'password', 'password_confirm', 'phone', 'sms_code', 'real_name', 'id_number', 'agreed'])) { return false; }
        if (realName) { body.real_name = realName; }
        if (idNumber) { body.id_number = idNumber; }
        return body;
      },
      request: function (body) { return api('POST', '/api/v1/users', body); },
      // The account is made and signed in: on to next, the button stays busy.
      done: function () {
        window.location.assign(next);
        return true;
      }
    });
  }

  u.ready(function () {
    var el = $('register-form');
    if (el) { initRegister(el); }
  });
}());
