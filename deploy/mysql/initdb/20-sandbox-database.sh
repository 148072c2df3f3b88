#!/usr/bin/env bash
# mysql image init hook: runs once, when the data volume is empty. The sandbox payment provider keeps its
# charges in a database of its own; the app user may use it, and nothing else is granted.
# Sourced or run by the mysql entrypoint, like 10-temporal-user.sh.

# `\_`: in GRANT database names `_` is a wildcard; escape it so the grant covers exactly this name.
sandbox_sql="
	CREATE DATABASE IF NOT EXISTS \`durapay_sandbox\`;
	GRANT ALL PRIVILEGES ON \`durapay\\_sandbox\`.* TO '${MYSQL_USER}'@'%';
"

if declare -F docker_process_sql >/dev/null; then
	docker_process_sql --database=mysql <<<"$sandbox_sql"
else
	mysql --protocol=socket --user=root --password="${MYSQL_ROOT_PASSWORD}" --database=mysql <<<"$sandbox_sql"
fi
