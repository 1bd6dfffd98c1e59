"""A small service instrumented with prometheus_client, for redline's tests.

It serves, on 127.0.0.1:
  /metrics   the exposition: text 0.0.4, or OpenMetrics when the Accept header asks
             for application/openmetrics-text (as Prometheus does);
  /drive     records known traffic without waiting: ?handler=/api&latency=0.05
             &status=500&count=10 observes `count` requests of that latency and status;
  /serve/<handler>?latency=0.05&status=200
             a real request: sleeps `latency` seconds, answers `status`, and records
             the measured duration.

Metrics: the histogram `http_request_duration_seconds` labelled by handler, and the
counter `http_requests_total` labelled by handler and code (default buckets).

Usage: python instrumented_app.py [--port N] [--port-file PATH]
Port 0 (the default) picks a free port; it is printed as `listening on PORT` and,
with --port-file, written to that file once the server is ready.
"""

import argparse
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse

from peer_server import add_port_arguments, serve
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import choose_encoder

REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests served.",
    ["handler", "code"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request duration in seconds.",
    ["handler"],
    registry=REGISTRY,
)


def record(handler, latency, status, count=1):
    for _ in range(count):
        LATENCY.labels(handler=handler).observe(latency)
        REQUESTS.labels(handler=handler, code=str(status)).inc()


class Handler(BaseHTTPRequestHandler):
    def _reply(self, status, body, content_type="text/plain; charset=utf-8"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            if url.path == "/metrics":
                encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
                self._reply(200, encoder(REGISTRY), content_type)
            elif url.path == "/drive":
                record(
                    query.get("handler", "/"),
                    float(query.get("latency", "0.01")),
                    int(query.get("status", "200")),
                    int(query.get("count", "1")),
                )
                self._reply(200, "ok\n")
            elif url.path.startswith("/serve/"):
                start = time.perf_counter()
                time.sleep(float(query.get("latency", "0")))
                status = int(query.get("status", "200"))
                record(url.path[len("/serve"):], time.perf_counter() - start, status)
                self._reply(status, "served\n")
            else:
                self._reply(404, "not found\n")
        except ValueError as error:
            self._reply(400, f"bad query: {error}\n")

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_port_arguments(parser)
    serve(Handler, parser.parse_args())


if __name__ == "__main__":
    main()
