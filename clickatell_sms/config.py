"""Every setting of a client in one typed, immutable object.

A `ClientConfig` is checked once, when it is made, so a wrong setting fails at start-up with the
setting's name rather than at the first send. It is frozen: a client shares it across threads
without locks, and `replace()` makes a changed copy.
"""

from __future__ import annotations

import base64
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal, TypedDict
from urllib.parse import unquote, urlsplit, urlunsplit

from clickatell_wire.tables import DEFAULT_BASE_URL, DEFAULT_MAX_RESPONSE_BYTES

from ._version import __version__
from .errors import ValidationError
from .loopback import is_loopback
from .redact import mask_key, redact_url
from .retry import RetryPolicy
from .settings import (
    ALLOW_INSECURE_HTTP_ENV,
    API_KEY_ENV,
    BASE_URL_ENV,
    INTEGRATION_ENV,
    OPT_OUTS_ENV,
    environment,
    read,
    read_flag,
)

if TYPE_CHECKING:
    import ssl

    from clickatell_wire.transport_base import TransportSettings

    from .hooks import Hook

__all__ = [
    "ALLOW_INSECURE_HTTP_ENV",
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "INTEGRATION_ENV",
    "NOT_GIVEN",
    "OPT_OUTS_ENV",
    "ClientCert",
    "ClientConfig",
    "ClientSettings",
    "Format",
    "Integration",
    "NotGiven",
    "ProxySettings",
    "TimeoutArg",
    "check_header_text",
    "check_integration",
    "opt_outs_location",
    "user_data_folder",
]

Format = Literal["json", "xml"]
"""The body format of requests and answers; the API speaks both."""

Integration = Literal["rest", "http"]
"""The type of Clickatell integration the API key belongs to, which decides how a send travels:
"rest" is `POST /messages` with the key in the Authorization header (the default), "http" is
`GET /messages/http/send` with the key in the query string (only `to`, `content` and `from`)."""

TimeoutArg = float | tuple[float, float]
"""Seconds for both connecting and reading, or a `(connect, read)` pair."""

ClientCert = str | os.PathLike[str] | tuple[str | os.PathLike[str], str | os.PathLike[str]]
"""A client certificate for TLS: one PEM file holding the certificate and its key, or a
`(certificate, key)` pair of files."""


class ClientSettings(TypedDict, total=False):
    """The settings `Client(...)` and `AsyncClient(...)` take as keywords (each one is the
    `ClientConfig` field of the same name; see there): `timeout` is seconds or a
    `(connect, read)` pair, `retries` a `RetryPolicy` or a number of retries. A setting left
    out, or None, is `ClientConfig.from_env`'s."""

    base_url: str | None
    format: Format | None
    timeout: TimeoutArg | None
    total_timeout: float | None
    retries: RetryPolicy | int | None
    default_region: str | None
    log_numbers: bool | None
    headers: Mapping[str, str] | None
    max_connections: int | None
    max_response_bytes: int | None
    proxy_url: str | None
    ca_bundle: str | os.PathLike[str] | None
    client_cert: ClientCert | None
    allow_insecure_http: bool | None
    on_request: Hook | None
    on_response: Hook | None


_USER_AGENT: Final = f"clickatell-sms/{__version__} python/{sys.version.split()[0]}"
_FORMATS: Final = ("json", "xml")
_INTEGRATIONS: Final = ("rest", "http")
_MISSING_KEY: Final = (
    f"is missing; pass api_key= or set the {API_KEY_ENV} variable. To try the SDK without an"
    " account, run the local sandbox: `from clickatell_sms.sandbox import Sandbox`, then"
    " `with Sandbox() as sb: client = Client(sb.api_key, base_url=sb.base_url)`"
)
# Headers the SDK writes itself. Framing and hop-by-hop headers (RFC 9110 7.6.1, 9112) given
# by a caller would desynchronise a pooled connection or the proxy; the others would contradict
# the body, the key or the encoding rules.
_RESERVED_HEADERS: Final = frozenset(
    {
        "connection",
        "content-length",
        "expect",
        "host",
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "accept",
        "accept-encoding",
        "authorization",
        "content-encoding",
        "content-type",
    }
)
_TOKEN_CHARS: Final = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


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

    `total_timeout` is the deadline of each request (up to 200 recipients), in seconds: its
    connecting, sending, every wait for bytes of the answer and every wait between retries
    (Retry-After included) fit in it. A request whose body may have reached the API when it
    passes ends in `OutcomeUnknownError` and is never resent. `max_response_bytes` caps the
    answer read; a bigger (or compressed) one is refused unread.

    The key travels in every request, so `base_url` must be https:// unless the host is this
    machine (loopback: 127.0.0.0/8, ::1, localhost), or `allow_insecure_http` is set (also
    `CLICKATELL_ALLOW_INSECURE_HTTP=1`) for a server you trust on a network you trust.
    Credentials in `base_url` are refused (the key is the API's only credential).

    `proxy_url` sends every request through an HTTP proxy (`http://user:password@host:port`;
    the password goes in a `Proxy-Authorization` header and is shown as `***` everywhere).
    `ca_bundle` is a PEM file of the certificate authorities to trust instead of the system's;
    `client_cert` a client certificate (`ClientCert`). `on_request` and `on_response` are
    called for every attempt of every request with a `hooks.Attempt` (operation, method, path,
    attempt number, and for `on_response` the status, duration and outcome): metrics and
    tracing plug in there. They never see the key, headers or a query string.
    """

    api_key: str
    base_url: str = DEFAULT_BASE_URL
    format: Format = "json"
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    total_timeout: float = 60.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_connections: int = 10
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    default_region: str | None = None
    log_numbers: bool = False
    user_agent: str = _USER_AGENT
    headers: Mapping[str, str] = field(default_factory=dict)
    integration: Integration = "rest"
    allow_insecure_http: bool = False
    proxy_url: str | None = None
    ca_bundle: str | os.PathLike[str] | None = None
    client_cert: ClientCert | None = None
    on_request: Hook | None = None
    on_response: Hook | None = None

    def __post_init__(self) -> None:
        _check_api_key(self.api_key)
        object.__setattr__(self, "base_url", _checked_base_url(self))
        if self.format not in _FORMATS:
            raise ValidationError("format", "must be 'json' or 'xml'", self.format)
        for name in ("connect_timeout", "read_timeout", "total_timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ValidationError(name, "must be a number of seconds > 0", value)
        if (
            isinstance(self.max_response_bytes, bool)
            or not isinstance(self.max_response_bytes, int)
            or self.max_response_bytes < 1024
        ):
            raise ValidationError(
                "max_response_bytes", "must be an int >= 1024", self.max_response_bytes
            )
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
        if self.proxy_url is not None:
            self.proxy  # noqa: B018 (parsed once here, so a bad URL fails by name now)
        _check_files(self)
        for name in ("on_request", "on_response"):
            if getattr(self, name) is not None and not callable(getattr(self, name)):
                raise ValidationError(name, "must be a function taking an Attempt")

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context `ca_bundle` and `client_cert` ask for (None: the library's default),
        read when a client is made, so an unreadable file fails then, by name."""
        if self.ca_bundle is None and self.client_cert is None:
            return None
        import ssl  # tens of milliseconds to import: only TLS files given need it here

        try:
            context = ssl.create_default_context(
                cafile=None if self.ca_bundle is None else str(self.ca_bundle)
            )
        except (OSError, ssl.SSLError) as exc:
            raise ValidationError("ca_bundle", f"is not a readable PEM file ({exc})") from None
        cert = self.client_cert
        if cert is not None:
            certfile, keyfile = cert if isinstance(cert, tuple) else (cert, None)
            try:
                context.load_cert_chain(str(certfile), None if keyfile is None else str(keyfile))
            except (OSError, ssl.SSLError) as exc:
                raise ValidationError(
                    "client_cert", f"is not a readable certificate and key ({exc})"
                ) from None
        return context

    @property
    def proxy(self) -> ProxySettings | None:
        """`proxy_url` split into the proxy's address and its login header (None: no proxy)."""
        if self.proxy_url is None:
            return None
        if not isinstance(self.proxy_url, str) or not self.proxy_url.isprintable():
            raise ValidationError("proxy_url", "must be a URL without line breaks")
        try:
            return ProxySettings.parse(self.proxy_url)
        except ValueError as exc:
            # The URL may hold a password: only its redacted form goes in the error.
            raise ValidationError("proxy_url", str(exc), redact_url(self.proxy_url)) from None

    @classmethod
    def from_env(cls, *, environ: Mapping[str, str] | None = None, **settings: Any) -> ClientConfig:
        """Settings given here, with `api_key`, `base_url` and `integration` read from the
        environment if absent.

        `CLICKATELL_API_KEY`, `CLICKATELL_BASE_URL` and `CLICKATELL_INTEGRATION` fill only what
        the caller left as None, so an explicit argument always wins over the environment. An
        empty variable counts as unset; a bad one is a `ValidationError` naming the setting and
        the variable.
        """
        given = {name: value for name, value in settings.items() if value is not None}
        if "api_key" not in given:
            given["api_key"] = read(API_KEY_ENV, environ) or ""
        if "base_url" not in given and (base_url := read(BASE_URL_ENV, environ)):
            given["base_url"] = base_url
        if "integration" not in given and (integration := read(INTEGRATION_ENV, environ)):
            given["integration"] = check_integration(integration, INTEGRATION_ENV)
        if "allow_insecure_http" not in given:
            insecure = read_flag(ALLOW_INSECURE_HTTP_ENV, environ)
            if insecure is not None:
                given["allow_insecure_http"] = insecure
        return cls(**given)

    def replace(self, **changes: Any) -> ClientConfig:
        """A copy with some settings changed (checked like a new config)."""
        return replace(self, **changes)

    def __repr__(self) -> str:
        # Never the key itself: reprs end up in logs, tracebacks and bug reports.
        proxy = self.proxy
        return (
            f"ClientConfig(api_key={mask_key(self.api_key)}, base_url={self.base_url!r},"
            f" format={self.format!r}, connect_timeout={self.connect_timeout},"
            f" read_timeout={self.read_timeout}, total_timeout={self.total_timeout},"
            f" retry={self.retry!r}, max_connections={self.max_connections},"
            f" default_region={self.default_region!r}, log_numbers={self.log_numbers},"
            f" integration={self.integration!r}"
            + (f", proxy_url={proxy.shown!r}" if proxy is not None else "")
            + ")"
        )


def check_integration(value: object, source: str = "") -> Integration:
    """`value` as an `Integration`, or a ValidationError naming the setting (and `source`, the
    environment variable it came from, if it came from one)."""
    if value not in _INTEGRATIONS:
        where = f" (from {source})" if source else ""
        raise ValidationError("integration", f"must be 'rest' (POST) or 'http' (GET){where}", value)
    return value  # narrowed to the Literal by `in`


def check_header_text(field_name: str, value: object, *, name: str = "") -> None:
    """A header the SDK may send: a value http.client would not refuse (quoting it in its
    error) and, when `name` is given, a valid name that is not one the SDK writes itself."""
    if not isinstance(value, str) or not value.isprintable():
        raise ValidationError(field_name, "must be a string without line breaks")
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        raise ValidationError(
            field_name, "has characters a header cannot carry (Latin-1 only)"
        ) from None
    if not name:
        return
    if not isinstance(name, str) or not name or not _TOKEN_CHARS.issuperset(name):
        raise ValidationError(field_name, "is not a valid header name")
    if name.lower() in _RESERVED_HEADERS:
        raise ValidationError(
            field_name,
            "is a header the SDK writes itself (framing, connection, encoding or"
            " authentication); it cannot be set",
        )


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


def transport_settings(config: ClientConfig) -> TransportSettings:
    """`config` as both generated transports take it: the SDK's User-Agent before the caller's
    headers, and the TLS context made now (a `ValidationError` naming ca_bundle or client_cert)."""
    proxy = config.proxy
    settings: TransportSettings = {  # a TypedDict: a plain dict that needs no import to make
        "api_key": config.api_key,
        "base_url": config.base_url,
        "headers": {"User-Agent": config.user_agent, **config.headers},
        "maxsize": config.max_connections,
        "proxy_url": None if proxy is None else proxy.url,
        "proxy_headers": {} if proxy is None else proxy.headers,
        "ssl_context": config.ssl_context(),
        "max_response_bytes": config.max_response_bytes,
    }
    return settings


def _check_api_key(api_key: object) -> None:
    if not isinstance(api_key, str) or not api_key.strip():
        raise ValidationError("api_key", _MISSING_KEY)
    # The key itself stays out of every message: it is a secret even when malformed.
    if not api_key.isprintable():
        raise ValidationError("api_key", "contains a line break or control character")
    try:
        api_key.encode("latin-1")
    except UnicodeEncodeError:
        raise ValidationError(
            "api_key",
            "has characters an HTTP header cannot carry (only Latin-1); check it was copied"
            " whole from the Clickatell portal",
        ) from None


def _checked_base_url(config: ClientConfig) -> str:
    """The base URL without a trailing slash, or a ValidationError naming what is wrong."""
    url = config.base_url
    if not isinstance(url, str) or not url.isprintable() or any(c.isspace() for c in url):
        # urlsplit drops tabs and line breaks silently; a URL that had them is refused here.
        raise ValidationError("base_url", "must be a URL without spaces or line breaks")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("base_url", "must be an http(s) URL with a host", redact_url(url))
    if parts.username is not None or parts.password is not None:
        raise ValidationError(
            "base_url",
            "must not contain credentials (user:password@): the API key, given on its own, is"
            " the only credential the API takes",
            redact_url(url),
        )
    if parts.query or parts.fragment:
        raise ValidationError("base_url", "must not have a query or fragment", url)
    try:
        parts.port  # noqa: B018 (raises for a port that is not a number in range)
    except ValueError:
        raise ValidationError("base_url", "has an invalid port", url) from None
    if (
        parts.scheme == "http"
        and not config.allow_insecure_http
        and not is_loopback(parts.hostname)
    ):
        raise ValidationError(
            "base_url",
            f"is plain http:// to {parts.hostname}, which is not this machine: the API key would"
            " cross the network unencrypted. Use https://, or set allow_insecure_http=True"
            f" ({ALLOW_INSECURE_HTTP_ENV}=1) for a server and a network you trust",
            url,
        )
    return url.rstrip("/")


def _check_files(config: ClientConfig) -> None:
    """The TLS files exist (reading them is the transport's, when the client is made)."""
    cert = config.client_cert
    files: list[tuple[str, object]] = [("ca_bundle", config.ca_bundle)]
    if isinstance(cert, tuple):
        if len(cert) != 2:
            raise ValidationError("client_cert", "must be a file, or a (certificate, key) pair")
        files += [("client_cert", cert[0]), ("client_cert", cert[1])]
    else:
        files.append(("client_cert", cert))
    for name, path in files:
        if path is None:
            continue
        if not isinstance(path, str | os.PathLike) or not os.path.isfile(path):
            raise ValidationError(name, "must be the path of an existing PEM file", str(path))


def user_data_folder(environ: Mapping[str, str] | None = None) -> Path:
    """The folder this SDK keeps the user's own data in (the opt-out store): the platform's
    per-user data folder, `clickatell-sms` inside it. Written here rather than taken from
    platformdirs: three platform rules do not justify a runtime dependency."""
    env = environment() if environ is None else environ
    if sys.platform == "win32":
        base = env.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = str(Path.home() / "Library" / "Application Support")
    else:  # the XDG base directory rule: an absolute XDG_DATA_HOME, else ~/.local/share
        given = env.get("XDG_DATA_HOME", "")
        base = given if os.path.isabs(given) else str(Path.home() / ".local" / "share")
    return Path(base) / "clickatell-sms"


def opt_outs_location(
    explicit: str | os.PathLike[str] | None = None,
    *,
    journal: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """Where the opt-out store is: `explicit` when given, else `CLICKATELL_OPT_OUTS`, else
    `opt-outs.sqlite` in the user's data folder; so `listen` and `bulk` find the same store
    without being told. With a PostgreSQL `journal` (a campaign on workers, and the listener
    writing its callbacks) the store must be one every worker reads: the variable then counts
    only when it is a `postgresql://` URL too, and the journal's own database is the default."""
    if explicit is not None and str(explicit):
        return str(explicit)
    env = environment() if environ is None else environ
    given = (read(OPT_OUTS_ENV, env) or "").strip()
    shared = journal is not None and _is_postgres(str(journal))
    if given and (not shared or _is_postgres(given)):
        return given
    if shared:
        return str(journal)
    return str(user_data_folder(env) / "opt-outs.sqlite")


def _is_postgres(location: str) -> bool:
    return location.startswith(("postgresql://", "postgres://"))
