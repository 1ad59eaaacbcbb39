"""Witness cosignatures of checkpoints (C2SP tlog-cosignature, Ed25519 ``cosignature/v1``).

A witness posts the cosignature line it made for a checkpoint of the log; the service keeps it
beside the checkpoint, append-only like the log itself, and serves checkpoints with every
cosignature it holds appended as further note signature lines.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

WITNESS = [
    """CREATE TABLE witness_cosignatures (
        size bigint NOT NULL REFERENCES checkpoints (size),
        witness_key text NOT NULL,
        name text NOT NULL,
        key_hash bytea NOT NULL CHECK (length(key_hash) = 4),
        timestamp bigint NOT NULL CHECK (timestamp >= 0),
        signature bytea NOT NULL CHECK (length(signature) = 64),
        line text NOT NULL,
        created_at timestamptz NOT NULL,
        PRIMARY KEY (size, witness_key))""",
    "CREATE INDEX witness_cosignatures_key ON witness_cosignatures (witness_key, size)",
    """CREATE TRIGGER witness_cosignatures_append_only BEFORE UPDATE OR DELETE
        ON witness_cosignatures FOR EACH ROW EXECUTE FUNCTION rural_ledger_refuse_change()""",
    """CREATE TRIGGER witness_cosignatures_no_truncate BEFORE TRUNCATE ON witness_cosignatures
        FOR EACH STATEMENT EXECUTE FUNCTION rural_ledger_refuse_change()""",
    "GRANT SELECT, INSERT ON witness_cosignatures TO rural_ledger_service",
]


def upgrade() -> None:
    for statement in WITNESS:
        op.execute(statement)
