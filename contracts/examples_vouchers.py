"""Example payloads of the house-voucher kinds (``contracts.examples`` lists them with the rest)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

VOUCHER_EXAMPLES: dict[str, Callable[[], dict[str, Any]]] = {}
