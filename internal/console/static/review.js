(function () {
  'use strict';
  var ui = window.consoleUI;
  ui.ready(function () {
    var sec = ui.$('review'), id = sec.getAttribute('data-id');
    var base = '/api/admin/v1/reviews/' + encodeURIComponent(id);
    var open = ui.$('review-open');
    open.disabled = false;

    function pair(dl, label, value) {
      dl.appendChild(ui.el('dt', label));
      dl.appendChild(ui.el('dd', value));
    }

    function showItem(it) {
      var dl = ui.$('review-item');
      dl.innerHTML = '';
      pair(dl, ui.t('reference'), it.reference);
      pair(dl, ui.t('kind'), ui.t('kind.' + it.kind));
      pair(dl, ui.t('state'), ui.t('state.' + it.state));
      pair(dl, ui.t('created'), new Date(it.created_at).toLocaleString());
      if (it.reason) { pair(dl, ui.t('reason'), it.reason); }
      var form = ui.$('decision-form');
      if (form) { form.hidden = it.state !== 'pending'; }
      if (it.state !== 'pending') {
        var done = ui.$('review-decided');
        done.textContent = ui.t('decided.' + it.state);
        done.hidden = false;
      }
    }

    function showFiles(files) {
      var box = ui.$('review-files');
      box.innerHTML = '';
      if (!files.length) { box.appendChild(ui.el('p', ui.t('no_files'))); return; }
      for (var i = 0; i < files.length; i++) {
        var f = files[i], url = base + '/files/' + encodeURIComponent(f.id), fig = document.createElement('figure');
        if (f.content_type === 'image/jpeg' || f.content_type === 'image/png') {
          var img = document.createElement('img');
          img.src = url;
          img.alt = f.label_text || f.label;
          img.className = 'upload';
          fig.appendChild(img);
        } else {
          var a = ui.el('a', ui.t('open_file'));
          a.href = url;
          a.target = '_blank';
          a.rel = 'noopener';
          fig.appendChild(a);
        }
        fig.appendChild(ui.el('figcaption', f.label_text || f.label));
        box.appendChild(fig);
      }
    }

    // The masked summary the queue showed, until the item is opened.
    var summary = null;
    try { summary = JSON.parse(sessionStorage.getItem('review:' + id) || 'null'); } catch (e) { summary = null; }
    if (summary) {
      var dl = ui.$('review-summary');
      pair(dl, ui.t('reference'), summary.reference);
      pair(dl, ui.t('kind'), ui.t('kind.' + summary.kind));
      pair(dl, ui.t('subject'), summary.subject);
      pair(dl, ui.t('state'), ui.t('state.' + summary.state));
      dl.hidden = false;
    }

    open.addEventListener('click', function () {
      open.disabled = true;
      ui.showError('review-error', '');
      ui.api('GET', base).then(function (res) {
        if (!res.ok) { ui.showError('review-error', ui.errorText(res)); open.disabled = false; return; }
        var fields = ui.$('review-fields');
        fields.innerHTML = '';
        for (var i = 0; i < res.data.fields.length; i++) {
          pair(fields, res.data.fields[i].label_text || res.data.fields[i].label, res.data.fields[i].value);
        }
        showItem(res.data.item);
        showFiles(res.data.files);
        ui.$('review-closed').hidden = true;
        ui.$('review-opened').hidden = false;
      }, function () { ui.showError('review-error', ui.t('network')); open.disabled = false; });
    });

    function decide(approve) {
      var form = ui.$('decision-form');
      ui.showError('form-error', '');
      ui.$('approve').disabled = ui.$('reject').disabled = true;
      ui.api('POST', base + '/decision', { approve: approve, reason: form.reason.value }).then(function (res) {
        ui.$('approve').disabled = ui.$('reject').disabled = false;
        if (!res.ok) { ui.showError('form-error', ui.errorText(res)); return; }
        showItem(res.data);
      }, function () {
        ui.$('approve').disabled = ui.$('reject').disabled = false;
        ui.showError('form-error', ui.t('network'));
      });
    }
    if (ui.$('approve')) {
      ui.$('approve').addEventListener('click', function () { decide(true); });
      ui.$('reject').addEventListener('click', function () { decide(false); });
    }
  });
}());
