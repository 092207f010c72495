"""Switches for the live API's known oddities, so a client is tested against each of them.

Each quirk is something Clickatell has been seen to do (reference notes, section 1.3): a client
that only ever meets the tidy, documented answer will break on the real one. All are off by
default; turn them on per sandbox (`Quirks(...)`) or per request with the header
`X-Sandbox-Quirks: errors-with-200, extra-fields` (names with `-` or `_`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

__all__ = ["Quirks"]


@dataclass(frozen=True, slots=True)
class Quirks:
    """Which oddities of the live API to reproduce.

    * `errors_with_200`: a request-level error of a send (`POST /messages`, the GET send) comes
      with status 200 instead of 4xx, as the live API did for error 106. Routing errors (404,
      405) and injected faults keep their status.
    * `omit_top_level_error_keys`: a successful send answer has no top-level `errorCode`,
      `error`, `errorDescription` keys at all (JSON; XML never writes empty elements).
    * `extra_fields`: answers carry fields the spec does not name (`requestId` and `sandbox` at
      the top, `sandbox` in each message), in JSON and as unknown elements in XML. Such XML no
      longer matches the XSD, on purpose: readers must skip what they do not know.
    * `legacy_string_errors`: the 2017 shape: no `errorCode` and no `errorDescription`, only
      the `error` text.
    """

    errors_with_200: bool = False
    omit_top_level_error_keys: bool = False
    extra_fields: bool = False
    legacy_string_errors: bool = False

    @property
    def any(self) -> bool:
        """Whether any quirk is on (the fast path skips all quirk handling when not)."""
        return (
            self.errors_with_200
            or self.omit_top_level_error_keys
            or self.extra_fields
            or self.legacy_string_errors
        )

    def merged(self, header: str | None) -> Quirks:
        """These quirks plus those named in an `X-Sandbox-Quirks` header; ValueError if unknown."""
        if not header:
            return self
        known = {field.name for field in fields(self)}
        changes: dict[str, bool] = {}
        for item in header.split(","):
            name = item.strip().lower().replace("-", "_")
            if not name:
                continue
            if name not in known:
                raise ValueError(
                    f"X-Sandbox-Quirks: unknown quirk {item.strip()!r};"
                    f" use {', '.join(sorted(n.replace('_', '-') for n in known))}"
                )
            changes[name] = True
        return replace(self, **changes) if changes else self
