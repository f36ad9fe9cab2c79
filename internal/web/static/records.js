/*
 * Lists of records (templates/partials.html "records-panel"): the person's
 * cases, consultations, messages, complaints and favorites on their pages
 * (GET /api/v1/records/{kind}), an enterprise's cases and consultations
 * on its page (GET /api/v1/enterprises/{uscc}/records/{kind}). Each panel
 * filters by status, system, dates and words, loads a page at a time
 * (加载更多), expands a record to its detail and status history
 * (GET <api>/{id}); the person's own lists mark records read, one
 * (POST <api>/{id}/read) or all (POST <api>/read), and remove favorites
 * (DELETE <api>/{id}).
 */
(function () {
  'use strict';

  var u = window.unid, t = u.t, api = u.api, el = u.el;

  // external reports whether link leaves this site (a service system's
  // page): it opens in a new tab without telling the system where from.
  function external(link) { return /^https?:\/\//i.test(link); }

  function Panel(root) {
    var self = this;
    this.root = root;
    this.base = root.getAttribute('data-api');
    this.kind = root.getAttribute('data-kind');
    this.prefix = root.getAttribute('data-prefix');
    this.personal = root.hasAttribute('data-personal');
    this.removable = root.hasAttribute('data-removable');
    this.form = this.part('filter');
    this.list = this.part('list');
    this.more = this.part('more');
    this.next = '';
    this.unread = 0;
    this.query = '';
    var apply = this.part('apply');
    apply.disabled = false;
    this.form.addEventListener('submit', function (e) {
      e.preventDefault();
      self.reload();
    });
    this.form.addEventListener('reset', function () {
      window.setTimeout(function () { self.reload(); }, 0);
    });
    this.more.addEventListener('click', function () {
      if (!self.more.disabled) { self.load(); }
    });
    var all = this.part('read-all');
    if (all) {
      all.addEventListener('click', function () {
        if (all.disabled) { return; }
        u.setBusy(all, true);
        api('POST', self.base + '/read').then(function (res) {
          u.setBusy(all, false);
          if (!res.ok) { u.showAPIError(null, res); return; }
          var items = self.list.querySelectorAll('.record-unread');
          for (var i = 0; i < items.length; i++) { self.showRead(items[i]); }
          self.unread = 0;
          self.showUnread();
        }, function () {
          u.setBusy(all, false);
          u.setFormError(t('network'));
        });
      });
    }
    this.reload();
  }

  Panel.prototype.part = function (name) { return document.getElementById(this.prefix + '-' + name); };

  // filters reads the form into a query string, and checks the dates.
  Panel.prototype.filters = function () {
    var f = this.form, parts = [], names = ['status', 'client', 'from', 'to', 'q'];
    u.clearErrors(f);
    for (var i = 0; i < names.length; i++) {
      var v = u.trim(u.value(f, names[i]));
      if (v) { parts.push(names[i] + '=' + encodeURIComponent(v)); }
    }
    var from = u.value(f, 'from'), to = u.value(f, 'to');
    if (from && to && from > to) {
      u.showErrors(f, { to: t('rec_range') }, ['to']);
      return null;
    }
    return parts.join('&');
  };

  Panel.prototype.reload = function () {
    var q = this.filters();
    if (q === null) { return; }
    this.query = q;
    this.next = '';
    this.list.innerHTML = '';
    this.load();
  };

  Panel.prototype.load = function () {
    var self = this, more = this.more, q = this.query;
    if (this.next) { q += (q ? '&' : '') + 'after=' + encodeURIComponent(this.next); }
    u.setBusy(more, true);
    this.root.setAttribute('aria-busy', 'true');
    return api('GET', this.base + (q ? '?' + q : '')).then(function (res) {
      u.setBusy(more, false);
      self.root.removeAttribute('aria-busy');
      if (!res.ok || !res.data) {
        if (res.data && res.data.error) { u.showAPIError(self.form, res); } else { u.setFormError(t('rec_failed')); }
        return;
      }
      var items = res.data.records || [];
      for (var i = 0; i < items.length; i++) { self.list.appendChild(self.item(items[i])); }
      self.next = res.data.next || '';
      self.unread = res.data.unread || 0;
      self.showUnread();
      self.part('empty').hidden = self.list.children.length > 0;
      more.hidden = !self.next;
      self.root.setAttribute('data-loaded', 'true');
    }, function () {
      u.setBusy(more, false);
      self.root.removeAttribute('aria-busy');
      u.setFormError(t('rec_failed'));
    });
  };

  Panel.prototype.showUnread = function () {
    if (!this.personal) { return; }
    this.part('unread').textContent = this.unread > 0 ? t('rec_unread', { n: this.unread }) : t('rec_all_read');
    this.part('read-all').hidden = this.unread === 0;
  };

  Panel.prototype.showRead = function (li) {
    li.className = li.className.replace(/\s*record-unread/g, '');
    var gone = li.querySelectorAll('.record-unread-mark, .record-read');
    for (var i = 0; i < gone.length; i++) { gone[i].parentNode.removeChild(gone[i]); }
  };

  // markRead tells the server that li's record is read, and shows it so.
  Panel.prototype.markRead = function (li, id) {
    var self = this;
    if (!this.personal || li.className.indexOf('record-unread') < 0) { return Promise.resolve(true); }
    return api('POST', this.base + '/' + encodeURIComponent(id) + '/read').then(function (res) {
      if (!res.ok) { u.showAPIError(null, res); return false; }
      self.showRead(li);
      self.unread = Math.max(0, self.unread - 1);
      self.showUnread();
      return true;
    }, function () {
      u.setFormError(t('network'));
      return false;
    });
  };

  function fact(dl, label, value) {
    if (!value) { return; }
    var div = el('div');
    div.appendChild(el('dt', '', label));
    div.appendChild(el('dd', '', value));
    dl.appendChild(div);
  }

  function button(text, cls) {
    var b = el('button', 'button button-secondary button-small ' + cls, text);
    b.type = 'button';
    return b;
  }

  Panel.prototype.item = function (r) {
    var self = this;
    var li = el('li', r.read || !this.personal ? 'record' : 'record record-unread');
    li.id = this.prefix + '-item-' + r.id;
    li.setAttribute('data-id', r.id);
    if (r.status) { li.setAttribute('data-status', r.status); }
    var head = el('div', 'record-head');
    head.appendChild(el('h3', 'record-title', r.title));
    if (r.status_label) {
      var badge = el('span', 'badge record-status record-status-' + r.status, r.status_label);
      head.appendChild(badge);
    }
    if (!r.read && this.personal) { head.appendChild(el('span', 'badge record-unread-mark', t('rec_unread_mark'))); }
    if (r.mine) { head.appendChild(el('span', 'badge record-mine', t('rec_mine'))); }
    li.appendChild(head);
    var meta = el('p', 'record-meta hint');
    var when = el('time', 'record-time', u.day(r.submitted_at, true));
    when.setAttribute('datetime', r.submitted_at);
    meta.appendChild(when);
    if (r.system) { meta.appendChild(el('span', 'record-system', r.system)); }
    if (r.number) { meta.appendChild(el('span', 'record-number', t('rec_number') + ' ' + r.number)); }
    li.appendChild(meta);
    if (r.body) { li.appendChild(el('p', 'record-body', r.body)); }
    var detail = el('div', 'record-detail');
    detail.hidden = true;
    li.appendChild(detail);

    var actions = el('div', 'actions');
    if (r.link && (external(r.link) || u.safeNext(r.link) === r.link)) {
      var a = el('a', 'button button-secondary button-small record-link', external(r.link) ? t('rec_open_system', { system: r.system }) : t('rec_open'));
      a.href = r.link;
      if (external(r.link)) {
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
      }
      a.addEventListener('click', function (e) {
        if (li.className.indexOf('record-unread') < 0 || external(r.link)) {
          self.markRead(li, r.id);
          return;
        }
        e.preventDefault();
        self.markRead(li, r.id).then(function () { location.href = r.link; });
      });
      actions.appendChild(a);
    }
    var more = button(t('rec_details'), 'record-expand');
    more.setAttribute('aria-expanded', 'false');
    more.addEventListener('click', function () {
      if (more.disabled) { return; }
      if (!detail.hidden) {
        detail.hidden = true;
        more.textContent = t('rec_details');
        more.setAttribute('aria-expanded', 'false');
        return;
      }
      u.setBusy(more, true);
      api('GET', self.base + '/' + encodeURIComponent(r.id)).then(function (res) {
        u.setBusy(more, false);
        if (!res.ok || !res.data) { u.showAPIError(null, res); return; }
        self.fillDetail(detail, res.data);
        detail.hidden = false;
        more.textContent = t('rec_hide');
        more.setAttribute('aria-expanded', 'true');
      }, function () {
        u.setBusy(more, false);
        u.setFormError(t('network'));
      });
    });
    actions.appendChild(more);
    if (!r.read && this.personal) {
      var b = button(t('rec_mark_read'), 'record-read');
      b.addEventListener('click', function () {
        u.setBusy(b, true);
        self.markRead(li, r.id).then(function (ok) { if (!ok) { u.setBusy(b, false); } });
      });
      actions.appendChild(b);
    }
    if (this.removable) {
      var rm = button(t('rec_remove'), 'record-remove');
      rm.addEventListener('click', function () {
        if (rm.disabled) { return; }
        u.setBusy(rm, true);
        api('DELETE', self.base + '/' + encodeURIComponent(r.id)).then(function (res) {
          if (res.ok || res.status === 404) {
            self.list.removeChild(li);
            self.part('empty').hidden = self.list.children.length > 0;
            return;
          }
          u.setBusy(rm, false);
          u.showAPIError(null, res);
        }, function () {
          u.setBusy(rm, false);
          u.setFormError(t('network'));
        });
      });
      actions.appendChild(rm);
    }
    li.appendChild(actions);
    return li;
  };

  Panel.prototype.fillDetail = function (detail, r) {
    detail.innerHTML = '';
    var dl = el('dl', 'info record-facts');
    fact(dl, t('rec_number'), r.number);
    fact(dl, t('rec_item_code'), r.item_code);
    fact(dl, t('rec_department'), r.department);
    fact(dl, t('rec_system'), r.system);
    fact(dl, t('rec_submitted'), u.day(r.submitted_at, true));
    fact(dl, t('rec_updated'), u.day(r.updated_at, true));
    detail.appendChild(dl);
    var hist = r.history || [];
    if (hist.length) {
      detail.appendChild(el('h4', 'record-history-heading', t('rec_history')));
      var ol = el('ol', 'record-history');
      for (var i = 0; i < hist.length; i++) {
        var step = el('li', 'record-step');
        step.setAttribute('data-status', hist[i].status);
        var at = el('time', 'hint', u.day(hist[i].at, true));
        at.setAttribute('datetime', hist[i].at);
        step.appendChild(at);
        step.appendChild(el('span', 'record-step-label', hist[i].label));
        ol.appendChild(step);
      }
      detail.appendChild(ol);
    }
  };

  u.ready(function () {
    var roots = document.querySelectorAll('[data-records]');
    for (var i = 0; i < roots.length; i++) { roots[i].unidRecords = new Panel(roots[i]); }
  });
}());
