"""A local Clickatell Platform API for tests and development: no account, nothing really sent.

`Sandbox` speaks the API as `spec/` describes it (JSON and XML `POST /messages`, the GET send,
balance, message status), reading and writing documents with the generated wire code, and adds
what tests need: a record of what was accepted, injected faults, the live API's quirks, status
callbacks; and it bounds every connection in time and number (`ServerLimits`). Every refusal is a
rule that names its evidence (`RULES`); the default profile enforces what Clickatell is known to
refuse, `strict=True` adds this project's inferences, and `observed=` adopts what a conformance
report saw the live API do. Start it with
`with Sandbox() as sb:`, with `clickatell-sms sandbox`, or with the `clickatell_sandbox` pytest
fixture. See docs/sandbox.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from .callbacks import CallbackDelivery
    from .codes import ApiError
    from .faults import Faults
    from .limits import ServerLimits
    from .profile import Profile
    from .quirks import Quirks
    from .recipients import (
        BLOCKED_NUMBER,
        CANNOT_ROUTE_NUMBER,
        FAILS_DELIVERY_NUMBER,
        OPTED_OUT_NUMBER,
        STAYS_AT_GATEWAY_NUMBER,
    )
    from .rules import RULES, Rule
    from .server import Sandbox
    from .store import MemoryStore, MessageStore, RecordedMessage, SQLiteStore, TemporaryStore
    from .timeline import StatusDelays

__all__ = [
    "BLOCKED_NUMBER",
    "CANNOT_ROUTE_NUMBER",
    "FAILS_DELIVERY_NUMBER",
    "OPTED_OUT_NUMBER",
    "RULES",
    "STAYS_AT_GATEWAY_NUMBER",
    "ApiError",
    "CallbackDelivery",
    "Faults",
    "MemoryStore",
    "MessageStore",
    "Profile",
    "Quirks",
    "RecordedMessage",
    "Rule",
    "SQLiteStore",
    "Sandbox",
    "ServerLimits",
    "StatusDelays",
    "TemporaryStore",
]

_HOMES: Final = {
    "BLOCKED_NUMBER": "recipients",
    "CANNOT_ROUTE_NUMBER": "recipients",
    "FAILS_DELIVERY_NUMBER": "recipients",
    "OPTED_OUT_NUMBER": "recipients",
    "RULES": "rules",
    "STAYS_AT_GATEWAY_NUMBER": "recipients",
    "ApiError": "codes",
    "CallbackDelivery": "callbacks",
    "Faults": "faults",
    "MemoryStore": "store",
    "MessageStore": "store",
    "Profile": "profile",
    "Quirks": "quirks",
    "RecordedMessage": "store",
    "Rule": "rules",
    "SQLiteStore": "store",
    "Sandbox": "server",
    "ServerLimits": "limits",
    "StatusDelays": "timeline",
    "TemporaryStore": "store",
}
"""Each public name's module. They are imported when first asked for: the command line reads
the sandbox's defaults (`limits`, `quirks`, `billing`) on every run, and must not pay for the
server's stack (asyncio, the wire code) unless it starts one."""


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
