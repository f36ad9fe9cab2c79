/*
 * The personal space: the authorised systems (GET /api/v1/consents, each
 * with Withdraw: DELETE /api/v1/consents/{client_id}) and signing out.
 */
(function () {
  'use strict';

  var u = window.unid, $ = u.$, t = u.t, api = u.api, value = u.value, setBusy = u.setBusy,
    setFormError = u.setFormError, clearErrors = u.clearErrors, showErrors = u.showErrors,
    showAPIError = u.showAPIError, watchInputs = u.watchInputs, duration = u.duration;

  function initLogout(button) {
    button.disabled = false;
    button.addEventListener('click', function () {
      if (button.disabled) { return; }
      setFormError('');
      setBusy(button, true);
      api('DELETE', '/api/v1/sessions/current').then(function (res) {
        // 401: the session had already ended; the result is the same.
        if (res.ok || res.status === 401) {
          window.location.assign('/login');
          return;
        }
        setBusy(button, false);
        showAPIError(null, res);
      }, function () {
        setBusy(button, false);
        setFormError(t('network'));
      });
    });
  }

  // consentItem is one authorised system: its name, what it may know in
  // words, since when, and a Withdraw button.
  function consentItem(c, list, status) {
    var li = document.createElement('li');
    li.className = 'consent';
    li.setAttribute('data-client', c.client_id);
    var name = c.client_name || c.client_id;
    var h = document.createElement('h3');
    h.textContent = name;
    li.appendChild(h);
    var words = [];
    for (var i = 0; i < (c.scopes || []).length; i++) {
      var key = 'scope.' + c.scopes[i];
      words.push(t(key) === key ? c.scopes[i] : t(key));
    }
    var scopes = document.createElement('p');
    scopes.className = 'consent-scopes';
    scopes.textContent = words.join(t('list_sep'));
    li.appendChild(scopes);
    var when = document.createElement('p');
    when.className = 'hint consent-date';
    when.textContent = t('consent_granted', { date: String(c.updated_at || c.granted_at || '').slice(0, 10) });
    li.appendChild(when);
    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'button button-secondary button-small consent-revoke';
    button.textContent = t('consent_revoke');
    button.setAttribute('aria-label', t('consent_revoke_label', { client: name }));
    button.addEventListener('click', function () {
      if (button.disabled) { return; }
      setFormError('');
      status.textContent = '';
      setBusy(button, true);
      api('DELETE', '/api/v1/consents/' + encodeURIComponent(c.client_id)).then(function (res) {
        if (res.ok || res.status === 404) {
          list.removeChild(li);
          status.textContent = t('consent_revoked', { client: name });
          if (!list.firstChild) { $('consents-empty').hidden = false; }
          return;
        }
        setBusy(button, false);
        showAPIError(null, res);
      }, function () {
        setBusy(button, false);
        setFormError(t('network'));
      });
    });
    li.appendChild(button);
    return li;
  }

  function loadConsents(list) {
    var status = $('consents-status');
    api('GET', '/api/v1/consents').then(function (res) {
      var items = res.ok && res.data && res.data.consents;
      if (!items) {
        status.textContent = t('consents_failed');
        return;
      }
      for (var i = 0; i < items.length; i++) { list.appendChild(consentItem(items[i], list, status)); }
      $('consents-empty').hidden = items.length > 0;
      list.setAttribute('data-loaded', 'true');
    }, function () {
      status.textContent = t('consents_failed');
    });
  }

  u.ready(function () {
    var el;
    if ((el = $('logout'))) { initLogout(el); }
    if ((el = $('consents-list'))) { loadConsents(el); }
  });
}());
