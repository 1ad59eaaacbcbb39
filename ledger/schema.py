"""The log's tables, as SQLAlchemy Core sees them for its queries. Rows are only ever
inserted: database triggers refuse UPDATE, DELETE and TRUNCATE on every one of them. The DDL
that creates them, triggers and grants included, is ``ledger.ddl``.

Many ledgers share a database (migration 0015): ``ledger_meta`` has a row per ledger, and every
other table a ``ledger_id`` column leading its keys. A connection is opened for one ledger (its
``rural_ledger.ledger`` setting, ``LEDGER_SETTING``): new rows take their ``ledger_id`` from it
and row-level security keeps the service's role to that ledger's rows. Queries here name the
ledger as well (``CURRENT_LEDGER``), so that they are right on the owner's connections too,
which row-level security does not restrict."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    Table,
    Text,
    Uuid,
    literal_column,
    text,
)
from sqlalchemy.sql.expression import ColumnClause

metadata = MetaData()

LEDGER_SETTING = "rural_ledger.ledger"  # the connection's ledger: ``ledger_meta.id``, as text
CURRENT_LEDGER: ColumnClause[int] = literal_column(f"current_setting('{LEDGER_SETTING}')::integer")
LEDGER_DEFAULT = text(f"current_setting('{LEDGER_SETTING}')::integer")  # every ledger_id's default

ledger_meta = Table(
    "ledger_meta",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # the ledger's number
    Column("origin", Text, nullable=False, unique=True),
    Column("operator_key", Text, nullable=False),  # the note verifier key string
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("id > 0", name="ledger_meta_id"),
)

records = Table(
    "records",
    metadata,
    Column("ledger_id", Integer, primary_key=True, autoincrement=False, server_default=LEDGER_DEFAULT),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("entry_id", Uuid, nullable=False),  # unique within the ledger
    Column("kind", Text, nullable=False, index=True),
    Column("actor", Text, nullable=False, index=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("body", LargeBinary, nullable=False),  # the record's exact canonical bytes
    Column("leaf_hash", LargeBinary, nullable=False),
)

merkle_nodes = Table(
    "merkle_nodes",
    metadata,
    Column("ledger_id", Integer, primary_key=True, autoincrement=False, server_default=LEDGER_DEFAULT),
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary, nullable=False),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("ledger_id", Integer, primary_key=True, autoincrement=False, server_default=LEDGER_DEFAULT),
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary, nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
