"""Keeping secrets and personal data out of logs, reprs and error messages.

Written by hand because the rule is ours: the API key never leaves the client in readable form, and
phone numbers are masked unless the user asks for them.
"""

from __future__ import annotations

import re

_MASK = "***"
_API_KEY_QUERY = re.compile(r"(?i)(apiKey=)[^&\s]*")


def mask_key(api_key: str | None) -> str:
    """A stand-in for the key that says whether one is set, and nothing more."""
    return "<unset>" if not api_key else "<redacted>"


def scrub(text: str, *secrets: str | None) -> str:
    """Remove every secret, and any `apiKey=` query value, from a text meant for a human."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, _MASK)
    return _API_KEY_QUERY.sub(r"\1" + _MASK, text)


def mask_number(number: str, *, show: bool = False) -> str:
    """A phone number with all but its last three digits hidden (`27*******321`)."""
    if show or len(number) <= 5:
        return number if show else _MASK
    return number[:2] + "*" * (len(number) - 5) + number[-3:]
