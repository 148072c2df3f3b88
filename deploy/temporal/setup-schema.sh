#!/bin/sh
# One-shot job (temporalio/admin-tools): create Temporal's MySQL databases and bring their schemas
# up to the version this admin-tools image ships. Connection settings come from SQL_* env vars.
# Every step is idempotent, so it runs on each `docker compose up` and upgrades the schema after a
# Temporal image bump.
set -eu

schema_dir=/etc/temporal/schema/mysql/v8

setup() { # database, schema subdirectory
	temporal-sql-tool --db "$1" create
	temporal-sql-tool --db "$1" setup-schema -v 0.0
	temporal-sql-tool --db "$1" update-schema -d "$schema_dir/$2/versioned"
}

setup "${DBNAME:-temporal}" temporal
setup "${VISIBILITY_DBNAME:-temporal_visibility}" visibility
echo 'Temporal schema is up to date'
