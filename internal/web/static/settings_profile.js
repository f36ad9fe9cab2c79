/*
 * The user center's personal information: the full phone and ID number on
 * request (GET /api/v1/me/revealed, after the password), and the nickname
 * and work unit (PATCH /api/v1/me).
 */
(function () {
  'use strict';

  var u = window.unid, $ = u.$, t = u.t, api = u.api, value = u.value, setBusy = u.setBusy,
    setFormError = u.setFormError, clearErrors = u.clearErrors, showAPIError = u.showAPIError;

  function initReveal(button) {
    var phone = $('profile-phone'), id = $('profile-id-number'), status = $('reveal-status');
    var label = button.textContent, shown = false;
    button.disabled = false;

    function hide() {
      if (phone.getAttribute('data-masked')) { phone.textContent = phone.getAttribute('data-masked'); }
      if (id.getAttribute('data-masked')) { id.textContent = id.getAttribute('data-masked'); }
      button.textContent = label;
      button.setAttribute('aria-pressed', 'false');
      status.textContent = '';
      shown = false;
    }

    button.addEventListener('click', function () {
      if (button.disabled) { return; }
      setFormError('');
      if (shown) {
        hide();
        return;
      }
      setBusy(button, true);
      u.withReauth(function () { return api('GET', '/api/v1/me/revealed'); }).then(function (res) {
        setBusy(button, false);
        if (!res.ok) {
          showAPIError(null, res);
          return;
        }
        var d = res.data || {};
        if (d.phone) { phone.textContent = d.phone; }
        if (d.id_number) { id.textContent = d.id_number; }
        button.textContent = t('reveal_hide');
        button.setAttribute('aria-pressed', 'true');
        status.textContent = t('reveal_shown');
        shown = true;
      }, function () {
        setBusy(button, false);
        setFormError(t('network'));
      });
    });
  }

  function initProfile(form) {
    var submit = $('profile-submit'), status = $('profile-status');
    u.watchInputs(form);
    submit.disabled = false;
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (submit.disabled) { return; }
      clearErrors(form);
      status.textContent = '';
      setBusy(submit, true);
      api('PATCH', '/api/v1/me', { nickname: value(form, 'nickname'), work_unit: value(form, 'work_unit') }).then(function (res) {
        setBusy(submit, false);
        if (!res.ok) {
          showAPIError(form, res);
          return;
        }
        var d = res.data || {};
        form.elements.nickname.value = d.nickname || '';
        form.elements.work_unit.value = d.work_unit || '';
        status.textContent = t('profile_saved');
      }, function () {
        setBusy(submit, false);
        setFormError(t('network'));
      });
    });
  }

  u.ready(function () {
    var b = $('reveal');
    if (b) { initReveal(b); }
    var f = $('profile-form');
    if (f) { initProfile(f); }
  });
}());
