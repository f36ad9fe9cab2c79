/*
 * The registration page: the SMS code (POST /api/v1/sms-codes), then the
 * account (POST /api/v1/users), and on to the page's safe next.
 */
(function () {
  'use strict';

  var u = window.unid, $ = u.$, t = u.t, api = u.api, value = u.value, showErrors = u.showErrors,
    watchInputs = u.watchInputs;

  var loginNameRule = /^[A-Za-z][A-Za-z0-9_]{3,31}$/;

  function passwordError(pw, loginName) {
    if (!pw) { return t('required'); }
    var classes = 0;
    if (/[A-Z]/.test(pw)) { classes++; }
    if (/[a-z]/.test(pw)) { classes++; }
    if (/[0-9]/.test(pw)) { classes++; }
    if (/[^A-Za-z0-9]/.test(pw)) { classes++; }
    if (pw.length < 8 || classes < 3) { return t('password_rule'); }
    if (loginName && pw.toLowerCase().indexOf(loginName.toLowerCase()) >= 0) { return t('password_has_login'); }
    return '';
  }

  function digitsOnly(s) { return s.replace(/[\s-]/g, ''); }

  function initRegister(form) {
    var captcha = new u.Captcha();
    var next = u.safeNext(form.getAttribute('data-next'));
    captcha.load(false);
    watchInputs(form);

    u.codeSender({
      form: form, button: $('send-sms'), status: $('sms-status'), captcha: captcha, focus: $('sms_code'),
      check: function () {
        var phone = digitsOnly(value(form, 'phone'));
        var errs = {};
        if (!phone) { errs.phone = t('required'); } else if (!/^1\d{10}$/.test(phone)) { errs.phone = t('phone'); }
        var c = captcha.check();
        if (c) { errs.captcha_answer = c; }
        return showErrors(form, errs, ['phone', 'captcha_answer']) && phone;
      },
      request: function (phone) {
        return api('POST', '/api/v1/sms-codes', {
          phone: phone,
          purpose: 'register',
          captcha_id: value(form, 'captcha_id'),
          captcha_answer: value(form, 'captcha_answer').replace(/\s+/g, '')
        });
      },
      sent: function (wait) { return t('sms_sent', { wait: wait }); }
    });

    u.submitter({
      form: form, button: $('register-submit'),
      check: function () {
        var loginName = value(form, 'login_name').replace(/^\s+|\s+$/g, '');
        var pw = value(form, 'password');
        var phone = digitsOnly(value(form, 'phone'));
        var sms = digitsOnly(value(form, 'sms_code'));
        var realName = value(form, 'real_name').replace(/^\s+|\s+$/g, '');
        var idNumber = digitsOnly(value(form, 'id_number')).toUpperCase();

        var errs = {};
        if (!loginName) { errs.login_name = t('required'); } else if (!loginNameRule.test(loginName)) { errs.login_name = t('login_name'); }
        var pwErr = passwordError(pw, loginName);
        if (pwErr) { errs.password = pwErr; }
        if (!value(form, 'password_confirm')) { errs.password_confirm = t('required'); } else if (value(form, 'password_confirm') !== pw) { errs.password_confirm = t('password_mismatch'); }
        if (!phone) { errs.phone = t('required'); } else if (!/^1\d{10}$/.test(phone)) { errs.phone = t('phone'); }
        if (!sms) { errs.sms_code = t('required'); } else if (!/^\d{6}$/.test(sms)) { errs.sms_code = t('sms_code'); }
        if (idNumber && !/^\d{17}[\dX]$/.test(idNumber)) { errs.id_number = t('id_number'); }
        if (!form.elements.agreed.checked) { errs.agreed = t('agree'); }
        if (!showErrors(form, errs, ['login_name', 'password', 'password_confirm', 'phone', 'sms_code', 'real_name', 'id_number', 'agreed'])) { return false; }

        var body = {
          login_name: loginName,
          password: pw,
          password_confirm: value(form, 'password_confirm'),
          phone: phone,
          sms_code: sms,
          agreed: form.elements.agreed.checked
        };
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
