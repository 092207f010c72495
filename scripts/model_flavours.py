"""Measures the JSON model flavours datamodel-code-generator can emit, on this project's spec.

Why the project uses msgspec.Struct: run `python scripts/model_flavours.py` (needs pydantic
installed next to the dev extra) and compare build + serialize + parse cost per request, and
import time, against plain `json`. The README's design section quotes its output.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import statistics
import subprocess
import sys
import tempfile
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FLAVOURS = {
    "pydantic v2": "pydantic_v2.BaseModel",
    "msgspec.Struct": "msgspec.Struct",
    "dataclasses + json": "dataclasses.dataclass",
}
OPTIONS = [
    "--input-file-type=openapi",
    "--target-python-version=3.11",
    "--use-annotated",
    "--field-constraints",
    "--use-standard-collections",
    "--use-union-operator",
    "--snake-case-field",
    "--disable-timestamp",
    "--enum-field-as-literal=all",
    "--openapi-scopes=schemas",
    "--no-formatters",
]


def _response(n: int) -> bytes:
    messages = [
        {
            "apiMessageId": f"{i:032x}",
            "accepted": True,
            "to": f"2782{i:07d}",
            "errorCode": None,
            "error": None,
            "errorDescription": None,
        }
        for i in range(n)
    ]
    doc = {"messages": messages, "errorCode": None, "error": None, "errorDescription": None}
    return json.dumps(doc).encode()


def _cases(n: int, mods: dict[str, Any]) -> dict[str, Callable[[], object]]:
    import msgspec

    to = [f"2782{i:07d}" for i in range(n)]
    body = _response(n)
    p, m, d = mods["pydantic v2"], mods["msgspec.Struct"], mods["dataclasses + json"]
    decoder = msgspec.json.Decoder(m.SendMessagesResponse)
    encoder = msgspec.json.Encoder()
    renames = {"apiMessageId": "api_message_id", "errorCode": "error_code"}
    renames["errorDescription"] = "error_description"

    def floor() -> object:
        json.dumps({"content": "Hello there", "to": to}).encode()
        doc = json.loads(body)
        return [(x["to"], x["apiMessageId"], x["accepted"]) for x in doc["messages"]]

    def pydantic() -> object:
        request = p.SendMessageRequest(content="Hello there", to=to)
        request.model_dump_json(by_alias=True, exclude_unset=True)
        doc = p.SendMessagesResponse.model_validate_json(body)
        return [(x.to, x.api_message_id, x.accepted) for x in doc.messages]

    def struct() -> object:
        encoder.encode(m.SendMessageRequest(content="Hello there", to=to))
        doc = decoder.decode(body)
        return [(x.to, x.api_message_id, x.accepted) for x in doc.messages]

    def plain() -> object:
        request = d.SendMessageRequest(content="Hello there", to=to)
        fields = dataclasses.asdict(request).items()
        json.dumps({k: v for k, v in fields if v is not None}).encode()
        rows = json.loads(body)["messages"]
        msgs = [d.MessageResponse(**{renames.get(k, k): v for k, v in x.items()}) for x in rows]
        return [(x.to, x.api_message_id, x.accepted) for x in msgs]

    return {
        "json (floor)": floor,
        "pydantic v2": pydantic,
        "msgspec.Struct": struct,
        "dataclasses + json": plain,
    }


def _import_ms(folder: Path, module: str) -> float:
    samples = []
    for _ in range(7):
        run = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import urllib3, {module}"],
            cwd=folder,
            capture_output=True,
            text=True,
            check=True,
        )
        total = 0
        for line in run.stderr.splitlines():
            parts = line.split("|")
            if len(parts) == 3 and parts[2].strip() in ("urllib3", module):
                total += int(parts[1])
        samples.append(total / 1000)
    return statistics.median(samples)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        mods: dict[str, Any] = {}
        sys.path.insert(0, tmp)
        for label, flavour in FLAVOURS.items():
            name = "m_" + flavour.split(".")[0]
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "datamodel_code_generator",
                    "--input",
                    str(ROOT / "spec" / "openapi.yaml"),
                    "--output",
                    str(folder / f"{name}.py"),
                    f"--output-model-type={flavour}",
                    *OPTIONS,
                ],
                check=True,
            )
            mods[label] = importlib.import_module(name)
        print("| flavour | 1 recipient µs | × json | 200 recipients µs | × json | import ms |")
        print("|---|---:|---:|---:|---:|---:|")
        results: dict[str, list[float]] = {}
        for n in (1, 200):
            number = 2000 if n == 1 else 100
            for label, case in _cases(n, mods).items():
                runs = [timeit.timeit(case, number=number) / number * 1e6 for _ in range(7)]
                results.setdefault(label, []).append(statistics.median(runs))
        floor = results["json (floor)"]
        for label, (one, many) in results.items():
            module = "json" if label == "json (floor)" else "m_" + FLAVOURS[label].split(".")[0]
            imp = _import_ms(folder, module)
            print(
                f"| {label} | {one:.1f} | {one / floor[0]:.2f} | {many:.1f} | "
                f"{many / floor[1]:.2f} | {imp:.0f} |"
            )


if __name__ == "__main__":
    main()
