(function () {
  'use strict';
  var ui = window.consoleUI;
  ui.ready(function () {
    var form = ui.$('sign-in-form'), submit = ui.$('sign-in-submit');
    // A captcha is used up by every attempt, right or wrong: each attempt
    // loads a new one. The image comes from the citizens' captcha API.
    var seq = 0;
    function loadCaptcha() {
      var mine = ++seq;
      form.captcha_id.value = '';
      form.captcha_answer.value = '';
      return ui.api('POST', '/api/v1/captchas', {}, true).then(function (res) {
        if (mine !== seq) { return; }
        if (!res.ok || !res.data) { ui.showError('form-error', res.data ? ui.errorText(res) : ui.t('captcha_failed')); return; }
        form.captcha_id.value = res.data.id;
        ui.$('captcha-image').src = res.data.image_url;
      }, function () {
        if (mine === seq) { ui.showError('form-error', ui.t('captcha_failed')); }
      });
    }
    ui.$('captcha-refresh').addEventListener('click', function () { loadCaptcha(); });
    loadCaptcha();
    submit.disabled = false;
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      submit.disabled = true;
      ui.showError('form-error', '');
      ui.api('POST', '/api/admin/v1/sign-in', {
        login: form.login.value, password: form.password.value, code: form.code.value,
        captcha_id: form.captcha_id.value, captcha_answer: form.captcha_answer.value.replace(/\s+/g, '')
      }, true).then(function (res) {
        if (res.ok) {
          var next = form.getAttribute('data-next') || '/console/';
          location.assign(next.indexOf('/console/') === 0 ? next : '/console/');
          return;
        }
        form.code.value = '';
        ui.showError('form-error', ui.errorText(res));
        loadCaptcha();
        submit.disabled = false;
      }, function () {
        ui.showError('form-error', ui.t('network'));
        submit.disabled = false;
      });
    });
  });
}());
