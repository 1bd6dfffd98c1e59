"""A test peer for redline's fetched sources, on 127.0.0.1 only.

HTTP (ThreadingHTTPServer), every answer with Access-Control-Allow-Origin: * unless
said otherwise:
  /events          Server-Sent Events: the known events of module `sse_api`, in
                   messages of 50 (JSON arrays), then the stream stays open and idle;
  /ndjson          the known events of module `ndjson_api`, one JSON object per line,
                   streamed in small chunks that cut lines, then the response stays
                   open (an empty line every 5 s);
  /dashboard.json  the original spec's get_dashboard_data() structure for two modules;
  /garbage         a broken exposition page / broken JSON (source status tests);
  /big             a 50 MB response (size cap tests);
  /many-series     an exposition page with 100,000 distinct series (one module each);
  /bad-events      SSE whose messages mix good events of module `sse_mixed` with
                   broken JSON, NaN and negative latencies, and missing fields;
  /dashboard-nan.json  the spec's dashboard with one module holding NaN and negative
                   values, as Python's json.dumps writes them, and one good module;
  /probe/fast      200 at once;   /probe/slow   200 after 300 ms;
  /probe/error     500 at once;   /probe/hang   no answer for 30 s;
  /probe/nocors    200 without Access-Control-Allow-Origin (a CORS refusal).
WebSocket (the `websockets` package) on a second port: the known events of module
`ws_api`, in messages of 50, then the connection stays open.

The known events: event i (0 <= i < COUNT) has latency 0.010 + (i % 100) * 0.001
seconds, and is an error when i % 20 == 0 (5 %). The tests compute the exact
percentiles from the same rule.

Usage: python streams_peer.py --port-file PATH
The file receives `HTTP_PORT WS_PORT` once both servers listen. The peer stops by
itself after --lifetime seconds (default 600).
"""

import argparse
import asyncio
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import websockets

COUNT = 2000
BATCH = 50


def event(module, i):
    return {"module": module, "latency": round(0.010 + (i % 100) * 0.001, 6), "ok": i % 20 != 0}


def batches(module):
    for start in range(0, COUNT, BATCH):
        yield [event(module, i) for i in range(start, min(start + BATCH, COUNT))]


DASHBOARD = {
    "timestamp": 0,
    "modules": {
        "legacy_auth": {
            "metrics": {
                "latency_mean": 0.12,
                "latency_p50": 0.1,
                "latency_p95": 0.75,
                "latency_p99": 0.9,
                "error_rate": 0.02,
                "requests_per_second": 42.0,
            },
            "last_update": 0,
            "total_requests": 12000,
            "total_errors": 240,
        },
        "legacy_billing": {
            "metrics": {
                "latency_mean": 0.05,
                "latency_p50": 0.04,
                "latency_p95": 0.08,
                "latency_p99": 0.1,
                "error_rate": 0.15,
                "requests_per_second": 12.5,
            },
            "last_update": 0,
            "total_requests": 3000,
            "total_errors": 450,
        },
    },
    "alerts": [
        {
            "timestamp": 0,
            "module": "legacy_billing",
            "metric": "error_rate",
            "value": 0.15,
            "threshold": 0.1,
            "level": "critical",
            "message": "High error rate in legacy_billing: 15.00%",
        }
    ],
    "summary": {"total_modules": 2, "active_alerts": 1, "warning_alerts": 0},
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def head(self, status, content_type, length=None, cors=True):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-store")
        if cors:
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Timing-Allow-Origin", "*")
        if length is None:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def reply(self, status, body, content_type="text/plain", cors=True):
        data = body.encode() if isinstance(body, str) else body
        self.head(status, content_type, len(data), cors)
        self.wfile.write(data)

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def do_GET(self):
        path = self.path.split("?")[0]
        try:
            if path == "/events":
                self.head(200, "text/event-stream")
                for batch in batches("sse_api"):
                    self.chunk(b"data: " + json.dumps(batch).encode() + b"\n\n")
                    time.sleep(0.02)
                # Stay open (comments keep the connection alive) until the peer ends.
                while True:
                    time.sleep(5)
                    self.chunk(b": idle\n\n")
            elif path == "/ndjson":
                self.head(200, "application/x-ndjson")
                body = b"".join(
                    json.dumps(event("ndjson_api", i)).encode() + b"\n" for i in range(COUNT)
                )
                for start in range(0, len(body), 997):
                    self.chunk(body[start:start + 997])
                # Stay open, as a live stream does, until the peer ends.
                while True:
                    time.sleep(5)
                    self.chunk(b"\n")
            elif path == "/dashboard.json":
                document = dict(DASHBOARD, timestamp=time.time())
                self.reply(200, json.dumps(document), "application/json")
            elif path == "/garbage":
                self.reply(200, "http_requests_total{handler=\"/a\" 12\n{{{ not exposition", "text/plain")
            elif path == "/many-series":
                lines = ["# TYPE http_requests_total counter"]
                lines += [
                    f'http_requests_total{{handler="/h{i}",code="200"}} {i}'
                    for i in range(100_000)
                ]
                self.reply(200, "\n".join(lines) + "\n", "text/plain; version=0.0.4")
            elif path == "/bad-events":
                self.head(200, "text/event-stream")
                messages = [
                    json.dumps([event("sse_mixed", i) for i in range(100)]),
                    '{"module": "sse_mixed", "latency": ',
                    json.dumps({"module": "sse_mixed", "latency": float("nan"), "ok": True}),
                    json.dumps({"module": "sse_mixed", "latency": -1, "ok": True}),
                    json.dumps({"module": "sse_mixed", "ok": True}),
                    "not json at all",
                    json.dumps([event("sse_mixed", i) for i in range(100, 200)]),
                ]
                for message in messages:
                    self.chunk(b"data: " + message.encode() + b"\n\n")
                while True:
                    time.sleep(5)
                    self.chunk(b": idle\n\n")
            elif path == "/dashboard-nan.json":
                document = json.loads(json.dumps(DASHBOARD))
                metrics = document["modules"]["legacy_auth"]["metrics"]
                metrics["latency_p99"] = float("nan")
                metrics["latency_mean"] = -0.5
                document["modules"] = {
                    "nan_auth": document["modules"]["legacy_auth"],
                    "fine_billing": document["modules"]["legacy_billing"],
                }
                self.reply(200, json.dumps(document), "application/json")
            elif path == "/big":
                size = 50 * 1024 * 1024
                self.head(200, "text/plain", size)
                line = b"# filler line of a huge page\n" * 2048
                sent = 0
                while sent < size:
                    part = line[: size - sent]
                    self.wfile.write(part)
                    sent += len(part)
            elif path == "/probe/fast":
                self.reply(200, "ok")
            elif path == "/probe/slow":
                time.sleep(0.3)
                self.reply(200, "ok")
            elif path == "/probe/error":
                self.reply(500, "failing")
            elif path == "/probe/hang":
                time.sleep(30)
                self.reply(200, "late")
            elif path == "/probe/nocors":
                self.reply(200, "no cors here", cors=False)
            else:
                self.reply(404, "not found")
        except (BrokenPipeError, ConnectionResetError):
            pass


async def websocket_events(socket):
    for batch in batches("ws_api"):
        await socket.send(json.dumps(batch))
        await asyncio.sleep(0.02)
    await socket.wait_closed()


async def serve_websocket(ready):
    async with websockets.serve(websocket_events, "127.0.0.1", 0) as server:
        ready.append(server.sockets[0].getsockname()[1])
        await asyncio.Future()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--lifetime", type=float, default=600)
    args = parser.parse_args()
    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    http.daemon_threads = True
    threading.Thread(target=http.serve_forever, daemon=True).start()
    ws_port = []
    threading.Thread(
        target=lambda: asyncio.run(serve_websocket(ws_port)), daemon=True
    ).start()
    deadline = time.time() + 10
    while not ws_port and time.time() < deadline:
        time.sleep(0.05)
    temporary = args.port_file + ".tmp"
    with open(temporary, "w") as out:
        out.write(f"{http.server_address[1]} {ws_port[0] if ws_port else 0}\n")
    os.replace(temporary, args.port_file)
    time.sleep(args.lifetime)


if __name__ == "__main__":
    main()
