"""The keywords of one call: `CallSettings` (any call) and `SendSettings` (`send`).

The clients name these only in annotations (`**settings: Unpack[CallSettings]`), so they are
made when a program or a type checker asks for them, not when the client is imported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, TypedDict

from clickatell_wire.tables import SendOptions

from .config import Integration, TimeoutArg
from .retry import RetryPolicy

if TYPE_CHECKING:
    import os

    from .opt_outs.store import OptOutCheck

__all__ = ["CallSettings", "SendSettings"]


class CallSettings(TypedDict, total=False):
    """What one call may set for itself over the client's settings: `timeout` (seconds, or a
    `(connect, read)` pair), `total_timeout` (each request's deadline), `retries` (a
    `RetryPolicy` or a number of retries) and `extra_headers`."""

    timeout: TimeoutArg | None
    total_timeout: float | None
    retries: RetryPolicy | int | None
    extra_headers: Mapping[str, str] | None


class SendSettings(CallSettings, SendOptions, total=False):
    """The keywords of `send`: the call's settings, the spec's send options (`SendOptions`),
    how the send travels (`integration`) and the opt-out store to honour (`opt_outs`)."""

    integration: Integration | None
    opt_outs: OptOutCheck | str | os.PathLike[str] | None
