"""Shareholding: asset verifications, share schemes, holdings, pledges, buy-backs, dividends.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = {
    "asset_verifications": """(
        id VARCHAR PRIMARY KEY,
        collective_id VARCHAR NOT NULL,
        as_of DATE NOT NULL,
        operating_fen BIGINT NOT NULL,
        liabilities_fen BIGINT NOT NULL,
        net_operating_fen BIGINT NOT NULL,
        details JSONB NOT NULL,
        audit_statement VARCHAR NOT NULL,
        verified_seq BIGINT NOT NULL,
        superseded_by VARCHAR)""",
    "share_schemes": """(
        collective_id VARCHAR PRIMARY KEY,
        id VARCHAR NOT NULL,
        verification_id VARCHAR NOT NULL,
        scheme_date DATE NOT NULL,
        management VARCHAR NOT NULL,
        issued_units BIGINT NOT NULL,
        total_units BIGINT NOT NULL,
        collective_units BIGINT NOT NULL,
        basic_units_per_member BIGINT NOT NULL,
        labour_units_per_year BIGINT NOT NULL,
        quantified_seq BIGINT NOT NULL)""",
    "share_holdings": """(
        collective_id VARCHAR NOT NULL,
        holder VARCHAR NOT NULL,
        household_id VARCHAR,
        units BIGINT NOT NULL CHECK (units >= 0),
        pledged_units BIGINT NOT NULL CHECK (pledged_units >= 0 AND pledged_units <= units),
        income_only BOOLEAN NOT NULL,
        PRIMARY KEY (collective_id, holder))""",
    "share_pledges": """(
        id VARCHAR PRIMARY KEY,
        collective_id VARCHAR NOT NULL,
        holder VARCHAR NOT NULL,
        units BIGINT NOT NULL,
        pledgee VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        pledged_seq BIGINT NOT NULL)""",
    "share_buybacks": """(
        collective_id VARCHAR NOT NULL,
        year INTEGER NOT NULL,
        units BIGINT NOT NULL,
        PRIMARY KEY (collective_id, year))""",
    "dividends": """(
        id VARCHAR PRIMARY KEY,
        collective_id VARCHAR NOT NULL,
        distributable_fen BIGINT NOT NULL,
        amount_fen BIGINT NOT NULL,
        units BIGINT NOT NULL,
        declared_seq BIGINT NOT NULL)""",
    "dividend_payouts": """(
        dividend_id VARCHAR NOT NULL,
        holder VARCHAR NOT NULL,
        units BIGINT NOT NULL,
        amount_fen BIGINT NOT NULL,
        PRIMARY KEY (dividend_id, holder))""",
}

INDEXES = [
    ("asset_verifications", "collective_id"),
    ("share_holdings", "household_id"),
    ("share_holdings", "holder"),
    ("share_pledges", "collective_id"),
    ("dividends", "collective_id"),
]


def upgrade() -> None:
    for table, columns in TABLES.items():
        op.execute(f"CREATE TABLE {table} {columns}")
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO rural_ledger_service")
    for table, column in INDEXES:
        op.execute(f"CREATE INDEX {table}_{column} ON {table} ({column})")
