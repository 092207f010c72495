"""Which rules a sandbox enforces, and what one request broke.

A `Profile` decides, for each rule of `rules`, one of three things:

* `refuse`: answer with the rule's error (or, for a per-recipient rule, refuse that entry);
* `warn`: accept, and say so: an `X-Sandbox-Warning` header on the answer and a note on each
  recorded message, so a test can see that it relied on something the live API may refuse;
* `accept`: accept silently (an observation showed the live API takes it).

The default profile refuses what is documented, observed, in the legacy lists or the sandbox's
own; it warns about inferred rules. `strict=True` refuses those too. Observations from a
conformance report (`observed`) win over both: the live API was seen to answer that way, so the
rule answers with the observed status, code and texts (or is waived), and its evidence becomes
`observed`.

`Findings` collects what one request broke as the readers and checks find it, raising `Refusal`
at the first rule the profile enforces.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal, NoReturn

from .codes import ApiError
from .observed import Observation, read_observations
from .rules import RULES, Evidence, Rule, rule

__all__ = ["Action", "Findings", "Profile", "Refusal", "RuleLog"]

logger = logging.getLogger("clickatell_sms.sandbox")

Action = Literal["refuse", "warn", "accept"]

_MAX_WARNINGS: Final = 20  # per answer; the rest are counted in the last one
_MAX_WARNING_LENGTH: Final = 300
_EMPTY: Final[Mapping[str, Observation]] = MappingProxyType({})


class Refusal(Exception):
    """A request the sandbox refuses as a whole: the error to answer with, and the rule."""

    def __init__(self, error: ApiError, rule_id: str) -> None:
        super().__init__(error.description)
        self.error = error
        self.rule_id = rule_id


@dataclass(frozen=True, slots=True)
class Profile:
    """The rules' verdicts: default, `strict`, and what a conformance report `observed`."""

    strict: bool = False
    observed: Mapping[str, Observation] = field(default_factory=lambda: _EMPTY)

    @classmethod
    def from_report(cls, path: str | Path, *, strict: bool = False) -> Profile:
        """A profile answering as the conformance report at `path` observed.

        Observations of rules the sandbox does not have, or that would waive a rule it cannot
        go on without, are left out with a warning in the log; a malformed report raises
        ValueError.
        """
        return cls(strict=strict, observed=adoptable(read_observations(path)))

    def action(self, item: Rule) -> Action:
        seen = self.observed.get(item.id)
        if seen is not None:
            return "accept" if seen.taken else "refuse"
        if item.enforced_by_default or self.strict:
            return "refuse"
        return "warn"

    def error(self, item: Rule) -> ApiError:
        """What the rule answers with: the observed answer when there is one."""
        seen = self.observed.get(item.id)
        if seen is None or seen.taken:
            return item.error
        own = item.error
        return ApiError(
            seen.error_code,
            seen.error if seen.error is not None else own.error,
            seen.description if seen.description is not None else own.description,
            own.status if own.per_recipient else seen.status,
            per_recipient=own.per_recipient,
        )

    def evidence(self, item: Rule) -> Evidence:
        return "observed" if item.id in self.observed else item.evidence

    def source(self, item: Rule) -> str:
        seen = self.observed.get(item.id)
        return item.source if seen is None else f"{seen.source} (probe `{seen.probe}`)"

    def markdown_table(self, rules: Iterable[Rule] = RULES) -> str:
        """The rules as a Markdown table: rule, code, status, `error`, when, evidence, and what
        this profile and `--strict` do with each."""
        lines = [
            "| Rule | Code | HTTP status | `error` | When | Evidence | This profile | `--strict` |",
            "|---|---|---|---|---|---|---|---|",
        ]
        verdicts = {"refuse": "refused", "warn": "accepted, with a warning", "accept": "accepted"}
        strict = Profile(strict=True, observed=self.observed)
        for item in rules:
            error = self.error(item)
            code = "—" if error.code is None else str(error.code)
            status = "202 (per recipient)" if error.per_recipient else str(error.status)
            if error.other_status is not None:
                status += f" ({error.other_status} with a quirk)"
            cells = (
                f"`{item.id}`",
                code,
                status,
                error.error,
                item.when,
                f"{self.evidence(item)}: {self.source(item)}",
                verdicts[self.action(item)],
                verdicts[strict.action(item)],
            )
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
        return "\n".join(lines) + "\n"


def adoptable(observations: Iterable[Observation]) -> Mapping[str, Observation]:
    """The observations a profile can adopt, by rule id.

    Where two probes settle one rule and disagree (`Z` taken, `+02:00` refused), the refusal
    wins: the sandbox then fails a test that production might also fail, never the reverse.
    """
    adopted: dict[str, Observation] = {}
    for seen in observations:
        try:
            item = rule(seen.rule)
        except KeyError:
            logger.warning(
                "observation of probe %r: no sandbox rule %r; ignored", seen.probe, seen.rule
            )
            continue
        if seen.taken and not item.waivable:
            logger.warning(
                "observation of probe %r: rule %r cannot be waived (the sandbox cannot go on"
                " without it); ignored",
                seen.probe,
                seen.rule,
            )
            continue
        earlier = adopted.get(item.id)
        if earlier is None or earlier.taken:
            adopted[item.id] = seen
    return MappingProxyType(adopted)


class RuleLog:
    """How often each rule refused a request (or an entry) or warned, since the sandbox started.

    Written from the server's loop thread, read from any thread.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._refused: Counter[str] = Counter()
        self._warned: Counter[str] = Counter()

    def refused(self, rule_id: str) -> None:
        with self._lock:
            self._refused[rule_id] += 1

    def warned(self, rule_id: str) -> None:
        with self._lock:
            self._warned[rule_id] += 1

    def counts(self) -> tuple[Counter[str], Counter[str]]:
        """Copies of (refusals, warnings) by rule id."""
        with self._lock:
            return Counter(self._refused), Counter(self._warned)


class Findings:
    """What one request broke: the warnings to answer with, and its unknown fields."""

    __slots__ = ("_log", "profile", "unknown", "warnings")

    def __init__(self, profile: Profile, log: RuleLog) -> None:
        self.profile = profile
        self._log = log
        self.warnings: list[str] = []
        self.unknown: dict[str, Any] = {}

    def broken(
        self, rule_id: str, detail: str | None = None, *, warning: str | None = None
    ) -> None:
        """The request breaks this rule: raise `Refusal` if the profile enforces it, else note
        a warning (or nothing, when the live API was seen to take it).

        `detail` says exactly what was wrong; it replaces the error's description in a refusal
        (None keeps the error's own). `warning`, when given, is the warning's text instead:
        for a rule whose accepted request is read in a way a refusal must not claim.
        """
        item = rule(rule_id)
        action = self.profile.action(item)
        if action == "refuse":
            self._refuse(item, detail)
        if action == "warn":
            self._warn(item, warning or detail or item.error.description)

    def fatal(self, rule_id: str, detail: str | None = None) -> NoReturn:
        """The request breaks a rule the sandbox cannot go on without (one that is never
        waived): raise `Refusal`, with the observed answer if there is one."""
        item = rule(rule_id)
        assert not item.waivable and item.enforced_by_default, rule_id
        self._refuse(item, detail)

    def _refuse(self, item: Rule, detail: str | None) -> NoReturn:
        self._log.refused(item.id)
        error = self.profile.error(item)
        raise Refusal(error if detail is None else error.because(detail), item.id)

    def refuses_recipient(self, rule_id: str, detail: str) -> ApiError | None:
        """A recipient breaks this rule: the error for its entry, or None when it is accepted
        (with a warning where the profile says so)."""
        item = rule(rule_id)
        action = self.profile.action(item)
        if action == "refuse":
            self._log.refused(rule_id)
            return self.profile.error(item)
        if action == "warn":
            self._warn(item, detail)
        return None

    def _warn(self, item: Rule, detail: str) -> None:
        self._log.warned(item.id)
        self.warnings.append(f"{item.id} ({item.evidence}): {detail}")

    def headers(self) -> list[tuple[str, str]]:
        """`X-Sandbox-Warning` headers, one per warning (at most 20), safe to write as-is.

        Details quote the request (a field name, a value), so everything but printable ASCII is
        replaced: a client must not be able to put a line break into the answer's headers.
        """
        shown = self.warnings[:_MAX_WARNINGS]
        if len(self.warnings) > _MAX_WARNINGS:
            shown[-1] = f"... and {len(self.warnings) - _MAX_WARNINGS + 1} more warnings"
        return [("X-Sandbox-Warning", header_safe(text)) for text in shown]


def header_safe(text: str) -> str:
    """`text` as an HTTP header value: printable ASCII only, at most 300 characters."""
    safe = "".join(char if " " <= char <= "~" else "?" for char in text)
    if len(safe) > _MAX_WARNING_LENGTH:
        safe = safe[: _MAX_WARNING_LENGTH - 3] + "..."
    return safe
