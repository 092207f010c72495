"""`is_loopback`: the one rule for "this machine" (plain http:// for the key, the sandbox's and
the listener's warnings, the conformance probe's --live guard), checked here once."""

from __future__ import annotations

import ast

import pytest

from clickatell_sms.loopback import is_loopback

from .conftest import ROOT


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LocalHost",
        "127.0.0.1",
        "127.0.0.2",
        "127.255.255.254",
        "::1",
        "[::1]",
        "0:0:0:0:0:0:0:1",
        "::ffff:127.0.0.1",  # 127.0.0.1 on a dual-stack socket
        "[::ffff:127.1.2.3]",
    ],
)
def test_this_machine(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host",
    [
        "",  # binds every interface
        "0.0.0.0",
        "::",
        "126.255.255.255",
        "128.0.0.1",
        "10.0.0.1",
        "192.168.1.10",
        "::2",
        "::ffff:10.0.0.1",
        "fe80::1",
        "example.com",
        "api.localhost",  # up to the resolver: not taken on trust
        "localhost.example.com",
        "127.0.0.1.nip.io",
        "localhost.",
        " localhost",
    ],
)
def test_anywhere_else(host: str) -> None:
    assert not is_loopback(host)


def test_no_other_module_decides_loopback_by_itself() -> None:
    """Every place that trusts loopback more asks `is_loopback`; none keeps a rule of its own."""
    own_rules = []
    for path in sorted((ROOT / "clickatell_sms").rglob("*.py")):
        if path.name == "loopback.py" and path.parent.name == "clickatell_sms":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "is_loopback":
                own_rules.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            elif isinstance(node, ast.FunctionDef) and "loopback" in node.name:
                own_rules.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert own_rules == []
