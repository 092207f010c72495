# generated from spec/openapi.yaml by python -m codegen, do not edit
"""urllib3 connections that keep an attempt's deadline and know when it failed to connect.

A socket's timeout bounds each read alone: a server sending a byte a second would hold a request
for ever. `Watched` goes before a pool's connection class (urllib3's `ConnectionCls`): the
answer's reader, made through the connection's `response_class`, cuts the socket's timeout
before every read to what is left before the deadline, so the status line, the headers and the
body all end by it; and a failure inside `connect()` (DNS, refused, a proxy, TLS) is marked, as
then no byte of the request was written. Both are the attempt's, kept per thread in `ATTEMPT`.
"""

from __future__ import annotations

import io
import socket
import threading
import time
from typing import Any

__all__ = ["ATTEMPT", "AttemptState", "Watched"]


class AttemptState(threading.local):
    deadline: float | None = None  # the time.monotonic() instant the attempt must end by
    unsent: bool = False  # connecting failed: nothing of the request was written


ATTEMPT = AttemptState()


class _DeadlineReader(socket.SocketIO):
    """A socket's raw reader whose every read ends by the deadline, however slowly bytes come:
    what the socket's `makefile` gives a response, with that one difference. It stands in for
    the socket a response is made with, which asks it for `makefile` and nothing else."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        # The base named rather than found by super(): a reader is made for every answer.
        socket.SocketIO.__init__(self, sock, "rb")
        # Counted as makefile counts its readers: a connection closed by `Connection: close`
        # keeps its socket open until the answer has been read from it.
        sock._io_refs += 1  # type: ignore[attr-defined]
        self._deadline, self._per_read, self._cut = deadline, sock.gettimeout(), sock.settimeout

    def readinto(self, buffer: Any) -> int | None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the deadline passed")
        if self._per_read is None or remaining < self._per_read:
            self._cut(remaining)  # the deadline is nearer than a read's own timeout
        return socket.SocketIO.readinto(self, buffer)

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(self)


class Watched:
    """Mixed in before a urllib3 connection class (see the module's docstring); `respond` is
    that class's own `response_class` (the standard library's)."""

    respond: Any

    def connect(self) -> None:
        try:
            super().connect()  # type: ignore[misc]
        except BaseException:
            ATTEMPT.unsent = True
            raise

    def response_class(
        self, sock: socket.socket, debuglevel: int = 0, method: str | None = None, url: Any = None
    ) -> Any:
        # http.client's HTTPResponse signature, spelled out: passing on *args and **kwargs
        # would build and unpack a dict for every answer.
        deadline = ATTEMPT.deadline
        reader = sock if deadline is None else _DeadlineReader(sock, deadline)
        return self.respond(reader, debuglevel, method, url)
