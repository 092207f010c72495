# generated from spec/openapi.yaml sha256 833aea7d1fba5505f4a281b3e3edc3f6d5e7124145b30c4f2f9841c22fed7f84, do not edit
"""HTTP transport for Clickatell Platform messaging API: one urllib3 connection pool per base URL.

The pool for the base URL is looked up once and used directly, which skips urllib3's per-request
PoolManager routing; retries and timeouts are whatever the caller passes, so the policy lives in
one place above this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TypeAlias
from urllib.parse import quote, urlsplit

import urllib3
from urllib3.util.retry import Retry
from urllib3.util.timeout import Timeout

DEFAULT_BASE_URL = "https://platform.clickatell.com"
"""The spec's first server."""

SecurityScheme: TypeAlias = Literal["apiKeyHeader", "apiKeyQuery"]
SECURITY_SCHEMES: Mapping[str, tuple[str, str]] = {
    "apiKeyHeader": ("header", "Authorization"),
    "apiKeyQuery": ("query", "apiKey"),
}
"""Scheme name -> (where the key goes, under which name), from components/securitySchemes."""

TimeoutLike: TypeAlias = Timeout | float | None
RetryLike: TypeAlias = Retry | int | bool | None


class WireDecodeError(ValueError):
    """A response body that does not match the spec's schema; the response is kept whole."""

    def __init__(self, message: str, response: Response) -> None:
        super().__init__(message)
        self.response = response


@dataclass(frozen=True, slots=True)
class Response:
    """What came back: status, headers and the body as received."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def media_type(self) -> str:
        """The Content-Type without parameters, lower-cased ("" when absent)."""
        value = self.headers.get("Content-Type", "")
        return value.split(";", 1)[0].strip().lower()


class Transport:
    """Sends requests to one base URL with the API key applied as each operation's scheme asks."""

    __slots__ = (
        "_api_key",
        "_base_path",
        "_base_url",
        "_headers",
        "_manager",
        "_owns_manager",
        "_pool",
        "retries",
        "timeout",
    )

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout: TimeoutLike = None,
        retries: RetryLike = False,
        headers: Mapping[str, str] | None = None,
        maxsize: int = 10,
        manager: urllib3.PoolManager | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url must be an http(s) URL with a host, got {base_url!r}")
        self._api_key = api_key
        self._base_url = base_url.rstrip("/")
        self._base_path = parts.path.rstrip("/")
        self._headers = dict(headers or {})
        self._owns_manager = manager is None
        self._manager = manager or urllib3.PoolManager(num_pools=4, maxsize=maxsize, block=False)
        self._pool = self._manager.connection_from_url(base_url)
        self.timeout = timeout
        self.retries = retries

    @property
    def base_url(self) -> str:
        return self._base_url

    def __repr__(self) -> str:
        # The key is a secret: say only whether one is set.
        key = "set" if self._api_key else "unset"
        return f"Transport(base_url={self._base_url!r}, api_key=<{key}>)"

    def request(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        security: SecurityScheme | None = None,
        timeout: TimeoutLike = None,
        retries: RetryLike = None,
    ) -> Response:
        """Send one request; urllib3's exceptions pass through for the caller to classify."""
        merged = {**self._headers, **headers} if headers else dict(self._headers)
        if security is not None:
            location, name = SECURITY_SCHEMES[security]
            if location == "header":
                merged[name] = self._api_key
            else:
                pair = f"{name}={quote(self._api_key, safe='')}"
                query = f"{query}&{pair}" if query else pair
        url = self._base_path + path + ("?" + query if query else "")
        raw = self._pool.urlopen(
            method,
            url,
            body=body,
            headers=merged,
            retries=self.retries if retries is None else retries,
            timeout=self.timeout if timeout is None else timeout,
            redirect=False,
            assert_same_host=False,
            preload_content=True,
        )
        return Response(raw.status, raw.headers, raw.data)

    def close(self) -> None:
        """Close pooled connections (only those of a manager this transport created)."""
        if self._owns_manager:
            self._manager.clear()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
