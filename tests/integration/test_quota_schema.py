"""The land quotas' table as migration 0013 makes it matches the SQLModel table the rules write
(the same check as the vouchers' tables: ``test_voucher_schema``)."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.quotas import TABLES
from tests.integration.test_voucher_schema import migrated
from tests.integration.test_voucher_schema import (
    test_the_migrated_table_matches_its_model as matches_its_model,
)

__all__ = ["migrated"]


@pytest.mark.parametrize("model", TABLES, ids=[m.__tablename__ for m in TABLES])  # type: ignore[attr-defined]
async def test_the_migrated_quota_table_matches_its_model(migrated: str, model: Any) -> None:
    await matches_its_model(migrated, model)
