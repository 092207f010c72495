# generated from spec/openapi.yaml sha256 25214e5afa4236b0ad000bf0cd323680593a17a5d22360058dfafd8843d48dd2, do not edit
"""Wire-level code for Clickatell Platform messaging API 1.0.0, emitted by `python -m codegen`.

Applications should import `clickatell_sms`, not this package: its names follow the spec and
change when the spec does. Import the module you need (`clickatell_wire.tables`, `.models`,
`.operations`, `.http_types`, `.transport` (urllib3), `.async_transport` (aiohttp), `.xml.codec`):
this file imports none of them, so reading the tables costs no HTTP stack and no model classes.
"""

__all__ = ["async_transport", "http_types", "models", "operations", "tables", "transport", "xml"]
