#!/usr/bin/env bash
# Idempotent PostgreSQL set-up for the durable session store's tests (and for trying `serve` on PostgreSQL):
# installs Debian's `postgresql` package when missing, makes sure a cluster exists and runs, and creates the role
# and database the tests use. Runs as root or as a user with sudo. Called by scripts/setup.sh.
#
#   STREAMING_PG_USER (default streaming), STREAMING_PG_PASSWORD (default streaming),
#   STREAMING_PG_DATABASE (default streaming_test), RNN_PG_PORT (default 5432)
#
# The tests connect with RNN_TEST_POSTGRES, which defaults to
#   Host=127.0.0.1;Port=5432;Username=streaming;Password=streaming;Database=streaming_test
set -euo pipefail

user="${STREAMING_PG_USER:-streaming}"
password="${STREAMING_PG_PASSWORD:-streaming}"
database="${STREAMING_PG_DATABASE:-streaming_test}"
port="${RNN_PG_PORT:-5432}"

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

if ! command -v pg_lsclusters >/dev/null || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    echo "postgres: installing postgresql with apt-get"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
fi

# The newest installed major version; its cluster "main" is the one we use (Debian 12 ships 15).
version=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main"' | grep -q .; then
    echo "postgres: creating cluster $version/main on port $port"
    $sudo pg_createcluster "$version" main --port "$port" >/dev/null
fi

cluster_port=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" { print $3 }')
if [ "$cluster_port" != "$port" ]; then
    echo "postgres: cluster $version/main listens on port $cluster_port, not $port; set RNN_PG_PORT=$cluster_port and RNN_TEST_POSTGRES accordingly" >&2
    port="$cluster_port"
fi

status=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" { print $4 }')
if [ "$status" != "online" ]; then
    echo "postgres: starting cluster $version/main"
    # pg_ctlcluster works without systemd (containers, CI) as well as with it.
    $sudo pg_ctlcluster "$version" main start
fi

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        sudo -u postgres "$@"
    fi
}

# Wait until the server accepts connections (a fresh start may take a moment).
for _ in $(seq 1 60); do
    if as_postgres pg_isready -q -p "$port"; then
        break
    fi
    sleep 0.5
done
as_postgres pg_isready -q -p "$port" || { echo "postgres: the server on port $port does not accept connections; see /var/log/postgresql/postgresql-$version-main.log" >&2; exit 1; }

psql_postgres() { as_postgres psql -p "$port" -X -q -v ON_ERROR_STOP=1 "$@"; }

if [ "$(psql_postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$user'")" != "1" ]; then
    echo "postgres: creating role $user"
    psql_postgres -c "CREATE ROLE \"$user\" LOGIN PASSWORD '$password'"
else
    psql_postgres -c "ALTER ROLE \"$user\" LOGIN PASSWORD '$password'"
fi

if [ "$(psql_postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$database'")" != "1" ]; then
    echo "postgres: creating database $database"
    psql_postgres -c "CREATE DATABASE \"$database\" OWNER \"$user\""
fi

echo "postgres: ready ($version/main on port $port; database $database, role $user)"
