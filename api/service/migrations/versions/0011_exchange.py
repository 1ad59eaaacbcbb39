"""The working-day calendar and the exchange (rule version 3): listings, their bidders and
every step of each listing.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLES = {
    "working_calendars": """(
        county_id VARCHAR NOT NULL,
        year INTEGER NOT NULL,
        holidays JSONB NOT NULL,
        working_weekend_days JSONB NOT NULL,
        declared_seq BIGINT NOT NULL,
        PRIMARY KEY (county_id, year))""",
    "exchange_listings": """(
        id VARCHAR NOT NULL,
        exchange_id VARCHAR NOT NULL,
        county_id VARCHAR NOT NULL,
        township_id VARCHAR NOT NULL,
        collective_id VARCHAR NOT NULL,
        right_type VARCHAR NOT NULL,
        right_key VARCHAR NOT NULL,
        "right" JSONB NOT NULL,
        holder VARCHAR NOT NULL,
        consent VARCHAR NOT NULL,
        quantity BIGINT NOT NULL,
        term_start DATE,
        term_end DATE,
        reserve_fen BIGINT NOT NULL,
        price_unit VARCHAR NOT NULL,
        increment_fen BIGINT NOT NULL,
        deposit_fen BIGINT NOT NULL,
        method VARCHAR NOT NULL,
        priority_model VARCHAR NOT NULL,
        qualifications JSONB NOT NULL,
        priority_collective VARCHAR,
        priority_tenant VARCHAR,
        lottery_seed VARCHAR NOT NULL,
        listed_seq BIGINT NOT NULL,
        listed_on DATE NOT NULL,
        announce_ends DATE NOT NULL,
        opens_at VARCHAR NOT NULL,
        closes_at VARCHAR NOT NULL,
        extension_minutes INTEGER NOT NULL,
        extensions INTEGER NOT NULL,
        status VARCHAR NOT NULL,
        held_at VARCHAR,
        hold_document VARCHAR,
        round INTEGER NOT NULL,
        relisting_of VARCHAR,
        relisted_as VARCHAR,
        barred JSONB NOT NULL,
        bidders INTEGER NOT NULL,
        bids INTEGER NOT NULL,
        first_bid_seq BIGINT,
        high_bidder INTEGER,
        high_fen BIGINT,
        high_at VARCHAR,
        high_priority BOOLEAN NOT NULL,
        match_until VARCHAR,
        winner INTEGER,
        price_fen BIGINT,
        value_fen BIGINT,
        buyer_fee_fen BIGINT,
        seller_fee_fen BIGINT,
        awarded_on DATE,
        contract_due DATE,
        contract_document VARCHAR,
        payment_due DATE,
        refunds_due DATE,
        paid_seq BIGINT,
        certificate_no VARCHAR,
        certificate_seq BIGINT,
        ended_seq BIGINT,
        PRIMARY KEY (id))""",
    "exchange_bidders": """(
        listing_id VARCHAR NOT NULL,
        number INTEGER NOT NULL,
        bidder VARCHAR NOT NULL,
        bidder_kind VARCHAR NOT NULL,
        bidder_name VARCHAR,
        household_id VARCHAR,
        priority BOOLEAN NOT NULL,
        registered_seq BIGINT NOT NULL,
        deposit VARCHAR NOT NULL,
        deposit_fen BIGINT NOT NULL,
        deposit_ref VARCHAR,
        deposit_seq BIGINT,
        settled_seq BIGINT,
        forfeit_reason VARCHAR,
        best_fen BIGINT,
        best_seq BIGINT,
        sealed VARCHAR,
        sealed_seq BIGINT,
        matched BOOLEAN NOT NULL,
        PRIMARY KEY (listing_id, number))""",
    "exchange_steps": """(
        listing_id VARCHAR NOT NULL,
        seq BIGINT NOT NULL,
        kind VARCHAR NOT NULL,
        at VARCHAR NOT NULL,
        bidder INTEGER,
        amount_fen BIGINT,
        PRIMARY KEY (listing_id, seq))""",
}

INDEXES = [
    ("exchange_listings", "collective_id"),
    ("exchange_listings", "county_id"),
    ("exchange_listings", "exchange_id"),
    ("exchange_listings", "right_key"),
    ("exchange_listings", "right_type"),
    ("exchange_listings", "status"),
    ("exchange_listings", "township_id"),
    ("exchange_bidders", "bidder"),
]


def upgrade() -> None:
    for table, columns in TABLES.items():
        op.execute(f"CREATE TABLE {table} {columns}")
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO rural_ledger_service")
    for table, column in INDEXES:
        op.execute(f"CREATE INDEX {table}_{column} ON {table} ({column})")
