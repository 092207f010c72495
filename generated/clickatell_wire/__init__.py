# generated from spec/openapi.yaml sha256 cfea5f0451252cfa276a63f2161de1c666613489b6097aeb205f6ccafe115d80, do not edit
"""Wire-level code for Clickatell Platform messaging API 1.0.0, emitted by `python -m codegen`.

Applications should import `clickatell_sms`, not this package: its names follow the spec and
change when the spec does.
"""

from . import models, operations
from .transport import DEFAULT_BASE_URL, Response, Transport, WireDecodeError

__all__ = ["DEFAULT_BASE_URL", "Response", "Transport", "WireDecodeError", "models", "operations"]
