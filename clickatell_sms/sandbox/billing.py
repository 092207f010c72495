"""The sandbox account's balance: what each accepted recipient costs, and what is left.

Clickatell charges per message part and per recipient, and refused requests cost nothing, so the
balance only moves when a recipient is accepted: by `price_per_part` times the parts the content
needs (counted by `clickatell_sms.encoding`, as the client does).
"""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Final

__all__ = ["DEFAULT_BALANCE", "DEFAULT_PRICE_PER_PART", "Account"]

DEFAULT_BALANCE: Final = Decimal("1000000")
"""A sandbox nobody configured pays for 10 million parts: a 100,000-row campaign of 35-part
messages fits, so a demo never stops on credit. Set a balance to test running out."""
DEFAULT_PRICE_PER_PART: Final = Decimal("0.1")


class Account:
    """A balance in one currency, charged per part; safe to read and top up from any thread."""

    def __init__(self, balance: Decimal, currency: str, price_per_part: Decimal) -> None:
        if price_per_part < 0:
            raise ValueError("price_per_part must not be negative")
        self._balance = Decimal(balance)
        self.currency = currency
        self.price_per_part = Decimal(price_per_part)
        self._lock = threading.Lock()

    @property
    def balance(self) -> Decimal:
        """What is left."""
        return self._balance

    def set_balance(self, balance: Decimal) -> None:
        """Replace the balance (for example to test running out of credit)."""
        with self._lock:
            self._balance = Decimal(balance)

    def try_charge(self, parts: int) -> bool:
        """Charge for `parts` parts if the balance covers them; else take nothing, return False."""
        cost = self.price_per_part * parts
        with self._lock:
            if cost > self._balance:
                return False
            self._balance -= cost
            return True
