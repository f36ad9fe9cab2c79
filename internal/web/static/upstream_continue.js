/*
 * After a first sign-in with Alipay or another provider whose identity is
 * linked to no account: GET /api/v1/upstream/pending says who the
 * provider vouched for, then either a new account with it
 * (POST /api/v1/upstream/pending/register, the code by
 * POST /api/v1/sms-codes as on the registration page) or the account the
 * person has (POST /api/v1/upstream/pending/bind, as a sign-in). An
 * expired identity (410) sends the person back to the provider.
 */
(function () {
  'use strict';

  var u = window.unid, $ = u.$, t = u.t, api = u.api, value = u.value, showErrors = u.showErrors,
    showAPIError = u.showAPIError;

  function expired() {
    $('continue-choices').hidden = true;
    $('continue-verified').textContent = '';
    u.setFormError('');
    $('continue-expired').hidden = false;
    $('continue-again').focus();
  }

  // gone takes over an answer that says the identity is gone.
  function gone(res) {
    if (res.status !== 410) { return false; }
    expired();
    return true;
  }

  function initContinue(box) {
    var reg = $('continue-register'), bind = $('continue-bind');
    var next = u.safeNext(box.getAttribute('data-next'));
    var captcha = new u.Captcha();
    // One image code, in the form in use.
    var captchaBlock = $('captcha-image').parentNode.parentNode;
    var captchaHome = captchaBlock.nextSibling;

    function choose(which) {
      reg.hidden = which !== 'register';
      bind.hidden = which !== 'bind';
      if (which === 'bind') {
        bind.insertBefore(captchaBlock, $('bind-captcha-slot'));
      } else {
        reg.querySelector('#register-phone').insertBefore(captchaBlock, captchaHome);
      }
      var hint = $('captcha-answer-hint');
      hint.textContent = hint.getAttribute(which === 'bind' ? 'data-plain' : 'data-sms');
      u.clearErrors(which === 'bind' ? bind : reg);
      captcha.load(false);
    }
    $('continue-choices').addEventListener('change', function (e) {
      if (e.target && e.target.name === 'choice') { choose(e.target.value); }
    });

    function signedIn() {
      window.location.assign(next);
      return true;
    }

    api('GET', '/api/v1/upstream/pending').then(function (res) {
      if (gone(res)) { return; }
      if (!res.ok || !res.data) {
        showAPIError(null, res);
        return;
      }
      var d = res.data;
      $('continue-verified').textContent = d.nickname ?
        t('up_verified', { provider: d.name, nickname: d.nickname }) : t('up_verified_anon', { provider: d.name });
      if (d.login_name) { reg.elements.login_name.value = d.login_name; }
      if (d.next) { next = u.safeNext(d.next); }
      $('continue-choices').hidden = false;
      captcha.load(false);
    }, function () {
      u.setFormError(t('up_pending_failed'));
    });

    u.watchInputs(reg);
    u.watchInputs(bind);
    u.registerCode(reg, captcha);

    u.submitter({
      form: reg, button: $('register-submit'),
      check: function () {
        var errs = {};
        var body = u.newAccount(reg, errs, true);
        return showErrors(reg, errs, ['login_name', 'password', 'password_confirm', 'phone', 'sms_code', 'agreed']) && body;
      },
      request: function (body) { return api('POST', '/api/v1/upstream/pending/register', body); },
      answered: gone,
      done: signedIn
    });

    u.submitter({
      form: bind, button: $('bind-submit'),
      check: function () {
        var errs = {};
        if (!/\S/.test(value(bind, 'identifier'))) { errs.identifier = t('required'); }
        if (!value(bind, 'password')) { errs.password = t('required'); }
        var c = captcha.check();
        if (c) { errs.captcha_answer = c; }
        return showErrors(bind, errs, ['identifier', 'password', 'captcha_answer']);
      },
      request: function () {
        return api('POST', '/api/v1/upstream/pending/bind', {
          identifier: u.trim(value(bind, 'identifier')),
          password: value(bind, 'password'),
          captcha_id: value(bind, 'captcha_id'),
          captcha_answer: value(bind, 'captcha_answer').replace(/\s+/g, '')
        });
      },
      answered: gone,
      done: signedIn,
      // The image code was used up.
      failed: function () { captcha.load(false); }
    });
  }

  u.ready(function () {
    var el = $('continue');
    if (el) { initContinue(el); }
  });
}());
