// The EfNotify operators' dashboard: fills in the page served by MapEfNotifyDashboard. No inline script or style and
// nothing from elsewhere, so it runs under a strict Content Security Policy. Text from the server goes in as text.
const api = document.body.dataset.api;
const svgNs = 'http://www.w3.org/2000/svg';
const $ = id => document.getElementById(id);

function duration(seconds) {
  if (seconds < 1) return '0 s';
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function svg(name, attributes, parent) {
  const element = document.createElementNS(svgNs, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  parent?.appendChild(element);
  return element;
}

function label(parent, x, y, text, anchor = 'start') {
  svg('text', { x, y, 'text-anchor': anchor, class: 'axis' }, parent).textContent = text;
}

// Bars: notifications published per interval (left scale); line: their mean latency (right scale).
function drawChart(activity) {
  const width = 720, height = 200, left = 44, right = 56, top = 12, bottom = 24;
  const plotWidth = width - left - right, plotHeight = height - top - bottom;
  const intervals = activity.intervals;
  const maxCount = Math.max(1, ...intervals.map(i => i.published));
  const maxLatency = Math.max(1, ...intervals.map(i => i.averageLatencyMs ?? 0));
  const step = plotWidth / intervals.length;
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'published and latency', id: 'activity-chart' });
  svg('line', { x1: left, y1: top + plotHeight, x2: left + plotWidth, y2: top + plotHeight, class: 'baseline' }, chart);
  intervals.forEach((interval, i) => {
    if (interval.published === 0) return;
    const h = (interval.published / maxCount) * plotHeight;
    const bar = svg('rect', { x: left + i * step + 1, y: top + plotHeight - h, width: Math.max(1, step - 2), height: h, class: 'bar' }, chart);
    svg('title', {}, bar).textContent =
      `${new Date(interval.start).toLocaleTimeString()}: ${interval.published} published, mean ${Math.round(interval.averageLatencyMs)} ms, max ${Math.round(interval.maxLatencyMs)} ms`;
  });
  const points = intervals
    .map((interval, i) => interval.averageLatencyMs == null ? null
      : `${(left + i * step + step / 2).toFixed(1)},${(top + plotHeight - (interval.averageLatencyMs / maxLatency) * plotHeight).toFixed(1)}`)
    .filter(p => p !== null);
  if (points.length > 0) svg('polyline', { points: points.join(' '), class: 'latency' }, chart);
  for (const point of points) {
    const [cx, cy] = point.split(',');
    svg('circle', { cx, cy, r: 3, class: 'latency-point' }, chart);
  }
  label(chart, left - 6, top + 10, String(maxCount), 'end');
  label(chart, left - 6, top + plotHeight, '0', 'end');
  label(chart, left + plotWidth + 6, top + 10, `${Math.round(maxLatency)} ms`);
  label(chart, left, height - 6, `-${Math.round(intervals.length * activity.intervalSeconds / 60)} min`);
  label(chart, left + plotWidth, height - 6, 'now', 'end');
  label(chart, left + plotWidth / 2, height - 6, `bars: published per ${activity.intervalSeconds} s · line: mean latency`, 'middle');
  $('chart').replaceChildren(chart);
}

function cell(row, text) {
  const td = document.createElement('td');
  td.textContent = text;
  row.appendChild(td);
  return td;
}

function drawDeadLetters(letters) {
  const rows = letters.map(letter => {
    const row = document.createElement('tr');
    row.dataset.id = String(letter.id);
    cell(row, String(letter.id));
    cell(row, new Date(letter.createdAt).toLocaleString());
    cell(row, String(letter.attempts));
    const events = letter.events.map(e => `${e.event} → ${e.channel}`).join(', ');
    cell(row, `${letter.count}: ${events}${letter.count > letter.events.length ? ', …' : ''}`);
    cell(row, letter.reason ?? '').className = 'reason';
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'replay';
    button.textContent = 'Replay';
    button.addEventListener('click', () => replay({ ids: [letter.id] }));
    cell(row, '').appendChild(button);
    return row;
  });
  $('dead-letters').tBodies[0].replaceChildren(...rows);
  $('replay-all').disabled = letters.length === 0;
}

async function getJson(path) {
  const response = await fetch(api + path, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

async function replay(body) {
  const response = await fetch(api + '/dead-letters/replay', {
    method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  $('message').textContent = response.ok ? `Replayed ${(await response.json()).replayed}.` : `Replay failed: HTTP ${response.status}.`;
  await refresh();
}

async function refresh() {
  try {
    const [activity, letters] = await Promise.all([getJson('/activity'), getJson('/dead-letters?take=100')]);
    $('pending').textContent = activity.pending.toLocaleString();
    $('oldest').textContent = activity.pending === 0 ? '–' : duration(activity.oldestPendingAgeSeconds);
    $('dead').textContent = activity.deadLetters.toLocaleString();
    $('published').textContent = activity.intervals.reduce((sum, i) => sum + i.published, 0).toLocaleString();
    $('dispatcher').textContent = activity.dispatcherRunsHere
      ? 'Rate and latency as the dispatcher of this process published.'
      : 'No dispatcher runs in this process: rate and latency show only what another instance publishes elsewhere.';
    $('updated').textContent = `updated ${new Date(activity.measuredAt).toLocaleTimeString()}`;
    drawChart(activity);
    drawDeadLetters(letters);
    document.body.dataset.ready = 'true';
  } catch (error) {
    $('updated').textContent = `update failed: ${error.message}`;
  }
}

$('replay-all').addEventListener('click', () => replay({ all: true }));
await refresh();
setInterval(refresh, 5000);
