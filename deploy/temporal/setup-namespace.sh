#!/bin/sh
# One-shot job (temporalio/admin-tools): make sure the namespace exists and carries the custom
# search attributes durapay's workflows set. Safe to re-run: existing ones are left as they are.
# SEARCH_ATTRIBUTES: comma-separated Name=Type pairs, e.g. OrderStatus=Keyword,CustomerId=Keyword.
set -eu

: "${TEMPORAL_ADDRESS:?}" "${TEMPORAL_NAMESPACE:?}" "${SEARCH_ATTRIBUTES:?}"
ns=$TEMPORAL_NAMESPACE

# The CLI can time out dialing a compose service name (temporalio/samples-server#136), so dial the
# service's IPv4 address, as the official compose setup does.
host=${TEMPORAL_ADDRESS%:*}
port=${TEMPORAL_ADDRESS##*:}
ip=$(getent ahosts "$host" | awk '$2 == "STREAM" && $1 !~ /:/ { print $1; exit }')
addr="${ip:-$host}:$port"

retry() { # command...: the server may still be starting, or caching a just-created namespace
	attempt=1
	until "$@"; do
		if [ "$attempt" -ge 30 ]; then
			echo "Giving up after $attempt attempts: $*" >&2
			return 1
		fi
		attempt=$((attempt + 1))
		sleep 2
	done
}

ensure_namespace() {
	temporal operator namespace describe --address "$addr" -n "$ns" >/dev/null 2>&1 ||
		temporal operator namespace create --address "$addr" -n "$ns"
}

has_attribute() { # name
	temporal operator search-attribute list --address "$addr" -n "$ns" | grep -qw "$1"
}

# Re-check after a failed create: an older server answers "already exists" instead of succeeding.
ensure_attribute() { # name type
	has_attribute "$1" ||
		temporal operator search-attribute create --address "$addr" -n "$ns" --name "$1" --type "$2" ||
		has_attribute "$1"
}

echo "Waiting for Temporal at $addr"
retry temporal operator cluster health --address "$addr"
retry ensure_namespace

for spec in $(echo "$SEARCH_ATTRIBUTES" | tr ',' ' '); do
	name=${spec%%=*}
	type=${spec#*=}
	retry ensure_attribute "$name" "$type"
	echo "Search attribute $name ($type) is registered in namespace $ns"
done
