/*
 * The operators section: the list, creating an operator (the set-up link
 * is shown once), disabling, enabling and resetting one (a new set-up
 * link, shown once). The server keeps the rules: no auditor is made or
 * touched here, and nobody acts on themselves.
 */
(function () {
  'use strict';
  var ui = window.consoleUI;
  var $ = ui.$, t = ui.t;

  function show(id, on) { $(id).hidden = !on; }
  function status(text) { $('operators-status').textContent = text || ''; }
  function roleLabel(r) { return t('operators.role.' + r); }

  function roleText(roles) {
    var out = [];
    for (var i = 0; i < roles.length; i++) { out.push(roleLabel(roles[i])); }
    return out.join('、');
  }

  function load() {
    return ui.api('GET', '/api/admin/v1/operators').then(function (res) {
      if (!res.ok) { status(ui.errorText(res)); return; }
      drawRoles(res.data.grantable || []);
      var body = $('operators-body'), list = res.data.operators || [];
      body.innerHTML = '';
      for (var i = 0; i < list.length; i++) { body.appendChild(row(list[i])); }
    }, function () { status(t('network')); });
  }

  var drawn = false;
  function drawRoles(roles) {
    if (drawn) { return; }
    drawn = true;
    var box = $('role-boxes');
    for (var i = 0; i < roles.length; i++) {
      var label = document.createElement('label'), input = document.createElement('input');
      input.type = 'checkbox';
      input.value = roles[i];
      input.id = 'role-' + roles[i];
      label.className = 'check';
      label.appendChild(input);
      label.appendChild(document.createTextNode(' ' + roleLabel(roles[i])));
      box.appendChild(label);
    }
  }

  function button(text, cls, fn) {
    var b = ui.el('button', text, cls);
    b.type = 'button';
    b.addEventListener('click', fn);
    return b;
  }

  function row(o) {
    var tr = document.createElement('tr');
    tr.id = 'operator-' + o.login_name;
    tr.appendChild(ui.el('td', o.login_name + (o.self ? ' ' + t('operators.you') : '')));
    tr.appendChild(ui.el('td', roleText(o.roles)));
    tr.appendChild(ui.el('td', o.status === 'active' ? t('operators.active') : t('operators.disabled')));
    tr.appendChild(ui.el('td', o.set_up ? t('operators.yes') : t('operators.pending')));
    var td = document.createElement('td');
    // Nobody acts on themselves, and an auditor's account is not the
    // system administrator's: no buttons there (the server refuses anyway).
    if (!o.self && o.roles.indexOf('auditor') < 0) {
      if (o.status === 'active') {
        td.appendChild(button(t('operators.disable'), 'secondary op-disable', function () { act(o, 'disable'); }));
      } else {
        td.appendChild(button(t('operators.enable'), 'op-enable', function () { act(o, 'enable'); }));
      }
      td.appendChild(document.createTextNode(' '));
      td.appendChild(button(t('operators.reset'), 'secondary op-reset', function () { act(o, 'reset'); }));
    }
    tr.appendChild(td);
    return tr;
  }

  function act(o, what) {
    status('');
    ui.api('POST', '/api/admin/v1/operators/' + encodeURIComponent(o.id) + '/' + what, {}).then(function (res) {
      if (!res.ok) { status(ui.errorText(res)); return; }
      status(t('operators.done.' + what, { login: o.login_name }));
      if (what === 'reset') { showLink(res.data); }
      load();
    }, function () { status(t('network')); });
  }

  function showLink(o) {
    $('link-for').textContent = t('operators.link_for', { login: o.login_name });
    var link = o.setup_link;
    if (link.charAt(0) === '/') { link = location.origin + link; }
    $('link-value').value = link;
    show('link-copied', false);
    show('link-panel', true);
    $('link-value').select();
  }

  function copyLink() {
    var v = $('link-value');
    v.select();
    var done = function () { show('link-copied', true); };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(v.value).then(done, function () {
        try { document.execCommand('copy'); done(); } catch (e) { /* copied by hand */ }
      });
    } else {
      try { document.execCommand('copy'); done(); } catch (e) { /* copied by hand */ }
    }
  }

  function create(ev) {
    ev.preventDefault();
    var roles = [], boxes = $('role-boxes').querySelectorAll('input[type=checkbox]');
    for (var i = 0; i < boxes.length; i++) { if (boxes[i].checked) { roles.push(boxes[i].value); } }
    var btn = $('operator-create');
    btn.disabled = true;
    ui.api('POST', '/api/admin/v1/operators', { login: $('op-login').value, roles: roles }).then(function (res) {
      btn.disabled = false;
      var fields = (!res.ok && res.data && res.data.error && res.data.error.fields) || {};
      ui.showError('err-login', fields.login ? fields.login.message : '');
      ui.showError('err-roles', fields.roles ? fields.roles.message : '');
      if (!res.ok) { ui.showError('operator-error', ui.errorText(res)); return; }
      ui.showError('operator-error', '');
      $('op-login').value = '';
      for (var j = 0; j < boxes.length; j++) { boxes[j].checked = false; }
      showLink(res.data);
      load();
    }, function () { btn.disabled = false; ui.showError('operator-error', t('network')); });
  }

  ui.ready(function () {
    if (!$('operators-body')) { return; }
    $('operator-form').addEventListener('submit', create);
    $('link-copy').addEventListener('click', copyLink);
    $('link-done').addEventListener('click', function () { $('link-value').value = ''; show('link-panel', false); });
    load();
  });
}());
