"""`python -m clickatell_sms.sandbox`: the same as `clickatell-sms sandbox` (whose command line
lives with the others, in `clickatell_sms.cli.sandbox`)."""

from __future__ import annotations

import sys

from ..cli import main

_given = sys.argv[1:]
# `python -m clickatell_sms.sandbox sandbox ...` too: the words a script wrote for the CLI.
raise SystemExit(main(["sandbox", *(_given[1:] if _given[:1] == ["sandbox"] else _given)]))
