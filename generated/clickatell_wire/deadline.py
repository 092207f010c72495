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
    what the socket's `makefile` gives a response, with that one difference."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__(sock, "rb")
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
        return super().readinto(buffer)


class _Reading:
    """What a response asks of its socket (`makefile`), answered with the deadline's reader."""

    __slots__ = ("_deadline", "_sock")

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock, self._deadline = sock, deadline

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline))


class Watched:
    """Mixed in before a urllib3 connection class (see the module's docstring)."""

    def connect(self) -> None:
        try:
            super().connect()  # type: ignore[misc]
        except BaseException:
            ATTEMPT.unsent = True
            raise

    def response_class(self, sock: socket.socket, *args: Any, **kwargs: Any) -> Any:
        respond = super().response_class  # type: ignore[misc]  # the standard library's class
        deadline = ATTEMPT.deadline
        return respond(sock if deadline is None else _Reading(sock, deadline), *args, **kwargs)
