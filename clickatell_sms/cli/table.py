"""A command's options as a table: every command declares its flags as data (`Option` rows,
`Added` rows for flags another module makes, such as the spec's fields), and `add_options`
turns the table into argparse arguments, in order, each in its `--help` section and its set
of flags that exclude each other.

A table reads as the command's interface in one place, apart from the code that checks and
runs it; argparse stays the parser (it does what a CLI needs; this only arranges its calls).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Added", "Container", "Option", "add_options", "option"]

Container = argparse.ArgumentParser | argparse._ArgumentGroup
"""Where arguments are added: a parser, or a section of its --help."""


@dataclass(frozen=True, slots=True)
class Option:
    """One argument: argparse's `add_argument(*flags, **settings)`, in the `--help` section
    titled `group` (None: the command's own), and in the set of alternatives named
    `exclusive` (flags of one set exclude each other)."""

    flags: tuple[str, ...]
    settings: Mapping[str, Any] = field(default_factory=dict)
    group: str | None = None
    exclusive: str | None = None


@dataclass(frozen=True, slots=True)
class Added:
    """Arguments another module declares (`fields.add_option_flags`, the connection options),
    added by `add` where this row stands in the table."""

    add: Callable[[Container], object]
    group: str | None = None


def option(
    *flags: str, group: str | None = None, exclusive: str | None = None, **settings: Any
) -> Option:
    """`Option` as `add_argument` is called: `option("--port", type=int, help=...)`."""
    return Option(flags, settings, group, exclusive)


def add_options(
    parser: argparse.ArgumentParser,
    table: Iterable[Option | Added],
    sections: Mapping[str, str | None] | None = None,
) -> None:
    """Add every row of `table` to `parser`. A section is made when its first row comes, with
    the description `sections` gives its title."""
    described = sections or {}
    groups: dict[str | None, Container] = {None: parser}
    alternatives: dict[tuple[str | None, str], argparse._MutuallyExclusiveGroup] = {}
    for row in table:
        if row.group is not None and row.group not in groups:
            groups[row.group] = parser.add_argument_group(row.group, described.get(row.group))
        container = groups[row.group]
        if isinstance(row, Added):
            row.add(container)
            continue
        if row.exclusive is not None:
            key = (row.group, row.exclusive)
            if key not in alternatives:
                alternatives[key] = container.add_mutually_exclusive_group()
            container = alternatives[key]
        container.add_argument(*row.flags, **row.settings)
