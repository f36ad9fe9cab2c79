/*
 * The user center's phone change: a code to the new number
 * (POST /api/v1/me/phone/sms-codes, with the image code), then the change
 * (PUT /api/v1/me/phone). Both ask for the password first when the last
 * one is not recent (common.js withReauth).
 */
(function () {
  'use strict';

  var u = window.unid, $ = u.$, t = u.t, api = u.api, value = u.value, showErrors = u.showErrors,
    digitsOnly = u.digitsOnly;

  function phoneError(phone) {
    if (!phone) { return t('required'); }
    return /^1\d{10}$/.test(phone) ? '' : t('phone');
  }

  function initPhone(form) {
    var captcha = new u.Captcha();
    var status = $('phone-status');
    captcha.load(false);
    u.watchInputs(form);

    u.codeSender({
      form: form, button: $('send-sms'), status: $('sms-status'), captcha: captcha, focus: $('sms_code'),
      check: function () {
        var phone = digitsOnly(value(form, 'phone'));
        var errs = {};
        var pe = phoneError(phone);
        if (pe) { errs.phone = pe; }
        var c = captcha.check();
        if (c) { errs.captcha_answer = c; }
        return showErrors(form, errs, ['phone', 'captcha_answer']) && phone;
      },
      request: function (phone) {
        return u.withReauth(function () {
          return api('POST', '/api/v1/me/phone/sms-codes', {
            phone: phone,
            captcha_id: value(form, 'captcha_id'),
            captcha_answer: value(form, 'captcha_answer').replace(/\s+/g, '')
          });
        });
      },
      sent: function (wait) { return t('sms_sent', { wait: wait }); }
    });

    u.submitter({
      form: form, button: $('phone-submit'), status: status,
      check: function () {
        var phone = digitsOnly(value(form, 'phone')), sms = digitsOnly(value(form, 'sms_code'));
        var errs = {};
        var pe = phoneError(phone);
        if (pe) { errs.phone = pe; }
        if (!sms) { errs.sms_code = t('required'); } else if (!/^\d{6}$/.test(sms)) { errs.sms_code = t('sms_code'); }
        return showErrors(form, errs, ['phone', 'sms_code']) && { phone: phone, sms_code: sms };
      },
      request: function (body) {
        return u.withReauth(function () { return api('PUT', '/api/v1/me/phone', body); });
      },
      done: function (res) {
        var d = res.data || {};
        $('phone-current').textContent = d.phone || '';
        form.elements.phone.value = '';
        form.elements.sms_code.value = '';
        status.textContent = t('phone_changed', { phone: d.phone || '' });
      }
    });
  }

  u.ready(function () {
    var f = $('phone-form');
    if (f) { initPhone(f); }
  });
}());
