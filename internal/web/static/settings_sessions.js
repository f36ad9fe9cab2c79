/*
 * Devices and activity (登录设备与记录): the live sessions of the signed-in
 * user (GET /api/v1/me/sessions) with "sign out this device"
 * (DELETE /api/v1/me/sessions/{id}) and "sign out all other devices"
 * (DELETE /api/v1/me/sessions), and the last sign-ins and security events
 * (GET /api/v1/me/history). The API describes each entry in the page's
 * language; this script only lays them out.
 */
(function () {
  'use strict';

  var u = window.unid, $ = u.$, t = u.t, api = u.api, setBusy = u.setBusy,
    setFormError = u.setFormError, showAPIError = u.showAPIError;

  // when shows an API time in the browser's local time: 2026-11-30 09:05.
  function when(iso) { return u.day(iso, true); }

  function para(className, text) {
    var p = document.createElement('p');
    p.className = className;
    p.textContent = text;
    return p;
  }

  // signedOut handles an answer that says this browser is no longer
  // signed in: the login page, and back here afterwards.
  function signedOut(res) {
    if (res.status !== 401) { return false; }
    window.location.assign('/login?next=' + encodeURIComponent('/settings/sessions'));
    return true;
  }

  function Sessions(list, endOthers, status, onChange) {
    this.list = list;
    this.endOthers = endOthers;
    this.status = status;
    this.onChange = onChange;
    var self = this;
    endOthers.addEventListener('click', function () { self.signOutOthers(); });
  }

  Sessions.prototype.load = function () {
    var self = this;
    return api('GET', '/api/v1/me/sessions').then(function (res) {
      if (signedOut(res)) { return; }
      var items = res.ok && res.data && res.data.sessions;
      if (!items) {
        self.status.textContent = t('sessions_failed');
        return;
      }
      while (self.list.firstChild) { self.list.removeChild(self.list.firstChild); }
      for (var i = 0; i < items.length; i++) { self.list.appendChild(self.item(items[i])); }
      self.list.setAttribute('data-loaded', 'true');
      self.update();
    }, function () {
      self.status.textContent = t('sessions_failed');
    });
  };

  // others counts the listed sessions of other browsers.
  Sessions.prototype.others = function () {
    return this.list.querySelectorAll('li[data-current="false"]').length;
  };

  Sessions.prototype.update = function () {
    this.endOthers.disabled = this.others() === 0;
  };

  // item is one session: browser and device, "this device" for the
  // browser showing the page, place, when it signed in and was last
  // active, and a sign-out button for every other one.
  Sessions.prototype.item = function (s) {
    var self = this;
    var li = document.createElement('li');
    li.className = 'activity-item session';
    li.setAttribute('data-sid', s.id);
    li.setAttribute('data-current', s.current ? 'true' : 'false');
    var h = document.createElement('h3');
    h.textContent = s.browser + ' · ' + s.device;
    if (s.current) {
      var badge = document.createElement('span');
      badge.className = 'badge session-current';
      badge.textContent = t('sessions_this_device');
      h.appendChild(badge);
    }
    li.appendChild(h);
    li.appendChild(para('session-place', s.place));
    li.appendChild(para('hint', t('sessions_signed_in_at', { time: when(s.signed_in_at) })));
    li.appendChild(para('hint', t('sessions_last_seen', { time: when(s.last_seen_at) })));
    if (!s.current) {
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'button button-secondary button-small session-end';
      button.textContent = t('sessions_end');
      button.setAttribute('aria-label', t('sessions_end_label', { browser: s.browser, device: s.device }));
      button.addEventListener('click', function () { self.signOut(li, button, s.id); });
      li.appendChild(button);
    }
    return li;
  };

  Sessions.prototype.signOut = function (li, button, id) {
    var self = this;
    if (button.disabled) { return; }
    setFormError('');
    this.status.textContent = '';
    setBusy(button, true);
    api('DELETE', '/api/v1/me/sessions/' + encodeURIComponent(id)).then(function (res) {
      if (signedOut(res)) { return; }
      // 404: it had ended already; the result is the same.
      if (res.ok || res.status === 404) {
        self.list.removeChild(li);
        self.status.textContent = t('sessions_ended');
        self.update();
        self.onChange();
        return;
      }
      setBusy(button, false);
      showAPIError(null, res);
    }, function () {
      setBusy(button, false);
      setFormError(t('network'));
    });
  };

  Sessions.prototype.signOutOthers = function () {
    var self = this, button = this.endOthers;
    if (button.disabled) { return; }
    setFormError('');
    this.status.textContent = '';
    setBusy(button, true);
    api('DELETE', '/api/v1/me/sessions').then(function (res) {
      if (signedOut(res)) { return; }
      setBusy(button, false);
      if (!res.ok || !res.data) {
        showAPIError(null, res);
        self.update();
        return;
      }
      var n = res.data.ended || 0;
      self.status.textContent = n > 0 ? t('sessions_ended_others', { n: n }) : t('sessions_no_others');
      self.load();
      self.onChange();
    }, function () {
      setBusy(button, false);
      setFormError(t('network'));
    });
  };

  // loadHistory lists the events: what, when, how it ended, and from
  // which browser, device and place.
  function loadHistory(list, status) {
    api('GET', '/api/v1/me/history').then(function (res) {
      if (signedOut(res)) { return; }
      var items = res.ok && res.data && res.data.events;
      if (!items) {
        status.textContent = t('history_failed');
        return;
      }
      while (list.firstChild) { list.removeChild(list.firstChild); }
      status.textContent = items.length ? '' : t('history_empty');
      for (var i = 0; i < items.length; i++) {
        var e = items[i];
        var li = document.createElement('li');
        li.className = 'activity-item history-event' + (e.ok ? '' : ' activity-failed');
        li.setAttribute('data-action', e.action);
        li.setAttribute('data-result', e.result);
        var h = document.createElement('h3');
        h.textContent = e.what + (e.ok ? '' : ' · ' + e.result_text);
        li.appendChild(h);
        li.appendChild(para('hint history-time', when(e.time)));
        li.appendChild(para('history-where', e.browser + ' · ' + e.device + ' · ' + e.place));
        list.appendChild(li);
      }
      list.setAttribute('data-loaded', 'true');
    }, function () {
      status.textContent = t('history_failed');
    });
  }

  u.ready(function () {
    var list = $('sessions-list'), history = $('history-list');
    if (!list || !history) { return; }
    var refreshHistory = function () { loadHistory(history, $('history-status')); };
    new Sessions(list, $('sessions-end-others'), $('sessions-status'), refreshHistory).load();
    refreshHistory();
  });
}());
