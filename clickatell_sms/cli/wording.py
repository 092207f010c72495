"""The facade's validation errors in a shell user's words: each field becomes its flag.

`ValidationError.field` is a Python name (`validity_period`, `to[3]`, `api_key`) and a few
problems suggest a Python fix (`integration='rest'`). On the command line the same mistake is
named by the flag that carried the value, or by the environment variable it came from, so this
module is the one table from field to flag; the send options' flags come from `fields.flag_of`,
so a field added to the spec is named correctly here with no edit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from clickatell_wire.tables import SEND_OPTIONS

from ..errors import ValidationError
from ..numbers import REGION_ADVICE
from .fields import flag_of

__all__ = ["FLAGS", "describe", "in_shell_words", "shell_words", "subject_of"]

FLAGS: Final[Mapping[str, str]] = MappingProxyType(
    {
        **{field.name: flag_of(field) for field in SEND_OPTIONS},
        "content": "--text",
        "to": "--to",
        "api_key": "--api-key",
        "base_url": "--base-url",
        "integration": "--integration",
        "format": "--format",
        "default_region": "--region",
        "timeout": "--timeout",
        "connect_timeout": "--timeout",
        "read_timeout": "--timeout",
        "retry": "--retries",
        "max_retries": "--retries",
        "max_connections": "--concurrency",
        "concurrency": "--concurrency",
        "rate_limit": "--rate-limit",
        "stop_after": "--stop-after",
        "output": "--output",
        "journal": "--journal",
        "shards": "--shards",
        "resume": "--resume",
        "recipients": "--csv",
        "api_message_id": "the message ID",
        "opt_outs": "--opt-outs",
        "ignore_opt_outs": "--ignore-opt-outs",
        "stop_words": "--stop-words",
        "start_words": "--start-words",
        "dry_run": "--dry-run",
    }
)
"""Facade field (or keyword) -> the flag that sets it on the command line."""

# Python words in problems, and what a shell user reads instead ("None": leaving the flag out).
_PHRASES: Final = (
    (", or None", ""),
    (" (or None)", ""),
    ("an int", "a whole number"),
    (REGION_ADVICE, "or add --region CC (the country of national numbers)"),
)
_INDEXED: Final = re.compile(r"^(\w+)\[(\d+)\]$")
# A Python keyword argument in a hint: `integration='rest'`, `api_key=`, `resume=True`.
_KEYWORD: Final = re.compile(r"\b([a-z][a-z0-9_]*)=('[^']*'|\"[^\"]*\"|[\w.]+)?")
# A list of field names in prose: `content, to and from_`.
_NAME: Final = "|".join(sorted(map(re.escape, FLAGS), key=len, reverse=True))
_ONE_NAME: Final = re.compile(rf"\b(?:{_NAME})(?!\w)")
_NAME_LIST: Final = re.compile(rf"\b(?:{_NAME})(?:, (?:{_NAME}))* and (?:{_NAME})(?!\w)")
# Python spellings no English word has, named bare in a hint: `from_`, `default_region`.
_PYTHON_ONLY: Final = re.compile(
    "|".join(rf"\b{re.escape(n)}(?!\w)" for n in sorted(FLAGS, key=len, reverse=True) if "_" in n)
    or "(?!)"
)


def subject_of(field: str, sources: Mapping[str, str] | None = None) -> str:
    """The flag (or variable) a field's value came from: `to[3]` -> `--to (number 4)`."""
    names = [part.strip() for part in field.split(",")]
    return ", ".join(_one_subject(name, sources or {}) for name in names)


def describe(exc: ValidationError, sources: Mapping[str, str] | None = None) -> str:
    """`exc` as the command line says it: `--validity-period: is 0 minutes; ...`."""
    return str(in_shell_words(exc, sources))


def in_shell_words(
    exc: ValidationError, sources: Mapping[str, str] | None = None
) -> ValidationError:
    """The same error with its field named by flag (or variable) and no Python in its problem.

    `sources` names where a setting came from when that was not its flag (for example
    `{"base_url": "CLICKATELL_BASE_URL"}`). Worded errors pass through unchanged.
    """
    subject = subject_of(exc.field, sources)
    problem = shell_words(exc.problem)
    problem = problem.replace(f" (from {subject})", "")  # already said by the subject
    return ValidationError(subject, problem, exc.value)


def _one_subject(name: str, sources: Mapping[str, str]) -> str:
    if name in sources:
        return sources[name]
    indexed = _INDEXED.match(name)
    if indexed is not None:
        base, index = indexed.groups()
        return f"{_one_subject(base, sources)} (number {int(index) + 1})"
    return FLAGS.get(name, name)


def shell_words(problem: str) -> str:
    """A problem (or a bad row's reason) with Python's words replaced by the command line's."""

    def keyword(match: re.Match[str]) -> str:
        name, value = match.group(1), match.group(2)
        flag = FLAGS.get(name)
        if flag is None:
            return match.group(0)
        if value is None or value == "True":
            return flag
        return f"{flag} {value.strip(chr(39) + chr(34))}"

    for python, shell in _PHRASES:
        problem = problem.replace(python, shell)
    problem = _KEYWORD.sub(keyword, problem)
    problem = _NAME_LIST.sub(lambda m: _ONE_NAME.sub(lambda n: FLAGS[n[0]], m[0]), problem)
    return _PYTHON_ONLY.sub(lambda m: FLAGS[m.group(0)], problem)
