# generated from spec/openapi.yaml sha256 ace2c8eba20e72327c22574afc30ce19fe2dee26e35badf74f93a1a5db588917, do not edit
"""Wire-level code for Clickatell Platform messaging API 1.0.0, emitted by `python -m codegen`.

Applications should import `clickatell_sms`, not this package: its names follow the spec and
change when the spec does.
"""

from . import models, operations
from .transport import DEFAULT_BASE_URL, Response, Transport, WireDecodeError

__all__ = ["DEFAULT_BASE_URL", "Response", "Transport", "WireDecodeError", "models", "operations"]
