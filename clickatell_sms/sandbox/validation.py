"""Checking a send request field by field, each failure charged to the rule that covers it.

The fields, their kinds and their constraints come from the spec (`clickatell_wire.tables`), so a
field added to the spec is checked with no edit here. What is written here is which rule each
constraint belongs to (`FACET_RULES`): that decides its evidence, so whether the default profile
refuses it or only warns. A constraint with no rule of its own falls under `field-value`, which is
enforced; a test holds every constraint of the checked-in spec to a rule of its own.

Recipients are not checked here beyond their type: the API refuses a bad number in its own entry
of the answer, not the request (see `recipients`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from clickatell_wire import models
from clickatell_wire.tables import SEND_FIELDS, Field

from .profile import Findings
from .timeline import parse_delivery_time

__all__ = ["FACET_RULES", "MAX_RECIPIENTS", "check_document", "recordable"]

MAX_RECIPIENTS: Final = next(f.max_items for f in SEND_FIELDS if f.json_name == "to") or 200

FACET_RULES: Final[Mapping[tuple[str, str], str]] = {
    ("content", "min_length"): "content-empty",
    ("to", "min_items"): "to-required",
    ("to", "max_items"): "to-limit",
    ("from", "pattern"): "from-format",
    ("clientMessageId", "min_length"): "client-message-id-length",
    ("clientMessageId", "max_length"): "client-message-id-length",
    ("clientMessageId", "pattern"): "client-message-id-space",
    ("scheduledDeliveryTime", "pattern"): "delivery-time",
    ("userDataHeader", "min_length"): "udh",
    ("userDataHeader", "max_length"): "udh",
    ("userDataHeader", "pattern"): "udh",
    ("validityPeriod", "minimum"): "validity-period",
    ("validityPeriod", "maximum"): "validity-period",
    ("charset", "enum"): "charset",
}
"""The rule of each (field, constraint); `to`'s item constraints are per recipient."""

_BY_NAME: Final[Mapping[str, Field]] = {f.json_name: f for f in SEND_FIELDS}
_PATTERN_WORDS: Final[Mapping[str, str]] = {
    "clientMessageId": "contains whitespace",
    "userDataHeader": "is not hex octets",
    "from": "is not an optional + and up to 20 digits",
}
_REQUIRED_RULES: Final = {"content": "content-required", "to": "to-required"}
_DELIVERY_TIME: Final = "scheduledDeliveryTime"
_MAX_RECORDED_DEPTH: Final = 16


def check_document(document: Mapping[str, Any], findings: Findings) -> models.SendMessageRequest:
    """The request as the generated model, once every rule it breaks has been weighed.

    Keys the spec does not name are recorded in `findings.unknown` and weighed as
    `unknown-field`. A broken rule the profile enforces raises `Refusal`; one it only warns
    about leaves the value as sent (a `validityPeriod` of 20000 is recorded as 20000).
    """
    if not _BY_NAME.keys() >= document.keys():
        unknown = {key: value for key, value in document.items() if key not in _BY_NAME}
        findings.unknown.update({key: recordable(value) for key, value in unknown.items()})
        names = ", ".join(sorted(map(str, unknown)))
        findings.broken("unknown-field", f"Unknown field(s): {names}.")
    to = document.get("to")
    if isinstance(to, list) and len(to) > MAX_RECIPIENTS:
        findings.broken(
            "to-limit",
            f"Too many recipients: {len(to)} given, at most {MAX_RECIPIENTS} are allowed per"
            " request.",
        )
    for name, rule_id in _REQUIRED_RULES.items():
        if document.get(name) is None:
            findings.fatal(rule_id, f"The {name} parameter is required.")
    values: dict[str, Any] = {}
    for name, value in document.items():  # usually two or three keys: cheaper than the spec's
        field = _BY_NAME.get(name)
        if field is None:
            continue  # unknown, weighed above
        if value is None:
            findings.broken(
                "null-field",
                f"{name} is null; leave it out, or give it a value.",
                warning=f"{name} is null; read as absent.",
            )
            continue
        if type(value) is float and field.kind == "integer" and value.is_integer():
            value = int(value)  # JSON Schema's integer: 5.0 is one
        _check_field(field, value, findings)
        values[field.model_attr] = value
    recipients: list[str] = values["to"]
    if len(set(recipients)) != len(recipients):
        findings.broken("to-unique", "Each recipient may appear only once in to.")
    return models.SendMessageRequest(**values)


def recordable(value: Any, depth: int = 0) -> Any:
    """A JSON value as the record keeps it: what nests deeper than 16 levels is named, not kept,
    so no later walk of the record (masking keys, writing SQLite) can exhaust the stack."""
    if isinstance(value, dict | list):
        if depth >= _MAX_RECORDED_DEPTH:
            return f"(nested deeper than {_MAX_RECORDED_DEPTH} levels: not recorded)"
        if isinstance(value, dict):
            return {str(k): recordable(v, depth + 1) for k, v in value.items()}
        return [recordable(item, depth + 1) for item in value]
    return value


def _check_field(field: Field, value: Any, findings: Findings) -> None:
    name = field.json_name
    if not _KIND_CHECKS[field.kind](value):
        findings.fatal("field-type", f"{name} must be {_kind_words(field)}, not {_show(value)}.")
    if name == _DELIVERY_TIME:
        _check_delivery_time(value, findings)
        return
    for facet in _FACETS[name]:
        if facet.broken(value):
            findings.broken(facet.rule, f"{name} {facet.words}.")


def _check_delivery_time(value: str, findings: Findings) -> None:
    """The documented form must be a real time; another ISO 8601 form is an inferred refusal."""
    field = _BY_NAME[_DELIVERY_TIME]
    if field.pattern is None or re.search(field.pattern, value) is not None:
        try:
            parse_delivery_time(value)
        except ValueError:
            findings.broken("delivery-time", f"scheduledDeliveryTime {value!r} is not a real time.")
        return
    try:
        datetime.fromisoformat(value)
    except ValueError:
        findings.broken(
            "delivery-time",
            f"scheduledDeliveryTime {value!r} is not a time like 2017-02-27T14:30:00+0200.",
        )
        return
    findings.broken(
        "delivery-time-offset",
        f"scheduledDeliveryTime {value!r} is ISO 8601, but not in the documented form"
        " 2017-02-27T14:30:00+0200.",
    )


@dataclass(frozen=True, slots=True)
class _Facet:
    """One constraint of a field, ready to test: its rule, the test, the problem in words."""

    rule: str
    broken: Callable[[Any], bool]
    words: str


def _facets_of(field: Field) -> tuple[_Facet, ...]:
    """A field's constraints as tests, built once (this runs for every request)."""

    def facet(name: str, broken: Callable[[Any], bool], words: str) -> _Facet:
        return _Facet(FACET_RULES.get((field.json_name, name), "field-value"), broken, words)

    if field.kind == "array":  # its items are checked per recipient
        least = field.min_items
        if least is None:
            return ()
        return (facet("min_items", lambda v: len(v) < least, "must not be empty"),)
    checks: list[_Facet] = []
    if field.enum:
        allowed = frozenset(field.enum)
        words = f"must be one of {', '.join(field.enum)}"
        checks.append(facet("enum", lambda v: v not in allowed, words))
    low, high = field.minimum, field.maximum
    if low is not None:
        checks.append(facet("minimum", lambda v: v < low, f"must be at least {low:g}"))
    if high is not None:
        checks.append(facet("maximum", lambda v: v > high, f"must be at most {high:g}"))
    shortest, longest = field.min_length or 0, field.max_length
    if field.min_length is not None:
        words = f"must have at least {shortest} characters"
        checks.append(facet("min_length", lambda v: len(v) < shortest, words))
    if longest is not None:
        words = f"must have at most {longest} characters"
        checks.append(facet("max_length", lambda v: len(v) > longest, words))
    if field.pattern is not None:
        search = re.compile(field.pattern).search
        words = _PATTERN_WORDS.get(field.json_name, f"does not match {field.pattern}")
        # A value too short for its field is not judged again by its pattern.
        checks.append(facet("pattern", lambda v: len(v) >= shortest and not search(v), words))
    return tuple(checks)


def _strings(value: Any) -> bool:
    return type(value) is list and set(map(type, value)) <= {str}


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_KIND_CHECKS: Final[Mapping[str, Callable[[Any], bool]]] = {
    "array": _strings,
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "integer": _integer,
    "number": _number,
    "object": lambda value: isinstance(value, dict),  # (the send request has none)
}
_FACETS: Final[Mapping[str, tuple[_Facet, ...]]] = {f.json_name: _facets_of(f) for f in SEND_FIELDS}


def _kind_words(field: Field) -> str:
    if field.kind == "array":
        return "a list of strings"
    return f"an {field.kind}" if field.kind[0] in "aeiou" else f"a {field.kind}"


def _show(value: Any) -> str:
    if value is True or value is False:
        return "a boolean"
    return {str: "a string", int: "an integer", float: "a number", list: "a list"}.get(
        type(value), f"a {type(value).__name__}"
    )
