"""Nonces of signed requests, so that a request signed once is served once.

A row lives while its request's time is within the allowed skew of the ledger's clock; older
rows are pruned by the service, since a request that old is refused as stale anyway.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

STATEMENTS = [
    """CREATE TABLE request_nonces (
        key_id text NOT NULL,
        nonce text NOT NULL,
        signed_at timestamptz NOT NULL,
        PRIMARY KEY (key_id, nonce))""",
    "CREATE INDEX request_nonces_signed_at ON request_nonces (signed_at)",
    "GRANT SELECT, INSERT, DELETE ON request_nonces TO rural_ledger_service",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)
