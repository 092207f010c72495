"""What a conformance report saw the live API do, in the form the sandbox can adopt.

`clickatell-sms conformance` writes, beside its per-probe report, one `Observation` per rule a
probe settled: did the live API take such a request (answering per recipient), or refuse it as
a whole, and with what status, code and texts. `clickatell-sms sandbox --observed report.json`
(or `Sandbox(observed=...)`) reads them back and answers as observed (see `profile`).

This module owns the format of that part of the report, so the writer (conformance) and the
reader (the sandbox) cannot drift apart; the rest of the report is for people.

Only a report made against the live API is evidence. One made against this machine (a loopback
or unspecified address, `localhost`) or whose answers came from a clickatell-sms sandbox (its
`Server` or `X-Sandbox-*` headers) is refused, not adopted under another label: its rules would
make the sandbox refuse what nobody saw Clickatell refuse, which is the one thing the sandbox's
rules must never do, and a sandbox's report fed back to a sandbox teaches it only itself.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from ..loopback import is_loopback

__all__ = ["REPORT_FORMAT", "Observation", "read_observations"]

REPORT_FORMAT: Final = "clickatell-sms conformance report"
SANDBOX_SERVER: Final = "clickatell-sms-sandbox"
"""The `Server` header of every sandbox answer (a report keeps it with the live answers)."""
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
    _refuse_if_not_live(document, where)
    return tuple(
        Observation.from_json(item, f"{where}: observations[{index}]")
        for index, item in enumerate(items)
    )


def _refuse_if_not_live(document: Mapping[str, Any], where: str) -> None:
    """ValueError unless the report was made against a host beyond this machine that is not a
    clickatell-sms sandbox (see the module's docstring for why it is refused, not relabelled)."""
    host = document.get("host")
    if not isinstance(host, str) or not host:
        raise ValueError(f"{where}: the report names no host, so nothing says what it observed")
    advice = (
        "its answers are not the live API's, so they cannot stand as observations; make the"
        " report with `clickatell-sms conformance --live` against https://platform.clickatell.com"
    )
    if _this_machine(host):
        raise ValueError(f"{where}: the report was made against {host}, this machine: {advice}")
    probes = document.get("probes")
    for probe in probes if isinstance(probes, list) else ():
        live = probe.get("live") if isinstance(probe, Mapping) else None
        headers = live.get("headers") if isinstance(live, Mapping) else None
        if isinstance(headers, Mapping) and _from_a_sandbox(headers):
            raise ValueError(
                f"{where}: the report's answers from {host} came from a clickatell-sms sandbox"
                f" (probe {probe.get('name')!r}): {advice}"
            )


def _this_machine(host: str) -> bool:
    try:
        name = urlsplit(f"//{host}").hostname or ""
    except ValueError:  # an unreadable port or address: the host as written
        name = host
    if is_loopback(name):
        return True
    try:
        return ipaddress.ip_address(name).is_unspecified  # 0.0.0.0 and :: reach this machine
    except ValueError:
        return False


def _from_a_sandbox(headers: Mapping[str, Any]) -> bool:
    for name, value in headers.items():
        lowered = str(name).lower()
        if lowered.startswith("x-sandbox-"):
            return True
        if lowered == "server" and str(value).lower().startswith(SANDBOX_SERVER):
            return True
    return False
