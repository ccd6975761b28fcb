#!/usr/bin/env bash
# Sets up a local PostgreSQL for tune/sqlstore's tests on a Debian machine,
# as root (CI), and prints the URL to export as KILN_TEST_POSTGRES:
#
#   export KILN_TEST_POSTGRES="$(tune/testdata/ci-postgres.sh)"
#
# Idempotent: it installs Debian's postgresql only when missing, creates a
# cluster only when there is none (package installs in containers often
# skip that), starts it only when stopped, and creates the role and the
# database only when absent. Progress goes to stderr; stdout is the URL.
set -euo pipefail

user=kiln password=kiln db=kiln_test

if [ "$(id -u)" != 0 ]; then
  echo "ci-postgres.sh: run as root (it installs and starts PostgreSQL)" >&2
  exit 1
fi

if ! command -v pg_lsclusters >/dev/null || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
  echo "ci-postgres.sh: installing postgresql" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
fi

version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk '{print $1, $2}' | grep -qx "$version main"; then
  echo "ci-postgres.sh: creating cluster $version/main" >&2
  pg_createcluster "$version" main >&2
fi
# Columns: version cluster port status owner datadir logfile.
read -r _ _ port status _ < <(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main"')
if [ "$status" != online ]; then
  echo "ci-postgres.sh: starting cluster $version/main on port $port" >&2
  pg_ctlcluster "$version" main start >&2
fi
for _ in $(seq 1 60); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 0.5
done
pg_isready -h 127.0.0.1 -p "$port" >&2

psql() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$port" "$@"; }
psql -c "DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$user') THEN
    CREATE ROLE $user LOGIN PASSWORD '$password';
  END IF;
END \$\$;" >&2
if [ "$(psql -tA -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
  psql -c "CREATE DATABASE $db OWNER $user" >&2
fi

echo "postgres://$user:$password@127.0.0.1:$port/$db?sslmode=disable"
