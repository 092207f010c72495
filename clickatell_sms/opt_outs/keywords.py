"""Which replies opt a number out, and which opt it back in.

A reply counts only when the keyword is the whole message, once trimmed and with case ignored:
"stop", " Stop " and "STOP" opt out; "Please stop texting me" does not, since a sentence that
contains the word can mean anything ("don't stop"). That is the rule US carriers apply to the
CTIA keywords, and the one Twilio's Messaging Services apply for their users.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

from ..errors import ValidationError

__all__ = ["DEFAULT_START_WORDS", "DEFAULT_STOP_WORDS", "Action", "Keywords"]

Action = Literal["opt-out", "opt-in"]

DEFAULT_STOP_WORDS: Final = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT")
"""The replies that opt a number out unless configured otherwise (the CTIA's list)."""
DEFAULT_START_WORDS: Final = ("START", "UNSTOP")
"""The replies that opt a number back in unless configured otherwise."""


def _fold(word: str) -> str:
    return word.strip().casefold()


@dataclass(frozen=True, slots=True)
class Keywords:
    """The stop and start keywords, each matched against a whole trimmed reply, any case.

    Give your own lists to add a language's words ("STOPP", "ARRET"): they replace the defaults,
    so include those you still want. A word may not be in both lists, or be empty.
    """

    stop: tuple[str, ...] = DEFAULT_STOP_WORDS
    start: tuple[str, ...] = DEFAULT_START_WORDS

    def __post_init__(self) -> None:
        for name in ("stop", "start"):
            words = getattr(self, name)
            if isinstance(words, str) or not isinstance(words, Iterable):
                raise ValidationError(f"{name}_words", "must be a list of words", words)
            cleaned = tuple(_clean(name, word) for word in words)
            if not cleaned:
                raise ValidationError(f"{name}_words", "needs at least one word", words)
            object.__setattr__(self, name, cleaned)
        both = {_fold(w) for w in self.stop} & {_fold(w) for w in self.start}
        if both:
            shown = ", ".join(sorted(word.upper() for word in both))
            raise ValidationError("start_words", f"{shown} cannot both stop and start", shown)

    @classmethod
    def from_lists(cls, stop: str | None = None, start: str | None = None) -> Keywords:
        """Keywords from comma-separated lists (a command's flags); None keeps a default."""
        return cls(
            DEFAULT_STOP_WORDS if stop is None else tuple(stop.split(",")),
            DEFAULT_START_WORDS if start is None else tuple(start.split(",")),
        )

    def match(self, text: str | None) -> tuple[Action, str] | None:
        """("opt-out" or "opt-in", the keyword as configured) for a reply that is one of the
        keywords and nothing else; None for anything else (no text, a sentence, another word)."""
        if not text:
            return None
        folded = _fold(text)
        for word in self.stop:
            if _fold(word) == folded:
                return "opt-out", word
        for word in self.start:
            if _fold(word) == folded:
                return "opt-in", word
        return None


def _clean(name: str, word: object) -> str:
    if not isinstance(word, str) or not word.strip():
        raise ValidationError(f"{name}_words", "holds an empty word", word)
    if any(not char.isprintable() for char in word):
        raise ValidationError(f"{name}_words", "holds a word with control characters", word)
    return word.strip()
