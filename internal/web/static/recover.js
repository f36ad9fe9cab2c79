/*
 * The password recovery page: the identifier and captcha
 * (POST /api/v1/recovery), the proof by a code or by the security
 * questions (POST …/codes, GET …/questions, POST …/proof), then the new
 * password (POST …/password). Every identifier gets the same steps: the
 * server never says whether it has an account. A flow that a provider
 * such as Alipay proved (GET /upstream/{id}/start?purpose=recover) comes
 * back as /recover#flow=<id> and starts at the new password.
 */
(function () {
  'use strict';

  var u = window.unid, $ = u.$, t = u.t, api = u.api, value = u.value, setFormError = u.setFormError,
    clearErrors = u.clearErrors, showErrors = u.showErrors, showAPIError = u.showAPIError,
    watchInputs = u.watchInputs, trim = u.trim;

  function initRecover(start) {
    var proof = $('recover-proof'), pw = $('recover-password');
    var captcha = new u.Captcha();
    var flow = null, questionsLoaded = false;
    var withCode = $('code-block').getAttribute('data-with-code') === 'yes';
    captcha.load(false);
    watchInputs(start);
    watchInputs(proof);
    watchInputs(pw);

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

    function hasFlow() { return !!flow; }

    u.submitter({
      form: start, button: $('start-submit'),
      check: function () {
        var errs = {};
        if (!/\S/.test(value(start, 'identifier'))) { errs.identifier = t('required'); }
        var c = captcha.check();
        if (c) { errs.captcha_answer = c; }
        return showErrors(start, errs, ['identifier', 'captcha_answer']);
      },
      request: function () {
        return api('POST', '/api/v1/recovery', {
          identifier: trim(value(start, 'identifier')),
          captcha_id: value(start, 'captcha_id'),
          captcha_answer: value(start, 'captcha_answer').replace(/\s+/g, '')
        });
      },
      // A success without the flow's id is shown like an error.
      answered: function (res) {
        if (res.ok && !res.data) {
          showAPIError(start, res);
          captcha.load(false);
          return true;
        }
        return false;
      },
      done: function (res) {
        flow = res.data.id;
        questionsLoaded = false;
        start.hidden = true;
        proof.hidden = false;
        showMethod();
        proof.querySelector('input[name="method"]').focus();
      },
      // The captcha was used up.
      failed: function () { captcha.load(false); }
    });

    u.codeSender({
      form: proof, button: $('send-code'), status: $('code-status'), focus: $('code'), canSend: hasFlow,
      // With the questions, a code goes to the phone.
      check: function () { return method() === 'questions' ? 'phone' : method(); },
      request: function (m) { return api('POST', base() + '/codes', { method: m }); },
      answered: restart,
      sent: function (wait, m) {
        return t(m === 'email' ? 'recover_email_code_sent' : 'recover_code_sent', { wait: wait });
      }
    });

    u.submitter({
      form: proof, button: $('proof-submit'), canSend: hasFlow,
      check: function () {
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
        return showErrors(proof, errs, order) && body;
      },
      request: function (body) { return api('POST', base() + '/proof', body); },
      answered: restart,
      done: function () {
        proof.hidden = true;
        pw.hidden = false;
        $('password').focus();
      }
    });

    u.submitter({
      form: pw, button: $('password-submit'), canSend: hasFlow,
      check: function () {
        var errs = {};
        if (!value(pw, 'password')) { errs.password = t('required'); }
        if (value(pw, 'password_confirm') !== value(pw, 'password')) { errs.password_confirm = t('password_mismatch'); }
        return showErrors(pw, errs, ['password', 'password_confirm']);
      },
      request: function () {
        return api('POST', base() + '/password', {
          password: value(pw, 'password'),
          password_confirm: value(pw, 'password_confirm')
        });
      },
      // Set, but not every old sign-in could be ended: the recovery is
      // done (a retry would find the flow spent), and the answer says
      // what is left to do.
      answered: function (res) {
        if (res.data && res.data.error && res.data.error.code === 'password_changed_sessions_remain') {
          finished(true);
          return true;
        }
        return restart(res);
      },
      done: function () { finished(false); }
    });

    // finished shows the recovery as done; sessionsRemain says that not
    // every old sign-in could be ended, instead of that all were.
    function finished(sessionsRemain) {
      pw.reset();
      pw.hidden = true;
      $('done-status').hidden = sessionsRemain;
      $('done-sessions-remain').hidden = !sessionsRemain;
      $('recover-done').hidden = false;
      $('to-login-done').focus();
    }

    // A provider such as Alipay has vouched for the account (the core
    // sends the proven flow in the fragment): straight to the new
    // password, and the flow's id out of the address bar.
    var proven = /^#flow=([A-Za-z0-9_-]+)$/.exec(window.location.hash || '');
    if (proven) {
      flow = proven[1];
      if (window.history && window.history.replaceState) {
        window.history.replaceState(null, '', window.location.pathname + window.location.search);
      }
      start.hidden = true;
      pw.hidden = false;
      $('password').focus();
    }
  }

  u.ready(function () {
    var el = $('recover-start');
    if (el) { initRecover(el); }
  });
}());
