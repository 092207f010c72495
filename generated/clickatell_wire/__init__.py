# generated from spec/openapi.yaml sha256 f4d95f4059c5f382048440a844091aa49ab64de74f1c7f50a7dfb957ba767010, do not edit
"""Wire-level code for Clickatell Platform messaging API 1.0.0, emitted by `python -m codegen`.

Applications should import `clickatell_sms`, not this package: its names follow the spec and
change when the spec does.
"""

from . import models, operations
from .transport import DEFAULT_BASE_URL, Response, Transport, WireDecodeError

__all__ = ["DEFAULT_BASE_URL", "Response", "Transport", "WireDecodeError", "models", "operations"]
