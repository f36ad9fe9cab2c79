/*
 * The audit trail: search events, open one, verify the hash chain (a
 * stream of progress lines, then the outcome) and export a range. The
 * server resolves identifiers and judges every field; the page shows
 * what the operator API answers.
 */
(function () {
  'use strict';
  var ui = window.consoleUI;
  ui.ready(function () {
    var body = ui.$('audit-body');
    if (!body) { return; }
    var form = ui.$('audit-filter'), more = ui.$('audit-more');
    var query = '', next = '';
    var fields = ['actor', 'subject', 'action', 'result', 'ip', 'client'];

    // isoTime turns a datetime-local value (the browser's local time)
    // into RFC 3339.
    function isoTime(v) {
      if (!v) { return ''; }
      var d = new Date(v);
      return isNaN(d.getTime()) ? v : d.toISOString();
    }

    function buildQuery() {
      var q = [];
      for (var i = 0; i < fields.length; i++) {
        var v = ui.$('f-' + fields[i]).value.replace(/^\s+|\s+$/g, '');
        if (v) { q.push(fields[i] + '=' + encodeURIComponent(v)); }
      }
      var from = isoTime(ui.$('f-from').value), to = isoTime(ui.$('f-to').value);
      if (from) { q.push('from=' + encodeURIComponent(from)); }
      if (to) { q.push('to=' + encodeURIComponent(to)); }
      return q.join('&');
    }

    function localTime(iso) {
      var d = new Date(iso);
      return isNaN(d.getTime()) ? iso : d.toLocaleString();
    }

    function load(reset) {
      if (reset) { next = ''; }
      var url = '/api/admin/v1/audit/events?' + query;
      if (next) { url += (query ? '&' : '') + 'before=' + encodeURIComponent(next); }
      more.disabled = true;
      ui.api('GET', url).then(function (res) {
        more.disabled = false;
        if (!res.ok) { ui.showError('audit-error', ui.errorText(res)); return; }
        ui.showError('audit-error', '');
        if (reset) { body.innerHTML = ''; ui.$('audit-detail').hidden = true; }
        var events = res.data.events || [];
        for (var i = 0; i < events.length; i++) { body.appendChild(row(events[i])); }
        next = res.data.next || '';
        more.hidden = !next;
        ui.$('audit-empty').hidden = body.children.length > 0;
        ui.$('audit-status').textContent = '';
      }, function () { more.disabled = false; ui.$('audit-status').textContent = ui.t('network'); });
    }

    function row(e) {
      var tr = document.createElement('tr');
      tr.id = 'event-' + e.seq;
      tr.tabIndex = 0;
      tr.appendChild(ui.el('td', localTime(e.time)));
      tr.appendChild(ui.el('td', e.actor || ui.t('audit.anonymous')));
      tr.appendChild(ui.el('td', e.action));
      tr.appendChild(ui.el('td', e.result));
      tr.appendChild(ui.el('td', e.ip));
      tr.appendChild(ui.el('td', e.subject || e.account));
      tr.appendChild(ui.el('td', e.client));
      var open = function () { openEvent(e.seq, tr); };
      tr.addEventListener('click', open);
      tr.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') { open(); } });
      return tr;
    }

    function openEvent(seq, tr) {
      var rows = body.querySelectorAll('tr[aria-selected]');
      for (var i = 0; i < rows.length; i++) { rows[i].removeAttribute('aria-selected'); }
      tr.setAttribute('aria-selected', 'true');
      ui.api('GET', '/api/admin/v1/audit/events/' + encodeURIComponent(seq)).then(function (res) {
        if (!res.ok) { ui.$('audit-status').textContent = ui.errorText(res); return; }
        var dl = ui.$('audit-detail-fields'), e = res.data;
        dl.innerHTML = '';
        var keys = ['seq', 'time', 'actor', 'action', 'result', 'ip', 'user_agent', 'subject', 'detail', 'account', 'client', 'prev_hash', 'hash'];
        for (var k = 0; k < keys.length; k++) {
          var v = keys[k] === 'time' ? localTime(e.time) + ' (' + e.time + ')' : e[keys[k]];
          dl.appendChild(ui.el('dt', ui.t('audit.' + keys[k])));
          dl.appendChild(ui.el('dd', v === '' || v === undefined ? '—' : String(v), /hash$/.test(keys[k]) ? 'hash' : ''));
        }
        ui.$('audit-detail').hidden = false;
      }, function () { ui.$('audit-status').textContent = ui.t('network'); });
    }

    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      query = buildQuery();
      load(true);
    });
    form.addEventListener('reset', function () {
      setTimeout(function () { query = ''; load(true); }, 0);
    });
    more.addEventListener('click', function () { load(false); });

    // The range of the chain section: verification and export.
    function range() {
      var f = ui.$('r-from').value, t = ui.$('r-to').value;
      return { from: f ? parseInt(f, 10) : 0, to: t ? parseInt(t, 10) : 0 };
    }
    function exportLinks() {
      var r = range(), q = '';
      if (r.from) { q += '&from=' + r.from; }
      if (r.to) { q += '&to=' + r.to; }
      ui.$('export-csv').href = '/api/admin/v1/audit/export?format=csv' + q;
      ui.$('export-json').href = '/api/admin/v1/audit/export?format=json' + q;
    }
    ui.$('r-from').addEventListener('input', exportLinks);
    ui.$('r-to').addEventListener('input', exportLinks);

    var verifyBtn = ui.$('audit-verify'), bar = ui.$('verify-progress');
    function outcome(line) {
      bar.hidden = true;
      verifyBtn.disabled = false;
      ui.$('verify-status').textContent = '';
      if (line.ok) {
        var ok = ui.$('verify-intact');
        ok.textContent = line.events ? ui.t('audit.intact', { events: line.events, from: line.from, to: line.to, head: line.head }) : ui.t('audit.intact_empty');
        ok.hidden = false;
        return;
      }
      var broken = ui.$('verify-broken');
      broken.textContent = line.reason === 'error' && line.message ? line.message :
        ui.t('audit.broken', { seq: line.seq, reason: ui.t('audit.reason.' + line.reason) });
      broken.hidden = false;
    }
    function handle(text) {
      if (!text) { return null; }
      var line;
      try { line = JSON.parse(text); } catch (e) { return null; }
      if (line.ok === undefined) {
        bar.max = line.total || 1;
        bar.value = line.checked || 0;
        ui.$('verify-status').textContent = ui.t('audit.verifying', { checked: line.checked, total: line.total });
        return null;
      }
      return line;
    }
    verifyBtn.addEventListener('click', function () {
      ui.$('verify-intact').hidden = true;
      ui.$('verify-broken').hidden = true;
      ui.showError('range-error', '');
      verifyBtn.disabled = true;
      bar.value = 0;
      bar.hidden = false;
      var failed = function (text) {
        bar.hidden = true;
        verifyBtn.disabled = false;
        ui.showError('range-error', text);
      };
      fetch('/api/admin/v1/audit/verify', {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'Accept': 'application/x-ndjson' },
        body: JSON.stringify(range())
      }).then(function (res) {
        if (!res.ok) {
          if (res.status === 401) { location.reload(); return; }
          return res.json().then(function (data) { failed(ui.errorText({ data: data })); }, function () { failed(ui.t('network')); });
        }
        var reader = res.body.getReader(), dec = new TextDecoder(), buf = '', last = null;
        var pump = function () {
          return reader.read().then(function (chunk) {
            if (!chunk.done) { buf += dec.decode(chunk.value, { stream: true }); }
            var lines = buf.split('\n');
            buf = chunk.done ? '' : lines.pop();
            for (var i = 0; i < lines.length; i++) { last = handle(lines[i]) || last; }
            if (chunk.done) {
              if (last) { outcome(last); } else { failed(ui.t('network')); }
              return null;
            }
            return pump();
          });
        };
        return pump();
      }).then(null, function () { failed(ui.t('network')); });
    });

    ui.api('GET', '/api/admin/v1/audit/retention').then(function (res) {
      if (!res.ok) { return; }
      var r = res.data, a = r.anchor || {};
      ui.$('audit-retention').textContent = a.seq ?
        ui.t('audit.retention', { days: r.retention_days, oldest: r.oldest_seq || a.seq + 1, anchor: a.seq, archive: a.archive }) :
        ui.t('audit.retention_none', { days: r.retention_days });
    });
    load(true);
  });
}());
