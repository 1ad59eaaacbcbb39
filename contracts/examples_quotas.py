"""Example payloads of the land-quota kinds (``contracts.examples`` lists them with the rest)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

QUOTA_EXAMPLES: dict[str, Callable[[], dict[str, Any]]] = {}
