#!/usr/bin/env bash
# mysql image init hook: runs once, when the data volume is empty (after `docker compose down -v` too).
# Temporal gets its own account, limited to the two databases its schema job creates, so neither the
# app user nor root credentials are shared with it.
# The mysql entrypoint sources this file (no `set -u`/`exit` side effects wanted there) or, if the
# checkout made it executable, runs it; both paths must work.

if [ -z "${TEMPORAL_DB_PASSWORD:-}" ]; then
	echo >&2 'TEMPORAL_DB_PASSWORD is not set; cannot create the temporal MySQL user'
	exit 1
fi

# `\_`: in GRANT database names `_` is a wildcard; escape it so the grant covers exactly this name.
temporal_user_sql="
	CREATE USER IF NOT EXISTS 'temporal'@'%' IDENTIFIED BY '${TEMPORAL_DB_PASSWORD}';
	GRANT ALL PRIVILEGES ON \`temporal\`.* TO 'temporal'@'%';
	GRANT ALL PRIVILEGES ON \`temporal\\_visibility\`.* TO 'temporal'@'%';
"

if declare -F docker_process_sql >/dev/null; then
	docker_process_sql --database=mysql <<<"$temporal_user_sql"
else
	mysql --protocol=socket --user=root --password="${MYSQL_ROOT_PASSWORD}" --database=mysql <<<"$temporal_user_sql"
fi
