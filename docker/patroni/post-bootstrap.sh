#!/bin/sh
# Run once by Patroni on the node that creates the cluster ($1: a connection string as the
# superuser): the ledger's login role and database. The role may create roles, since the
# migrations create the service role it then acts as (never able to change the log).
set -eu
password="$(cat "${PATRONI_SECRETS_DIR:-/run/secrets}/db_password")"
psql "$1" -v ON_ERROR_STOP=1 -v password="$password" <<'SQL'
CREATE ROLE ledger LOGIN CREATEROLE PASSWORD :'password';
CREATE DATABASE ledger OWNER ledger;
SQL
