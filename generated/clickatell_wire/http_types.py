# generated from spec/openapi.yaml sha256 4ef00f7142349f23112e6030d87ee061204ee554c5c5b1dc6d0b30f0a9cd7cb8, do not edit
"""What the urllib3 and the asyncio transports share: the request an operation builds, the answer
a transport returns, the one failure it raises, and the rules every answer passes.

Both transports send exactly one attempt per call; retries, waits and the total deadline belong
to the caller, which has the policy. What each transport guarantees, whatever its library:

* the API key is added here, where the spec's security scheme says (a header or the query);
* redirects are never followed (a 3xx comes back as it is, `Location` included);
* a body the client did not ask for is never read: `Accept-Encoding: identity` goes out, an
  answer with another `Content-Encoding` or one longer than the cap is refused unread, and
  its connection is closed rather than reused (`Response.refused` says why);
* a failure without an answer is a `RequestFailed` whose `kind` says whether any byte of the
  request can have reached the server.

Nothing here imports an HTTP library, so either transport can be loaded without the other.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal, NamedTuple, TypeAlias
from urllib.parse import quote, unquote, urlsplit, urlunsplit

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "SECURITY_SCHEMES",
    "BaseUrl",
    "FailureKind",
    "Progress",
    "ProxySettings",
    "Request",
    "RequestFailed",
    "Response",
    "SecurityScheme",
    "WireDecodeError",
    "refusal",
    "split_base_url",
    "target",
    "too_large",
]

DEFAULT_BASE_URL: Final = "https://platform.clickatell.com"
"""The spec's first server."""

DEFAULT_MAX_RESPONSE_BYTES: Final = 4 * 1024 * 1024
"""The largest answer read. A 200-recipient answer is about 30 KB; anything near this is not
the API talking."""

SecurityScheme: TypeAlias = Literal["apiKeyHeader", "apiKeyQuery"]
SECURITY_SCHEMES: Final[Mapping[str, tuple[str, str]]] = {
    "apiKeyHeader": ("header", "Authorization"),
    "apiKeyQuery": ("query", "apiKey"),
}
"""Scheme name -> (where the key goes, under which name), from components/securitySchemes."""

FailureKind: TypeAlias = Literal["refused", "connect-timeout", "tls", "unknown"]
"""How an attempt without an answer failed. The first three provably sent nothing: no connection
(refused, DNS, a proxy that would not connect), none in time, or a certificate refused before
any request byte was written. "unknown": the request may have reached the server."""


@dataclass(frozen=True, slots=True)
class Request:
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


@dataclass(frozen=True, slots=True)
class Response:
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
        value = self.headers.get("Content-Type", "")
        return value.split(";", 1)[0].strip().lower()


class WireDecodeError(ValueError):
    """A response body that does not match the spec's schema; the response is kept whole."""

    def __init__(self, message: str, response: Response) -> None:
        super().__init__(message)
        self.response = response


class RequestFailed(Exception):
    """An attempt that got no HTTP answer. The message is for people and never holds a URL.

    `timed_out` is true when a timeout or the deadline ended it (connecting or waiting).
    """

    def __init__(self, reason: str, *, kind: FailureKind, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind: FailureKind = kind
        self.timed_out = timed_out

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


@dataclass(frozen=True, slots=True)
class ProxySettings:
    """A proxy URL split into where it is and how to log in, so the password lives in one
    header and never in a URL that a library might print."""

    url: str
    """scheme://host:port, without credentials."""
    headers: Mapping[str, str]
    """`Proxy-Authorization` when the URL had credentials."""
    shown: str
    """The URL for people: credentials replaced by `***`."""

    @classmethod
    def parse(cls, proxy_url: str) -> ProxySettings:
        parts = urlsplit(proxy_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        netloc = f"{host}:{parts.port}" if parts.port else host
        headers: dict[str, str] = {}
        shown = urlunsplit((parts.scheme, netloc, "", "", ""))
        if parts.username is not None or parts.password is not None:
            pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
            token = base64.b64encode(pair.encode("utf-8")).decode("ascii")
            headers["Proxy-Authorization"] = f"Basic {token}"
            shown = urlunsplit((parts.scheme, f"***@{netloc}", "", "", ""))
        return cls(urlunsplit((parts.scheme, netloc, "", "", "")), headers, shown)

    def __repr__(self) -> str:
        return f"ProxySettings({self.shown!r})"


class BaseUrl(NamedTuple):
    """The parts of a base URL the transports use: the URL without a trailing slash, its origin
    (`scheme://host:port`), its path prefix (requests' paths are appended to it), and the
    scheme, host and port a connection is made to."""

    url: str
    origin: str
    path: str
    scheme: str
    host: str
    port: int | None


def split_base_url(base_url: str) -> BaseUrl:
    """`base_url` split as the transports need it; ValueError unless it is an http(s) URL with a
    host (the client checks it with a friendlier message before this)."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("base_url must be an http(s) URL with a host")
    return BaseUrl(
        base_url.rstrip("/"),
        f"{parts.scheme}://{parts.netloc}",
        parts.path.rstrip("/"),
        parts.scheme,
        parts.hostname,
        parts.port,
    )


def target(
    request: Request, base_path: str, api_key: str, defaults: Mapping[str, str]
) -> tuple[str, dict[str, str]]:
    """The request's path with query, and its headers (after `defaults`), with the key where
    its scheme says."""
    headers = {**defaults, **request.headers}
    query = request.query
    if request.security is not None:
        location, name = SECURITY_SCHEMES[request.security]
        if location == "header":
            headers[name] = api_key
        else:
            pair = f"{name}={quote(api_key, safe='')}"
            query = f"{query}&{pair}" if query else pair
    return base_path + request.path + ("?" + query if query else ""), headers


def refusal(headers: Mapping[str, str], max_bytes: int) -> str | None:
    """Why an answer's body must not be read, from its headers alone (None: read it)."""
    encoding = headers.get("Content-Encoding")
    if encoding and encoding.strip().lower() != "identity":
        return (
            f"the answer is compressed ({encoding.strip()[:40]}), which the client did not ask"
            " for; it was not read"
        )
    length = headers.get("Content-Length")
    if length is not None and length.strip().isdigit() and int(length) > max_bytes:
        return f"the answer is {int(length):,} bytes, more than the {max_bytes:,}-byte cap"
    return None


def too_large(max_bytes: int) -> str:
    """The refusal for a body found to be over the cap while reading it."""
    return f"the answer is more than the {max_bytes:,}-byte cap; it was not read"
