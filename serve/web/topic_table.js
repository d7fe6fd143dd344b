// The topic table: one row per topic, updated in place every sample; search by name
// or schema, filter by state and schema, sort by any column (click its header, again
// to reverse). The selected row stays pinned in view while the table scrolls.
'use strict';

const TopicTable = (() => {
  // Column: header key, cell text, sort key.
  const columns = [
    { key: 'topic', text: (t) => t.topic, sort: (t) => t.topic },
    { key: 'state', text: (t) => (t.stale ? 'stale' : 'live'), sort: (t) => (t.stale ? 1 : 0) },
    { key: 'schema', text: (t) => (t.valid ? t.schema + ' v' + t.schema_version : 'invalid region'), sort: (t) => t.schema || '' },
    { key: 'pid', text: (t) => t.publisher_pid, sort: (t) => t.publisher_pid, number: true },
    { key: 'epoch', text: (t) => t.epoch, sort: (t) => t.epoch, number: true },
    { key: 'seq', text: (t) => t.seq, sort: (t) => t.seq, number: true },
    { key: 'rate', text: (t) => rateText(t.publish_rate_hz), sort: (t) => t.publish_rate_hz, number: true },
    { key: 'age', text: (t) => ageText(t.snapshot_age_seconds), sort: (t) => t.snapshot_age_seconds ?? Infinity, number: true },
    { key: 'heartbeat', text: (t) => ageText(t.heartbeat_age_seconds), sort: (t) => t.heartbeat_age_seconds ?? Infinity, number: true },
    { key: 'subscribers', text: (t) => t.subscribers.length, sort: (t) => t.subscribers.length, number: true },
  ];
  const rows = new Map();  // topic name -> <tr>, kept across samples (a row replaced mid-click swallows it)
  let sortKey = 'topic';
  let descending = false;
  let lastModel = { prefix: '', topics: [] };
  let onSelect = () => {};
  let selected = null;

  const search = document.getElementById('topic-search');
  const stateFilter = document.getElementById('state-filter');
  const schemaFilter = document.getElementById('schema-filter');

  function row(name) {
    let tr = rows.get(name);
    if (!tr) {
      tr = el('tr', null, { 'data-topic': name });
      for (let column = 0; column < columns.length; ++column) tr.append(el('td'));
      tr.addEventListener('click', () => onSelect(name));
      rows.set(name, tr);
    }
    return tr;
  }

  function setCell(cell, text, attributes) {
    if (cell.textContent !== String(text)) cell.textContent = String(text);
    for (const [key, value] of Object.entries(attributes || {})) cell.setAttribute(key, value);
  }

  function matches(topic) {
    const words = search.value.trim().toLowerCase();
    if (words && !(topic.topic.toLowerCase().includes(words) || (topic.schema || '').toLowerCase().includes(words))) return false;
    if (stateFilter.value && (topic.stale ? 'stale' : 'live') !== stateFilter.value) return false;
    if (schemaFilter.value && topic.schema !== schemaFilter.value) return false;
    return true;
  }

  function compare(left, right) {
    const column = columns.find((candidate) => candidate.key === sortKey);
    const a = column.sort(left);
    const b = column.sort(right);
    const order = a < b ? -1 : a > b ? 1 : left.topic < right.topic ? -1 : left.topic > right.topic ? 1 : 0;
    return descending ? -order : order;
  }

  function updateSchemaChoices(topics) {
    const schemas = [...new Set(topics.map((topic) => topic.schema).filter(Boolean))].sort();
    const present = [...schemaFilter.options].slice(1).map((option) => option.value);
    if (present.join('\n') === schemas.join('\n')) return;
    const chosen = schemaFilter.value;
    schemaFilter.replaceChildren(el('option', 'every schema', { value: '' }), ...schemas.map((schema) => el('option', schema, { value: schema })));
    schemaFilter.value = schemas.includes(chosen) ? chosen : '';
  }

  // Hundreds of rows cost the page more than their numbers are worth ten times a
  // second: above 100 topics the table redraws at most twice a second.
  let lastRenderMs = 0;
  let deferred = null;
  function render(model) {
    lastModel = model;
    const now = performance.now();
    if (model.topics.length > 100 && now - lastRenderMs < 500) {
      if (!deferred) deferred = setTimeout(() => { deferred = null; draw(lastModel); }, 500 - (now - lastRenderMs));
      return;
    }
    draw(model);
  }

  function draw(model) {
    lastRenderMs = performance.now();
    updateSchemaChoices(model.topics);
    const body = document.querySelector('#topics tbody');
    const shown = model.topics.filter(matches).sort(compare);
    const present = new Set(model.topics.map((topic) => topic.topic));
    shown.forEach((topic, index) => {
      const state = topic.stale ? 'stale' : 'live';
      const tr = row(topic.topic);
      tr.setAttribute('data-state', state);
      tr.classList.toggle('selected', topic.topic === selected);
      tr.title = topic.problem || '';
      columns.forEach((column, cellIndex) => {
        const cell = tr.children[cellIndex];
        if (column.key === 'state') {
          const badge = cell.firstElementChild || cell.appendChild(el('span', null, { class: 'badge' }));
          setCell(badge, state, { 'data-state': state });
        } else {
          setCell(cell, column.text(topic), column.number ? { class: 'number', 'data-column': column.key } : { 'data-column': column.key });
        }
      });
      if (body.children[index] !== tr) body.insertBefore(tr, body.children[index] || null);
    });
    // Rows filtered out or gone leave the table; gone ones are forgotten.
    while (body.children.length > shown.length) body.lastElementChild.remove();
    for (const name of [...rows.keys()]) if (!present.has(name)) rows.delete(name);
    document.getElementById('topic-count').textContent =
      shown.length === model.topics.length ? model.topics.length + ' topics' : shown.length + ' of ' + model.topics.length + ' topics';
    for (const th of document.querySelectorAll('#topics th[data-sort]')) {
      th.dataset.order = th.dataset.sort === sortKey ? (descending ? 'descending' : 'ascending') : '';
    }
  }

  function select(name) {
    selected = name;
    draw(lastModel);
    const tr = rows.get(name);
    if (tr) tr.scrollIntoView({ block: 'nearest' });
  }

  for (const th of document.querySelectorAll('#topics th[data-sort]')) {
    th.addEventListener('click', () => {
      descending = sortKey === th.dataset.sort ? !descending : false;
      sortKey = th.dataset.sort;
      draw(lastModel);
    });
  }
  for (const control of [search, stateFilter, schemaFilter]) control.addEventListener('input', () => draw(lastModel));

  return { render, select, onSelect: (handler) => { onSelect = handler; } };
})();
