"""A campaign past one machine: shards on Celery workers, a PostgreSQL journal, a Redis bucket.

    summary = run_campaign(
        recipients, "Our offices are closed on Monday",
        journal="postgresql://bulk@db/campaigns", broker="redis://queue:6379/0",
        rate_limit=300,
    )

`run_campaign` (and `clickatell-sms bulk --journal postgresql://... --celery redis://...`):

1. normalises each number and puts the row in a shard by a hash of the number, so every repeat
   of a number lands in the shard that sends it once (the duplicate rule holds across shards);
2. stores the campaign and its rows in PostgreSQL (`postgres_journal.CampaignStore`), so any
   worker on any host can send any shard, and a resume needs no input file;
3. queues one Celery task per shard (`bulk.celery`, started on each host with
   `celery -A clickatell_sms.worker worker`). A task runs `send_many` over its shard with
   the shard's own journal, always as a resume: a task delivered again after its worker died
   continues where the journal stopped, and sends nothing twice;
4. watches the shards' counts in PostgreSQL until every shard has finished this generation (a
   resume is a new generation), then returns one `BulkSummary` for the whole campaign.

Workers read the API key, base URL and everything about the connection from their own
environment (`CLICKATELL_API_KEY`, ...): neither the key nor a database password travels in a
task. The account's rate limit is a `RedisRateLimiter` on the broker's Redis (or
`CLICKATELL_RATE_LIMIT_REDIS`), shared by every worker.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal

import msgspec
from clickatell_wire.tables import SEND_OPTIONS

from ..config import ClientConfig, opt_outs_location
from ..errors import ValidationError
from ..numbers import normalize_number
from ..settings import RATE_LIMIT_REDIS_ENV, read
from ._account import AccountKey
from ._records import BadRow, BulkResult, BulkSummary, Recipient
from ._settings import MAX_BATCH, RunSettings
from .journal import (
    JournalBusyError,
    JournalError,
    JournalUnavailableError,
    UnknownBatch,
    is_postgres_url,
)
from .postgres_journal import (
    CampaignInfo,
    CampaignStore,
    NewCampaign,
    PostgresJournal,
    StoredRow,
    public_dsn,
)

if TYPE_CHECKING:
    from ..opt_outs.store import OptOutStore
    from ._progress import ProgressSink
    from ._rate_limit import Limiter
    from ._sender import MessageSender

__all__ = [
    "QUEUE",
    "SHARD_TASK",
    "CampaignSpec",
    "ShardOutcome",
    "campaign_results",
    "run_campaign",
    "run_shard",
    "shard_of",
]

logger = logging.getLogger("clickatell_sms.bulk")

SHARD_TASK: Final = "clickatell_sms.bulk.send_shard"
"""The Celery task that sends a shard (defined by `bulk.celery`, queued from here)."""
QUEUE: Final = "clickatell-sms"
"""The queue campaigns go to unless told otherwise (`celery worker -Q clickatell-sms`)."""
DEFAULT_SHARDS: Final = 16
_POLL: Final = 0.5
_REPORT_EVERY: Final = 1.0
_DATETIME_OPTIONS: Final = frozenset(f.name for f in SEND_OPTIONS if f.value == "datetime")
# The counts of a shard's summary that add up to the campaign's.
_SUMMED: Final = (
    "accepted",
    "rejected",
    "failed",
    "unknown",
    "opted_out",
    "invalid",
    "duplicates",
    "opt_outs_ignored",
    "parts",
)


def shard_of(key: str, shards: int) -> int:
    """The shard of a normalised number (or, for a row that is not one, of its raw text)."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


@dataclass(frozen=True, slots=True)
class CampaignSpec:
    """What every shard of a campaign sends, and how (stored with the campaign)."""

    content: str | None
    options: dict[str, Any]
    unique: bool = True
    stop_after: int | None = 3
    concurrency: int = 4
    batch_size: int = MAX_BATCH
    rate_limit: float | None = None
    default_region: str | None = None
    opt_outs: str | Literal[False] = False
    """The PostgreSQL opt-out store every shard checks its batches against (its URL without
    the password), or False: none."""
    ignore_opt_outs: bool = False

    def to_json(self) -> dict[str, Any]:
        options = {
            name: value.isoformat() if isinstance(value, datetime) else value
            for name, value in self.options.items()
        }
        return {
            "content": self.content,
            "options": msgspec.to_builtins(options),
            "unique": self.unique,
            "stop_after": self.stop_after,
            "concurrency": self.concurrency,
            "batch_size": self.batch_size,
            "rate_limit": self.rate_limit,
            "default_region": self.default_region,
            "opt_outs": self.opt_outs,
            "ignore_opt_outs": self.ignore_opt_outs,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CampaignSpec:
        options = {
            name: datetime.fromisoformat(value) if name in _DATETIME_OPTIONS else value
            for name, value in dict(data["options"]).items()
        }
        return cls(
            data["content"],
            options,
            bool(data["unique"]),
            data["stop_after"],
            int(data["concurrency"]),
            int(data["batch_size"]),
            data["rate_limit"],
            data["default_region"],
            data.get("opt_outs") or False,  # a campaign stored before opt-outs checked none
            bool(data.get("ignore_opt_outs", False)),
        )


# -- the submitting side -------------------------------------------------------------------------


def run_campaign(
    recipients: Iterable[str | Recipient | BadRow] | None,
    content: str | None = None,
    *,
    journal: str,
    broker: str,
    resume: str | None = None,
    resend_unknown: bool | Iterable[str] = False,
    new_campaign: bool = False,
    account_key: str | None = None,
    shards: int = DEFAULT_SHARDS,
    concurrency: int = 4,
    rate_limit: float | None = None,
    unique: bool = True,
    stop_after: int | None = 3,
    batch_size: int = MAX_BATCH,
    default_region: str | None = None,
    identity: Mapping[str, str] | None = None,
    queue: str | None = None,
    progress: ProgressSink | None = None,
    on_submitted: Callable[[str], object] | None = None,
    timeout: float | None = None,
    opt_outs: str | Literal[False] | None = None,
    ignore_opt_outs: bool = False,
    **options: Any,
) -> BulkSummary:
    """Send a campaign on Celery workers and wait for it; the same `BulkSummary` as `send_many`.

    `journal` is a PostgreSQL URL, `broker` the Celery broker (Redis). A new campaign reads
    `recipients` (numbers, `Recipient`s, `BadRow`s) into the journal first; `resume=CAMPAIGN_ID`
    runs a campaign again instead (recipients None, or the same input: `identity` is checked),
    sending what was not sent, and the unknown requests named by `resend_unknown`; it also
    watches a campaign still running. `shards`, `concurrency` (per shard), `unique`,
    `stop_after`, `batch_size` and `options` (send options) are `send_many`'s, and checked as
    it checks them before anything is stored; `rate_limit` is messages per second for the whole
    account, on all workers together. `on_submitted` gets the campaign ID as soon as the tasks
    are queued (the CLI prints it). `timeout` stops waiting (the campaign goes on: resume it to
    watch).

    Every shard checks each batch it forms against the opt-out store `opt_outs`, which every
    worker must reach: a `postgresql://` URL (by default `CLICKATELL_OPT_OUTS` when it is one,
    else the journal's own database; see `config.opt_outs_location`); False checks none.
    `ignore_opt_outs` sends to them anyway, counted, as for `send_many`. Both are fixed when the
    campaign is made (a resume keeps them).

    A new campaign that sends what an existing one sends (the same rows, text and options) from
    the same account is refused with `CampaignExistsError`, which names it: running the same
    submission twice must not send it twice. `new_campaign=True` sends it again on purpose. The
    account is `account_key` (the API key the workers send with), by default this
    environment's CLICKATELL_API_KEY; only a keyed fingerprint of it is stored, and with no key
    here the account matches any.
    """
    started = time.perf_counter()
    _check_campaign(recipients, resume, new_campaign, shards)
    spec = CampaignSpec(
        content,
        dict(options),
        unique,
        stop_after,
        concurrency,
        batch_size,
        rate_limit,
        default_region,
    )
    spec = _checked_spec(spec, resume, opt_outs, ignore_opt_outs, journal)
    facts = _campaign_facts(identity, spec, resume)
    with CampaignStore(journal) as store:
        store.ensure_schema()
        if resume is not None:
            info = _resumed(store, resume, facts)
        else:
            assert recipients is not None  # (checked above)
            info = _created(store, recipients, spec, facts, shards, account_key, new_campaign)
        _submit(info, journal, broker, queue, resend_unknown)
        if on_submitted is not None:
            on_submitted(info.id)
        summary = _outcome(store, info, progress, timeout)
    return _finished(summary, started, progress)


def _checked_spec(
    spec: CampaignSpec,
    resume: str | None,
    opt_outs: str | Literal[False] | None,
    ignore_opt_outs: bool,
    journal: str,
) -> CampaignSpec:
    """The spec, refused here rather than by every shard. Only a new campaign picks its opt-out
    store: the workers read the spec stored with the campaign, so a resume's choice would go
    unused (and its rows stay checked against one store, generation after generation)."""
    _check_settings(spec)
    if resume is not None:
        return spec
    checked = _opt_out_store(opt_outs, journal)
    return replace(spec, opt_outs=checked, ignore_opt_outs=ignore_opt_outs)


def _outcome(
    store: CampaignStore, info: CampaignInfo, progress: ProgressSink | None, timeout: float | None
) -> BulkSummary:
    """The campaign's summary, read only once every shard has finished this generation: a
    shard records its counts when it finishes, so a summary read earlier would leave out the
    shards still sending."""
    _watch(store, info, progress, timeout)
    return _summary(store, info)


def _finished(summary: BulkSummary, started: float, progress: ProgressSink | None) -> BulkSummary:
    """Timed from the call rather than from the queueing, since storing the rows is part of
    what the caller waited for; the progress sink hears of the end last, with the duration."""
    summary.duration = time.perf_counter() - started
    if progress is not None:
        progress.finish(summary)
    return summary


def _created(
    store: CampaignStore,
    recipients: Iterable[str | Recipient | BadRow],
    spec: CampaignSpec,
    facts: dict[str, str],
    shards: int,
    account_key: str | None,
    again: bool,
) -> CampaignInfo:
    """A new campaign stored with its rows, each in its shard (`CampaignExistsError` when the
    account already has one with these facts, unless `again`)."""
    rows = _stored_rows(recipients, spec.content, shards, spec.default_region)
    campaign = NewCampaign(facts, spec.to_json(), shards, _sends(spec, facts))
    account = AccountKey.from_env(account_key)
    return store.info(store.create(campaign, rows, account=account, again=again))


def _campaign_facts(
    identity: Mapping[str, str] | None, spec: CampaignSpec, resume: str | None
) -> dict[str, str]:
    """What makes a submission this campaign (checked when one is resumed): the caller's facts
    (the CLI's input file hash), the text and the send options; on a resume, only those given."""
    facts = dict(identity or {})
    if spec.content is not None or resume is None:
        facts["content"] = _sha256(spec.content or "")
    if spec.options or resume is None:
        facts["options"] = msgspec.json.encode(spec.to_json()["options"]).decode()
    return facts


def _check_campaign(
    recipients: object, resume: str | None, new_campaign: bool, shards: int
) -> None:
    """What `run_campaign` is asked to do, checked before the database is touched."""
    if isinstance(shards, bool) or not isinstance(shards, int) or not 1 <= shards <= 4096:
        raise ValidationError("shards", "must be an int from 1 to 4096", shards)
    if resume is not None and new_campaign:
        raise ValidationError("new_campaign", "starts a campaign, resume continues one: give one")
    if resume is None and recipients is None:
        raise ValidationError("recipients", "a new campaign needs its recipients")


def _check_settings(spec: CampaignSpec) -> None:
    """The settings every shard's `send_many` will check, checked once here, the same way, so
    that a bad option never becomes a campaign whose every shard refuses it. (A worker still
    checks them with its own settings: its integration may refuse an option.)"""
    concurrency = spec.concurrency
    pool = concurrency if isinstance(concurrency, int) and concurrency >= 1 else 1
    config = ClientConfig(
        "checking-settings", default_region=spec.default_region, max_connections=pool
    )
    checks: dict[str, Any] = {
        "concurrency": spec.concurrency,
        "batch_size": spec.batch_size,
        "stop_after": spec.stop_after,
        "rate_limit": spec.rate_limit,
        "unique": spec.unique,
        **spec.options,
    }
    RunSettings.check(_Settings(config), spec.content, checks)


@dataclass(frozen=True, slots=True)
class _Settings:
    """A client's settings, for `RunSettings.check` (which reads nothing else)."""

    config: ClientConfig


def _opt_out_store(given: str | Literal[False] | None, journal: str) -> str | Literal[False]:
    """The store the workers check, as stored with the campaign (its URL without a password,
    libpq finds it on each worker as for the journal); its tables are made now, so a store that
    cannot be reached refuses the campaign before anything is queued."""
    if given is False:
        return False
    location = opt_outs_location(given, journal=journal)
    if not is_postgres_url(location):
        raise ValidationError(
            "opt_outs",
            "must be a postgresql:// URL for a campaign on workers (every worker checks it;"
            " by default the journal's database)",
            location,
        )
    # (the store's module, with its SQL, loads only for a campaign that reads one)
    from ..opt_outs import OptOutStoreError, open_opt_outs

    try:
        open_opt_outs(location).close()
    except OptOutStoreError as exc:
        raise ValidationError("opt_outs", f"cannot be used: {exc}", public_dsn(location)) from None
    return public_dsn(location)


def _sends(spec: CampaignSpec, facts: Mapping[str, str]) -> dict[str, Any]:
    """What a campaign sends, rows aside: a new one that sends the same is a repeat."""
    return {
        "content": facts["content"],
        "options": facts["options"],
        "unique": spec.unique,
        "default_region": spec.default_region,
    }


def _resumed(store: CampaignStore, campaign_id: str, facts: Mapping[str, str]) -> CampaignInfo:
    info = store.info(campaign_id)
    _check_identity(info, facts, campaign_id)
    info = store.new_generation(campaign_id)
    if not info.loaded:
        raise JournalError(f"campaign {info.id} never finished loading its rows: start it again")
    return info


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _check_identity(info: CampaignInfo, identity: Mapping[str, str], cid: str) -> None:
    recorded = info.identity
    differs = sorted(k for k in identity if k in recorded and recorded[k] != identity[k])
    if differs:
        raise JournalError(
            f"campaign {cid} was started with another {', '.join(differs)}: resume it with the"
            " same input, message and options"
        )


def _stored_rows(
    recipients: Iterable[str | Recipient | BadRow],
    content: str | None,
    shards: int,
    region: str | None,
) -> Iterator[StoredRow]:
    for position, item in enumerate(recipients):
        if isinstance(item, BadRow):
            to = item.to
            row = position if item.row is None else item.row
            yield StoredRow(shard_of(to, shards), position, row, to, None, item.reason)
            continue
        if isinstance(item, Recipient):
            to, text = item.to, item.content
            row = position if item.row is None else item.row
        elif isinstance(item, str):
            to, text, row = item, None, position
        else:
            problem = f"is a {type(item).__name__}, not a number or a Recipient"
            yield StoredRow(0, position, position, repr(item), None, problem)
            continue
        try:
            key = normalize_number(to, default_region=region)
        except ValidationError:
            key = to  # the worker reports it invalid, with the reason
        message = None if text == content else text
        yield StoredRow(shard_of(key, shards), position, row, to, message, None)


def _submit(
    info: CampaignInfo,
    journal: str,
    broker: str,
    queue: str | None,
    resend_unknown: bool | Iterable[str],
) -> None:
    from celery import Celery  # the `celery` extra

    chosen: bool | list[str] = (
        resend_unknown if isinstance(resend_unknown, bool) else sorted(resend_unknown)
    )
    app = Celery("clickatell_sms", broker=broker)  # only to queue: the task is the workers'
    try:
        for shard in range(info.shards):
            app.send_task(
                SHARD_TASK,
                args=[public_dsn(journal), info.id, shard, info.generation, chosen],
                queue=queue or QUEUE,
            )
    finally:
        app.close()


def _watch(
    store: CampaignStore, info: CampaignInfo, progress: ProgressSink | None, timeout: float | None
) -> None:
    deadline = None if timeout is None else time.monotonic() + timeout
    shown = 0
    while True:
        try:
            states = store.shard_states(info.id)
        except JournalUnavailableError as exc:  # the database is away for a moment: wait
            logger.warning("bulk: cannot read the campaign's progress: %s", exc)
            states = None
            with contextlib.suppress(JournalUnavailableError):
                store.reconnect()
        if states is not None:
            counts = BulkSummary()
            for _, _, shard_counts, _ in states:
                counts.accepted += shard_counts.get("accepted", 0)
                counts.rejected += shard_counts.get("rejected", 0)
                counts.failed += shard_counts.get("failed", 0)
                counts.unknown += shard_counts.get("unknown", 0)
                counts.opted_out += shard_counts.get("opted_out", 0)
            if progress is not None and counts.total != shown:
                progress.update(counts.total - shown, counts)
                shown = counts.total
            if all(done >= info.generation for _, done, _, _ in states):
                return
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(
                f"campaign {info.id} is still running after {timeout} s; resume it to watch"
            )
        time.sleep(_POLL)


def _summary(store: CampaignStore, info: CampaignInfo) -> BulkSummary:
    summary = BulkSummary(campaign=info.id)
    stopped = []
    for _, _, _, shard in store.shard_states(info.id):
        if shard is None:
            continue
        for name in _SUMMED:
            setattr(summary, name, getattr(summary, name) + int(shard.get(name, 0)))
        summary.earlier += int(shard["earlier"])
        summary.unjournalled.extend(shard.get("unjournalled", []))
        if shard.get("stopped"):
            stopped.append(f"shard {shard['shard']}: {shard['stopped']}")
    summary.batches, summary.sent = store.sent_since(info.id, info.generation_started_at)
    summary.unknown_batches = [UnknownBatch(*b) for b in store.unknown_batches(info.id)]
    summary.stopped = "; ".join(stopped) or None
    return summary


def campaign_results(journal: str, campaign_id: str) -> Iterator[BulkResult]:
    """Every row of a campaign as journalled, shard by shard (each row exactly once)."""
    with CampaignStore(journal) as store:
        info = store.info(campaign_id)
    for shard in range(info.shards):
        opened = PostgresJournal.open(journal, campaign_id, shard)
        try:
            for r in opened.read_all():
                yield BulkResult(
                    r.row,
                    r.to_input,
                    r.number,
                    r.status,
                    r.api_message_id,
                    r.error_code,
                    r.error,
                    r.description,
                    r.client_message_id,
                    r.duplicate_of,
                )
        finally:
            opened.close()


# -- the worker's side ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShardOutcome:
    """What a shard task did: `done` (sent, or already done) or `busy` (another worker has it)."""

    state: str
    summary: BulkSummary | None = None


def run_shard(
    journal: str,
    campaign_id: str,
    shard: int,
    generation: int,
    resend_unknown: bool | list[str],
    *,
    client_factory: Callable[[CampaignSpec], contextlib.AbstractContextManager[MessageSender]],
    limiter_factory: Callable[[float, int], Limiter] | None = None,
) -> ShardOutcome:
    """Send (or resume) one shard; what a Celery task does. Raises `JournalWriteError` when the
    journal stops taking writes, `JournalUnavailableError` when the journal or the opt-out store
    cannot be reached, `OptOutsUnreadableError` when the store stops answering mid-run (the task
    is then retried, and resumes)."""
    with CampaignStore(journal) as store:
        if store.done_generation(campaign_id, shard) >= generation:
            return ShardOutcome("done")
        info = store.info(campaign_id)
        spec = CampaignSpec.from_json(info.settings)
        try:
            opened = PostgresJournal.open(journal, campaign_id, shard)
        except JournalBusyError:
            return ShardOutcome("busy")
        resend: bool | list[str] = (
            resend_unknown
            if isinstance(resend_unknown, bool)
            else [cmid for cmid in resend_unknown if _shard_of_reference(cmid) == shard]
        )
        try:
            with client_factory(spec) as client, _shard_opt_outs(spec) as opt_outs:
                summary = _send_shard(
                    client,
                    _ShardRun(store, campaign_id, shard, spec, opened),
                    resend,
                    _shard_limiter(spec, limiter_factory),
                    opt_outs,
                )
        finally:
            opened.close()
        record = summary.to_dict()
        record["shard"] = shard
        store.finish_shard(campaign_id, shard, generation, record)
    return ShardOutcome("done", summary)


@dataclass(frozen=True, slots=True)
class _ShardRun:
    """One shard of a campaign, with its settings and its own journal, open."""

    store: CampaignStore
    campaign_id: str
    shard: int
    spec: CampaignSpec
    journal: PostgresJournal


def _shard_limiter(
    spec: CampaignSpec, limiter_factory: Callable[[float, int], Limiter] | None
) -> Limiter | None:
    """The account's shared limiter for the campaign's rate, when it has one."""
    if spec.rate_limit is None or limiter_factory is None:
        return None
    # a burst of one request: the rate holds from the first second
    burst = max(1, min(spec.batch_size, int(spec.rate_limit)))
    return limiter_factory(spec.rate_limit, burst)


def _send_shard(
    client: MessageSender,
    run: _ShardRun,
    resend: bool | list[str],
    limiter: Limiter | None,
    opt_outs: OptOutStore | Literal[False],
) -> BulkSummary:
    """`send_many` over the shard's rows, always as a resume of its journal."""
    # (the engine loads on the workers that send, not where campaigns are only planned)
    from ._engine import send_many

    spec = run.spec
    try:
        return send_many(
            client,
            run.store.shard_rows(run.campaign_id, run.shard),
            spec.content,
            concurrency=spec.concurrency,
            rate_limit=limiter if limiter is not None else spec.rate_limit,
            journal=run.journal,
            resume=True,
            resend_unknown=resend,
            progress=_ShardProgress(run.store, run.campaign_id, run.shard),
            unique=spec.unique,
            stop_after=spec.stop_after,
            batch_size=spec.batch_size,
            opt_outs=opt_outs,
            ignore_opt_outs=spec.ignore_opt_outs,
            **spec.options,
        )
    except ValidationError as exc:
        if getattr(exc, "bulk_summary", None) is not None:
            raise  # the run had started
        # Refused before anything was sent, with this worker's settings (its integration,
        # say): the shard ends stopped, saying why, so the campaign is not watched forever;
        # a resume sends it once the cause is fixed.
        return BulkSummary(
            stopped=f"this worker refused the campaign's settings: {exc}; nothing was sent"
        )


@contextlib.contextmanager
def _shard_opt_outs(spec: CampaignSpec) -> Iterator[OptOutStore | Literal[False]]:
    """The campaign's opt-out store, open for one shard; a store that cannot be reached now
    (the database restarting) is the journal's kind of trouble: the task retries, and resumes."""
    if spec.opt_outs is False:
        yield False
        return
    # (the store's module, with its SQL, loads only for a campaign that reads one)
    from ..opt_outs import OptOutStoreError, open_opt_outs

    try:
        store = open_opt_outs(spec.opt_outs)
    except OptOutStoreError as exc:
        raise JournalUnavailableError(f"the opt-out store: {exc}") from None
    with contextlib.closing(store):
        yield store


def _shard_of_reference(client_message_id: str) -> int | None:
    """The shard in a request's ID, `<prefix>-<shard>.<batch>`."""
    scope, _, _ = client_message_id.rpartition("-")[2].partition(".")
    return int(scope) if scope.isdigit() else None


class _ShardProgress:
    """Counts of a running shard, written to its `shards` row about once a second."""

    def __init__(self, store: CampaignStore, campaign_id: str, shard: int) -> None:
        self._store = store
        self._campaign = campaign_id
        self._shard = shard
        self._last = 0.0

    def update(self, count: int, summary: BulkSummary) -> None:
        now = time.monotonic()
        if now - self._last >= _REPORT_EVERY:
            self._last = now
            self._report(summary)

    def finish(self, summary: BulkSummary) -> None:
        self._report(summary)

    def _report(self, summary: BulkSummary) -> None:
        counts = {
            "accepted": summary.accepted,
            "rejected": summary.rejected,
            "failed": summary.failed,
            "unknown": summary.unknown,
            "opted_out": summary.opted_out,
        }
        self._store.report(self._campaign, self._shard, counts)


def rate_limit_redis(broker: str | None) -> str | None:
    """The Redis that holds the account's bucket: CLICKATELL_RATE_LIMIT_REDIS, else the broker
    when it is Redis."""
    explicit = read(RATE_LIMIT_REDIS_ENV)
    if explicit:
        return explicit
    if broker and broker.startswith(("redis://", "rediss://", "unix://")):
        return broker
    return None
