"""The log (records, Merkle nodes, checkpoints), append-only triggers, the service role,
and the organisation and key projections.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

LOG_TABLES = ("ledger_meta", "records", "merkle_nodes", "checkpoints")
PROJECTION_TABLES = ("orgs", "org_keys")

LOG = [
    """CREATE TABLE ledger_meta (
        id smallint PRIMARY KEY CONSTRAINT one_ledger_per_database CHECK (id = 1),
        origin text NOT NULL,
        operator_key text NOT NULL,
        created_at timestamptz NOT NULL)""",
    """CREATE TABLE records (
        seq bigint PRIMARY KEY CHECK (seq >= 0),
        entry_id uuid NOT NULL UNIQUE,
        kind text NOT NULL,
        actor text NOT NULL,
        recorded_at timestamptz NOT NULL,
        body bytea NOT NULL,
        leaf_hash bytea NOT NULL CHECK (length(leaf_hash) = 32))""",
    "CREATE INDEX records_kind ON records (kind, seq)",
    "CREATE INDEX records_actor ON records (actor, seq)",
    """CREATE TABLE merkle_nodes (
        level smallint NOT NULL CHECK (level >= 0 AND level < 64),
        idx bigint NOT NULL CHECK (idx >= 0),
        hash bytea NOT NULL CHECK (length(hash) = 32),
        PRIMARY KEY (level, idx))""",
    """CREATE TABLE checkpoints (
        size bigint PRIMARY KEY CHECK (size > 0),
        root_hash bytea NOT NULL CHECK (length(root_hash) = 32),
        note text NOT NULL,
        created_at timestamptz NOT NULL)""",
    """CREATE FUNCTION rural_ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'rural ledger: % on % is refused, the log is append-only',
            TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END $$""",
]

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

SERVICE_ROLE = [
    """DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rural_ledger_service') THEN
            CREATE ROLE rural_ledger_service NOLOGIN;
        END IF;
    END $$""",
    "GRANT rural_ledger_service TO CURRENT_USER",
    "GRANT USAGE ON SCHEMA public TO rural_ledger_service",
    f"GRANT SELECT, INSERT ON {', '.join(LOG_TABLES)} TO rural_ledger_service",
    f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(PROJECTION_TABLES)} TO rural_ledger_service",
]


def append_only(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION rural_ledger_refuse_change()""",
        f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION rural_ledger_refuse_change()""",
    ]


def upgrade() -> None:
    triggers = [s for t in LOG_TABLES for s in append_only(t)]
    for statement in [*LOG, *triggers, *PROJECTIONS, *SERVICE_ROLE]:
        op.execute(statement)
