"""Test helpers: a purpose-built hostile server on raw sockets, and one driver for both clients.

`Hostile(behaviour)` listens on loopback and runs `behaviour(conn, server)` for every
connection, in a thread of its own: the behaviour reads requests with `read_request` and
answers however it likes (slowly, wrongly, hugely). Every request read is recorded.

`Relay()` is a forward proxy on loopback that passes bytes through as they come, both ways, so
a server's trickle reaches the client as a trickle.

`Driver(kind)` makes a client and calls its methods with the same synchronous signature, so one
test body checks every path a request can take (`PATHS`): "sync" (`Client`, its own pool),
"proxy" (`Client` through a `Relay`), "manager" (`Client` on a urllib3 PoolManager of the
caller's) and "async" (`AsyncClient`, whose loop runs in a thread of the driver's own).
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
PATHS = ("sync", "proxy", "manager", "async")
"""Every way a request leaves the SDK: directly, through a proxy, on a caller's PoolManager
(all three on urllib3), and on aiohttp."""

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


class Relay:
    """A forward HTTP proxy on loopback: each connection is relayed, byte for byte and as the
    bytes come, to the server its first request names (absolute-form, or CONNECT)."""

    def __init__(self) -> None:
        self.server = Hostile(self._behaviour)
        self.url = self.server.url
        self.targets: list[str] = []

    def _behaviour(self, conn: socket.socket, server: Hostile) -> None:
        buffer = bytearray()
        while b"\r\n\r\n" not in buffer:
            chunk = conn.recv(65536)
            if not chunk:
                return
            buffer += chunk
        method, target, _ = buffer.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
        self.targets.append(f"{method} {target}")
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            del buffer[: buffer.index(b"\r\n\r\n") + 4]
        else:
            from urllib.parse import urlsplit

            parts = urlsplit(target)
            host, port = parts.hostname or "", str(parts.port or 80)
        try:
            upstream = socket.create_connection((host, int(port)), timeout=10)
        except OSError:
            conn.sendall(answer("502 Bad Gateway", b"{}"))
            return
        upstream.settimeout(None)
        if method == "CONNECT":
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        upstream.sendall(bytes(buffer))
        back = threading.Thread(target=_pump, args=(upstream, conn), daemon=True)
        back.start()
        _pump(conn, upstream)
        back.join(timeout=30)
        upstream.close()

    def close(self) -> None:
        self.server.close()


def _pump(source: socket.socket, target: socket.socket) -> None:
    """Copy `source` to `target` until either side closes, then close the other way too."""
    try:
        while chunk := source.recv(65536):
            target.sendall(chunk)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


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
    """Makes and drives a client on one of the `PATHS` the same way."""

    def __init__(self, kind: str) -> None:
        assert kind in PATHS, kind
        self.kind = kind
        self.loop: asyncio.AbstractEventLoop | None = None
        if kind == "async":
            self.loop = asyncio.new_event_loop()
            threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.relay = Relay() if kind == "proxy" else None
        self.managers: list[Any] = []
        self.made: list[Any] = []

    def client(self, *args: Any, **kwargs: Any) -> Any:
        if self.loop is None:
            from clickatell_sms import Client

            if self.relay is not None:
                kwargs.setdefault("proxy_url", self.relay.url)
            elif self.kind == "manager" and "http_client" not in kwargs:
                import urllib3

                self.managers.append(urllib3.PoolManager())
                kwargs["http_client"] = self.managers[-1]
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
        for manager in self.managers:
            manager.clear()
        if self.relay is not None:
            self.relay.close()
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.loop.stop)


def rss_kb(field: str = "VmRSS") -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field)
