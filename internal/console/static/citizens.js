/*
 * The citizens section: find an account by an exact identifier or page
 * through the newest ones; with ?id= the account itself, masked, with the
 * security administrator's actions. Every action asks for the reason
 * typed above it and for a confirmation; a revealed value is shown once,
 * in place of its mask, and is gone when the page is left.
 */
(function () {
  'use strict';
  var ui = window.consoleUI;
  ui.ready(function () {
    var body = ui.$('citizens-body');
    if (!body) { return; }
    var id = new URLSearchParams(location.search).get('id');
    if (id) { detail(id); } else { finder(); }
  });

  function statusText(s) { return ui.t('citizens.status.' + s); }

  function finder() {
    var body = ui.$('citizens-body'), more = ui.$('citizens-more'), status = ui.$('citizen-status');
    var next = '';

    function show(items, reset) {
      if (reset) { body.innerHTML = ''; }
      for (var i = 0; i < items.length; i++) {
        var c = items[i], tr = document.createElement('tr');
        tr.id = 'citizen-' + c.id;
        tr.appendChild(ui.el('td', c.login_name));
        tr.appendChild(ui.el('td', c.phone || ''));
        tr.appendChild(ui.el('td', c.real_name || ''));
        tr.appendChild(ui.el('td', statusText(c.status)));
        tr.appendChild(ui.el('td', String(c.realname_level)));
        tr.appendChild(ui.el('td', new Date(c.created_at).toLocaleString()));
        var td = document.createElement('td'), a = ui.el('a', ui.t('view'));
        a.href = '/console/citizens?id=' + encodeURIComponent(c.id);
        td.appendChild(a);
        tr.appendChild(td);
        body.appendChild(tr);
      }
      ui.$('citizens-empty').hidden = body.children.length > 0;
    }

    function answer(res, reset) {
      if (!res.ok) { ui.$('citizens-status').textContent = ui.errorText(res); return false; }
      ui.$('citizens-status').textContent = '';
      show(res.data.items || [], reset);
      return true;
    }

    function list(reset) {
      if (reset) { next = ''; }
      var q = '?status=' + encodeURIComponent(status.value);
      if (next) { q += '&after=' + encodeURIComponent(next); }
      more.disabled = true;
      ui.api('GET', '/api/admin/v1/citizens' + q).then(function (res) {
        if (answer(res, reset)) { next = res.data.next || ''; }
        more.hidden = !next;
        more.disabled = false;
      }, function () { ui.$('citizens-status').textContent = ui.t('network'); });
    }

    ui.$('citizen-search').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var q = ui.$('citizen-q').value;
      if (!q.trim()) { list(true); return; }
      ui.api('GET', '/api/admin/v1/citizens?q=' + encodeURIComponent(q)).then(function (res) {
        answer(res, true);
        more.hidden = true;
      }, function () { ui.$('citizens-status').textContent = ui.t('network'); });
    });
    status.addEventListener('change', function () { list(true); });
    more.addEventListener('click', function () { list(false); });
    list(true);
  }

  function detail(id) {
    ui.$('citizen-find').hidden = true;
    ui.$('citizen-detail').hidden = false;
    var base = '/api/admin/v1/citizens/' + encodeURIComponent(id);
    var pending = '';

    function reason() { return ui.$('citizen-reason').value; }

    function fail(res) { ui.showError('citizen-error', ui.errorText(res)); }

    function item(list, text) {
      var li = ui.el('li', text);
      ui.$(list).appendChild(li);
    }

    function fill(list, items, text) {
      ui.$(list).innerHTML = '';
      if (!items.length) { item(list, ui.t('citizens.none')); return; }
      for (var i = 0; i < items.length; i++) { item(list, text(items[i])); }
    }

    function row(dl, label, value, field) {
      dl.appendChild(ui.el('dt', ui.t('citizens.field.' + label)));
      var dd = document.createElement('dd'), span = ui.el('span', value || '');
      span.id = 'citizen-' + label;
      dd.appendChild(span);
      if (field) {
        var b = ui.el('button', ui.t('citizens.reveal'));
        b.type = 'button';
        b.id = 'reveal-' + field;
        b.addEventListener('click', function () { reveal(field, span, b); });
        dd.appendChild(document.createTextNode(' '));
        dd.appendChild(b);
      }
      dl.appendChild(dd);
    }

    function reveal(field, span, button) {
      if (!reason().trim()) { ui.showError('citizen-error', ui.t('citizens.reveal_reason')); return; }
      button.disabled = true;
      ui.api('POST', base + '/reveal', { field: field, reason: reason() }).then(function (res) {
        if (!res.ok) { button.disabled = false; fail(res); return; }
        ui.showError('citizen-error', '');
        span.textContent = res.data.value;
        button.remove();
      }, function () { button.disabled = false; ui.showError('citizen-error', ui.t('network')); });
    }

    function load() {
      ui.api('GET', base).then(function (res) {
        if (!res.ok) { fail(res); ui.$('citizen-actions').hidden = true; return; }
        var d = res.data, p = d.profile, dl = ui.$('citizen-profile');
        var can = function (f) { return p.revealable.indexOf(f) >= 0 ? f : ''; };
        dl.innerHTML = '';
        row(dl, 'login_name', p.login_name);
        row(dl, 'phone', p.phone, can('phone'));
        row(dl, 'id_number', p.id_number, can('id_number'));
        row(dl, 'email', p.email, can('email'));
        row(dl, 'real_name', p.real_name, can('real_name'));
        row(dl, 'status', statusText(p.status));
        row(dl, 'level', String(p.realname_level));
        row(dl, 'created', new Date(p.created_at).toLocaleString());
        ui.$('citizen-lock').textContent = d.lock.locked ?
          ui.t('citizens.locked', { until: new Date(d.lock.until).toLocaleString() }) :
          ui.t('citizens.not_locked', { n: d.lock.failures });
        ui.$('citizen-lock').className = d.lock.locked ? 'locked' : 'unlocked';
        ui.$('action-disable').hidden = p.status !== 'active';
        ui.$('action-enable').hidden = p.status !== 'disabled';
        ui.$('citizen-actions').hidden = p.status === 'closed';
        fill('citizen-enterprises', d.enterprises, function (m) { return m.name + ' (' + m.uscc + ') ' + m.role; });
        fill('citizen-links', d.links, function (l) { return l.provider + ' ' + l.subject + (l.display ? ' ' + l.display : ''); });
        fill('citizen-sessions', d.sessions, function (s) {
          return new Date(s.last_seen_at).toLocaleString() + ' ' + s.ip + ' ' + (s.amr || []).join(',') + ' ' + s.user_agent;
        });
        fill('citizen-consents', d.consents, function (c) { return (c.name || c.client_id) + ': ' + (c.scopes || []).join(' '); });
        fill('citizen-events', d.events, function (e) {
          return new Date(e.time).toLocaleString() + ' ' + e.action + ' ' + e.result + ' ' + e.ip + (e.by ? ' (' + e.by + ')' : '');
        });
      }, function () { ui.showError('citizen-error', ui.t('network')); });
    }

    function run(action) {
      ui.$('citizen-confirm').hidden = true;
      ui.api('POST', base + '/' + action, { reason: reason() }).then(function (res) {
        if (!res.ok) { fail(res); return; }
        ui.showError('citizen-error', '');
        var n = res.data && res.data.sessions !== undefined ? res.data.sessions : '';
        ui.$('citizen-result').textContent = ui.t('citizens.done.' + action, { n: n });
        load();
      }, function () { ui.showError('citizen-error', ui.t('network')); });
    }

    var buttons = document.querySelectorAll('.citizen-action');
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].addEventListener('click', function (ev) {
        var b = ev.currentTarget;
        ui.$('citizen-result').textContent = '';
        if (!reason().trim()) { ui.showError('citizen-error', ui.t('citizens.reveal_reason')); return; }
        ui.showError('citizen-error', '');
        pending = b.getAttribute('data-action');
        ui.$('citizen-confirm-text').textContent = ui.t('citizens.confirm', { action: b.textContent });
        ui.$('citizen-confirm').hidden = false;
      });
    }
    ui.$('citizen-confirm-yes').addEventListener('click', function () { if (pending) { run(pending); pending = ''; } });
    ui.$('citizen-confirm-no').addEventListener('click', function () { pending = ''; ui.$('citizen-confirm').hidden = true; });
    load();
  }
}());
