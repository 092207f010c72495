"""The send options as command-line flags, made from the spec's table (`clickatell_wire.tables`).

`send` and `bulk` both call `add_option_flags`, so a field added to the contract becomes
`--its-name` on both with no change here: its type, choices and help come from the schema.
What is written by hand is what a flag needs beyond the schema: how to read a time or a number
of minutes from text, and the short names the commands had before (`--validity`, `--schedule`,
`--udh`), kept as aliases.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any, Final

from clickatell_wire.tables import SEND_OPTIONS, Field

__all__ = ["add_option_flags", "flag_of", "options_from_args"]

_ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "validity_period": ("--validity",),
    "scheduled_delivery_time": ("--schedule",),
    "user_data_header": ("--udh",),
}
_METAVARS: Final[Mapping[str, str]] = {
    "datetime": "ISO",
    "minutes": "MINUTES",
    "octets": "HEX",
    "phone-number": "NUMBER",
}
_VALUE_HELP: Final[Mapping[str, str]] = {
    "datetime": (
        "ISO 8601 with a UTC offset, e.g. 2030-02-27T14:30:00+02:00 or 2030-02-27T12:30:00Z"
    ),
}
_KIND_TYPES: Final[Mapping[str, Callable[[str], object]]] = {
    "string": str,
    "integer": int,
    "number": float,
}


def flag_of(field: Field) -> str:
    """`from_` -> `--from`, `validity_period` -> `--validity-period`."""
    return "--" + field.name.rstrip("_").replace("_", "-")


def add_option_flags(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    *,
    help_overrides: Mapping[str, str] | None = None,
    names: Collection[str] | None = None,
) -> None:
    """One flag per optional field of the send request, in the spec's order (only the fields
    in `names`, when given: `estimate` takes the two that change a text's size)."""
    overrides = help_overrides or {}
    for field in SEND_OPTIONS:
        if names is not None and field.name not in names:
            continue
        flags = [flag_of(field), *_ALIASES.get(field.name, ())]
        text = overrides.get(field.name) or _help(field)
        if field.kind == "boolean":
            parser.add_argument(
                *flags, dest=field.name, action="store_true", default=None, help=text
            )
            continue
        kwargs: dict[str, Any] = {"dest": field.name, "help": text, "default": None}
        if field.enum:
            kwargs["choices"] = field.enum
        else:
            kwargs["type"] = _value_type(field)
            kwargs["metavar"] = _METAVARS.get(field.value or "", field.kind.upper())
        parser.add_argument(*flags, **kwargs)


def options_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The options given on the command line, by keyword, for `Client.send` / `send_many`."""
    given = ((field.name, getattr(args, field.name, None)) for field in SEND_OPTIONS)
    return {name: value for name, value in given if value is not None}


def _help(field: Field) -> str:
    """The description's first sentence (what the field means; later ones may describe the
    wire's form, which the flag does not take), and what the flag's value must be."""
    first = field.description.split(". ")[0].rstrip(".")
    limits = []
    if field.minimum is not None or field.maximum is not None:
        low = "" if field.minimum is None else f"{field.minimum:g}"
        high = "" if field.maximum is None else f"{field.maximum:g}"
        limits.append(f"{low}-{high}")
    if field.max_length is not None:
        limits.append(f"at most {field.max_length} characters")
    value_help = _VALUE_HELP.get(field.value or "")
    if value_help is not None:  # what the flag reads, not the wire's form (converted)
        limits.append(value_help)
    return first + (f" ({'; '.join(limits)})" if limits else "")


def _value_type(field: Field) -> Callable[[str], object]:
    if field.value == "datetime":
        return _aware_time(flag_of(field))
    return _KIND_TYPES.get(field.kind, str)


def _aware_time(flag: str) -> Callable[[str], datetime]:
    def parse(text: str) -> datetime:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not an ISO date and time such as 2030-02-27T14:30:00+02:00"
            ) from None
        if moment.tzinfo is None:
            raise argparse.ArgumentTypeError(
                f"{text!r} has no UTC offset; add one, such as {text}+02:00 or {text}Z"
            )
        return moment

    parse.__name__ = flag  # argparse names the type in its error: make it the flag
    return parse
