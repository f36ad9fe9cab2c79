/*
 * The user center's phone change: a code to the new number
 * (POST /api/v1/me/phone/sms-codes, with the image code), then the change
 * (PUT /api/v1/me/phone). Both ask for the password first when the last
 * one is not recent (common.js withReauth).
 */
(function () {
  'use strict';

  var u = window.unid, $ = u.$, t = u.t, api = u.api, value = u.value, setBusy = u.setBusy,
    setFormError = u.setFormError, clearErrors = u.clearErrors, showErrors = u.showErrors,
    showAPIError = u.showAPIError, duration = u.duration;

  function digitsOnly(s) { return s.replace(/[\s-]/g, ''); }

  function initPhone(form) {
    var captcha = new u.Captcha();
    var submit = $('phone-submit'), send = $('send-sms'), smsStatus = $('sms-status'), status = $('phone-status');
    var timer = null;
    captcha.load(false);
    u.watchInputs(form);
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
      smsStatus.textContent = '';
      var phone = digitsOnly(value(form, 'phone'));
      var errs = {};
      if (!phone) { errs.phone = t('required'); } else if (!/^1\d{10}$/.test(phone)) { errs.phone = t('phone'); }
      var c = captcha.check();
      if (c) { errs.captcha_answer = c; }
      if (!showErrors(form, errs, ['phone', 'captcha_answer'])) { return; }
      setBusy(send, true);
      u.withReauth(function () {
        return api('POST', '/api/v1/me/phone/sms-codes', {
          phone: phone,
          captcha_id: value(form, 'captcha_id'),
          captcha_answer: value(form, 'captcha_answer').replace(/\s+/g, '')
        });
      }).then(function (res) {
        send.removeAttribute('aria-busy');
        captcha.load(false);
        if (res.ok) {
          var d = res.data || {};
          smsStatus.textContent = t('sms_sent', { wait: duration(d.expires_in || 300) });
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
      status.textContent = '';
      var phone = digitsOnly(value(form, 'phone')), sms = digitsOnly(value(form, 'sms_code'));
      var errs = {};
      if (!phone) { errs.phone = t('required'); } else if (!/^1\d{10}$/.test(phone)) { errs.phone = t('phone'); }
      if (!sms) { errs.sms_code = t('required'); } else if (!/^\d{6}$/.test(sms)) { errs.sms_code = t('sms_code'); }
      if (!showErrors(form, errs, ['phone', 'sms_code'])) { return; }
      setBusy(submit, true);
      u.withReauth(function () {
        return api('PUT', '/api/v1/me/phone', { phone: phone, sms_code: sms });
      }).then(function (res) {
        setBusy(submit, false);
        if (!res.ok) {
          showAPIError(form, res);
          return;
        }
        var d = res.data || {};
        $('phone-current').textContent = d.phone || '';
        form.elements.phone.value = '';
        form.elements.sms_code.value = '';
        status.textContent = t('phone_changed', { phone: d.phone || '' });
      }, function () {
        setBusy(submit, false);
        setFormError(t('network'));
      });
    });
  }

  u.ready(function () {
    var f = $('phone-form');
    if (f) { initPhone(f); }
  });
}());
