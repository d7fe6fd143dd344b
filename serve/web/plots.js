// The selected topic's plots: a time plot per numeric field, seeded from the history
// the server kept (/api/topics/T/history) and extended by live values, with a time
// axis, a value scale, the field's unit, a selectable window and a crosshair
// read-out; and a bar view per numeric array (an order book's levels, a matrix).
// Plain canvas, no libraries.
'use strict';

const Plots = (() => {
  const maxPlots = 16;     // the server keeps at most 16 fields per topic
  const maxBars = 6;
  const margin = { left: 132, right: 10, top: 8, bottom: 22 };
  const colors = { axis: '#9aa1ad', grid: '#eef0f3', line: '#2f5fd0', band: 'rgba(47, 95, 208, 0.18)', cross: '#b42318' };
  let topic = null;
  let windowSeconds = 60;
  let bucketed = false;     // the window is answered in 5-second buckets: [t, mean, min, max]
  let series = new Map();   // field -> [[wall ms, value(, min, max)]...], oldest first
  let units = new Map();    // field -> unit, from the schema descriptor
  let arrays = new Map();   // field -> latest numeric array
  let refreshTimer = null;
  let requestNumber = 0;

  function timeText(ms, withMillis) {
    const date = new Date(ms);
    const pad = (n, width) => String(n).padStart(width || 2, '0');
    const text = pad(date.getHours()) + ':' + pad(date.getMinutes()) + ':' + pad(date.getSeconds());
    return withMillis ? text + '.' + pad(date.getMilliseconds(), 3) : text;
  }

  function valueText(value, unit) {
    if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
    const magnitude = Math.abs(value);
    const text = magnitude !== 0 && (magnitude >= 1e6 || magnitude < 1e-3) ? value.toExponential(3)
      : Number(value.toPrecision(6)).toString();
    return unit ? text + ' ' + unit : text;
  }

  // Units by dotted field path, from the descriptor's optional `unit` keys.
  function unitsOf(descriptor) {
    const found = new Map();
    const walk = (fields, path) => {
      for (const field of fields || []) {
        const name = path ? path + '.' + field.name : field.name;
        if (typeof field.unit === 'string' && field.unit) found.set(name, field.unit);
        if (field.struct && Array.isArray(field.struct.fields)) walk(field.struct.fields, name);
      }
    };
    try {
      walk((typeof descriptor === 'string' ? JSON.parse(descriptor) : descriptor).fields, '');
    } catch (error) {
      // No descriptor (or one the server could not read): plots without units.
    }
    return found;
  }

  function unitOf(field) {
    // An array element ("levels[3].price") takes its field's unit.
    return units.get(field) || units.get(field.replace(/\[\d+\]/g, '')) || '';
  }

  function container() { return document.getElementById('plots'); }

  async function loadHistory() {
    if (!topic) return;
    const number = ++requestNumber;
    const wanted = topic;
    try {
      const response = await fetch(withToken('api/topics/' + encodeURIComponent(wanted) + '/history?window=' + windowSeconds));
      if (!response.ok || number !== requestNumber || wanted !== topic) return;
      const history = await response.json();
      bucketed = history.resolution === 'bucket';
      const fresh = new Map();
      for (const field of history.fields) fresh.set(field.field, field.points);
      // Live points newer than the history's last one are kept (fine windows only).
      if (!bucketed) {
        for (const [field, points] of series) {
          const loaded = fresh.get(field);
          if (!loaded) continue;
          const last = loaded.length ? loaded[loaded.length - 1][0] : -Infinity;
          for (const point of points) if (point[0] > last) loaded.push(point);
        }
      }
      series = fresh;
      draw();
    } catch (error) {
      // The server went away: the live points keep the plots going.
    }
  }

  function select(name, descriptor) {
    topic = name;
    series = new Map();
    arrays = new Map();
    units = unitsOf(descriptor);
    container().replaceChildren();
    document.getElementById('bars').replaceChildren();
    loadHistory();
    clearInterval(refreshTimer);
    // Bucketed windows are refreshed from the server; fine ones follow live values.
    refreshTimer = setInterval(() => { if (bucketed) loadHistory(); }, 5000);
  }

  function setDescriptor(descriptor) { units = unitsOf(descriptor); }

  // The notes a value message carries (path -> {unit, description}) override the descriptor's.
  function setNotes(notes) {
    for (const [path, note] of notes) if (note && typeof note.unit === 'string' && note.unit) units.set(path, note.unit);
  }

  function setWindow(seconds) {
    windowSeconds = seconds;
    loadHistory();
  }

  // Numeric arrays of a value by path, a matrix as one array (row-major).
  function numericArrays(value, path, out) {
    if (Array.isArray(value)) {
      const numbers = value.flat(Infinity);
      if (numbers.length > 0 && numbers.every((element) => typeof element === 'number')) {
        out.push([path, numbers]);
      } else {
        value.forEach((element, index) => numericArrays(element, path + '[' + index + ']', out));
      }
    } else if (value !== null && typeof value === 'object') {
      for (const [key, member] of Object.entries(value)) numericArrays(member, path ? path + '.' + key : key, out);
    }
  }

  // Live values: scalars extend the fine plots; numeric arrays replace their bars.
  function addValue(fields, value, nowMs) {
    const found = [];
    numericArrays(value, '', found);
    for (const [path, numbers] of found) if (arrays.has(path) || arrays.size < maxBars) arrays.set(path, numbers);
    for (const [path, scalar] of fields) {
      const number = typeof scalar === 'boolean' ? (scalar ? 1 : 0) : scalar;
      if (typeof number !== 'number' || bucketed) continue;
      if (!series.has(path) && series.size >= maxPlots) continue;
      const points = series.get(path) || [];
      points.push([nowMs, number]);
      series.set(path, points);
    }
    draw();
  }

  function plotElement(field, kind) {
    const key = kind + ':' + field;
    const parent = kind === 'bars' ? document.getElementById('bars') : container();
    let plot = parent.querySelector('[data-plot="' + CSS.escape(key) + '"]');
    if (plot) return plot;
    plot = el('div', null, { class: 'plot', 'data-plot': key, 'data-field': field });
    const label = el('div', null, { class: 'label' });
    label.append(el('span', field, { class: 'name' }), el('span', '', { class: 'unit' }), el('span', '', { class: 'readout' }));
    const canvas = el('canvas', null, { width: 680, height: 220 });
    plot.append(label, canvas);
    if (kind === 'time') {
      canvas.addEventListener('mousemove', (event) => {
        const box = canvas.getBoundingClientRect();
        plot.dataset.cursor = String((event.clientX - box.left) * (canvas.width / box.width));
        drawTime(plot, field, Date.now());
      });
      canvas.addEventListener('mouseleave', () => {
        delete plot.dataset.cursor;
        drawTime(plot, field, Date.now());
      });
    }
    parent.append(plot);
    return plot;
  }

  // Round steps for the time axis (seconds) and the value scale.
  function timeStep(spanMs) {
    for (const seconds of [1, 2, 5, 10, 15, 30, 60, 120, 300, 600]) if (spanMs / (seconds * 1000) <= 4) return seconds * 1000;
    return 900000;
  }

  // A tick label with as many decimals as the step needs (1796460590, 0.25, 1.5e-7).
  function tickText(value, step) {
    const magnitude = Math.abs(value);
    if (step >= 1e-4 && magnitude < 1e12) {
      const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step))));
      return value.toFixed(step >= 1 ? 0 : decimals);
    }
    return value.toExponential(2);
  }

  function valueStep(span) {
    const raw = span / 4;
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const factor of [1, 2, 2.5, 5, 10]) if (raw <= factor * power) return factor * power;
    return 10 * power;
  }

  function drawTime(plot, field, nowMs) {
    const points = series.get(field) || [];
    const unit = unitOf(field);
    const canvas = plot.querySelector('canvas');
    const context = canvas.getContext('2d');
    const width = canvas.width;
    const height = canvas.height;
    const spanMs = windowSeconds * 1000;
    const startMs = nowMs - spanMs;
    while (points.length && points[0][0] < startMs - 5000) points.shift();
    const inside = points.filter((point) => point[0] >= startMs && point[1] !== null);
    context.clearRect(0, 0, width, height);
    context.font = '18px system-ui, sans-serif';
    plot.querySelector('.unit').textContent = unit ? '[' + unit + ']' : '';
    let low = Infinity;
    let high = -Infinity;
    for (const point of inside) {
      low = Math.min(low, bucketed ? point[2] : point[1]);
      high = Math.max(high, bucketed ? point[3] : point[1]);
    }
    if (!Number.isFinite(low)) { low = 0; high = 1; }
    if (high === low) { high += Math.abs(high) * 0.01 || 1; low -= Math.abs(low) * 0.01 || 1; }
    const plotWidth = width - margin.left - margin.right;
    const plotHeight = height - margin.top - margin.bottom;
    const x = (ms) => margin.left + ((ms - startMs) / spanMs) * plotWidth;
    const y = (value) => margin.top + plotHeight - ((value - low) / (high - low)) * plotHeight;

    // Value scale: round steps, labelled with the unit.
    context.fillStyle = colors.axis;
    context.strokeStyle = colors.grid;
    context.lineWidth = 1;
    context.textAlign = 'right';
    context.textBaseline = 'middle';
    const step = valueStep(high - low);
    for (let tick = Math.ceil(low / step) * step; tick <= high; tick += step) {
      context.beginPath();
      context.moveTo(margin.left, y(tick));
      context.lineTo(width - margin.right, y(tick));
      context.stroke();
      context.fillText(tickText(tick, step), margin.left - 6, y(tick));
    }
    // Time axis: wall-clock labels at round seconds.
    context.textAlign = 'center';
    context.textBaseline = 'top';
    const every = timeStep(spanMs);
    for (let tick = Math.ceil(startMs / every) * every; tick <= nowMs; tick += every) {
      context.beginPath();
      context.moveTo(x(tick), margin.top);
      context.lineTo(x(tick), height - margin.bottom);
      context.stroke();
      context.fillText(timeText(tick), Math.min(Math.max(x(tick), margin.left + 40), width - 40), height - margin.bottom + 3);
    }
    context.strokeStyle = colors.axis;
    context.strokeRect(margin.left, margin.top, plotWidth, plotHeight);

    if (bucketed) {  // the min..max band under the mean
      context.fillStyle = colors.band;
      for (const point of inside) {
        const left = x(point[0] - 2500);
        context.fillRect(left, y(point[3]), Math.max(1, x(point[0] + 2500) - left), Math.max(1, y(point[2]) - y(point[3])));
      }
    }
    context.strokeStyle = colors.line;
    context.lineWidth = 2;
    context.beginPath();
    inside.forEach((point, index) => {
      if (index === 0) context.moveTo(x(point[0]), y(point[1])); else context.lineTo(x(point[0]), y(point[1]));
    });
    context.stroke();

    const readout = plot.querySelector('.readout');
    const cursor = plot.dataset.cursor === undefined ? null : Number(plot.dataset.cursor);
    if (cursor !== null && cursor >= margin.left && inside.length > 0) {
      const at = startMs + ((cursor - margin.left) / plotWidth) * spanMs;
      let nearest = inside[0];
      for (const point of inside) if (Math.abs(point[0] - at) < Math.abs(nearest[0] - at)) nearest = point;
      context.strokeStyle = colors.cross;
      context.lineWidth = 1;
      context.beginPath();
      context.moveTo(x(nearest[0]), margin.top);
      context.lineTo(x(nearest[0]), height - margin.bottom);
      context.stroke();
      readout.textContent = timeText(nearest[0], true) + '  ' + valueText(nearest[1], unit) +
        (bucketed ? ' (min ' + valueText(nearest[2], '') + ', max ' + valueText(nearest[3], '') + ')' : '');
      plot.dataset.readout = readout.textContent;
    } else {
      const last = inside.length ? inside[inside.length - 1][1] : null;
      readout.textContent = valueText(last, unit);
      delete plot.dataset.readout;
    }
    plot.dataset.points = String(inside.length);
    plot.dataset.oldest = inside.length ? String(inside[0][0]) : '';
  }

  function drawBars(plot, field, numbers) {
    const unit = unitOf(field);
    const canvas = plot.querySelector('canvas');
    const context = canvas.getContext('2d');
    const width = canvas.width;
    const height = canvas.height;
    context.clearRect(0, 0, width, height);
    context.font = '18px system-ui, sans-serif';
    plot.querySelector('.unit').textContent = unit ? '[' + unit + ']' : '';
    const low = Math.min(0, ...numbers);
    const high = Math.max(0, ...numbers) || 1;
    const plotWidth = width - margin.left - margin.right;
    const plotHeight = height - margin.top - margin.bottom;
    const y = (value) => margin.top + plotHeight - ((value - low) / (high - low || 1)) * plotHeight;
    context.fillStyle = colors.axis;
    context.textAlign = 'right';
    context.textBaseline = 'middle';
    context.textBaseline = 'top';
    context.fillText(valueText(high, ''), margin.left - 6, y(high));
    context.textBaseline = 'bottom';
    context.fillText(valueText(low, ''), margin.left - 6, y(low));
    context.strokeStyle = colors.axis;
    context.strokeRect(margin.left, margin.top, plotWidth, plotHeight);
    const barWidth = plotWidth / numbers.length;
    context.fillStyle = colors.line;
    numbers.forEach((value, index) => {
      const top = Math.min(y(value), y(0));
      context.fillRect(margin.left + index * barWidth + 1, top, Math.max(1, barWidth - 2), Math.max(1, Math.abs(y(value) - y(0))));
    });
    context.fillStyle = colors.axis;
    context.textAlign = 'center';
    context.textBaseline = 'top';
    const labelEvery = Math.ceil(numbers.length / 10);
    for (let index = 0; index < numbers.length; index += labelEvery) {
      context.fillText(String(index), margin.left + (index + 0.5) * barWidth, height - margin.bottom + 3);
    }
    plot.querySelector('.readout').textContent = numbers.length + ' values';
    plot.dataset.points = String(numbers.length);
  }

  function draw() {
    const now = Date.now();
    for (const field of series.keys()) drawTime(plotElement(field, 'time'), field, now);
    for (const [field, numbers] of arrays) drawBars(plotElement(field, 'bars'), field, numbers);
  }

  return { select, setDescriptor, setNotes, setWindow, addValue, draw, unitOf, valueText };
})();
