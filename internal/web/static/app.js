/*
 * unid pages: sends the login, registration and log-out forms to the JSON
 * API under /api/v1/ and shows its answers next to the fields.
 *
 * Hand-written ES5 (plus fetch and Promise, checked for) so that it parses
 * in old intranet browsers; no framework, no build step, no inline script.
 * Texts come from the page (#page-messages), already in the page's language.
 * The server is the judge of every rule; the checks here only save a round
 * trip for the obvious mistakes.
 */
(function () {
  'use strict';

  var msgs = {};

  function $(id) { return document.getElementById(id); }

  // t returns message key with {name} placeholders filled from vars.
  function t(key, vars) {
    var s = msgs.hasOwnProperty(key) ? msgs[key] : key;
    if (vars) {
      for (var k in vars) {
        if (vars.hasOwnProperty(k)) { s = s.split('{' + k + '}').join(String(vars[k])); }
      }
    }
    return s;
  }

  // duration says a number of seconds in words: "1 分钟 30 秒", "2 hours".
  function duration(sec) {
    sec = Math.max(1, Math.ceil(sec));
    var h = Math.floor(sec / 3600), m = Math.floor((sec % 3600) / 60), s = sec % 60;
    var parts = [];
    if (h) { parts.push(t(h === 1 ? 'hour' : 'hours', { n: h })); }
    if (m) { parts.push(t(m === 1 ? 'minute' : 'minutes', { n: m })); }
    if (s && !h) { parts.push(t(s === 1 ? 'second' : 'seconds', { n: s })); }
    return parts.join(' ');
  }

  // safeNext mirrors web.SafeNext: only a path on this site.
  function safeNext(next) {
    if (typeof next !== 'string' || next.charAt(0) !== '/' ||
        next.charAt(1) === '/' || next.charAt(1) === '\\' ||
        /[\u0000-\u001f\u007f\\]/.test(next) || next.length > 2048) {
      return '/me';
    }
    return next;
  }

  // api sends a same-origin JSON request and resolves with
  // {status, ok, data, retryAfter}; it rejects only when the network fails.
  function api(method, url, body) {
    var opts = { method: method, credentials: 'same-origin', headers: { 'Accept': 'application/json' } };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    return fetch(url, opts).then(function (res) {
      var out = { status: res.status, ok: res.ok, data: null, retryAfter: parseInt(res.headers.get('Retry-After'), 10) || 0 };
      var ctype = res.headers.get('Content-Type') || '';
      if (res.status === 204 || ctype.indexOf('json') < 0) { return out; }
      return res.json().then(function (data) { out.data = data; return out; }, function () { return out; });
    });
  }

  /* ---- errors next to fields ---- */

  function fieldOf(el) {
    while (el && el !== document.body) {
      if (el.className && (' ' + el.className + ' ').indexOf(' field ') >= 0) { return el; }
      el = el.parentNode;
    }
    return null;
  }

  function describedBy(input, id, add) {
    var ids = (input.getAttribute('aria-describedby') || '').split(/\s+/);
    var out = [];
    for (var i = 0; i < ids.length; i++) {
      if (ids[i] && ids[i] !== id) { out.push(ids[i]); }
    }
    if (add) { out.push(id); }
    if (out.length) { input.setAttribute('aria-describedby', out.join(' ')); } else { input.removeAttribute('aria-describedby'); }
  }

  function showFieldError(input, text) {
    var id = input.id + '-error';
    var el = $(id);
    if (!el) {
      el = document.createElement('p');
      el.id = id;
      el.className = 'field-error';
      // Right under the input, or under the row it shares with a button.
      var anchor = input;
      if (/-row\b/.test(input.parentNode.className || '')) { anchor = input.parentNode; }
      anchor.parentNode.insertBefore(el, anchor.nextSibling);
    }
    el.textContent = text;
    input.setAttribute('aria-invalid', 'true');
    describedBy(input, id, true);
    var f = fieldOf(input);
    if (f && f.className.indexOf('has-error') < 0) { f.className += ' has-error'; }
  }

  function clearFieldError(input) {
    var el = $(input.id + '-error');
    if (el) { el.parentNode.removeChild(el); }
    input.removeAttribute('aria-invalid');
    describedBy(input, input.id + '-error', false);
    var f = fieldOf(input);
    if (f) { f.className = f.className.replace(/\s*has-error/g, ''); }
  }

  function setFormError(text) {
    var el = $('form-error');
    if (el) { el.textContent = text || ''; }
  }

  function clearErrors(form) {
    var bad = form.querySelectorAll('[aria-invalid="true"]');
    for (var i = 0; i < bad.length; i++) { clearFieldError(bad[i]); }
    setFormError('');
  }

  // inputFor finds the visible input for an API field name.
  function inputFor(form, name) {
    if (!form) { return null; }
    if (name === 'captcha_id') { name = 'captcha_answer'; }
    var el = form.elements[name];
    return el && el.type !== 'hidden' && el.id ? el : null;
  }

  // showErrors places client-side errors ({name: text}) and focuses the
  // first field with one; it returns false when there were any.
  function showErrors(form, errs, order) {
    var first = null;
    for (var i = 0; i < order.length; i++) {
      var input = inputFor(form, order[i]);
      if (errs[order[i]] && input) {
        showFieldError(input, errs[order[i]]);
        if (!first) { first = input; }
      }
    }
    if (first) {
      setFormError(t('fix'));
      first.focus();
      return false;
    }
    return true;
  }

  // showAPIError shows an API error answer: field errors next to their
  // inputs, the message in #form-error (the API's message of a
  // 429 already says how long to wait).
  function showAPIError(form, res) {
    var err = res.data && res.data.error;
    if (!err) {
      setFormError(t('server'));
      return;
    }
    var text = err.message || t('fix');
    var first = null;
    if (err.fields) {
      for (var name in err.fields) {
        if (!err.fields.hasOwnProperty(name)) { continue; }
        var f = err.fields[name] || {};
        var m = f.message || err.message || t('fix');
        var input = inputFor(form, name);
        if (input) {
          showFieldError(input, m);
          if (!first) { first = input; }
        }
      }
    }
    setFormError(text);
    if (first) {
      // The first marked field in page order, whatever the API's order.
      (form.querySelector('[aria-invalid="true"]') || first).focus();
    } else {
      var fe = $('form-error');
      if (fe && fe.scrollIntoView) { fe.scrollIntoView(false); }
    }
  }

  function setBusy(button, busy) {
    button.disabled = busy;
    if (busy) { button.setAttribute('aria-busy', 'true'); } else { button.removeAttribute('aria-busy'); }
  }

  function value(form, name) {
    var el = form.elements[name];
    return el ? el.value : '';
  }

  // clear-as-you-type: a field's error goes once the user changes it.
  function watchInputs(form) {
    form.addEventListener('input', function (e) {
      var el = e.target;
      if (el && el.getAttribute && el.getAttribute('aria-invalid') === 'true') { clearFieldError(el); }
    });
  }

  /* ---- captcha ---- */

  // Captcha drives the image-code block. A captcha is single use: load()
  // must run after every request that carried one.
  function Captcha() {
    var self = this;
    this.img = $('captcha-image');
    this.id = $('captcha-id');
    this.answer = $('captcha-answer');
    this.audio = $('captcha-audio');
    this.expires = 0;
    this.seq = 0;
    $('captcha-refresh').addEventListener('click', function () {
      clearFieldError(self.answer);
      self.load(true);
    });
  }

  Captcha.prototype.load = function (focus) {
    var self = this, seq = ++this.seq;
    this.answer.value = '';
    this.id.value = '';
    return api('POST', '/api/v1/captchas').then(function (res) {
      if (seq !== self.seq) { return; } // a newer load is under way
      if (res.status !== 201 || !res.data || !res.data.id) {
        if (res.data && res.data.error) { showAPIError(null, res); } else { setFormError(t('captcha_failed')); }
        return;
      }
      self.id.value = res.data.id;
      self.img.src = res.data.image_url;
      if (res.data.audio_url) { self.audio.href = res.data.audio_url; }
      self.expires = Date.parse(res.data.expires_at) || 0;
      if (focus) { self.answer.focus(); }
    }, function () {
      if (seq === self.seq) { setFormError(t('captcha_failed')); }
    });
  };

  // check returns an error text for the captcha, or '' when it can be sent.
  // An expired captcha is replaced at once.
  Captcha.prototype.check = function () {
    if (!this.id.value) {
      this.load(false);
      return t('captcha_failed');
    }
    if (this.expires && Date.now() > this.expires - 3000) {
      this.load(false);
      return t('captcha_expired');
    }
    if (!/\S/.test(this.answer.value)) { return t('captcha'); }
    return '';
  };

  /* ---- pages ---- */

  function initLogin(form) {
    var captcha = new Captcha();
    var submit = $('login-submit');
    var next = safeNext(form.getAttribute('data-next'));
    captcha.load(false);
    watchInputs(form);
    submit.disabled = false;

    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (submit.disabled) { return; }
      clearErrors(form);
      var errs = {};
      if (!/\S/.test(value(form, 'identifier'))) { errs.identifier = t('required'); }
      if (!value(form, 'password')) { errs.password = t('required'); }
      var c = captcha.check();
      if (c) { errs.captcha_answer = c; }
      if (!showErrors(form, errs, ['identifier', 'password', 'captcha_answer'])) { return; }

      setBusy(submit, true);
      api('POST', '/api/v1/sessions', {
        identifier: value(form, 'identifier').replace(/^\s+|\s+$/g, ''),
        password: value(form, 'password'),
        captcha_id: value(form, 'captcha_id'),
        captcha_answer: value(form, 'captcha_answer').replace(/\s+/g, '')
      }).then(function (res) {
        if (res.ok) {
          window.location.assign(next);
          return;
        }
        setBusy(submit, false);
        showAPIError(form, res);
        captcha.load(false);
      }, function () {
        setBusy(submit, false);
        setFormError(t('network'));
        captcha.load(false);
      });
    });
  }

  var loginNameRule = /^[A-Za-z][A-Za-z0-9_]{3,31}$/;

  function passwordError(pw, loginName) {
    if (!pw) { return t('required'); }
    var classes = 0;
    if (/[A-Z]/.test(pw)) { classes++; }
    if (/[a-z]/.test(pw)) { classes++; }
    if (/[0-9]/.test(pw)) { classes++; }
    if (/[^A-Za-z0-9]/.test(pw)) { classes++; }
    if (pw.length < 8 || classes < 3) { return t('password_rule'); }
    if (loginName && pw.toLowerCase().indexOf(loginName.toLowerCase()) >= 0) { return t('password_has_login'); }
    return '';
  }

  function digitsOnly(s) { return s.replace(/[\s-]/g, ''); }

  function initRegister(form) {
    var captcha = new Captcha();
    var submit = $('register-submit');
    var send = $('send-sms');
    var status = $('sms-status');
    var timer = null;
    captcha.load(false);
    watchInputs(form);
    submit.disabled = false;
    send.disabled = false;

    function countdown(seconds) {
      var left = seconds;
      send.disabled = true;
      send.textContent = t('resend_in', { n: left });
      if (timer) { clearInterval(timer); }
      timer = setInterval(function () {
        left--;
        if (left > 0) {
          send.textContent = t('resend_in', { n: left });
          return;
        }
        clearInterval(timer);
        timer = null;
        send.textContent = t('resend');
        send.disabled = false;
      }, 1000);
    }

    send.addEventListener('click', function () {
      if (send.disabled) { return; }
      clearErrors(form);
      status.textContent = '';
      var phone = digitsOnly(value(form, 'phone'));
      var errs = {};
      if (!phone) { errs.phone = t('required'); } else if (!/^1\d{10}$/.test(phone)) { errs.phone = t('phone'); }
      var c = captcha.check();
      if (c) { errs.captcha_answer = c; }
      if (!showErrors(form, errs, ['phone', 'captcha_answer'])) { return; }

      setBusy(send, true);
      api('POST', '/api/v1/sms-codes', {
        phone: phone,
        purpose: 'register',
        captcha_id: value(form, 'captcha_id'),
        captcha_answer: value(form, 'captcha_answer').replace(/\s+/g, '')
      }).then(function (res) {
        send.removeAttribute('aria-busy');
        // The captcha was used up either way.
        captcha.load(false);
        if (res.ok) {
          var d = res.data || {};
          status.textContent = t('sms_sent', { wait: duration(d.expires_in || 300) });
          $('sms_code').focus();
          countdown(d.resend_after || 60);
          return;
        }
        send.disabled = false;
        showAPIError(form, res);
      }, function () {
        setBusy(send, false);
        setFormError(t('network'));
        captcha.load(false);
      });
    });

    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (submit.disabled) { return; }
      clearErrors(form);
      var loginName = value(form, 'login_name').replace(/^\s+|\s+$/g, '');
      var pw = value(form, 'password');
      var phone = digitsOnly(value(form, 'phone'));
      var sms = digitsOnly(value(form, 'sms_code'));
      var realName = value(form, 'real_name').replace(/^\s+|\s+$/g, '');
      var idNumber = digitsOnly(value(form, 'id_number')).toUpperCase();

      var errs = {};
      if (!loginName) { errs.login_name = t('required'); } else if (!loginNameRule.test(loginName)) { errs.login_name = t('login_name'); }
      var pwErr = passwordError(pw, loginName);
      if (pwErr) { errs.password = pwErr; }
      if (!value(form, 'password_confirm')) { errs.password_confirm = t('required'); } else if (value(form, 'password_confirm') !== pw) { errs.password_confirm = t('password_mismatch'); }
      if (!phone) { errs.phone = t('required'); } else if (!/^1\d{10}$/.test(phone)) { errs.phone = t('phone'); }
      if (!sms) { errs.sms_code = t('required'); } else if (!/^\d{6}$/.test(sms)) { errs.sms_code = t('sms_code'); }
      if (idNumber && !/^\d{17}[\dX]$/.test(idNumber)) { errs.id_number = t('id_number'); }
      if (!showErrors(form, errs, ['login_name', 'password', 'password_confirm', 'phone', 'sms_code', 'real_name', 'id_number'])) { return; }

      var body = {
        login_name: loginName,
        password: pw,
        password_confirm: value(form, 'password_confirm'),
        phone: phone,
        sms_code: sms
      };
      if (realName) { body.real_name = realName; }
      if (idNumber) { body.id_number = idNumber; }

      setBusy(submit, true);
      api('POST', '/api/v1/users', body).then(function (res) {
        if (res.ok) {
          window.location.assign('/me');
          return;
        }
        setBusy(submit, false);
        showAPIError(form, res);
      }, function () {
        setBusy(submit, false);
        setFormError(t('network'));
      });
    });
  }

  function initLogout(button) {
    button.disabled = false;
    button.addEventListener('click', function () {
      if (button.disabled) { return; }
      setFormError('');
      setBusy(button, true);
      api('DELETE', '/api/v1/sessions/current').then(function (res) {
        // 401: the session had already ended; the result is the same.
        if (res.ok || res.status === 401) {
          window.location.assign('/login');
          return;
        }
        setBusy(button, false);
        showAPIError(null, res);
      }, function () {
        setBusy(button, false);
        setFormError(t('network'));
      });
    });
  }

  function init() {
    var m = $('page-messages');
    if (m) {
      try { msgs = JSON.parse(m.textContent || m.innerHTML) || {}; } catch (e) { msgs = {}; }
    }
    if (!window.fetch || !window.Promise || !window.JSON || !document.querySelectorAll) {
      setFormError(t('old_browser'));
      return;
    }
    var el;
    if ((el = $('login-form'))) { initLogin(el); }
    if ((el = $('register-form'))) { initRegister(el); }
    if ((el = $('logout'))) { initLogout(el); }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
}());
