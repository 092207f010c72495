# generated from spec/openapi.yaml by python -m codegen, do not edit
"""How far an aiohttp request got: whether any of it can have reached the server.

`TrackedBody` is the request's body as an aiohttp payload that notes, in a `Progress`, when
aiohttp starts to write it: before that the request is incomplete and no server can act on it.
`classify` reads an aiohttp error with that progress (a failure to connect, or to pass a proxy,
sent nothing at all).
"""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp.payload import BytesPayload

from .http_types import Progress

__all__ = ["TrackedBody", "classify"]


class TrackedBody(BytesPayload):
    """A request body that notes, in `progress`, when aiohttp starts to write it."""

    def __init__(self, value: bytes, progress: Progress) -> None:
        super().__init__(value)
        self.progress = progress

    async def write(self, writer: Any) -> None:  # what aiohttp before 3.12 calls
        self.progress.maybe_sent = True
        await super().write(writer)

    async def write_with_length(self, writer: Any, content_length: int | None) -> None:
        self.progress.maybe_sent = True
        await super().write_with_length(writer, content_length)


def classify(error: BaseException, progress: Progress) -> tuple[bool, bool, str | None]:
    """(may it have been sent, is it a timeout, why it was not: "proxy", "dns", "closed", or
    None when `TransportBase._unsent` is to read the error's chain)."""
    timed_out = isinstance(error, TimeoutError)
    connecting = isinstance(error, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError)
    proxy = isinstance(error, aiohttp.ClientProxyConnectionError | aiohttp.ClientHttpProxyError)
    if progress.maybe_sent and not (connecting or proxy):
        return True, timed_out, None
    if proxy or isinstance(error, aiohttp.ClientConnectorDNSError):
        return False, timed_out, "proxy" if proxy else "dns"
    return False, timed_out, None if connecting or timed_out else "closed"
