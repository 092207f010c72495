"""The sandbox's throughput: single-recipient sends a second over 8 keep-alive connections
(the target: at least 2,000).

    scripts/bench --sandbox-load [seconds]      # or: python -m benchmarks.sandbox_load

The sandbox runs in its own process (through the CLI, as a user would start it), so client and
server do not share one interpreter lock. The client is 8 threads, each with one keep-alive
connection, sending a prepared `POST /messages` and reading the answer by its Content-Length:
a general-purpose client such as urllib3 spends more time per request than the server does,
and would measure itself. (`tests/test_sandbox_serving.py` runs the same load briefly and checks
every answer, not the rate: a rate depends on the machine.)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

CONNECTIONS = 8
BODY = b'{"content":"Load test message","to":["27821234567"]}'
REQUIRED_PER_SECOND = 2000


@contextmanager
def sandbox_process() -> Iterator[tuple[str, int]]:
    """A sandbox started with `python -m clickatell_sms.sandbox`; yields its host and port."""
    process = subprocess.Popen(
        [sys.executable, "-m", "clickatell_sms.sandbox", "--port", "0", "--balance", "1000000000"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("Clickatell sandbox listening on "), first
        host, port = first.rsplit(" ", 1)[-1].strip().removeprefix("http://").split(":")
        yield host, int(port)
    finally:
        process.terminate()
        process.wait(timeout=10)


def _request(host: str, port: int) -> bytes:
    return (
        f"POST /messages HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: sandbox-key\r\n"
        f"Content-Type: application/json\r\nAccept: application/json\r\n"
        f"Content-Length: {len(BODY)}\r\n\r\n"
    ).encode() + BODY


def _exchange(sock: socket.socket, request: bytes, pending: bytearray) -> int:
    """Send one request and read exactly its answer; returns the status code."""
    sock.sendall(request)
    while (end := pending.find(b"\r\n\r\n")) < 0:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the sandbox closed the connection")
        pending += chunk
    head = bytes(pending[:end])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    total = end + 4 + length
    while len(pending) < total:
        pending += sock.recv(65536)
    del pending[:total]
    return int(head[9:12])


def measure(host: str, port: int, seconds: float) -> tuple[float, int]:
    """Requests per second over `seconds` with CONNECTIONS threads; and the count of non-202s."""
    request = _request(host, port)
    counts = [0] * CONNECTIONS
    failures = [0] * CONNECTIONS
    gate = threading.Barrier(CONNECTIONS + 1)
    deadline = [0.0]

    def worker(index: int) -> None:
        with socket.create_connection((host, port), timeout=10) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pending = bytearray()
            _exchange(sock, request, pending)  # connect and warm up before the clock starts
            gate.wait()
            done = bad = 0
            while time.perf_counter() < deadline[0]:
                if _exchange(sock, request, pending) != 202:
                    bad += 1
                done += 1
        counts[index] = done
        failures[index] = bad

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + seconds
    started = time.perf_counter()
    gate.wait()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - started), sum(failures)


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    duration = float(given[0]) if given else 5.0
    with sandbox_process() as (host, port):
        rate, failures = measure(host, port, duration)
    verdict = "met" if rate >= REQUIRED_PER_SECOND and not failures else "NOT MET"
    print(
        f"sandbox: {rate:,.0f} single-recipient sends/s over {CONNECTIONS} keep-alive connections,"
        f" {failures} answers not 202 (target >= {REQUIRED_PER_SECOND:,}/s: {verdict};"
        f" load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
