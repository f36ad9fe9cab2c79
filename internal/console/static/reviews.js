(function () {
  'use strict';
  var ui = window.consoleUI;
  ui.ready(function () {
    var body = ui.$('reviews-body');
    if (!body) { return; }
    var kind = ui.$('kind'), state = ui.$('state'), more = ui.$('reviews-more');
    var next = '';

    function kindLabel(k) {
      var opts = kind.options;
      for (var i = 0; i < opts.length; i++) { if (opts[i].value === k) { return opts[i].textContent; } }
      return k;
    }

    function load(reset) {
      if (reset) { next = ''; body.innerHTML = ''; }
      var q = '?state=' + encodeURIComponent(state.value) + '&kind=' + encodeURIComponent(kind.value);
      if (next) { q += '&after=' + encodeURIComponent(next); }
      more.disabled = true;
      ui.api('GET', '/api/admin/v1/reviews' + q).then(function (res) {
        if (!res.ok) { ui.$('reviews-status').textContent = ui.errorText(res); return; }
        var items = res.data.items || [];
        for (var i = 0; i < items.length; i++) {
          var it = items[i], tr = document.createElement('tr');
          tr.id = 'review-' + it.id;
          tr.appendChild(ui.el('td', it.reference));
          tr.appendChild(ui.el('td', kindLabel(it.kind)));
          tr.appendChild(ui.el('td', it.subject));
          tr.appendChild(ui.el('td', ui.age(it.created_at)));
          var td = document.createElement('td'), a = ui.el('a', ui.t('view'));
          a.href = '/console/reviews/' + encodeURIComponent(it.id);
          // The item page shows this masked summary until the item is opened.
          try { sessionStorage.setItem('review:' + it.id, JSON.stringify(it)); } catch (e) { /* private mode */ }
          td.appendChild(a);
          tr.appendChild(td);
          body.appendChild(tr);
        }
        next = res.data.next || '';
        more.hidden = !next;
        more.disabled = false;
        ui.$('reviews-empty').hidden = body.children.length > 0;
        ui.$('reviews-status').textContent = '';
      }, function () { ui.$('reviews-status').textContent = ui.t('network'); });
    }

    kind.addEventListener('change', function () { load(true); });
    state.addEventListener('change', function () { load(true); });
    more.addEventListener('click', function () { load(false); });
    load(true);
  });
}());
