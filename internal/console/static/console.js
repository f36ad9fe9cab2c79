/*
 * unid operator console, the shared part: messages, the operator API, the
 * sign-out button and the end of a timed-out session. Each page loads this
 * and its own script, which calls consoleUI.ready.
 *
 * Hand-written ES5 plus fetch, like the citizens' pages; no framework, no
 * build step, no inline script. The server judges every rule and every
 * role; the page only shows what the API answers.
 *
 * $ and t are the same dozen lines as in the citizens' common.js; the rest
 * is not shared on purpose: this api ends the page on a 401 and restarts
 * the idle timer, the citizens' reports Retry-After and places errors next
 * to fields. A shared script for those two helpers would cost a global and
 * one more request on every page, for no rule kept in one place.
 */
(function () {
  'use strict';

  var msgs = {};

  function $(id) { return document.getElementById(id); }

  function t(key, vars) {
    var s = msgs.hasOwnProperty(key) ? msgs[key] : key;
    if (vars) {
      for (var k in vars) {
        if (vars.hasOwnProperty(k)) { s = s.split('{' + k + '}').join(String(vars[k])); }
      }
    }
    return s;
  }

  // signInAgain sends the browser to the sign-in page; expired says that
  // the session timed out, which the page then tells the operator.
  function signInAgain(expired) {
    var q = '?next=' + encodeURIComponent(location.pathname);
    if (expired) { q += '&expired=1'; }
    location.assign('/console/sign-in' + q);
  }

  // The server ends a session after the idle timeout whatever the page
  // does; so that a page left open does not keep showing what it showed,
  // it reloads itself a little after that time without a request, and the
  // server then sends it to the sign-in page, which says why.
  var idleTimer = null;
  function watchIdle() {
    var secs = parseInt(document.body.getAttribute('data-idle'), 10);
    if (!secs || !document.getElementById('sign-out')) { return; }
    if (idleTimer) { clearTimeout(idleTimer); }
    idleTimer = setTimeout(function () { location.reload(); }, (secs + 5) * 1000);
  }

  // api sends a same-origin JSON request and resolves with
  // {status, ok, data}. A session that timed out or is gone ends the page.
  function api(method, url, body, keepOn401) {
    var opts = { method: method, credentials: 'same-origin', headers: { 'Accept': 'application/json' } };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    watchIdle();
    return fetch(url, opts).then(function (res) {
      var out = { status: res.status, ok: res.ok, data: null };
      var ctype = res.headers.get('Content-Type') || '';
      var done = function () {
        if (res.status === 401 && !keepOn401) {
          signInAgain(errorCode(out) === 'operator_session_expired');
        }
        return out;
      };
      if (res.status === 204 || ctype.indexOf('json') < 0) { return done(); }
      return res.json().then(function (data) { out.data = data; return done(); }, done);
    });
  }

  function errorCode(res) {
    return res && res.data && res.data.error ? res.data.error.code : '';
  }

  // errorText is the message the API gave, with the first field's message
  // when there is one.
  function errorText(res) {
    if (!res || !res.data || !res.data.error) { return t('network'); }
    var e = res.data.error, text = e.message || e.code;
    if (e.fields) {
      for (var f in e.fields) {
        if (e.fields.hasOwnProperty(f) && e.fields[f].message && e.fields[f].message !== text) {
          text += ' ' + e.fields[f].message;
        }
      }
    }
    return text;
  }

  function showError(id, text) {
    var el = $(id);
    if (!el) { return; }
    el.textContent = text || '';
    el.hidden = !text;
  }

  function ready(fn) {
    var run = function () {
      var m = $('page-messages');
      if (m) { try { msgs = JSON.parse(m.textContent); } catch (e) { msgs = {}; } }
      var out = $('sign-out');
      if (out) {
        out.disabled = false;
        out.addEventListener('click', function () {
          out.disabled = true;
          api('POST', '/api/admin/v1/sign-out', {}, true).then(function () {
            location.assign('/console/sign-in');
          });
        });
      }
      watchIdle();
      fn();
    };
    if (document.readyState === 'loading') {
      document.addEventListener('DOMContentLoaded', run);
    } else {
      run();
    }
  }

  // age says how long ago an ISO time was, coarsely.
  function age(iso) {
    var s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (s < 3600) { return t('age_minutes', { n: Math.floor(s / 60) }); }
    if (s < 86400) { return t('age_hours', { n: Math.floor(s / 3600) }); }
    return t('age_days', { n: Math.floor(s / 86400) });
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = text; }
    if (cls) { e.className = cls; }
    return e;
  }

  // Passkeys: the options and the answers of navigator.credentials travel
  // as JSON with their binary fields in base64url; the server (go-webauthn)
  // judges everything. fromB64u makes an ArrayBuffer of base64url, toB64u
  // base64url of an ArrayBuffer; credentialJSON is a credential as JSON.
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
  function credentialJSON(c, response) {
    return {
      id: c.id, rawId: toB64u(c.rawId), type: c.type, authenticatorAttachment: c.authenticatorAttachment || undefined,
      clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {},
      response: response
    };
  }

  window.consoleUI = { $: $, t: t, api: api, errorCode: errorCode, errorText: errorText, showError: showError, ready: ready, age: age, el: el,
    fromB64u: fromB64u, toB64u: toB64u, credentialJSON: credentialJSON };
}());
