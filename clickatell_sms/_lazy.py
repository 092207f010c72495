"""Modules imported when first used, with the standard library's `importlib.util.LazyLoader`.

The HTTP stack and the wire models cost tens of milliseconds to import (urllib3 alone most of
it). `from clickatell_sms import Client` must stay cheap for programs and CLI commands that never
send, so the client names those modules here and they load on the first attribute access,
which is the first `Client(...)`.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

__all__ = ["lazy_module"]


def lazy_module(name: str) -> ModuleType:
    """The module `name`, executed on first attribute access (at once if already imported)."""
    found = sys.modules.get(name)
    if found is not None:
        return found
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
