"""The console's service tables (not projections, not on the log): its users, their sessions,
and the organisations' private keys held for them, encrypted at rest.

- ``console_users``: ``id`` is the pseudonymous user id an entry names; ``username`` a login
  name, never a person's name. ``password_hash`` is an Argon2id PHC string.
- ``console_sessions``: the cookie's token is never stored, only its SHA-256 (hex): a copy of
  the table opens no session.
- ``console_org_keys``: AES-GCM of an organisation's 32-byte Ed25519 seed, associated data
  ``org_id|key_id``; ``kek_id`` names which key-encryption key (never stored here) sealed it.

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

STATEMENTS = [
    """CREATE TABLE console_users (
        id text PRIMARY KEY,
        org_id text NOT NULL,
        role text NOT NULL,
        username text NOT NULL UNIQUE,
        password_hash text NOT NULL,
        failed_attempts integer NOT NULL DEFAULT 0,
        locked_until timestamptz NULL,
        disabled boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL)""",
    "CREATE INDEX console_users_org_id ON console_users (org_id)",
    """CREATE TABLE console_sessions (
        token_hash text PRIMARY KEY,
        user_id text NOT NULL REFERENCES console_users (id),
        csrf_token text NOT NULL,
        created_at timestamptz NOT NULL,
        last_seen timestamptz NOT NULL,
        expires_at timestamptz NOT NULL)""",
    "CREATE INDEX console_sessions_user_id ON console_sessions (user_id)",
    "CREATE INDEX console_sessions_expires_at ON console_sessions (expires_at)",
    """CREATE TABLE console_org_keys (
        key_id text PRIMARY KEY,
        org_id text NOT NULL,
        nonce bytea NOT NULL,
        ciphertext bytea NOT NULL,
        kek_id text NOT NULL,
        added_at timestamptz NOT NULL)""",
    "CREATE INDEX console_org_keys_org_id ON console_org_keys (org_id)",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON console_users TO rural_ledger_service",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON console_sessions TO rural_ledger_service",
    "GRANT SELECT, INSERT, DELETE ON console_org_keys TO rural_ledger_service",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)
