# generated from spec/openapi.yaml by python -m codegen, do not edit
"""An attempt's deadline, kept on every read of its answer however slowly the bytes come.

A socket's timeout bounds each read alone: a server sending a byte a second would hold a request
for ever. `DeadlineReader` stands in for the socket an answer is read from and cuts the socket's
timeout before every read to what is left before the deadline, so the status line, the headers
and the body all end by it. The deadline, and whether connecting failed, are the attempt's, kept
per thread in `ATTEMPT`; `connection.Watched` reads and marks them. The connect and read
timeouts urllib3 is given for an attempt are a `checked_timeout()`.
"""

from __future__ import annotations

import functools
import io
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import urllib3

__all__ = ["ATTEMPT", "AttemptState", "DeadlineReader", "checked_timeout"]


class AttemptState(threading.local):
    deadline: float | None = None  # the time.monotonic() instant the attempt must end by
    unsent: bool = False  # connecting failed: nothing of the request was written


ATTEMPT = AttemptState()


class DeadlineReader(socket.SocketIO):
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


@functools.cache
def checked_timeout() -> type[urllib3.Timeout]:
    """urllib3's `Timeout`, whose copies skip checking the values again: urllib3 copies it twice
    for every request, and checking three numbers each time is most of a copy's cost."""
    import urllib3

    class CheckedTimeout(urllib3.Timeout):
        def clone(self) -> CheckedTimeout:
            copy = CheckedTimeout.__new__(CheckedTimeout)
            copy.__dict__.update(self.__dict__)  # never started: each request starts its copy
            return copy

    return CheckedTimeout
