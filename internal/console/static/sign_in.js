(function () {
  'use strict';
  var ui = window.consoleUI;
  ui.ready(function () {
    var form = ui.$('sign-in-form'), submit = ui.$('sign-in-submit');
    submit.disabled = false;
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      submit.disabled = true;
      ui.showError('form-error', '');
      ui.api('POST', '/api/admin/v1/sign-in', {
        login: form.login.value, password: form.password.value, code: form.code.value
      }, true).then(function (res) {
        if (res.ok) {
          var next = form.getAttribute('data-next') || '/console/';
          location.assign(next.indexOf('/console/') === 0 ? next : '/console/');
          return;
        }
        form.code.value = '';
        ui.showError('form-error', ui.errorText(res));
        submit.disabled = false;
      }, function () {
        ui.showError('form-error', ui.t('network'));
        submit.disabled = false;
      });
    });
  });
}());
