// drbook serve: live updates of the runs list and of a run's page, by
// server-sent events. Every value from a journal is put into the page as
// text (textContent), never as markup.
(function () {
  'use strict';
  var stream = document.body.dataset.stream;
  if (!stream || !window.EventSource) { return; }

  function el(tag, text, attrs) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (attrs) {
      Object.keys(attrs).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    }
    return e;
  }
  function byId(id) { return document.getElementById(id); }
  function setText(id, text) { var e = byId(id); if (e) { e.textContent = text || ''; } }
  function show(id, on) { var e = byId(id); if (e) { e.hidden = !on; } }

  var live = byId('live');
  var es = new EventSource(stream);
  es.onopen = function () { live.textContent = live.dataset.sayUp; live.className = 'live on'; };
  es.onerror = function () { live.textContent = live.dataset.sayDown; live.className = 'live off'; };
  es.addEventListener('reset', function () { es.close(); window.location.reload(); });

  // The list page.
  es.addEventListener('runs', function (e) {
    var v = JSON.parse(e.data);
    var box = byId('groups');
    var d = box.dataset;
    var heads = [d.hRun, d.hRunbook, d.hSite, d.hWhere, d.hState, d.hStart, d.hDuration, d.hVerdict];
    if (v.fleet) { heads.push(d.hFleet); }
    var groups = document.createDocumentFragment();
    (v.groups || []).forEach(function (g) {
      var sec = el('section', null, { 'class': 'group' });
      if (g.name) { sec.appendChild(el('h2', g.name)); }
      var table = el('table', null, { 'class': 'runs' });
      var tr = el('tr');
      heads.forEach(function (h) { tr.appendChild(el('th', h)); });
      table.appendChild(el('thead')).appendChild(tr);
      var body = el('tbody');
      g.runs.forEach(function (r) {
        var row = el('tr', null, { 'data-key': r.key, 'data-verdict': r.verdict_code, 'class': 'verdict-' + r.verdict_code + (r.running ? ' running' : '') });
        var a = el('a', r.key, { href: r.url });
        row.appendChild(el('td')).appendChild(a);
        var t = el('td', r.title);
        t.appendChild(el('br'));
        t.appendChild(el('small', r.runbook));
        row.appendChild(t);
        [r.site, r.where, r.state, r.start, r.duration].forEach(function (x) { row.appendChild(el('td', x)); });
        row.appendChild(el('td', r.verdict, { 'class': 'verdict' }));
        if (v.fleet) { row.appendChild(el('td', r.fleet)); }
        body.appendChild(row);
      });
      table.appendChild(body);
      sec.appendChild(table);
      groups.appendChild(sec);
    });
    box.replaceChildren(groups);
    show('no-runs', v.empty);
  });

  // A run's page.
  var journal = byId('journal');
  var maxLines = 1000;
  es.addEventListener('line', function (e) {
    var l = JSON.parse(e.data);
    if (!journal || journal.querySelector('li[data-n="' + Number(l.n) + '"]')) { return; }
    var li = el('li', null, { value: l.n, 'data-n': l.n, 'class': 'line type-' + l.type + (l.bad ? ' bad' : '') });
    li.appendChild(el('span', l.time, { 'class': 't' }));
    li.appendChild(document.createTextNode(' '));
    li.appendChild(el('span', l.type, { 'class': 'ty' }));
    li.appendChild(document.createTextNode(' '));
    li.appendChild(el('span', l.text, { 'class': 'x' }));
    journal.appendChild(li);
    while (journal.children.length > maxLines) { journal.removeChild(journal.firstElementChild); }
    var c = byId('line-count');
    if (c) { c.textContent = c.dataset.format.replace('%d', l.n); }
  });

  var lastFinished = -1;
  var lastRunning = null;
  var reloadPending = false;
  function reloadReport() {
    var f = byId('report');
    if (!f || reloadPending) { return; }
    reloadPending = true;
    window.setTimeout(function () { reloadPending = false; f.src = f.getAttribute('src'); }, 1000);
  }

  es.addEventListener('state', function (e) {
    var v = JSON.parse(e.data);
    setText('title', v.title);
    setText('runbook', v.runbook);
    setText('run-id', v.run_id);
    setText('site', v.site);
    setText('where', v.where);
    setText('operator', v.operator);
    setText('start', v.start);
    setText('duration', v.duration);
    setText('last-line', v.last_line);
    setText('state', v.state);
    byId('state').dataset.running = v.running;
    var verdict = byId('verdict');
    verdict.textContent = v.verdict;
    verdict.dataset.code = v.verdict_code;
    verdict.className = 'verdict-' + v.verdict_code;
    setText('not-verified', v.not_verified_text);
    show('not-verified', v.not_verified);
    setText('problem', v.problem);
    show('problem', !!v.problem);
    setText('verdict-why', v.verdict_why);
    show('verdict-why', !!v.verdict_why);
    setText('rto', v.rto);
    byId('rto-tick').dataset.since = v.rto_since || '';
    tick();

    var finished = 0;
    var body = el('tbody');
    v.steps.forEach(function (s) {
      if (s.state !== 'running' && s.state !== 'not-run') { finished++; }
      var tr = el('tr', null, { 'data-step': s.id, 'data-state': s.state, 'class': 'state-' + s.state });
      [s.id, s.name, s.kind].forEach(function (x) { tr.appendChild(el('td', x)); });
      tr.appendChild(el('td', s.state_text, { 'class': 'state' }));
      [s.start, s.end, s.duration, s.planned, s.attempts].forEach(function (x) { tr.appendChild(el('td', x)); });
      tr.appendChild(el('td', s.error || '', { 'class': 'error' }));
      body.appendChild(tr);
    });
    var steps = byId('steps');
    steps.replaceChild(body, steps.tBodies[0]);

    var mons = el('tbody');
    v.monitors.forEach(function (m) {
      var tr = el('tr', null, { 'data-monitor': m.name, 'data-state': m.state, 'class': 'monitor-' + m.state });
      [m.name, m.state_text, m.since, m.outages, m.downtime].forEach(function (x) { tr.appendChild(el('td', x)); });
      mons.appendChild(tr);
    });
    var mt = byId('monitors');
    mt.replaceChild(mons, mt.tBodies[0]);
    show('monitors', v.monitors.length > 0);
    show('no-monitors', v.monitors.length === 0);

    var ev = document.createDocumentFragment();
    var open = {};
    byId('evidence').querySelectorAll('details[open] > summary').forEach(function (s) { open[s.textContent] = true; });
    v.evidence.forEach(function (x) {
      var d = el('details');
      if (open[x.heading]) { d.open = true; }
      d.appendChild(el('summary', x.heading));
      d.appendChild(el('pre', x.text));
      ev.appendChild(d);
    });
    byId('evidence').replaceChildren(ev);
    show('no-evidence', v.evidence.length === 0);

    if ((lastFinished >= 0 && finished !== lastFinished) || (lastRunning !== null && lastRunning !== v.running)) { reloadReport(); }
    lastFinished = finished;
    lastRunning = v.running;
  });

  // The RTO clock ticks between updates while it runs (h:mm:ss since it
  // started, by this browser's clock).
  function tick() {
    var t = byId('rto-tick');
    if (!t) { return; }
    var since = t.dataset.since ? Date.parse(t.dataset.since) : NaN;
    if (isNaN(since)) { t.textContent = ''; return; }
    var s = Math.max(0, Math.floor((Date.now() - since) / 1000));
    var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, sec = s % 60;
    t.textContent = '⏱ ' + h + ':' + (m < 10 ? '0' : '') + m + ':' + (sec < 10 ? '0' : '') + sec;
  }
  if (byId('rto-tick')) { tick(); window.setInterval(tick, 1000); }
}());
