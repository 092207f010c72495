"""Switches for the live API's known oddities, so a client is tested against each of them.

Each quirk is something Clickatell has been seen to do (reference notes, section 1.3), or the
answer that weaker evidence gives where the evidence disagrees: a client that only ever meets the
tidy, documented answer will break on the real one. All are off by default; turn them on per
sandbox (`Quirks(...)`) or per request with the header
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
    * `from_errors_with_400`: the `from` errors (106, 607) come with 400, as the legacy status
      table would have them, instead of the 200 the live API was seen to answer 106 with.
    * `delivery_time_120`: an unreadable `scheduledDeliveryTime` is refused with 120, the
      legacy HTTP list's meaning of that code, instead of 101 (the REST list gives 120 to
      spaces in `clientMessageId`, and so does the sandbox).

    The last two keep the other side of evidence that disagrees (see `rules`).
    """

    errors_with_200: bool = False
    omit_top_level_error_keys: bool = False
    extra_fields: bool = False
    legacy_string_errors: bool = False
    from_errors_with_400: bool = False
    delivery_time_120: bool = False

    @property
    def any(self) -> bool:
        """Whether any quirk is on (the fast path skips all quirk handling when not)."""
        return (
            self.errors_with_200
            or self.omit_top_level_error_keys
            or self.extra_fields
            or self.legacy_string_errors
            or self.from_errors_with_400
            or self.delivery_time_120
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
