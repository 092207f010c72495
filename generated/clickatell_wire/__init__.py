# generated from spec/openapi.yaml sha256 25214e5afa4236b0ad000bf0cd323680593a17a5d22360058dfafd8843d48dd2, do not edit
"""Wire-level code for Clickatell Platform messaging API 1.0.0, emitted by `python -m codegen`.

Applications should import `clickatell_sms`, not this package: its names follow the spec and
change when the spec does.
"""

from . import models, operations
from .transport import DEFAULT_BASE_URL, Response, Transport, WireDecodeError

__all__ = ["DEFAULT_BASE_URL", "Response", "Transport", "WireDecodeError", "models", "operations"]
