/*
 * 我的消息: the signed-in user's messages from unid, newest first
 * (GET /api/v1/messages, a page at a time), each marked read when its
 * reader says so or follows its link (POST /api/v1/messages/{id}/read).
 */
(function () {
  'use strict';

  var u = window.unid, $ = u.$, t = u.t, api = u.api, el = u.el;

  var next = '', unread = 0;

  function showUnread() {
    $('messages-unread').textContent = unread > 0 ? t('msg_unread', { n: unread }) : t('msg_all_read');
  }

  // markRead tells the server that li's message is read, and shows it so.
  function markRead(li, id) {
    if (li.className.indexOf('message-unread') < 0) { return Promise.resolve(true); }
    return api('POST', '/api/v1/messages/' + encodeURIComponent(id) + '/read').then(function (res) {
      if (!res.ok) {
        u.setFormError((res.data && res.data.error && res.data.error.message) || t('server'));
        return false;
      }
      li.className = 'message';
      var mark = li.querySelector('.message-unread-mark');
      if (mark) { mark.parentNode.removeChild(mark); }
      var btn = li.querySelector('.message-read');
      if (btn) { btn.parentNode.removeChild(btn); }
      unread = Math.max(0, unread - 1);
      showUnread();
      return true;
    }, function () {
      u.setFormError(t('network'));
      return false;
    });
  }

  function item(m) {
    var li = el('li', m.read ? 'message' : 'message message-unread');
    li.id = 'message-' + m.id;
    var head = el('div', 'message-head');
    head.appendChild(el('h2', 'message-title', m.title));
    if (!m.read) { head.appendChild(el('span', 'badge message-unread-mark', t('msg_unread_mark'))); }
    li.appendChild(head);
    var time = el('time', 'message-time hint', u.day(m.created_at, true));
    time.setAttribute('datetime', m.created_at);
    li.appendChild(time);
    li.appendChild(el('p', 'message-body', m.body));
    var actions = el('div', 'actions');
    if (m.link && u.safeNext(m.link) === m.link) {
      var a = el('a', 'button button-secondary button-small message-link', t('msg_open'));
      a.href = m.link;
      a.addEventListener('click', function (e) {
        if (li.className.indexOf('message-unread') < 0) { return; }
        e.preventDefault();
        markRead(li, m.id).then(function () { location.href = m.link; });
      });
      actions.appendChild(a);
    }
    if (!m.read) {
      var b = el('button', 'button button-secondary button-small message-read', t('msg_mark_read'));
      b.type = 'button';
      b.addEventListener('click', function () {
        u.setBusy(b, true);
        markRead(li, m.id).then(function (ok) { if (!ok) { u.setBusy(b, false); } });
      });
      actions.appendChild(b);
    }
    if (actions.firstChild) { li.appendChild(actions); }
    return li;
  }

  function load() {
    var more = $('messages-more');
    u.setBusy(more, true);
    return api('GET', '/api/v1/messages' + (next ? '?after=' + encodeURIComponent(next) : '')).then(function (res) {
      u.setBusy(more, false);
      if (!res.ok || !res.data) {
        u.setFormError((res.data && res.data.error && res.data.error.message) || t('msg_failed'));
        return;
      }
      var list = $('messages-list'), msgs = res.data.messages || [];
      for (var i = 0; i < msgs.length; i++) { list.appendChild(item(msgs[i])); }
      next = res.data.next || '';
      unread = res.data.unread || 0;
      showUnread();
      $('messages-empty').hidden = list.children.length > 0;
      more.hidden = !next;
    }, function () {
      u.setBusy(more, false);
      u.setFormError(t('msg_failed'));
    });
  }

  u.ready(function () {
    if (!$('messages-list')) { return; }
    $('messages-more').addEventListener('click', function () {
      if (!$('messages-more').disabled) { load(); }
    });
    load();
  });
}());
