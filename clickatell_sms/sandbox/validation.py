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
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any, Final

from clickatell_wire import models
from clickatell_wire.tables import SEND_FIELDS, Field

from .profile import Findings
from .timeline import parse_delivery_time

__all__ = ["FACET_RULES", "MAX_RECIPIENTS", "check_document"]

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


def check_document(document: Mapping[str, Any], findings: Findings) -> models.SendMessageRequest:
    """The request as the generated model, once every rule it breaks has been weighed.

    Keys the spec does not name are recorded in `findings.unknown` and weighed as
    `unknown-field`. A broken rule the profile enforces raises `Refusal`; one it only warns
    about leaves the value as sent (a `validityPeriod` of 20000 is recorded as 20000).
    """
    unknown = {key: value for key, value in document.items() if key not in _BY_NAME}
    if unknown:
        findings.unknown.update(unknown)
        names = ", ".join(sorted(map(str, unknown)))
        findings.broken("unknown-field", f"Unknown field(s): {names}.")
    to = document.get("to")
    if isinstance(to, list) and len(to) > MAX_RECIPIENTS:
        findings.broken(
            "to-limit",
            f"Too many recipients: {len(to)} given, at most {MAX_RECIPIENTS} are allowed per"
            " request.",
        )
    values: dict[str, Any] = {}
    for field in SEND_FIELDS:
        value = document.get(field.json_name)
        if value is None:
            if field.json_name in _REQUIRED_RULES:
                findings.fatal(
                    _REQUIRED_RULES[field.json_name],
                    f"The {field.json_name} parameter is required.",
                )
            elif field.json_name in document:
                findings.broken("null-field", f"{field.json_name} is null; read as absent.")
            continue
        if field.kind == "integer" and isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON Schema's integer: 5.0 is one
        _check_field(field, value, findings)
        values[field.model_attr] = value
    recipients: list[str] = values["to"]
    if len(set(recipients)) != len(recipients):
        findings.broken("to-unique", "Each recipient may appear only once in to.")
    return models.SendMessageRequest(**values)


def _check_field(field: Field, value: Any, findings: Findings) -> None:
    name = field.json_name
    if not _has_kind(field, value):
        findings.fatal("field-type", f"{name} must be {_kind_words(field)}, not {_show(value)}.")
    if field.kind == "array":
        if field.min_items is not None and len(value) < field.min_items:
            findings.broken(_rule_of(field, "min_items"), f"{name} must not be empty.")
        return
    if name == _DELIVERY_TIME:
        _check_delivery_time(value, findings)
        return
    for facet, broken, why in _facets(field, value):
        if broken:
            findings.broken(_rule_of(field, facet), f"{name} {why}.")


def _facets(field: Field, value: Any) -> list[tuple[str, bool, str]]:
    checks: list[tuple[str, bool, str]] = []
    if field.enum:
        checks.append(("enum", value not in field.enum, f"must be one of {', '.join(field.enum)}"))
    if field.minimum is not None:
        checks.append(("minimum", value < field.minimum, f"must be at least {field.minimum:g}"))
    if field.maximum is not None:
        checks.append(("maximum", value > field.maximum, f"must be at most {field.maximum:g}"))
    if field.min_length is not None:
        short = len(value) < field.min_length
        checks.append(("min_length", short, f"must have at least {field.min_length} characters"))
    if field.max_length is not None:
        long = len(value) > field.max_length
        checks.append(("max_length", long, f"must have at most {field.max_length} characters"))
    if field.pattern is not None and not (field.min_length and len(value) < field.min_length):
        # (A value too short for its field is not judged again by its pattern.)
        mismatch = _compiled(field.pattern).search(value) is None
        words = _PATTERN_WORDS.get(field.json_name, f"does not match {field.pattern}")
        checks.append(("pattern", mismatch, words))
    return checks


def _check_delivery_time(value: str, findings: Findings) -> None:
    """The documented form must be a real time; another ISO 8601 form is an inferred refusal."""
    field = _BY_NAME[_DELIVERY_TIME]
    if field.pattern is None or _compiled(field.pattern).search(value) is not None:
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


def _rule_of(field: Field, facet: str) -> str:
    return FACET_RULES.get((field.json_name, facet), "field-value")


def _has_kind(field: Field, value: Any) -> bool:
    kind = field.kind
    if kind == "array":
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return True  # objects: the spec's send request has none


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


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)
