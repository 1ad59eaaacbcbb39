"""The rule version in force (``rules.adopted``): one row, absent until the first adoption.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

STATEMENTS = [
    """CREATE TABLE rules_in_force (
        id INTEGER PRIMARY KEY,
        version INTEGER NOT NULL,
        adopted_seq BIGINT NOT NULL)""",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON rules_in_force TO rural_ledger_service",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)
