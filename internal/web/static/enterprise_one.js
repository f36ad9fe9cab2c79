/*
 * The page of one enterprise (/enterprise/{uscc}), for its members:
 * members and roles (GET /api/v1/enterprises/{uscc}, names masked by the
 * API); for the legal representative and administrators the
 * authorization area: pending applications with approve or reject, a
 * reason and labels (POST .../applications/{id}/decision), grants sent
 * and not yet accepted, the grant form (POST .../grants) and a revoke
 * button on each member the role may revoke (DELETE .../members/{id});
 * leaving (DELETE .../members/me) for everyone but the legal
 * representative, who may instead unbind the enterprise (DELETE
 * /api/v1/enterprises/{uscc} with the SMS code of POST .../unbind-code)
 * after entering the password again (common.js withReauth). The API
 * judges every rule.
 */
(function () {
  'use strict';

  var u = window.unid, $ = u.$, t = u.t, api = u.api, setBusy = u.setBusy,
    setFormError = u.setFormError, showErrors = u.showErrors, showAPIError = u.showAPIError, el = u.el, trim = u.trim, day = u.day;

  var uscc = '', role = '', base = '';

  function status(text) { $('ent-status').textContent = text || ''; }

  function roleName(r) {
    var k = 'ent_role_' + r;
    return t(k) === k ? r : t(k);
  }

  function line(li, text) { if (text) { li.appendChild(el('p', 'address-text', text)); } }

  function button(text, label, primary) {
    var b = el('button', 'button button-small ' + (primary ? 'button-primary' : 'button-secondary'), text);
    b.type = 'button';
    if (label) { b.setAttribute('aria-label', label); }
    return b;
  }

  // configured are the deployment's permission labels (#ent-labels).
  function configured() {
    var out = [], items = document.querySelectorAll('#ent-labels li');
    for (var i = 0; i < items.length; i++) { out.push(items[i].textContent); }
    return out;
  }

  // checked lists the values of the ticked boxes named labels in root.
  function checked(root) {
    var out = [], boxes = root.querySelectorAll('input[name="labels"]');
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i].checked) { out.push(boxes[i].value); }
    }
    return out;
  }

  // mayRevoke mirrors the API: the legal representative revokes
  // administrators and handlers, an administrator handlers.
  function mayRevoke(m) {
    if (m.user_id === 'me' || m.self) { return false; }
    if (role === 'legal_rep') { return m.role === 'admin' || m.role === 'handler'; }
    if (role === 'admin') { return m.role === 'handler'; }
    return false;
  }

  // twice asks for a second click before a button acts.
  function twice(b, ask, run) {
    var armed = false;
    b.addEventListener('click', function () {
      if (b.disabled) { return; }
      if (!armed) {
        armed = true;
        status(ask);
        return;
      }
      armed = false;
      run();
    });
  }

  function act(b, method, url, body, done) {
    setFormError('');
    status('');
    setBusy(b, true);
    return api(method, url, body).then(function (res) {
      if (res.ok) {
        load().then(function () { status(done); });
        return res;
      }
      setBusy(b, false);
      showAPIError(null, res);
      if (res.status === 404 || res.status === 409) { load(); }
      return res;
    }, function () {
      setBusy(b, false);
      setFormError(t('network'));
    });
  }

  function memberItem(m) {
    var li = el('li', 'address');
    li.setAttribute('data-role', m.role);
    li.appendChild(el('h3', '', m.name || ''));
    line(li, roleName(m.role));
    if (m.labels && m.labels.length) { line(li, t('ent_labels', { labels: m.labels.join('、') })); }
    if (m.valid_until) { line(li, t('ent_valid_until', { date: day(m.valid_until) })); }
    if (mayRevoke(m)) {
      var b = button(t('ent_revoke'), t('ent_revoke') + ' ' + (m.name || ''));
      b.id = 'revoke-' + m.user_id;
      twice(b, t('ent_revoke_confirm', { who: m.name || '' }), function () {
        act(b, 'DELETE', base + '/members/' + encodeURIComponent(m.user_id), undefined, t('ent_revoked', { who: m.name || '' }));
      });
      li.appendChild(b);
    }
    return li;
  }

  function applicationItem(a) {
    var li = el('li', 'address');
    li.id = 'application-' + a.id;
    li.appendChild(el('h3', '', a.name || ''));
    if (a.reason) { line(li, t('ent_applicant_reason', { reason: a.reason })); }
    if (a.created_at) { line(li, t('ent_applied_at', { date: day(a.created_at) })); }
    var form = el('form', 'form');
    form.setAttribute('novalidate', '');
    var f1 = el('div', 'field'), l1 = el('label', '', t('ent_decision_reason_label')), reason = el('input');
    reason.id = 'decision-reason-' + a.id;
    reason.name = 'reason';
    reason.type = 'text';
    reason.maxLength = 500;
    l1.setAttribute('for', reason.id);
    f1.appendChild(l1);
    f1.appendChild(reason);
    var f2 = null, names = configured();
    if (names.length) {
      f2 = el('fieldset', 'field');
      f2.appendChild(el('legend', '', t('ent_decision_labels_label')));
      for (var i = 0; i < names.length; i++) {
        var row = el('div', 'checkbox-row'), box = el('input'), lab = el('label', '', names[i]);
        box.type = 'checkbox';
        box.name = 'labels';
        box.value = names[i];
        box.id = 'decision-label-' + a.id + '-' + i;
        lab.setAttribute('for', box.id);
        row.appendChild(box);
        row.appendChild(lab);
        f2.appendChild(row);
      }
    }
    var yes = button(t('ent_approve'), t('ent_approve') + ' ' + (a.name || ''), true);
    yes.id = 'approve-' + a.id;
    var no = button(t('ent_reject'), t('ent_reject') + ' ' + (a.name || ''));
    no.id = 'reject-' + a.id;
    var actions = el('div', 'actions');
    actions.appendChild(yes);
    actions.appendChild(no);
    form.appendChild(f1);
    if (f2) { form.appendChild(f2); }
    form.appendChild(actions);
    li.appendChild(form);
    var who = a.name || '';
    function decide(b, approve) {
      if (b.disabled) { return; }
      u.clearErrors(form);
      var r = trim(reason.value);
      if (!approve && !r && !showErrors(form, { reason: t('ent_reason_required') }, ['reason'])) { return; }
      act(b, 'POST', base + '/applications/' + encodeURIComponent(a.id) + '/decision',
        { approve: approve, reason: r, labels: approve ? checked(form) : [] },
        t(approve ? 'ent_approved' : 'ent_rejected', { who: who })).then(function (res) {
        if (res && !res.ok && res.data && res.data.error && res.data.error.fields) { showAPIError(form, res); }
      });
    }
    yes.addEventListener('click', function () { decide(yes, true); });
    no.addEventListener('click', function () { decide(no, false); });
    form.addEventListener('submit', function (e) { e.preventDefault(); });
    return li;
  }

  function grantItem(g) {
    var li = el('li', 'address');
    li.appendChild(el('h3', '', g.name || ''));
    line(li, roleName(g.role));
    if (g.labels && g.labels.length) { line(li, t('ent_labels', { labels: g.labels.join('、') })); }
    if (g.expires_at) { line(li, t('ent_expires_at', { date: day(g.expires_at) })); }
    // The legal representative withdraws any pending grant, an admin the
    // handler grants (the API enforces the same).
    if (role === 'legal_rep' || (role === 'admin' && g.role === 'handler')) {
      var b = button(t('ent_withdraw'), t('ent_withdraw') + ' ' + (g.name || ''));
      b.id = 'withdraw-' + g.id;
      twice(b, t('ent_withdraw_confirm', { who: g.name || '' }), function () {
        act(b, 'DELETE', base + '/grants/' + encodeURIComponent(g.id), undefined, t('ent_withdrawn', { who: g.name || '' }));
      });
      var actions = el('div', 'actions');
      actions.appendChild(b);
      li.appendChild(actions);
    }
    return li;
  }

  function fill(id, items, make) {
    var list = $(id);
    if (!list) { return; }
    while (list.firstChild) { list.removeChild(list.firstChild); }
    for (var i = 0; i < items.length; i++) { list.appendChild(make(items[i])); }
    var empty = $(id.replace(/-list$/, '-empty'));
    if (empty) { empty.hidden = items.length > 0; }
  }

  function load() {
    return api('GET', base).then(function (res) {
      if (!res.ok || !res.data) {
        if (res.data && res.data.error) { showAPIError(null, res); } else { setFormError(t('ent_failed')); }
        return;
      }
      var d = res.data;
      if (d.my_role) { role = d.my_role; }
      fill('members-list', d.members || [], memberItem);
      fill('auth-applications-list', d.applications || [], applicationItem);
      fill('auth-grants-list', d.grants || [], grantItem);
    }, function () { setFormError(t('network')); });
  }

  function initGrant() {
    var form = $('grant-form');
    if (!form) { return; }
    u.watchInputs(form);
    // Only a handler carries labels.
    var labels = $('grant-labels');
    if (labels) {
      form.elements.role.addEventListener('change', function () { labels.hidden = form.elements.role.value !== 'handler'; });
    }
    u.submitter({
      form: form, button: $('grant-submit'), status: $('grant-status'),
      check: function () {
        var v = {
          phone: trim(form.elements.phone.value), real_name: trim(form.elements.real_name.value),
          role: form.elements.role.value, labels: form.elements.role.value === 'handler' ? checked(form) : [],
          valid_until: form.elements.valid_until.value || ''
        };
        var errs = {};
        if (!v.phone) { errs.phone = t('required'); } else if (!/^1[0-9]{10}$/.test(v.phone)) { errs.phone = t('ent_phone_format'); }
        if (!v.real_name) { errs.real_name = t('required'); }
        return showErrors(form, errs, ['phone', 'real_name']) ? v : false;
      },
      request: function (v) { return api('POST', base + '/grants', v); },
      done: function () {
        form.reset();
        if (labels) { labels.hidden = false; }
        $('grant-status').textContent = t('ent_grant_sent');
        load();
        return false;
      }
    });
  }

  function gone(text) {
    $('ent-page').hidden = true;
    var p = $('ent-left');
    if (text) { p.firstChild.nodeValue = text + ' '; }
    p.hidden = false;
    p.focus();
  }

  function initLeave() {
    var b = $('leave-button');
    if (!b) { return; }
    b.disabled = false;
    twice(b, t('ent_leave_confirm'), function () {
      setFormError('');
      status('');
      setBusy(b, true);
      api('DELETE', base + '/members/me').then(function (res) {
        if (res.ok) {
          gone('');
          return;
        }
        setBusy(b, false);
        showAPIError(null, res);
      }, function () {
        setBusy(b, false);
        setFormError(t('network'));
      });
    });
  }

  // initUnbind: the legal representative types the enterprise's name,
  // gets an SMS code (POST …/unbind-code) and unbinds with it (DELETE
  // with sms_code); both ask for the password first when the last one is
  // not recent.
  function initUnbind() {
    var form = $('unbind-form');
    if (!form) { return; }
    u.watchInputs(form);
    var input = $('unbind-confirm'), code = $('unbind-sms-code');
    function nameError() {
      var v = trim(input.value);
      if (!v) { return t('required'); }
      return v === input.getAttribute('data-name') ? '' : t('ent_unbind_mismatch');
    }
    u.codeSender({
      form: form, button: $('unbind-send-sms'), status: $('unbind-sms-status'), focus: code,
      check: function () {
        var e = nameError();
        return showErrors(form, e ? { confirm: e } : {}, ['confirm']);
      },
      request: function () {
        return u.withReauth(function () { return api('POST', base + '/unbind-code'); });
      },
      sent: function (wait) { return t('sms_sent', { wait: wait }); }
    });
    u.submitter({
      form: form, button: $('unbind-submit'),
      check: function () {
        var errs = {}, e = nameError(), c = trim(code.value);
        if (e) { errs.confirm = e; }
        if (!c) { errs.sms_code = t('required'); }
        return showErrors(form, errs, ['confirm', 'sms_code']) ? c : false;
      },
      request: function (c) {
        return u.withReauth(function () { return api('DELETE', base, { sms_code: c }); });
      },
      done: function () {
        gone(t('ent_unbound'));
        return true;
      }
    });
  }

  u.ready(function () {
    var page = $('ent-page');
    uscc = page.getAttribute('data-uscc');
    role = page.getAttribute('data-role');
    base = '/api/v1/enterprises/' + encodeURIComponent(uscc);
    initGrant();
    initLeave();
    initUnbind();
    load();
  });
}());
