// megacluster planner: the page. It computes no figure: every number and chart comes from the
// server's API (/api/stream, /api/knobs, /api/validate, …), which calls the same pipeline and
// report as `megacluster run`. The page only moves text and draws what it is given.
'use strict';

const $ = (s, root = document) => root.querySelector(s);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const k of kids) e.append(k);
  return e;
};

// Sections in report order, and the one main chart of each.
const SECTIONS = [
  { key: 'plan', title: 'Plan', chart: 'Capital cost by category', none: '' },
  { key: 'train', title: 'Training step', chart: 'Step time by phase', none: 'no [job] in this scenario: no training step' },
  { key: 'reliability', title: 'Reliability', chart: 'Goodput (ETTR) over replicas', none: '' },
  { key: 'power', title: 'Power', chart: 'Facility power over four steps', none: '' },
  { key: 'multisite', title: 'Multi-site', chart: 'Efficiency loss against capacity per link', none: 'one site: no multi-site section (pick a multi-site preset)' },
  { key: 'programme', title: 'Campus over time', chart: 'GPUs online over the programme', none: 'no phases or [programme] in this scenario: no campus timeline' },
];

const state = {
  examples: [], catalog: {}, toml: '', file: 'scenario.toml', preset: null, knobs: null,
  sections: {}, generation: 0, controller: null, clientId: Math.random().toString(36).slice(2, 12),
  knobChain: Promise.resolve(),
};

function setState(s) { document.body.dataset.state = s; }

// ---------- formatting of knob values (inputs the user sets, not model figures) ----------
const int = v => Math.round(v).toLocaleString('en-US');
const sig = (v, n) => Number(v.toPrecision(n));
const mw = w => `${sig(w / 1e6, 3).toLocaleString('en-US')} MW`;

// ---------- API ----------
async function api(path, body, opts = {}) {
  const r = await fetch(path, { method: body === undefined ? 'GET' : 'POST', body, ...opts });
  const type = r.headers.get('content-type') || '';
  const data = type.includes('json') ? await r.json() : await r.text();
  return { ok: r.ok, status: r.status, data };
}
const q = file => `?file=${encodeURIComponent(file)}`;

// ---------- knobs ----------
function logKnob(lo, hi) {
  const steps = 1000;
  return {
    min: 0, max: steps, step: 1,
    toPos: v => Math.round(Math.log(v / lo) / Math.log(hi / lo) * steps),
    fromPos: p => lo * Math.pow(hi / lo, p / steps),
  };
}
function linKnob(lo, hi, step) {
  return { min: lo, max: hi, step, toPos: v => v, fromPos: p => Number(p) };
}

function knobDefs() {
  const c = state.catalog;
  return [
    { id: 'gpus', label: 'GPUs installed (first hall)', ...logKnob(1024, 1048576),
      get: k => k.gpus, round: v => Math.max(1024, Math.round(v / 1024) * 1024),
      fmt: v => `${int(v)} GPUs`, set: v => [{ knob: 'gpus', value: v }], when: k => k.gpus != null },
    { id: 'job_gpus', label: 'GPUs in the job', ...logKnob(1024, 1048576),
      get: k => k.job_gpus, round: v => Math.max(1024, Math.round(v / 1024) * 1024),
      fmt: v => `${int(v)} GPUs`, set: v => [{ knob: 'job_gpus', value: v }], when: k => k.has_job,
      why: 'no [job]' },
    { id: 'system', label: 'GPU system (first hall)', options: c.system || [], get: k => k.system,
      set: v => [{ knob: 'system', value: v }], when: k => k.system != null },
    { id: 'grid', label: 'Grid connection (first site)', ...logKnob(10e6, 5e9),
      get: k => k.grid_w, round: v => sig(v, 2), fmt: v => (v == null ? 'none' : mw(v)),
      set: v => [{ knob: 'grid_w', value: v }], when: () => true },
    { id: 'battery', label: 'Site battery power (0: none)', ...linKnob(0, 1000e6, 10e6),
      get: k => k.battery_w || 0, round: v => v, fmt: v => (v > 0 ? mw(v) : 'none'),
      set: v => [{ knob: 'battery', value: { w: v, wh: v * batteryHours() } }], when: () => true },
    { id: 'battery_h', label: 'Battery duration', options: ['1', '2', '4', '8'],
      get: k => String(k.battery_w ? sig(k.battery_wh / k.battery_w, 2) : 4),
      fmtOpt: o => `${o} h`, set: h => {
        const w = state.knobs.battery_w || 0;
        return w > 0 ? [{ knob: 'battery', value: { w, wh: w * Number(h) } }] : [];
      }, when: () => true },
    { id: 'cooling', label: 'Cooling (first site)', options: c.cooling || [], get: k => k.cooling,
      set: v => [{ knob: 'cooling', value: v }], when: k => k.cooling != null },
    { id: 'model', label: 'Model', options: c.model || [], get: k => k.model,
      set: v => [{ knob: 'model', value: v }], when: k => k.has_job, why: 'no [job]' },
    { id: 'tokens', label: 'Training tokens', ...logKnob(0.1e12, 100e12),
      get: k => k.tokens, round: v => sig(v, 2), fmt: v => `${sig(v / 1e12, 3)}T tokens`,
      set: v => [{ knob: 'tokens', value: v }], when: k => k.has_job, why: 'no [job]' },
    { id: 'link', label: 'Capacity per link (every link)', ...logKnob(0.1e12, 1000e12),
      get: k => k.link_bits_per_s, round: v => sig(v, 2), fmt: v => `${sig(v / 1e12, 3)} Tbit/s`,
      set: v => [{ knob: 'link_bits_per_s', value: v }], when: k => k.links > 0, why: 'no [[link]]' },
    { id: 'distance', label: 'Fiber route per link (every link)', ...logKnob(10e3, 5000e3),
      get: k => k.link_m, round: v => sig(v, 2), fmt: v => `${int(v / 1e3)} km`,
      set: v => [{ knob: 'link_m', value: v }], when: k => k.links > 0, why: 'no [[link]]' },
    { id: 'strategy', label: 'Multi-site strategy', options: ['dp', 'pipeline', 'diloco', 'streaming-diloco'],
      get: k => k.strategy || 'dp', set: v => [{ knob: 'strategy', value: v }],
      when: k => k.sites > 1 && k.has_job, why: 'one site' },
    { id: 'checkpoint', label: 'Checkpoint interval (0: Young/Daly)', ...linKnob(0, 240, 1),
      get: k => (k.checkpoint_s ? k.checkpoint_s / 60 : 0), round: v => v,
      fmt: v => (v > 0 ? `${v} min` : 'auto (Young/Daly)'),
      set: v => [{ knob: 'checkpoint_s', value: v > 0 ? v * 60 : null }], when: k => k.has_job, why: 'no [job]' },
    { id: 'floor', label: 'Mitigation: GPU power floor (0: none)', ...linKnob(0, 100, 5),
      get: k => (k.gpu_floor_fraction || 0) * 100, round: v => v, fmt: v => (v > 0 ? `${v} % of TDP` : 'none'),
      set: v => [{ knob: 'gpu_floor_fraction', value: v / 100 }], when: () => true },
  ];
}

function batteryHours() {
  const s = $('#knob-battery_h');
  return s ? Number(s.value) : 4;
}

let defs = [];
function renderKnobs() {
  defs = knobDefs();
  const list = $('#knob-list');
  list.replaceChildren();
  for (const d of defs) {
    const out = el('output', { id: `out-${d.id}` });
    const lab = el('label', { htmlFor: `knob-${d.id}` }, el('span', { text: d.label }), out);
    let input;
    if (d.options) {
      input = el('select', { id: `knob-${d.id}` });
      for (const o of d.options) input.append(el('option', { value: o, text: d.fmtOpt ? d.fmtOpt(o) : o }));
      input.addEventListener('change', () => knobMoved(d, input.value));
    } else {
      input = el('input', { type: 'range', id: `knob-${d.id}`, min: d.min, max: d.max, step: d.step });
      input.addEventListener('input', () => {
        const v = d.round(d.fromPos(Number(input.value)));
        out.value = d.fmt(v);
        knobMoved(d, v);
      });
    }
    list.append(el('div', { class: 'knob', 'data-knob': d.id }, lab, input));
  }
  showKnobValues();
}

function showKnobValues() {
  const k = state.knobs;
  if (!k) return;
  for (const d of defs) {
    const box = $(`[data-knob="${d.id}"]`);
    const input = $(`#knob-${d.id}`);
    const out = $(`#out-${d.id}`);
    const on = d.when(k);
    box.classList.toggle('off', !on);
    input.disabled = !on;
    const v = on ? d.get(k) : null;
    if (d.options) {
      if (v != null && !d.options.includes(v)) input.append(el('option', { value: v, text: v }));
      if (v != null) input.value = v;
      out.value = on ? '' : `(${d.why || 'n/a'})`;
    } else if (v != null) {
      input.value = Math.min(d.max, Math.max(d.min, d.toPos(v)));
      out.value = d.fmt(v);
    } else {
      out.value = on ? d.fmt(null) : `(${d.why || 'n/a'})`;
    }
  }
}

let knobTimer = null;
function knobMoved(d, v) {
  clearTimeout(knobTimer);
  knobTimer = setTimeout(() => {
    const set = d.set(v);
    if (!set.length) return;
    state.knobChain = state.knobChain.then(() => applyKnobs(set));
  }, 40);
}

async function applyKnobs(set) {
  const r = await api(`/api/knobs${q(state.file)}`, JSON.stringify({ toml: state.toml, set }),
    { headers: { 'content-type': 'application/json' } });
  if (r.ok) {
    state.toml = r.data.toml;
    state.knobs = r.data.knobs;
    state.preset = null;
    setEditor(state.toml);
    clearError();
    updateHash();
    compute();
  } else {
    if (r.data.toml) setEditor(r.data.toml);
    showError(r.data.error);
  }
}

// ---------- editor ----------
const editor = () => $('#editor');
function setEditor(text) {
  if (editor().value !== text) editor().value = text;
  drawGutter();
}
function drawGutter(bad) {
  const n = editor().value.split('\n').length;
  const g = $('#gutter');
  g.replaceChildren();
  for (let i = 1; i <= n; i++) {
    g.append(i === bad ? el('span', { class: 'bad', text: String(i) }) : String(i), '\n');
  }
  g.scrollTop = editor().scrollTop;
}
function lineHeight() {
  return parseFloat(getComputedStyle(editor()).lineHeight) || 18;
}
function placeMark() {
  const m = $('#error-mark');
  const line = Number(m.dataset.line || 0);
  if (!line) return;
  m.style.top = `${6 + (line - 1) * lineHeight() - editor().scrollTop}px`;
}
function showError(err) {
  const box = $('#error');
  box.hidden = false;
  box.textContent = `error: ${err.text || err.message}`;
  box.dataset.line = err.line || '';
  box.dataset.field = err.field || '';
  const m = $('#error-mark');
  if (err.line) {
    m.hidden = false;
    m.dataset.line = err.line;
    m.title = err.text;
    placeMark();
  } else {
    m.hidden = true;
    m.dataset.line = '';
  }
  drawGutter(err.line || undefined);
  setStatus('failed', 'the scenario has a problem (below, at its line); the figures are the last valid scenario\'s');
  setState('error');
}
function clearError() {
  $('#error').hidden = true;
  $('#error-mark').hidden = true;
  $('#error-mark').dataset.line = '';
  drawGutter();
}

let editTimer = null;
function edited() {
  drawGutter();
  clearTimeout(editTimer);
  editTimer = setTimeout(async () => {
    const text = editor().value;
    const r = await api(`/api/validate${q(state.file)}`, text);
    if (editor().value !== text) return; // typed on meanwhile
    if (r.ok) {
      state.toml = text;
      state.knobs = r.data.knobs;
      state.preset = null;
      clearError();
      showKnobValues();
      updateHash();
      compute();
    } else {
      showError(r.data.error);
    }
  }, 350);
}

// ---------- results ----------
function setStatus(cls, text, timings = '') {
  const s = $('#status');
  s.className = cls;
  $('#status-text').textContent = text;
  $('#timings').textContent = timings;
}

function buildSlots() {
  const h = $('#headlines');
  const c = $('#charts');
  h.replaceChildren();
  c.replaceChildren();
  for (const s of SECTIONS) {
    h.append(el('div', { class: 'cards', 'data-cards': s.key, style: 'display:contents' }));
    c.append(el('figure', { class: 'placeholder', 'data-main-chart': s.key }, 'waiting for the first answer…'));
  }
}

function renderSection(msg) {
  state.sections[msg.key] = msg;
  const meta = SECTIONS.find(s => s.key === msg.key);
  const box = $(`[data-cards="${msg.key}"]`);
  box.replaceChildren();
  for (const hl of msg.headline) {
    const cls = hl.unit === 'pass' ? (hl.value > 0.5 ? 'passes' : 'fails') : '';
    box.append(el('div', {
      class: `card ${cls}`, 'data-id': hl.id, 'data-section': msg.key, 'data-pointer': hl.pointer,
      'data-value': String(hl.value),
    }, el('div', { class: 'section', text: meta.title }), el('div', { class: 'label', text: hl.label }),
    el('div', { class: 'value', text: hl.text })));
  }
  const slot = $(`[data-main-chart="${msg.key}"]`);
  const main = msg.figures.find(f => f.title === meta.chart);
  slot.className = main ? '' : 'placeholder';
  slot.replaceChildren();
  if (main) {
    slot.dataset.chart = main.title;
    slot.append(el('figcaption', { text: `${meta.title}: ${main.title}` }));
    slot.insertAdjacentHTML('beforeend', main.svg);
  } else {
    slot.append('no chart for this section');
  }
  renderAllCharts();
  renderText();
}

function renderAbsent(key) {
  delete state.sections[key];
  const meta = SECTIONS.find(s => s.key === key);
  $(`[data-cards="${key}"]`).replaceChildren();
  const slot = $(`[data-main-chart="${key}"]`);
  slot.className = 'placeholder absent';
  delete slot.dataset.chart;
  slot.replaceChildren(meta.none || 'not in this scenario');
  renderAllCharts();
  renderText();
}

function renderAllCharts() {
  const all = $('#all-charts');
  all.replaceChildren();
  for (const s of SECTIONS) {
    const m = state.sections[s.key];
    if (!m) continue;
    for (const f of m.figures) {
      if (f.title === s.chart) continue;
      const fig = el('figure', { 'data-chart': f.title }, el('figcaption', { text: `${s.title}: ${f.title}` }));
      fig.insertAdjacentHTML('beforeend', f.svg);
      all.append(fig);
    }
  }
}

function renderText() {
  $('#report-text').textContent = SECTIONS.filter(s => state.sections[s.key])
    .map(s => `== ${state.sections[s.key].title} ==\n${state.sections[s.key].text}`).join('\n');
}

function markStale(on) {
  for (const e of document.querySelectorAll('.card, #charts figure, #all-charts figure')) e.classList.toggle('stale', on);
}

async function streamScenario(toml, file, client, onMsg, signal) {
  for (let attempt = 0; ; attempt++) {
    const r = await fetch(`/api/stream${q(file)}`, { method: 'POST', body: toml, signal, headers: { 'x-megacluster-client': client } });
    if (r.status === 503 && attempt < 20) { // busy: the replaced computation is still stopping
      await r.text();
      await new Promise(res => setTimeout(res, 150));
      continue;
    }
    if (!r.ok) {
      const j = await r.json();
      onMsg({ type: 'error', error: j.error });
      return;
    }
    const reader = r.body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line) onMsg(JSON.parse(line));
      }
    }
    return;
  }
}

const SHORT = { plan: 'plan', train: 'step', reliability: 'reliability', power: 'power', multisite: 'multi-site', programme: 'campus' };
async function compute() {
  const gen = ++state.generation;
  if (state.controller) state.controller.abort();
  const ctl = new AbortController();
  state.controller = ctl;
  document.body.dataset.generation = String(gen);
  setState('busy');
  markStale(true);
  setStatus('busy', 'computing… (greyed: the last answer, until the new one arrives)');
  const t0 = performance.now();
  const times = [];
  const seen = new Set();
  try {
    await streamScenario(state.toml, state.file, state.clientId, msg => {
      if (gen !== state.generation) return;
      if (msg.type === 'section') {
        seen.add(msg.key);
        renderSection(msg);
        for (const e of document.querySelectorAll(`[data-cards="${msg.key}"] .card, [data-main-chart="${msg.key}"]`)) e.classList.remove('stale');
        times.push(`${SHORT[msg.key]} ${Math.round(performance.now() - t0)} ms`);
        document.body.dataset.firstFigureMs ||= String(Math.round(performance.now() - t0));
        setStatus('busy', `computing… ${seen.size} section(s) new`, times.join(' · '));
      } else if (msg.type === 'absent') {
        seen.add(msg.key);
        renderAbsent(msg.key);
      } else if (msg.type === 'error') {
        showError(msg.error);
      } else if (msg.type === 'done') {
        markStale(false);
        setStatus('', `up to date: ${state.sections.plan ? state.sections.plan.json.scenario : ''}`, times.join(' · '));
        setState('done');
      }
    }, ctl.signal);
  } catch (e) {
    if (e.name !== 'AbortError' && gen === state.generation) {
      setStatus('failed', `the server did not answer: ${e.message}`);
      setState('error');
    }
  }
}

// ---------- presets, sharing, downloads ----------
function b64encode(text) {
  const bytes = new TextEncoder().encode(text);
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
function b64decode(s) {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  return new TextDecoder().decode(Uint8Array.from(bin, c => c.charCodeAt(0)));
}
function updateHash() {
  const h = state.preset ? `#preset=${state.preset}` : `#s=${b64encode(state.toml)}`;
  history.replaceState(null, '', h);
}

async function loadScenario(toml, file, preset) {
  state.toml = toml;
  state.file = file;
  state.preset = preset;
  $('#preset').value = preset || '';
  setEditor(toml);
  const r = await api(`/api/validate${q(file)}`, toml);
  if (r.ok) {
    state.knobs = r.data.knobs;
    $('#title').textContent = r.data.name;
    clearError();
    showKnobValues();
    updateHash();
    compute();
  } else {
    showError(r.data.error);
  }
}

function loadPreset(id) {
  const e = state.examples.find(x => x.id === id);
  if (e) loadScenario(e.toml, e.file, e.id);
}

async function download(kind) {
  const base = (state.preset || 'scenario').replace(/[^a-z0-9-]/gi, '-');
  let blob;
  let name;
  if (kind === 'toml') {
    blob = new Blob([state.toml], { type: 'application/toml' });
    name = `${base}.toml`;
  } else {
    const path = { json: '/api/run', csv: '/api/run.csv', html: '/api/report.html' }[kind];
    setStatus('busy', `preparing the ${kind.toUpperCase()} download…`);
    const r = await fetch(`${path}${q(state.file)}`, { method: 'POST', body: state.toml });
    if (!r.ok) {
      const j = await r.json();
      showError(j.error);
      return;
    }
    blob = await r.blob();
    name = `${base}.${kind}`;
    setStatus('', 'download ready');
  }
  const a = el('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  a.remove();
}

// ---------- compare ----------
function scenarioOf(choice) {
  if (choice === '') return { toml: state.toml, file: state.file, name: 'this scenario' };
  const e = state.examples.find(x => x.id === choice);
  return { toml: e.toml, file: e.file, name: e.id };
}

function ratioText(a, b, hl) {
  if (hl.unit === 'pass') return a === b ? 'same' : (b > a ? 'passes now' : 'fails now');
  if (a === 0 && b === 0) return 'same';
  if (a === 0) return 'from zero';
  const r = (b / a - 1) * 100;
  if (Math.abs(r) < 0.05) return 'same';
  return `${r > 0 ? '+' : '−'}${Math.abs(r).toFixed(1)} %`;
}

async function compareRun() {
  const A = scenarioOf($('#compare-a').value);
  const B = scenarioOf($('#compare-b').value);
  $('#compare-ha').textContent = `A: ${A.name}`;
  $('#compare-hb').textContent = `B: ${B.name}`;
  const table = $('#compare-table');
  const body = $('tbody', table);
  body.replaceChildren();
  table.hidden = false;
  table.dataset.state = 'busy';
  $('#compare-status').textContent = 'computing both…';
  const rows = new Map();
  const row = hl => {
    if (!rows.has(hl.id)) {
      const tr = el('tr', { 'data-id': hl.id }, el('td', { text: hl.label }), el('td', { class: 'a' }), el('td', { class: 'b' }), el('td', { class: 'diff' }));
      rows.set(hl.id, { tr, hl });
      body.append(tr);
    }
    return rows.get(hl.id);
  };
  const fill = (side, msg) => {
    if (msg.type === 'error') {
      $('#compare-status').textContent = `${side.toUpperCase()}: ${msg.error.text || msg.error.message}`;
      return;
    }
    if (msg.type !== 'section') return;
    for (const hl of msg.headline) {
      const r = row(hl);
      const td = $(`td.${side}`, r.tr);
      td.textContent = hl.text;
      td.dataset.value = String(hl.value);
      r[side] = hl.value;
      if (r.a !== undefined && r.b !== undefined) {
        const d = $('td.diff', r.tr);
        d.textContent = ratioText(r.a, r.b, hl);
        d.className = 'diff';
        if (hl.higher_is_better != null && r.a !== r.b) d.classList.add((r.b > r.a) === hl.higher_is_better ? 'better' : 'worse');
      }
    }
  };
  await Promise.all([
    streamScenario(A.toml, A.file, `${state.clientId}-a`, m => fill('a', m)),
    streamScenario(B.toml, B.file, `${state.clientId}-b`, m => fill('b', m)),
  ]);
  for (const r of rows.values()) {
    for (const side of ['a', 'b']) {
      if (r[side] === undefined) $(`td.${side}`, r.tr).textContent = '—';
    }
    if (r.a === undefined || r.b === undefined) {
      $('td.diff', r.tr).textContent = r.a === undefined ? 'only in B' : 'only in A';
    }
  }
  table.dataset.state = 'done';
  $('#compare-status').textContent = 'done';
}

// ---------- start ----------
async function init() {
  buildSlots();
  const [ex, cat] = await Promise.all([api('/api/examples'), api('/api/catalog')]);
  state.examples = ex.data;
  state.catalog = cat.data;
  const sel = $('#preset');
  sel.append(el('option', { value: '', text: '(edited)' }));
  for (const e of state.examples) sel.append(el('option', { value: e.id, text: `${e.id}: ${e.name}` }));
  sel.addEventListener('change', () => sel.value && loadPreset(sel.value));
  for (const [id, dflt] of [['#compare-a', 'default'], ['#compare-b', '']]) {
    const s = $(id);
    s.append(el('option', { value: '', text: 'this scenario (as edited)' }));
    for (const e of state.examples) s.append(el('option', { value: e.id, text: e.id }));
    s.value = dflt;
  }
  $('#compare-run').addEventListener('click', compareRun);
  $('#share').addEventListener('click', async () => {
    updateHash();
    try { await navigator.clipboard.writeText(location.href); $('#share').textContent = 'Link copied'; } catch (_) { $('#share').textContent = 'Link in the address bar'; }
    setTimeout(() => { $('#share').textContent = 'Copy link'; }, 1500);
  });
  for (const b of document.querySelectorAll('[data-download]')) b.addEventListener('click', () => download(b.dataset.download));
  editor().addEventListener('input', edited);
  editor().addEventListener('scroll', () => { $('#gutter').scrollTop = editor().scrollTop; placeMark(); });
  renderKnobs();
  const h = new URLSearchParams(location.hash.slice(1));
  if (h.get('s')) {
    let text = null;
    try { text = b64decode(h.get('s')); } catch (_) { text = null; }
    if (text !== null) { loadScenario(text, 'scenario.toml', null); return; }
  }
  loadPreset(h.get('preset') || 'default');
}

init();
