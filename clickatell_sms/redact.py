"""Keeping secrets and personal data out of logs, reprs, error messages and raw answers.

Written by hand because the rule is ours: the API key never leaves the client in readable form, and
phone numbers are masked unless the user asks for them.

Most of this is about the HTTP integration's GET send, whose URL carries the key as `apiKey=`:
urllib3 logs that URL, and a server or proxy may echo it back in an error page. `scrub_response`
cleans an answer before anything reads it, and `guard_urllib3_logs` cleans urllib3's log records
before any handler sees them.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Final
from urllib.parse import quote, urlsplit, urlunsplit

if TYPE_CHECKING:
    from clickatell_wire.http_types import Response

__all__ = [
    "QueryKeyFilter",
    "guard_urllib3_logs",
    "key_forms",
    "mask_key",
    "mask_number",
    "mask_secret",
    "mask_secret_bytes",
    "redact_url",
    "scrub",
    "scrub_key",
    "scrub_response",
]

_MASK = "***"
# The query values that are secrets: the GET send's key, and a callback URL's token (the sandbox
# posts to such URLs with urllib3, which logs them at DEBUG).
_API_KEY_QUERY = re.compile(r"(?i)\b(apiKey=|token=)[^&\s]*")
# In a body the value also ends at a quote or an angle bracket (JSON strings, HTML attributes).
_API_KEY_QUERY_BYTES: Final = re.compile(rb"(?i)(apiKey=)[^&\s\"'<>]*")
# A secret is masked only where no letter or digit touches it (`mask_secret`).
_NOT_AFTER_WORD: Final = "(?<![0-9A-Za-z])"
_NOT_BEFORE_WORD: Final = "(?![0-9A-Za-z])"


def mask_key(api_key: str | None) -> str:
    """A stand-in for the key that says whether one is set, and nothing more."""
    return "<unset>" if not api_key else "<redacted>"


def scrub(text: str, *secrets: str | None) -> str:
    """Remove every secret (where it stands as a value: `mask_secret`), and any `apiKey=` or
    `token=` query value, from a text meant for a human."""
    for secret in secrets:
        if secret:
            text = mask_secret(text, secret)
    return _API_KEY_QUERY.sub(r"\1" + _MASK, text)


def mask_secret(text: str, secret: str) -> str:
    """`text` with `secret` (as given, or percent-encoded) masked wherever it stands as a value
    of its own: a header's value, a query value, a quoted string, a word. Never where its
    characters are part of a longer word: a short key such as "k" must not turn "balance
    look-up" into "balance loo***-up", nor change the answer a conformance verdict reads."""
    return _secret_pattern(secret).sub(_MASK, text) if secret else text


def mask_secret_bytes(data: bytes, secret: str) -> bytes:
    """`mask_secret` for a body as it came (the secret's forms in UTF-8)."""
    return _secret_pattern_bytes(secret).sub(b"***", data) if secret else data


@functools.lru_cache(maxsize=16)
def _secret_pattern(secret: str) -> re.Pattern[str]:
    forms = sorted({secret, quote(secret, safe="")}, key=len, reverse=True)
    return re.compile(f"{_NOT_AFTER_WORD}(?:{'|'.join(map(re.escape, forms))}){_NOT_BEFORE_WORD}")


@functools.lru_cache(maxsize=16)
def _secret_pattern_bytes(secret: str) -> re.Pattern[bytes]:
    return re.compile(_secret_pattern(secret).pattern.encode("utf-8"))


def redact_url(url: str, *, query: bool = True) -> str:
    """`url` with any `user:password@` shown as `***@` (and without its query and fragment when
    `query` is false: a redirect's target may carry a key or a token there)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<an unreadable URL>"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    if parts.username is not None or parts.password is not None:
        netloc = f"***@{netloc}"
    if not parts.scheme and not netloc:  # a relative reference: only its path says anything
        return parts.path or "/"
    if query:
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def mask_number(number: str, *, show: bool = False) -> str:
    """A phone number with all but its last three digits hidden (`27*******321`)."""
    if show or len(number) <= 5:
        return number if show else _MASK
    return number[:2] + "*" * (len(number) - 5) + number[-3:]


# -- the key in the GET send's URL ----------------------------------------------------------


def scrub_response(response: Response, key: str) -> Response:
    """The answer to a GET send, with the key removed should the server (or a proxy) echo the
    URL in the body or a header, as error pages do. Nothing else is changed."""
    secrets = key_forms(key)
    body = _scrub_bytes(response.body, key)
    headers: Mapping[str, str] = response.headers
    text_secrets = [secret.decode("utf-8") for secret in secrets]
    if any(
        "apikey=" in value.lower() or any(secret in value for secret in text_secrets)
        for value in headers.values()
    ):
        headers = _Headers({name: scrub(value, *text_secrets) for name, value in headers.items()})
    if body is response.body and headers is response.headers:
        return response
    return _replaced(response, headers=headers, body=body)


def scrub_key(response: Response, key: str) -> Response:
    """An answer's body with the key removed should the server echo it (as given, or
    percent-encoded); the same object when it does not (the usual case: one search per form).

    Headers are left alone here: nothing the SDK prints shows them, and reading every header
    value of every answer costs more than the rest of this check. The GET send, whose URL an
    error page or a proxy may echo anywhere, gets `scrub_response` instead.
    """
    forms = key_forms(key)
    body = response.body
    for form in forms:
        if form in body:
            break
    else:
        return response
    body = _secret_pattern_bytes(key).sub(b"***", body)
    return response if body == response.body else _replaced(response, body=body)


def _replaced(response: Response, **changes: object) -> Response:
    import msgspec  # loaded with the response's type: only a scrubbed answer needs it here

    return msgspec.structs.replace(response, **changes)


class _Headers(Mapping[str, str]):
    """Scrubbed headers, looked up without regard to case as HTTP headers are."""

    def __init__(self, items: Mapping[str, str]) -> None:
        self._items = dict(items)
        self._lower = {name.lower(): name for name in self._items}

    def __getitem__(self, name: str) -> str:
        return self._items[self._lower[name.lower()]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


@functools.lru_cache(maxsize=16)
def key_forms(key: str) -> tuple[bytes, ...]:
    """The key as it may appear in an answer: as given, and percent-encoded as in the URL."""
    forms = {key.encode("utf-8"), quote(key, safe="").encode("ascii")}
    return tuple(sorted((form for form in forms if form), key=len, reverse=True))


def _scrub_bytes(data: bytes, key: str) -> bytes:
    if any(form in data for form in key_forms(key)):
        data = _secret_pattern_bytes(key).sub(b"***", data)
    return _API_KEY_QUERY_BYTES.sub(rb"\1***", data) if b"=" in data else data


class QueryKeyFilter(logging.Filter):
    """Scrubs `apiKey=` (and a callback URL's `token=`) values from urllib3's log records.

    urllib3 logs each request line at DEBUG (`"GET /messages/http/send?...&apiKey=KEY HTTP/1.1"
    202 245`) and each retry at WARNING with the URL; a filter on its loggers rewrites those
    records before any handler, the application's included, sees them.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a broken record is the logging system's to report, not ours
            return True
        if _API_KEY_QUERY.search(text):
            record.msg, record.args = scrub(text), ()
        if record.exc_info and record.exc_info[1] is not None:
            formatted = logging.Formatter().formatException(record.exc_info)
            if _API_KEY_QUERY.search(formatted):
                record.exc_text, record.exc_info = scrub(formatted), None
        return True


_LOG_FILTER: Final = QueryKeyFilter()
_logs_guarded = False


def guard_urllib3_logs() -> None:
    """Put the filter on urllib3's loggers (filters do not apply to records from child loggers,
    so each one gets it); done once, on the first GET send."""
    global _logs_guarded
    if _logs_guarded:
        return
    names = [name for name in list(logging.root.manager.loggerDict) if name.startswith("urllib3.")]
    for name in ["urllib3", *names]:
        target = logging.getLogger(name)
        if _LOG_FILTER not in target.filters:
            target.addFilter(_LOG_FILTER)
    _logs_guarded = True
