// The dashboard of a real `jarvis serve` in Debian's headless Chromium,
// driven by playwright-core (no downloaded browser). Started by
// run_browser_test.sh with JARVIS_URL (the server, loopback), JARVIS_TEST_MODEL,
// CHROMIUM (the executable) and ARTIFACT_DIR (where the screenshots go).
//
// Checks: the page loads with no console error, failed request or off-host
// request; it goes live; a prompt sent from the playground streams its answer
// (several SSE events), and the answer equals the same greedy request made
// without streaming; the request counter, the throughput and latency charts
// and the models table move; an embedding request shows in its tile; unload and load buttons work; the theme toggle
// works; on a phone-sized screen nothing overflows sideways. Saves
// dashboard.png (desktop, dark) and dashboard-phone.png (phone, light).
// Exit 0 pass, 1 fail, 77 skip (the binary was built without the dashboard).
import assert from 'node:assert/strict';
import path from 'node:path';

import { chromium } from 'playwright-core';

const base = process.env.JARVIS_URL;
const model = process.env.JARVIS_TEST_MODEL;
const artifacts = process.env.ARTIFACT_DIR;
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
assert.ok(base && model && artifacts, 'JARVIS_URL, JARVIS_TEST_MODEL and ARTIFACT_DIR must be set');
const origin = new URL(base).origin;

const watchdog = setTimeout(() => {
  console.error('browser test: timed out after 150 s');
  process.exit(1);
}, 150_000);

const step = (what) => console.log(`[${(performance.now() / 1000).toFixed(1)} s] ${what}`);

const index = await (await fetch(`${base}/`)).text();
if (index.includes('data-jarvis-dashboard="not-built"')) {
  console.log('this jarvis was built without the dashboard (no Node.js at build time): skipping');
  process.exit(77);
}

// Problems the page must not have, collected from every page of the test.
const problems = [];
function watch(page, label) {
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${label} console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`${label} page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // The Stop button and page close abort fetches on purpose; nothing else may fail.
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`${label} request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.protocol !== 'data:' && u.origin !== origin) problems.push(`${label} off-host request: ${r.url()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`${label} HTTP ${r.status()} for ${r.url()}`);
  });
}

async function chat(body) {
  const r = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model, ...body }),
  });
  assert.equal(r.status, 200, `chat request: HTTP ${r.status}`);
  return r.json();
}

const number = (text) => Number(String(text).replace(/[^0-9.]/g, ''));
const seriesMax = (page, id) =>
  page.$eval(`#${id}`, (e) => JSON.parse(e.getAttribute('data-series-max') ?? '{}'));

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
let failed = false;
try {
  // ---- desktop, dark ---------------------------------------------------------
  const desktop = await browser.newContext({ viewport: { width: 1360, height: 900 }, colorScheme: 'dark' });
  const page = await desktop.newPage();
  watch(page, 'desktop');
  let gzipScript = false;
  page.on('response', (r) => {
    if (r.url().endsWith('.js') && r.headers()['content-encoding'] === 'gzip') gzipScript = true;
  });

  step('open the dashboard');
  await page.goto(`${base}/`, { waitUntil: 'load' });
  assert.equal(await page.title(), 'jarvis · System Monitor');
  await page.waitForSelector('#conn[data-state="live"]', { timeout: 15_000 });
  assert.equal(await page.getAttribute('html', 'data-theme'), 'dark', 'follows prefers-color-scheme');
  assert.ok(gzipScript, 'the script bundle is served gzip-compressed to a browser');
  await page.waitForFunction((m) => [...document.querySelectorAll('#pg-model option')].some((o) => o.value === m), model);
  await page.waitForSelector(`#models-body tr[data-model="${model}"] .badge[data-state="loaded"]`);
  assert.equal(await page.getAttribute('#card-gpu', 'data-gpu'), 'none', 'no NVML on the test machine: GPU panel says so');
  assert.match(await page.textContent('#gpu-none'), /no GPU/);
  assert.equal(await page.isHidden('#gpu-models'), true, 'the model runs on the CPU: no per-model GPU memory line');
  await page.waitForFunction(() => Number(document.querySelector('#chart-system')?.dataset.points ?? 0) >= 2);
  const requestsBefore = number(await page.textContent('#kpi-requests'));
  const throughputBefore = await seriesMax(page, 'chart-throughput');
  assert.ok(!(throughputBefore.tokensPerSecond > 0), 'no tokens generated before the prompt');

  step('send a prompt from the playground');
  const prompt = 'Once upon a time';
  await page.selectOption('#pg-model', model);
  await page.fill('#pg-prompt', prompt);
  await page.fill('#pg-max', '48');
  await page.fill('#pg-temp', '0');
  // Count text insertions into the answer: a streamed answer arrives in many.
  await page.$eval('#pg-out', (out) => {
    window.__inserts = 0;
    new MutationObserver((records) => (window.__inserts += records.length)).observe(out, {
      characterData: true,
      childList: true,
      subtree: true,
    });
  });
  await page.click('#pg-send');
  await page.waitForSelector('#pg-out[data-state="done"]', { timeout: 30_000 });
  const streamed = await page.textContent('#pg-out');
  const inserts = await page.evaluate(() => window.__inserts);
  const stats = await page.textContent('#pg-stats');
  step(`streamed ${streamed.length} chars in ${inserts} DOM updates; ${stats}`);
  assert.ok(streamed.trim().length > 0, 'an answer appeared');
  assert.ok(inserts > 3, `the answer streamed in pieces (${inserts} updates)`);
  assert.match(stats, /TTFT [0-9.]+ m?s/);
  assert.match(stats, /\d+ tokens/);
  assert.match(stats, /finish: (length|stop)/);
  // The same greedy request without streaming (and past the response cache) gives the same text.
  const whole = await chat({
    messages: [{ role: 'user', content: prompt }],
    max_tokens: 48,
    temperature: 0,
    cache: false,
  });
  assert.equal(streamed, whole.choices[0].message.content, 'streamed text equals the non-streamed answer');

  step('counters and charts move');
  await page.waitForFunction(
    (before) => Number(document.querySelector('#kpi-requests').textContent.replace(/[^0-9]/g, '')) >= before + 2,
    requestsBefore,
    { timeout: 10_000 },
  );
  await page.waitForFunction(
    () => JSON.parse(document.querySelector('#chart-throughput').dataset.seriesMax ?? '{}').tokensPerSecond > 0,
    null,
    { timeout: 10_000 },
  );
  await page.waitForFunction(
    () => JSON.parse(document.querySelector('#chart-latency').dataset.seriesMax ?? '{}').latencyP50 > 0,
    null,
    { timeout: 10_000 },
  );
  assert.notEqual((await page.textContent('#lat-p50')).trim(), '—');
  assert.notEqual((await page.textContent('#ttft-p50')).trim(), '—');
  assert.ok(number(await page.textContent('#kpi-tps-sub')) > 0, 'generated token total shown');

  step('an embedding request shows in the Embeddings tile');
  assert.equal((await page.textContent('#kpi-embed-sub')).trim(), 'none yet');
  const embedded = await fetch(`${base}/v1/embeddings`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model, input: ['Once upon a time', 'a cat'], encoding_format: 'float' }),
  });
  assert.equal(embedded.status, 200);
  await page.waitForFunction(() => document.querySelector('#kpi-embed').textContent.trim() === '1', null, { timeout: 10_000 });
  assert.match(await page.textContent('#kpi-embed-sub'), /^2 inputs · \d+ tokens · p50 [0-9.]+ m?s$/);

  step('unload and load the model from the table');
  const row = `#models-body tr[data-model="${model}"]`;
  await page.click(`${row} button`);
  await page.waitForSelector(`${row} .badge[data-state="available"]`, { timeout: 10_000 });
  assert.equal((await page.textContent(`${row} button`)).trim(), 'Load');
  await page.click(`${row} button`);
  await page.waitForSelector(`${row} .badge[data-state="loaded"]`, { timeout: 15_000 });
  await page.waitForFunction((sel) => /left|in use|pinned|forever/.test(document.querySelector(sel).textContent), `${row} td:nth-child(7)`);

  step('some traffic for the picture, then the desktop screenshot');
  const stories = ['The little dog', 'Lily and Ben went', 'One day, a bird', 'The sun was'];
  await Promise.all(
    stories.map((p) => chat({ messages: [{ role: 'user', content: p }], max_tokens: 64, temperature: 0.8, seed: 7 })),
  );
  await page.fill('#pg-prompt', 'Tim had a red ball');
  await page.click('#pg-send');
  await page.waitForSelector('#pg-out[data-state="done"]', { timeout: 30_000 });
  await page.waitForTimeout(2500); // two more polls: the charts show the burst
  await page.evaluate(() => window.scrollTo(0, 0)); // the sticky header belongs at the top of the picture
  await page.screenshot({ path: path.join(artifacts, 'dashboard.png'), fullPage: true });

  step('theme toggle');
  await page.click('#theme-btn');
  assert.equal(await page.getAttribute('html', 'data-theme'), 'light');
  await page.click('#theme-btn');
  assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
  await desktop.close();

  // ---- phone, light ----------------------------------------------------------
  step('phone-sized screen');
  const phone = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    colorScheme: 'light',
  });
  const mobile = await phone.newPage();
  watch(mobile, 'phone');
  await mobile.goto(`${base}/`, { waitUntil: 'load' });
  await mobile.waitForSelector('#conn[data-state="live"]', { timeout: 15_000 });
  await mobile.waitForFunction(() => Number(document.querySelector('#chart-system')?.dataset.points ?? 0) >= 3);
  assert.equal(await mobile.getAttribute('html', 'data-theme'), 'light');
  const overflow = await mobile.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no sideways scrolling on a phone (page is ${overflow}px too wide)`);
  await mobile.fill('#pg-prompt', 'Once upon a time');
  await mobile.tap('#pg-send');
  await mobile.waitForSelector('#pg-out[data-state="done"]', { timeout: 30_000 });
  await mobile.waitForTimeout(1200);
  await mobile.evaluate(() => window.scrollTo(0, 0));
  await mobile.screenshot({ path: path.join(artifacts, 'dashboard-phone.png'), fullPage: true });
  await phone.close();

  assert.deepEqual(problems, [], 'no console errors, failed or off-host requests');
  step(`pass; screenshots in ${artifacts}`);
} catch (e) {
  failed = true;
  console.error(e);
  if (problems.length) console.error('problems seen by the page:\n  ' + problems.join('\n  '));
} finally {
  await browser.close();
  clearTimeout(watchdog);
}
process.exit(failed ? 1 : 0);
