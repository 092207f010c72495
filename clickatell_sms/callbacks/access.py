"""Who may post callbacks: a shared secret carried by the callback URL, and source addresses.

Clickatell signs nothing it sends, so anyone who learns (or guesses) the callback URL can post a
forged "delivered" or a made-up reply. The protection therefore lives in the URL you configure
in the portal: it carries a secret, either as HTTP Basic credentials
(`https://clickatell:SECRET@host/path`) or as a `token` query parameter
(`https://host/path?token=SECRET`), and a request without it is refused before anything reads
its body. Secrets are compared with `hmac.compare_digest`, so the time an answer takes says
nothing about how much of a guess was right.

An allow-list of source networks is a second, optional fence; it only helps where the address
the server sees is the caller's (no proxy in between, or one you trust to rewrite it).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import logging
import re
import secrets
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Final, Literal
from urllib.parse import SplitResult, quote, unquote_to_bytes, urlsplit, urlunsplit

from ..errors import ValidationError
from ..settings import CALLBACK_SECRET_ENV as SECRET_ENV

__all__ = [
    "MIN_SECRET_LENGTH",
    "SECRET_ENV",
    "TOKEN_PARAMETER",
    "RefusalLog",
    "SecretCheck",
    "SourceAllowList",
    "checked_secret",
    "generate_secret",
    "take_token",
    "url_with_secret",
]


TOKEN_PARAMETER: Final = "token"
"""The query parameter that may carry the secret; it is removed before the callback is parsed."""

MIN_SECRET_LENGTH: Final = 16
"""Shorter secrets are refused (16 random URL-safe characters are about 96 bits)."""

BASIC_USER: Final = "clickatell"
"""The user name printed in Basic-credential URLs; the receiver ignores user names."""

# RFC 3986 "unreserved" characters mean the same thing in a URL's user-info, in a query and in a
# shell, so a secret made of them needs no escaping anywhere it is pasted.
_URL_SAFE: Final = re.compile(r"[A-Za-z0-9._~-]+")
_TOKEN_NAME: Final = TOKEN_PARAMETER.encode("ascii")


def generate_secret() -> str:
    """A new random secret: 32 bytes from `secrets`, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(32)


def checked_secret(secret: object, field: str = "secret") -> str:
    """`secret` if it is long enough and URL-safe; otherwise a ValidationError naming `field`."""
    if not isinstance(secret, str) or not secret:
        raise ValidationError(field, "must be a non-empty string")
    if len(secret) < MIN_SECRET_LENGTH:
        raise ValidationError(
            field,
            f"is {len(secret)} characters long; use at least {MIN_SECRET_LENGTH}"
            " (`clickatell-sms listen` prints a new one, or use secrets.token_urlsafe(32))",
        )
    if not _URL_SAFE.fullmatch(secret):
        raise ValidationError(
            field, "may hold only letters, digits and . _ ~ - (so it reads the same in any URL)"
        )
    return secret


class SecretCheck:
    """Whether a WSGI request carries one of the secrets, by Basic credentials or `token`.

    Several secrets may be valid at once, so that the URL in the portal can be changed without
    refusing the callbacks already on their way. Every presented value is compared with every
    secret, without stopping at the first match.
    """

    __slots__ = ("_secrets",)

    def __init__(self, secrets_: str | Sequence[str]) -> None:
        given = [secrets_] if isinstance(secrets_, str) else list(secrets_)
        if not given:
            raise ValidationError("secret", "needs at least one secret")
        self._secrets = tuple(checked_secret(s).encode("ascii") for s in given)

    def __repr__(self) -> str:
        return f"SecretCheck(<{len(self._secrets)} secret(s)>)"

    def matches(self, environ: Mapping[str, object], token: bytes | None) -> bool:
        """Whether the request's Basic credentials or its `token` (already taken out of the
        query string by `take_token`) equal one of the secrets."""
        presented = [value for value in (_basic_secret(environ), token) if value]
        found = False
        for value in presented:
            for secret in self._secrets:
                found |= hmac.compare_digest(value, secret)
        return found


def _basic_secret(environ: Mapping[str, object]) -> bytes | None:
    """The secret in an `Authorization: Basic` header: the password, or the user name when the
    URL had no password (`https://SECRET@host/`)."""
    header = environ.get("HTTP_AUTHORIZATION")
    if not isinstance(header, str):
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, colon, password = decoded.partition(b":")
    return password if colon and password else user


def take_token(query: bytes) -> tuple[bytes | None, bytes]:
    """Split the `token` parameter out of a raw query string.

    Returns the first token's percent-decoded value (None without one) and the query string
    without any `token` parameter, every other byte kept as it was, so the secret never reaches
    the parsed callback's `raw` or `extra`.
    """
    if _TOKEN_NAME not in query:
        return None, query
    token: bytes | None = None
    kept: list[bytes] = []
    for piece in query.split(b"&"):
        name, _, value = piece.partition(b"=")
        if unquote_to_bytes(name.lstrip(b"?")) == _TOKEN_NAME:
            if token is None:
                token = unquote_to_bytes(value.replace(b"+", b" "))
            continue
        kept.append(piece)
    return token, b"&".join(kept)


def url_with_secret(
    url: str, secret: str, *, style: Literal["token", "basic"] = "token", field: str = "url"
) -> str:
    """`url` with the secret in it, ready to paste into the portal's callback URL field.

    `style="token"` adds `token=SECRET` to the query; `"basic"` puts `clickatell:SECRET@` before
    the host. A URL that already carries credentials or a token is refused (a ValidationError
    naming `field`).
    """
    checked_secret(secret)
    parts = _callback_url(url, field)
    if style == "basic":
        netloc = f"{BASIC_USER}:{secret}@{parts.netloc}"
        return urlunsplit(parts._replace(netloc=netloc))
    query = f"{parts.query}&" if parts.query else ""
    return urlunsplit(parts._replace(query=f"{query}{TOKEN_PARAMETER}={quote(secret)}"))


def _callback_url(url: str, field: str) -> SplitResult:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (reading it validates it)
    except ValueError as exc:
        raise ValidationError(field, f"is not a URL: {exc}", url) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(field, "must be an http:// or https:// address with a host", url)
    if "@" in parts.netloc:
        raise ValidationError(field, "already carries credentials; give it without them")
    if take_token(parts.query.encode("utf-8"))[0] is not None:
        raise ValidationError(field, f"already has a {TOKEN_PARAMETER}= parameter")
    if not parts.path:
        parts = parts._replace(path="/")
    return parts


class SourceAllowList:
    """The networks callbacks may come from (CIDR, or single addresses).

    IPv4 clients seen on an IPv6 socket (`::ffff:a.b.c.d`) are matched as IPv4.
    """

    __slots__ = ("_networks",)

    def __init__(self, networks: Iterable[str], *, field: str = "allowed_sources") -> None:
        parsed: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for text in networks:
            try:
                parsed.append(ipaddress.ip_network(str(text).strip(), strict=False))
            except ValueError:
                raise ValidationError(
                    field, f"{text!r} is not an IP address or CIDR network", text
                ) from None
        if not parsed:
            raise ValidationError(field, "is empty; leave it out to accept any address")
        self._networks = tuple(parsed)

    def __repr__(self) -> str:
        return f"SourceAllowList({[str(n) for n in self._networks]!r})"

    def allows(self, address: str | None) -> bool:
        """Whether `address` (as a socket or `REMOTE_ADDR` gives it) is in one of the networks."""
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self._networks)


class RefusalLog:
    """Warnings about refused requests, at most one per `every` seconds and reason.

    Each says how many there were since the previous one, so a flood of forged callbacks shows
    up in the log without filling the disk.
    """

    def __init__(self, logger: logging.Logger, *, every: float = 10.0) -> None:
        self._logger = logger
        self._every = every
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, int]] = {}  # reason -> (last warning, count since)

    def refused(self, reason: str, source: str | None = None) -> None:
        """Count one refusal; warn if none for this reason was logged in the last `every` s."""
        now = time.monotonic()
        with self._lock:
            last, count = self._state.get(reason, (float("-inf"), 0))
            count += 1
            if now - last < self._every:
                self._state[reason] = (last, count)
                return
            self._state[reason] = (now, 0)
        self._logger.warning(
            "%s%s (%d since the last such warning)",
            reason,
            f", last from {source}" if source else "",
            count,
        )
