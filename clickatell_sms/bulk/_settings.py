"""A bulk run's settings: the keywords `send_many` takes (one definition for all its entry
points), checked before anything is opened or sent, with their defaults; and the facts that make
two runs the same campaign (compared when a journal is resumed)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from clickatell_wire.tables import SEND_OPTIONS, SendOptions

from ..config import Integration, TimeoutArg, check_integration
from ..errors import ValidationError
from ..opt_outs.store import OptOutCheck
from ..options import (
    MAX_RECIPIENTS,
    check_extra_headers,
    check_options,
    timeout_pair,
    unexpected_keywords,
)
from ..retry import RetryPolicy
from ._account import AccountKey
from ._progress import ProgressSink
from ._rate_limit import Limiter, RateLimiter
from ._records import BulkResult
from ._result_writer import results_format
from .journal import JournalStore, is_postgres_url

if TYPE_CHECKING:
    from ..config import ClientConfig
    from ._sender import Configured

__all__ = [
    "DEFAULT_TASKS",
    "DEFAULT_THREADS",
    "MAX_BATCH",
    "BulkOptions",
    "RunLimits",
    "RunSettings",
]

logger = logging.getLogger("clickatell_sms.bulk")

MAX_BATCH: Final = MAX_RECIPIENTS
DEFAULT_THREADS: Final = 4
"""`concurrency` when not given to `Client.send_many` / `bulk.send_many`: sending threads."""
DEFAULT_TASKS: Final = 16
"""`concurrency` when not given to `AsyncClient.send_many`: tasks on the loop (no thread each)."""
# Options that do not change what the recipients receive, so a resume may change them.
_TRANSPORT_OPTIONS: Final = frozenset({"timeout", "retries", "extra_headers"})
_SEND_FIELDS: Final = frozenset(f.name for f in SEND_OPTIONS)  # the spec's
# Every option `Client.send` takes: the spec's fields, how a request travels, and its transport.
_SEND_OPTIONS: Final = _SEND_FIELDS | {"integration"} | _TRANSPORT_OPTIONS


class BulkOptions(SendOptions, total=False):
    """The keywords of `send_many` (`Client.send_many`, `AsyncClient.send_many` and
    `clickatell_sms.bulk.send_many` alike), beside `recipients` and `content`.

    The spec's send fields (`SendOptions`) go with every request, except that
    `client_message_id` is the prefix of each request's ID (`<prefix>-<batch number>`; by
    default the journal's random campaign ID). A keyword left out takes the default named here.
    """

    concurrency: int
    """Requests in flight at most: 4 threads for `Client`, 16 tasks on the loop for
    `AsyncClient`."""
    rate_limit: float | Limiter | None
    """Recipients per second for this run, or a `Limiter` shared with other runs
    (`RedisRateLimiter`: a whole account's workers). None (the default): no limit."""
    journal: str | Path | JournalStore | None
    """The journal file; a new one must not exist yet. None (the default): a temporary one,
    deleted at the end. A `JournalStore` already open is used as it is, and left open."""
    resume: bool
    """Continue the run `journal` holds (same recipients, text and options). Default False."""
    resend_unknown: bool | Iterable[str]
    """Send again the requests of an earlier run whose outcome is unknown: True for all, or
    their client message IDs. Default False."""
    on_result: Callable[[BulkResult], object] | None
    """Called with every row's result, in the thread that reads the input."""
    progress: bool | ProgressSink
    """True: a bar or periodic lines on stderr; or a `ProgressSink` of your own. Default False."""
    output: str | Path | None
    """A file that gets every row's result: .csv, .jsonl, or '-' for stdout."""
    output_format: Literal["csv", "jsonl"] | None
    """The format of `output` when its name does not say."""
    unique: bool
    """Send a text to a number once per campaign, repeats reported `duplicate`. Default True."""
    stop_after: int | None
    """Stop after this many consecutive batches fail for account reasons. Default 3; None
    never stops."""
    batch_size: int
    """Recipients per request, 1 to 200 (the default), capped to a second's worth by
    `rate_limit`."""
    journal_sync: Literal["normal", "full"]
    """SQLite's synchronous mode for the journal: "full" survives power loss. Default
    "normal"."""
    identity: Mapping[str, str] | None
    """More facts that identify the campaign (the CLI passes its input file's hash), checked
    on resume."""
    total: int | None
    """The number of rows, if known, for `progress`."""
    opt_outs: str | Path | OptOutCheck | Literal[False] | None
    """The opt-out store each batch is checked against as it is formed: a file, a
    `postgresql://` URL, or an open store (left open). None (the default): where the settings
    say (`CLICKATELL_OPT_OUTS`, else the file in the user's data folder; see
    `config.opt_outs_location`). False: no store is read, and no row is skipped."""
    ignore_opt_outs: bool
    """Send to numbers that opted out all the same (transactional messages the sender may
    legally send), counting them in the summary's `opt_outs_ignored`. Default False: they are
    skipped and reported `opted_out`."""
    timeout: TimeoutArg | None
    """`Client.send`'s, for every request."""
    retries: RetryPolicy | int | None
    """`Client.send`'s, for every request."""
    extra_headers: Mapping[str, str] | None
    """`Client.send`'s, for every request."""
    integration: Integration | None
    """`Client.send`'s, for every request: "http" sends every batch by GET."""


_KEYWORDS: Final = frozenset(BulkOptions.__annotations__)


@dataclass(frozen=True, slots=True)
class RunLimits:
    """The part of `RunSettings.check` that needs no client: the run's bounds (concurrency,
    batch size, rate limit, when to stop) and what it will write, checked. The command line
    checks a run's flags with it before it reads the input or connects."""

    concurrency: int
    batch_size: int
    stop_after: int | None
    limiter: Limiter | None
    output_format: Literal["csv", "jsonl"] | None

    @classmethod
    def check(
        cls,
        content: str | None,
        options: Mapping[str, Any],
        *,
        default_concurrency: int = DEFAULT_THREADS,
    ) -> RunLimits:
        """`ValidationError` for a bad value among `options` (`send_many`'s keywords),
        `TypeError` for a keyword `BulkOptions` does not have."""
        unknown = options.keys() - _KEYWORDS
        if unknown:
            raise TypeError(unexpected_keywords("send_many()", sorted(unknown)))
        if content is not None and (not isinstance(content, str) or not content):
            raise ValidationError("content", "must be a non-empty string (or None)", content)
        output_format = _check_outputs(options)
        concurrency = options.get("concurrency", default_concurrency)
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ValidationError("concurrency", "must be an int >= 1", concurrency)
        batch_size = _checked_batch_size(options.get("batch_size", MAX_BATCH))
        stop_after = options.get("stop_after", 3)
        if stop_after is not None and (
            isinstance(stop_after, bool) or not isinstance(stop_after, int) or stop_after < 1
        ):
            raise ValidationError("stop_after", "must be an int >= 1, or None", stop_after)
        batch_size, limiter = _rate_limiter(options.get("rate_limit"), batch_size)
        return cls(concurrency, batch_size, stop_after, limiter, output_format)


@dataclass(frozen=True, slots=True)
class RunSettings:
    """`send_many`'s keywords (`BulkOptions`), checked and with their defaults (see `check`).

    `send_options` are passed to every `Client.send` without `client_message_id`, which is
    `prefix` here: each request's ID is `<prefix>-<batch number>`. `batch_size` is already
    capped to a second's worth of recipients when there is a rate limit (`limiter`).
    """

    content: str | None
    concurrency: int
    unique: bool
    stop_after: int | None
    batch_size: int
    limiter: Limiter | None
    send_options: dict[str, Any]
    prefix: str | None
    journal: str | Path | JournalStore | None
    resume: bool
    resend_unknown: bool | Iterable[str]
    on_result: Callable[[BulkResult], object] | None
    progress: bool | ProgressSink
    output: str | Path | None
    output_format: Literal["csv", "jsonl"] | None
    journal_sync: Literal["normal", "full"]
    extra_identity: Mapping[str, str] | None
    total: int | None
    account: AccountKey | None = None
    opt_outs: str | Path | OptOutCheck | Literal[False] | None = None
    ignore_opt_outs: bool = False

    @classmethod
    def check(
        cls,
        client: Configured,
        content: str | None,
        options: Mapping[str, Any],
        *,
        default_concurrency: int = DEFAULT_THREADS,
    ) -> RunSettings:
        """The settings from `send_many`'s keywords (`BulkOptions`), each one left out at its
        default; or `ValidationError` (`TypeError` for a keyword `BulkOptions` does not have).
        `default_concurrency` is the engine's: threads or tasks."""
        limits = RunLimits.check(content, options, default_concurrency=default_concurrency)
        send_options, prefix = _checked_send_options(client.config, options)
        _warn_beyond_the_pool(limits.concurrency, client.config)
        return cls(
            content,
            limits.concurrency,
            options.get("unique", True),
            limits.stop_after,
            limits.batch_size,
            limits.limiter,
            send_options,
            prefix,
            journal=options.get("journal"),
            resume=options.get("resume", False),
            resend_unknown=options.get("resend_unknown", False),
            on_result=options.get("on_result"),
            progress=options.get("progress", False),
            output=options.get("output"),
            output_format=limits.output_format,
            journal_sync=options.get("journal_sync", "normal"),
            extra_identity=options.get("identity"),
            total=options.get("total"),
            account=AccountKey.of(client.config),
            opt_outs=options.get("opt_outs"),
            ignore_opt_outs=options.get("ignore_opt_outs", False),
        )

    def spec_fields(self) -> dict[str, Any]:
        """The spec's fields among `send_options` (what `options.check_message` checks)."""
        return {name: value for name, value in self.send_options.items() if name in _SEND_FIELDS}

    def identity(self) -> dict[str, str]:
        """What makes a campaign the same campaign: checked when a journal is resumed."""
        options = {
            name: repr(value)
            for name, value in sorted(self.send_options.items())
            if name not in _TRANSPORT_OPTIONS and value is not None
        }
        facts = {
            "content": "" if self.content is None else _sha256(self.content),
            "options": json.dumps(options, sort_keys=True),
            "unique": str(self.unique),
        }
        facts.update(self.extra_identity or {})
        return facts


def _checked_batch_size(batch_size: Any) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int):
        raise ValidationError("batch_size", f"must be an int from 1 to {MAX_BATCH}", batch_size)
    if not 1 <= batch_size <= MAX_BATCH:
        raise ValidationError("batch_size", f"must be from 1 to {MAX_BATCH}", batch_size)
    return batch_size


def _rate_limiter(rate_limit: Any, batch_size: int) -> tuple[int, Limiter | None]:
    """The limiter `rate_limit` asks for, and the batch size capped to a second's worth of
    recipients under it: one request never carries more than a second's worth."""
    if rate_limit is None:
        return batch_size, None
    if not isinstance(rate_limit, int | float):
        if not hasattr(rate_limit, "acquire"):
            raise ValidationError("rate_limit", "must be recipients per second", rate_limit)
        shared: Limiter = rate_limit  # shared with others (e.g. RedisRateLimiter), already set up
        return max(1, min(batch_size, int(shared.per_second))), shared
    if isinstance(rate_limit, bool):
        raise ValidationError("rate_limit", "must be recipients per second", rate_limit)
    batch_size = max(1, min(batch_size, int(rate_limit)))
    return batch_size, RateLimiter(rate_limit, batch_size)


def _checked_send_options(
    config: ClientConfig, options: Mapping[str, Any]
) -> tuple[dict[str, Any], str | None]:
    """What every `Client.send` of the run gets, checked, without `client_message_id`; and
    that, which is the prefix of each request's ID here."""
    send_options = {
        name: value
        for name, value in options.items()
        if name in _SEND_OPTIONS and value is not None
    }
    prefix = send_options.pop("client_message_id", None)
    if prefix is not None and (
        not isinstance(prefix, str) or not prefix or any(c.isspace() for c in prefix)
    ):
        raise ValidationError("client_message_id", "must be a prefix without spaces", prefix)
    _check_send_options(config, send_options)
    return send_options, prefix


def _warn_beyond_the_pool(concurrency: int, config: ClientConfig) -> None:
    if concurrency > config.max_connections:
        logger.warning(
            "concurrency %d is above the client's max_connections %d: connections beyond"
            " the pool are opened and closed for every request",
            concurrency,
            config.max_connections,
        )


def _check_outputs(options: Mapping[str, Any]) -> Literal["csv", "jsonl"] | None:
    """What the run will create or open (journal, results file), checked before any of it is:
    a usage error must leave nothing behind. Returns the results file's format."""
    journal = options.get("journal")
    resume = options.get("resume", False)
    sync = options.get("journal_sync", "normal")
    if not isinstance(resume, bool):
        raise ValidationError("resume", "must be True or False", resume)
    if sync not in ("normal", "full"):
        raise ValidationError("journal_sync", "must be 'normal' or 'full'", sync)
    if resume and journal is None:
        raise ValidationError("resume", "needs the journal file of the run to continue")
    _check_opt_out_options(options)
    if isinstance(journal, str | Path) and not is_postgres_url(journal):
        folder = Path(journal).parent
        if not folder.is_dir():
            raise ValidationError("journal", f"its folder {folder} does not exist", str(journal))
    output = options.get("output")
    if output is None:
        return None
    return results_format(output, options.get("output_format"))


def _check_opt_out_options(options: Mapping[str, Any]) -> None:
    ignore = options.get("ignore_opt_outs", False)
    if not isinstance(ignore, bool):
        raise ValidationError("ignore_opt_outs", "must be True or False", ignore)
    store = options.get("opt_outs")
    if store is True or not (
        store is None
        or store is False
        or isinstance(store, str | Path)
        or hasattr(store, "opted_out")
    ):
        raise ValidationError(
            "opt_outs",
            "must be a file, a postgresql:// URL, an opt-out store, None or False",
            store,
        )
    if store is False and ignore:
        raise ValidationError(
            "ignore_opt_outs", "needs a store to count them in: opt_outs is False"
        )


def _check_send_options(config: ClientConfig, options: Mapping[str, Any]) -> None:
    """What every request of the run will be sent with, checked once before any is sent, by
    the same checks as `Client.send`'s: a bad option would otherwise fail every row."""
    integration = options.get("integration")
    chosen = config.integration if integration is None else check_integration(integration)
    fields = {name: value for name, value in options.items() if name in _SEND_FIELDS}
    check_options(config, fields, http=chosen == "http")
    if "timeout" in options:
        timeout_pair(options["timeout"])
    if "retries" in options:
        RetryPolicy.coerce(options["retries"])
    if "extra_headers" in options:
        check_extra_headers(options["extra_headers"])


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
