#!/usr/bin/env python3
"""A local stand-in for the Lambda Runtime API that times a function's cold init.

Each run starts the bootstrap with AWS_LAMBDA_RUNTIME_API pointing here and measures the time
from just before the process is spawned to its first
`GET /2018-06-01/runtime/invocation/next` -- what Lambda reports as Init Duration, less the
sandbox's own start. The request is never answered with an event: the process is killed once
it has asked, so no handler runs and no AWS call is made.

Usage: lambda_runtime_stub.py [--runs N] [--timeout S] NAME=COMMAND [NAME=COMMAND ...]
COMMAND is split on spaces (e.g. "qemu-aarch64 -L /usr/aarch64-linux-gnu target/lambda/x/bootstrap").
The function's environment (region, credentials, AVIARY_* names) comes from this process's.
Prints one line per function: name, runs, median, min and max in milliseconds.
"""

import argparse
import http.server
import os
import shlex
import statistics
import subprocess
import sys
import threading
import time

NEXT = "/2018-06-01/runtime/invocation/next"


class Stub(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.asked = threading.Event()
        self.asked_at = 0.0
        self.released = threading.Event()
        self.unexpected = []


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        server = self.server
        if self.path == NEXT:
            if not server.asked.is_set():
                server.asked_at = time.perf_counter()
                server.asked.set()
            # Hold the long poll until the run is over, as Lambda does between invocations.
            server.released.wait(30)
        else:
            server.unexpected.append(f"GET {self.path}")
        self.reply(503)

    def do_POST(self):
        # An init error (/runtime/init/error) or anything else: the function failed to start.
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode(errors="replace") if length else ""
        self.server.unexpected.append(f"POST {self.path} {body[:300]}")
        self.reply(202)

    def reply(self, status):
        try:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except OSError:
            pass

    def log_message(self, *_):
        pass


def one_run(command, timeout):
    """Milliseconds from spawn to the first `next`, or raises with what went wrong."""
    server = Stub()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    env = dict(os.environ, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_address[1]}")
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        if not server.asked.wait(timeout):
            exited = proc.poll()
            proc.kill()
            err = proc.communicate()[1].decode(errors="replace")[-800:]
            state = f"exited with {exited}" if exited is not None else f"no request within {timeout}s"
            raise RuntimeError(f"{state}; unexpected requests {server.unexpected}; stderr: {err}")
        return (server.asked_at - start) * 1000.0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        server.released.set()
        server.shutdown()
        server.server_close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("functions", nargs="+", metavar="NAME=COMMAND")
    args = p.parse_args()
    failed = False
    print(f"{'function':<20} {'runs':>4} {'median_ms':>10} {'min_ms':>8} {'max_ms':>8}", flush=True)
    for spec in args.functions:
        name, _, command = spec.partition("=")
        try:
            times = [one_run(shlex.split(command), args.timeout) for _ in range(args.runs)]
        except RuntimeError as e:
            print(f"{name:<20} FAILED: {e}", flush=True)
            failed = True
            continue
        print(f"{name:<20} {len(times):>4} {statistics.median(times):>10.1f} {min(times):>8.1f} {max(times):>8.1f}", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
