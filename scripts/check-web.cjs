// The browser half of scripts/check-web.sh: drives the planner page in headless Chromium with
// playwright-core and checks it against `megacluster run --json`. Environment: URL (the server),
// CHROME, BIN (the megacluster binary), OUT (screenshots and scenario files).
'use strict';
const { chromium } = require('playwright-core');
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const { URL, CHROME, BIN, OUT } = process.env;
let failures = 0;
let passes = 0;
const ok = (cond, what) => {
  if (cond) { passes++; console.log(`ok   ${what}`); } else { failures++; console.log(`FAIL ${what}`); }
};

// The CLI's JSON for a scenario text (written to a file, as a user would save it).
function cliJson(name, toml) {
  const f = path.join(OUT, `${name}.toml`);
  fs.writeFileSync(f, toml);
  return { file: f, text: execFileSync(BIN, ['run', f, '--json'], { maxBuffer: 1 << 26 }).toString() };
}

function pointer(obj, p) {
  return p.split('/').slice(1).reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

async function waitDone(page, after) {
  await page.waitForFunction(g => document.body.dataset.state === 'done' && Number(document.body.dataset.generation) > g,
    after, { timeout: 120000 });
}
const generation = page => page.evaluate(() => Number(document.body.dataset.generation || 0));

// Every headline card equals the CLI's JSON value at its pointer, for the page's current text.
async function cardsMatchCli(page, name) {
  const toml = await page.inputValue('#editor');
  const cli = JSON.parse(cliJson(name, toml).text);
  const cards = await page.$$eval('.card', cs => cs.map(c => ({ id: c.dataset.id, section: c.dataset.section, pointer: c.dataset.pointer, value: Number(c.dataset.value) })));
  let bad = cards.filter(c => {
    let v = pointer(cli[c.section], c.pointer);
    if (typeof v === 'boolean') v = v ? 1 : 0;
    return v !== c.value;
  });
  ok(cards.length >= 10 && bad.length === 0, `${name}: all ${cards.length} headline figures equal run --json${bad.length ? ` (differ: ${bad.map(b => b.id).join(', ')})` : ''}`);
  return { cli, cards };
}

async function main() {
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: CHROME,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  } catch (e) {
    console.log(`check-web: Chromium would not start (${e.message.split('\n')[0]}); not run`);
    process.exit(3);
  }
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
  const page = await context.newPage();
  const consoleErrors = [];
  let expectedErrors = 0;
  page.on('console', m => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', e => consoleErrors.push(`uncaught: ${e.message}`));
  const external = [];
  page.on('request', r => { if (!r.url().startsWith(URL)) external.push(r.url()); });

  // 1. The default scenario loads, every chart is there.
  await page.goto(URL);
  await waitDone(page, 0);
  const main = await page.$$eval('[data-main-chart]', fs => fs.map(f => ({ key: f.dataset.mainChart, svg: !!f.querySelector('svg'), text: f.textContent })));
  ok(main.filter(m => m.svg).map(m => m.key).join(',') === 'plan,train,reliability,power',
    `default: the main charts of plan, training step, reliability and power are drawn (${main.filter(m => m.svg).length})`);
  ok(main.find(m => m.key === 'multisite').text.includes('one site'), 'default: the multi-site slot says why it is empty');
  const limits = await page.$$eval('[data-main-chart="power"] svg line.mark', ls => ls.length);
  ok(limits >= 2, `default: the power trace draws the grid-code limits (${limits} lines)`);
  // units on every axis and figure of the main charts
  const units = { plan: ['$'], train: [' ms'], reliability: ['(%)'], power: ['(MW)', '(s)'], multisite: ['(Tbit/s)', '(%)'] };
  const unitsOk = async () => page.$$eval('[data-main-chart]', (fs, u) => fs.filter(f => f.querySelector('svg'))
    .filter(f => !u[f.dataset.mainChart].every(t => f.querySelector('svg').textContent.includes(t))).map(f => f.dataset.mainChart), units);
  let noUnits = await unitsOk();
  ok(noUnits.length === 0, `default: every main chart shows its units${noUnits.length ? ` (missing: ${noUnits})` : ''}`);
  await cardsMatchCli(page, 'default');
  await page.screenshot({ path: path.join(OUT, 'default.png'), fullPage: false });

  // 2. Slider latency on the default scenario: installed GPUs (plan) and GPUs in the job (step).
  const lat = async (knob, pos, card) => {
    const before = await page.getAttribute(`.card[data-id="${card}"]`, 'data-value');
    const g = await generation(page);
    const t0 = Date.now();
    await page.fill(`#knob-${knob}`, String(pos));
    await page.waitForFunction(([c, b]) => { const e = document.querySelector(`.card[data-id="${c}"]`); return e && e.dataset.value !== b && !e.classList.contains('stale'); }, [card, before], { timeout: 60000 });
    const first = Date.now() - t0;
    await waitDone(page, g);
    return { first, all: Date.now() - t0 };
  };
  const l1 = await lat('gpus', 700, 'plan.capex');
  const l2 = await lat('job_gpus', 640, 'train.step_time');
  console.log(`info slider latency (default scenario): installed GPUs → new plan figures ${l1.first} ms (every section ${l1.all} ms); GPUs in the job → new step figures ${l2.first} ms (every section ${l2.all} ms)`);
  fs.writeFileSync(path.join(OUT, 'latency.json'), JSON.stringify({ gpus: l1, job_gpus: l2 }));
  await cardsMatchCli(page, 'default-moved');

  // 3. Pick a preset, move the GPU-count slider: the figures become the CLI's for that scenario.
  let g = await generation(page);
  await page.selectOption('#preset', 'xai-colossus');
  await waitDone(page, g);
  const a = await cardsMatchCli(page, 'xai-colossus');
  const gpusBefore = await page.getAttribute('.card[data-id="plan.gpus"]', 'data-value');
  g = await generation(page);
  await page.fill('#knob-gpus', '900');
  await waitDone(page, g);
  const gpusAfter = await page.getAttribute('.card[data-id="plan.gpus"]', 'data-value');
  ok(gpusAfter !== gpusBefore, `xai-colossus: moving the GPU slider changes the GPU count (${gpusBefore} → ${gpusAfter})`);
  const b = await cardsMatchCli(page, 'xai-colossus-moved');
  ok(b.cli.plan.capex_usd !== a.cli.plan.capex_usd, 'xai-colossus: the capex moved with the GPUs');
  ok(/#s=/.test(page.url()), 'the edited scenario is in the URL fragment');

  // The shared URL reopens the same scenario.
  const shared = page.url();
  const p2 = await context.newPage();
  p2.on('console', m => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  await p2.goto(shared);
  await p2.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: 120000 });
  ok(await p2.inputValue('#editor') === await page.inputValue('#editor'), 'the shared link opens the same scenario');
  await p2.close();

  // 4. A download of the JSON is `run --json` byte for byte.
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('[data-download="json"]')]);
  const got = fs.readFileSync(await dl.path()).toString();
  ok(got === cliJson('download', await page.inputValue('#editor')).text, 'the JSON download equals megacluster run --json byte for byte');

  // 5. A multi-site preset: every main chart, link knobs on.
  g = await generation(page);
  await page.selectOption('#preset', 'google-multisite-tpu');
  await waitDone(page, g);
  const mainMs = await page.$$eval('[data-main-chart] svg', s => s.length);
  ok(mainMs === 5, `google-multisite-tpu: all five main charts drawn (${mainMs})`);
  ok(await page.$$eval('[data-main-chart="multisite"] svg line.mark', l => l.length) === 1, 'google-multisite-tpu: the loss chart marks the scenario\'s link capacity');
  ok(!(await page.isDisabled('#knob-link')), 'google-multisite-tpu: the link-capacity knob is on');
  noUnits = await unitsOk();
  ok(noUnits.length === 0, `google-multisite-tpu: every main chart shows its units${noUnits.length ? ` (missing: ${noUnits})` : ''}`);
  g = await generation(page);
  await page.fill('#knob-link', '300');
  await waitDone(page, g);
  await cardsMatchCli(page, 'google-multisite-tpu-moved');
  await page.screenshot({ path: path.join(OUT, 'multisite.png'), fullPage: true });

  // 6. A bad value in the editor: the located error at its line.
  g = await generation(page);
  await page.selectOption('#preset', 'default');
  await waitDone(page, g);
  const text = await page.inputValue('#editor');
  const lines = text.split('\n');
  const at = lines.findIndex(l => /^grid\s*=/.test(l));
  lines[at] = 'grid = "150 MV"';
  const bad = lines.join('\n');
  expectedErrors++;
  await page.fill('#editor', bad);
  await page.waitForSelector('#error:not([hidden])', { timeout: 10000 });
  const line = Number(await page.getAttribute('#error', 'data-line'));
  ok(line === at + 1, `editor: the error is located at line ${at + 1} (page says ${line})`);
  ok(await page.isVisible('#error-mark'), 'editor: the error line is marked');
  ok(await page.textContent('#gutter .bad') === String(at + 1), 'editor: the gutter marks the line number');
  const f = path.join(OUT, 'bad.toml');
  fs.writeFileSync(f, bad);
  let cliErr = '';
  try { execFileSync(BIN, ['validate', f], { stdio: 'pipe' }); } catch (e) { cliErr = e.stderr.toString().trim(); }
  const pageErr = (await page.textContent('#error')).trim();
  const strip = s => s.replace(/^error: [^:]*:/, '');
  ok(cliErr !== '' && strip(pageErr) === strip(cliErr), `editor: the error is the CLI's (${pageErr})`);
  await page.locator('#editor-box').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(OUT, 'error.png'), fullPage: false });
  // fixing it clears the error
  g = await generation(page);
  await page.fill('#editor', text);
  await waitDone(page, g);
  ok(await page.isHidden('#error'), 'editor: fixing the value clears the error');

  // 7. Compare two presets.
  await page.selectOption('#compare-a', 'default');
  await page.selectOption('#compare-b', 'xai-colossus');
  await page.click('#compare-run');
  await page.waitForSelector('#compare-table[data-state="done"]', { timeout: 120000 });
  const rows = await page.$$eval('#compare-table tbody tr', rs => rs.map(r => ({ id: r.dataset.id, a: r.querySelector('.a').dataset.value, b: r.querySelector('.b').dataset.value, diff: r.querySelector('.diff').textContent })));
  const def = JSON.parse(execFileSync(BIN, ['run', '--json'], { maxBuffer: 1 << 26 }).toString());
  const xai = JSON.parse(execFileSync(BIN, ['run', 'examples/xai-colossus.toml', '--json'], { maxBuffer: 1 << 26 }).toString());
  const gp = rows.find(r => r.id === 'plan.gpus');
  const both = rows.filter(r => r.a !== undefined && r.b !== undefined);
  ok(both.length >= 10 && rows.every(r => r.diff !== ''), `compare: ${rows.length} rows, ${both.length} with both A and B, each with the difference`);
  ok(gp && Number(gp.a) === def.plan.gpus && Number(gp.b) === xai.plan.gpus, `compare: GPUs ${gp && gp.a} (default) against ${gp && gp.b} (xai-colossus), as run --json says`);
  await page.locator('#compare').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(OUT, 'compare.png'), fullPage: false });

  // 8. No console errors but the one expected 422 of the bad value; no request off the server.
  const unexpected = consoleErrors.filter(e => !/status of 422/.test(e));
  ok(unexpected.length === 0 && consoleErrors.length <= expectedErrors * 2, `no console errors${unexpected.length ? `: ${unexpected.join(' | ')}` : ''}`);
  ok(external.length === 0, `no request leaves the server${external.length ? `: ${external[0]}` : ''}`);
  await browser.close();
  console.log(`${passes} passed, ${failures} failed`);
  process.exit(failures ? 1 : 0);
}

main().catch(e => { console.log(`FAIL ${e.stack || e}`); console.log(`${passes} passed, ${failures + 1} failed`); process.exit(1); });
