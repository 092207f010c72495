# generated from spec/openapi.yaml sha256 4ef00f7142349f23112e6030d87ee061204ee554c5c5b1dc6d0b30f0a9cd7cb8, do not edit
"""Wire-level code for Clickatell Platform messaging API 1.0.0, emitted by `python -m codegen`.

Applications should import `clickatell_sms`, not this package: its names follow the spec and
change when the spec does. Import the module you need (`clickatell_wire.tables`, `.models`,
`.operations`, `.http_types`, `.transport` (urllib3), `.async_transport` (aiohttp), `.xml.codec`):
this file imports none of them, so reading the tables costs no HTTP stack and no model classes.
"""

__all__ = ["async_transport", "http_types", "models", "operations", "tables", "transport", "xml"]
