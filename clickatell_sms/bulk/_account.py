"""Which account a campaign is sent from, as a journal records it: a keyed fingerprint, never
the key.

Two campaigns are the same campaign only when the same account sends them: an agency may send
one list, word for word, for two clients. The API key is what names the account to Clickatell,
but a journal is read by more people than should see the key (database users, backups, a copy
of the file), so it stores HMAC-SHA256(salt, key) with a random salt of its own (one per SQLite
file, one per PostgreSQL database): the same key gives the same fingerprint within a journal,
and the fingerprint neither reveals the key nor links it across journals.

Hand-written because it is four lines around `hmac`; the class exists so that the key, while
it travels from the client to the journal, never shows in a repr or a traceback's locals.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Final

from clickatell_wire.tables import DEFAULT_BASE_URL

from ..config import ClientConfig
from ..errors import ValidationError

__all__ = ["SALT_BYTES", "AccountKey", "new_salt"]

SALT_BYTES: Final = 16


def new_salt() -> bytes:
    """A journal's own salt for account fingerprints."""
    return os.urandom(SALT_BYTES)


class AccountKey:
    """The API key a campaign is sent with, and where to: only ever shown as a fingerprint.

    The base URL counts only when it is not the API's own: the same key on a local sandbox is
    not the account that the live API charges.
    """

    __slots__ = ("_secret",)

    def __init__(self, api_key: str, base_url: str | None = None) -> None:
        where = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self._secret = api_key if where == DEFAULT_BASE_URL else f"{where}\n{api_key}"

    @classmethod
    def of(cls, config: ClientConfig) -> AccountKey:
        """The account a client sends from."""
        return cls(config.api_key, config.base_url)

    @classmethod
    def from_env(cls, api_key: str | None = None) -> AccountKey | None:
        """The account a client made here would send from (`api_key`, else CLICKATELL_API_KEY,
        with CLICKATELL_BASE_URL), or None when there is no key: a host that submits a
        campaign to workers may not have the workers' key at all."""
        try:
            return cls.of(ClientConfig.from_env(api_key=api_key))
        except ValidationError:
            return None

    def fingerprint(self, salt: bytes) -> str:
        """The account as a journal with this salt records it."""
        return hmac.new(salt, self._secret.encode(), hashlib.sha256).hexdigest()[:32]

    def __repr__(self) -> str:
        return "AccountKey(<redacted>)"
