"""One check shared by the tests: replaying the log in memory rebuilds exactly the projection
tables the service holds, row by row."""

from __future__ import annotations

import asyncpg
import msgspec

from contracts.replay import Replay
from contracts.rulebook import PROJECTION_MODELS
from contracts.state import primary_key_columns


async def assert_replay_matches_projections(url: str, origin: str) -> set[str]:
    """Replay every record of the database at ``url``; return the tables that held rows."""
    conn = await asyncpg.connect(url)
    try:
        bodies = await conn.fetch("SELECT body FROM records ORDER BY seq")
        replay = Replay(origin).apply_all(msgspec.json.decode(r["body"]) for r in bodies)
        filled: set[str] = set()
        for model in PROJECTION_MODELS:
            table = model.__table__.name  # type: ignore[attr-defined]
            pk = primary_key_columns(model)
            json_columns = {
                c.name
                for c in model.__table__.columns  # type: ignore[attr-defined]
                if c.type.__class__.__name__ in ("JSON", "JSONB")
            }
            in_db = [
                {k: v for k, v in r.items() if k != "ledger_id"}  # the row's ledger, not the model's
                for r in await conn.fetch(f"SELECT * FROM {table} ORDER BY {', '.join(pk)}")
            ]
            for row in in_db:  # asyncpg gives JSONB as text
                for column in json_columns:
                    row[column] = msgspec.json.decode(row[column])
            in_memory = sorted(
                (r.model_dump() for r in replay.memory.tables.get(model, {}).values()),
                key=lambda d: tuple(d[c] for c in pk),
            )
            assert in_memory == in_db, f"{table} differs between replay and projection"
            if in_db:
                filled.add(table)
        return filled
    finally:
        await conn.close()
