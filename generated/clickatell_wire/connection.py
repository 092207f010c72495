# generated from spec/openapi.yaml by python -m codegen, do not edit
"""The urllib3 connection class every pool of a transport uses: `Watched`, mixed in before it.

It changes three things and nothing else. A failure inside `connect()` (DNS, refused, a proxy,
TLS) is marked on the attempt, as then no byte of the request was written. The answer is read
through a `deadline.DeadlineReader`, so it ends by the attempt's deadline. And a request's
header block goes out in one write with a body of bytes, as the standard library's own
`http.client` does for such a body: urllib3 writes them apart, which costs a second system call
(and a second TLS record, or TCP segment) for every request.
"""

from __future__ import annotations

import socket
from typing import Any

from .deadline import ATTEMPT, DeadlineReader

__all__ = ["Watched"]

JOINED_MAX = 65536
"""The largest body copied to go out with its header block; a larger one is written apart."""


class Watched:
    """Mixed in before a urllib3 connection class (see the module's docstring); `respond` is
    that class's own `response_class` (the standard library's)."""

    respond: Any
    _join = False  # the next send() is the header block of a request with a body of bytes
    _head: bytes | None = None  # that block, kept to go out with the body

    def request(
        self, method: str, url: str, body: Any = None, headers: Any = None, **options: Any
    ) -> None:
        # urllib3's keywords passed on as they come (`chunked` among them), so a later urllib3
        # that adds one still reaches its own `request`.
        self._head = None
        self._join = (
            type(body) is bytes and not options.get("chunked") and 0 < len(body) <= JOINED_MAX
        )
        super().request(method, url, body, headers, **options)  # type: ignore[misc]

    def send(self, data: Any) -> None:
        head = self._head
        if head is not None:  # the body, after its header block
            self._head = None
            data = head + data
        elif self._join:  # the header block (urllib3 writes the body next, in one piece)
            self._join = False
            self._head = data
            return
        super().send(data)  # type: ignore[misc]

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
        reader = sock if deadline is None else DeadlineReader(sock, deadline)
        return self.respond(reader, debuglevel, method, url)
