// Browser measurements of the built dashboard (dist/): transfer size, first render,
// tick cost at 100 and 500 (and 1,000) modules, chart redraw, and memory.
// Usage: node scripts/measure-browser.mjs [dist]   (`make measure` runs it)
//        node scripts/measure-browser.mjs OLD_DIST NEW_DIST   (tick costs of two bundles
//        side by side in one browser, under the same load: their ratio is what to trust
//        on a busy machine)
// Drives Debian's Chromium through playwright-core; serves dist/ itself on loopback.
import { readFile, readdir } from "node:fs/promises";
import { gzipSync, brotliCompressSync, constants } from "node:zlib";
import { join } from "node:path";
import { serve as serveBundle, launch, median, sleep, traceBrowser } from "./browser-common.mjs";

const dist = process.argv[2] ?? "dist";
const against = process.argv[3];

// A prometheus_client-style page of 20 handlers (about 39 KB) of a healthy service,
// counters moving with time, for the scrape load measurement.
const BUCKETS = ["0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.25", "0.5", "0.75", "1.0", "2.5", "5.0", "7.5", "10.0", "+Inf"];
function metricsPage() {
  const round = Math.floor(Date.now() / 1000);
  const lines = ["# HELP http_requests_total HTTP requests served.", "# TYPE http_requests_total counter"];
  for (let h = 0; h < 20; h++) {
    for (const [code, share] of [["200", 90], ["404", 6], ["503", 4]]) {
      lines.push(`http_requests_total{code="${code}",handler="/api/v1/handler_${h}"} ${round * share * (h + 1)}.0`);
      lines.push(`http_requests_created{code="${code}",handler="/api/v1/handler_${h}"} 1.7957819904037344e+09`);
    }
  }
  lines.push("# HELP http_request_duration_seconds HTTP request duration in seconds.", "# TYPE http_request_duration_seconds histogram");
  for (let h = 0; h < 20; h++) {
    const total = round * 100 * (h + 1);
    // Healthy latencies: everything within 50 ms, most within 25 ms.
    BUCKETS.forEach((le, i) => lines.push(`http_request_duration_seconds_bucket{handler="/api/v1/handler_${h}",le="${le}"} ${Math.floor(total * Math.min(1, (i + 1) / 4))}.0`));
    lines.push(`http_request_duration_seconds_count{handler="/api/v1/handler_${h}"} ${total}.0`);
    lines.push(`http_request_duration_seconds_sum{handler="/api/v1/handler_${h}"} ${total * 0.0421}`);
    lines.push(`http_request_duration_seconds_created{handler="/api/v1/handler_${h}"} 1.7957819904036698e+09`);
  }
  return lines.join("\n") + "\n";
}
// 200 scrape targets every 5 s, one module each, and no simulator.
const scrapeConfig = JSON.stringify({
  sources: Array.from({ length: 200 }, (_, i) => ({
    kind: "prometheus", name: `target-${i}`, url: `metrics?target=${i}`, module: `target-${i}`, interval_seconds: 5,
  })),
});

// A plain static server that gzips, as any static host would, plus the measurement's
// own pages: a metrics page, and configs without history or with 200 scrape targets.
function serve(root) {
  const json = (text) => (_url, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(text);
  };
  return serveBundle(root, {
    gzip: true,
    routes: {
      "/metrics": (_url, res) => {
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4", "cache-control": "no-store" });
        res.end(metricsPage());
      },
      "/history-off.json": json(JSON.stringify({ history: { enabled: false } })),
      "/scrape-200.json": json(scrapeConfig),
    },
  });
}
const server = await serve(dist);
const base = `http://127.0.0.1:${server.address().port}/`;

const browser = await launch();

async function page(query, { viewport = { width: 1400, height: 1000 } } = {}) {
  const context = await browser.newContext({ viewport });
  const p = await context.newPage();
  await p.addInitScript(() => {
    // First render with numbers: the first module row whose p95 cell holds a unit.
    new MutationObserver((_, observer) => {
      const cell = document.querySelector("[data-testid=module-row] [data-testid=p95]");
      if (cell && /\d/.test(cell.textContent)) {
        window.__firstRender = performance.now();
        observer.disconnect();
      }
    }).observe(document, { childList: true, subtree: true, characterData: true });
  });
  await p.goto(base + query);
  return { p, context };
}

const results = {};

// Transfer: everything the first load fetches, compressed as static hosts do
// (gzip everywhere, brotli on most CDNs).
for (const [root, suffix] of against ? [[dist, "_old"], [against, "_new"]] : [[dist, ""]]) {
  let gzipped = 0;
  let brotli = 0;
  // Every file of the bundle, snippets/ included.
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const body = await readFile(join(entry.parentPath ?? entry.path, entry.name));
    gzipped += gzipSync(body, { level: 9 }).length;
    brotli += brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  }
  results[`transfer_gzip_kib${suffix}`] = +(gzipped / 1024).toFixed(1);
  results[`transfer_brotli_kib${suffix}`] = +(brotli / 1024).toFixed(1);
}

// First render, median of 5 loads.
const firsts = [];
for (let i = 0; i < (against ? 0 : 5); i++) {
  const { p, context } = await page("");
  await p.waitForFunction(() => window.__firstRender, null, { timeout: 20000 });
  firsts.push(await p.evaluate(() => window.__firstRender));
  await context.close();
}
if (!against) results.first_render_ms = +median(firsts).toFixed(0);

// Tick cost: main-thread work of one tick's full update (core tick, snapshot, DOM,
// style, layout and paint), from a Chromium trace. The app marks each tick with
// performance.mark("redline-tick"); a tick's cost is the busy time of the task holding
// the mark plus the rendering tasks in the next 200 ms (not the simulator's timer tasks).
const TRACE_CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline", "blink.user_timing", "toplevel"];
async function tickCosts(p, seconds) {
  return tickCostsOf(await mainThreadEvents(p, seconds));
}
// The renderer main thread's trace events over `seconds`.
async function mainThreadEvents(p, seconds) {
  await browser.startTracing(p, { categories: TRACE_CATEGORIES });
  await sleep(seconds * 1000);
  const events = JSON.parse((await browser.stopTracing()).toString()).traceEvents;
  const main = events.find((e) => e.name === "thread_name" && e.args?.name === "CrRendererMain");
  return events.filter((e) => e.pid === main.pid && e.tid === main.tid);
}
// One renderer main thread's tick costs, from its trace events: wall time, or with
// `field` "tdur" the thread's own CPU time (less moved by other processes' load).
function tickCostsOf(mine, field = "dur") {
  const tasks = mine.filter((e) => e.name === "RunTask" && e.ph === "X").sort((a, b) => a.ts - b.ts);
  // Other timer tasks in the window are the simulator's traffic between ticks, not
  // the tick's update: they are left out.
  const timers = mine.filter((e) => e.name === "TimerFire");
  const timerTask = (t) => timers.some((f) => f.ts >= t.ts && f.ts <= t.ts + t.dur);
  const costs = [];
  for (const mark of mine.filter((e) => e.name === "redline-tick")) {
    const start = tasks.find((t) => t.ts <= mark.ts && mark.ts <= t.ts + t.dur);
    if (start) {
      const update = tasks.filter((t) => t.ts >= start.ts && t.ts < start.ts + 200000 && (t === start || !timerTask(t)));
      costs.push(update.reduce((sum, t) => sum + (t[field] ?? t.dur), 0) / 1000);
    }
  }
  return costs;
}

// Side by side: both bundles at once, each page in its own renderer, one trace of the
// whole browser; each page leaves a mark naming itself.
if (against) {
  const other = await serve(against);
  const cdp = await browser.newBrowserCDPSession();
  for (const modules of [100, 500]) {
    const pages = [];
    for (const [label, port, host] of [["old", server.address().port, "127.0.0.1"], ["new", other.address().port, "localhost"]]) {
      const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
      const p = await context.newPage();
      await p.goto(`http://${host}:${port}/?modules=${modules}`);
      await p.waitForSelector("[data-testid=module-row]", { timeout: 30000 });
      pages.push({ label, p, context });
    }
    await sleep(3000);
    const events = await traceBrowser(cdp, pages, 20, TRACE_CATEGORIES);
    for (const { label, context } of pages) {
      const named = events.find((e) => e.name === `redline-page-${label}`);
      const main = events.find((e) => e.pid === named.pid && e.name === "thread_name" && e.args?.name === "CrRendererMain");
      const thread = events.filter((e) => e.pid === main.pid && e.tid === main.tid);
      results[`tick_ms_${modules}_modules_${label}`] = +median(tickCostsOf(thread)).toFixed(1);
      results[`tick_cpu_ms_${modules}_modules_${label}`] = +median(tickCostsOf(thread, "tdur")).toFixed(1);
      await context.close();
    }
    for (const kind of ["tick_ms", "tick_cpu_ms"]) {
      results[`${kind}_${modules}_modules_ratio`] = +(results[`${kind}_${modules}_modules_new`] / results[`${kind}_${modules}_modules_old`]).toFixed(2);
    }
  }
  await browser.close();
  server.close();
  other.close();
  console.log(JSON.stringify(results, null, 2));
  process.exit(0);
}

for (const modules of [100, 500, 1000]) {
  const { p, context } = await page(`?modules=${modules}`);
  await p.waitForSelector("[data-testid=module-row]", { timeout: 30000 });
  await sleep(3000);
  results[`tick_ms_${modules}_modules`] = +median(await tickCosts(p, 12)).toFixed(1);
  const wasm = await p.$eval("[data-testid=tick-cost]", (e) => +e.dataset.wasmBytes);
  const heap = await p.evaluate(() => (performance.memory ? performance.memory.usedJSHeapSize : 0));
  results[`memory_mib_${modules}_modules`] = +((wasm + heap) / 1048576).toFixed(1);
  await context.close();
}

// Scrape load: the share of one core the page's main thread is busy with 200
// prometheus targets every 5 s (one module each), against the same page simulating 200
// modules, in one run: the difference is what the scrapes cost.
async function busyShare(p, seconds) {
  await browser.startTracing(p, { categories: TRACE_CATEGORIES });
  const started = Date.now();
  await sleep(seconds * 1000);
  const wall = (Date.now() - started) * 1000;
  const events = JSON.parse((await browser.stopTracing()).toString()).traceEvents;
  const main = events.find((e) => e.name === "thread_name" && e.args?.name === "CrRendererMain");
  const busy = events
    .filter((e) => e.pid === main.pid && e.tid === main.tid && e.name === "RunTask" && e.ph === "X")
    .reduce((sum, t) => sum + t.dur, 0);
  return busy / wall;
}
{
  const shares = {};
  for (const [label, query] of [["simulated", "?modules=200"], ["scraped", "?config=scrape-200.json"]]) {
    const { p, context } = await page(query);
    await p.waitForFunction(() => document.querySelectorAll("[data-testid=module-row]").length > 10, null, { timeout: 30000 });
    await sleep(6000);
    shares[label] = await busyShare(p, 20);
    if (label === "scraped") {
      results.scrape_200_targets_status = await p.$eval("[data-testid=source-status] .stat-value", (e) => e.textContent);
    }
    await context.close();
  }
  results.busy_share_200_simulated_modules = +(shares.simulated * 100).toFixed(1);
  results.busy_share_200_scrape_targets = +(shares.scraped * 100).toFixed(1);
}

// Chart redraw with 3 series × 600 points: 600 ticks of history at 20× speed.
{
  const { p, context } = await page("?speed=20#/modules/database");
  await p.waitForFunction(() => +document.querySelector("[data-testid=chart-latency]")?.dataset.points >= 600, null, { timeout: 60000 });
  const draws = [];
  for (let i = 0; i < 20; i++) {
    draws.push(await p.$eval("[data-testid=chart-latency]", (e) => +e.dataset.drawMs));
    await sleep(300);
  }
  results.chart_redraw_ms_600_points = +median(draws).toFixed(2);
  await p.screenshot({ path: "target/measure-detail.png" });
  await context.close();
}

// Stored history at 500 modules: the tick's main-thread cost with history kept (each
// step's records prepared and handed to IndexedDB) against the same page without it,
// alternated four times in one run; the difference is what keeping history costs. The
// thread's CPU time is reported beside the wall time: other processes' load moves it less.
{
  const costs = { on: [], off: [], on_cpu: [], off_cpu: [], prepare: [] };
  for (let round = 0; round < 4; round++) {
    for (const [label, query] of [["on", "?modules=500"], ["off", "?modules=500&config=history-off.json"]]) {
      const { p, context } = await page(query);
      await p.waitForSelector("[data-testid=module-row]", { timeout: 30000 });
      if (label === "on") {
        await p.waitForFunction(() => document.querySelector("[data-testid=history-status]")?.dataset.state === "recording", null, { timeout: 30000 });
      }
      await sleep(3000);
      const thread = await mainThreadEvents(p, 10);
      costs[label].push(...tickCostsOf(thread));
      costs[`${label}_cpu`].push(...tickCostsOf(thread, "tdur"));
      if (label === "on") costs.prepare.push(await p.$eval("[data-testid=history-status]", (e) => +e.dataset.writeMs));
      await context.close();
    }
  }
  results.history_tick_ms_500_modules_kept = +median(costs.on).toFixed(2);
  results.history_tick_ms_500_modules_not_kept = +median(costs.off).toFixed(2);
  results.history_write_ms_500_modules = +(median(costs.on) - median(costs.off)).toFixed(2);
  results.history_write_cpu_ms_500_modules = +(median(costs.on_cpu) - median(costs.off_cpu)).toFixed(2);
  // The keeper's own median: taking the closed ticks, encoding and batching them.
  results.history_prepare_ms_500_modules = +median(costs.prepare).toFixed(3);
}

// A day of one module's stored rollups charted after "24 h" is picked: a short run at
// 100x stores a few real rollups, the page copies one of database's to the day's 1,440
// minutes, reloads, and times the pick until the chart has drawn (median of 5).
{
  const { p, context } = await page("?speed=100#/modules/database");
  await p.waitForFunction(() => document.querySelector("[data-testid=history-status]")?.dataset.state === "recording", null, { timeout: 30000 });
  const filled = await p.evaluate(async () => {
    const open = () => new Promise((ok, fail) => { const r = indexedDB.open("redline-history"); r.onsuccess = () => ok(r.result); r.onerror = fail; });
    const done = (request) => new Promise((ok, fail) => { request.onsuccess = () => ok(request.result); request.onerror = fail; });
    for (let attempt = 0; attempt < 100; attempt++) {
      const db = await open();
      const names = JSON.parse((await done(db.transaction("meta").objectStore("meta").get("modules"))) ?? "[]");
      const id = names.findIndex(([name]) => name === "database");
      const range = IDBKeyRange.bound([id, -Infinity], [id, Infinity]);
      const keys = id < 0 ? [] : await done(db.transaction("rollups").objectStore("rollups").getAllKeys(range));
      if (keys.length > 0) {
        const [, latest] = keys[keys.length - 1];
        const record = await done(db.transaction("rollups").objectStore("rollups").get(keys[keys.length - 1]));
        const store = db.transaction("rollups", "readwrite").objectStore("rollups");
        for (let k = 0; k < 1440; k++) store.put(record, [id, latest - 60 * k]);
        await new Promise((ok) => { store.transaction.oncomplete = ok; });
        db.close();
        return record.length;
      }
      db.close();
      await new Promise((ok) => setTimeout(ok, 200));
    }
    return 0;
  });
  await p.reload();
  await p.waitForFunction(() => document.querySelector("[data-testid=history-status]")?.dataset.state === "recording", null, { timeout: 30000 });
  const picks = [];
  for (let i = 0; i < 5; i++) {
    picks.push(await p.evaluate(async () => {
      const chart = document.querySelector("[data-testid=chart-latency]");
      document.querySelector("[data-testid=range-0]").click();
      await new Promise((ok) => setTimeout(ok, 300));
      const started = performance.now();
      document.querySelector("[data-testid=range-3]").click();
      await new Promise((ok) => {
        const check = () => +chart.dataset.points >= 1400;
        if (check()) return ok();
        new MutationObserver((_, o) => { if (check()) { o.disconnect(); ok(); } }).observe(chart, { attributes: true });
      });
      await new Promise((ok) => setTimeout(ok, 0));
      return performance.now() - started;
    }));
  }
  results.history_day_range_record_bytes = filled;
  results.history_day_range_charted_ms = +median(picks).toFixed(1);
  await p.screenshot({ path: "target/measure-day-range.png" });
  await context.close();
}

// What the origin stores per module per day at full resolution, as the browser counts
// it (IndexedDB's own overhead included): 20 simulated modules at 100x for 30 s (about
// 3,000 ticks each), the usage estimate divided by the ticks stored.
{
  const { p, context } = await page("?speed=100&modules=20");
  await p.waitForFunction(() => document.querySelector("[data-testid=history-status]")?.dataset.state === "recording", null, { timeout: 30000 });
  await sleep(30000);
  const usage = await p.evaluate(async () => {
    const db = await new Promise((ok) => { const r = indexedDB.open("redline-history"); r.onsuccess = () => ok(r.result); });
    const count = await new Promise((ok) => { const r = db.transaction("ticks").objectStore("ticks").count(); r.onsuccess = () => ok(r.result); });
    const bytes = await new Promise((ok) => {
      let sum = 0;
      const r = db.transaction("ticks").objectStore("ticks").openCursor();
      r.onsuccess = () => { const c = r.result; if (!c) return ok(sum); sum += c.value.byteLength + 8; c.continue(); };
    });
    db.close();
    return { count, bytes, usage: (await navigator.storage.estimate()).usage };
  });
  const perDay = (bytes) => +(bytes / usage.count / 20 * 86400 / 1048576).toFixed(2);
  results.history_ticks_stored = usage.count;
  results.history_records_mib_per_module_day = perDay(usage.bytes);
  results.history_usage_mib_per_module_day = perDay(usage.usage);
  await context.close();
}

await browser.close();
server.close();
console.log(JSON.stringify(results, null, 2));
