"""The log's tables, as SQLAlchemy Core sees them for its queries. Rows are only ever
inserted: database triggers refuse UPDATE, DELETE and TRUNCATE on every one of them. The DDL
that creates them, triggers and grants included, is ``ledger.ddl``."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    LargeBinary,
    MetaData,
    SmallInteger,
    Table,
    Text,
    Uuid,
)

metadata = MetaData()

ledger_meta = Table(
    "ledger_meta",
    metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=False),
    Column("origin", Text, nullable=False),
    Column("operator_key", Text, nullable=False),  # the note verifier key string
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("id = 1", name="one_ledger_per_database"),
)

records = Table(
    "records",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("entry_id", Uuid, nullable=False, unique=True),
    Column("kind", Text, nullable=False, index=True),
    Column("actor", Text, nullable=False, index=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("body", LargeBinary, nullable=False),  # the record's exact canonical bytes
    Column("leaf_hash", LargeBinary, nullable=False),
)

merkle_nodes = Table(
    "merkle_nodes",
    metadata,
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary, nullable=False),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary, nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
