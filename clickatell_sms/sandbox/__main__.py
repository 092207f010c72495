"""`python -m clickatell_sms.sandbox`: the same as `clickatell-sms sandbox`."""

from __future__ import annotations

from .cli import main

raise SystemExit(main())
