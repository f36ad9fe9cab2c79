/*
 * The security section: the signed-in operator's passkeys, listed, added
 * (a name and a current authenticator code, then the authenticator) and
 * removed; and their API tokens, listed, created (a name, a life in days
 * and a current authenticator code; the token is shown once) and revoked. The options and the answer of navigator.credentials travel as
 * JSON with their binary fields in base64url; the server (go-webauthn)
 * judges everything.
 */
(function () {
  'use strict';
  var ui = window.consoleUI;

  function attestationJSON(c) {
    var r = c.response;
    return ui.credentialJSON(c, {
      clientDataJSON: ui.toB64u(r.clientDataJSON), attestationObject: ui.toB64u(r.attestationObject),
      transports: r.getTransports ? r.getTransports() : undefined
    });
  }

  function when(iso) {
    return iso ? new Date(iso).toLocaleString(document.documentElement.lang) : ui.t('passkey.never');
  }

  function status(text) {
    var s = ui.$('passkeys-status');
    s.textContent = text || '';
    s.hidden = !text;
  }

  function load() {
    return ui.api('GET', '/api/admin/v1/me/passkeys').then(function (res) {
      var body = ui.$('passkeys-body');
      body.textContent = '';
      if (!res.ok) { status(ui.errorText(res)); return; }
      var items = res.data.items || [];
      ui.$('passkeys-empty').hidden = items.length > 0;
      ui.$('passkeys').hidden = items.length === 0;
      items.forEach(function (p, i) {
        var tr = ui.el('tr');
        tr.id = 'passkey-' + i;
        tr.appendChild(ui.el('td', p.name, 'passkey-name'));
        tr.appendChild(ui.el('td', when(p.created_at)));
        tr.appendChild(ui.el('td', when(p.last_used_at)));
        var td = ui.el('td'), btn = ui.el('button', ui.t('passkey.remove'));
        btn.type = 'button';
        btn.addEventListener('click', function () {
          if (!window.confirm(ui.t('passkey.confirm_remove', { name: p.name }))) { return; }
          btn.disabled = true;
          ui.api('DELETE', '/api/admin/v1/me/passkeys/' + encodeURIComponent(p.id)).then(function (del) {
            status(del.ok ? ui.t('passkey.removed', { name: p.name }) : ui.errorText(del));
            load();
          });
        });
        td.appendChild(btn);
        tr.appendChild(td);
        body.appendChild(tr);
      });
    }, function () { status(ui.t('network')); });
  }

  // --- API tokens -----------------------------------------------------------

  function tokenStatus(text) {
    var s = ui.$('tokens-status');
    s.textContent = text || '';
    s.hidden = !text;
  }

  function loadTokens() {
    return ui.api('GET', '/api/admin/v1/me/tokens').then(function (res) {
      var body = ui.$('tokens-body');
      body.textContent = '';
      if (!res.ok) { tokenStatus(ui.errorText(res)); return; }
      var items = res.data.items || [];
      ui.$('tokens-empty').hidden = items.length > 0;
      ui.$('tokens').hidden = items.length === 0;
      items.forEach(function (tk, i) {
        var tr = ui.el('tr');
        tr.id = 'token-' + i;
        tr.appendChild(ui.el('td', tk.name, 'token-name'));
        tr.appendChild(ui.el('td', when(tk.created_at)));
        tr.appendChild(ui.el('td', when(tk.expires_at) + (tk.expired ? ' (' + ui.t('token.expired') + ')' : ''), 'token-expires'));
        tr.appendChild(ui.el('td', tk.last_used_at ? when(tk.last_used_at) : ui.t('token.never'), 'token-used'));
        var td = ui.el('td'), btn = ui.el('button', ui.t('token.revoke'));
        btn.type = 'button';
        btn.className = 'token-revoke';
        btn.addEventListener('click', function () {
          if (!window.confirm(ui.t('token.confirm_revoke', { name: tk.name }))) { return; }
          btn.disabled = true;
          ui.api('DELETE', '/api/admin/v1/me/tokens/' + encodeURIComponent(tk.id)).then(function (del) {
            tokenStatus(del.ok ? ui.t('token.revoked', { name: tk.name }) : ui.errorText(del));
            loadTokens();
          });
        });
        td.appendChild(btn);
        tr.appendChild(td);
        body.appendChild(tr);
      });
    }, function () { tokenStatus(ui.t('network')); });
  }

  // showToken shows a new token, the only time it is told; done forgets it.
  function showToken(token) {
    ui.$('token-value').value = token;
    ui.$('token-copied').hidden = true;
    ui.$('token-panel').hidden = false;
    ui.$('token-value').select();
  }

  function copyToken() {
    var v = ui.$('token-value');
    v.select();
    var done = function () { ui.$('token-copied').hidden = false; };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(v.value).then(done, function () {
        try { document.execCommand('copy'); done(); } catch (e) { /* the operator copies by hand */ }
      });
    } else {
      try { document.execCommand('copy'); done(); } catch (e) { /* the operator copies by hand */ }
    }
  }

  function initTokens() {
    var form = ui.$('token-form'), submit = ui.$('token-add');
    loadTokens();
    ui.$('token-copy').addEventListener('click', copyToken);
    ui.$('token-done').addEventListener('click', function () {
      ui.$('token-value').value = '';
      ui.$('token-panel').hidden = true;
    });
    submit.disabled = false;
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      submit.disabled = true;
      ui.showError('token-error', '');
      var days = parseInt(form.token_days.value, 10);
      ui.api('POST', '/api/admin/v1/me/tokens', {
        name: form.token_name.value, days: isNaN(days) ? 0 : days, code: form.token_code.value
      }).then(function (res) {
        submit.disabled = false;
        form.token_code.value = '';
        if (!res.ok) { ui.showError('token-error', ui.errorText(res)); return; }
        form.token_name.value = '';
        showToken(res.data.token);
        tokenStatus(ui.t('token.created', { name: res.data.name }));
        loadTokens();
      }, function () { submit.disabled = false; ui.showError('token-error', ui.t('network')); });
    });
  }

  ui.ready(function () {
    var form = ui.$('passkey-form'), submit = ui.$('passkey-add');
    load();
    initTokens();
    if (!window.PublicKeyCredential || !navigator.credentials) {
      ui.showError('form-error', ui.t('passkey.unsupported'));
      return;
    }
    submit.disabled = false;
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      submit.disabled = true;
      ui.showError('form-error', '');
      var name = form.name.value;
      var done = function (text) { if (text) { ui.showError('form-error', text); } submit.disabled = false; };
      ui.api('POST', '/api/admin/v1/me/passkeys/begin', { code: form.code.value }).then(function (res) {
        form.code.value = '';
        if (!res.ok) { done(ui.errorText(res)); return; }
        var pk = res.data.options.publicKey;
        pk.challenge = ui.fromB64u(pk.challenge);
        pk.user.id = ui.fromB64u(pk.user.id);
        (pk.excludeCredentials || []).forEach(function (c) { c.id = ui.fromB64u(c.id); });
        return navigator.credentials.create({ publicKey: pk }).then(function (cred) {
          return ui.api('POST', '/api/admin/v1/me/passkeys/finish', { ceremony: res.data.ceremony, name: name, credential: attestationJSON(cred) });
        }, function () { done(ui.t('passkey.cancelled')); }).then(function (fin) {
          if (!fin) { return; }
          if (!fin.ok) { done(ui.errorText(fin)); return; }
          form.name.value = '';
          status(ui.t('passkey.added', { name: fin.data.name }));
          submit.disabled = false;
          load();
        });
      }, function () { done(ui.t('network')); });
    });
  });
}());
