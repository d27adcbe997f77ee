#!/usr/bin/env bash
# The PostgreSQL test harness (tests/pg_server, fixture "pg"): psql
# reaches the server with the recorded URI, a wrong password is refused,
# it listens on 127.0.0.1 only, databases can be created and dropped, and
# after `crash` and `restart` it accepts connections with the same URI.
# fsync is off, so data written before the crash need not survive: only
# the restart is checked.
#
# usage: test_pg_server.sh (SLUICE_TEST_PGDIR and SLUICE_TEST_PGSERVER
# set for tests registered with sluice_add_test(... PG) in
# tests/CMakeLists.txt)
set -u
. "$(cd "$(dirname "$0")" && pwd)/tap.sh"
: "${SLUICE_TEST_PGDIR:?not set: run through ctest (tests/CMakeLists.txt)}"
: "${SLUICE_TEST_PGSERVER:?not set: run through ctest (tests/CMakeLists.txt)}"
# No ~/.pgpass, service file or PG* defaults of the caller.
unset PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGSERVICE PGSSLMODE
export PGPASSFILE=/dev/null PGCONNECT_TIMEOUT=10
T=$(mktemp -d /tmp/sluice-pgtest-XXXXXX)
trap 'rm -rf "$T"' EXIT

uri=$("$SLUICE_TEST_PGSERVER" uri "$SLUICE_TEST_PGDIR")
ok $? "pg_server uri prints the URI"
port=$(cat "$SLUICE_TEST_PGDIR/port")
password=$(cat "$SLUICE_TEST_PGDIR/password")
is "$uri" "postgresql://postgres:$password@127.0.0.1:$port" \
  "the URI names user, password, 127.0.0.1 and the port"
is "$(cat "$SLUICE_TEST_PGDIR/uri")" "$uri" "DIR/uri holds the same URI"

# q SQL: run SQL in the postgres database; the output in $T/out.
q() {
  psql -X -w "$uri/postgres" -v ON_ERROR_STOP=1 -Atc "$1" >"$T/out" 2>&1
}

q 'select version()'
ok $? "psql connects with the URI"
has "$T/out" "PostgreSQL 15" "the server is PostgreSQL 15"

psql -X -w "postgresql://postgres:wrong${password}@127.0.0.1:$port/postgres" \
  -Atc 'select 1' >"$T/bad" 2>&1
[ $? -ne 0 ]
ok $? "a wrong password is refused"
has "$T/bad" "password authentication failed" "the error says why"

q 'show listen_addresses'
is "$(cat "$T/out")" "127.0.0.1" "listen_addresses is 127.0.0.1"
listening=$(ss -Hltn "sport = :$port" 2>/dev/null | awk '{print $4}' | sort -u)
is "$listening" "127.0.0.1:$port" "the only TCP socket on the port is 127.0.0.1"
q 'show fsync'
is "$(cat "$T/out")" "off" "fsync is off (not a --bench server)"
q 'show max_connections'
is "$(cat "$T/out")" "200" "max_connections is 200"

q 'create database sluice_pgtest_db'
ok $? "CREATE DATABASE"
psql -X -w "$uri/sluice_pgtest_db" -Atc 'select current_database()' >"$T/out" 2>&1
is "$(cat "$T/out")" "sluice_pgtest_db" "the URI with /NAME reaches the new database"
q 'drop database sluice_pgtest_db'
ok $? "DROP DATABASE"
q "select count(*) from pg_database where datname = 'sluice_pgtest_db'"
is "$(cat "$T/out")" "0" "the database is gone"

q 'create table if not exists pg_harness_crash(x int); insert into pg_harness_crash values (1)'
ok $? "a table is written before the crash"
"$SLUICE_TEST_PGSERVER" crash "$SLUICE_TEST_PGDIR" >"$T/crash" 2>&1
ok $? "pg_server crash"
q 'select 1'
[ $? -ne 0 ]
ok $? "the crashed server refuses connections"
"$SLUICE_TEST_PGSERVER" restart "$SLUICE_TEST_PGDIR" >"$T/restart" 2>&1
ok $? "pg_server restart"
is "$("$SLUICE_TEST_PGSERVER" uri "$SLUICE_TEST_PGDIR")" "$uri" "the URI is unchanged"
q 'select 1'
is "$(cat "$T/out")" "1" "the restarted server accepts connections with the same URI"
q 'drop table if exists pg_harness_crash'
ok $? "and takes writes"

done_testing
