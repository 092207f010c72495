"""What a conformance report saw the live API do, in the form the sandbox can adopt.

`clickatell-sms conformance` writes, beside its per-probe report, one `Observation` per rule a
probe settled: did the live API take such a request (answering per recipient), or refuse it as
a whole, and with what status, code and texts. `clickatell-sms sandbox --observed report.json`
(or `Sandbox(observed=...)`) reads them back and answers as observed (see `profile`).

This module owns the format of that part of the report, so the writer (conformance) and the
reader (the sandbox) cannot drift apart; the rest of the report is for people.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

__all__ = ["REPORT_FORMAT", "Observation", "read_observations"]

REPORT_FORMAT: Final = "clickatell-sms conformance report"
_KEYS: Final = frozenset(
    {"rule", "probe", "taken", "status", "errorCode", "error", "errorDescription", "source"}
)


@dataclass(frozen=True, slots=True)
class Observation:
    """The live API's answer to a probe that settles `rule`.

    `taken`: it answered per recipient (the rule is not a refusal there). Otherwise it refused
    the request with `status` and, when the body had them, `error_code`, `error` and
    `description`. `source` says where and when (host and date of the report).
    """

    rule: str
    probe: str
    taken: bool
    status: int
    error_code: int | None
    error: str | None
    description: str | None
    source: str

    def to_json(self) -> dict[str, Any]:
        values = asdict(self)
        values["errorCode"] = values.pop("error_code")
        values["errorDescription"] = values.pop("description")
        return values

    @classmethod
    def from_json(cls, item: Mapping[str, Any], where: str) -> Observation:
        """One observation as the report writes it; ValueError naming `where` if malformed."""
        if not isinstance(item, Mapping) or not item.keys() >= _KEYS:
            raise ValueError(f"{where}: an observation needs the keys {', '.join(sorted(_KEYS))}")
        code = item["errorCode"]
        checks = (
            isinstance(item["rule"], str),
            isinstance(item["probe"], str),
            isinstance(item["taken"], bool),
            isinstance(item["status"], int) and not isinstance(item["status"], bool),
            code is None or (isinstance(code, int) and not isinstance(code, bool)),
            all(item[k] is None or isinstance(item[k], str) for k in ("error", "errorDescription")),
            isinstance(item["source"], str),
        )
        if not all(checks):
            raise ValueError(f"{where}: an observation has a value of the wrong type")
        return cls(
            rule=item["rule"],
            probe=item["probe"],
            taken=item["taken"],
            status=item["status"],
            error_code=code,
            error=item["error"],
            description=item["errorDescription"],
            source=item["source"],
        )


def read_observations(path: str | Path) -> tuple[Observation, ...]:
    """The observations of a conformance report (JSON); ValueError saying what is wrong."""
    where = str(path)
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{where}: cannot read the report: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where}: not JSON ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != REPORT_FORMAT:
        raise ValueError(f"{where}: not a {REPORT_FORMAT} (its `format` says otherwise)")
    items = document.get("observations")
    if not isinstance(items, list):
        raise ValueError(f"{where}: the report has no `observations` list")
    return tuple(
        Observation.from_json(item, f"{where}: observations[{index}]")
        for index, item in enumerate(items)
    )
