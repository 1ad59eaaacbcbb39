"""Land quotas (rule version 4): one row per quota, from the application to its use.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TABLES = {
    "land_quotas": """(
        id VARCHAR NOT NULL,
        county_id VARCHAR NOT NULL,
        township_id VARCHAR NOT NULL,
        collective_id VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        site VARCHAR NOT NULL,
        household_id VARCHAR,
        site_area_m2 INTEGER NOT NULL,
        holder VARCHAR NOT NULL,
        holder_kind VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        applied_seq BIGINT NOT NULL,
        holder_consent VARCHAR NOT NULL,
        collective_consent VARCHAR NOT NULL,
        project_document VARCHAR,
        approved_seq BIGINT,
        measured_m2 INTEGER,
        acceptance_document VARCHAR,
        accepted_seq BIGINT,
        quota_m2 INTEGER,
        confirmed_seq BIGINT,
        listing_id VARCHAR,
        value_fen BIGINT,
        traded_seq BIGINT,
        household_fen BIGINT,
        collective_fen BIGINT,
        split_seq BIGINT,
        used_zone VARCHAR,
        used_seq BIGINT,
        PRIMARY KEY (id))""",
}

INDEXES = [
    ("land_quotas", "collective_id"),
    ("land_quotas", "county_id"),
    ("land_quotas", "site"),
    ("land_quotas", "township_id"),
]


def upgrade() -> None:
    for table, columns in TABLES.items():
        op.execute(f"CREATE TABLE {table} {columns}")
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO rural_ledger_service")
    for table, column in INDEXES:
        op.execute(f"CREATE INDEX {table}_{column} ON {table} ({column})")
