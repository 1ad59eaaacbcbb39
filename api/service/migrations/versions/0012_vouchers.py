"""House vouchers (rule version 4): price schedules, the developer pool and its projects,
vouchers and their movements, redemptions, purchases and homestead compensations.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TABLES = {
    "voucher_price_schedules": """(
        id VARCHAR NOT NULL,
        county_id VARCHAR NOT NULL,
        effective_from DATE NOT NULL,
        prices JSONB NOT NULL,
        published_seq BIGINT NOT NULL,
        PRIMARY KEY (id))""",
    "voucher_pool_developers": """(
        developer_id VARCHAR NOT NULL,
        county_id VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        admitted_seq BIGINT NOT NULL,
        left_seq BIGINT,
        PRIMARY KEY (developer_id))""",
    "voucher_pool_projects": """(
        id VARCHAR NOT NULL,
        developer_id VARCHAR NOT NULL,
        county_id VARCHAR NOT NULL,
        presale_permit VARCHAR NOT NULL,
        area_code VARCHAR NOT NULL,
        registered_seq BIGINT NOT NULL,
        PRIMARY KEY (id))""",
    "vouchers": """(
        id VARCHAR NOT NULL,
        county_id VARCHAR NOT NULL,
        township_id VARCHAR NOT NULL,
        collective_id VARCHAR NOT NULL,
        household_id VARCHAR NOT NULL,
        homestead_id VARCHAR NOT NULL,
        holders JSONB NOT NULL,
        parent_id VARCHAR,
        generation INTEGER NOT NULL,
        schedule_id VARCHAR NOT NULL,
        zone VARCHAR NOT NULL,
        area_m2 INTEGER NOT NULL,
        price_fen_per_m2 BIGINT NOT NULL,
        appraisal VARCHAR NOT NULL,
        appraisal_fen BIGINT NOT NULL,
        face_fen BIGINT NOT NULL,
        used_fen BIGINT NOT NULL,
        bonus_fen BIGINT NOT NULL,
        transferred_fen BIGINT NOT NULL,
        balance_fen BIGINT NOT NULL,
        issued_seq BIGINT NOT NULL,
        issued_on DATE NOT NULL,
        valid_until DATE NOT NULL,
        bonus_tiers JSONB NOT NULL,
        transfers_allowed INTEGER NOT NULL,
        par_share_bp INTEGER NOT NULL,
        floor_m2_per_person INTEGER NOT NULL,
        stages JSONB NOT NULL,
        status VARCHAR NOT NULL,
        cash_due_fen BIGINT,
        ended_seq BIGINT,
        redemptions INTEGER NOT NULL,
        PRIMARY KEY (id))""",
    "voucher_movements": """(
        voucher_id VARCHAR NOT NULL,
        seq BIGINT NOT NULL,
        kind VARCHAR NOT NULL,
        amount_fen BIGINT NOT NULL,
        bonus_fen BIGINT NOT NULL,
        balance_fen BIGINT NOT NULL,
        ref VARCHAR,
        PRIMARY KEY (voucher_id, seq))""",
    "voucher_redemptions": """(
        id VARCHAR NOT NULL,
        voucher_id VARCHAR NOT NULL,
        developer_id VARCHAR NOT NULL,
        project_id VARCHAR NOT NULL,
        county_id VARCHAR NOT NULL,
        holder VARCHAR NOT NULL,
        purchase_contract VARCHAR NOT NULL,
        unit VARCHAR NOT NULL,
        price_fen BIGINT NOT NULL,
        amount_fen BIGINT NOT NULL,
        bonus_bp INTEGER NOT NULL,
        bonus_fen BIGINT NOT NULL,
        value_fen BIGINT NOT NULL,
        month_of_voucher INTEGER NOT NULL,
        redeemed_seq BIGINT NOT NULL,
        redeemed_on DATE NOT NULL,
        stages JSONB NOT NULL,
        settled_stages INTEGER NOT NULL,
        settled_fen BIGINT NOT NULL,
        PRIMARY KEY (id))""",
    "voucher_purchases": """(
        developer_id VARCHAR NOT NULL,
        purchase_contract VARCHAR NOT NULL,
        project_id VARCHAR NOT NULL,
        price_fen BIGINT NOT NULL,
        applied_fen BIGINT NOT NULL,
        PRIMARY KEY (developer_id, purchase_contract))""",
    "homestead_compensations": """(
        homestead_id VARCHAR NOT NULL,
        household_id VARCHAR NOT NULL,
        choice VARCHAR NOT NULL,
        amount_fen BIGINT NOT NULL,
        voucher_id VARCHAR,
        seq BIGINT NOT NULL,
        PRIMARY KEY (homestead_id, household_id))""",
}

INDEXES = [
    ("voucher_price_schedules", "county_id"),
    ("voucher_pool_developers", "county_id"),
    ("voucher_pool_projects", "county_id"),
    ("voucher_pool_projects", "developer_id"),
    ("voucher_pool_projects", "presale_permit"),
    ("vouchers", "collective_id"),
    ("vouchers", "county_id"),
    ("vouchers", "homestead_id"),
    ("vouchers", "household_id"),
    ("vouchers", "parent_id"),
    ("vouchers", "township_id"),
    ("voucher_redemptions", "county_id"),
    ("voucher_redemptions", "developer_id"),
    ("voucher_redemptions", "project_id"),
    ("voucher_redemptions", "voucher_id"),
]


def upgrade() -> None:
    for table, columns in TABLES.items():
        op.execute(f"CREATE TABLE {table} {columns}")
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO rural_ledger_service")
    for table, column in INDEXES:
        op.execute(f"CREATE INDEX {table}_{column} ON {table} ({column})")
