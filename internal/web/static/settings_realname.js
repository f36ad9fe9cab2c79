/*
 * The user center's 实名认证 section: the level and what it unlocks
 * (GET /api/v1/realname), the bindings (DELETE
 * /api/v1/realname/bindings/{method}, after re-authentication), requests
 * under review, and the paths to the next level: the identity form
 * (POST /api/v1/realname/identity), and on "verified on another account"
 * the appeal (multipart POST /api/v1/realname/appeals); bank card and
 * carrier forms; buttons that go to a verification service's page
 * (POST /api/v1/realname/redirects); 支付宝认证 on the account's Alipay
 * link (POST /api/v1/realname/alipay), with a way to link Alipay first;
 * a counter request (POST /api/v1/realname/counter). The server judges every rule: a path
 * it says is not available is shown greyed, with the reason, never as a
 * button that leads nowhere.
 */
(function () {
  'use strict';

  var u = window.unid, $ = u.$, t = u.t, api = u.api, value = u.value, showErrors = u.showErrors, el = u.el, trim = u.trim, day = u.day;

  var status = null; // the last status answer
  var levelNames = {};
  var results = { ok: 1, failed: 1, cancelled: 1, expired: 1, unavailable: 1 };
  var maxFile = 5 << 20;

  function has(key) { return t(key) !== key; }

  function methodName(m) { return has('rn_method_' + m) ? t('rn_method_' + m) : t('rn_method_other'); }

  function query(name) {
    var m = new RegExp('[?&]' + name + '=([^&]*)').exec(location.search);
    if (!m) { return ''; }
    try { return decodeURIComponent(m[1].replace(/\+/g, ' ')); } catch (e) { return ''; }
  }

  function show(el, on) { if (el) { el.hidden = !on; } }

  function clear(el) { while (el.firstChild) { el.removeChild(el.firstChild); } }

  // notice says text at the top of the page, where a screen reader hears it.
  function notice(text) {
    var n = $('realname-result');
    n.textContent = text;
    show(n, !!text);
    if (text && n.scrollIntoView) { n.scrollIntoView(false); }
  }

  // errorText is the page's own words for an error code of the real-name
  // API, or the API's message.
  function errorText(res) {
    var err = res && res.data && res.data.error;
    if (!err) { return t('server'); }
    if (err.code === 'realname_check_limit') {
      var wait = res.retryAfter || err.retry_after || 0;
      return wait > 0 ? t('rn_err_realname_check_limit', { wait: u.duration(wait) }) : (err.message || t('server'));
    }
    if (has('rn_err_' + err.code)) { return t('rn_err_' + err.code); }
    return err.message || t('server');
  }

  // explain puts errorText in the answer, for submitter's showAPIError.
  function explain(res) {
    if (res && res.data && res.data.error) { res.data.error.message = errorText(res); }
  }

  // showContinue offers the way back to the service system that asked
  // for a higher level, once the user has the level it needs (data-need;
  // without it, after any success).
  function showContinue() {
    var box = $('realname-continue');
    if (!box.getAttribute('data-next')) { return; }
    var need = parseInt(box.getAttribute('data-need'), 10) || 0;
    if (need > 0 && (!status || (status.level || 0) < need)) { return; }
    show(box, true);
    show($('realname-for-service'), false);
    $('realname-continue-link').focus();
  }

  /* ---- the status ---- */

  function render(s) {
    var before = status ? status.level : -1;
    status = s;
    var level = Math.max(0, Math.min(3, s.level || 0));
    var badge = $('realname-level');
    badge.textContent = levelNames[level] || '';
    badge.className = 'level level-' + level;
    badge.setAttribute('data-level', String(level));
    $('realname-name').textContent = s.real_name || '';
    show($('realname-name-row'), !!s.real_name);
    $('realname-id').textContent = s.id_number || '';
    show($('realname-id-row'), !!s.id_number);
    show($('realname-locked'), !!s.locked);
    var checks = typeof s.checks_left_today === 'number';
    $('realname-checks').textContent = checks ? t('rn_checks', { n: s.checks_left_today }) : '';
    show($('realname-checks-row'), checks);

    var items = document.querySelectorAll('.realname-level');
    for (var i = 0; i < items.length; i++) {
      var l = parseInt(items[i].getAttribute('data-level'), 10);
      items[i].className = 'realname-level' + (l <= level ? ' realname-level-reached' : '') + (l === level ? ' realname-level-current' : '');
    }
    renderPending(s.pending || []);
    renderBindings(s.bindings || []);
    renderPaths(s, level);
    $('realname-loading').textContent = '';
    return before >= 0 && level > before;
  }

  function renderPending(list) {
    var ul = $('realname-pending-list');
    clear(ul);
    for (var i = 0; i < list.length; i++) {
      var p = list[i];
      var kind = String(p.kind || '').replace(/^realname\./, '');
      var li = el('li', 'realname-item');
      li.appendChild(el('h3', '', has('rn_kind_' + kind) ? t('rn_kind_' + kind) : t('rn_kind_other')));
      li.appendChild(el('p', 'realname-reference', t('rn_pending_reference', { reference: p.reference || '', date: day(p.created_at) })));
      ul.appendChild(li);
    }
    show($('realname-pending'), list.length > 0);
  }

  function renderBindings(list) {
    var ul = $('realname-bindings-list');
    clear(ul);
    for (var i = 0; i < list.length; i++) {
      var b = list[i];
      var li = el('li', 'realname-item');
      var text = el('div', 'realname-item-text');
      text.appendChild(el('h3', '', methodName(b.method)));
      if (b.detail) { text.appendChild(el('p', '', b.detail)); }
      text.appendChild(el('p', 'hint', t('rn_bound_since', { date: day(b.created_at) })));
      li.appendChild(text);
      if (b.removable) {
        var btn = el('button', 'button button-secondary button-small realname-unbind', t('rn_unbind'));
        btn.type = 'button';
        btn.id = 'rn-unbind-' + b.method;
        btn.setAttribute('aria-label', t('rn_unbind_label', { method: methodName(b.method) }));
        btn.setAttribute('data-method', b.method);
        btn.addEventListener('click', unbind);
        li.appendChild(btn);
      }
      ul.appendChild(li);
    }
    show($('realname-bindings'), list.length > 0);
  }

  // renderPaths shows the ways to each level above the user's: available
  // ones ready to use, the others greyed with the reason.
  function renderPaths(s, level) {
    var sections = document.querySelectorAll('.realname-method[data-method]');
    for (var i = 0; i < sections.length; i++) { show(sections[i], false); }
    var any = false;
    var levels = s.levels || [];
    for (var j = 0; j < levels.length; j++) {
      var lv = levels[j];
      if (lv.level <= level) { continue; }
      var methods = lv.methods || [];
      for (var k = 0; k < methods.length; k++) {
        var m = methods[k];
        var sec = $('rn-' + m.method);
        if (!sec || !sec.getAttribute('data-method')) { continue; }
        any = true;
        show(sec, true);
        var off = !m.available || !$('rn-' + m.method).querySelector('form, button');
        var why = sec.querySelector('.realname-off');
        var reason = '';
        if (off) {
          if (lv.level > 1 && level < 1) {
            reason = t('rn_off_level', { level: levelNames[1] || '' });
          } else if (m.kind === 'review' && (s.pending || []).length) {
            reason = t('rn_err_realname_pending');
          } else {
            reason = t('rn_off');
          }
        }
        why.textContent = reason;
        show(why, off);
        sec.className = 'card realname-method' + (off ? ' realname-method-off' : '');
        sec.setAttribute('aria-disabled', off ? 'true' : 'false');
        var controls = sec.querySelectorAll('input, button');
        for (var c = 0; c < controls.length; c++) { controls[c].disabled = off; }
      }
    }
    show($('realname-paths'), true);
    show($('realname-top'), !any);
    if (!any) { show($('rn-appeal'), false); }

    // Level 1: the name and number typed at registration, offered first.
    var reg = level < 1 && s.registered && s.registered.id_number;
    show($('rn-use-registered-row'), !!reg);
    show($('rn-type-row'), !!reg);
    if (reg) {
      $('use_registered-label').textContent = t('rn_use_registered', { masked: trim((s.registered.real_name || '') + ' ' + s.registered.id_number) });
      if (!$('type_identity').checked) { $('use_registered').checked = true; }
    }
    identitySource();
    // Carrier: the account's bound phone by default.
    if (s.bound_phone) {
      $('carrier_bound-label').textContent = t('rn_carrier_bound', { phone: s.bound_phone });
    } else {
      $('carrier_other').checked = true;
    }
    show($('rn-carrier-bound-row'), !!s.bound_phone);
    carrierSource();
    renderAlipay(s);
  }

  // renderAlipay offers to link Alipay when the account has no link, and
  // says so when Alipay has not certified the linked account; only while
  // the path is open.
  function renderAlipay(s) {
    var sec = $('rn-alipay');
    var open = !!sec && !sec.hidden && sec.getAttribute('aria-disabled') !== 'true';
    var link = s.alipay || null;
    show($('rn-alipay-unlinked'), open && !!link && !link.linked);
    var uncertified = open && !!link && link.linked && !link.certified;
    $('rn-alipay-uncertified').textContent = uncertified ? t('rn_alipay_uncertified') : '';
    show($('rn-alipay-uncertified'), uncertified);
  }

  function identitySource() {
    show($('rn-identity-typed'), !$('use_registered').checked || $('rn-use-registered-row').hidden);
  }

  function carrierSource() {
    show($('rn-carrier-phone'), $('carrier_other').checked);
  }

  function load() {
    $('realname-loading').textContent = t('rn_loading');
    return api('GET', '/api/v1/realname').then(function (res) {
      if (!res.ok || !res.data) {
        $('realname-loading').textContent = '';
        u.setFormError(res.data && res.data.error ? errorText(res) : t('rn_load_failed'));
        return;
      }
      render(res.data);
    }, function () {
      $('realname-loading').textContent = '';
      u.setFormError(t('rn_load_failed'));
    });
  }

  // passed takes a status answer after a check that passed.
  function passed(s) {
    render(s);
    notice(t('rn_passed', { level: levelNames[Math.max(0, Math.min(3, s.level || 0))] || '' }));
    showContinue();
  }

  /* ---- the forms ---- */

  function initIdentity() {
    var form = $('rn-identity-form');
    u.watchInputs(form);
    $('use_registered').addEventListener('change', identitySource);
    $('type_identity').addEventListener('change', identitySource);
    var typed = null;
    u.submitter({
      form: form, button: $('rn-identity-submit'),
      check: function () {
        typed = null;
        if ($('use_registered').checked && !$('rn-use-registered-row').hidden) { return { use_registered: true }; }
        var name = trim(value(form, 'real_name'));
        var id = trim(value(form, 'id_number')).toUpperCase();
        var errs = {};
        if (!name) { errs.real_name = t('required'); }
        if (!id) { errs.id_number = t('required'); } else if (!/^\d{17}[\dX]$/.test(id)) { errs.id_number = t('id_number'); }
        if (!showErrors(form, errs, ['real_name', 'id_number'])) { return false; }
        typed = { real_name: name, id_number: id };
        return typed;
      },
      request: function (body) { return api('POST', '/api/v1/realname/identity', body); },
      done: function (res) { passed(res.data); return false; },
      failed: function (res) {
        explain(res);
        var err = res && res.data && res.data.error;
        if (err && err.code === 'id_number_verified_elsewhere') { openAppeal(typed); }
      }
    });
  }

  function openAppeal(typed) {
    var sec = $('rn-appeal');
    $('appeal_real_name').value = typed ? typed.real_name : '';
    $('appeal_id_number').value = typed ? typed.id_number : '';
    show(sec, true);
    if (sec.scrollIntoView) { sec.scrollIntoView(true); }
    $(typed ? 'id_photo' : 'appeal_real_name').focus();
  }

  // sendForm posts form data as multipart/form-data and answers as api().
  function fileError(input) {
    var f = input.files && input.files[0];
    if (!f) { return t('rn_file_required'); }
    if (f.size > maxFile) { return t('rn_file_too_large'); }
    if (f.type && !/^(image\/jpeg|image\/png|application\/pdf)$/.test(f.type)) { return t('rn_file_type'); }
    return '';
  }

  function initAppeal() {
    var form = $('rn-appeal-form');
    u.watchInputs(form);
    form.addEventListener('change', function (e) {
      if (e.target && e.target.type === 'file') { u.clearFieldError(e.target); }
    });
    $('rn-appeal-cancel').addEventListener('click', function () {
      u.clearErrors(form);
      show($('rn-appeal'), false);
    });
    u.submitter({
      form: form, button: $('rn-appeal-submit'),
      check: function () {
        var name = trim(value(form, 'real_name'));
        var id = trim(value(form, 'id_number')).toUpperCase();
        var errs = {};
        if (!name) { errs.real_name = t('required'); }
        if (!/^\d{17}[\dX]$/.test(id)) { errs.id_number = id ? t('id_number') : t('required'); }
        var a = fileError($('id_photo')), b = fileError($('handheld_photo'));
        if (a) { errs.id_photo = a; }
        if (b) { errs.handheld_photo = b; }
        if (!showErrors(form, errs, ['real_name', 'id_number', 'id_photo', 'handheld_photo'])) { return false; }
        var data = new FormData();
        data.append('real_name', name);
        data.append('id_number', id);
        data.append('id_photo', $('id_photo').files[0]);
        data.append('handheld_photo', $('handheld_photo').files[0]);
        return data;
      },
      request: function (data) { return api('POST', '/api/v1/realname/appeals', data); },
      done: function (res) {
        form.reset();
        show($('rn-appeal'), false);
        notice(t('rn_appeal_created', { reference: (res.data && res.data.reference) || '' }));
        load();
        return false;
      },
      failed: explain
    });
  }

  function initBank() {
    var form = $('rn-bank-form');
    u.watchInputs(form);
    u.submitter({
      form: form, button: $('rn-bank-submit'),
      check: function () {
        var card = value(form, 'card_number').replace(/[\s-]+/g, '');
        var phone = value(form, 'phone').replace(/[\s-]+/g, '');
        var errs = {};
        if (!card) { errs.card_number = t('required'); } else if (!/^\d{16,19}$/.test(card)) { errs.card_number = t('rn_card_number'); }
        if (!phone) { errs.phone = t('required'); } else if (!/^1\d{10}$/.test(phone)) { errs.phone = t('phone'); }
        return showErrors(form, errs, ['card_number', 'phone']) && { card_number: card, phone: phone };
      },
      request: function (body) { return api('POST', '/api/v1/realname/bank-card', body); },
      done: function (res) { form.reset(); passed(res.data); return false; },
      failed: explain
    });
  }

  function initCarrier() {
    var form = $('rn-carrier-form');
    u.watchInputs(form);
    $('carrier_bound').addEventListener('change', carrierSource);
    $('carrier_other').addEventListener('change', carrierSource);
    u.submitter({
      form: form, button: $('rn-carrier-submit'),
      check: function () {
        if (!$('carrier_other').checked) { return { phone: '' }; }
        var phone = value(form, 'phone').replace(/[\s-]+/g, '');
        var errs = {};
        if (!phone) { errs.phone = t('required'); } else if (!/^1\d{10}$/.test(phone)) { errs.phone = t('phone'); }
        return showErrors(form, errs, ['phone']) && { phone: phone };
      },
      request: function (body) { return api('POST', '/api/v1/realname/carrier', body); },
      done: function (res) { passed(res.data); return false; },
      failed: explain
    });
  }

  function initRedirects() {
    var buttons = document.querySelectorAll('.rn-redirect');
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].addEventListener('click', function (e) {
        var btn = e.currentTarget;
        if (btn.disabled) { return; }
        u.setFormError('');
        u.setBusy(btn, true);
        var body = { method: btn.getAttribute('data-method') };
        var next = $('realname-continue').getAttribute('data-next');
        var need = parseInt($('realname-continue').getAttribute('data-need'), 10) || 0;
        if (next) { body.next = next; }
        if (next && need > 0) { body.level = need; }
        api('POST', '/api/v1/realname/redirects', body).then(function (res) {
          var url = res.ok && res.data && res.data.url;
          if (url && (/^https?:\/\//i.test(url) || u.safeNext(url) === url)) {
            notice(t('rn_redirecting'));
            location.href = url;
            return;
          }
          u.setBusy(btn, false);
          u.setFormError(errorText(res));
        }, function () {
          u.setBusy(btn, false);
          u.setFormError(t('network'));
        });
      });
    }
  }

  // onPress posts to url when btn is pressed: done takes a success, an
  // error is shown as the page's, then failed (if any) runs.
  function onPress(btn, url, done, failed) {
    btn.addEventListener('click', function () {
      if (btn.disabled) { return; }
      u.setFormError('');
      u.setBusy(btn, true);
      api('POST', url, {}).then(function (res) {
        u.setBusy(btn, false);
        if (res.ok && res.data) {
          done(res.data);
          return;
        }
        u.setFormError(errorText(res));
        if (failed) { failed(); }
      }, function () {
        u.setBusy(btn, false);
        u.setFormError(t('network'));
      });
    });
  }

  function initCounter() {
    onPress($('rn-counter-submit'), '/api/v1/realname/counter', function (item) {
      $('rn-counter-reference').textContent = t('rn_counter_created', { reference: item.reference || '' });
      load();
    });
  }

  // initAlipay: 支付宝认证 on the account's Alipay link; after a refusal
  // the status is read again, for what the page says of the link.
  function initAlipay() {
    onPress($('rn-alipay-submit'), '/api/v1/realname/alipay', passed, load);
  }

  function unbind(e) {
    var btn = e.currentTarget, method = btn.getAttribute('data-method');
    if (btn.disabled) { return; }
    u.setFormError('');
    $('realname-bindings-status').textContent = '';
    u.setBusy(btn, true);
    u.withReauth(function () {
      return api('DELETE', '/api/v1/realname/bindings/' + encodeURIComponent(method));
    }).then(function (res) {
      u.setBusy(btn, false);
      if (res.ok && res.data) {
        render(res.data);
        $('realname-bindings-status').textContent = t('rn_unbound', { method: methodName(method) });
        return;
      }
      u.setFormError(errorText(res));
    }, function () {
      u.setBusy(btn, false);
      u.setFormError(t('network'));
    });
  }

  u.ready(function () {
    if (!$('rn-identity-form')) { return; }
    var items = document.querySelectorAll('.realname-level');
    for (var i = 0; i < items.length; i++) {
      levelNames[items[i].getAttribute('data-level')] = items[i].getAttribute('data-name');
    }
    // Back from a verification service's page.
    var result = query('result');
    if (results.hasOwnProperty(result)) {
      var m = query('method');
      notice(t('rn_result_' + result, { method: methodName(/^[a-z_]{1,32}$/.test(m) ? m : '') }));
    }
    initIdentity();
    initAppeal();
    initBank();
    initCarrier();
    initRedirects();
    initCounter();
    initAlipay();
    load().then(function () {
      // For a service that needs a level (data-need, carried through a
      // verification service's page too): once the user has it. Else
      // back from a verification service with a success.
      var need = parseInt($('realname-continue').getAttribute('data-need'), 10) || 0;
      if (need > 0 ? (status && status.level >= need) : result === 'ok') { showContinue(); }
    });
  });
}());
