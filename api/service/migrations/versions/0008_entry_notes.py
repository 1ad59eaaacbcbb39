"""Free-text notes on entries: never in the ledger, erasable.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

STATEMENTS = [
    """CREATE TABLE entry_notes (
        entry_id VARCHAR PRIMARY KEY,
        actor VARCHAR NOT NULL,
        text VARCHAR NOT NULL,
        created_at TIMESTAMPTZ NOT NULL)""",
    "GRANT SELECT, INSERT, DELETE ON entry_notes TO rural_ledger_service",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)
