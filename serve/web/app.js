// shmsnap serve dashboard: follows /events (Server-Sent Events), renders the topic
// table (topic_table.js), the selected topic's decoded value and its plots (plots.js).
// No libraries: plain DOM and canvas.
'use strict';

const token = new URLSearchParams(location.search).get('token');
const withToken = (url) => (token ? url + (url.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token) : url);

let selected = decodeURIComponent(location.hash.slice(1)) || null;
let source = null;
let lastValues = new Map();
let descriptorLoaded = null;  // the topic whose descriptor (units) the plots have
let notes = new Map();  // field path without indices -> {unit, description}, from the descriptor

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
  if (topic === selected && descriptorLoaded === topic) return;
  selected = topic;
  lastValues = new Map();
  notes = new Map();
  location.hash = encodeURIComponent(topic);
  document.querySelector('#fields tbody').replaceChildren();
  Plots.select(topic, null);
  descriptorLoaded = topic;
  // The descriptor gives the fields' units; the history comes with Plots.select.
  fetch(withToken('api/topics/' + encodeURIComponent(topic)))
    .then((response) => (response.ok ? response.json() : null))
    .then((detail) => { if (detail && selected === topic) { Plots.setDescriptor(detail.descriptor); Plots.draw(); } })
    .catch(() => {});
  connect();
  TopicTable.select(topic);
}

function renderTopics(model) {
  const prefix = document.getElementById('prefix');
  prefix.dataset.prefix = model.prefix;
  prefix.textContent = 'prefix ' + model.prefix;
  TopicTable.render(model);
  document.getElementById('no-topics').hidden = model.topics.length > 0;
  if ((!selected || descriptorLoaded !== selected) && model.topics.length > 0) {
    select(selected && model.topics.some((topic) => topic.topic === selected) ? selected : model.topics[0].topic);
  }
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
  Plots.setNotes(notes);
  const fields = [];
  flatten(message.value, '', fields);
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
  Plots.addValue(fields, message.value, Date.now());
}

document.getElementById('plot-window').addEventListener('input', (event) => Plots.setWindow(Number(event.target.value)));
TopicTable.onSelect(select);
connect();
