/*
 * The registration page: the SMS code (POST /api/v1/sms-codes), then the
 * account (POST /api/v1/users), and on to the page's safe next.
 */
(function () {
  'use strict';

  var u = window.unid, $ = u.$, t = u.t, api = u.api, value = u.value, setBusy = u.setBusy,
    setFormError = u.setFormError, clearErrors = u.clearErrors, showErrors = u.showErrors,
    showAPIError = u.showAPIError, watchInputs = u.watchInputs, duration = u.duration;

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
    var submit = $('register-submit');
    var send = $('send-sms');
    var status = $('sms-status');
    var timer = null;
    var next = u.safeNext(form.getAttribute('data-next'));
    captcha.load(false);
    watchInputs(form);
    submit.disabled = false;
    send.disabled = false;

    function countdown(seconds) {
      var left = seconds;
      send.disabled = true;
      send.textContent = t('resend_in', { n: left });
      if (timer) { clearInterval(timer); }
      timer = setInterval(function () {
        left--;
        if (left > 0) {
          send.textContent = t('resend_in', { n: left });
          return;
        }
        clearInterval(timer);
        timer = null;
        send.textContent = t('resend');
        send.disabled = false;
      }, 1000);
    }

    send.addEventListener('click', function () {
      if (send.disabled) { return; }
      clearErrors(form);
      status.textContent = '';
      var phone = digitsOnly(value(form, 'phone'));
      var errs = {};
      if (!phone) { errs.phone = t('required'); } else if (!/^1\d{10}$/.test(phone)) { errs.phone = t('phone'); }
      var c = captcha.check();
      if (c) { errs.captcha_answer = c; }
      if (!showErrors(form, errs, ['phone', 'captcha_answer'])) { return; }

      setBusy(send, true);
      api('POST', '/api/v1/sms-codes', {
        phone: phone,
        purpose: 'register',
        captcha_id: value(form, 'captcha_id'),
        captcha_answer: value(form, 'captcha_answer').replace(/\s+/g, '')
      }).then(function (res) {
        send.removeAttribute('aria-busy');
        // The captcha was used up either way.
        captcha.load(false);
        if (res.ok) {
          var d = res.data || {};
          status.textContent = t('sms_sent', { wait: duration(d.expires_in || 300) });
          $('sms_code').focus();
          countdown(d.resend_after || 60);
          return;
        }
        send.disabled = false;
        showAPIError(form, res);
      }, function () {
        setBusy(send, false);
        setFormError(t('network'));
        captcha.load(false);
      });
    });

    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (submit.disabled) { return; }
      clearErrors(form);
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
      if (!showErrors(form, errs, ['login_name', 'password', 'password_confirm', 'phone', 'sms_code', 'real_name', 'id_number', 'agreed'])) { return; }

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

      setBusy(submit, true);
      api('POST', '/api/v1/users', body).then(function (res) {
        if (res.ok) {
          window.location.assign(next);
          return;
        }
        setBusy(submit, false);
        showAPIError(form, res);
      }, function () {
        setBusy(submit, false);
        setFormError(t('network'));
      });
    });
  }

  u.ready(function () {
    var el = $('register-form');
    if (el) { initRegister(el); }
  });
}());
