#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine (PostgreSQL, Chromium, the Python
# packages, axe-core), starts PostgreSQL, and runs the whole suite on SQLite and PostgreSQL.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi

python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'
npm install --prefix tests/browser --no-audit --no-fund --no-package-lock --loglevel=error

# PostgreSQL: Debian's cluster (made if the package did not make one), started if it is not
# running, with a role for the tests.
if [ -z "$(pg_lsclusters -h)" ]; then
  as_root pg_createcluster "$(ls /usr/lib/postgresql | sort -V | tail -n 1)" main
fi
read -r pg_version pg_cluster pg_port pg_status < <(pg_lsclusters -h | head -n 1 | awk '{print $1, $2, $3, $4}')
if [ "$pg_status" != "online" ]; then as_root pg_ctlcluster "$pg_version" "$pg_cluster" start; fi
as_root runuser -u postgres -- psql -q -p "$pg_port" -c "DO \$\$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'eventsvc') THEN
    CREATE ROLE eventsvc LOGIN CREATEDB PASSWORD 'eventsvc';
  END IF; END\$\$;"
export EVENTSVC_TEST_POSTGRES_URL="postgresql://eventsvc:eventsvc@127.0.0.1:${pg_port}/postgres"

status=0
python3 -m pytest -n 2 "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
  exit 1
fi
exit "$status"
