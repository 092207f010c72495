"""A local Clickatell Platform API for tests and development: no account, nothing really sent.

`Sandbox` speaks the API as `spec/` describes it (JSON and XML `POST /messages`, the GET send,
balance, message status), reading and writing documents with the generated wire code, and adds
what tests need: a record of what was accepted, injected faults, the live API's quirks, status
callbacks; and it bounds every connection in time and number (`ServerLimits`). Start it with
`with Sandbox() as sb:`, with `clickatell-sms sandbox`, or with the `clickatell_sandbox` pytest
fixture. See docs/sandbox.md.
"""

from __future__ import annotations

from .callbacks import CallbackDelivery
from .codes import CATALOGUE, ApiError
from .faults import Faults
from .limits import ServerLimits
from .quirks import Quirks
from .server import Sandbox
from .store import MemoryStore, MessageStore, RecordedMessage, SQLiteStore
from .timeline import StatusDelays

__all__ = [
    "CATALOGUE",
    "ApiError",
    "CallbackDelivery",
    "Faults",
    "MemoryStore",
    "MessageStore",
    "Quirks",
    "RecordedMessage",
    "SQLiteStore",
    "Sandbox",
    "ServerLimits",
    "StatusDelays",
]
