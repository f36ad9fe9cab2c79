(function () {
  'use strict';
  var ui = window.consoleUI;
  function assertionJSON(c) {
    var r = c.response;
    return ui.credentialJSON(c, {
      clientDataJSON: ui.toB64u(r.clientDataJSON), authenticatorData: ui.toB64u(r.authenticatorData),
      signature: ui.toB64u(r.signature), userHandle: r.userHandle ? ui.toB64u(r.userHandle) : undefined
    });
  }

  // passkeySignIn wires the passkey button. It sends no login name: the
  // authenticator offers the passkeys it holds for unid, and the server's
  // answer is the same whoever asks.
  function passkeySignIn(form) {
    var btn = ui.$('passkey-sign-in');
    if (!window.PublicKeyCredential || !navigator.credentials) {
      ui.$('passkey-area').hidden = true;
      return;
    }
    btn.disabled = false;
    btn.addEventListener('click', function () {
      btn.disabled = true;
      ui.showError('form-error', '');
      var done = function (text) { if (text) { ui.showError('form-error', text); } btn.disabled = false; };
      ui.api('POST', '/api/admin/v1/sign-in/passkey/begin', {}, true).then(function (res) {
        if (!res.ok) { done(ui.errorText(res)); return; }
        var pk = res.data.options.publicKey;
        pk.challenge = ui.fromB64u(pk.challenge);
        (pk.allowCredentials || []).forEach(function (c) { c.id = ui.fromB64u(c.id); });
        return navigator.credentials.get({ publicKey: pk }).then(function (cred) {
          return ui.api('POST', '/api/admin/v1/sign-in/passkey/finish', { ceremony: res.data.ceremony, credential: assertionJSON(cred) }, true);
        }, function () { done(ui.t('passkey.cancelled')); }).then(function (fin) {
          if (!fin) { return; }
          if (fin.ok) {
            var next = form.getAttribute('data-next') || '/console/';
            location.assign(next.indexOf('/console/') === 0 ? next : '/console/');
            return;
          }
          done(ui.errorText(fin));
        });
      }, function () { done(ui.t('network')); });
    });
  }

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
    passkeySignIn(form);
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
