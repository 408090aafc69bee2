/**
 * The live dashboard: one self-contained HTML page (styles, script and charts inline; nothing is fetched
 * but ./stats), served by the dashboard function. It polls the stats endpoint and redraws the totals, the
 * per-minute charts (inline SVG) and the panel tables.
 */
export const DASHBOARD_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nginx traffic</title>
<style>
  :root { --fg: #1d2330; --muted: #667085; --line: #e4e7ec; --req: #2f6fed; --c4: #e8a317; --c5: #d92d20; --bytes: #12b76a; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); background: #f7f8fa; }
  header { display: flex; align-items: baseline; gap: 16px; padding: 14px 20px; background: #fff; border-bottom: 1px solid var(--line); }
  header h1 { font-size: 18px; margin: 0; }
  #status { color: var(--muted); }
  #status.error { color: var(--c5); }
  main { padding: 16px 20px; display: grid; gap: 16px; }
  .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; }
  .card, section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
  .card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
  .card .value { font-size: 24px; font-weight: 600; font-variant-numeric: tabular-nums; }
  .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
  .panels { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 16px; }
  h2 { font-size: 14px; margin: 0 0 8px; }
  svg { width: 100%; height: 180px; display: block; }
  .legend span { margin-right: 12px; font-size: 12px; color: var(--muted); }
  .legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
  table { width: 100%; border-collapse: collapse; font-size: 13px; }
  td { padding: 3px 4px; border-top: 1px solid var(--line); vertical-align: top; }
  td.key { word-break: break-all; }
  td.hits { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; width: 1%; }
  td.bar { width: 30%; }
  td.bar div { height: 8px; background: var(--req); border-radius: 2px; opacity: .6; }
  .method { color: var(--muted); font-size: 11px; margin-right: 4px; }
  .empty { color: var(--muted); }
</style>
</head>
<body>
<header><h1>nginx traffic</h1><span id="status">loading…</span></header>
<main>
  <div class="cards" id="cards"></div>
  <div class="charts">
    <section><h2>Requests per minute</h2>
      <div class="legend"><span><i style="background:var(--req)"></i>requests</span><span><i style="background:var(--c4)"></i>4xx</span><span><i style="background:var(--c5)"></i>5xx</span></div>
      <svg id="chart-requests" viewBox="0 0 600 180" preserveAspectRatio="none" role="img" aria-label="requests per minute"></svg>
    </section>
    <section><h2>Bandwidth per minute</h2>
      <div class="legend"><span><i style="background:var(--bytes)"></i>bytes</span></div>
      <svg id="chart-bytes" viewBox="0 0 600 180" preserveAspectRatio="none" role="img" aria-label="bytes per minute"></svg>
    </section>
  </div>
  <div class="panels" id="panels"></div>
</main>
<script>
(function () {
  var SVG = 'http://www.w3.org/2000/svg';
  var params = new URLSearchParams(location.search);
  // ?interval=<ms>, kept within 500 ms .. 60 s; anything that is not a number gives the default 2 s.
  var asked = Number(params.get('interval'));
  var every = isFinite(asked) && asked > 0 ? Math.min(60000, Math.max(500, asked)) : 2000;
  var PANELS = [
    ['requests', 'Requested files'], ['static_requests', 'Static requests'], ['not_found', 'Not found URLs'],
    ['hosts', 'Visitor hosts'], ['os', 'Operating systems'], ['browsers', 'Browsers'],
    ['visit_time', 'Time distribution (hour)'], ['referring_sites', 'Referring sites'], ['status_codes', 'HTTP status codes']
  ];
  var CARDS = [
    ['totalRequests', 'Total requests'], ['validRequests', 'Valid requests'], ['failedRequests', 'Failed requests'],
    ['uniqueVisitors', 'Unique visitors'], ['bandwidth', 'Bandwidth']
  ];

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var k in attrs || {}) node.setAttribute(k, attrs[k]);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function svgEl(tag, attrs) {
    var node = document.createElementNS(SVG, tag);
    for (var k in attrs) node.setAttribute(k, attrs[k]);
    return node;
  }
  function num(n) { return Number(n).toLocaleString('en-US'); }
  function bytes(n) {
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(1)) + ' ' + units[i];
  }

  function drawCards(totals) {
    var box = document.getElementById('cards');
    box.textContent = '';
    CARDS.forEach(function (c) {
      var card = el('div', { class: 'card', 'data-total': c[0] });
      card.appendChild(el('div', { class: 'label' }, c[1]));
      card.appendChild(el('div', { class: 'value' }, c[0] === 'bandwidth' ? bytes(totals[c[0]]) : num(totals[c[0]])));
      box.appendChild(card);
    });
  }

  function drawLines(svg, series, names, colours) {
    svg.textContent = '';
    var W = 600, H = 180, L = 40, B = 20, T = 8;
    var max = 1;
    series.forEach(function (p) { names.forEach(function (n) { max = Math.max(max, p[n]); }); });
    [0, 0.5, 1].forEach(function (f) {
      var y = T + (H - T - B) * (1 - f);
      svg.appendChild(svgEl('line', { x1: L, x2: W, y1: y, y2: y, stroke: '#e4e7ec' }));
      var label = svgEl('text', { x: L - 4, y: y + 4, 'text-anchor': 'end', 'font-size': 10, fill: '#667085' });
      label.textContent = names[0] === 'bytes' ? bytes(Math.round(max * f)) : num(Math.round(max * f));
      svg.appendChild(label);
    });
    if (series.length === 0) return;
    var step = series.length > 1 ? (W - L) / (series.length - 1) : 0;
    names.forEach(function (n, i) {
      var points = series.map(function (p, j) {
        var x = L + (series.length > 1 ? j * step : (W - L) / 2);
        var y = T + (H - T - B) * (1 - p[n] / max);
        return x.toFixed(1) + ',' + y.toFixed(1);
      });
      svg.appendChild(svgEl('polyline', { points: points.join(' '), fill: 'none', stroke: colours[i], 'stroke-width': 2, 'data-series': n }));
      if (series.length === 1) {
        var xy = points[0].split(',');
        svg.appendChild(svgEl('circle', { cx: xy[0], cy: xy[1], r: 3, fill: colours[i] }));
      }
    });
    [series[0], series[series.length - 1]].forEach(function (p, i) {
      var t = svgEl('text', { x: i === 0 ? L : W, y: H - 4, 'text-anchor': i === 0 ? 'start' : 'end', 'font-size': 10, fill: '#667085' });
      t.textContent = p.minute.slice(11, 16) + ' UTC';
      svg.appendChild(t);
    });
  }

  function drawPanels(panels) {
    var box = document.getElementById('panels');
    box.textContent = '';
    PANELS.forEach(function (entry) {
      var panel = panels[entry[0]];
      var section = el('section', { 'data-panel': entry[0] });
      section.appendChild(el('h2', {}, entry[1] + ' (' + num(panel.unique) + ')'));
      var table = el('table');
      var max = panel.items.reduce(function (m, i) { return Math.max(m, i.hits); }, 1);
      panel.items.forEach(function (item) {
        var row = el('tr');
        var key = el('td', { class: 'key' });
        if (item.method) key.appendChild(el('span', { class: 'method' }, item.method));
        key.appendChild(document.createTextNode(item.key));
        row.appendChild(key);
        var bar = el('td', { class: 'bar' });
        var fill = el('div');
        fill.style.width = (100 * item.hits / max).toFixed(1) + '%';
        bar.appendChild(fill);
        row.appendChild(bar);
        row.appendChild(el('td', { class: 'hits' }, num(item.hits)));
        table.appendChild(row);
      });
      if (panel.items.length === 0) section.appendChild(el('div', { class: 'empty' }, 'nothing yet'));
      else section.appendChild(table);
      box.appendChild(section);
    });
  }

  var status = document.getElementById('status');
  function refresh() {
    fetch('stats', { cache: 'no-store' })
      .then(function (r) { if (!r.ok) throw new Error('stats answered ' + r.status); return r.json(); })
      .then(function (stats) {
        drawCards(stats.totals);
        drawLines(document.getElementById('chart-requests'), stats.series, ['requests', 'status4xx', 'status5xx'], ['#2f6fed', '#e8a317', '#d92d20']);
        drawLines(document.getElementById('chart-bytes'), stats.series, ['bytes'], ['#12b76a']);
        drawPanels(stats.panels);
        document.body.setAttribute('data-total-requests', String(stats.totals.totalRequests));
        status.className = '';
        status.textContent = 'updated ' + new Date(stats.generatedAt).toLocaleTimeString() + ' · every ' + every / 1000 + ' s';
      })
      .catch(function (err) {
        status.className = 'error';
        status.textContent = 'cannot load stats: ' + err.message;
      })
      .then(function () { setTimeout(refresh, every); });
  }
  refresh();
})();
</script>
</body>
</html>
`;
