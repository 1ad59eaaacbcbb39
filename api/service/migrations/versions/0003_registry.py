"""The collective registry: policy, parties, households, membership, land, homesteads and
certificates; organisation codes; the projection history; the erasable personal-data table.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

PROJECTIONS = {
    "county_policies": """(
        county_id VARCHAR PRIMARY KEY,
        numbers JSONB NOT NULL,
        set_seq BIGINT NOT NULL)""",
    "parties": """(
        id VARCHAR PRIMARY KEY,
        commitment VARCHAR NOT NULL,
        registered_by VARCHAR NOT NULL,
        registered_seq BIGINT NOT NULL)""",
    "party_identities": """(
        blind_index VARCHAR PRIMARY KEY,
        party_id VARCHAR NOT NULL)""",
    "households": """(
        id VARCHAR PRIMARY KEY,
        collective_id VARCHAR NOT NULL,
        head_party VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        house_given_up BOOLEAN NOT NULL,
        registered_seq BIGINT NOT NULL)""",
    "household_members": """(
        party_id VARCHAR PRIMARY KEY,
        household_id VARCHAR NOT NULL,
        relation VARCHAR NOT NULL,
        joined_seq BIGINT NOT NULL)""",
    "memberships": """(
        party_id VARCHAR PRIMARY KEY,
        collective_id VARCHAR NOT NULL,
        household_id VARCHAR,
        status VARCHAR NOT NULL,
        basis VARCHAR NOT NULL,
        notice_end DATE NOT NULL,
        admitted_seq BIGINT NOT NULL,
        status_seq BIGINT NOT NULL,
        ended_reason VARCHAR,
        rights_retained_until DATE)""",
    "land_contracts": """(
        id VARCHAR PRIMARY KEY,
        collective_id VARCHAR NOT NULL,
        household_id VARCHAR NOT NULL,
        certificate_no VARCHAR NOT NULL,
        term_start DATE NOT NULL,
        term_end DATE NOT NULL,
        status VARCHAR NOT NULL,
        issued_seq BIGINT NOT NULL,
        returned_on DATE)""",
    "parcels": """(
        code VARCHAR PRIMARY KEY,
        contract_id VARCHAR NOT NULL,
        area_m2 INTEGER NOT NULL,
        land_class VARCHAR NOT NULL,
        boundaries JSONB NOT NULL)""",
    "management_transfers": """(
        id VARCHAR PRIMARY KEY,
        contract_id VARCHAR NOT NULL,
        mode VARCHAR NOT NULL,
        transferee VARCHAR NOT NULL,
        transferee_name VARCHAR,
        parcels JSONB NOT NULL,
        term_start DATE NOT NULL,
        term_end DATE NOT NULL,
        filed_seq BIGINT NOT NULL)""",
    "homesteads": """(
        id VARCHAR PRIMARY KEY,
        collective_id VARCHAR NOT NULL,
        household_id VARCHAR NOT NULL,
        plot_code VARCHAR NOT NULL,
        area_m2 INTEGER NOT NULL,
        zone VARCHAR NOT NULL,
        certificate_no VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        granted_seq BIGINT NOT NULL,
        withdrawn_seq BIGINT,
        compensation VARCHAR,
        compensation_fen BIGINT,
        for_reclamation BOOLEAN NOT NULL)""",
    "certificates": """(
        id VARCHAR PRIMARY KEY,
        kind VARCHAR NOT NULL,
        issuer_id VARCHAR NOT NULL,
        collective_id VARCHAR NOT NULL,
        household_id VARCHAR NOT NULL,
        scope VARCHAR NOT NULL,
        persons JSONB NOT NULL,
        rights JSONB NOT NULL,
        issued_seq BIGINT NOT NULL,
        valid_until DATE,
        membership_certificate VARCHAR)""",
}

INDEXES = [
    ("orgs", "area_code"),
    ("orgs", "credit_code"),
    ("parties", "registered_by"),
    ("households", "collective_id"),
    ("household_members", "household_id"),
    ("memberships", "collective_id"),
    ("memberships", "status"),
    ("memberships", "household_id"),
    ("land_contracts", "collective_id"),
    ("land_contracts", "household_id"),
    ("parcels", "contract_id"),
    ("management_transfers", "contract_id"),
    ("homesteads", "collective_id"),
    ("homesteads", "household_id"),
    ("homesteads", "plot_code"),
    ("certificates", "issuer_id"),
    ("certificates", "collective_id"),
    ("certificates", "household_id"),
]

STATEMENTS = [
    "ALTER TABLE orgs ADD COLUMN area_code VARCHAR",
    "ALTER TABLE orgs ADD COLUMN credit_code VARCHAR",
    # Every change a record made to a projection row: the row after it (or, for a delete, the
    # row before it). Rebuildable from the log; gives state as of any seq and entity histories.
    """CREATE TABLE projection_history (
        seq BIGINT NOT NULL,
        model VARCHAR NOT NULL,
        key JSONB NOT NULL,
        row JSONB NOT NULL,
        deleted BOOLEAN NOT NULL,
        PRIMARY KEY (model, key, seq))""",
    "CREATE INDEX projection_history_seq ON projection_history (seq)",
    """CREATE TRIGGER projection_history_append_only BEFORE UPDATE OR DELETE ON projection_history
        FOR EACH ROW EXECUTE FUNCTION rural_ledger_refuse_change()""",
    # Personal data: never in the ledger, erasable, checked against the party's commitment.
    """CREATE TABLE personal_data (
        party_id VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL,
        id_number VARCHAR NOT NULL,
        sex VARCHAR NOT NULL,
        birth_date DATE NOT NULL,
        phone VARCHAR NOT NULL,
        salt VARCHAR NOT NULL,
        registered_by VARCHAR NOT NULL,
        created_at TIMESTAMPTZ NOT NULL)""",
    "GRANT SELECT, INSERT ON projection_history TO rural_ledger_service",
    "GRANT SELECT, INSERT, DELETE ON personal_data TO rural_ledger_service",
]


def upgrade() -> None:
    for table, columns in PROJECTIONS.items():
        op.execute(f"CREATE TABLE {table} {columns}")
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO rural_ledger_service")
    for statement in STATEMENTS:
        op.execute(statement)
    for table, column in INDEXES:
        op.execute(f"CREATE INDEX {table}_{column} ON {table} ({column})")
    op.execute(
        "CREATE INDEX projection_history_household ON projection_history ((row->>'household_id'), seq)"
    )
