/*
 * The security section: the signed-in operator's passkeys, listed, added
 * (a name and a current authenticator code, then the authenticator) and
 * removed. The options and the answer of navigator.credentials travel as
 * JSON with their binary fields in base64url; the server (go-webauthn)
 * judges everything.
 */
(function () {
  'use strict';
  var ui = window.consoleUI;

  function fromB64u(s) {
    var b = atob(s.replace(/-/g, '+').replace(/_/g, '/')), out = new Uint8Array(b.length);
    for (var i = 0; i < b.length; i++) { out[i] = b.charCodeAt(i); }
    return out.buffer;
  }
  function toB64u(buf) {
    var b = new Uint8Array(buf), s = '';
    for (var i = 0; i < b.length; i++) { s += String.fromCharCode(b[i]); }
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function attestationJSON(c) {
    var r = c.response;
    return {
      id: c.id, rawId: toB64u(c.rawId), type: c.type, authenticatorAttachment: c.authenticatorAttachment || undefined,
      clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {},
      response: {
        clientDataJSON: toB64u(r.clientDataJSON), attestationObject: toB64u(r.attestationObject),
        transports: r.getTransports ? r.getTransports() : undefined
      }
    };
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

  ui.ready(function () {
    var form = ui.$('passkey-form'), submit = ui.$('passkey-add');
    load();
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
        pk.challenge = fromB64u(pk.challenge);
        pk.user.id = fromB64u(pk.user.id);
        (pk.excludeCredentials || []).forEach(function (c) { c.id = fromB64u(c.id); });
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
