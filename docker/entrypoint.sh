#!/bin/sh
# The service image's start: the secrets put where the service reads them, the migrations, then
# `rural-ledger serve` with several worker processes. Every setting is an environment variable
# (docs/operations.md); secrets are files, never variables:
#   $RURAL_LEDGER_SECRETS_DIR/operator_key     the operator's signer key  -> $RURAL_LEDGER_HOME/operator.key
#   $RURAL_LEDGER_SECRETS_DIR/blind_index_key  the blind-index secret     -> $RURAL_LEDGER_HOME/blind-index.key
#   $RURAL_LEDGER_SECRETS_DIR/kek              the console's key-encryption key (RURAL_LEDGER_KEK_FILE)
#   $RURAL_LEDGER_SECRETS_DIR/db_password      the database password, given to the driver in a
#                                              libpq password file (PGPASSFILE), not in DATABASE_URL
# Arguments starting with "-" are passed on to `serve`; any other arguments are a command run
# instead, with the same secrets and settings (`... tiles write /srv/www/tiles`, `... backup F`).
set -eu

home="${RURAL_LEDGER_HOME:-/data/rural-ledger-data}"
secrets="${RURAL_LEDGER_SECRETS_DIR:-/run/secrets}"
mkdir -p "$home"

# A secret is linked into the home unless the home already holds that file.
link_secret() {
    if [ -f "$secrets/$1" ] && [ ! -e "$home/$2" ]; then
        ln -s "$secrets/$1" "$home/$2"
    fi
}
link_secret operator_key operator.key
link_secret blind_index_key blind-index.key

if [ -z "${RURAL_LEDGER_KEK_FILE:-}" ] && [ -f "$secrets/kek" ]; then
    export RURAL_LEDGER_KEK_FILE="$secrets/kek"
fi

if [ -z "${PGPASSFILE:-}" ] && [ -f "$secrets/db_password" ]; then
    # One line host:port:database:user:password, ':' and '\' escaped as the format asks; one
    # file however often the entrypoint runs (the tiles writer runs it every few seconds).
    PGPASSFILE="${TMPDIR:-/tmp}/rural-ledger.pgpass"
    (
        umask 077
        printf '*:*:*:*:%s\n' "$(sed -e 's/\\/\\\\/g' -e 's/:/\\:/g' "$secrets/db_password" | head -n 1)" >"$PGPASSFILE.$$"
    )
    mv -f "$PGPASSFILE.$$" "$PGPASSFILE"
    export PGPASSFILE
fi

if [ "$#" -gt 0 ] && [ "${1#-}" = "$1" ]; then
    exec rural-ledger "$@"
fi

rural-ledger migrate
exec rural-ledger serve \
    --host "${RURAL_LEDGER_BIND:-0.0.0.0}" \
    --port "${RURAL_LEDGER_PORT:-8000}" \
    --workers "${RURAL_LEDGER_WORKERS:-2}" \
    "$@"
