// pgrelay dashboard page: plain JS, no libraries. The cluster arrives by server-sent events
// (falling back to polling), the charts' history by /api/history?since=…, handover by /api/handover.
// The admin token lives only in a local variable of the one request that uses it.
'use strict';

const WINDOW_MS = 30 * 60 * 1000;
const COLORS = ['#2456c9', '#d9480f', '#2b8a3e', '#ae3ec9', '#0b7285', '#e67700', '#5c940d', '#c2255c'];
const $ = (id) => document.getElementById(id);

let cluster = null;         // last /api/cluster body
let readOnly = true;        // until /api/config says otherwise
let lastMessageAt = 0;
const series = {};          // agent key -> {t:[], lagBytes:[], lagSeconds:[], eventsPerSecond:[]}
let leadership = [];
let handoverTarget = null;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined) continue;
    if (k === 'class') e.className = v; else if (k.startsWith('data-')) e.setAttribute(k, v); else e[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function bytes(n) {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0, v = Number(n);
  while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i === 0 ? v.toFixed(0) : v.toFixed(1)) + ' ' + units[i];
}
function num(v, digits) {
  if (v === null || v === undefined) return '—';
  return Number(v).toLocaleString(undefined, { maximumFractionDigits: digits === undefined ? 1 : digits });
}
function text(v) { return v === null || v === undefined || v === '' ? '—' : String(v); }
function ago(iso) {
  if (!iso) return 'never';
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + ' s ago';
  if (s < 3600) return Math.floor(s / 60) + ' min ago';
  return Math.floor(s / 3600) + ' h ago';
}
function duration(s) {
  if (s === null || s === undefined) return '—';
  if (s < 120) return s + ' s';
  if (s < 7200) return Math.floor(s / 60) + ' min';
  return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
}
function keyOf(a) { return a.agent || a.url; }
function colorOf(key) {
  const keys = (cluster ? cluster.agents.map(keyOf) : Object.keys(series)).slice().sort();
  const i = keys.indexOf(key);
  return COLORS[(i < 0 ? keys.length : i) % COLORS.length];
}
function facts(pairs) {
  const dl = el('dl', { class: 'facts' });
  for (const [k, v] of pairs) dl.append(el('dt', {}, k), el('dd', {}, v));
  return dl;
}

// ---- cluster: agents, slot, alerts ----

function renderCluster() {
  if (!cluster) return;
  $('cluster').textContent = cluster.cluster || '';
  $('leader').textContent = cluster.leader || 'none';
  const cards = $('agents');
  cards.replaceChildren(...cluster.agents.map(renderAgent));
  renderSlot();
  renderSnapshot();
  renderAlerts();
  renderLegend();
}

function renderAgent(a) {
  const s = a.status || {};
  const role = s.role || 'unknown';
  const card = el('article', { class: 'agent', 'data-agent': keyOf(a), 'data-role': a.reachable ? role : 'unknown',
                               'data-reachable': String(a.reachable) });
  const title = el('h3', {}, el('span', { class: 'name' }, keyOf(a)),
    el('span', { class: 'badge role' + (role === 'leader' && a.reachable ? ' leader' : '') }, a.reachable ? role : 'was ' + role),
    el('span', { class: 'badge reach ' + (a.reachable ? 'ok' : 'bad') }, a.reachable ? 'reachable' : 'unreachable'));
  const lag = s.lag || {};
  const pos = s.positions || {};
  card.append(title, facts([
    ['epoch', text(s.epoch)],
    ['last contact', a.lastContact ? ago(a.lastContact) : 'never'],
    ['lag', bytes(lag.bytes) + ' · ' + (lag.seconds === null || lag.seconds === undefined ? '—' : num(lag.seconds, 2) + ' s')],
    ['flushed', text(pos.flushed)],
    ['committed', text(pos.committed)],
    ['uptime', duration(s.uptimeSeconds)],
    ['version', text(s.version)],
    ['address', a.url],
  ]));
  const alerts = Array.isArray(s.alerts) ? s.alerts.length : 0;
  if (alerts > 0) card.querySelector('h3').append(el('span', { class: 'badge warn' }, alerts + ' alert' + (alerts > 1 ? 's' : '')));
  if (!readOnly && a.reachable && role === 'standby' && a.agent) {
    card.append(el('button', { type: 'button', 'data-handover': a.agent, onclick: () => openHandover(a.agent) },
      'Hand leadership here'));
  }
  return card;
}

function renderSlot() {
  const leader = cluster.agents.find((a) => a.reachable && a.agent === cluster.leader);
  const source = leader || cluster.agents.find((a) => a.reachable && a.status && a.status.slot);
  const box = $('slot');
  if (!source) { box.replaceChildren(el('dd', {}, 'no agent answers')); return; }
  const slot = source.status.slot || {};
  const d = facts([
    ['slot', text(slot.name)],
    ['active', slot.active === null || slot.active === undefined ? 'no slot' : (slot.active ? 'yes' : 'no')],
    ['active pid', text(slot.activePid)],
    ['confirmed flush LSN', text(slot.confirmedFlushLsn)],
    ['restart LSN', text(slot.restartLsn)],
    ['wal_status', text(slot.walStatus)],
    ['retained WAL', bytes(slot.retainedBytes)],
    ['as seen by', keyOf(source)],
  ]);
  box.replaceChildren(...d.childNodes);
}

// The leader's snapshot (GET /status "snapshot"): one progress bar per table, hidden when none ran.
function renderSnapshot() {
  const leader = cluster.agents.find((a) => a.reachable && a.agent === cluster.leader);
  const snap = leader && leader.status ? leader.status.snapshot : null;
  $('snapshot-panel').hidden = !snap;
  if (!snap) return;
  $('snapshot').replaceChildren(...snap.tables.map((t) => {
    const estimate = t.estimatedRows > 0 ? t.estimatedRows : null;
    const done = t.state === 'done';
    const max = done ? Math.max(t.rowsSent, 1) : (estimate ? Math.max(estimate, t.rowsSent) : null);
    const bar = el('progress', {});
    bar.setAttribute('aria-label', 'snapshot of ' + t.table);
    if (max !== null) { bar.max = max; bar.value = done ? max : t.rowsSent; }
    const pct = done ? 100 : (estimate ? Math.min(100, Math.floor(t.rowsSent * 100 / estimate)) : null);
    const label = t.rowsSent.toLocaleString() + ' rows' + (estimate && !done ? ' of about ' + estimate.toLocaleString() : '')
      + (pct === null ? '' : ' (' + pct + ' %)');
    return el('li', { 'data-table': t.table, 'data-state': t.state }, el('strong', {}, t.table), ' ',
      el('span', { class: 'badge' + (done ? ' ok' : '') }, t.state), bar, el('span', { class: 'rows' }, label),
      t.note ? el('span', { class: 'note' }, ' ' + t.note) : '');
  }));
}

function renderAlerts() {
  const items = [];
  for (const a of cluster.agents) {
    for (const al of ((a.status && a.status.alerts) || [])) {
      items.push(el('li', {}, el('span', { class: 'badge ' + (al.severity === 'critical' ? 'bad' : 'warn') }, text(al.severity)),
        ' ', el('strong', {}, text(al.name)), ' on ', keyOf(a), ': ', text(al.summary),
        al.since ? ' (since ' + new Date(al.since).toLocaleTimeString() + ')' : ''));
    }
    if (!a.reachable) {
      items.push(el('li', {}, el('span', { class: 'badge bad' }, 'dashboard'), ' ', el('strong', {}, 'AgentUnreachable'),
        ' ' + keyOf(a) + ' has not answered since ' + (a.lastContact ? new Date(a.lastContact).toLocaleTimeString() : 'the dashboard started')));
    }
  }
  if (cluster.agents.length && !cluster.leader) {
    items.push(el('li', {}, el('span', { class: 'badge bad' }, 'dashboard'), ' ', el('strong', {}, 'NoLeader'), ' no agent leads right now'));
  }
  $('alerts').replaceChildren(...(items.length ? items : [el('li', { class: 'none' }, 'none')]));
}

function renderLegend() {
  $('legend').replaceChildren(...cluster.agents.map((a) => {
    const s = el('span', {}, keyOf(a));
    s.style.setProperty('--c', colorOf(keyOf(a)));
    return s;
  }));
}

// ---- history and charts ----

async function fetchHistory() {
  const known = Object.values(series).map((h) => h.t.length ? h.t[h.t.length - 1] : 0);
  const since = known.length ? Math.min(...known) : 0;
  try {
    const r = await fetch('/api/history?since=' + since, { cache: 'no-store' });
    if (!r.ok) return;
    const body = await r.json();
    const horizon = body.now - WINDOW_MS;
    for (const a of body.agents) {
      const key = a.agent || a.url;
      const h = series[key] || (series[key] = { t: [], lagBytes: [], lagSeconds: [], eventsPerSecond: [] });
      const last = h.t.length ? h.t[h.t.length - 1] : 0;
      a.t.forEach((t, i) => {
        if (t <= last) return;
        h.t.push(t); h.lagBytes.push(a.lagBytes[i]); h.lagSeconds.push(a.lagSeconds[i]); h.eventsPerSecond.push(a.eventsPerSecond[i]);
      });
      let drop = 0;
      while (drop < h.t.length && h.t[drop] < horizon) drop++;
      if (drop) for (const f of ['t', 'lagBytes', 'lagSeconds', 'eventsPerSecond']) h[f].splice(0, drop);
    }
    leadership = body.leadership;
    renderCharts(body.now);
    renderTimeline();
  } catch (e) {
    // the connection badge already says so
  }
}

function svg(tag, attrs) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function niceMax(v) {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function drawChart(node, field, format, now) {
  const W = 420, H = 180, L = 58, R = 6, T = 8, B = 22;
  let start = now, max = 0, points = 0;
  for (const h of Object.values(series)) {
    if (h.t.length) start = Math.min(start, h.t[0]);
    for (const v of h[field]) if (v !== null && v > max) max = v;
  }
  start = Math.min(start, now - 60 * 1000);
  max = niceMax(max);
  const x = (t) => L + (t - start) / (now - start) * (W - L - R);
  const y = (v) => T + (1 - v / max) * (H - T - B);
  const parts = [];
  for (const f of [0, 0.5, 1]) {
    parts.push(svg('line', { class: 'grid', x1: L, x2: W - R, y1: y(max * f), y2: y(max * f) }));
    const label = svg('text', { x: L - 6, y: y(max * f) + 4, 'text-anchor': 'end' });
    label.textContent = format(max * f);
    parts.push(label);
  }
  const minutes = Math.round((now - start) / 60000);
  const left = svg('text', { x: L, y: H - 6 }); left.textContent = minutes >= 1 ? '−' + minutes + ' min' : '−1 min';
  const right = svg('text', { x: W - R, y: H - 6, 'text-anchor': 'end' }); right.textContent = 'now';
  parts.push(left, right);
  for (const [key, h] of Object.entries(series)) {
    let d = '', pen = false;
    h.t.forEach((t, i) => {
      const v = h[field][i];
      if (v === null || v === undefined) { pen = false; return; }
      d += (pen ? 'L' : 'M') + x(t).toFixed(1) + ' ' + y(v).toFixed(1) + ' ';
      pen = true;
      points++;
    });
    if (d) parts.push(svg('path', { d, stroke: colorOf(key), 'data-agent': key }));
  }
  node.replaceChildren(...parts);
  node.setAttribute('data-points', String(points));
}

function renderCharts(now) {
  drawChart($('chart-lag-bytes'), 'lagBytes', bytes, now);
  drawChart($('chart-lag-seconds'), 'lagSeconds', (v) => num(v, 2) + ' s', now);
  drawChart($('chart-events'), 'eventsPerSecond', (v) => num(v, 0), now);
}

function renderTimeline() {
  const items = leadership.slice().reverse().map((c) => el('li', { 'data-leader': c.leader },
    el('time', { dateTime: c.at }, new Date(c.at).toLocaleTimeString()), ' ',
    el('strong', {}, c.leader), ' leads, epoch ' + c.epoch + (c.previous ? ' (after ' + c.previous + ')' : ' (first seen)')));
  $('timeline').replaceChildren(...(items.length ? items : [el('li', {}, 'no leader seen yet')]));
}

// ---- handover ----

function openHandover(agent) {
  handoverTarget = agent;
  $('handover-target').textContent = agent;
  $('handover-target-2').textContent = agent;
  $('token-input').value = '';
  $('handover-dialog').showModal();
  $('token-input').focus();
}

async function submitHandover(event) {
  event.preventDefault();
  const input = $('token-input');
  const token = input.value;
  input.value = '';
  $('handover-dialog').close();
  const to = handoverTarget;
  const result = $('handover-result');
  // The admin token leaves the browser only over HTTPS or to this machine (loopback).
  if (location.protocol !== 'https:' && !['127.0.0.1', 'localhost', '[::1]'].includes(location.hostname)) {
    result.className = 'bad';
    result.textContent = 'Not sent: this page is plain HTTP on ' + location.hostname
        + ', where the admin token could be read on the way; serve the dashboard with --tls-cert and --tls-key.';
    return;
  }
  result.className = '';
  result.textContent = 'Asking the leader to hand over to ' + to + '…';
  try {
    const r = await fetch('/api/handover', {
      method: 'POST', cache: 'no-store', credentials: 'omit',
      headers: { 'Content-Type': 'application/json', 'Authorization': 'Bearer ' + token },
      body: JSON.stringify({ to }),
    });
    const body = await r.json().catch(() => ({}));
    if (r.status === 202) {
      result.className = 'ok';
      result.textContent = 'Handover to ' + to + ' accepted; leadership moves in a moment.';
    } else {
      result.className = 'bad';
      result.textContent = 'Handover refused (' + r.status + '): ' + (body.error || 'no reason given');
    }
  } catch (e) {
    result.className = 'bad';
    result.textContent = 'Handover failed: the dashboard did not answer.';
  }
}

// ---- wiring ----

function setConnection(ok) {
  const c = $('conn');
  c.textContent = ok ? 'live' : 'dashboard unreachable';
  c.className = 'badge' + (ok ? '' : ' bad');
}

function onCluster(body) {
  cluster = body;
  lastMessageAt = Date.now();
  setConnection(true);
  renderCluster();
}

async function poll() {
  try {
    const r = await fetch('/api/cluster', { cache: 'no-store' });
    if (r.ok) onCluster(await r.json());
  } catch (e) {
    setConnection(false);
  }
}

async function start() {
  try {
    const r = await fetch('/api/config', { cache: 'no-store' });
    readOnly = (await r.json()).readOnly;
  } catch (e) {
    readOnly = true;
  }
  $('mode-badge').hidden = !readOnly;
  $('handover-form').addEventListener('submit', submitHandover);
  $('handover-cancel').addEventListener('click', () => { $('token-input').value = ''; $('handover-dialog').close(); });
  if (window.EventSource) {
    const events = new EventSource('/api/events');
    events.addEventListener('cluster', (e) => onCluster(JSON.parse(e.data)));
    events.onerror = () => setConnection(false);
  }
  await poll();
  await fetchHistory();
  setInterval(() => { if (Date.now() - lastMessageAt > 3000) poll(); else renderCluster(); }, 1000);
  setInterval(fetchHistory, 2000);
}

document.addEventListener('DOMContentLoaded', start);
