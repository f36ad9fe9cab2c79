/*
 * The identity page: sends whom the sign-in acts for (the person or one of
 * the user's enterprises) to POST /api/v1/sessions/current/acting, then
 * goes on to the sign-in it came from.
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
    var form = $('identity-form'), go = $('identity-continue');
    if (!form || !go) { return; }
    var next = u.safeNext(form.getAttribute('data-next') || '');

    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var picked = form.querySelector('input[name="uscc"]:checked');
      go.disabled = true;
      setError('');
      u.api('POST', '/api/v1/sessions/current/acting', { uscc: picked ? picked.value : '' }).then(function (res) {
        if (res.ok) {
          window.location.assign(next);
          return;
        }
        go.disabled = false;
        setError(res.data && res.data.error && res.data.error.message ? res.data.error.message : t('server'));
      }, function () {
        go.disabled = false;
        setError(t('network'));
      });
    });
    go.disabled = false;
  });
}());
