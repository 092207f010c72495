"""Opt-outs, kept: a STOP reply keeps its number out of every later campaign.

    clickatell-sms listen --port 8081          # replies STOP/START change the store
    clickatell-sms bulk --csv people.csv --text "..."   # skips the numbers opted out
    clickatell-sms opt-outs list | add NUMBER | remove NUMBER | import CSV | export CSV

The store outlives campaigns: by default one SQLite file in the user's data folder
(`CLICKATELL_OPT_OUTS` names another file, or a `postgresql://` database for campaigns on
workers; see `config.opt_outs_location`), so the listener and every send find the same one
without being told. The listener records replies into it (`callbacks.sinks.OptOutSink`, with
the keywords of `Keywords`); `send_many` and `bulk` check each batch against it as the batch is
formed, and report the numbers skipped as `opted_out`.

What this does for compliance, and what it does not: it keeps the list and honours it. Consent
to message someone in the first place, the wording your campaigns must carry ("Reply STOP to
opt out"), keywords in other languages, and opt-outs that reach you by other ways (a call, an
e-mail, the portal) remain the sender's to handle; `opt-outs add` and `import` take the last.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Sequence
from pathlib import Path

from ..config import opt_outs_location, user_data_folder
from ..errors import ValidationError
from .keywords import DEFAULT_START_WORDS, DEFAULT_STOP_WORDS, Action, Keywords
from .store import (
    Entry,
    OptOut,
    OptOutCheck,
    OptOutStore,
    OptOutStoreError,
    ReplyOutcome,
    number_key,
)

_CONNINFO = re.compile(r"\s*\w+\s*=.*\s\w+\s*=")  # two or more `key=value` pairs

__all__ = [
    "DEFAULT_START_WORDS",
    "DEFAULT_STOP_WORDS",
    "Action",
    "Entry",
    "Keywords",
    "OptOut",
    "OptOutCheck",
    "OptOutStore",
    "OptOutStoreError",
    "ReplyOutcome",
    "is_postgres_location",
    "number_key",
    "open_opt_outs",
    "opted_out_now",
]


def is_postgres_location(location: str | os.PathLike[str]) -> bool:
    """Whether a store's location names a PostgreSQL database rather than a file."""
    return str(location).startswith(("postgresql://", "postgres://"))


def open_opt_outs(location: str | os.PathLike[str] | None = None) -> OptOutStore:
    """The store at `location` (a file or a `postgresql://` URL), or where the settings say
    (`config.opt_outs_location`). The default file's folder is made if missing; another file's
    folder must exist. `OptOutStoreError` if it cannot be opened (`ImportError` for PostgreSQL
    without the `postgresql` extra)."""
    where = opt_outs_location(location)
    if is_postgres_location(where):
        from .postgres import PostgresOptOuts  # psycopg: the `postgresql` extra, loaded if asked

        return PostgresOptOuts(where)
    from .sqlite import SQLiteOptOuts  # sqlite3 loads only for a store that is opened

    if _CONNINFO.match(where):  # `host=db dbname=x` would become a file of that name
        raise OptOutStoreError(
            "looks like a PostgreSQL connection string: give it as a postgresql:// URL"
        )
    path = Path(where).expanduser()
    if path.parent == user_data_folder():
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise OptOutStoreError(f"{path}: cannot make its folder: {exc}") from None
    return SQLiteOptOuts(path)


def opted_out_now(
    opt_outs: OptOutCheck | str | os.PathLike[str], numbers: Sequence[str]
) -> dict[str, str]:
    """Which of these (normalised) numbers are opted out in the store (or the store at this
    location, opened for the look-up), each with why: `Client.send(..., opt_outs=...)`.
    A store that cannot be read is a `ValidationError` naming `opt_outs`: nothing is sent."""
    try:
        if isinstance(opt_outs, str | os.PathLike):
            with contextlib.closing(open_opt_outs(opt_outs)) as store:
                found = store.opted_out(list(dict.fromkeys(numbers)))
        else:
            found = opt_outs.opted_out(list(dict.fromkeys(numbers)))
    except OptOutStoreError as exc:
        raise ValidationError("opt_outs", f"cannot be read: {exc}") from None
    return {number: f"not sent: the number {record.describe()}" for number, record in found.items()}
