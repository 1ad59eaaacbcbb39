"""Fixtures of the in-memory rule tests: a fresh harness (genesis, the current rule version)
and a village collective in it."""

from __future__ import annotations

import pytest

from tests.unit.contracts.harness import Harness


@pytest.fixture
def h() -> Harness:
    return Harness()


@pytest.fixture
def village(h: Harness) -> str:
    return h.collective()
