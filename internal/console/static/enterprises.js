/*
 * The enterprises section: find an enterprise by credit code or the start
 * of its name; with ?id= (the credit code) its members, pending
 * applications and grants, and removing a member with a reason.
 */
(function () {
  'use strict';
  var ui = window.consoleUI;
  ui.ready(function () {
    if (!ui.$('enterprises-body')) { return; }
    var id = new URLSearchParams(location.search).get('id');
    if (id) { detail(id); } else { finder(); }
  });

  function role(r) { return ui.t('enterprises.role.' + r); }

  function finder() {
    var body = ui.$('enterprises-body'), more = ui.$('enterprises-more');
    var next = '', q = '';
    function find(reset) {
      var url = '/api/admin/v1/enterprises?q=' + encodeURIComponent(q);
      if (!reset && next) { url += '&after=' + encodeURIComponent(next); }
      ui.api('GET', url).then(function (res) {
        if (!res.ok) { ui.$('enterprises-status').textContent = ui.errorText(res); return; }
        ui.$('enterprises-status').textContent = '';
        if (reset) { body.innerHTML = ''; }
        var items = res.data.items || [];
        for (var i = 0; i < items.length; i++) {
          var e = items[i], tr = document.createElement('tr');
          tr.id = 'enterprise-' + e.uscc;
          tr.appendChild(ui.el('td', e.uscc));
          tr.appendChild(ui.el('td', e.name));
          tr.appendChild(ui.el('td', e.status));
          var td = document.createElement('td'), a = ui.el('a', ui.t('view'));
          a.href = '/console/enterprises?id=' + encodeURIComponent(e.uscc);
          td.appendChild(a);
          tr.appendChild(td);
          body.appendChild(tr);
        }
        next = res.data.next || '';
        more.hidden = !next;
        ui.$('enterprises-empty').hidden = body.children.length > 0;
      }, function () { ui.$('enterprises-status').textContent = ui.t('network'); });
    }
    ui.$('enterprise-search').addEventListener('submit', function (ev) {
      ev.preventDefault();
      q = ui.$('enterprise-q').value;
      find(true);
    });
    more.addEventListener('click', function () { find(false); });
  }

  function detail(uscc) {
    ui.$('enterprise-find').hidden = true;
    ui.$('enterprise-detail').hidden = false;
    var base = '/api/admin/v1/enterprises/' + encodeURIComponent(uscc);

    function list(id, items, text, action) {
      var ul = ui.$(id);
      ul.innerHTML = '';
      for (var i = 0; i < items.length; i++) {
        var li = ui.el('li', text(items[i]));
        if (action) { action(li, items[i]); }
        ul.appendChild(li);
      }
    }

    function remove(m, button) {
      var reason = ui.$('enterprise-reason').value;
      if (!reason.trim()) { ui.showError('enterprise-error', ui.t('citizens.reveal_reason')); return; }
      button.disabled = true;
      ui.api('POST', base + '/members/' + encodeURIComponent(m.user_id) + '/remove', { reason: reason }).then(function (res) {
        button.disabled = false;
        if (!res.ok) { ui.showError('enterprise-error', ui.errorText(res)); return; }
        ui.showError('enterprise-error', '');
        ui.$('enterprise-result').textContent = ui.t('enterprises.removed');
        load();
      }, function () { button.disabled = false; ui.showError('enterprise-error', ui.t('network')); });
    }

    function load() {
      ui.api('GET', base).then(function (res) {
        if (!res.ok) { ui.showError('enterprise-error', ui.errorText(res)); return; }
        var d = res.data;
        ui.$('enterprise-title').textContent = d.enterprise.name + ' (' + d.enterprise.uscc + ')';
        list('enterprise-members', d.members, function (m) { return m.name + ' ' + role(m.role) + ' '; }, function (li, m) {
          li.id = 'member-' + m.user_id;
          if (m.role === 'legal_rep') { return; }
          var b = ui.el('button', ui.t('enterprises.remove'));
          b.type = 'button';
          b.addEventListener('click', function () { remove(m, b); });
          li.appendChild(b);
        });
        list('enterprise-applications', d.applications, function (a) { return a.name + ' ' + a.reason; });
        list('enterprise-grants', d.grants, function (g) { return g.name + ' ' + role(g.role); });
      }, function () { ui.showError('enterprise-error', ui.t('network')); });
    }
    load();
  }
}());
