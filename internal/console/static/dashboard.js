/*
 * The dashboard: number tiles and charts of GET /api/admin/v1/dashboard.
 * Charts are SVG built here (no chart library; CSP allows no inline style,
 * so colours are classes of console.css). Each chart carries its numbers
 * as an aria-label and as a table under "show the numbers".
 *
 * Bucket times come in the operators' zone ("2026-12-01T09:00:00+08:00");
 * their labels are cut from that text, never converted to the browser's
 * zone.
 */
(function () {
  'use strict';
  var ui = window.consoleUI;
  var SVG = 'http://www.w3.org/2000/svg';

  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) {
      if (attrs.hasOwnProperty(k)) { e.setAttribute(k, String(attrs[k])); }
    }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function num(n) { return Number(n).toLocaleString(document.documentElement.lang || 'zh-CN'); }

  // label is how a bucket is named: its hour for a day, its date else.
  function label(iso, step) {
    if (step === 'hour') { return ui.t('dashboard.hour', { h: String(parseInt(iso.substr(11, 2), 10)) }); }
    return iso.substr(5, 5);
  }

  // niceMax rounds a chart's top up to 1, 2 or 5 times a power of ten.
  function niceMax(v) {
    if (v <= 4) { return 4; }
    var p = Math.pow(10, Math.floor(Math.log(v) / Math.LN10));
    var steps = [1, 2, 5, 10];
    for (var i = 0; i < steps.length; i++) { if (steps[i] * p >= v) { return steps[i] * p; } }
    return 10 * p;
  }

  function total(counts) {
    var t = 0;
    for (var i = 0; i < counts.length; i++) { t += counts[i]; }
    return t;
  }

  // table lists the numbers of a chart, one row per bucket, under a
  // closed "show the numbers".
  function table(rep, parts) {
    var det = ui.el('details'), tb = ui.el('table', null, 'list'), head = ui.el('tr');
    det.appendChild(ui.el('summary', ui.t('dashboard.table')));
    head.appendChild(ui.el('th', ui.t('dashboard.time')));
    for (var p = 0; p < parts.length; p++) { head.appendChild(ui.el('th', parts[p].label)); }
    var thead = ui.el('thead'), tbody = ui.el('tbody');
    thead.appendChild(head);
    for (var i = 0; i < rep.buckets.length; i++) {
      var tr = ui.el('tr');
      tr.appendChild(ui.el('td', label(rep.buckets[i], rep.step)));
      for (var j = 0; j < parts.length; j++) { tr.appendChild(ui.el('td', num(parts[j].counts[i]))); }
      tbody.appendChild(tr);
    }
    var foot = ui.el('tr');
    foot.appendChild(ui.el('th', ui.t('dashboard.total')));
    for (var q = 0; q < parts.length; q++) { foot.appendChild(ui.el('td', num(total(parts[q].counts)))); }
    tbody.appendChild(foot);
    tb.appendChild(thead);
    tb.appendChild(tbody);
    det.appendChild(tb);
    return det;
  }

  // chart draws parts ({label, cls, counts}) as stacked bars per bucket
  // into the figure fig, with a legend, an aria-label and the table.
  function chart(fig, title, rep, parts) {
    fig.innerHTML = '';
    var W = 720, H = 200, left = 44, bottom = 22, top = 8;
    var n = rep.buckets.length, bw = (W - left) / n;
    var sums = [], max = 0, i, j;
    for (i = 0; i < n; i++) {
      var s = 0;
      for (j = 0; j < parts.length; j++) { s += parts[j].counts[i]; }
      sums.push(s);
      if (s > max) { max = s; }
    }
    var top2 = niceMax(max), scale = (H - bottom - top) / top2;
    var summary = [];
    for (j = 0; j < parts.length; j++) { summary.push(parts[j].label + ' ' + num(total(parts[j].counts))); }
    var aria = ui.t('dashboard.chart_label', { title: title, parts: summary.join(', ') });
    var root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': aria, 'class': 'chart-svg' });
    root.appendChild(svg('title', {}, aria));
    // Grid lines and their values at 0, half and the top.
    var marks = [0, top2 / 2, top2];
    for (i = 0; i < marks.length; i++) {
      var y = H - bottom - marks[i] * scale;
      root.appendChild(svg('line', { x1: left, x2: W, y1: y, y2: y, 'class': 'chart-grid' }));
      root.appendChild(svg('text', { x: left - 6, y: y + 4, 'text-anchor': 'end', 'class': 'chart-axis' }, num(marks[i])));
    }
    var every = rep.step === 'hour' ? 3 : (n > 10 ? 5 : 1);
    for (i = 0; i < n; i++) {
      var x = left + i * bw, base = H - bottom;
      for (j = 0; j < parts.length; j++) {
        var v = parts[j].counts[i];
        if (!v) { continue; }
        var h = v * scale;
        base -= h;
        var r = svg('rect', { x: x + bw * 0.15, y: base, width: bw * 0.7, height: h, 'class': 'chart-bar ' + parts[j].cls });
        r.appendChild(svg('title', {}, label(rep.buckets[i], rep.step) + ' ' + parts[j].label + ' ' + num(v)));
        root.appendChild(r);
      }
      if (i % every === 0) {
        root.appendChild(svg('text', { x: x + bw / 2, y: H - 6, 'text-anchor': 'middle', 'class': 'chart-axis' }, label(rep.buckets[i], rep.step)));
      }
    }
    fig.appendChild(root);
    var legend = ui.el('ul', null, 'chart-legend');
    for (j = 0; j < parts.length; j++) {
      var li = ui.el('li'), sw = svg('svg', { width: 12, height: 12, 'aria-hidden': 'true' });
      sw.appendChild(svg('rect', { width: 12, height: 12, 'class': parts[j].cls }));
      li.appendChild(sw);
      li.appendChild(document.createTextNode(' ' + parts[j].label + ' ' + num(total(parts[j].counts))));
      legend.appendChild(li);
    }
    var cap = ui.el('figcaption');
    cap.appendChild(legend);
    fig.appendChild(cap);
    fig.appendChild(table(rep, parts));
  }

  function series(rep, metric, key) {
    for (var i = 0; i < rep.series.length; i++) {
      var s = rep.series[i];
      if (s.metric === metric && s.key === key) { return s; }
    }
    return { metric: metric, key: key, counts: rep.buckets.map(function () { return 0; }), total: 0 };
  }

  // sumOf adds every series of metric.
  function sumOf(rep, metric) {
    var out = rep.buckets.map(function () { return 0; });
    for (var i = 0; i < rep.series.length; i++) {
      if (rep.series[i].metric !== metric) { continue; }
      for (var j = 0; j < out.length; j++) { out[j] += rep.series[i].counts[j]; }
    }
    return out;
  }

  function tile(list, id, name, value, note) {
    var li = ui.el('li', null, 'tile');
    li.id = 'tile-' + id;
    li.appendChild(ui.el('span', name, 'tile-name'));
    li.appendChild(ui.el('span', value, 'tile-value'));
    if (note) { li.appendChild(ui.el('span', note, 'hint')); }
    list.appendChild(li);
  }

  function yuan(fen) { return ui.t('dashboard.cost_yuan', { yuan: (fen / 100).toFixed(2) }); }

  function ssoTable(box, rep) {
    box.innerHTML = '';
    var rows = [];
    for (var i = 0; i < rep.series.length; i++) {
      if (rep.series[i].metric === 'sso') { rows.push(rep.series[i]); }
    }
    if (!rows.length) { box.appendChild(ui.el('p', ui.t('dashboard.no_sso'), 'hint')); return; }
    rows.sort(function (a, b) { return b.total - a.total || (a.key < b.key ? -1 : 1); });
    var max = rows[0].total || 1;
    var tb = ui.el('table', null, 'list'), head = ui.el('tr'), body = ui.el('tbody');
    tb.id = 'sso-table';
    head.appendChild(ui.el('th', ui.t('dashboard.system')));
    head.appendChild(ui.el('th', ui.t('dashboard.sso')));
    head.appendChild(ui.el('th'));
    var thead = ui.el('thead');
    thead.appendChild(head);
    tb.appendChild(thead);
    for (var j = 0; j < rows.length; j++) {
      var tr = ui.el('tr'), bar = ui.el('td');
      tr.appendChild(ui.el('td', rows[j].key));
      tr.appendChild(ui.el('td', num(rows[j].total)));
      var s = svg('svg', { width: 200, height: 12, 'aria-hidden': 'true', 'class': 'bar-cell' });
      s.appendChild(svg('rect', { width: Math.max(1, 200 * rows[j].total / max), height: 12, 'class': 's-sso' }));
      bar.appendChild(s);
      tr.appendChild(bar);
      body.appendChild(tr);
    }
    tb.appendChild(body);
    box.appendChild(tb);
  }

  function realnameTable(box, data) {
    box.innerHTML = '';
    if (!data.realname.length) {
      box.appendChild(ui.el('p', ui.t('dashboard.no_realname'), 'hint'));
      if (!data.cost_configured) { box.appendChild(ui.el('p', ui.t('dashboard.cost_unset'), 'notice')).id = 'cost-unset'; }
      return;
    }
    var tb = ui.el('table', null, 'list'), head = ui.el('tr'), body = ui.el('tbody'), thead = ui.el('thead');
    tb.id = 'realname-table';
    head.appendChild(ui.el('th', ui.t('dashboard.verifier')));
    head.appendChild(ui.el('th', ui.t('dashboard.checks')));
    head.appendChild(ui.el('th', ui.t('dashboard.cost')));
    thead.appendChild(head);
    tb.appendChild(thead);
    var unset = false;
    for (var i = 0; i < data.realname.length; i++) {
      var v = data.realname[i], tr = ui.el('tr');
      tr.appendChild(ui.el('td', v.verifier));
      tr.appendChild(ui.el('td', num(v.checks)));
      tr.appendChild(ui.el('td', v.cost_known ? yuan(v.cost_fen) : '—'));
      unset = unset || !v.cost_known;
      body.appendChild(tr);
    }
    tb.appendChild(body);
    box.appendChild(tb);
    if (unset || !data.cost_configured) {
      var p = ui.el('p', ui.t('dashboard.cost_unset'), 'notice');
      p.id = 'cost-unset';
      box.appendChild(p);
    }
  }

  function queuesTable(box, queues) {
    box.innerHTML = '';
    if (!queues.length) { box.appendChild(ui.el('p', ui.t('dashboard.no_queues'), 'hint')); return; }
    var tb = ui.el('table', null, 'list'), head = ui.el('tr'), body = ui.el('tbody'), thead = ui.el('thead');
    tb.id = 'queues-table';
    head.appendChild(ui.el('th', ui.t('dashboard.kind')));
    head.appendChild(ui.el('th', ui.t('dashboard.pending')));
    head.appendChild(ui.el('th', ui.t('dashboard.oldest')));
    thead.appendChild(head);
    tb.appendChild(thead);
    for (var i = 0; i < queues.length; i++) {
      var q = queues[i], tr = ui.el('tr'), kindKey = 'kind.' + q.kind, kind = ui.t(kindKey);
      tr.appendChild(ui.el('td', kind === kindKey ? q.kind : kind));
      tr.appendChild(ui.el('td', q.more ? ui.t('dashboard.pending_more', { n: num(q.pending) }) : num(q.pending)));
      tr.appendChild(ui.el('td', q.oldest ? ui.age(q.oldest) : ui.t('dashboard.none_waiting')));
      body.appendChild(tr);
    }
    tb.appendChild(body);
    box.appendChild(tb);
  }

  function show(d) {
    ui.$('dashboard-zone').textContent = ui.t('dashboard.zone', { zone: d.zone });
    var tiles = ui.$('tiles');
    tiles.innerHTML = '';
    var ok = series(d, 'signin', 'ok'), failed = series(d, 'signin', 'failed'), locked = series(d, 'signin', 'locked');
    tile(tiles, 'signin-ok', ui.t('dashboard.signin.ok'), num(ok.total));
    tile(tiles, 'signin-failed', ui.t('dashboard.signin.failed'), num(failed.total));
    tile(tiles, 'signin-locked', ui.t('dashboard.signin.locked'), num(locked.total));
    tile(tiles, 'register', ui.t('dashboard.register'), num(series(d, 'register', '').total));
    tile(tiles, 'sso', ui.t('dashboard.sso'), num(total(sumOf(d, 'sso'))));
    tile(tiles, 'sms', ui.t('dashboard.sms'), num(series(d, 'sms', '').total));
    for (var i = 0; i < d.sms_budget.length; i++) {
      var b = d.sms_budget[i];
      tile(tiles, 'sms-left-' + b.window, ui.t('dashboard.sms_left.' + b.window), num(b.left),
        ui.t('dashboard.sms_left_of', { used: num(b.used), limit: num(b.limit) }));
    }
    var checks = 0, cost = 0, known = d.cost_configured;
    for (var j = 0; j < d.realname.length; j++) {
      checks += d.realname[j].checks;
      cost += d.realname[j].cost_fen;
      known = known && d.realname[j].cost_known;
    }
    tile(tiles, 'realname', ui.t('dashboard.realname'), num(checks));
    tile(tiles, 'cost', ui.t('dashboard.cost'), known ? yuan(cost) : '—', known ? '' : ui.t('dashboard.cost_unset'));
    if (d.sessions) {
      tile(tiles, 'sessions', ui.t('dashboard.sessions'),
        d.sessions.estimated ? ui.t('dashboard.sessions_estimated', { n: num(d.sessions.active) }) : num(d.sessions.active));
    }
    chart(ui.$('chart-signin'), ui.$('chart-signin').previousElementSibling.textContent, d, [
      { label: ui.t('dashboard.signin.ok'), cls: 's-ok', counts: ok.counts },
      { label: ui.t('dashboard.signin.failed'), cls: 's-failed', counts: failed.counts },
      { label: ui.t('dashboard.signin.locked'), cls: 's-locked', counts: locked.counts }
    ]);
    chart(ui.$('chart-register'), ui.$('chart-register').previousElementSibling.textContent, d, [
      { label: ui.t('dashboard.register'), cls: 's-register', counts: series(d, 'register', '').counts }
    ]);
    chart(ui.$('chart-sms'), ui.$('chart-sms').previousElementSibling.textContent, d, [
      { label: ui.t('dashboard.sms'), cls: 's-sms', counts: series(d, 'sms', '').counts }
    ]);
    ssoTable(ui.$('sso'), d);
    realnameTable(ui.$('realname'), d);
    queuesTable(ui.$('queues'), d.queues);
  }

  ui.ready(function () {
    var range = ui.$('range'), seq = 0;
    if (!range) { return; }
    // load shows the range chosen last, whichever answer comes first.
    function load() {
      var mine = ++seq, box = ui.$('dashboard');
      box.setAttribute('aria-busy', 'true');
      ui.$('dashboard-status').textContent = ui.t('dashboard.loading');
      ui.api('GET', '/api/admin/v1/dashboard?range=' + encodeURIComponent(range.value)).then(function (res) {
        if (mine !== seq) { return; }
        if (!res.ok) { ui.$('dashboard-status').textContent = ui.errorText(res); return; }
        show(res.data);
        ui.$('dashboard-status').textContent = '';
        box.setAttribute('aria-busy', 'false');
      }, function () { ui.$('dashboard-status').textContent = ui.t('network'); });
    }
    range.addEventListener('change', load);
    load();
  });
}());
