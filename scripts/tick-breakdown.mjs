// Where a tick's main-thread time goes, for several bundles (or one bundle with extra
// CSS injected) side by side in one browser: the median per tick of the update's
// thread CPU time, split by trace event (script, style, layout, pre-paint, paint,
// layerize, commit), and the dirty and total objects of its layouts.
// Usage: node scripts/tick-breakdown.mjs MODULES SECONDS LABEL=DIST[:CSS_FILE] ...
//   e.g. node scripts/tick-breakdown.mjs 100 30 old=target/dist-base new=dist
// Ticks are found as in measure-browser.mjs (the "redline-tick" mark, then the
// non-timer tasks of the next 200 ms). Each page runs its own simulation, so the
// alerts that come and go differ between pages: compare over 30 s or more.
import { readFile } from "node:fs/promises";
import { serve, launch, sleep, traceBrowser } from "./browser-common.mjs";

const [modules, seconds, ...variants] = process.argv.slice(2);

const browser = await launch();
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] ?? NaN; };

const pages = [];
for (const variant of variants) {
  const [label, spec] = variant.split("=");
  const [dist, css] = spec.split(":");
  const server = await serve(dist);
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const p = await context.newPage();
  await p.goto(`http://127.0.0.1:${server.address().port}/?modules=${modules}`);
  await p.waitForSelector("[data-testid=module-row]", { timeout: 60000 });
  if (css) await p.addStyleTag({ content: await readFile(css, "utf8") });
  pages.push({ label, p, server });
}
await sleep(3000);
const cdp = await browser.newBrowserCDPSession();
const categories = ["devtools.timeline", "disabled-by-default-devtools.timeline", "blink.user_timing", "toplevel"];
const events = await traceBrowser(cdp, pages, seconds, categories);

const PARTS = ["FunctionCall", "UpdateLayoutTree", "Layout", "PrePaint", "Paint", "Layerize", "Commit", "UpdateLayer"];
for (const { label } of pages) {
  const named = events.find((e) => e.name === `redline-page-${label}`);
  const main = events.find((e) => e.pid === named.pid && e.name === "thread_name" && e.args?.name === "CrRendererMain");
  const mine = events.filter((e) => e.pid === main.pid && e.tid === main.tid);
  const tasks = mine.filter((e) => e.name === "RunTask" && e.ph === "X").sort((a, b) => a.ts - b.ts);
  const timers = mine.filter((e) => e.name === "TimerFire");
  const timerTask = (t) => timers.some((f) => f.ts >= t.ts && f.ts <= t.ts + t.dur);
  const within = (e, t) => e.ts >= t.ts && e.ts + (e.dur ?? 0) <= t.ts + t.dur;
  const parts = mine.filter((e) => e.ph === "X" && PARTS.includes(e.name));
  // Nested events of the same name (a Paint inside a Paint) count once.
  const outer = parts.filter((e) => !parts.some((o) => o !== e && o.name === e.name && o.ts <= e.ts && e.ts + e.dur <= o.ts + o.dur));
  const rows = [];
  const layouts = [];
  for (const mark of mine.filter((e) => e.name === "redline-tick")) {
    const start = tasks.find((t) => t.ts <= mark.ts && mark.ts <= t.ts + t.dur);
    if (!start) continue;
    const update = tasks.filter((t) => t.ts >= start.ts && t.ts < start.ts + 200000 && (t === start || !timerTask(t)));
    const row = { wall: update.reduce((s, t) => s + t.dur, 0) / 1000, cpu: update.reduce((s, t) => s + (t.tdur ?? t.dur), 0) / 1000 };
    for (const e of outer.filter((e) => update.some((t) => within(e, t)))) {
      row[e.name] = (row[e.name] ?? 0) + (e.tdur ?? e.dur) / 1000;
      if (e.name === "Layout") layouts.push(`${e.args?.beginData?.dirtyObjects}/${e.args?.beginData?.totalObjects}`);
    }
    rows.push(row);
  }
  const summary = {};
  for (const key of ["wall", "cpu", ...PARTS]) summary[key] = +median(rows.map((r) => r[key] ?? 0)).toFixed(2);
  console.log(label, `ticks=${rows.length}`, JSON.stringify(summary));
  console.log(`  layouts (dirty/total objects): ${layouts.slice(0, 10).join(" ")}`);
}
await browser.close();
for (const { server } of pages) server.close();
process.exit(0);
