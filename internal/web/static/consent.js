/*
 * The consent page: sends Allow or Deny to POST /api/v1/consents and then
 * goes where the answer says (back into the sign-in, which returns to the
 * service system).
 */
(function () {
  'use strict';

  var u = window.unid, $ = u.$, t = u.t;

  function setError(text) {
    var el = $('form-error');
    if (el) {
      el.textContent = text || '';
      if (text) { el.focus(); }
    }
  }

  u.ready(function () {
    var form = $('consent-form'), allow = $('consent-allow'), deny = $('consent-deny');
    if (!form || !allow || !deny) { return; }
    var request = form.getAttribute('data-request');

    function answer(yes) {
      allow.disabled = true;
      deny.disabled = true;
      setError('');
      u.api('POST', '/api/v1/consents', { request_id: request, allow: yes }).then(function (res) {
        var to = res.ok && res.data && res.data.redirect_to;
        // Only a path on this site, like web.SafeNext.
        if (to && u.safeNext(to) === to) {
          window.location.assign(to);
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
  });
}());
