"""Test helpers: a purpose-built hostile server on raw sockets, and one driver for both clients.

`Hostile(behaviour)` listens on loopback and runs `behaviour(conn, server)` for every
connection, in a thread of its own: the behaviour reads requests with `read_request` and
answers however it likes (slowly, wrongly, hugely). Every request read is recorded.

`Driver("sync")` / `Driver("async")` make a `Client` or an `AsyncClient` and call its methods
with the same synchronous signature, so one test body checks both. The async client lives on an
event loop in a thread of the driver's own; calls are submitted to it and awaited there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

KEY = "sk-hostile-6a1f0e9c7b3d4c2a"

Behaviour = Callable[[socket.socket, "Hostile"], None]


@dataclass
class Request:
    head: bytes
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def line(self) -> str:
        return self.head.split(b"\r\n", 1)[0].decode("latin-1")

    def numbers(self) -> list[str]:
        if not self.body:  # the GET send: `to` in the query, comma-separated
            from urllib.parse import parse_qs, urlsplit

            query = parse_qs(urlsplit(self.line.split(" ")[1]).query)
            return [n for value in query.get("to", []) for n in value.split(",")]
        if b"<To>" in self.body:
            import re

            return re.findall(r"<To>([^<]*)</To>", self.body.decode())
        return list(json.loads(self.body)["to"])


def read_request(conn: socket.socket, buffer: bytearray) -> Request | None:
    """One request from `conn` (leftovers stay in `buffer`); None when the peer closed."""
    while b"\r\n\r\n" not in buffer:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    end = buffer.index(b"\r\n\r\n")
    head = bytes(buffer[:end])
    del buffer[: end + 4]
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().decode("latin-1").lower()] = value.strip().decode("latin-1")
    length = int(headers.get("content-length", "0"))
    while len(buffer) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    body = bytes(buffer[:length])
    del buffer[:length]
    return Request(head, body, headers)


def accepted_json(request: Request) -> bytes:
    entries = [
        {"apiMessageId": f"id-{n}", "accepted": True, "to": n, "errorCode": None}
        for n in request.numbers()
    ]
    return json.dumps({"messages": entries, "errorCode": None}).encode()


def answer(status: str, body: bytes, *headers: str, media: str = "application/json") -> bytes:
    extra = "".join(f"{h}\r\n" for h in headers)
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: {media}\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    ).encode() + body


class Hostile:
    """A loopback server whose every connection runs `behaviour` in its own thread."""

    def __init__(self, behaviour: Behaviour, tls: ssl.SSLContext | None = None) -> None:
        self.behaviour = behaviour
        self.tls = tls
        self.handshake_errors: list[str] = []
        self.requests: list[Request] = []
        self.connections = 0
        self.sent_bytes = 0
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.listener.getsockname()[1]}"
        self.stopping = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            if self.tls is not None:
                conn.settimeout(10)
                try:
                    conn = self.tls.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError) as exc:
                    self.handshake_errors.append(str(exc))
                    return
            self.behaviour(conn, self)
        except OSError:
            pass
        finally:
            conn.close()

    def record(self, request: Request) -> None:
        with self.lock:
            self.requests.append(request)

    def close(self) -> None:
        self.stopping.set()
        with contextlib.suppress(OSError):  # wakes the accepting thread: the port is free after
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()


@contextmanager
def hostile(behaviour: Behaviour, tls: ssl.SSLContext | None = None) -> Iterator[Hostile]:
    server = Hostile(behaviour, tls)
    try:
        yield server
    finally:
        server.close()


def serve_accepted(conn: socket.socket, server: Hostile) -> None:
    """A behaviour: every request accepted, one entry per recipient, on a kept-alive connection."""
    buffer = bytearray()
    while (request := read_request(conn, buffer)) is not None:
        server.record(request)
        conn.sendall(answer("202 Accepted", accepted_json(request)))


def drip(conn: socket.socket, data: bytes, every: float, stop: threading.Event) -> None:
    """Send `data` one byte at a time, `every` seconds apart, until done or the peer leaves."""
    for i in range(len(data)):
        if stop.is_set():
            return
        conn.sendall(data[i : i + 1])
        time.sleep(every)


class Driver:
    """Makes and drives a `Client` ("sync") or an `AsyncClient` ("async") the same way."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.loop: asyncio.AbstractEventLoop | None = None
        if kind == "async":
            self.loop = asyncio.new_event_loop()
            threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.made: list[Any] = []

    def client(self, *args: Any, **kwargs: Any) -> Any:
        if self.loop is None:
            from clickatell_sms import Client

            made = Client(*args, **kwargs)
        else:
            from clickatell_sms import AsyncClient

            async def make() -> Any:
                return AsyncClient(*args, **kwargs)

            made = self.run(make())
        self.made.append(made)
        return made

    def run(self, coroutine: Any, timeout: float = 120) -> Any:
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def call(self, client: Any, method: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(client, method)(*args, **kwargs)
        return self.run(result) if self.loop is not None else result

    def send(self, client: Any, *args: Any, **kwargs: Any) -> Any:
        return self.call(client, "send", *args, **kwargs)

    def close(self) -> None:
        for made in self.made:
            if self.loop is None:
                made.close()
            else:
                self.run(made.close())
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.loop.stop)


def rss_kb(field: str = "VmRSS") -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field)
