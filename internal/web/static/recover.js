/*
 * The password recovery page: the identifier and captcha
 * (POST /api/v1/recovery), the proof by a code or by the security
 * questions (POST …/codes, GET …/questions, POST …/proof), then the new
 * password (POST …/password). Every identifier gets the same steps: the
 * server never says whether it has an account.
 */
(function () {
  'use strict';

  var u = window.unid, $ = u.$, t = u.t, api = u.api, value = u.value, setBusy = u.setBusy,
    setFormError = u.setFormError, clearErrors = u.clearErrors, showErrors = u.showErrors,
    showAPIError = u.showAPIError, watchInputs = u.watchInputs, duration = u.duration;

  function trim(s) { return s.replace(/^\s+|\s+$/g, ''); }

  function initRecover(start) {
    var proof = $('recover-proof'), pw = $('recover-password');
    var captcha = new u.Captcha();
    var flow = null, questionsLoaded = false, timer = null;
    var withCode = $('code-block').getAttribute('data-with-code') === 'yes';
    var send = $('send-code'), status = $('code-status');
    captcha.load(false);
    watchInputs(start);
    watchInputs(proof);
    watchInputs(pw);
    $('start-submit').disabled = false;

    function base() { return '/api/v1/recovery/' + encodeURIComponent(flow); }

    function method() {
      var r = proof.querySelectorAll('input[name="method"]');
      for (var i = 0; i < r.length; i++) { if (r[i].checked) { return r[i].value; } }
      return '';
    }

    // expired sends the person back to the first step.
    function restart(res) {
      if (res.status !== 410) { return false; }
      flow = null;
      proof.hidden = true;
      pw.hidden = true;
      start.hidden = false;
      captcha.load(false);
      showAPIError(start, res);
      return true;
    }

    function showMethod() {
      var m = method();
      $('questions-block').hidden = m !== 'questions';
      $('code-block').hidden = m === 'questions' && !withCode;
      // The code goes by mail or by text: the label and hint name which.
      var via = m === 'email' ? 'data-email' : 'data-phone';
      $('code-label').textContent = $('code-label').getAttribute(via);
      $('code-hint').textContent = $('code-hint').getAttribute(via);
      if (m === 'questions' && !questionsLoaded) {
        api('GET', base() + '/questions').then(function (res) {
          if (restart(res)) { return; }
          if (!res.ok) { showAPIError(proof, res); return; }
          var qs = (res.data && res.data.questions) || [];
          for (var i = 0; i < qs.length && i < 3; i++) { $('question' + (i + 1) + '-label').textContent = qs[i].text; }
          questionsLoaded = true;
        }, function () { setFormError(t('network')); });
      }
    }
    proof.addEventListener('change', function (e) {
      if (e.target && e.target.name === 'method') { clearErrors(proof); showMethod(); }
    });

    start.addEventListener('submit', function (e) {
      e.preventDefault();
      var submit = $('start-submit');
      if (submit.disabled) { return; }
      clearErrors(start);
      var errs = {};
      if (!/\S/.test(value(start, 'identifier'))) { errs.identifier = t('required'); }
      var c = captcha.check();
      if (c) { errs.captcha_answer = c; }
      if (!showErrors(start, errs, ['identifier', 'captcha_answer'])) { return; }
      setBusy(submit, true);
      api('POST', '/api/v1/recovery', {
        identifier: trim(value(start, 'identifier')),
        captcha_id: value(start, 'captcha_id'),
        captcha_answer: value(start, 'captcha_answer').replace(/\s+/g, '')
      }).then(function (res) {
        setBusy(submit, false);
        if (res.ok && res.data) {
          flow = res.data.id;
          questionsLoaded = false;
          start.hidden = true;
          proof.hidden = false;
          showMethod();
          proof.querySelector('input[name="method"]').focus();
          return;
        }
        showAPIError(start, res);
        captcha.load(false);
      }, function () {
        setBusy(submit, false);
        setFormError(t('network'));
        captcha.load(false);
      });
    });

    function countdown(seconds) {
      var left = seconds;
      send.disabled = true;
      send.textContent = t('resend_in', { n: left });
      if (timer) { clearInterval(timer); }
      timer = setInterval(function () {
        left--;
        if (left > 0) { send.textContent = t('resend_in', { n: left }); return; }
        clearInterval(timer);
        timer = null;
        send.textContent = t('resend');
        send.disabled = false;
      }, 1000);
    }

    send.addEventListener('click', function () {
      if (send.disabled || !flow) { return; }
      clearErrors(proof);
      status.textContent = '';
      setBusy(send, true);
      var m = method() === 'questions' ? 'phone' : method();
      api('POST', base() + '/codes', { method: m }).then(function (res) {
        send.removeAttribute('aria-busy');
        if (restart(res)) { send.disabled = false; return; }
        if (res.ok) {
          var d = res.data || {};
          status.textContent = t(m === 'email' ? 'recover_email_code_sent' : 'recover_code_sent', { wait: duration(d.expires_in || 300) });
          $('code').focus();
          countdown(d.resend_after || 60);
          return;
        }
        send.disabled = false;
        showAPIError(proof, res);
      }, function () {
        setBusy(send, false);
        setFormError(t('network'));
      });
    });

    proof.addEventListener('submit', function (e) {
      e.preventDefault();
      var submit = $('proof-submit');
      if (submit.disabled || !flow) { return; }
      clearErrors(proof);
      var m = method(), errs = {}, order = [];
      var body = { method: m };
      var code = value(proof, 'code').replace(/\s+/g, '');
      if (m !== 'questions' || withCode) {
        if (!code) { errs.code = t('required'); } else if (!/^\d{6}$/.test(code)) { errs.code = t(m === 'email' ? 'email_code' : 'sms_code'); }
        body.code = code;
        order.push('code');
      }
      if (m === 'questions') {
        body.answers = [];
        for (var i = 1; i <= 3; i++) {
          var a = value(proof, 'answer' + i);
          if (!/\S/.test(a)) { errs['answer' + i] = t('required'); }
          body.answers.push(a);
          order.unshift('answer' + (4 - i));
        }
      }
      if (!showErrors(proof, errs, order)) { return; }
      setBusy(submit, true);
      api('POST', base() + '/proof', body).then(function (res) {
        setBusy(submit, false);
        if (restart(res)) { return; }
        if (res.ok) {
          proof.hidden = true;
          pw.hidden = false;
          $('password').focus();
          return;
        }
        showAPIError(proof, res);
      }, function () {
        setBusy(submit, false);
        setFormError(t('network'));
      });
    });

    pw.addEventListener('submit', function (e) {
      e.preventDefault();
      var submit = $('password-submit');
      if (submit.disabled || !flow) { return; }
      clearErrors(pw);
      var errs = {};
      if (!value(pw, 'password')) { errs.password = t('required'); }
      if (value(pw, 'password_confirm') !== value(pw, 'password')) { errs.password_confirm = t('password_mismatch'); }
      if (!showErrors(pw, errs, ['password', 'password_confirm'])) { return; }
      setBusy(submit, true);
      api('POST', base() + '/password', {
        password: value(pw, 'password'),
        password_confirm: value(pw, 'password_confirm')
      }).then(function (res) {
        setBusy(submit, false);
        if (restart(res)) { return; }
        if (res.ok) {
          pw.hidden = true;
          $('recover-done').hidden = false;
          $('to-login-done').focus();
          return;
        }
        showAPIError(pw, res);
      }, function () {
        setBusy(submit, false);
        setFormError(t('network'));
      });
    });
  }

  u.ready(function () {
    var el = $('recover-start');
    if (el) { initRecover(el); }
  });
}());
