"""`python -m clickatell_sms`: the `clickatell-sms` command, for a venv whose scripts are not on
PATH (as `python -m pip` is pip)."""

from .cli import main

if __name__ == "__main__":  # importing the module (docs, linters) runs nothing
    raise SystemExit(main())
