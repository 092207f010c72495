"""`python -m clickatell_sms.cli`: the same as the `clickatell-sms` command."""

from . import main

raise SystemExit(main())
