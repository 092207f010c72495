"""Every setting of a client in one typed, immutable object.

A `ClientConfig` is checked once, when it is made, so a wrong setting fails at start-up with the
setting's name rather than at the first send. It is frozen: a client shares it across threads
without locks, and `replace()` makes a changed copy.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from clickatell_wire.tables import DEFAULT_BASE_URL

from ._version import __version__
from .errors import ValidationError
from .redact import mask_key
from .retry import RetryPolicy

__all__ = [
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "INTEGRATION_ENV",
    "NOT_GIVEN",
    "ClientConfig",
    "Format",
    "Integration",
    "NotGiven",
    "TimeoutArg",
    "check_header_text",
    "check_integration",
]

Format = Literal["json", "xml"]
"""The body format of requests and answers; the API speaks both."""

Integration = Literal["rest", "http"]
"""The type of Clickatell integration the API key belongs to, which decides how a send travels:
"rest" is `POST /messages` with the key in the Authorization header (the default), "http" is
`GET /messages/http/send` with the key in the query string (only `to`, `content` and `from`)."""

TimeoutArg = float | tuple[float, float]
"""Seconds for both connecting and reading, or a `(connect, read)` pair."""

API_KEY_ENV: Final = "CLICKATELL_API_KEY"
BASE_URL_ENV: Final = "CLICKATELL_BASE_URL"
INTEGRATION_ENV: Final = "CLICKATELL_INTEGRATION"

_USER_AGENT: Final = f"clickatell-sms/{__version__} python/{platform.python_version()}"
_FORMATS: Final = ("json", "xml")
_INTEGRATIONS: Final = ("rest", "http")


class NotGiven:
    """The default of an argument for which None is a value to check, not "not given".

    `Client(integration=None)` is a mistake to report, while leaving `integration` out means
    "as the config or the environment says"; a sentinel tells the two apart.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()


@dataclass(frozen=True, slots=True, repr=False)
class ClientConfig:
    """A client's settings.

    `api_key` is the integration's key, sent as the `Authorization` header exactly as given.
    Timeouts are in seconds: `connect_timeout` bounds opening a connection (safe to retry),
    `read_timeout` bounds waiting for the answer once the request is written (never retried: the
    message may already be on its way). `default_region` (ISO 3166, such as "ZA") lets numbers
    be written nationally ("082 123 4567"); without it every number needs its country code.
    Phone numbers are masked in logs unless `log_numbers` is set. `headers` are sent with every
    request (per-call headers add to them). `integration` is the key's integration type, which
    decides how `send` travels: "rest" (`POST /messages`) or "http" (the HTTP integration's
    `GET /messages/http/send`); a call can still say otherwise.
    """

    api_key: str
    base_url: str = DEFAULT_BASE_URL
    format: Format = "json"
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_connections: int = 10
    default_region: str | None = None
    log_numbers: bool = False
    user_agent: str = _USER_AGENT
    headers: Mapping[str, str] = field(default_factory=dict)
    integration: Integration = "rest"

    def __post_init__(self) -> None:
        if not isinstance(self.api_key, str) or not self.api_key.strip():
            raise ValidationError(
                "api_key", f"is missing; pass api_key= or set the {API_KEY_ENV} variable"
            )
        if not self.api_key.isprintable():
            # The key itself stays out of the message: it is a secret even when malformed.
            raise ValidationError("api_key", "contains a line break or control character")
        parts = urlsplit(self.base_url) if isinstance(self.base_url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValidationError("base_url", "must be an http(s) URL with a host", self.base_url)
        if parts.query or parts.fragment:
            raise ValidationError("base_url", "must not have a query or fragment", self.base_url)
        if self.format not in _FORMATS:
            raise ValidationError("format", "must be 'json' or 'xml'", self.format)
        for name in ("connect_timeout", "read_timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ValidationError(name, "must be a number of seconds > 0", value)
        if not isinstance(self.retry, RetryPolicy):
            raise ValidationError("retry", "must be a RetryPolicy", self.retry)
        if (
            isinstance(self.max_connections, bool)
            or not isinstance(self.max_connections, int)
            or self.max_connections < 1
        ):
            raise ValidationError("max_connections", "must be an int >= 1", self.max_connections)
        if self.default_region is not None and (
            not isinstance(self.default_region, str) or len(self.default_region) != 2
        ):
            raise ValidationError(
                "default_region", "must be a two-letter ISO 3166 code", self.default_region
            )
        check_integration(self.integration)
        check_header_text("user_agent", self.user_agent)
        for name, value in self.headers.items():
            check_header_text(f"headers[{name!r}]", value, name=name)
        # A read-only copy: a caller mutating their dict later must not change a live client.
        object.__setattr__(self, "headers", MappingProxyType(dict(self.headers)))
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))

    @classmethod
    def from_env(cls, *, environ: Mapping[str, str] | None = None, **settings: Any) -> ClientConfig:
        """Settings given here, with `api_key`, `base_url` and `integration` read from the
        environment if absent.

        `CLICKATELL_API_KEY`, `CLICKATELL_BASE_URL` and `CLICKATELL_INTEGRATION` fill only what
        the caller left as None, so an explicit argument always wins over the environment. An
        empty variable counts as unset; a bad one is a `ValidationError` naming the setting and
        the variable.
        """
        env = os.environ if environ is None else environ
        given = {name: value for name, value in settings.items() if value is not None}
        if "api_key" not in given:
            given["api_key"] = env.get(API_KEY_ENV, "")
        if "base_url" not in given and env.get(BASE_URL_ENV):
            given["base_url"] = env[BASE_URL_ENV]
        if "integration" not in given and env.get(INTEGRATION_ENV):
            given["integration"] = check_integration(env[INTEGRATION_ENV], INTEGRATION_ENV)
        return cls(**given)

    def replace(self, **changes: Any) -> ClientConfig:
        """A copy with some settings changed (checked like a new config)."""
        return replace(self, **changes)

    def __repr__(self) -> str:
        # Never the key itself: reprs end up in logs, tracebacks and bug reports.
        return (
            f"ClientConfig(api_key={mask_key(self.api_key)}, base_url={self.base_url!r},"
            f" format={self.format!r}, connect_timeout={self.connect_timeout},"
            f" read_timeout={self.read_timeout}, retry={self.retry!r},"
            f" max_connections={self.max_connections}, default_region={self.default_region!r},"
            f" log_numbers={self.log_numbers}, integration={self.integration!r})"
        )


def check_integration(value: object, source: str = "") -> Integration:
    """`value` as an `Integration`, or a ValidationError naming the setting (and `source`, the
    environment variable it came from, if it came from one)."""
    if value not in _INTEGRATIONS:
        where = f" (from {source})" if source else ""
        raise ValidationError("integration", f"must be 'rest' (POST) or 'http' (GET){where}", value)
    return value  # narrowed to the Literal by `in`


def check_header_text(field_name: str, value: object, *, name: str = "") -> None:
    """Header names and values that http.client would refuse (quoting them in its error)."""
    if not isinstance(value, str) or not value.isprintable():
        raise ValidationError(field_name, "must be a string without line breaks")
    if name and (not name.isprintable() or ":" in name or not name.strip()):
        raise ValidationError(field_name, "is not a valid header name")
