"""What the browser tests share: Debian's Chromium driven by Playwright, and the rule that on
CI they run (a missing browser fails them there; elsewhere they are skipped with the reason)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]
ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts" / "browser"
# A folder for the screenshots, page weights and request lists: RURAL_LEDGER_SCREENSHOTS, and
# on CI test-artefacts/browser in the checkout when that is not set (kept after the run).
SCREENSHOTS = os.environ.get("RURAL_LEDGER_SCREENSHOTS") or (str(ARTEFACTS) if os.environ.get("CI") else None)
if SCREENSHOTS:
    Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)

try:
    from playwright.async_api import Browser, Page, Route, async_playwright
except ImportError:  # pragma: no cover - the test extras install it
    async_playwright = None  # type: ignore[assignment]

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "SCREENSHOTS",
    "Browser",
    "Page",
    "Route",
    "async_playwright",
    "require_chromium",
]


def missing() -> str | None:
    if async_playwright is None:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)"
    return None


def require_chromium(what: str) -> None:
    """Skip the calling test module when there is no browser, except on CI, where it fails."""
    if (reason := missing()) is not None:
        if os.environ.get("CI"):
            raise RuntimeError(f"{what} must run on CI: {reason}")
        pytest.skip(reason, allow_module_level=True)
