# generated from spec/openapi.yaml sha256 833aea7d1fba5505f4a281b3e3edc3f6d5e7124145b30c4f2f9841c22fed7f84, do not edit
"""Wire-level code for Clickatell Platform messaging API 1.0.0, emitted by `python -m codegen`.

Applications should import `clickatell_sms`, not this package: its names follow the spec and
change when the spec does. Import the module you need (`clickatell_wire.tables`, `.models`,
`.operations`, `.http_types`, `.transport` (urllib3), `.async_transport` (aiohttp), `.xml.codec`):
this file imports none of them, so reading the tables costs no HTTP stack and no model classes.
"""

__all__ = ["async_transport", "http_types", "models", "operations", "tables", "transport", "xml"]
