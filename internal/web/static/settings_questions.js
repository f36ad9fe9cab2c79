/*
 * The user center's security questions: the list and whether the owner's
 * are set (GET /api/v1/security-questions), and setting three questions
 * with their answers (PUT, which needs a recent password).
 */
(function () {
  'use strict';

  var u = window.unid, $ = u.$, t = u.t, api = u.api, value = u.value, setBusy = u.setBusy,
    setFormError = u.setFormError, clearErrors = u.clearErrors, showErrors = u.showErrors,
    showAPIError = u.showAPIError, watchInputs = u.watchInputs;

  function showStatus(d) {
    var el = $('questions-status');
    if (d && d.set && d.set_at) {
      el.textContent = t('questions_set', { date: new Date(d.set_at).toLocaleDateString() });
    } else {
      el.textContent = t('questions_not_set');
    }
  }

  function fill(qs) {
    for (var n = 1; n <= 3; n++) {
      var sel = $('question' + n);
      sel.innerHTML = '';
      var none = document.createElement('option');
      none.value = '';
      none.textContent = t('questions_choose');
      sel.appendChild(none);
      for (var i = 0; i < qs.length; i++) {
        var o = document.createElement('option');
        o.value = qs[i].id;
        o.textContent = qs[i].text;
        sel.appendChild(o);
      }
    }
  }

  function initQuestions(form) {
    var submit = $('questions-submit');
    watchInputs(form);
    form.addEventListener('change', function (e) {
      if (e.target && e.target.getAttribute('aria-invalid') === 'true') { u.clearFieldError(e.target); }
    });
    api('GET', '/api/v1/security-questions').then(function (res) {
      if (!res.ok || !res.data) { showAPIError(form, res); return; }
      fill(res.data.questions || []);
      showStatus(res.data);
      submit.disabled = false;
    }, function () { setFormError(t('network')); });

    function save(body) {
      setBusy(submit, true);
      api('PUT', '/api/v1/security-questions', body).then(function (res) {
        setBusy(submit, false);
        if (res.ok) {
          showStatus(res.data);
          for (var n = 1; n <= 3; n++) { form.elements['answer' + n].value = ''; }
          $('questions-status').focus && $('questions-status').focus();
          return;
        }
        var code = res.data && res.data.error && res.data.error.code;
        // The user center's password prompt, where there is one, asks for
        // the password and sends the form again.
        if (code === 'reauthentication_required' && typeof u.reauth === 'function') {
          u.reauth().then(function (ok) { if (ok) { save(body); } });
          return;
        }
        showAPIError(form, res);
        if (u.isBusy(res)) { u.holdOff(submit, res); } // the answers typed stay
      }, function () {
        setBusy(submit, false);
        setFormError(t('network'));
      });
    }

    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (submit.disabled) { return; }
      clearErrors(form);
      var errs = {}, order = [], seen = {}, answers = [];
      for (var n = 1; n <= 3; n++) {
        var q = value(form, 'question' + n), a = value(form, 'answer' + n);
        if (!q) { errs['question' + n] = t('required'); } else if (seen[q]) { errs['question' + n] = t('questions_repeated'); }
        seen[q] = true;
        if (!/\S/.test(a)) { errs['answer' + n] = t('required'); }
        order.push('question' + n, 'answer' + n);
        answers.push({ question: q, answer: a });
      }
      if (!showErrors(form, errs, order)) { return; }
      save({ answers: answers });
    });
  }

  u.ready(function () {
    var el = $('questions-form');
    if (el) { initQuestions(el); }
  });
}());
