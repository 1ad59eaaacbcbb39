"""The log (records, Merkle nodes, checkpoints), append-only triggers, the service role,
and the organisation and key projections.

Revision ID: 0001
Revises:
"""

from alembic import op

from ledger import ddl

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

PROJECTION_TABLES = ("orgs", "org_keys")

PROJECTIONS = [
    """CREATE TABLE orgs (
        id text PRIMARY KEY,
        name text NOT NULL,
        type text NOT NULL,
        parent_id text,
        registered_seq bigint NOT NULL)""",
    "CREATE INDEX orgs_type ON orgs (type)",
    "CREATE INDEX orgs_parent ON orgs (parent_id)",
    """CREATE TABLE org_keys (
        key_id text PRIMARY KEY,
        org_id text NOT NULL,
        public_key text NOT NULL,
        added_seq bigint NOT NULL,
        revoked_seq bigint,
        revoked_reason text)""",
    "CREATE INDEX org_keys_org ON org_keys (org_id)",
]

PROJECTION_GRANT = (
    f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(PROJECTION_TABLES)} TO {ddl.SERVICE_ROLE}"
)


def upgrade() -> None:
    for statement in [*ddl.create_log(), *PROJECTIONS, *ddl.grant_log(), PROJECTION_GRANT]:
        op.execute(statement)
