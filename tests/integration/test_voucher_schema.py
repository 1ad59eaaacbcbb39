"""The house vouchers' tables as migration 0012 makes them match the SQLModel tables the rules
write: the same columns, each of the same type and nullability, the same primary key and an
index on every column the models index."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from sqlalchemy.dialects import postgresql

from api.service.database import asyncpg_url, make_engine
from api.service.migrate import migrate
from contracts.vouchers import TABLES

# The type a model's column compiles to in PostgreSQL, as information_schema names it.
POSTGRES_TYPE = {"VARCHAR": "character varying", "BIGINT": "bigint", "INTEGER": "integer"}
POSTGRES_TYPE |= {"DATE": "date", "JSONB": "jsonb", "BOOLEAN": "boolean"}


def expected_type(column: Any) -> str:
    return POSTGRES_TYPE[column.type.compile(dialect=postgresql.dialect())]


@pytest.fixture(scope="module")
async def migrated(database_factory: Any) -> str:
    url = await database_factory()
    owner = make_engine(asyncpg_url(url), service_role=False, pool_size=1)
    try:
        await migrate(owner)
    finally:
        await owner.dispose()
    return str(url)


@pytest.mark.parametrize("model", TABLES, ids=[m.__tablename__ for m in TABLES])  # type: ignore[attr-defined]
async def test_the_migrated_table_matches_its_model(migrated: str, model: Any) -> None:
    table = model.__table__
    conn = await asyncpg.connect(migrated)
    try:
        columns = await conn.fetch(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_name = $1 ORDER BY ordinal_position",
            table.name,
        )
        primary = await conn.fetch(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
            "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = $1::regclass AND i.indisprimary",
            table.name,
        )
        indexed = await conn.fetch(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
            "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = $1::regclass AND NOT i.indisprimary",
            table.name,
        )
    finally:
        await conn.close()
    # Every table also has the ledger_id that leads its keys (migration 0015), not in the model.
    assert {(c["column_name"], c["data_type"], c["is_nullable"] == "YES") for c in columns} == {
        (c.name, expected_type(c), bool(c.nullable)) for c in table.columns
    } | {("ledger_id", "integer", False)}
    assert {r["attname"] for r in primary} == {c.name for c in table.primary_key.columns} | {"ledger_id"}
    assert {c.name for c in table.columns if c.index} <= {r["attname"] for r in indexed}
