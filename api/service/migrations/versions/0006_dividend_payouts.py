"""A dividend's payout list is one value of its row, not a row per holder.

The payouts are fixed when the dividend is declared and always read whole; at a county's
scale a row per holder made every yearly dividend round write hundreds of thousands of
projection and history rows. Existing payout rows are folded into their dividend.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

STATEMENTS = [
    "ALTER TABLE dividends ADD COLUMN payouts JSONB",
    """UPDATE dividends d SET payouts = COALESCE(
        (SELECT jsonb_object_agg(p.holder, jsonb_build_array(p.units, p.amount_fen))
         FROM dividend_payouts p WHERE p.dividend_id = d.id), '{}'::jsonb)""",
    "ALTER TABLE dividends ALTER COLUMN payouts SET NOT NULL",
    "DROP TABLE dividend_payouts",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)
