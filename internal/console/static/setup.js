(function () {
  'use strict';
  var ui = window.consoleUI;
  ui.ready(function () {
    // The token is in the fragment, which no server ever sees.
    var token = location.hash.replace(/^#/, '');
    var form = ui.$('setup-form'), submit = ui.$('setup-submit');
    var invalid = function (text) {
      var p = ui.$('setup-invalid');
      if (text) { p.textContent = text; }
      p.hidden = false;
      form.hidden = true;
    };
    if (!token) { invalid(); return; }
    ui.api('POST', '/api/admin/v1/setup/key', { token: token }, true).then(function (res) {
      if (!res.ok) { invalid(ui.errorText(res)); return; }
      ui.$('setup-login').textContent = res.data.login_name;
      ui.$('setup-secret').textContent = res.data.secret;
      ui.$('setup-qr').src = res.data.qr_code;
      form.hidden = false;
      submit.disabled = false;
    }, function () { invalid(ui.t('network')); });

    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      ui.showError('form-error', '');
      if (form.password.value !== form.password2.value) {
        ui.showError('form-error', ui.t('password_mismatch'));
        return;
      }
      submit.disabled = true;
      ui.api('POST', '/api/admin/v1/setup', {
        token: token, password: form.password.value, code: form.code.value
      }, true).then(function (res) {
        if (res.ok) {
          history.replaceState(null, '', '/console/setup');
          location.assign('/console/');
          return;
        }
        if (ui.errorCode(res) === 'operator_setup_invalid') { invalid(ui.errorText(res)); return; }
        ui.showError('form-error', ui.errorText(res));
        submit.disabled = false;
      }, function () {
        ui.showError('form-error', ui.t('network'));
        submit.disabled = false;
      });
    });
  });
}());
