"""Serves a dashboard in the original spec's `get_dashboard_data()` structure, as a
Python producer would write it with json.dumps (so a NaN metric is the bare token
`NaN`, which is not JSON).

Each request to /dashboard advances the totals: every module gains 100 requests and
5 errors, except `database`, which restarts (its totals drop) on every third request.
The module `broken` carries a NaN latency and `negative` a negative rate.

Usage: python spec_dashboard.py [--port N] [--port-file PATH] | --print
"""

import argparse
import json
import time
from http.server import BaseHTTPRequestHandler

from peer_server import add_port_arguments, serve

POLLS = [0]


def document(poll):
    now = time.time() if poll >= 0 else 1700000000.0
    poll = max(poll, 0)

    def module(requests, errors, p95=0.25):
        return {
            "metrics": {
                "latency_mean": 0.15, "latency_p50": 0.12, "latency_p95": p95,
                "latency_p99": 0.45, "error_rate": errors / requests if requests else 0.0,
                "requests_per_second": 150.5,
            },
            "last_update": now, "total_requests": requests, "total_errors": errors,
        }

    database_polls = poll % 3
    modules = {
        "api_gateway": module(1500 + 100 * poll, 30 + 5 * poll),
        "database": module(100 + 100 * database_polls, 5 * database_polls, p95=0.65),
        "broken": module(10, 1, p95=float("nan")),
        "negative": module(10, 1),
    }
    modules["negative"]["metrics"]["requests_per_second"] = -1.0
    return {
        "timestamp": now,
        "modules": modules,
        "alerts": [{
            "timestamp": now, "module": "database", "metric": "latency_p95",
            "value": 0.650, "threshold": 0.500, "level": "warning",
            "message": "database: latency_p95 = 0.650 (threshold: 0.500)",
        }],
        "summary": {"total_modules": 4, "active_alerts": 1, "warning_alerts": 1},
    }


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.split("?")[0] != "/dashboard":
            self.send_error(404)
            return
        body = json.dumps(document(POLLS[0])).encode()
        POLLS[0] += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_port_arguments(parser)
    parser.add_argument("--print", action="store_true", help="print one document (fixed time) and exit")
    args = parser.parse_args()
    if args.print:
        print(json.dumps(document(-1), indent=2))
        return
    serve(Handler, args)


if __name__ == "__main__":
    main()
