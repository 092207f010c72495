# generated from spec/openapi.yaml by python -m codegen, do not edit
"""All of a transport that is not I/O, shared by the urllib3 and the aiohttp one.

What each transport guarantees, whatever its library: the API key goes where the spec's security
scheme says; redirects are never followed; `Accept-Encoding: identity` goes out and an answer in
another encoding, or longer than the cap, is refused unread (`Response.refused`) and its
connection closed; a failure without an answer is a `RequestFailed` whose `kind` says whether
any byte of the request can have reached the server, carrying the library's error as text with
the key taken out, never the library's exception (those quote headers and URLs).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Final, Required, TypedDict, Unpack
from urllib.parse import quote, urlsplit

from .http_types import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RESPONSE_BYTES,
    FailureKind,
    Request,
    RequestFailed,
)

if TYPE_CHECKING:
    import ssl

__all__ = ["TransportBase", "TransportSettings"]


class TransportSettings(TypedDict, total=False):
    """What both transports take (each adds its library's pool: a PoolManager or a session).
    `proxy_url` is scheme://host:port; its login goes in `proxy_headers`."""

    api_key: Required[str]
    base_url: str
    headers: Mapping[str, str]
    maxsize: int
    proxy_url: str | None
    proxy_headers: Mapping[str, str]
    ssl_context: ssl.SSLContext | None
    max_response_bytes: int


_NOT_SENT: Final[Mapping[str, tuple[str, FailureKind]]] = {
    "dns": ("the host name could not be resolved (DNS)", "refused"),
    "proxy": ("the proxy could not be reached or refused the connection", "refused"),
    "refused": ("the connection could not be opened", "refused"),
    "closed": ("the connection closed before the request was written", "refused"),
    "certificate": ("the server's TLS certificate was refused", "tls"),
    "tls": ("TLS could not be agreed with the server", "tls"),
    "timeout": ("no connection within the connect timeout", "connect-timeout"),
    "deadline": ("no connection before the deadline", "connect-timeout"),
}
"""Why an attempt sent nothing, in words, and its kind."""

_OWN_ERRORS: Final = frozenset({"builtins", "socket", "ssl"})
"""Modules whose OSErrors carry only an errno and the system's words (no URL, no header)."""

# The key as the spec's query-located schemes write it into a URL (any value is scrubbed).
_QUERY_KEYS: Final = re.compile(r"(?i)\b(apiKey)=[^&\s'\"<>]*")


class TransportBase:
    """A transport's settings, and the steps of an attempt around its I/O: `_prepare` (path,
    headers with the key, timeouts cut to the deadline), `_refusal` (may the body be read?),
    and the failures `_unsent` and `_unknown`."""

    __slots__ = (
        "_api_key",
        "_base_path",
        "_base_url",
        "_headers",
        "_max_bytes",
        "_maxsize",
        "_origin",
        "_proxy_headers",
        "_proxy_url",
        "_quoted",
        "_secrets",
        "_ssl",
    )

    def __init__(self, *, ask_identity: bool = True, **settings: Unpack[TransportSettings]) -> None:
        """`ask_identity=False` for a library that itself sends `Accept-Encoding: identity`
        when no header names an encoding (http.client does): the same header, no work."""
        api_key, base_url = settings["api_key"], settings.get("base_url", DEFAULT_BASE_URL)
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("base_url must be an http(s) URL with a host")
        self._api_key, self._quoted = api_key, quote(api_key, safe="")
        self._base_url = base_url.rstrip("/")
        self._origin, self._base_path = f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/")
        # Asked for (by us or the library): `_refusal` refuses any other encoding.
        asked = {"Accept-Encoding": "identity"} if ask_identity else {}
        self._headers = {**asked, **settings.get("headers", {})}
        self._maxsize = settings.get("maxsize", 10)
        self._proxy_url = settings.get("proxy_url")
        self._proxy_headers = dict(settings.get("proxy_headers", {}))
        self._ssl = settings.get("ssl_context")
        self._max_bytes = settings.get("max_response_bytes", DEFAULT_MAX_RESPONSE_BYTES)
        forms = {api_key, self._quoted, *self._proxy_headers.values()} - {""}
        self._secrets = sorted(forms, key=len, reverse=True)

    @property
    def base_url(self) -> str:
        return self._base_url

    def __repr__(self) -> str:
        # The key is a secret: say only whether one is set; a proxy by its address alone.
        key = "set" if self._api_key else "unset"
        proxy = f", proxy={self._proxy_url!r}" if self._proxy_url is not None else ""
        return f"{type(self).__name__}(base_url={self._base_url!r}{proxy}, api_key=<{key}>)"

    def _prepare(
        self, request: Request, timeout: tuple[float, float], deadline: float | None
    ) -> tuple[str, dict[str, str], float, float, float | None]:
        """The path with its query, the headers with the key where its scheme says, the
        (connect, read) timeouts cut to the deadline, and the seconds left before it."""
        headers = {**self._headers, **request.headers}
        query = request.query
        if request.security == "apiKeyHeader":
            headers["Authorization"] = self._api_key
        elif request.security == "apiKeyQuery":
            query = (query + "&" if query else "") + "apiKey=" + self._quoted
        path = self._base_path + request.path + ("?" + query if query else "")
        connect, read = timeout
        if deadline is None:
            return path, headers, connect, read, None
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RequestFailed(
                "the deadline passed before the request was sent; nothing was sent",
                kind="connect-timeout",
                timed_out=True,
            )
        return path, headers, min(connect, remaining), min(read, remaining), remaining

    def _refusal(self, encoding: str | None, length: int | None) -> str | None:
        """Why an answer's body must not be read, from its Content-Encoding and Content-Length
        alone (None: read it)."""
        if encoding and encoding.strip().lower() != "identity":
            what = encoding.strip()[:40]
            return f"the answer is compressed ({what}), which the client did not ask for; it was not read"
        if length is not None and length > self._max_bytes:
            return f"the answer is {length:,} bytes, more than the {self._max_bytes:,}-byte cap"
        return None

    def _too_large(self) -> str:
        """The refusal for a body found to be over the cap while reading it."""
        return f"the answer is more than the {self._max_bytes:,}-byte cap; it was not read"

    @staticmethod
    def _late(deadline: float | None) -> bool:
        """Whether the deadline, rather than a timeout of its own, ended an attempt."""
        return deadline is not None and time.monotonic() >= deadline - 0.005

    def _unsent(
        self, error: BaseException | None, deadline: float | None, why: str | None = None
    ) -> RequestFailed:
        """A failure before any byte of the request was written. `why` is the library's word
        for it ("proxy", "dns", "closed"); otherwise `error`'s chain says (TLS, a timeout, or
        refused). A timeout anywhere in the chain makes it `timed_out`."""
        import ssl  # loaded by the HTTP library already

        chain = list(_chain(error))
        timed_out = any(isinstance(e, TimeoutError) for e in chain)
        if why is None:
            if any(isinstance(e, ssl.SSLCertVerificationError) for e in chain):
                why = "certificate"
            elif any(isinstance(e, ssl.SSLError) for e in chain):
                why = "tls"
            elif timed_out:
                why = "deadline" if self._late(deadline) else "timeout"
            else:
                why = "refused"
        reason, kind = _NOT_SENT[why]
        if timed_out and kind == "refused":  # a proxy that never answered, say
            kind = "connect-timeout"
        return self._failed(f"{reason}; nothing was sent", kind, timed_out, error)

    def _unknown(
        self, timed_out: bool, deadline: float | None, error: BaseException
    ) -> RequestFailed:
        """A failure once the request was being written: it may have reached the server."""
        if not timed_out:
            return self._failed(
                "the connection broke after the request was sent", "unknown", False, error
            )
        what = "before the deadline" if self._late(deadline) else "within the read timeout"
        return self._failed(
            f"no complete answer {what} after the request was sent", "unknown", True, error
        )

    def _failed(
        self, reason: str, kind: FailureKind, timed_out: bool, error: BaseException | None
    ) -> RequestFailed:
        detail = "" if error is None else f"{type(error).__name__}: {error}"
        for secret in self._secrets:
            detail = detail.replace(secret, "***")
        failure = RequestFailed(
            reason, kind=kind, timed_out=timed_out, detail=_QUERY_KEYS.sub(r"\1=***", detail)[:500]
        )
        # Kept as the cause: the operating system's error, copied (errno and text), if any.
        for found in _chain(error):
            if (
                isinstance(found, OSError)
                and found.errno is not None
                and type(found).__module__ in _OWN_ERRORS
            ):
                failure.__cause__ = type(found)(found.errno, found.strerror)
                break
        return failure


def _chain(error: BaseException | None) -> Iterator[BaseException]:
    """`error` and what it was raised from or while handling, nearest first (at most 8)."""
    for _ in range(8):
        if error is None:
            return
        yield error
        error = error.__cause__ or error.__context__
