/*
 * unid pages, the shared part: messages, the JSON API, errors next to
 * fields, the image-code block, form sending, the "send a code" button and
 * a new account's fields. Each page that needs a script loads
 * this and its own (login.js, register.js, me.js, consent.js), which calls
 * unid.ready.
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

  // safeNext mirrors web.SafeNext: only a path on this site, else /me.
  function safeNext(next) {
    if (typeof next !== 'string' || next.charAt(0) !== '/' ||
        next.charAt(1) === '/' || next.charAt(1) === '\\' ||
        /[\u0000-\u001f\u007f\\]/.test(next) || next.length > 2048) {
      return '/me';
    }
    return next;
  }

  // api sends a same-origin request — JSON, or a FormData as
  // multipart/form-data (uploads) — and resolves with
  // {status, ok, data, retryAfter}; it rejects only when the network fails.
  function api(method, url, body) {
    var opts = { method: method, credentials: 'same-origin', headers: { 'Accept': 'application/json' } };
    if (typeof FormData !== 'undefined' && body instanceof FormData) {
      opts.body = body; // the browser sets the multipart Content-Type and boundary
    } else if (body !== undefined) {
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
    this.player = $('captcha-audio-player');
    this.expires = 0;
    this.seq = 0;
    $('captcha-refresh').addEventListener('click', function () {
      clearFieldError(self.answer);
      self.load(true);
    });
    // The audio version plays here, in the page, not as a raw file in a
    // new window.
    this.audio.addEventListener('click', function () {
      if (!self.player.getAttribute('src')) { return; }
      var played;
      try {
        self.player.currentTime = 0;
        played = self.player.play();
      } catch (e) {
        setFormError(t('audio_failed'));
        return;
      }
      if (played && played['catch']) {
        played['catch'](function () { setFormError(t('audio_failed')); });
      }
      self.answer.focus();
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
      if (res.data.audio_url && self.player.canPlayType && self.player.canPlayType('audio/wav')) {
        self.player.setAttribute('src', res.data.audio_url);
        self.audio.disabled = false;
      } else {
        self.player.removeAttribute('src');
        self.audio.disabled = true;
      }
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

  /* ---- re-authentication ---- */

  function needsReauth(res) {
    return res.status === 401 && res.data && res.data.error && res.data.error.code === 'reauthentication_required';
  }

  var reauthPending = null;

  // askPassword shows the "enter your password" section at the top of the
  // page and resolves with true once POST /api/v1/sessions/current/reauth
  // took the password, or false when the user cancels. Concurrent callers
  // share one section.
  function askPassword() {
    if (reauthPending) { return reauthPending; }
    reauthPending = new Promise(function (resolve) {
      var box = document.createElement('section');
      box.id = 'reauth';
      box.className = 'card reauth';
      box.setAttribute('role', 'dialog');
      box.setAttribute('aria-labelledby', 'reauth-heading');
      box.setAttribute('aria-describedby', 'reauth-intro');
      var h = document.createElement('h2');
      h.id = 'reauth-heading';
      h.textContent = t('reauth_title');
      var intro = document.createElement('p');
      intro.id = 'reauth-intro';
      intro.className = 'hint';
      intro.textContent = t('reauth_intro');
      var form = document.createElement('form');
      form.id = 'reauth-form';
      form.className = 'form';
      form.setAttribute('novalidate', '');
      var field = document.createElement('div');
      field.className = 'field';
      var label = document.createElement('label');
      label.setAttribute('for', 'reauth-password');
      label.textContent = t('reauth_password');
      var input = document.createElement('input');
      input.id = 'reauth-password';
      input.name = 'password';
      input.type = 'password';
      input.setAttribute('autocomplete', 'current-password');
      input.maxLength = 128;
      field.appendChild(label);
      field.appendChild(input);
      var err = document.createElement('p');
      err.id = 'reauth-error';
      err.className = 'form-error';
      err.setAttribute('role', 'alert');
      var actions = document.createElement('div');
      actions.className = 'actions';
      var ok = document.createElement('button');
      ok.id = 'reauth-submit';
      ok.type = 'submit';
      ok.className = 'button button-primary';
      ok.textContent = t('reauth_submit');
      var cancel = document.createElement('button');
      cancel.id = 'reauth-cancel';
      cancel.type = 'button';
      cancel.className = 'button button-secondary';
      cancel.textContent = t('reauth_cancel');
      actions.appendChild(ok);
      actions.appendChild(cancel);
      form.appendChild(field);
      form.appendChild(err);
      form.appendChild(actions);
      box.appendChild(h);
      box.appendChild(intro);
      box.appendChild(form);
      var main = $('main') || document.body;
      main.insertBefore(box, main.firstChild);
      if (box.scrollIntoView) { box.scrollIntoView(true); }
      input.focus();

      function done(result) {
        box.parentNode.removeChild(box);
        reauthPending = null;
        resolve(result);
      }
      cancel.addEventListener('click', function () { done(false); });
      input.addEventListener('input', function () {
        if (input.getAttribute('aria-invalid') === 'true') { clearFieldError(input); }
      });
      form.addEventListener('submit', function (e) {
        e.preventDefault();
        if (ok.disabled) { return; }
        err.textContent = '';
        if (!input.value) {
          showFieldError(input, t('required'));
          input.focus();
          return;
        }
        setBusy(ok, true);
        api('POST', '/api/v1/sessions/current/reauth', { password: input.value }).then(function (res) {
          setBusy(ok, false);
          if (res.ok) {
            done(true);
            return;
          }
          var e2 = res.data && res.data.error;
          if (isBusy(res)) {
            err.textContent = e2.message;
            holdOff(ok, res);
            return;
          }
          input.value = '';
          showFieldError(input, (e2 && e2.message) || t('server'));
          input.focus();
        }, function () {
          setBusy(ok, false);
          err.textContent = t('network');
        });
      });
    });
    return reauthPending;
  }

  // withReauth runs send, a function that makes one api() request, and
  // when the answer is 401 reauthentication_required asks for the
  // password (askPassword) and runs send once more. It resolves with the
  // last answer; when the user cancels, with the 401, whose
  // error.message says why nothing happened.
  function withReauth(send) {
    return send().then(function (res) {
      if (!needsReauth(res)) { return res; }
      return askPassword().then(function (ok) {
        if (!ok) {
          res.data.error.message = t('reauth_cancelled');
          return res;
        }
        return send();
      });
    });
  }

  // reauthVia is where a person without a password proves themselves
  // again: provider, one linked to their account, which then sends the
  // browser on to next, a path of this site.
  function reauthVia(provider, next) {
    return '/upstream/' + encodeURIComponent(provider) + '/start?purpose=reauth&next=' + encodeURIComponent(next);
  }

  /* ---- forms and code buttons ---- */

  // isBusy reports whether res is unid's answer to a burst beyond what it
  // can check at once (503 busy): the request spent nothing, so the page
  // keeps what was typed and its captcha.
  function isBusy(res) {
    return !!(res && res.status === 503 && res.data && res.data.error && res.data.error.code === 'busy');
  }

  // holdOff keeps button off for the answer's Retry-After, and up to a
  // second more, so that those refused together do not all come back at
  // once.
  function holdOff(button, res) {
    var secs = res.retryAfter || res.data.error.retry_after || 5;
    button.disabled = true;
    setTimeout(function () { button.disabled = false; }, (secs + Math.random()) * 1000);
  }

  // submitter sends o.form through o.button: a click while busy does
  // nothing; the errors and o.status (optional) are cleared; o.canSend()
  // (optional) says whether to go at all; o.check() (optional) marks the
  // obvious mistakes (showErrors) and returns false to stop, anything else
  // is handed to o.request(value), which returns one api() promise. On an
  // answer o.answered(res) (optional) may take over by returning true; a
  // success goes to o.done(res), which returns true when the page is being
  // left (the button then stays busy); anything else goes to o.failed(res)
  // (optional; res is null when the network failed) and is shown next to
  // the fields.
  function submitter(o) {
    var form = o.form, button = o.button;
    button.disabled = false;
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (button.disabled || (o.canSend && !o.canSend())) { return; }
      clearErrors(form);
      if (o.status) { o.status.textContent = ''; }
      var v = o.check ? o.check() : true;
      if (v === false) { return; }
      setBusy(button, true);
      o.request(v).then(function (res) {
        if (o.answered && o.answered(res)) {
          setBusy(button, false);
          return;
        }
        if (res.ok) {
          if (!o.done(res)) { setBusy(button, false); }
          return;
        }
        setBusy(button, false);
        if (isBusy(res)) {
          holdOff(button, res); // nothing was spent: the captcha and what was typed stay
        } else if (o.failed) {
          o.failed(res);
        }
        showAPIError(form, res);
      }, function () {
        setBusy(button, false);
        if (o.failed) { o.failed(null); }
        setFormError(t('network'));
      });
    });
  }

  // codeSender drives a "send a code" button (SMS or mail): o.form,
  // o.button and o.status (where "sent" is said) as for submitter, and
  // o.canSend, o.check, o.request and o.answered likewise. o.captcha
  // (optional) is loaded afresh after every answer, since the request used
  // it up. A success says o.sent(wait, value) in o.status (wait: how long
  // the code lasts, in words), focuses o.focus and counts down to
  // "resend"; a failure leaves the button ready again.
  function codeSender(o) {
    var button = o.button, status = o.status, timer = null;
    button.disabled = false;

    function countdown(seconds) {
      var left = seconds;
      button.disabled = true;
      button.textContent = t('resend_in', { n: left });
      if (timer) { clearInterval(timer); }
      timer = setInterval(function () {
        left--;
        if (left > 0) {
          button.textContent = t('resend_in', { n: left });
          return;
        }
        clearInterval(timer);
        timer = null;
        button.textContent = t('resend');
        button.disabled = false;
      }, 1000);
    }

    button.addEventListener('click', function () {
      if (button.disabled || (o.canSend && !o.canSend())) { return; }
      clearErrors(o.form);
      status.textContent = '';
      var v = o.check ? o.check() : true;
      if (v === false) { return; }
      setBusy(button, true);
      o.request(v).then(function (res) {
        button.removeAttribute('aria-busy');
        if (o.captcha) { o.captcha.load(false); }
        if (o.answered && o.answered(res)) {
          button.disabled = false;
          return;
        }
        if (res.ok) {
          var d = res.data || {};
          status.textContent = o.sent(duration(d.expires_in || 300), v);
          o.focus.focus();
          countdown(d.resend_after || 60);
          return;
        }
        button.disabled = false;
        showAPIError(o.form, res);
      }, function () {
        setBusy(button, false);
        setFormError(t('network'));
        if (o.captcha) { o.captcha.load(false); }
      });
    });
  }

  /* ---- a new account (register.js, upstream_continue.js) ---- */

  var loginNameRule = /^[A-Za-z][A-Za-z0-9_]{3,31}$/;

  function digitsOnly(s) { return (s || '').replace(/[\s-]/g, ''); }

  // passwordError mirrors the password rule: '' for a good password.
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

  // newAccount reads a new account's fields from form (login_name,
  // password, password_confirm, phone, sms_code, agreed), puts the obvious
  // mistakes into errs, and returns the request body. With
  // passwordOptional an account without a password is fine: both
  // password fields may be left empty, and are then not sent.
  function newAccount(form, errs, passwordOptional) {
    var loginName = trim(value(form, 'login_name'));
    var pw = value(form, 'password'), confirm = value(form, 'password_confirm');
    var phone = digitsOnly(value(form, 'phone')), sms = digitsOnly(value(form, 'sms_code'));
    var withPassword = !passwordOptional || pw !== '' || confirm !== '';
    if (!loginName) { errs.login_name = t('required'); } else if (!loginNameRule.test(loginName)) { errs.login_name = t('login_name'); }
    if (withPassword) {
      var pwErr = passwordError(pw, loginName);
      if (pwErr) { errs.password = pwErr; }
      if (!confirm) { errs.password_confirm = t('required'); } else if (confirm !== pw) { errs.password_confirm = t('password_mismatch'); }
    }
    if (!phone) { errs.phone = t('required'); } else if (!/^1\d{10}$/.test(phone)) { errs.phone = t('phone'); }
    if (!sms) { errs.sms_code = t('required'); } else if (!/^\d{6}$/.test(sms)) { errs.sms_code = t('sms_code'); }
    if (!form.elements.agreed.checked) { errs.agreed = t('agree'); }
    var body = { login_name: loginName, phone: phone, sms_code: sms, agreed: form.elements.agreed.checked };
    if (withPassword) {
      body.password = pw;
      body.password_confirm = confirm;
    }
    return body;
  }

  // registerCode drives the "send a code" button (#send-sms) of a
  // registration form: the phone and the image code, then the code
  // (POST /api/v1/sms-codes, purpose register).
  function registerCode(form, captcha) {
    codeSender({
      form: form, button: $('send-sms'), status: $('sms-status'), captcha: captcha, focus: $('sms_code'),
      check: function () {
        var phone = digitsOnly(value(form, 'phone'));
        var errs = {};
        if (!phone) { errs.phone = t('required'); } else if (!/^1\d{10}$/.test(phone)) { errs.phone = t('phone'); }
        var c = captcha.check();
        if (c) { errs.captcha_answer = c; }
        return showErrors(form, errs, ['phone', 'captcha_answer']) && phone;
      },
      request: function (phone) {
        return api('POST', '/api/v1/sms-codes', {
          phone: phone,
          purpose: 'register',
          captcha_id: value(form, 'captcha_id'),
          captcha_answer: value(form, 'captcha_answer').replace(/\s+/g, '')
        });
      },
      sent: function (wait) { return t('sms_sent', { wait: wait }); }
    });
  }

  // ready runs init once the page is parsed, with the page's messages
  // loaded and a browser that can send the forms.
  function ready(init) {
    function run() {
      var m = $('page-messages');
      if (m) {
        try { msgs = JSON.parse(m.textContent || m.innerHTML) || {}; } catch (e) { msgs = {}; }
      }
      if (!window.fetch || !window.Promise || !window.JSON || !document.querySelectorAll) {
        setFormError(t('old_browser'));
        return;
      }
      init();
    }
    if (document.readyState === 'loading') {
      document.addEventListener('DOMContentLoaded', run);
    } else {
      run();
    }
  }

  // el makes an element with a class and text (never HTML).
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function trim(s) { return (s || '').replace(/^\s+|\s+$/g, ''); }

  // day shows a time from the API as YYYY-MM-DD in the reader's time
  // zone, with HH:MM after it when withTime; '' for none or a bad one.
  function day(s, withTime) {
    var d = new Date(s);
    if (!s || isNaN(d.getTime())) { return ''; }
    var p = function (n) { return (n < 10 ? '0' : '') + n; };
    var out = d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate());
    return withTime ? out + ' ' + p(d.getHours()) + ':' + p(d.getMinutes()) : out;
  }

  window.unid = {
    $: $, t: t, duration: duration, safeNext: safeNext, api: api,
    showFieldError: showFieldError, clearFieldError: clearFieldError, setFormError: setFormError,
    clearErrors: clearErrors, showErrors: showErrors, showAPIError: showAPIError,
    setBusy: setBusy, value: value, watchInputs: watchInputs, Captcha: Captcha, ready: ready,
    withReauth: withReauth, askPassword: askPassword, reauth: askPassword, needsReauth: needsReauth, reauthVia: reauthVia,
    submitter: submitter, codeSender: codeSender, isBusy: isBusy, holdOff: holdOff, el: el, trim: trim, day: day,
    digitsOnly: digitsOnly, passwordError: passwordError, newAccount: newAccount, registerCode: registerCode
  };
}());
