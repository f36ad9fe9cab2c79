/*
 * The user center's account closure (注销账号): the cooling-off in days
 * (GET /api/v1/me/closure), the download of everything unid holds about
 * the person (GET /api/v1/me/export, saved as a JSON file), and the
 * closure itself (POST /api/v1/me/closure with the login name typed to
 * confirm). The download and the closure ask for the password first when
 * the last one is not recent (common.js withReauth).
 */
(function () {
  'use strict';

  var u = window.unid, $ = u.$, t = u.t, api = u.api, value = u.value, setBusy = u.setBusy,
    setFormError = u.setFormError, clearErrors = u.clearErrors, showErrors = u.showErrors,
    showAPIError = u.showAPIError;

  // save offers data to the browser as a file to download.
  function save(data, name) {
    var blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
    var href = URL.createObjectURL(blob);
    var a = document.createElement('a');
    a.href = href;
    a.download = name;
    a.hidden = true;
    document.body.appendChild(a);
    a.click();
    document.body.removeChild(a);
    setTimeout(function () { URL.revokeObjectURL(href); }, 60000);
  }

  function fileName() {
    var d = new Date(), p = function (n) { return (n < 10 ? '0' : '') + n; };
    return 'unid-' + d.getFullYear() + p(d.getMonth() + 1) + p(d.getDate()) + '.json';
  }

  function initExport(button) {
    var status = $('export-status');
    button.disabled = false;
    button.addEventListener('click', function () {
      if (button.disabled) { return; }
      status.textContent = '';
      setFormError('');
      setBusy(button, true);
      u.withReauth(function () {
        return api('GET', '/api/v1/me/export');
      }).then(function (res) {
        setBusy(button, false);
        if (!res.ok || !res.data) {
          showAPIError($('closure-form'), res);
          return;
        }
        save(res.data, fileName());
        status.textContent = t('closure_exported');
      }, function () {
        setBusy(button, false);
        setFormError(t('network'));
      });
    });
  }

  function initClose(form) {
    var submit = $('closure-submit');
    u.watchInputs(form);
    submit.disabled = false;
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (submit.disabled) { return; }
      clearErrors(form);
      var confirm = value(form, 'confirm').trim();
      if (!showErrors(form, confirm ? {} : { confirm: t('required') }, ['confirm'])) { return; }
      setBusy(submit, true);
      u.withReauth(function () {
        return api('POST', '/api/v1/me/closure', { confirm: confirm });
      }).then(function (res) {
        if (!res.ok) {
          setBusy(submit, false);
          showAPIError(form, res);
          return;
        }
        $('closure-sections').hidden = true;
        var nav = document.querySelector('.settings-nav');
        if (nav) { nav.hidden = true; }
        var done = $('closure-done');
        done.hidden = false;
        done.focus();
      }, function () {
        setBusy(submit, false);
        setFormError(t('network'));
      });
    });
  }

  u.ready(function () {
    api('GET', '/api/v1/me/closure').then(function (res) {
      if (res.ok && res.data && res.data.cooling_off_days) {
        $('closure-cooling-off').textContent = t('closure_cooling_off', { days: res.data.cooling_off_days });
      }
    }, function () {});
    var b = $('export-button');
    if (b) { initExport(b); }
    var f = $('closure-form');
    if (f) { initClose(f); }
  });
}());
