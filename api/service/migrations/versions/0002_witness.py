"""Witness cosignatures of checkpoints (C2SP tlog-cosignature, Ed25519 ``cosignature/v1``).

A witness posts the cosignature line it made for a checkpoint of the log; the service keeps it
beside the checkpoint, append-only like the log itself, and serves checkpoints with every
cosignature it holds appended as further note signature lines.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from ledger import ddl

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in ddl.create_witness():
        op.execute(statement)
