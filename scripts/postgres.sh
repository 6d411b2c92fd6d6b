#!/usr/bin/env bash
# A real PostgreSQL on loopback for the store's tests: installs the Debian package where
# pg_ctlcluster is missing, starts the cluster, creates the test role and database (again
# and again without harm) and exports AMANAH_TEST_POSTGRES_URL and AMANAH_REQUIRE_POSTGRES=1.
#   sourced (scripts/test.sh):  . scripts/postgres.sh   -> the variables are exported
#   run:                        eval "$(bash scripts/postgres.sh)"   -> prints the exports
# The role's password is a test fixture for a loopback-only server, not a secret. The work
# runs in a subshell with errexit, so sourcing changes no option of the caller's shell.

_amanah_pg_role=amanah_test
_amanah_pg_database=amanah_test

_amanah_as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

_amanah_as_postgres() {
    # from / : the postgres user may not enter the caller's folder
    if [ "$(id -u)" -eq 0 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && sudo -n -u postgres "$@")
    fi
}

_amanah_psql() {
    _amanah_as_postgres psql --quiet --no-psqlrc -v ON_ERROR_STOP=1 -tAc "$1"
}

_amanah_postgres_start() {
    # prints the URL on stdout; everything else goes to stderr or nowhere
    if ! command -v pg_ctlcluster >/dev/null 2>&1; then
        echo "postgres.sh: installing PostgreSQL (apt-get)" >&2
        _amanah_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        _amanah_as_root env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq postgresql >/dev/null
    fi
    local version port status
    version=$(pg_lsclusters --no-header | awk '$2 == "main" { print $1; exit }')
    if [ -z "$version" ]; then
        version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
        _amanah_as_root pg_createcluster "$version" main >&2
    fi
    port=$(pg_lsclusters --no-header | awk -v v="$version" '$1 == v && $2 == "main" { print $3 }')
    status=$(pg_lsclusters --no-header | awk -v v="$version" '$1 == v && $2 == "main" { print $4 }')
    if [ "$status" != "online" ]; then
        # the cluster tools start the server as the postgres user (it refuses to run as root)
        _amanah_as_root pg_ctlcluster "$version" main start >&2
    fi
    local tries=0
    until pg_isready --quiet -h 127.0.0.1 -p "$port"; do
        tries=$((tries + 1))
        if [ "$tries" -ge 30 ]; then
            echo "postgres.sh: PostgreSQL $version did not accept connections on 127.0.0.1:$port" >&2
            return 1
        fi
        sleep 1
    done
    # CREATEDB: each test module works in a database of its own, dropped after
    if [ "$(_amanah_psql "SELECT 1 FROM pg_roles WHERE rolname = '$_amanah_pg_role'")" != 1 ]; then
        _amanah_psql "CREATE ROLE $_amanah_pg_role LOGIN CREATEDB PASSWORD '$_amanah_pg_role'" >&2
    fi
    if [ "$(_amanah_psql "SELECT 1 FROM pg_database WHERE datname = '$_amanah_pg_database'")" != 1 ]; then
        _amanah_psql "CREATE DATABASE $_amanah_pg_database OWNER $_amanah_pg_role" >&2
    fi
    echo "postgresql+psycopg://$_amanah_pg_role:$_amanah_pg_role@127.0.0.1:$port/$_amanah_pg_database"
}

if ! AMANAH_TEST_POSTGRES_URL=$(set -euo pipefail && _amanah_postgres_start); then
    echo "postgres.sh: no PostgreSQL for the tests (see the lines above)" >&2
    return 1 2>/dev/null || exit 1
fi
AMANAH_REQUIRE_POSTGRES=1
export AMANAH_TEST_POSTGRES_URL AMANAH_REQUIRE_POSTGRES
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    echo "export AMANAH_TEST_POSTGRES_URL='$AMANAH_TEST_POSTGRES_URL'"
    echo "export AMANAH_REQUIRE_POSTGRES=1"
fi
