/*
 * The service systems section: the list with each system's sign-ins, the
 * register form (checked by the server while the operator types), and a
 * system's detail (?id=…) with edit, new secret, disable or enable, and
 * delete. Every rule is the server's; the page shows its answers.
 */
(function () {
  'use strict';
  var ui = window.consoleUI;
  var $ = ui.$, t = ui.t;

  // vocab is what each type may register, from the list answer.
  var vocab = {};
  // editing is the system the form edits, or null when it registers one.
  var editing = null;
  var timer = null, seq = 0;

  function show(id, on) { $(id).hidden = !on; }

  function lines(v) {
    var out = [], parts = v.split(/[\r\n]+/);
    for (var i = 0; i < parts.length; i++) {
      var s = parts[i].replace(/^\s+|\s+$/g, '');
      if (s) { out.push(s); }
    }
    return out;
  }

  function typeLabel(type) { return t('systems.type.' + type); }
  function levelLabel(n) { return t('systems.level.' + n); }

  function status(text) { $('systems-status').textContent = text || ''; }

  // --- the list ---------------------------------------------------------

  function loadList() {
    show('systems-list-view', true);
    ui.api('GET', '/api/admin/v1/clients').then(function (res) {
      if (!res.ok) { status(ui.errorText(res)); return; }
      vocab = res.data.scopes || {};
      var body = $('systems-body'), list = res.data.clients || [];
      body.innerHTML = '';
      for (var i = 0; i < list.length; i++) { body.appendChild(row(list[i])); }
      show('systems-empty', list.length === 0);
      loadCounts();
    }, function () { status(t('network')); });
  }

  function row(c) {
    var tr = document.createElement('tr');
    tr.id = 'system-' + c.id;
    tr.appendChild(ui.el('td', typeLabel(c.type)));
    tr.appendChild(ui.el('td', c.name));
    tr.appendChild(ui.el('td', c.id, 'mono'));
    tr.appendChild(ui.el('td', levelLabel(c.min_realname_level)));
    tr.appendChild(ui.el('td', c.first_party ? t('systems.yes') : t('systems.no')));
    tr.appendChild(ui.el('td', c.disabled ? t('systems.disabled') : t('systems.enabled'), c.disabled ? 'error' : ''));
    var today = ui.el('td', '…', 'count-today'), week = ui.el('td', '…', 'count-week');
    tr.appendChild(today);
    tr.appendChild(week);
    var td = document.createElement('td'), a = ui.el('a', t('view'));
    a.href = '/console/systems?id=' + encodeURIComponent(c.id);
    td.appendChild(a);
    tr.appendChild(td);
    return tr;
  }

  // loadCounts fills the sign-in columns; when the counts cannot be had
  // every cell says so with a dash.
  function loadCounts() {
    var fill = function (counts) {
      var rows = $('systems-body').children;
      for (var i = 0; i < rows.length; i++) {
        var id = rows[i].id.slice('system-'.length), n = counts && counts[id];
        rows[i].querySelector('.count-today').textContent = counts ? String(n ? n.today : 0) : '—';
        rows[i].querySelector('.count-week').textContent = counts ? String(n ? n.week : 0) : '—';
      }
    };
    ui.api('GET', '/api/admin/v1/stats/sso').then(function (res) {
      if (!res.ok || !res.data || !res.data.systems) { fill(null); return; }
      var counts = {};
      for (var i = 0; i < res.data.systems.length; i++) { counts[res.data.systems[i].client_id] = res.data.systems[i]; }
      fill(counts);
    }, function () { fill(null); });
  }

  // --- the form ---------------------------------------------------------

  function checkedScopes() {
    var out = [], boxes = $('scope-boxes').querySelectorAll('input[type=checkbox]');
    for (var i = 0; i < boxes.length; i++) { if (boxes[i].checked) { out.push(boxes[i].value); } }
    return out;
  }

  // drawScopes offers the names the type may register, keeping those
  // checked that still apply.
  function drawScopes(type, keep) {
    var box = $('scope-boxes'), names = vocab[type] || [];
    box.innerHTML = '';
    for (var i = 0; i < names.length; i++) {
      var label = document.createElement('label'), input = document.createElement('input');
      input.type = 'checkbox';
      input.value = names[i];
      input.id = 'scope-' + names[i].replace(/[^a-z0-9]/g, '-');
      input.checked = keep.indexOf(names[i]) >= 0;
      input.addEventListener('change', changed);
      label.className = 'check';
      label.appendChild(input);
      label.appendChild(document.createTextNode(' ' + names[i]));
      box.appendChild(label);
    }
  }

  function applyType() {
    var type = $('sys-type').value, cas = type === 'cas';
    show('label-redirects', !cas);
    show('hint-redirects', !cas);
    show('label-patterns', cas);
    show('hint-patterns', cas);
    show('legend-scopes', !cas);
    show('legend-attributes', cas);
    show('field-logout', !cas);
    drawScopes(type, checkedScopes());
  }

  // spec is the form as the API takes it; an edit sends no ID or type.
  function spec() {
    var s = {
      name: $('sys-name').value,
      redirect_uris: lines($('sys-redirects').value),
      scopes: checkedScopes(),
      min_realname_level: parseInt($('sys-level').value, 10) || 0,
      min_enterprise_role: $('sys-role').value,
      backchannel_logout_uri: $('sys-bcl').value.replace(/^\s+|\s+$/g, ''),
      first_party: $('sys-first').checked
    };
    if ($('sys-type').value !== 'cas') { s.post_logout_redirect_uris = lines($('sys-logout').value); }
    if (!editing) {
      s.type = $('sys-type').value;
      var id = $('sys-id').value.replace(/^\s+|\s+$/g, '');
      if (id) { s.id = id; }
    } else {
      s.type = editing.type; // judged as the type it has; not sent on save
    }
    return s;
  }

  var fieldNames = ['type', 'name', 'id', 'redirect_uris', 'post_logout_redirect_uris', 'scopes',
    'min_realname_level', 'min_enterprise_role', 'backchannel_logout_uri'];

  // showFields puts each field's message under it; fields without one are
  // cleared.
  function showFields(res) {
    var fields = (res && res.data && res.data.error && res.data.error.fields) || {};
    for (var i = 0; i < fieldNames.length; i++) {
      var f = fields[fieldNames[i]];
      ui.showError('err-' + fieldNames[i], f ? (f.message || f.code) : '');
    }
  }

  // validate asks the server to judge the form as it stands, creating
  // nothing; only the latest answer is shown.
  function validate() {
    var mine = ++seq;
    var s = spec();
    if (editing) { delete s.id; }
    return ui.api('POST', '/api/admin/v1/clients/validate', s).then(function (res) {
      if (mine !== seq) { return; }
      showFields(res.ok ? null : res);
      show('form-valid', res.ok);
      if (!res.ok && res.status !== 400) { ui.showError('form-error', ui.errorText(res)); } else { ui.showError('form-error', ''); }
    }, function () { if (mine === seq) { ui.showError('form-error', t('network')); } });
  }

  // changed validates the form a moment after the operator stops typing.
  function changed() {
    show('form-valid', false);
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(validate, 400);
  }

  function openForm(c) {
    editing = c || null;
    show('form-title-new', !editing);
    show('form-title-edit', !!editing);
    $('sys-type').disabled = !!editing;
    $('sys-id').disabled = !!editing;
    $('sys-type').value = c ? c.type : 'oidc_confidential';
    $('sys-name').value = c ? c.name : '';
    $('sys-id').value = c ? c.id : '';
    $('sys-redirects').value = c ? c.redirect_uris.join('\n') : '';
    $('sys-logout').value = c ? c.post_logout_redirect_uris.join('\n') : '';
    $('sys-level').value = String(c ? c.min_realname_level : 0);
    $('sys-role').value = c ? (c.min_enterprise_role || '') : '';
    $('sys-bcl').value = c ? (c.backchannel_logout_uri || '') : '';
    $('sys-first').checked = c ? c.first_party : false;
    drawScopes($('sys-type').value, c ? c.scopes : []);
    applyType();
    showFields(null);
    ui.showError('form-error', '');
    show('form-valid', false);
    show('system-form', true);
    $('sys-name').focus();
  }

  function closeForm() {
    if (timer) { clearTimeout(timer); }
    seq++;
    show('system-form', false);
  }

  function save(ev) {
    ev.preventDefault();
    if (timer) { clearTimeout(timer); }
    seq++;
    var s = spec(), btn = $('system-save');
    btn.disabled = true;
    var req;
    if (editing) {
      delete s.type;
      req = ui.api('PATCH', '/api/admin/v1/clients/' + encodeURIComponent(editing.id), s);
    } else {
      req = ui.api('POST', '/api/admin/v1/clients', s);
    }
    req.then(function (res) {
      btn.disabled = false;
      if (!res.ok) {
        showFields(res);
        ui.showError('form-error', ui.errorText(res));
        return;
      }
      closeForm();
      if (editing) {
        status(t('systems.saved'));
        showDetail(res.data);
        return;
      }
      show('systems-list-view', false);
      if (res.data.client_secret) {
        showSecret(res.data.client_secret, res.data.id);
      } else {
        location.assign('/console/systems?id=' + encodeURIComponent(res.data.id));
      }
    }, function () { btn.disabled = false; ui.showError('form-error', t('network')); });
  }

  // --- the secret, shown once --------------------------------------------

  var afterSecret = '';
  function showSecret(secret, id) {
    afterSecret = id;
    $('secret-value').value = secret;
    show('secret-copied', false);
    show('secret-panel', true);
    $('secret-value').select();
  }

  function copySecret() {
    var v = $('secret-value');
    v.select();
    var done = function () { show('secret-copied', true); };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(v.value).then(done, function () {
        try { document.execCommand('copy'); done(); } catch (e) { /* the operator copies by hand */ }
      });
    } else {
      try { document.execCommand('copy'); done(); } catch (e) { /* the operator copies by hand */ }
    }
  }

  function secretDone() {
    $('secret-value').value = '';
    show('secret-panel', false);
    location.assign('/console/systems?id=' + encodeURIComponent(afterSecret));
  }

  // --- a system's detail ----------------------------------------------------

  var current = null;

  function dt(dl, key, value) {
    dl.appendChild(ui.el('dt', t(key)));
    dl.appendChild(ui.el('dd', value === '' ? '—' : value));
  }

  function showDetail(c) {
    current = c;
    var dl = $('system-detail');
    dl.innerHTML = '';
    var cas = c.type === 'cas';
    dt(dl, 'systems.d.name', c.name);
    dt(dl, 'systems.d.id', c.id);
    dt(dl, 'systems.d.type', typeLabel(c.type));
    dt(dl, 'systems.d.state', c.disabled ? t('systems.disabled') : t('systems.enabled'));
    dt(dl, cas ? 'systems.d.patterns' : 'systems.d.redirects', c.redirect_uris.join('\n'));
    if (!cas) { dt(dl, 'systems.d.logout', c.post_logout_redirect_uris.join('\n')); }
    dt(dl, cas ? 'systems.d.attributes' : 'systems.d.scopes', c.scopes.join(' '));
    dt(dl, 'systems.d.level', levelLabel(c.min_realname_level));
    dt(dl, 'systems.d.role', c.min_enterprise_role ? t('systems.role.' + c.min_enterprise_role) : '');
    dt(dl, 'systems.d.backchannel', c.backchannel_logout_uri || '');
    dt(dl, 'systems.d.first_party', c.first_party ? t('systems.yes') : t('systems.no'));
    dt(dl, 'systems.d.updated', new Date(c.updated_at).toLocaleString());
    show('system-rotate', c.type === 'oidc_confidential');
    show('system-disable', !c.disabled);
    show('system-enable', c.disabled);
    show('system-disabled-note', c.disabled);
    show('delete-confirm', false);
    show('rotate-confirm', false);
    show('system-detail-view', true);
  }

  function loadDetail(id) {
    // The form's scope lists come with the list answer.
    ui.api('GET', '/api/admin/v1/clients').then(function (res) {
      if (res.ok) { vocab = res.data.scopes || {}; }
    });
    ui.api('GET', '/api/admin/v1/clients/' + encodeURIComponent(id)).then(function (res) {
      if (!res.ok) { status(ui.errorText(res)); show('system-detail-view', true); show('system-actions', false); return; }
      showDetail(res.data);
    }, function () { status(t('network')); });
  }

  function act(path, message) {
    return ui.api('POST', '/api/admin/v1/clients/' + encodeURIComponent(current.id) + path, {}).then(function (res) {
      if (!res.ok) { status(ui.errorText(res)); return null; }
      status(message);
      return res.data;
    }, function () { status(t('network')); return null; });
  }

  function wireDetail() {
    $('system-edit').addEventListener('click', function () { status(''); openForm(current); });
    $('system-disable').addEventListener('click', function () {
      act('/disable', t('systems.disabled_done')).then(function (c) { if (c) { showDetail(c); } });
    });
    $('system-enable').addEventListener('click', function () {
      act('/enable', t('systems.enabled_done')).then(function (c) { if (c) { showDetail(c); } });
    });
    $('system-rotate').addEventListener('click', function () { show('rotate-confirm', true); });
    $('rotate-cancel').addEventListener('click', function () { show('rotate-confirm', false); });
    $('rotate-confirm-button').addEventListener('click', function () {
      show('rotate-confirm', false);
      act('/secret', t('systems.rotated')).then(function (d) { if (d) { showSecret(d.client_secret, current.id); } });
    });
    $('system-delete').addEventListener('click', function () {
      $('delete-id').value = '';
      $('delete-confirm-button').disabled = true;
      show('delete-confirm', true);
      $('delete-id').focus();
    });
    $('delete-id').addEventListener('input', function () {
      $('delete-confirm-button').disabled = $('delete-id').value !== current.id;
    });
    $('delete-cancel').addEventListener('click', function () { show('delete-confirm', false); });
    $('delete-confirm-button').addEventListener('click', function () {
      $('delete-confirm-button').disabled = true;
      ui.api('DELETE', '/api/admin/v1/clients/' + encodeURIComponent(current.id)).then(function (res) {
        if (!res.ok) { status(ui.errorText(res)); return; }
        location.assign('/console/systems');
      }, function () { status(t('network')); });
    });
  }

  ui.ready(function () {
    if (!$('systems-body')) { return; }
    $('system-new').addEventListener('click', function () { status(''); openForm(null); });
    $('system-cancel').addEventListener('click', closeForm);
    $('system-form').addEventListener('submit', save);
    $('sys-type').addEventListener('change', function () { applyType(); changed(); });
    var inputs = ['sys-name', 'sys-id', 'sys-redirects', 'sys-logout', 'sys-bcl'];
    for (var i = 0; i < inputs.length; i++) { $(inputs[i]).addEventListener('input', changed); }
    var selects = ['sys-level', 'sys-role', 'sys-first'];
    for (var j = 0; j < selects.length; j++) { $(selects[j]).addEventListener('change', changed); }
    $('secret-copy').addEventListener('click', copySecret);
    $('secret-done').addEventListener('click', secretDone);
    wireDetail();
    var id = new URLSearchParams(location.search).get('id');
    if (id) { loadDetail(id); } else { loadList(); }
  });
}());
