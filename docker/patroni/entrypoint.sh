#!/bin/sh
# Patroni reads its passwords from PATRONI_* variables: set them from the secret files here,
# so that they are never in the compose file or the image.
set -eu
secrets="${PATRONI_SECRETS_DIR:-/run/secrets}"
PATRONI_SUPERUSER_PASSWORD="$(cat "$secrets/pg_superuser_password")"
PATRONI_REPLICATION_PASSWORD="$(cat "$secrets/pg_replication_password")"
PATRONI_REWIND_PASSWORD="$PATRONI_SUPERUSER_PASSWORD"
PATRONI_RESTAPI_PASSWORD="$(cat "$secrets/pg_restapi_password")"  # restapi.authentication
export PATRONI_SUPERUSER_PASSWORD PATRONI_REPLICATION_PASSWORD PATRONI_REWIND_PASSWORD PATRONI_RESTAPI_PASSWORD
exec patroni /etc/patroni/patroni.yml
