"""The public pages (no sign-in): certificate verification at ``/verify`` and ``/verify/{seq}``."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
