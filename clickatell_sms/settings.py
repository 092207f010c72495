"""Every `CLICKATELL_*` environment variable the SDK reads: its name, defined once, and its check.

The environment is read here and nowhere else in the package, so a variable's name, its default
and what counts as a bad value stand in one place, and a bad value fails with a
`ValidationError` that names the variable rather than somewhere deep in a worker. An empty
variable counts as unset everywhere. `config.ClientConfig.from_env` turns the client's variables
into settings; the others (the callback secret, the Celery workers', the log level) are read by
the functions below where they are used.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from typing import Final, Literal

from .errors import ValidationError

__all__ = [
    "ALLOW_INSECURE_HTTP_ENV",
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "CALLBACK_SECRET_ENV",
    "CELERY_BROKER_ENV",
    "CELERY_QUEUE_ENV",
    "CELERY_VISIBILITY_ENV",
    "INTEGRATION_ENV",
    "LOG_ENV",
    "OPT_OUTS_ENV",
    "RATE_LIMIT_KEY_ENV",
    "RATE_LIMIT_REDIS_ENV",
    "environment",
    "log_level",
    "read",
    "read_flag",
    "read_seconds",
]

API_KEY_ENV: Final = "CLICKATELL_API_KEY"
"""The integration's API key."""
BASE_URL_ENV: Final = "CLICKATELL_BASE_URL"
"""The API's address (a sandbox's, a proxy's, or Clickatell's by default)."""
INTEGRATION_ENV: Final = "CLICKATELL_INTEGRATION"
"""How sends travel: "rest" (POST) or "http" (GET)."""
ALLOW_INSECURE_HTTP_ENV: Final = "CLICKATELL_ALLOW_INSECURE_HTTP"
"""1/true/yes/on: allow plain http:// to a host that is not this machine."""
OPT_OUTS_ENV: Final = "CLICKATELL_OPT_OUTS"
"""Where the opt-out store is (a file, or a `postgresql://` URL); see
`config.opt_outs_location`."""
LOG_ENV: Final = "CLICKATELL_LOG"
"""info or debug: a stderr handler on the SDK's loggers, set at import."""
CALLBACK_SECRET_ENV: Final = "CLICKATELL_CALLBACK_SECRET"
"""The secret callbacks must carry, for `clickatell-sms listen`."""
CELERY_BROKER_ENV: Final = "CLICKATELL_CELERY_BROKER"
"""The Celery broker of campaigns on workers."""
CELERY_QUEUE_ENV: Final = "CLICKATELL_CELERY_QUEUE"
"""The queue campaigns go to, unless the command names one."""
CELERY_VISIBILITY_ENV: Final = "CLICKATELL_CELERY_VISIBILITY"
"""Seconds Redis waits before it hands out again a task whose worker host vanished."""
RATE_LIMIT_REDIS_ENV: Final = "CLICKATELL_RATE_LIMIT_REDIS"
"""The Redis that holds the account's rate-limit bucket (else the broker, when it is Redis)."""
RATE_LIMIT_KEY_ENV: Final = "CLICKATELL_RATE_LIMIT_KEY"
"""The bucket's key in Redis (else one derived from the API key)."""

_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})


def environment() -> Mapping[str, str]:
    """The process's environment, for the readers that take a mapping (tests pass their own)."""
    return os.environ


def read(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The variable's value, or None when it is unset or empty."""
    value = (os.environ if environ is None else environ).get(name, "")
    return value or None


def read_flag(name: str, environ: Mapping[str, str] | None = None) -> bool | None:
    """A yes/no variable (1/true/yes/on, 0/false/no/off, any case), or None when unset."""
    value = read(name, environ)
    if value is None:
        return None
    word = value.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValidationError(name, "must be 1, true, yes or on (or 0, false, no, off)", value)


def read_seconds(name: str, default: int, environ: Mapping[str, str] | None = None) -> int:
    """A whole number of seconds > 0, or `default` when the variable is unset."""
    value = read(name, environ)
    if value is None:
        return default
    try:
        seconds = int(value.strip())
    except ValueError:
        seconds = 0
    if seconds <= 0:
        raise ValidationError(name, "must be a whole number of seconds > 0", value)
    return seconds


def log_level(environ: Mapping[str, str] | None = None) -> Literal["INFO", "DEBUG"] | None:
    """`CLICKATELL_LOG`'s level, or None when unset. It is read while the package is imported,
    where an exception would break every program that imports it: an unknown level is a warning
    that names the variable, and no handler."""
    value = read(LOG_ENV, environ)
    if value is None:
        return None
    level = value.strip().upper()
    if level == "INFO":
        return "INFO"
    if level == "DEBUG":
        return "DEBUG"
    warnings.warn(
        f"{LOG_ENV}={value!r} is not one of info, debug: no log handler is set", stacklevel=3
    )
    return None
