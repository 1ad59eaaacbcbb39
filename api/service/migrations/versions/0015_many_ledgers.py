"""Many ledgers in one database: every table keyed by ledger.

``ledger_meta`` stops being the one row of the database and becomes the table of ledgers:
its ``id`` is the ledger's number, its ``origin`` unique. Every other table gets a
``ledger_id`` column that leads its primary key, its unique constraints, its foreign keys and
its btree indexes (on Citus, the distribution column), so that two ledgers may hold the same
seq, org id or username without meeting. The rows already here are ledger 1's.

A new row takes its ``ledger_id`` from the connection's ``rural_ledger.ledger`` setting, which
the service sets when it opens a connection for one ledger (``api.service.database``); a
connection that has not set it cannot insert (``current_setting`` raises). Row-level security
keeps the service's role to that ledger's rows, reads and writes alike; the owner (migrations,
backup, restore) is not subject to it and filters by ledger itself.

``projection_history`` is keyed the same way but left out of row-level security: its reads
match on ``row->>'column'`` and ``key``, and PostgreSQL will not use an index for a condition
that is not leakproof under a policy. Its readers (``api.reads.history``) filter by ledger
themselves, and a statement trigger refuses any insert of rows of a ledger other than the
connection's (checked once per statement, over its new rows).

One writer per ledger: the appender locks its ledger's ``ledger_meta`` row (``SELECT ... FOR
NO KEY UPDATE``), which needs the UPDATE privilege on a column of it; the append-only trigger
still refuses every UPDATE.

Revision ID: 0015
Revises: 0014
"""

import re

from alembic import op
from sqlalchemy import text

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

SETTING = "rural_ledger.ledger"
CURRENT = f"current_setting('{SETTING}')::integer"
WITHOUT_POLICY = ("projection_history",)  # keyed, filtered by its readers (see above)


def _rows(sql: str) -> list[tuple]:
    return [tuple(r) for r in op.get_bind().execute(text(sql)).all()]


def upgrade() -> None:
    tables = [
        name
        for (name,) in _rows(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
            " AND relname NOT IN ('alembic_version', 'ledger_meta') ORDER BY relname"
        )
    ]
    constraints = _rows(
        "SELECT c.relname, con.conname, con.contype::text, pg_get_constraintdef(con.oid)"
        " FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid"
        " WHERE c.relnamespace = 'public'::regnamespace"
        " AND con.contype IN ('p', 'u', 'f') AND c.relname NOT IN ('alembic_version', 'ledger_meta')"
        " ORDER BY con.contype DESC, c.relname, con.conname"  # 'u', 'p' before 'f' when re-added
    )
    indexes = _rows(
        "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x JOIN pg_class i ON i.oid ="
        " x.indexrelid JOIN pg_class c ON c.oid = x.indrelid WHERE c.relnamespace = 'public'::regnamespace"
        " AND c.relname NOT IN ('alembic_version', 'ledger_meta') AND NOT EXISTS (SELECT 1 FROM"
        " pg_constraint con WHERE con.conindid = x.indexrelid) ORDER BY i.relname"
    )

    statements: list[str] = []
    run = statements.append
    run("ALTER TABLE ledger_meta DROP CONSTRAINT one_ledger_per_database")
    run("ALTER TABLE ledger_meta ALTER COLUMN id TYPE integer")
    run("ALTER TABLE ledger_meta ADD CONSTRAINT ledger_meta_origin UNIQUE (origin)")
    run("ALTER TABLE ledger_meta ADD CONSTRAINT ledger_meta_id CHECK (id > 0)")

    for table, name, kind, _ in constraints:
        if kind == "f":  # dropped first: they depend on the keys rebuilt below
            run(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for table in tables:
        # 1 for the rows already here (no rewrite: a constant default), then the setting.
        run(f"ALTER TABLE {table} ADD COLUMN ledger_id integer NOT NULL DEFAULT 1")
        run(f"ALTER TABLE {table} ALTER COLUMN ledger_id SET DEFAULT {CURRENT}")
    for table, name, kind, definition in constraints:
        if kind in ("p", "u"):
            run(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            keyed = re.sub(r"^(PRIMARY KEY|UNIQUE) \(", r"\1 (ledger_id, ", definition)
            run(f"ALTER TABLE {table} ADD CONSTRAINT {name} {keyed}")
    for table, name, kind, definition in constraints:
        if kind == "f":
            keyed = re.sub(r"^FOREIGN KEY \(", "FOREIGN KEY (ledger_id, ", definition)
            keyed = re.sub(r" REFERENCES (\w+)\(", r" REFERENCES \1(ledger_id, ", keyed)
            run(f"ALTER TABLE {table} ADD CONSTRAINT {name} {keyed}")
    for name, definition in indexes:
        if " USING btree (" in definition:  # a GIN index cannot lead with an integer column
            run(f"DROP INDEX {name}")
            run(definition.replace(" USING btree (", " USING btree (ledger_id, ", 1))

    for table in tables:
        if table in WITHOUT_POLICY:
            continue
        run(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        run(f"CREATE POLICY {table}_of_ledger ON {table} USING (ledger_id = {CURRENT})")
    run(
        f"""CREATE FUNCTION rural_ledger_history_of_ledger() RETURNS trigger LANGUAGE plpgsql AS $f$
        BEGIN
            IF EXISTS (SELECT 1 FROM added WHERE ledger_id IS DISTINCT FROM {CURRENT}) THEN
                RAISE EXCEPTION 'rural ledger: projection_history rows of another ledger are refused'
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN NULL;
        END $f$"""
    )
    run(
        "CREATE TRIGGER projection_history_of_ledger AFTER INSERT ON projection_history "
        "REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION rural_ledger_history_of_ledger()"
    )
    # Any ledger's service may read the table of ledgers (origins and operator keys are public,
    # on every checkpoint); only its own row may it lock, and none may it change.
    run("ALTER TABLE ledger_meta ENABLE ROW LEVEL SECURITY")
    run("CREATE POLICY ledger_meta_read ON ledger_meta FOR SELECT USING (true)")
    run(f"CREATE POLICY ledger_meta_lock ON ledger_meta FOR UPDATE USING (id = {CURRENT})")
    run("GRANT UPDATE (created_at) ON ledger_meta TO rural_ledger_service")
    # One round trip for all of them: a fresh database runs this for each of its tables.
    op.execute("DO $do$ BEGIN\n" + "".join(f"EXECUTE $s${q}$s$;\n" for q in statements) + "END $do$")
