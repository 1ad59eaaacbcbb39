"""Indexes for the registry's reads of ``projection_history``: state as of a seq filtered by
collective or contract, and the certificates that list a person.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

STATEMENTS = [
    # rows_as_of(..., where={"collective_id": ...}) and ByColumn(..., "collective_id", ...)
    "CREATE INDEX projection_history_collective ON projection_history (model, (row->>'collective_id'), seq)",
    # parcels and management transfers of a contract
    "CREATE INDEX projection_history_contract ON projection_history (model, (row->>'contract_id'), seq)",
    # the certificates listing a person (row->'persons' @> [party])
    "CREATE INDEX projection_history_persons ON projection_history USING gin ((row->'persons')) "
    "WHERE model = 'certificates'",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)
