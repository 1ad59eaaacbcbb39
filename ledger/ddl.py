"""The log's own DDL: its tables, the triggers that keep them append-only, and the grants to
the service's role. The migrations of a register built on this package run these statements.

The SQL is written out, not generated from ``ledger.schema``: databases already created from
it must keep exactly this schema, so a statement here is never edited once released; a change
is a new statement in a new migration.

Append-only, twice over: triggers refuse UPDATE, DELETE and TRUNCATE on every log table (even
for their owner), and the service's role is granted only SELECT and INSERT on them.
"""

from __future__ import annotations

LOG_TABLES = ("ledger_meta", "records", "merkle_nodes", "checkpoints")
WITNESS_TABLES = ("witness_cosignatures",)
REFUSE_CHANGE = "rural_ledger_refuse_change"  # the trigger function every append-only table uses
SERVICE_ROLE = "rural_ledger_service"  # may INSERT and SELECT the log, never change it


def log_tables() -> list[str]:
    """The records, their Merkle nodes, the checkpoints and the one row naming the ledger."""
    return [
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
    ]


def refuse_change_function() -> str:
    """The trigger function that refuses a change, as ``insufficient_privilege``."""
    return f"""CREATE FUNCTION {REFUSE_CHANGE}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'rural ledger: % on % is refused, the log is append-only',
            TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END $$"""


def append_only(table: str) -> list[str]:
    """Triggers refusing UPDATE and DELETE (per row) and TRUNCATE on ``table``.

    Precondition: ``refuse_change_function`` has run in this database."""
    return [
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {REFUSE_CHANGE}()""",
        f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION {REFUSE_CHANGE}()""",
    ]


def service_role() -> list[str]:
    """The service's role (made once per cluster, it outlives a database), usable by whoever
    runs the migrations, with access to the schema but to no table yet."""
    return [
        f"""DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{SERVICE_ROLE}') THEN
            CREATE ROLE {SERVICE_ROLE} NOLOGIN;
        END IF;
    END $$""",
        f"GRANT {SERVICE_ROLE} TO CURRENT_USER",
        f"GRANT USAGE ON SCHEMA public TO {SERVICE_ROLE}",
    ]


def grant_append(tables: tuple[str, ...]) -> str:
    """The service's role may read and insert into ``tables``, and nothing else."""
    return f"GRANT SELECT, INSERT ON {', '.join(tables)} TO {SERVICE_ROLE}"


def witness_tables() -> list[str]:
    """Witness cosignatures kept beside the checkpoints they cosign (``ledger.witness``)."""
    return [
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
    ]


def create_log() -> list[str]:
    """Everything of the log itself, in order: tables, the trigger function, the triggers."""
    triggers = [s for t in LOG_TABLES for s in append_only(t)]
    return [*log_tables(), refuse_change_function(), *triggers]


def grant_log() -> list[str]:
    """The service's role, and its SELECT and INSERT on the log's tables."""
    return [*service_role(), grant_append(LOG_TABLES)]


def create_witness() -> list[str]:
    """The witness tables, append-only, readable and insertable by the service's role.

    Precondition: ``create_log`` and ``grant_log`` have run in this database."""
    triggers = [s for t in WITNESS_TABLES for s in append_only(t)]
    return [*witness_tables(), *triggers, grant_append(WITNESS_TABLES)]
