"""What the test peers share: --port/--port-file arguments and a loopback server
that reports its port once it is listening."""

from http.server import ThreadingHTTPServer


def add_port_arguments(parser):
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--port-file", help="write the port here once listening")


def serve(handler_class, args):
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler_class)
    port = server.server_address[1]
    print(f"listening on {port}", flush=True)
    if args.port_file:
        with open(args.port_file, "w") as out:
            out.write(str(port))
    server.serve_forever()
