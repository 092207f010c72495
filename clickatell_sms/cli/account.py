"""`balance` and `status`: the two read-only look-ups."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeVar

from ..errors import ClickatellError, ValidationError
from .common import EXIT_OK, add_connection_options, connect, iso, report_failure, sandbox_note
from .table import Added, Container, add_options, option

if TYPE_CHECKING:
    from ..client import Client
    from ..results import Balance, StatusResult

__all__ = ["BALANCE_OPTIONS", "OPERATIONS", "STATUS_OPTIONS", "add_parser"]

OPERATIONS: Final = MappingProxyType({"getBalance": "balance", "getMessageStatus": "status"})
"""The spec's operations these commands carry, and the command of each."""

_T = TypeVar("_T")
_T_contra = TypeVar("_T_contra", contravariant=True)


class _Printer(Protocol[_T_contra]):
    """Prints a look-up's answer, as text or as JSON."""

    def __call__(self, found: _T_contra, /, *, as_json: bool, sandbox: bool) -> None: ...


def _connection_flags(cmd: Container) -> None:
    add_connection_options(cmd, "ask an embedded sandbox")


_JSON: Final = option("--json", action="store_true", help="print as JSON")
BALANCE_OPTIONS: Final = (Added(_connection_flags), _JSON)
"""The options of `balance`."""
STATUS_OPTIONS: Final = (
    option("message_id", metavar="ID", help="the apiMessageId the send returned"),
    *BALANCE_OPTIONS,
)
"""The options of `status`: the message ID, and `balance`'s."""


def add_parser(commands: Any) -> None:
    _add_balance(commands)
    _add_status(commands)


# -- balance and status -----------------------------------------------------------------------


def _add_balance(commands: Any) -> None:
    cmd = commands.add_parser(
        "balance",
        help="show the account's balance",
        description=(
            "Show the account's balance in its billing currency. Without an API key or base URL"
            " it asks an embedded sandbox (whose balance is made up)."
        ),
    )
    add_options(cmd, BALANCE_OPTIONS)
    cmd.set_defaults(run=_run_balance)


_NOT_AN_ACCOUNT = "no account was asked; this is a fresh sandbox's answer"


def _run_balance(args: argparse.Namespace) -> int:
    return _look_up(args, lambda client: client.balance(), _print_balance)


def _print_balance(balance: Balance, *, as_json: bool, sandbox: bool) -> None:
    if as_json:
        import msgspec  # (only --json needs it: the plain answer prints without)

        # The amount as a JSON number written from the Decimal's own digits: no float on the way.
        encoder = msgspec.json.Encoder(decimal_format="number")
        document = {"balance": balance.amount, "currency": balance.currency, "sandbox": sandbox}
        print(encoder.encode(document).decode("utf-8"))
    else:
        print(f"{balance.amount} {balance.currency}")


def _add_status(commands: Any) -> None:
    cmd = commands.add_parser(
        "status",
        help="show the latest status of a sent message",
        description=(
            "Show a message's latest status by the message ID its send returned: the code, the"
            " name, the description, and whether it is final. Without an API key or base URL it"
            " asks an embedded sandbox, which knows no message sent before it started."
        ),
    )
    add_options(cmd, STATUS_OPTIONS)
    cmd.set_defaults(run=_run_status)


def _run_status(args: argparse.Namespace) -> int:
    return _look_up(args, lambda client: client.message_status(args.message_id), _print_status)


def _look_up(args: argparse.Namespace, ask: Callable[[Client], _T], show: _Printer[_T]) -> int:
    """Ask (through the connection the arguments name) and print the answer, or the failure
    with its exit status; a sandbox's answer says it is one, either way."""
    with connect(args) as (client, sandbox_url):
        try:
            found = ask(client)
        except ValidationError:
            raise
        except ClickatellError as exc:
            sandbox_note(sandbox_url, _NOT_AN_ACCOUNT)
            return report_failure(exc, args.json, sandbox_url is not None)
    show(found, as_json=args.json, sandbox=sandbox_url is not None)
    sandbox_note(sandbox_url, _NOT_AN_ACCOUNT)
    return EXIT_OK


def _print_status(found: StatusResult, *, as_json: bool, sandbox: bool) -> None:
    status = found.status
    if as_json:
        document = {
            "apiMessageId": found.api_message_id,
            "statusCode": status.code,
            "status": status.name or None,
            "statusDescription": status.description or None,
            "final": status.is_final,
            "success": status.is_success,
            "timestamp": iso(found.timestamp),
            "sandbox": sandbox,
        }
        print(json.dumps(document, indent=2, ensure_ascii=False))
        return
    code = "?" if status.code is None else str(status.code)
    name = status.name or "(no name)"
    description = f": {status.description}" if status.description else ""
    print(f"message ID  {found.api_message_id}")
    print(f"status      {code} {name}{description}")
    print(f"final       {_finality(status.is_final, status.is_success)}")
    print(f"updated     {iso(found.timestamp) or 'unknown'}")


def _finality(final: bool, success: bool) -> str:
    if not final:
        return "no (still moving)"
    return "yes (delivered)" if success else "yes (not delivered)"
