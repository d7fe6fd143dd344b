// shmsnap serve dashboard: follows /events (Server-Sent Events) and renders the
// topic list, the selected topic's decoded value and small plots of its numeric
// fields over the last minute. No libraries: plain DOM and canvas.
'use strict';

const token = new URLSearchParams(location.search).get('token');
const withToken = (url) => (token ? url + (url.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token) : url);
const plotWindowMs = 60000;
const maxPlots = 12;

let selected = decodeURIComponent(location.hash.slice(1)) || null;
let source = null;
let history = new Map();  // field path -> [[time ms, number], ...]
let lastValues = new Map();
let notes = new Map();  // field path without indices -> {unit, description}, from the descriptor
let lastTopics = [];

document.getElementById('metrics-link').href = withToken('metrics');
document.getElementById('api-link').href = withToken('api/topics');

function el(tag, text, attributes) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
  return node;
}

function ageText(seconds) {
  if (seconds === null || seconds === undefined) return 'never';
  // The server never sends a negative age, but rounding a tiny one gave "-0 ms".
  if (!(seconds >= 0.0005)) return '< 1 ms';
  if (seconds < 1) return (seconds * 1000).toFixed(0) + ' ms';
  if (seconds < 120) return seconds.toFixed(1) + ' s';
  return (seconds / 60).toFixed(0) + ' min';
}

function rateText(hz) {
  return hz >= 100 ? hz.toFixed(0) + ' Hz' : hz.toFixed(1) + ' Hz';
}

function connect() {
  if (source) source.close();
  const url = '/events' + (selected ? '?topic=' + encodeURIComponent(selected) : '');
  source = new EventSource(withToken(url));
  const badge = document.getElementById('connection');
  source.onopen = () => { badge.textContent = 'connected'; badge.dataset.state = 'connected'; };
  source.onerror = () => { badge.textContent = 'disconnected'; badge.dataset.state = 'disconnected'; };
  source.addEventListener('topics', (event) => renderTopics(JSON.parse(event.data)));
  source.addEventListener('value', (event) => renderValue(JSON.parse(event.data)));
}

function select(topic) {
  if (topic === selected) return;
  selected = topic;
  history = new Map();
  lastValues = new Map();
  notes = new Map();
  history.clear();
  location.hash = encodeURIComponent(topic);
  document.querySelector('#fields tbody').replaceChildren();
  document.getElementById('plots').replaceChildren();
  connect();
  renderTopics({ prefix: document.getElementById('prefix').dataset.prefix, topics: lastTopics });
}

// One row per topic, kept across refreshes and updated in place: a row replaced
// between a press and its release (every --sample-ms) would swallow the click.
const topicRows = new Map();  // topic name -> <tr>

function topicRow(name) {
  let row = topicRows.get(name);
  if (!row) {
    row = el('tr', null, { 'data-topic': name });
    for (let column = 0; column < 10; ++column) row.append(el('td'));
    row.addEventListener('click', () => select(name));
    topicRows.set(name, row);
  }
  return row;
}

function setCell(cell, text, attributes) {
  if (cell.textContent !== String(text)) cell.textContent = String(text);
  for (const [key, value] of Object.entries(attributes || {})) cell.setAttribute(key, value);
}

function renderTopics(model) {
  lastTopics = model.topics;
  const prefix = document.getElementById('prefix');
  prefix.dataset.prefix = model.prefix;
  prefix.textContent = 'prefix ' + model.prefix;
  const body = document.querySelector('#topics tbody');
  const present = new Set();
  model.topics.forEach((topic, index) => {
    present.add(topic.topic);
    const state = topic.stale ? 'stale' : 'live';
    const row = topicRow(topic.topic);
    row.setAttribute('data-state', state);
    row.classList.toggle('selected', topic.topic === selected);
    row.title = topic.problem || '';
    const cells = row.children;
    setCell(cells[0], topic.topic);
    const badge = cells[1].firstElementChild || cells[1].appendChild(el('span', null, { class: 'badge' }));
    setCell(badge, state, { 'data-state': state });
    setCell(cells[2], topic.valid ? topic.schema + ' v' + topic.schema_version : 'invalid region');
    setCell(cells[3], topic.publisher_pid, { class: 'number' });
    setCell(cells[4], topic.epoch, { class: 'number' });
    setCell(cells[5], topic.seq, { class: 'number', 'data-column': 'seq' });
    setCell(cells[6], rateText(topic.publish_rate_hz), { class: 'number' });
    setCell(cells[7], ageText(topic.snapshot_age_seconds), { class: 'number' });
    setCell(cells[8], ageText(topic.heartbeat_age_seconds), { class: 'number' });
    setCell(cells[9], topic.subscribers.length, { class: 'number' });
    if (body.children[index] !== row) body.insertBefore(row, body.children[index] || null);
  });
  for (const [name, row] of topicRows) {
    if (!present.has(name)) {
      row.remove();
      topicRows.delete(name);
    }
  }
  document.getElementById('no-topics').hidden = model.topics.length > 0;
  if (!selected && model.topics.length > 0) select(model.topics[0].topic);
  const current = model.topics.find((topic) => topic.topic === selected);
  document.getElementById('detail').hidden = !current;
  if (current) renderDetail(current);
}

function renderDetail(topic) {
  document.getElementById('detail-title').textContent = topic.topic;
  const badge = document.getElementById('detail-state');
  badge.textContent = topic.stale ? 'stale' : 'live';
  badge.dataset.state = topic.stale ? 'stale' : 'live';
  const rows = topic.subscribers.map((subscriber) => {
    const row = el('tr', null, { 'data-subscriber': subscriber.id });
    row.append(el('td', subscriber.id), el('td', subscriber.pid, { class: 'number' }),
      el('td', subscriber.alive ? 'yes' : 'no'), el('td', subscriber.notified, { class: 'number' }),
      el('td', subscriber.coalesced, { class: 'number' }));
    return row;
  });
  document.querySelector('#subscribers tbody').replaceChildren(...rows);
}

// Scalars by dotted path; an array of scalars stays one line (but short numeric
// arrays also plot element by element).
function flatten(value, path, out) {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, member] of Object.entries(value)) flatten(member, path ? path + '.' + key : key, out);
  } else if (Array.isArray(value) && value.some((element) => element !== null && typeof element === 'object')) {
    value.forEach((element, index) => flatten(element, path + '[' + index + ']', out));
  } else {
    out.push([path, value]);
  }
}

// The descriptor's note for a value path: every element of an array shares its
// field's ("legs[2].x" -> "legs.x"), as SnapshotCodec::field_note_path() has it.
function noteOf(path) {
  return notes.get(path.replace(/\[\d+\]/g, '')) || {};
}

function renderValue(message) {
  if (message.topic !== selected) return;
  document.getElementById('detail-seq').textContent = message.missing ? '(gone)' : 'seq ' + message.seq +
    ', epoch ' + message.epoch + (message.stale ? ', stale' : '');
  if (message.missing || message.value === null || message.value === undefined) return;
  // Descriptor text from outside: only ever set as textContent or an attribute.
  notes = new Map(Object.entries(message.fields || {}));
  const fields = [];
  flatten(message.value, '', fields);
  const now = Date.now();
  const body = document.querySelector('#fields tbody');
  const rows = fields.map(([path, value]) => {
    const text = JSON.stringify(value);
    const cell = el('td', text, { 'data-field': path });
    if (lastValues.has(path) && lastValues.get(path) !== text) cell.classList.add('changed');
    lastValues.set(path, text);
    const note = noteOf(path);
    const row = el('tr');
    row.append(el('td', path, note.description ? { title: note.description } : {}), cell,
      el('td', note.unit || '', { class: 'unit', 'data-unit-of': path }));
    return row;
  });
  body.replaceChildren(...rows);
  if (message.stale) return;
  for (const [path, value] of fields) {
    if (typeof value !== 'number') continue;
    if (!history.has(path) && history.size >= maxPlots) continue;
    const points = history.get(path) || [];
    points.push([now, value]);
    while (points.length && points[0][0] < now - plotWindowMs) points.shift();
    history.set(path, points);
  }
  drawPlots(now);
}

function drawPlots(now) {
  const container = document.getElementById('plots');
  for (const [path, points] of history) {
    let plot = container.querySelector('[data-plot="' + CSS.escape(path) + '"]');
    if (!plot) {
      plot = el('div', null, { class: 'plot', 'data-plot': path });
      const label = el('div', null, { class: 'label' });
      label.append(el('span', path), el('span', ''));
      const canvas = el('canvas', null, { width: 580, height: 140 });
      plot.append(label, canvas);
      container.append(plot);
    }
    const note = noteOf(path);
    const label = plot.querySelector('.label span:first-child');
    label.textContent = note.unit ? path + ' [' + note.unit + ']' : path;
    if (note.description) label.title = note.description;
    const canvas = plot.querySelector('canvas');
    const context = canvas.getContext('2d');
    const width = canvas.width;
    const height = canvas.height;
    context.clearRect(0, 0, width, height);
    if (points.length === 0) continue;
    let low = Infinity;
    let high = -Infinity;
    for (const [, value] of points) { low = Math.min(low, value); high = Math.max(high, value); }
    if (high === low) { high += 1; low -= 1; }
    plot.querySelector('.label span:last-child').textContent =
      points[points.length - 1][1].toPrecision(6) + (note.unit ? ' ' + note.unit : '');
    context.strokeStyle = '#e3e5ea';
    context.beginPath();
    context.moveTo(0, height - 1);
    context.lineTo(width, height - 1);
    context.stroke();
    context.strokeStyle = '#2f5fd0';
    context.lineWidth = 2;
    context.beginPath();
    points.forEach(([time, value], index) => {
      const x = width - ((now - time) / plotWindowMs) * width;
      const y = height - 6 - ((value - low) / (high - low)) * (height - 12);
      if (index === 0) context.moveTo(x, y); else context.lineTo(x, y);
    });
    context.stroke();
  }
}

connect();
