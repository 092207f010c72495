# generated from spec/openapi.yaml by python -m codegen, do not edit
"""The request an operation builds, the answer a transport returns, and the one failure it raises.

Both transports (`transport` on urllib3, `async_transport` on aiohttp) send exactly one attempt
per call and keep the same rules (`transport_base`). Nothing here imports an HTTP library.
Requests and answers are frozen msgspec Structs: made for every attempt, they cost a fraction
of a frozen dataclass.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal, TypeAlias

import msgspec

from .tables import DEFAULT_MAX_RESPONSE_BYTES

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "SECURITY_SCHEMES",
    "FailureKind",
    "Progress",
    "Request",
    "RequestFailed",
    "Response",
    "SecurityScheme",
    "WireDecodeError",
]

DEFAULT_BASE_URL: Final = "https://platform.clickatell.com"
"""The spec's first server."""


SecurityScheme: TypeAlias = Literal["apiKeyHeader", "apiKeyQuery"]
SECURITY_SCHEMES: Final[Mapping[str, tuple[str, str]]] = {
    "apiKeyHeader": ("header", "Authorization"),
    "apiKeyQuery": ("query", "apiKey"),
}
"""Scheme name -> (where the key goes, under which name), from components/securitySchemes."""

FailureKind: TypeAlias = Literal["refused", "connect-timeout", "tls", "unknown"]
"""How an attempt without an answer failed. The first three provably sent nothing: no connection
(refused, DNS, a proxy that would not connect), none in time, or TLS refused before any request
byte was written. "unknown": the request may have reached the server."""


class Request(msgspec.Struct, frozen=True, gc=False):
    """One operation's request, before the key is added: what the generated builders return.

    `path` is the operation's path as the spec writes it (never a query, never the key), so it
    is safe to log and to hand to hooks; `query` is already encoded.
    """

    operation: str
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes | None
    security: SecurityScheme | None


class Response(msgspec.Struct, frozen=True, gc=False):
    """What came back: status, headers and the body as received.

    `refused` is set, and `body` empty, when the transport would not read the body (an encoding
    not asked for, or more than the cap); the status and headers are still the server's.
    """

    status: int
    headers: Mapping[str, str]
    body: bytes
    refused: str | None = None

    @property
    def media_type(self) -> str:
        """The Content-Type without parameters, lower-cased ("" when absent)."""
        try:  # not .get(): a mapping's get is a second call, and this runs for every answer
            value = self.headers["Content-Type"]
        except KeyError:
            return ""
        return value.split(";", 1)[0].strip().lower()


class WireDecodeError(ValueError):
    """A response body that does not match the spec's schema; the response is kept whole."""

    def __init__(self, message: str, response: Response) -> None:
        super().__init__(message)
        self.response = response


class RequestFailed(Exception):
    """An attempt that got no HTTP answer: `reason` is for people and never holds a URL;
    `detail` is the library's own error as text with the key taken out (never the library's
    exception itself: those quote headers and URLs). `timed_out`: a timeout or the deadline
    ended it. Its `__cause__`, if any, is a copy of the operating system's error."""

    def __init__(
        self, reason: str, *, kind: FailureKind, timed_out: bool = False, detail: str = ""
    ) -> None:
        super().__init__(f"{reason} ({detail})" if detail else reason)
        self.reason = reason
        self.kind: FailureKind = kind
        self.timed_out = timed_out
        self.detail = detail

    @property
    def maybe_sent(self) -> bool:
        """True when the request may have reached the server (never retry a send then)."""
        return self.kind == "unknown"


class Progress:
    """How far an attempt got, for a caller whose attempt was cancelled midway: `maybe_sent`
    turns true once the request may have reached the server (its body began to go out)."""

    __slots__ = ("maybe_sent",)

    def __init__(self) -> None:
        self.maybe_sent = False
