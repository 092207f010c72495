"""What the callback listener holds: `python -m benchmarks.callbacks [--quick]`.

The listener (`CallbackServer` + `CallbackReceiver` with a secret and a handler that counts)
runs in a child process; this process is the client, over loopback. Printed as Markdown:

* requests/s of signed status callbacks: one keep-alive connection, four at once, and a new
  connection per callback; median of the rounds. The same for the listener this one replaced
  (wsgiref, a thread per connection), as a ratio;
* memory and threads under a burst: 1,000 half-sent requests held open while 4 clients send
  callbacks, with those callbacks' latency (the old listener too with `--old-burst`: it needs
  minutes just to accept the 1,000 connections, its listen backlog being 5);
* near the descriptor limit (RLIMIT_NOFILE 256): 600 idle connections, then callbacks.

`serve` is the child's entry point: `python -m benchmarks.callbacks serve [--old] [--nofile N]`.
"""

from __future__ import annotations

import argparse
import http.client
import os
import resource
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from .procs import ChildServer

SECRET = "benchmark-callback-secret-0123"
QUERY = f"/cb?messageId=m{{n}}&statusCode=4&status=RECEIVED_BY_RECIPIENT&token={SECRET}"


# -- the child -------------------------------------------------------------------------------


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _OldListener(ThreadingMixIn, WSGIServer):
    """A listener on the standard library's wsgiref, as a baseline: a daemon thread per connection,
    backlog 5."""

    daemon_threads = True


def serve(old: bool, nofile: int | None) -> None:
    from clickatell_sms.callbacks import CallbackReceiver
    from clickatell_sms.callbacks.listener import CallbackServer

    if nofile:
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, hard))
    count = [0]

    def handled(event: object) -> None:
        count[0] += 1

    receiver = CallbackReceiver(on_status=handled, secret=SECRET)
    if old:
        server = _OldListener(("127.0.0.1", 0), _Quiet)
        server.set_app(receiver)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        print(f"URL http://127.0.0.1:{server.server_port}/", flush=True)
        sys.stdin.read()
        return
    with CallbackServer(receiver) as listener:
        print(f"URL {listener.url}", flush=True)
        sys.stdin.read()


class Listener(ChildServer):
    tag = "URL"

    def __init__(self, *, old: bool = False, nofile: int | None = None) -> None:
        args = ["benchmarks.callbacks", "serve"]
        if old:
            args.append("--old")
        if nofile:
            args += ["--nofile", str(nofile)]
        super().__init__(*args)
        host, _, port = self.base_url.removeprefix("http://").rstrip("/").rpartition(":")
        self.host, self.port = host, int(port)

    def __enter__(self) -> Listener:
        return self

    def status(self, field: str) -> int:
        with open(f"/proc/{self.proc.pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise KeyError(field)

    def descriptors(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))


# -- the client ------------------------------------------------------------------------------


def _keep_alive(listener: Listener, count: int, latencies: list[float]) -> None:
    conn = http.client.HTTPConnection(listener.host, listener.port, timeout=10)
    for n in range(count):
        started = time.perf_counter()
        conn.request("GET", QUERY.format(n=n))
        response = conn.getresponse()
        response.read()
        latencies.append(time.perf_counter() - started)
        if response.status != 200:
            raise RuntimeError(f"callback answered {response.status}")
    conn.close()


def _new_connections(listener: Listener, count: int, latencies: list[float]) -> None:
    for n in range(count):
        started = time.perf_counter()
        conn = http.client.HTTPConnection(listener.host, listener.port, timeout=10)
        conn.request("GET", QUERY.format(n=n), headers={"Connection": "close"})
        response = conn.getresponse()
        response.read()
        conn.close()
        latencies.append(time.perf_counter() - started)
        if response.status != 200:
            raise RuntimeError(f"callback answered {response.status}")


Client = Callable[[Listener, int, list[float]], None]


def _rate(listener: Listener, client: Client, clients: int, each: int) -> tuple[float, list[float]]:
    """Callbacks a second with `clients` threads sending `each`, and every latency."""
    latencies: list[float] = []
    threads = [
        threading.Thread(target=client, args=(listener, each, latencies)) for _ in range(clients)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return clients * each / (time.perf_counter() - started), latencies


def _median_rate(listener: Listener, client: Client, clients: int, each: int, rounds: int) -> float:
    return statistics.median(_rate(listener, client, clients, each)[0] for _ in range(rounds))


@contextmanager
def _half_sent(listener: Listener, count: int) -> Iterator[list[socket.socket]]:
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.create_connection((listener.host, listener.port), timeout=10)
            sock.sendall(b"POST /cb HTTP/1.1\r\nHost: x\r\nContent-Le")
            socks.append(sock)
        yield socks
    finally:
        for sock in socks:
            sock.close()


_NAMES = {"new": "listener", "old": "old listener (wsgiref)"}


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _p(latencies: list[float], fraction: float) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# -- the report ------------------------------------------------------------------------------


def measure(quick: bool, old_burst: bool) -> list[str]:
    rounds, each = (3, 300) if quick else (7, 1000)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4096 <= hard or hard == resource.RLIM_INFINITY:
        resource.setrlimit(resource.RLIMIT_NOFILE, (4096, hard))
    lines = [
        "| workload | listener | old listener (wsgiref) | listener/old |",
        "|---|---|---|---|",
    ]
    workloads: list[tuple[str, Client, int]] = [
        ("1 keep-alive connection, req/s", _keep_alive, 1),
        ("4 keep-alive connections, req/s", _keep_alive, 4),
        ("a new connection per callback, req/s", _new_connections, 1),
    ]
    with Listener() as new, Listener(old=True) as old:
        for name, client, clients in workloads:
            ours = _median_rate(new, client, clients, each // clients, rounds)
            theirs = _median_rate(old, client, clients, each // clients, rounds)
            lines.append(f"| {name} | {ours:,.0f} | {theirs:,.0f} | {ours / theirs:.2f} |")
    burst: dict[str, list[str]] = {}
    for key in ("new", "old") if old_burst else ("new",):
        with Listener(old=key == "old") as listener:
            rss_idle = listener.status("VmRSS")
            opening = time.perf_counter()
            with _half_sent(listener, 1000):
                opened = time.perf_counter() - opening
                time.sleep(0.5)
                _, latencies = _rate(listener, _new_connections, 4, each // 4)
                burst[key] = [
                    f"{opened:.2f} s",
                    f"{rss_idle / 1024:.0f} MB",
                    f"{listener.status('VmRSS') / 1024:.0f} MB",
                    f"{listener.status('VmHWM') / 1024:.0f} MB",
                    str(listener.status("Threads")),
                    _ms(statistics.median(latencies)),
                    _ms(_p(latencies, 0.99)),
                ]
    lines += [
        "",
        "| under 1,000 half-sent requests | " + " | ".join(_NAMES[k] for k in burst) + " |",
    ]
    lines.append("|---" * (len(burst) + 1) + "|")
    rows = [
        "opening the 1,000 connections",
        "RSS idle",
        "RSS under the burst",
        "peak RSS",
        "threads",
        "callback latency, median",
        "callback latency, p99",
    ]
    for n, row in enumerate(rows):
        lines.append(f"| {row} | " + " | ".join(values[n] for values in burst.values()) + " |")
    with Listener(nofile=256) as tight, _idle(tight, 600):
        time.sleep(0.3)
        _, latencies = _rate(tight, _new_connections, 1, 50)
        lines += [
            "",
            "RLIMIT_NOFILE 256, 600 idle connections opened: "
            f"{tight.descriptors()} descriptors in use; 50 callbacks after them: "
            f"median {_ms(statistics.median(latencies))}, max {_ms(max(latencies))}.",
        ]
    return lines


@contextmanager
def _idle(listener: Listener, count: int) -> Iterator[None]:
    socks = [socket.create_connection((listener.host, listener.port)) for _ in range(count)]
    try:
        yield
    finally:
        for sock in socks:
            sock.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.callbacks", description=__doc__)
    parser.add_argument("mode", nargs="?", choices=["report", "serve"], default="report")
    parser.add_argument("--quick", action="store_true", help="fewer rounds and requests")
    parser.add_argument("--old", action="store_true", help="serve: the old wsgiref listener")
    parser.add_argument("--nofile", type=int, help="serve: lower RLIMIT_NOFILE first")
    parser.add_argument("--old-burst", action="store_true", help="the burst on the old one too")
    args = parser.parse_args(argv)
    if args.mode == "serve":
        serve(args.old, args.nofile)
        return 0
    print("\n".join(measure(args.quick, args.old_burst)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
