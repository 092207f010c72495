"""What every command shares: how it connects (or starts the embedded sandbox), how it reads
a number that has bounds, its exit statuses, and how it reports results and failures.

Exit statuses, for every command: 0 every recipient accepted (or the look-up answered;
`listen` stopped by Ctrl-C or SIGTERM); 1 some recipients rejected (`bulk`: some rows not
accepted); 2 usage or validation error, nothing sent (`listen`: an address it cannot listen on);
3 the API refused the request (authentication, rate limit, unknown message ID, other API error;
`bulk`: stopped after repeated account errors); 4 the request did not get through or its outcome
is unknown; 5 `bulk` stopped because its journal or results file could not be written (some rows
may have been sent: its summary says which); 130 interrupted (Ctrl-C; `send` first says which
recipients' outcome is unknown).

With `--json`, a command that fails still writes one JSON object on standard output
(`failure_document`): the exit status and the error, for scripts that read only stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, TextIO, TypeVar

from ..config import API_KEY_ENV, BASE_URL_ENV, INTEGRATION_ENV
from ..errors import (
    APIError,
    ClickatellError,
    OutcomeUnknownError,
    TransportError,
    ValidationError,
)
from ..settings import read
from .wording import in_shell_words

if TYPE_CHECKING:
    from ..client import Client
    from ..encoding import Estimate
    from ..results import MessageResult, SendResult

__all__ = [
    "EXIT_API",
    "EXIT_INCOMPLETE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_REJECTED",
    "EXIT_STOPPED",
    "EXIT_STORAGE",
    "EXIT_TRANSPORT",
    "EXIT_USAGE",
    "SANDBOX_KEY",
    "UsageError",
    "add_connection_options",
    "add_region_option",
    "checked",
    "connect",
    "error",
    "failure_document",
    "iso",
    "log_lines_on_stderr",
    "positive_count",
    "print_failure",
    "print_results",
    "read_text",
    "report_failure",
    "report_interrupted",
    "sandbox_note",
]

EXIT_OK: Final = 0
EXIT_REJECTED: Final = 1
EXIT_INCOMPLETE: Final = 1  # bulk: some rows not accepted
EXIT_USAGE: Final = 2
EXIT_API: Final = 3
EXIT_STOPPED: Final = 3  # bulk: stopped after repeated account errors
EXIT_TRANSPORT: Final = 4
EXIT_STORAGE: Final = 5  # bulk: a journal or results write failed; some rows may have been sent
EXIT_INTERRUPTED: Final = 130

SANDBOX_KEY: Final = "sandbox-key"

_N = TypeVar("_N", int, float)


class UsageError(Exception):
    """A command line that cannot run as given, found by a command's check step where no flag
    of the library's `ValidationError` applies; exit status 2, nothing was done."""


def add_connection_options(
    cmd: argparse.ArgumentParser | argparse._ArgumentGroup, sandbox_help: str | None
) -> None:
    """The options every command that talks to the API shares, resolved by `connect`; without
    `--sandbox` when `sandbox_help` is None (an embedded sandbox has nothing to look up)."""
    cmd.add_argument("--timeout", type=float, metavar="SECONDS", help="connect and read timeout")
    cmd.add_argument(
        "--api-key",
        metavar="KEY",
        help=f"the integration's API key (prefer the {API_KEY_ENV} variable: shell history)",
    )
    cmd.add_argument("--base-url", metavar="URL", help=f"API address (or {BASE_URL_ENV})")
    if sandbox_help is not None:
        cmd.add_argument("--sandbox", action="store_true", help=sandbox_help)


def checked(kind: Callable[[str], _N], ok: Callable[[_N], bool], rule: str) -> Callable[[str], _N]:
    """An argparse `type=` that reads `kind` and refuses a value `ok` rejects, saying `rule`.

    A bound checked while the line is parsed is refused before anything is opened, in
    argparse's words, which name the flag; and a rule that several options share (`at least
    1`) is worded once, here, rather than by each command's check step.
    """

    def parse(text: str) -> _N:
        try:
            value = kind(text)
        except ValueError:
            whole = "a whole" if kind is int else "a"
            raise argparse.ArgumentTypeError(f"not {whole} number: {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"{rule}, not {value}")
        return value

    return parse


positive_count: Final = checked(int, lambda value: value > 0, "must be at least 1")
"""How many of something run or connect at once (threads, connections): none would never run."""


@contextmanager
def log_lines_on_stderr(
    name: str, form: str, *, enabled: bool, level: int, logger_level: int | None = None
) -> Iterator[None]:
    """Logger `name`'s lines from `level` up on stderr, in `form`, while inside (when `enabled`);
    with `logger_level`, the logger's own level too. Both are undone on the way out: `main()`
    called in a program's (or a test's) process leaves its logging as it found it."""
    if not enabled:
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(form))
    handler.setLevel(level)
    logger = logging.getLogger(name)
    was = logger.level
    logger.addHandler(handler)
    if logger_level is not None:
        logger.setLevel(logger_level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(was)


def read_text(value: str) -> str:
    """`--text`'s value; `-` reads standard input, less the newline that ends its last line
    (`echo hi |` gives "hi\n", and the text meant is "hi", as `$(...)` in a shell reads it).
    Only one newline goes: blank lines the writer put at the end are part of the text."""
    if value != "-":
        return value
    text = sys.stdin.read()
    if text.endswith("\n"):
        text = text[:-2] if text.endswith("\r\n") else text[:-1]
    return text


def add_region_option(cmd: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """`--region`, one name on every command (`--default-region`, bulk's old name, stays)."""
    cmd.add_argument(
        "--region",
        "--default-region",
        dest="default_region",
        metavar="CC",
        help="ISO country of numbers written without their country code (e.g. ZA)",
    )


@contextmanager
def connect(
    args: argparse.Namespace, *, from_: str | None = None, **settings: Any
) -> Iterator[tuple[Client, str | None]]:
    """A client as the options and environment say, or on an embedded sandbox when they name no
    key and no base URL (or --sandbox); the sandbox's URL, or None, comes with it.

    A bad setting is a `ValidationError` naming the flag or the variable it came from.
    """
    from ..client import Client

    api_key = args.api_key or read(API_KEY_ENV)
    base_url = args.base_url or read(BASE_URL_ENV)
    use_sandbox = args.sandbox or (api_key is None and base_url is None)
    if not use_sandbox and api_key is None:
        given = "--base-url" if args.base_url else BASE_URL_ENV
        raise ValidationError(
            API_KEY_ENV,
            f"is not set (nor --api-key), but {given} is: set the key. (With neither a key nor"
            " a base URL, the embedded sandbox answers.)",
        )
    sources = {
        "api_key": "--api-key" if args.api_key else API_KEY_ENV,
        "base_url": "--base-url" if args.base_url else BASE_URL_ENV,
        "integration": "--integration" if "integration" in settings else INTEGRATION_ENV,
    }
    with maybe_sandbox(use_sandbox, from_) as sandbox_url:
        if sandbox_url is not None:
            api_key, base_url = SANDBOX_KEY, sandbox_url
        if args.timeout is not None:
            settings["timeout"] = args.timeout
        try:
            client = Client(api_key, base_url=base_url, **settings)
        except ValidationError as exc:
            raise in_shell_words(exc, sources) from None
        with client:
            yield client, sandbox_url


def sandbox_note(sandbox_url: str | None, what: str = "nothing was really sent") -> None:
    if sandbox_url is not None:
        print(f"sandbox: {what} (an embedded local API answered)", file=sys.stderr)


@contextmanager
def maybe_sandbox(wanted: bool, from_: str | None) -> Iterator[str | None]:
    if not wanted:
        yield None
        return
    from ..sandbox import Sandbox, TemporaryStore

    # A sender only works on a two-way integration: make the sandbox one that owns it.
    two_way = (from_.lstrip("+"),) if from_ else ()
    # Its record goes to a temporary file, not memory: a `bulk` of a million rows would
    # otherwise hold a million records in this process until it ends.
    with (
        TemporaryStore() as store,
        Sandbox(api_keys=(SANDBOX_KEY,), two_way_numbers=two_way, store=store) as sandbox,
    ):
        yield sandbox.base_url


def report_failure(
    exc: ClickatellError, as_json: bool, sandbox: bool, *, status: int | None = None
) -> int:
    """Say why a send or look-up failed (and what was sent before it), on stderr and, with
    `--json`, as one document on stdout; returns the exit status (`status`, else the error's)."""
    if status is None:
        status = _failure_status(exc)
    partial = exc.partial if exc.partial is not None and len(exc.partial) else None
    if partial is not None and not as_json:
        print("Results of the requests that completed before the failure:", file=sys.stderr)
        print_results(partial, as_json=False, sandbox=sandbox)
    error(str(exc))
    if isinstance(exc, OutcomeUnknownError) and exc.recipients:
        reference = exc.client_message_id or "(none)"
        error(
            f"outcome unknown for {len(exc.recipients)} recipient(s): {', '.join(exc.recipients)};"
            f" client message ID {reference}. Do not resend before checking delivery."
        )
    if as_json:
        document = failure_document(status, exc, sandbox=sandbox)
        if partial is not None:
            document["partial"] = _results_document(partial, sandbox=sandbox)
        print_failure(document)
    return status


def report_interrupted(stop: KeyboardInterrupt, as_json: bool, sandbox: bool) -> int:
    """Ctrl-C during a send: what was answered, and the recipients whose request was out (it
    may have been sent), so that nobody resends blindly; exit status 130."""
    unknown = getattr(stop, "outcome_unknown", None)
    if not isinstance(unknown, OutcomeUnknownError):  # stopped before any request went out
        error("interrupted before anything was sent")
        if as_json:
            document = failure_document(EXIT_INTERRUPTED, sandbox=sandbox)
            document["error"] = {"type": "KeyboardInterrupt", "description": "nothing was sent"}
            print_failure(document)
        return EXIT_INTERRUPTED
    return report_failure(unknown, as_json, sandbox, status=EXIT_INTERRUPTED)


def _failure_status(exc: ClickatellError) -> int:
    if isinstance(exc, OutcomeUnknownError | TransportError):
        return EXIT_TRANSPORT
    if isinstance(exc, ValidationError):
        return EXIT_USAGE
    return EXIT_API  # APIError and its kinds: authentication, rate limit, response


def failure_document(
    status: int,
    exc: ClickatellError | None = None,
    *,
    usage: str | None = None,
    sandbox: bool | None = None,
) -> dict[str, Any]:
    """What `--json` prints when a command fails: `ok` false, the exit status, and the error
    with the API's code and description when it answered (`code` is its error code, `status`
    its HTTP status), the field for a bad input, the recipients when the outcome is unknown;
    `usage` is argparse's complaint when the command line itself was wrong."""
    if exc is not None:
        described = _error_json(exc)
    else:
        described = {"type": "UsageError", "message": usage, "code": None, "description": usage}
    document: dict[str, Any] = {"ok": False, "exitStatus": status, "error": described}
    if sandbox is not None:
        document["sandbox"] = sandbox
    return document


def _error_json(exc: ClickatellError) -> dict[str, Any]:
    described: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, ValidationError):
        described.update(field=exc.field, code=None, description=exc.problem)
    elif isinstance(exc, APIError):
        described.update(
            status=exc.status,
            code=exc.error_code,
            error=exc.error,
            description=exc.description or str(exc),
        )
    else:
        described.update(code=None, description=str(exc))
    if isinstance(exc, OutcomeUnknownError):
        described.update(recipients=exc.recipients, clientMessageId=exc.client_message_id)
    return described


def print_failure(document: dict[str, Any]) -> None:
    """One failure document, on one line of stdout."""
    print(json.dumps(document, ensure_ascii=False), flush=True)


def print_results(
    result: SendResult,
    *,
    as_json: bool,
    sandbox: bool,
    out: TextIO | None = None,
    size: Estimate | None = None,
) -> None:
    """The per-recipient table (or JSON document); `size`, the text's encoding and parts, goes
    into the JSON document when given."""
    stream = out or sys.stdout
    if as_json:
        json.dump(
            _results_document(result, sandbox=sandbox, size=size),
            stream,
            indent=2,
            ensure_ascii=False,
        )
        stream.write("\n")
        return
    rows = [("#", "TO", "NUMBER", "STATUS", "MESSAGE ID / ERROR")]
    rows += [
        (
            str(item.index),
            item.to,
            item.number,
            "accepted" if item.accepted else "rejected",
            item.api_message_id or "" if item.accepted else _why(item),
        )
        for item in result
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        stream.write("  ".join([*cells, row[4]]).rstrip() + "\n")
    summary = f"{len(result.accepted)} accepted, {len(result.rejected)} rejected"
    stream.write(f"{summary} ({len(result.raw_responses)} request(s))\n")


def _results_document(
    result: SendResult, *, sandbox: bool, size: Estimate | None = None
) -> dict[str, Any]:
    """A send's results as `--json` prints them."""
    document: dict[str, Any] = {
        "sandbox": sandbox,
        "accepted": len(result.accepted),
        "rejected": len(result.rejected),
        "requests": len(result.raw_responses),
        "clientMessageId": result.client_message_id,
    }
    if size is not None:
        document["message"] = {
            "encoding": size.encoding,
            "characters": size.characters,
            "units": size.units,
            "parts": size.parts,
        }
    document["results"] = [_result_json(item) for item in result]
    return document


def _why(item: MessageResult) -> str:
    code = f"{item.error_code} " if item.error_code is not None else ""
    text = ": ".join(part for part in (item.error, item.description) if part)
    return (code + text).strip() or "rejected"


def _result_json(item: MessageResult) -> dict[str, Any]:
    return {
        "index": item.index,
        "to": item.to,
        "number": item.number,
        "accepted": item.accepted,
        "apiMessageId": item.api_message_id,
        "errorCode": item.error_code,
        "error": item.error,
        "errorDescription": item.description,
        "duplicateOf": item.duplicate_of,
    }


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
