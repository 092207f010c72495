# generated from spec/openapi.yaml sha256 84fe841107a4afb0b38bc3696d7fca11deb69f7c5e4005e973faf89e8d4ef3ef, do not edit
"""Wire-level code for Clickatell Platform messaging API 1.0.0, emitted by `python -m codegen`.

Applications should import `clickatell_sms`, not this package: its names follow the spec and
change when the spec does. Import the module you need (`clickatell_wire.tables`, `.models`,
`.operations`, `.transport`, `.xml.codec`): this file imports none of them, so reading the tables
costs no HTTP stack and no model classes.
"""

__all__ = ["models", "operations", "tables", "transport", "xml"]
