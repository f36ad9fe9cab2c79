/*
 * The user center's linked accounts (账号绑定): every provider outside
 * unid and the link to it (GET /api/v1/me/links), a link to bind one
 * (GET /upstream/{id}/start?purpose=bind, a page of the provider's and
 * back) and unbinding, asked twice (DELETE /api/v1/me/links/{provider}),
 * which needs a recent sign-in: the password (common.js withReauth), or
 * for an account without one the provider itself. Binding needs one too:
 * the core sends the page back with ?error=reauthentication_required, and
 * the next bind asks first.
 */
(function () {
  'use strict';

  var u = window.unid, $ = u.$, t = u.t, api = u.api, el = u.el, setBusy = u.setBusy;

  var here = '/settings/links';

  function start(id, purpose) {
    return '/upstream/' + encodeURIComponent(id) + '/start?purpose=' + purpose + '&next=' + encodeURIComponent(here);
  }

  // used says whether a link's last use is a time: a link never used has
  // none, or the zero time.
  function used(s) {
    var d = new Date(s || '');
    return !isNaN(d.getTime()) && d.getFullYear() > 1;
  }

  function Links(list, status) {
    this.list = list;
    this.status = status;
    this.hasPassword = true;
  }

  Links.prototype.load = function () {
    var self = this;
    return api('GET', '/api/v1/me/links').then(function (res) {
      if (res.status === 401) {
        window.location.assign('/login?next=' + encodeURIComponent(here));
        return;
      }
      if (!res.ok || !res.data) {
        u.setFormError(t('links_failed'));
        return;
      }
      self.hasPassword = res.data.has_password !== false;
      self.show(res.data.available || [], res.data.links || []);
    }, function () {
      u.setFormError(t('links_failed'));
    });
  };

  // show lists each available provider, linked or not, then any link to a
  // provider no longer offered (it can still be unbound).
  Links.prototype.show = function (available, links) {
    var byProvider = {}, i;
    for (i = 0; i < links.length; i++) { byProvider[links[i].provider] = links[i]; }
    while (this.list.firstChild) { this.list.removeChild(this.list.firstChild); }
    for (i = 0; i < available.length; i++) {
      var a = available[i];
      this.list.appendChild(this.item(a.id, a.name, byProvider[a.id], true));
      delete byProvider[a.id];
    }
    for (var id in byProvider) {
      if (byProvider.hasOwnProperty(id)) { this.list.appendChild(this.item(id, byProvider[id].name || id, byProvider[id], false)); }
    }
    this.list.removeAttribute('aria-busy');
    this.list.setAttribute('data-loaded', 'true');
  };

  Links.prototype.item = function (id, name, link, canBind) {
    var self = this;
    var li = el('li', 'activity-item link');
    li.id = 'link-' + id;
    li.setAttribute('data-provider', id);
    li.setAttribute('data-linked', link ? 'true' : 'false');
    li.appendChild(el('h3', '', name));
    if (link) {
      li.appendChild(el('p', 'link-state', link.nickname ? t('links_linked', { nickname: link.nickname }) : t('links_linked_anon')));
      li.appendChild(el('p', 'hint', t('links_linked_at', { time: u.day(link.linked_at, true) })));
      li.appendChild(el('p', 'hint', used(link.last_used_at) ? t('links_last_used', { time: u.day(link.last_used_at, true) }) : t('links_never_used')));
      var unbind = el('button', 'button button-secondary button-small link-unbind', t('links_unbind'));
      unbind.type = 'button';
      unbind.id = 'unbind-' + id;
      unbind.setAttribute('aria-label', t('links_unbind_label', { provider: name }));
      unbind.addEventListener('click', function () { self.ask(li, unbind, id, name); });
      li.appendChild(unbind);
      return li;
    }
    li.appendChild(el('p', 'link-state', t('links_not_linked')));
    if (canBind) {
      var bind = el('a', 'button button-secondary button-small link-bind', t('links_bind'));
      bind.id = 'bind-' + id;
      bind.href = start(id, 'bind');
      bind.setAttribute('aria-label', t('links_bind_label', { provider: name }));
      if (this.list.getAttribute('data-reauth') === 'true') {
        bind.addEventListener('click', function (e) {
          e.preventDefault();
          self.confirmThen(bind.getAttribute('href'));
        });
      }
      li.appendChild(bind);
    }
    return li;
  };

  // confirmThen goes to href once the person proved themselves again: by
  // the password, or without one through a linked provider, which then
  // sends the browser on to href.
  Links.prototype.confirmThen = function (href) {
    if (this.hasPassword) {
      u.askPassword().then(function (ok) {
        if (ok) { window.location.assign(href); }
      });
      return;
    }
    var linked = this.list.querySelector('li[data-linked="true"]');
    if (linked) {
      window.location.assign(u.reauthVia(linked.getAttribute('data-provider'), href));
    }
  };

  // ask puts the question and the two answers in place of the button.
  Links.prototype.ask = function (li, unbind, id, name) {
    var self = this;
    u.setFormError('');
    this.status.textContent = '';
    unbind.hidden = true;
    var box = el('div', 'link-confirm');
    var q = el('p', '', t('links_unbind_ask', { provider: name }));
    q.id = 'unbind-ask-' + id;
    var yes = el('button', 'button button-primary button-small', t('links_unbind_confirm'));
    yes.type = 'button';
    yes.id = 'unbind-confirm-' + id;
    yes.setAttribute('aria-describedby', q.id);
    var no = el('button', 'button button-secondary button-small', t('links_unbind_keep'));
    no.type = 'button';
    box.appendChild(q);
    box.appendChild(yes);
    box.appendChild(document.createTextNode(' '));
    box.appendChild(no);
    li.appendChild(box);
    yes.focus();
    no.addEventListener('click', function () {
      li.removeChild(box);
      unbind.hidden = false;
      unbind.focus();
    });
    yes.addEventListener('click', function () { self.unbind(li, box, yes, id, name); });
  };

  Links.prototype.unbind = function (li, box, yes, id, name) {
    var self = this;
    if (yes.disabled) { return; }
    setBusy(yes, true);
    var send = function () { return api('DELETE', '/api/v1/me/links/' + encodeURIComponent(id)); };
    // Without a password, a recent sign-in is one with the provider.
    var sending = this.hasPassword ? u.withReauth(send) : send().then(function (res) {
      if (u.needsReauth(res)) {
        window.location.assign(u.reauthVia(id, here));
        return null;
      }
      return res;
    });
    sending.then(function (res) {
      if (!res) { return; }
      setBusy(yes, false);
      if (res.ok || res.status === 404) {
        self.status.textContent = t('links_unbound', { provider: name });
        self.load();
        return;
      }
      li.removeChild(box);
      li.querySelector('.link-unbind').hidden = false;
      if (res.status === 409 && res.data && res.data.error && res.data.error.code === 'upstream_only_way_in') {
        self.onlyWay(name);
        return;
      }
      u.showAPIError(null, res);
    }, function () {
      setBusy(yes, false);
      u.setFormError(t('network'));
    });
  };

  // onlyWay says that this provider is the only way in, and where to set
  // a first password: the password page, which asks for no current one
  // then.
  Links.prototype.onlyWay = function (name) {
    var box = $('form-error');
    box.textContent = t('links_only_way', { provider: name }) + ' ';
    var a = el('a', '', t('links_set_password'));
    a.id = 'links-set-password';
    a.href = '/settings/password';
    box.appendChild(a);
    if (box.focus) { box.focus(); }
  };

  u.ready(function () {
    var list = $('links-list');
    if (list) { new Links(list, $('links-status')).load(); }
  });
}());
