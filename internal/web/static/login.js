/*
 * The login page: sends the form to POST /api/v1/sessions and then goes to
 * the page's safe next (back into a pending sign-in, or /me).
 */
(function () {
  'use strict';

  var u = window.unid, $ = u.$, t = u.t, api = u.api, value = u.value, setBusy = u.setBusy,
    setFormError = u.setFormError, clearErrors = u.clearErrors, showErrors = u.showErrors,
    showAPIError = u.showAPIError, watchInputs = u.watchInputs, duration = u.duration;

  function initLogin(form) {
    var captcha = new u.Captcha();
    var submit = $('login-submit');
    var next = u.safeNext(form.getAttribute('data-next'));
    captcha.load(false);
    watchInputs(form);
    submit.disabled = false;

    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (submit.disabled) { return; }
      clearErrors(form);
      var errs = {};
      if (!/\S/.test(value(form, 'identifier'))) { errs.identifier = t('required'); }
      if (!value(form, 'password')) { errs.password = t('required'); }
      var c = captcha.check();
      if (c) { errs.captcha_answer = c; }
      if (!showErrors(form, errs, ['identifier', 'password', 'captcha_answer'])) { return; }

      setBusy(submit, true);
      api('POST', '/api/v1/sessions', {
        identifier: value(form, 'identifier').replace(/^\s+|\s+$/g, ''),
        password: value(form, 'password'),
        captcha_id: value(form, 'captcha_id'),
        captcha_answer: value(form, 'captcha_answer').replace(/\s+/g, '')
      }).then(function (res) {
        if (res.ok) {
          window.location.assign(next);
          return;
        }
        setBusy(submit, false);
        showAPIError(form, res);
        if (u.isBusy(res)) {
          u.holdOff(submit, res); // the captcha was not spent: it stays, with its answer
          return;
        }
        captcha.load(false);
      }, function () {
        setBusy(submit, false);
        setFormError(t('network'));
        captcha.load(false);
      });
    });
  }

  u.ready(function () {
    var el = $('login-form');
    if (el) { initLogin(el); }
  });
}());
