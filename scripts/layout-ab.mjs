// Forced-layout cost of a tick's kind of DOM writes, stylesheet variants against each
// other in ONE page (so the machine's load falls on all of them alike): each round
// rewrites what a tick rewrites (the visible rows' numbers, their sparklines' points,
// or the side column's texts), forces layout and times only the layout; the variants
// take turns, 60 rounds of 10 writes each, and the 10th, 25th and 50th percentiles of
// a round's mean are printed (the low ones are the least disturbed by other processes).
// Usage: node scripts/layout-ab.mjs DIST MODULES WHAT [NAME=CSS_FILE ...]
//   WHAT: text (numeric cells), points (sparklines), table (both), side (the side
//   column's and summary bar's texts), all.
//   e.g. node scripts/layout-ab.mjs dist 100 text rows=/tmp/rows.css
// Only layout: style, paint and the frame's other work are not in these figures.
import { readFile } from "node:fs/promises";
import { serve, launch, sleep } from "./browser-common.mjs";

const [dist, modules, what, ...variants] = process.argv.slice(2);
const browser = await launch();
const server = await serve(dist);
const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
const p = await context.newPage();
await p.goto(`http://127.0.0.1:${server.address().port}/?modules=${modules}`);
await p.waitForSelector("[data-testid=module-row]", { timeout: 60000 });
await sleep(4000);
const sheets = [["none", ""]];
for (const variant of variants) {
  const [name, file] = variant.split("=");
  sheets.push([name, await readFile(file, "utf8")]);
}
const result = await p.evaluate(async ({ sheets, what }) => {
  const style = document.createElement("style");
  document.head.appendChild(style);
  const times = Object.fromEntries(sheets.map(([name]) => [name, []]));
  const has = (kind) => what === kind || what === "all" || (what === "table" && (kind === "text" || kind === "points"));
  let i = 0;
  // One tick's worth of writes, then the layout they need; returns the layout's ms.
  const step = () => {
    i++;
    if (has("text")) {
      document.querySelectorAll("tbody td.numeric").forEach((td, k) => {
        if (td.firstChild) td.firstChild.data = `${(k * 37 + i * 13) % 997} ms`;
      });
    }
    if (has("points")) {
      document.querySelectorAll("tbody polyline").forEach((line, k) => {
        let points = "";
        for (let x = 0; x < 60; x++) points += `${Math.round((x * 72) / 59)},${((x * 7 + i + k) % 19) + 1} `;
        line.setAttribute("points", points);
      });
    }
    if (has("side")) {
      document.querySelectorAll(".bottleneck-reason, .share-text, .stat-label, .alert-duration").forEach((e, k) => {
        if (e.firstChild) e.firstChild.data = e.firstChild.data.replace(/\d+(?!.*\d)/, String((i * 7 + k) % 100));
      });
    }
    const started = performance.now();
    document.body.offsetHeight;
    return performance.now() - started;
  };
  for (let warm = 0; warm < 20; warm++) step();
  for (let round = 0; round < 60; round++) {
    for (const [name, text] of sheets) {
      style.textContent = text;
      document.body.offsetHeight;
      step();
      step();
      let sum = 0;
      for (let k = 0; k < 10; k++) sum += step();
      times[name].push(sum / 10);
      await new Promise((ok) => setTimeout(ok, 5));
    }
  }
  const at = (xs, f) => +[...xs].sort((a, b) => a - b)[Math.floor(xs.length * f)].toFixed(3);
  return Object.fromEntries(Object.entries(times).map(([name, xs]) => [name, { p10: at(xs, 0.1), p25: at(xs, 0.25), p50: at(xs, 0.5) }]));
}, { sheets, what });
console.log(what, JSON.stringify(result));
await browser.close();
server.close();
process.exit(0);
