"""What an answer says, in the few facts a verdict compares, and the verdict itself.

Two answers are the same when they agree on what a client acts on: the HTTP status, the media
type, whether the body is a send envelope, a look-up or an error, the request-level error code
and text, and each entry's acceptance and code. Message IDs, descriptions, balances and the
order of JSON keys are left out: they differ between any two servers that agree.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal
from xml.etree.ElementTree import ParseError, fromstring

__all__ = ["Answer", "Verdict", "read_answer", "verdict"]

Verdict = Literal["same", "different", "unexpected"]
BodyKind = Literal["send", "error", "balance", "status", "unreadable", "none"]

_MAX_BODY: Final = 4000  # characters kept in a report, per answer
_INTERESTING: Final = (
    "server",  # tells a sandbox's answers apart (`sandbox --observed` refuses them as evidence)
    "content-type",
    "retry-after",
    "allow",
    "x-sandbox-rule",
    "x-sandbox-warning",
)
_RATE_WORDS: Final = ("ratelimit", "rate-limit", "x-rate")


@dataclass(frozen=True, slots=True)
class Answer:
    """One server's answer to a probe, reduced to what a verdict compares, and shown whole."""

    status: int | None
    media: str | None
    kind: BodyKind
    error_code: int | None = None
    error: str | None = None
    description: str | None = None
    entries: tuple[tuple[bool, int | None], ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    failure: str | None = None
    """Set when no answer came: the connection failed or timed out."""

    @property
    def accepted(self) -> int:
        """How many entries report an accepted recipient."""
        return sum(1 for ok, _ in self.entries if ok)

    @property
    def taken(self) -> bool:
        """The request as a whole was taken: a 2xx send envelope with entries and no error."""
        return (
            self.status is not None
            and 200 <= self.status < 300
            and self.kind == "send"
            and bool(self.entries)
            and self.error_code is None
            and not self.error
        )

    def signature(self) -> tuple[object, ...]:
        return (self.status, self.media, self.kind, self.error_code, self.error, self.entries)

    def summary(self) -> str:
        """One line: `202 json, 1 entry: 105` or `400 json, error 101`."""
        if self.failure is not None:
            return f"no answer ({self.failure})"
        head = f"{self.status} {self.media or 'no media type'}"
        if self.kind == "send" and not (self.error_code or self.error):
            codes = ", ".join("accepted" if ok else str(code) for ok, code in self.entries)
            count = len(self.entries)
            return f"{head}, {count} entr{'y' if count == 1 else 'ies'}: {codes}"
        if self.error_code is not None or self.error:
            code = "-" if self.error_code is None else self.error_code
            return f"{head}, error {code}: {self.error}"
        return f"{head}, {self.kind}"

    def to_json(self) -> dict[str, Any]:
        values = asdict(self)
        values["entries"] = [{"accepted": ok, "errorCode": code} for ok, code in self.entries]
        values["errorCode"] = values.pop("error_code")
        values["errorDescription"] = values.pop("description")
        return values


def read_answer(status: int, headers: dict[str, str], body: bytes) -> Answer:
    """The facts of an HTTP answer (`headers` with lower-case names)."""
    content_type = headers.get("content-type", "")
    media = content_type.split(";", 1)[0].strip().lower() or None
    kept = {name: value for name, value in headers.items() if _kept(name)}
    text = body.decode("utf-8", "replace")
    shown = text if len(text) <= _MAX_BODY else text[:_MAX_BODY] + f"... ({len(text)} characters)"
    facts = _facts(media, body)
    return Answer(status=status, media=_short(media), headers=kept, body=shown, **facts)


def failed(reason: str) -> Answer:
    """The answer when none came."""
    return Answer(status=None, media=None, kind="none", failure=reason)


def verdict(live: Answer, sandbox: Answer) -> Verdict:
    """`unexpected` when the live answer is none a probe allows for (no answer, a 5xx, a body
    that is neither a document nor an error, or an accepted recipient); else same or different."""
    if (
        live.failure is not None
        or live.kind == "unreadable"
        or (live.status is not None and live.status >= 500)
        or live.accepted
    ):
        return "unexpected"
    return "same" if live.signature() == sandbox.signature() else "different"


def differences(live: Answer, sandbox: Answer) -> list[str]:
    """What differs, in words, for the report."""
    names = ("status", "media type", "body kind", "error code", "error", "entries")
    return [
        f"{name}: live {mine!r}, sandbox {theirs!r}"
        for name, mine, theirs in zip(names, live.signature(), sandbox.signature(), strict=True)
        if mine != theirs
    ]


def _kept(name: str) -> bool:
    return name in _INTERESTING or any(word in name for word in _RATE_WORDS)


def _short(media: str | None) -> str | None:
    return {"application/json": "json", "application/xml": "xml"}.get(media or "", media)


def _facts(media: str | None, body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {"kind": "none"}
    if media == "application/xml" or body.lstrip().startswith(b"<"):
        return _xml_facts(body)
    try:
        document = json.loads(body)
    except ValueError:
        return {"kind": "unreadable"}
    if not isinstance(document, dict):
        return {"kind": "unreadable"}
    code = document.get("errorCode")
    facts: dict[str, Any] = {
        "error_code": code if isinstance(code, int) and not isinstance(code, bool) else None,
        "error": _text(document.get("error")),
        "description": _text(document.get("errorDescription")),
    }
    messages = document.get("messages")
    if isinstance(messages, list):
        facts["kind"] = "send"
        facts["entries"] = tuple(_entry(item) for item in messages if isinstance(item, dict))
    elif "balance" in document:
        facts["kind"] = "balance"
    elif "statusCode" in document or isinstance(document.get("status"), str):
        facts["kind"] = "status"  # (a problem document's `status` is a number)
    elif facts["error_code"] is not None or facts["error"]:
        facts["kind"] = "error"
    else:
        facts["kind"] = "unreadable"
    return facts


def _entry(item: dict[str, Any]) -> tuple[bool, int | None]:
    code = item.get("errorCode")
    accepted = item.get("accepted") is True or bool(item.get("apiMessageId"))
    return accepted, code if isinstance(code, int) and not isinstance(code, bool) else None


def _xml_facts(body: bytes) -> dict[str, Any]:
    try:
        root = fromstring(body)
    except ParseError:
        return {"kind": "unreadable"}
    if root.tag != "SendMessagesResponse":
        return {"kind": "unreadable"}
    entries = []
    for message in root.iter("Message"):
        accepted = (message.findtext("Accepted") or "").strip() in ("true", "1")
        accepted = accepted or bool((message.findtext("ApiMessageId") or "").strip())
        entries.append((accepted, _int(message.findtext("ErrorCode"))))
    return {
        "kind": "send",
        "entries": tuple(entries),
        "error_code": _int(root.findtext("ErrorCode")),
        "error": _text(root.findtext("Error")),
        "description": _text(root.findtext("ErrorDescription")),
    }


def _int(text: str | None) -> int | None:
    try:
        return int(text.strip()) if text else None
    except ValueError:
        return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
