"""Whether a host is this machine: the one rule behind every "only on loopback" decision.

The API key may cross plain http:// only to this machine (`ClientConfig`); the sandbox warns
when it listens beyond it; the conformance probe needs `--live` to send anywhere else; and
`clickatell-sms listen` warns when Clickatell would post to it over plain http:// from outside.
They all ask `is_loopback`, so they agree on what "this machine" is: the name `localhost` and
the loopback addresses, 127.0.0.0/8 and ::1. No name is looked up (an answer can change between
the check and the connection), and names under `.localhost` are not taken on trust.
"""

from __future__ import annotations

__all__ = ["is_loopback"]


def is_loopback(host: str) -> bool:
    """True when `host` is `localhost` (in any case) or a loopback address: 127.0.0.0/8, or ::1
    with or without brackets, and 127.x.y.z written as an IPv4-mapped IPv6 address. False for
    any other name or address, and for an empty host (which binds every interface)."""
    name = host.removeprefix("[").removesuffix("]").lower()
    if name == "localhost":
        return True
    import ipaddress  # here: a client for the default https:// base URL never needs it

    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        # Checked as the IPv4 address it carries: Python 3.11 and 3.12 say False for
        # ::ffff:127.0.0.1 (CPython gh-117566 changed that), so the rule would vary with them.
        return address.ipv4_mapped.is_loopback
    return address.is_loopback
