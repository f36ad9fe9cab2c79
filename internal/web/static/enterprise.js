/*
 * The enterprise space (企业空间, /enterprise): the user's enterprises with
 * role, labels and default (PUT /api/v1/enterprises/default), grants
 * waiting for them (POST /api/v1/enterprise-grants/{id}/accept|decline),
 * their handler applications, all from GET /api/v1/enterprises; the bind
 * form (法人绑定, POST /api/v1/enterprises), which on
 * enterprise_not_legal_rep offers the appeal with the business licence
 * (multipart POST /api/v1/enterprises/appeals); and the handler
 * application (企业办事申请授权, POST /api/v1/enterprise-applications).
 * The API judges every rule; this only saves round trips.
 */
(function () {
  'use strict';

  var u = window.unid, $ = u.$, t = u.t, api = u.api, setBusy = u.setBusy,
    setFormError = u.setFormError, showErrors = u.showErrors, showAPIError = u.showAPIError, el = u.el, trim = u.trim, day = u.day;

  var maxFile = 5 << 20;

  function status(text) { $('ent-status').textContent = text || ''; }

  function roleName(role) {
    var k = 'ent_role_' + role;
    return t(k) === k ? role : t(k);
  }

  function line(li, text) { if (text) { li.appendChild(el('p', 'address-text', text)); } }

  function button(text, label) {
    var b = el('button', 'button button-secondary button-small', text);
    b.type = 'button';
    if (label) { b.setAttribute('aria-label', label); }
    return b;
  }

  // act sends one request from a button of a list and reloads the lists.
  function act(b, method, url, body, done) {
    if (b.disabled) { return; }
    setFormError('');
    status('');
    setBusy(b, true);
    api(method, url, body).then(function (res) {
      if (res.ok) {
        load().then(function () { status(done); });
        return;
      }
      setBusy(b, false);
      showAPIError(null, res);
      if (res.status === 404 || res.status === 409) { load(); }
    }, function () {
      setBusy(b, false);
      setFormError(t('network'));
    });
  }

  function enterpriseItem(m) {
    var li = el('li', 'address');
    li.setAttribute('data-uscc', m.uscc);
    var h = el('h3');
    var a = el('a', '', m.name);
    a.href = '/enterprise/' + encodeURIComponent(m.uscc);
    a.id = 'ent-open-' + m.uscc;
    h.appendChild(a);
    if (m['default']) {
      h.appendChild(document.createTextNode(' '));
      h.appendChild(el('span', 'address-default', t('ent_default')));
    }
    li.appendChild(h);
    line(li, m.uscc + ' · ' + roleName(m.role));
    if (m.labels && m.labels.length) { line(li, t('ent_labels', { labels: m.labels.join('、') })); }
    if (m.valid_until) { line(li, t('ent_valid_until', { date: day(m.valid_until) })); }
    if (!m['default']) {
      var b = button(t('ent_set_default'), t('ent_set_default') + ' ' + m.name);
      b.id = 'ent-default-' + m.uscc;
      b.addEventListener('click', function () {
        act(b, 'PUT', '/api/v1/enterprises/default', { uscc: m.uscc }, t('ent_default_set', { who: m.name }));
      });
      li.appendChild(b);
    }
    return li;
  }

  function grantItem(g) {
    var li = el('li', 'address');
    li.appendChild(el('h3', '', g.name));
    line(li, g.uscc + ' · ' + roleName(g.role));
    if (g.labels && g.labels.length) { line(li, t('ent_labels', { labels: g.labels.join('、') })); }
    if (g.valid_until) { line(li, t('ent_valid_until', { date: day(g.valid_until) })); }
    if (g.granted_by_name) { line(li, t('ent_granted_by', { who: g.granted_by_name })); }
    if (g.expires_at) { line(li, t('ent_expires_at', { date: day(g.expires_at) })); }
    var id = encodeURIComponent(g.id);
    var ok = button(t('ent_accept'), t('ent_accept') + ' ' + g.name);
    ok.id = 'grant-accept-' + g.id;
    ok.className = 'button button-primary button-small';
    ok.addEventListener('click', function () {
      act(ok, 'POST', '/api/v1/enterprise-grants/' + id + '/accept', undefined, t('ent_accepted', { who: g.name }));
    });
    var no = button(t('ent_decline'), t('ent_decline') + ' ' + g.name);
    no.id = 'grant-decline-' + g.id;
    no.addEventListener('click', function () {
      act(no, 'POST', '/api/v1/enterprise-grants/' + id + '/decline', undefined, t('ent_declined', { who: g.name }));
    });
    li.appendChild(ok);
    li.appendChild(document.createTextNode(' '));
    li.appendChild(no);
    return li;
  }

  function applicationItem(a) {
    var li = el('li', 'address');
    li.setAttribute('data-state', a.state);
    var h = el('h3', '', a.name + ' ');
    var k = 'ent_state_' + a.state;
    h.appendChild(el('span', 'badge', t(k) === k ? a.state : t(k)));
    li.appendChild(h);
    line(li, a.uscc);
    if (a.created_at) { line(li, t('ent_applied_at', { date: day(a.created_at) })); }
    if (a.decision_reason) { line(li, t('ent_decision_reason', { reason: a.decision_reason })); }
    return li;
  }

  function fill(list, items, make) {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    for (var i = 0; i < items.length; i++) { list.appendChild(make(items[i])); }
  }

  function load() {
    return api('GET', '/api/v1/enterprises').then(function (res) {
      if (!res.ok || !res.data) {
        if (res.data && res.data.error) { showAPIError(null, res); } else { setFormError(t('ent_failed')); }
        return;
      }
      var d = res.data, mine = d.enterprises || [], grants = d.grants || [], apps = d.applications || [];
      fill($('ent-list'), mine, enterpriseItem);
      $('ent-empty').hidden = mine.length > 0;
      fill($('ent-grants-list'), grants, grantItem);
      $('ent-grants').hidden = grants.length === 0;
      fill($('ent-applications-list'), apps, applicationItem);
      $('ent-applications').hidden = apps.length === 0;
    }, function () { setFormError(t('network')); });
  }

  // usccError says what is obviously wrong with a credit code, or ''.
  function usccError(s) {
    if (!s) { return t('required'); }
    if (!/^[0-9A-HJ-NPQRTUWXY]{18}$/.test(s)) { return t('ent_uscc_format'); }
    return '';
  }

  function enterpriseFields(form) {
    var v = { uscc: trim(form.elements.uscc.value).toUpperCase(), name: trim(form.elements.name.value) };
    var errs = {};
    if (usccError(v.uscc)) { errs.uscc = usccError(v.uscc); }
    if (!v.name) { errs.name = t('required'); }
    return { v: v, errs: errs };
  }

  // sendForm posts multipart form data and answers as api().
  function done(text) {
    var p = $('bind-done');
    p.textContent = text;
    p.hidden = false;
    p.focus();
  }

  function initBind() {
    var form = $('bind-form'), appeal = $('appeal'), appealForm = $('appeal-form'), pending = null;
    u.watchInputs(form);
    u.submitter({
      form: form, button: $('bind-submit'),
      check: function () {
        $('bind-done').hidden = true;
        appeal.hidden = true;
        var f = enterpriseFields(form);
        return showErrors(form, f.errs, ['uscc', 'name']) ? f.v : false;
      },
      request: function (v) { pending = v; return api('POST', '/api/v1/enterprises', v); },
      answered: function (res) {
        var e = res.data && res.data.error;
        if (!e || e.code !== 'enterprise_not_legal_rep') { return false; }
        setFormError(e.message || '');
        appeal.hidden = false;
        $('appeal-submit').disabled = false;
        $('appeal-heading').focus();
        return true;
      },
      done: function (res) {
        form.reset();
        done(t('ent_bound', { who: (res.data && res.data.name) || pending.name }));
        load();
        return false;
      }
    });
    $('appeal-cancel').addEventListener('click', function () {
      u.clearErrors(appealForm);
      appeal.hidden = true;
    });
    appealForm.addEventListener('change', function (e) {
      if (e.target && e.target.type === 'file') { u.clearFieldError(e.target); }
    });
    u.submitter({
      form: appealForm, button: $('appeal-submit'),
      check: function () {
        var input = $('licence'), f = input.files && input.files[0], err = '';
        if (!f) { err = t('ent_file_required'); } else if (f.size > maxFile) { err = t('ent_file_too_large'); } else if (f.type && !/^(image\/jpeg|image\/png|application\/pdf)$/.test(f.type)) { err = t('ent_file_type'); }
        if (!showErrors(appealForm, err ? { licence: err } : {}, ['licence'])) { return false; }
        var data = new FormData();
        data.append('uscc', pending.uscc);
        data.append('name', pending.name);
        data.append('licence', f);
        return data;
      },
      request: function (data) { return api('POST', '/api/v1/enterprises/appeals', data); },
      done: function () {
        appealForm.reset();
        appeal.hidden = true;
        form.reset();
        done(t('ent_appeal_sent'));
        return false;
      }
    });
  }

  function initApply() {
    var form = $('apply-form');
    u.watchInputs(form);
    u.submitter({
      form: form, button: $('apply-submit'), status: $('apply-status'),
      check: function () {
        var f = enterpriseFields(form);
        f.v.reason = trim(form.elements.reason.value);
        if (!f.v.reason) { f.errs.reason = t('required'); }
        return showErrors(form, f.errs, ['uscc', 'name', 'reason']) ? f.v : false;
      },
      request: function (v) { return api('POST', '/api/v1/enterprise-applications', v); },
      done: function () {
        form.reset();
        $('apply-status').textContent = t('ent_applied');
        load();
        return false;
      }
    });
  }

  u.ready(function () {
    initBind();
    initApply();
    load();
    if (window.location.hash === '#apply') { $('apply').focus(); }
  });
}());
