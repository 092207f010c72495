"""Side-by-side client benchmarks for clickatell-sms: `python -m benchmarks [--quick]`.

Modules: `server` (canned keep-alive HTTP server, its own process), `clients` (one adapter per
client), `worker` (runs one adapter in its own process), `measure` (rounds, statistics, import
times, bulk, codegen), `openapi_gen` (OpenAPI Generator client, cached), `bulk` (the bulk child),
`report` (Markdown) and `profile` (cProfile of one adapter, for finding where the time goes).
"""
