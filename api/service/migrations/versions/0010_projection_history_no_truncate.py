"""The projection history refuses TRUNCATE too, like UPDATE and DELETE (0003 left it out).

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """CREATE TRIGGER projection_history_no_truncate BEFORE TRUNCATE ON projection_history
        FOR EACH STATEMENT EXECUTE FUNCTION rural_ledger_refuse_change()"""
    )
