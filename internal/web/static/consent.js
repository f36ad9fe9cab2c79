/*
 * The consent page: sends Allow or Deny to POST /api/v1/consents and then
 * goes where the answer says (back into the sign-in, which returns to the
 * service system). Hand-written ES5 like app.js; texts come from the page.
 */
(function () {
  'use strict';

  function $(id) { return document.getElementById(id); }

  var msgs = {};

  function t(key) { return msgs.hasOwnProperty(key) ? msgs[key] : key; }

  function setError(text) {
    var el = $('form-error');
    if (el) {
      el.textContent = text || '';
      if (text) { el.focus(); }
    }
  }

  // sameSite accepts only a path on this site, like web.SafeNext.
  function sameSite(next) {
    return typeof next === 'string' && next.charAt(0) === '/' &&
      next.charAt(1) !== '/' && next.charAt(1) !== '\\' && !/[\u0000-\u001f\u007f\\]/.test(next);
  }

  function init() {
    var m = $('page-messages');
    if (m) {
      try { msgs = JSON.parse(m.textContent || m.innerHTML) || {}; } catch (e) { msgs = {}; }
    }
    var form = $('consent-form'), allow = $('consent-allow'), deny = $('consent-deny');
    if (!form || !allow || !deny) { return; }
    if (!window.fetch || !window.Promise || !window.JSON) {
      setError(t('old_browser'));
      return;
    }
    var request = form.getAttribute('data-request');

    function answer(yes) {
      allow.disabled = true;
      deny.disabled = true;
      setError('');
      fetch('/api/v1/consents', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Accept': 'application/json', 'Content-Type': 'application/json' },
        body: JSON.stringify({ request_id: request, allow: yes })
      }).then(function (res) {
        return res.json().then(function (data) { return { ok: res.ok, data: data }; },
          function () { return { ok: res.ok, data: null }; });
      }).then(function (res) {
        if (res.ok && res.data && sameSite(res.data.redirect_to)) {
          window.location.assign(res.data.redirect_to);
          return;
        }
        allow.disabled = false;
        deny.disabled = false;
        setError(res.data && res.data.error && res.data.error.message ? res.data.error.message : t('server'));
      }, function () {
        allow.disabled = false;
        deny.disabled = false;
        setError(t('network'));
      });
    }

    form.addEventListener('submit', function (e) {
      e.preventDefault();
      answer(true);
    });
    deny.addEventListener('click', function () { answer(false); });
    allow.disabled = false;
    deny.disabled = false;
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
}());
