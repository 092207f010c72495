# generated from spec/openapi.yaml by python -m codegen, do not edit
"""Wire-level code for Clickatell Platform messaging API 1.0.0, emitted by `python -m codegen`.

Applications should import `clickatell_sms`, not this package: its names follow the spec and
change when the spec does. Import the module you need (`.tables`, `.models`, `.operations`,
`.http_types`, `.transport` on urllib3, `.async_transport` on aiohttp, `.xml.codec`): this file
imports none of them, so reading the tables costs no HTTP stack and no model classes.
"""

__all__ = ["async_transport", "http_types", "models", "operations", "tables", "transport", "xml"]
