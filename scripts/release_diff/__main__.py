"""`python -m release_diff` (with scripts/ on sys.path); scripts/release-diff is the usual door."""

import sys
import traceback

from .cli import main

if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:  # a crash is the tool failing, not a finding: exit 2 as documented
        traceback.print_exc()
        sys.exit(2)
