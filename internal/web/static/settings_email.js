/*
 * The user center's email section: a code mailed to the address
 * (POST /api/v1/me/email/code), then the address bound with it
 * (PUT /api/v1/me/email).
 */
(function () {
  'use strict';

  var u = window.unid, $ = u.$, t = u.t, api = u.api, value = u.value, setBusy = u.setBusy,
    setFormError = u.setFormError, clearErrors = u.clearErrors, showErrors = u.showErrors,
    showAPIError = u.showAPIError, watchInputs = u.watchInputs, duration = u.duration;

  var emailRule = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

  function trim(s) { return s.replace(/^\s+|\s+$/g, ''); }

  function init(form) {
    var send = $('send-email-code');
    var submit = $('email-submit');
    var status = $('email-status');
    var done = $('email-done');
    var timer = null;
    watchInputs(form);
    send.disabled = false;
    submit.disabled = false;

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

    function emailErrors(email) {
      var errs = {};
      if (!email) { errs.email = t('required'); } else if (!emailRule.test(email)) { errs.email = t('email'); }
      return errs;
    }

    send.addEventListener('click', function () {
      if (send.disabled) { return; }
      clearErrors(form);
      status.textContent = '';
      done.textContent = '';
      var email = trim(value(form, 'email'));
      if (!showErrors(form, emailErrors(email), ['email'])) { return; }
      setBusy(send, true);
      u.withReauth(function () { return api('POST', '/api/v1/me/email/code', { email: email }); }).then(function (res) {
        send.removeAttribute('aria-busy');
        if (res.ok) {
          var d = res.data || {};
          status.textContent = t('email_sent', { wait: duration(d.expires_in || 300) });
          $('email_code').focus();
          countdown(d.resend_after || 60);
          return;
        }
        send.disabled = false;
        showAPIError(form, res);
      }, function () {
        setBusy(send, false);
        setFormError(t('network'));
      });
    });

    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (submit.disabled) { return; }
      clearErrors(form);
      done.textContent = '';
      var email = trim(value(form, 'email'));
      var code = value(form, 'email_code').replace(/\s+/g, '');
      var errs = emailErrors(email);
      if (!code) { errs.email_code = t('required'); } else if (!/^\d{6}$/.test(code)) { errs.email_code = t('email_code'); }
      if (!showErrors(form, errs, ['email', 'email_code'])) { return; }
      setBusy(submit, true);
      u.withReauth(function () { return api('PUT', '/api/v1/me/email', { email: email, email_code: code }); }).then(function (res) {
        setBusy(submit, false);
        if (res.ok) {
          var masked = (res.data && res.data.email) || '';
          $('email-current').textContent = masked;
          done.textContent = t('email_bound', { email: masked });
          status.textContent = '';
          form.reset();
          return;
        }
        showAPIError(form, res);
      }, function () {
        setBusy(submit, false);
        setFormError(t('network'));
      });
    });
  }

  u.ready(function () {
    var form = $('email-form');
    if (form) { init(form); }
  });
}());
