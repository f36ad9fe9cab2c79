/*
 * The user center's EMS addresses (我的EMS): the list
 * (GET /api/v1/me/addresses), each with Edit, Make default
 * (POST .../{id}/default) and Delete (DELETE .../{id}, asked twice), and
 * one form to add (POST) or edit (PUT .../{id}) an address, whose
 * province, city and county selects load from GET /api/v1/divisions.
 */
(function () {
  'use strict';

  var u = window.unid, $ = u.$, t = u.t, api = u.api, setBusy = u.setBusy,
    setFormError = u.setFormError, clearErrors = u.clearErrors, showErrors = u.showErrors,
    showAPIError = u.showAPIError, watchInputs = u.watchInputs;

  var form, editing = null, max = 20, count = 0;

  function status(text) { $('addresses-status').textContent = text || ''; }

  /* ---- the cascading selects ---- */

  // fill replaces the options of select with the divisions under parent
  // and resolves with how many there are; "" as parent gives the provinces.
  function fill(select, parent) {
    var seq = (select.seq || 0) + 1;
    select.seq = seq;
    while (select.options.length > 1) { select.remove(1); }
    select.value = '';
    if (parent === null) {
      select.disabled = true;
      return Promise.resolve(0);
    }
    select.disabled = true;
    return api('GET', '/api/v1/divisions' + (parent ? '?parent=' + encodeURIComponent(parent) : '')).then(function (res) {
      if (seq !== select.seq) { return -1; }
      if (!res.ok || !res.data) {
        showAPIError(null, res);
        return 0;
      }
      var list = res.data.divisions || [];
      for (var i = 0; i < list.length; i++) {
        var o = document.createElement('option');
        o.value = list[i].code;
        o.textContent = list[i].name;
        select.appendChild(o);
      }
      select.disabled = list.length === 0;
      return list.length;
    }, function () {
      setFormError(t('network'));
      return 0;
    });
  }

  function onProvince() {
    var p = form.elements.province.value;
    fill(form.elements.county, null);
    return fill(form.elements.city, p || null);
  }

  function onCity() {
    var c = form.elements.city.value;
    return fill(form.elements.county, c || null).then(function (n) {
      form.elements.county.required = n > 0;
      return n;
    });
  }

  /* ---- the form ---- */

  function openEditor(a) {
    editing = a;
    clearErrors(form);
    form.reset();
    var heading = $('address-form-heading');
    heading.textContent = heading.getAttribute(a ? 'data-edit' : 'data-add');
    var phone = form.elements.phone;
    phone.placeholder = a ? a.phone : '';
    phone.required = !a;
    $('address-phone-hint').textContent = a ? t('addr_phone_keep') : t('addr_phone_hint');
    $('is_default-row').hidden = !!(a || count === 0);
    $('address-editor').hidden = false;
    var ready = fill(form.elements.province, '');
    if (a) {
      form.elements.recipient.value = a.recipient;
      form.elements.detail.value = a.detail;
      form.elements.postcode.value = a.postcode;
      ready = ready.then(function () {
        form.elements.province.value = a.province_code;
        return onProvince();
      }).then(function () {
        form.elements.city.value = a.city_code;
        return onCity();
      }).then(function () {
        form.elements.county.value = a.county_code;
      });
    } else {
      fill(form.elements.city, null);
      fill(form.elements.county, null);
    }
    ready.then(function () {
      $('address-save').disabled = false;
      form.elements.recipient.focus();
    });
  }

  function closeEditor() {
    editing = null;
    $('address-editor').hidden = true;
    clearErrors(form);
  }

  function check() {
    var errs = {}, order = ['recipient', 'phone', 'province', 'city', 'county', 'detail', 'postcode'];
    for (var i = 0; i < order.length; i++) {
      var el = form.elements[order[i]];
      if (el.required && !el.disabled && !/\S/.test(el.value)) { errs[order[i]] = t('required'); }
    }
    var pc = form.elements.postcode.value.replace(/\s/g, '');
    if (!errs.postcode && !/^[0-9０-９]{6}$/.test(pc)) { errs.postcode = t('addr_postcode'); }
    return showErrors(form, errs, order);
  }

  function submit(e) {
    e.preventDefault();
    var button = $('address-save');
    if (button.disabled) { return; }
    clearErrors(form);
    status('');
    if (!check()) { return; }
    var body = {
      recipient: form.elements.recipient.value, phone: form.elements.phone.value,
      province: form.elements.province.value, city: form.elements.city.value,
      county: form.elements.county.value, detail: form.elements.detail.value,
      postcode: form.elements.postcode.value, is_default: form.elements.is_default.checked
    };
    var req = editing ? api('PUT', '/api/v1/me/addresses/' + encodeURIComponent(editing.id), body)
      : api('POST', '/api/v1/me/addresses', body);
    setBusy(button, true);
    req.then(function (res) {
      setBusy(button, false);
      if (!res.ok) {
        showAPIError(form, res);
        return;
      }
      var saved = editing ? 'addr_updated' : 'addr_created';
      closeEditor();
      load().then(function () { status(t(saved)); });
    }, function () {
      setBusy(button, false);
      setFormError(t('network'));
    });
  }

  /* ---- the list ---- */

  function actionButton(text, label, cls) {
    var b = document.createElement('button');
    b.type = 'button';
    b.className = 'button button-secondary button-small ' + cls;
    b.textContent = text;
    b.setAttribute('aria-label', label);
    return b;
  }

  // act runs a request from a button of the list and reloads it.
  function act(button, method, url, done) {
    if (button.disabled) { return; }
    setFormError('');
    status('');
    setBusy(button, true);
    api(method, url).then(function (res) {
      if (res.ok) {
        load().then(function () { status(t(done)); });
        return;
      }
      setBusy(button, false);
      showAPIError(null, res);
      if (res.status === 404) { load(); }
    }, function () {
      setBusy(button, false);
      setFormError(t('network'));
    });
  }

  function item(a) {
    var li = document.createElement('li');
    li.className = 'address';
    li.setAttribute('data-id', a.id);
    var h = document.createElement('h3');
    h.textContent = a.recipient + '  ' + a.phone;
    if (a.is_default) {
      var tag = document.createElement('span');
      tag.className = 'address-default';
      tag.textContent = t('addr_default');
      h.appendChild(document.createTextNode(' '));
      h.appendChild(tag);
    }
    li.appendChild(h);
    var where = document.createElement('p');
    where.className = 'address-text';
    where.textContent = [a.province_name, a.city_name, a.county_name, a.detail].join(' ').replace(/\s+/g, ' ');
    li.appendChild(where);
    var pc = document.createElement('p');
    pc.className = 'hint address-postcode';
    pc.textContent = t('addr_postcode_is', { postcode: a.postcode });
    li.appendChild(pc);
    var name = a.recipient;
    var edit = actionButton(t('addr_edit'), t('addr_edit_label', { recipient: name }), 'address-edit');
    edit.addEventListener('click', function () { openEditor(a); });
    li.appendChild(edit);
    if (!a.is_default) {
      var def = actionButton(t('addr_make_default'), t('addr_make_default_label', { recipient: name }), 'address-make-default');
      def.addEventListener('click', function () {
        act(def, 'POST', '/api/v1/me/addresses/' + encodeURIComponent(a.id) + '/default', 'addr_default_set');
      });
      li.appendChild(def);
    }
    var del = actionButton(t('addr_delete'), t('addr_delete_label', { recipient: name }), 'address-delete');
    del.addEventListener('click', function () {
      if (del.getAttribute('data-confirm') !== 'yes') {
        del.setAttribute('data-confirm', 'yes');
        del.textContent = t('addr_delete_confirm');
        return;
      }
      act(del, 'DELETE', '/api/v1/me/addresses/' + encodeURIComponent(a.id), 'addr_deleted');
    });
    li.appendChild(del);
    return li;
  }

  function load() {
    return api('GET', '/api/v1/me/addresses').then(function (res) {
      if (!res.ok || !res.data) {
        if (res.status === 401) { window.location.assign('/login?next=' + encodeURIComponent(location.pathname)); return; }
        showAPIError(null, res);
        return;
      }
      var list = $('addresses-list');
      while (list.firstChild) { list.removeChild(list.firstChild); }
      var all = res.data.addresses || [];
      max = res.data.max || max;
      count = all.length;
      for (var i = 0; i < all.length; i++) { list.appendChild(item(all[i])); }
      $('addresses-empty').hidden = count > 0;
      $('addresses-count').textContent = t('addr_count', { n: count, max: max });
      $('address-add').disabled = count >= max;
    }, function () {
      setFormError(t('network'));
    });
  }

  u.ready(function () {
    form = $('address-form');
    watchInputs(form);
    form.addEventListener('submit', submit);
    form.elements.province.addEventListener('change', onProvince);
    form.elements.city.addEventListener('change', onCity);
    $('address-cancel').addEventListener('click', closeEditor);
    $('address-add').addEventListener('click', function () { openEditor(null); });
    load();
  });
}());
