// What the browser measurement scripts share: a loopback static server for a bundle,
// Debian's Chromium through playwright-core (from .tools/), and small helpers.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { extname, join, normalize } from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { chromium } = require(join(process.cwd(), ".tools/node_modules/playwright-core"));

const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css", ".json": "application/json" };

// Serves `root` on an ephemeral loopback port, gzipped when `gzip` is set (as static
// hosts do). `routes` maps a path to a handler `(url, res)` answered instead of a file.
export async function serve(root, { gzip = false, routes = {} } = {}) {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, "http://x");
    const route = routes[url.pathname];
    if (route) {
      route(url, res);
      return;
    }
    const path = normalize(decodeURIComponent(url.pathname)).replace(/^\/+/, "");
    const file = path === "" || path === "." ? "index.html" : path;
    try {
      const body = await readFile(join(root, file));
      const headers = { "content-type": types[extname(file)] ?? "application/octet-stream" };
      if (gzip) headers["content-encoding"] = "gzip";
      res.writeHead(200, headers);
      res.end(gzip ? gzipSync(body, { level: 9 }) : body);
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  return server;
}

// Debian's Chromium, headless, without the background traffic that would add noise.
export function launch() {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

export const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
export const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

// Traces the whole browser (`cdp`: a browser CDP session) for `seconds`, with each of
// `pages` ({ label, p }) leaving a mark `redline-page-LABEL` at the start so that its
// renderer's events can be told apart; returns the trace events.
export async function traceBrowser(cdp, pages, seconds, categories) {
  await cdp.send("Tracing.start", { traceConfig: { includedCategories: [...categories, "__metadata"] }, transferMode: "ReturnAsStream" });
  for (const { label, p } of pages) await p.evaluate((name) => performance.mark(name), `redline-page-${label}`);
  await sleep(seconds * 1000);
  const complete = new Promise((ok) => cdp.once("Tracing.tracingComplete", ok));
  await cdp.send("Tracing.end");
  const { stream } = await complete;
  let text = "";
  for (let eof = false; !eof; ) {
    const chunk = await cdp.send("IO.read", { handle: stream, size: 1 << 22 });
    text += chunk.base64Encoded ? Buffer.from(chunk.data, "base64").toString() : chunk.data;
    eof = chunk.eof;
  }
  await cdp.send("IO.close", { handle: stream });
  const parsed = JSON.parse(text);
  return Array.isArray(parsed) ? parsed : parsed.traceEvents;
}
