#!/usr/bin/env bash
# The PostgreSQL graph target end to end, against the private server the
# harness started: the same graph as SQLite, re-run idempotence, MATCH_ONLY
# and skipped relationships, TTL, two targets, clear errors without the
# password, and (with --fault) a server crash in the middle of a load.
#
# usage: test_graph_pg.sh path/to/sluice [--fault]
set -u
. "$(cd "$(dirname "$0")" && pwd)/tap.sh"
SLUICE=$(realpath "$1")
FAULT=${2:-}
URI=$(cat "$SLUICE_TEST_PGDIR/uri")
PW=$(cat "$SLUICE_TEST_PGDIR/password")
T=$(mktemp -d /tmp/sluice-graphpg-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

# fresh NAME: an empty database NAME; prints its URI
fresh() {
  PGOPTIONS="-c client_min_messages=warning" psql -q "$URI/postgres" \
    -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
  echo "$URI/$1"
}
# strip FILE: the export without the timestamps, sorted
strip() {
  sed -E 's/"last_ingested(_by_[a-z_]+)?_at":"[^"]*",?//g; s/,}/}/g' "$1" | sort
}

cat >range.yaml <<'EOF'
- implementation: range
  factory: range
  arguments: {stop: 3000}
- implementation: interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: N
        key: {i: !jmespath index}
        properties: {sq: !jmespath 'index', name: !format {fmt: 'n{v}', v: !jmespath index}}
        additional_types: [Num]
      - type: relationship
        node_type: M
        relationship_type: R
        node_key: {m: !jmespath 'index'}
      - type: relationship
        node_type: Team
        relationship_type: IN
        node_key: {t: !jmespath 'index'}
        node_creation_rule: MATCH_ONLY
EOF

if [ "$FAULT" != "--fault" ]; then
  DB=$(fresh sluice_gpg1)
  "$SLUICE" run range.yaml --target "$DB" --no-progress >out.txt 2>err.txt
  is $? 0 "run into PostgreSQL"
  grep -E '2:GraphDatabaseWriter +3000 +3000 +0 +3000' err.txt >/dev/null
  ok $? "the writer counts the 3000 relationships to missing Team nodes as skipped"
  "$SLUICE" run range.yaml --target sqlite:g.db --no-progress >out.txt 2>err.txt
  "$SLUICE" export "$DB" >pg.jsonl 2>err.txt
  is $? 0 "export from PostgreSQL"
  is "$(wc -l <pg.jsonl)" 9000 "3000 N, 3000 M, 3000 R"
  has pg.jsonl '{"key":{"i":7},"labels":["Num"],"node":"N","props":{' "a node line with its label"
  "$SLUICE" export sqlite:g.db | strip /dev/stdin >sqlite.txt
  strip pg.jsonl >pg.txt
  cmp -s sqlite.txt pg.txt
  ok $? "the same graph as the SQLite target"
  "$SLUICE" run range.yaml --target "$DB" --batch-size 128 --no-progress >out.txt 2>err.txt
  is $? 0 "a second run, in small batches"
  "$SLUICE" export "$DB" | strip /dev/stdin >pg2.txt
  cmp -s pg.txt pg2.txt
  ok $? "re-running gives the same graph"
  cnt=$(psql -Atq "$DB" -c "SELECT count(*) FROM node WHERE type = 'N' AND props ? 'last_ingested_at'")
  is "$cnt" 3000 "the documented tables hold the nodes with their properties"
  cnt=$(psql -Atq "$DB" -c "SELECT count(*) FROM rel r JOIN node f ON f.id = r.from_id WHERE r.type = 'R' AND f.type = 'N'")
  is "$cnt" 3000 "and the relationships between them"

  # Two targets, PostgreSQL and SQLite, in one run.
  DB2=$(fresh sluice_gpg2)
  "$SLUICE" run range.yaml -t "$DB2" -t sqlite:two.db --no-progress >out.txt 2>err.txt
  is $? 0 "PostgreSQL and SQLite targets in one run"
  "$SLUICE" export "$DB2" | strip /dev/stdin >a.txt
  "$SLUICE" export sqlite:two.db | strip /dev/stdin >b.txt
  cmp -s a.txt b.txt
  ok $? "hold the same graph"

  # Both write paths of a lane against SQLite: merges across batches
  # (keys repeat every 500 records, properties and labels change), CREATE
  # and MATCH_ONLY relationships, then the same with null properties (a
  # lane with a null takes the statement-per-step path).
  for i in $(seq 0 1999); do
    echo "{\"k\":\"p$((i % 500))\",\"i\":$i}"
  done >mix.jsonl
  for variant in plain nulls; do
    extra=""
    [ "$variant" = nulls ] && extra="gone: !jmespath no_such_field,"
    cat >mix.yaml <<EOF
- implementation: nodestream.pipeline.extractors:FileExtractor
  factory: local
  arguments: {globs: [$T/mix.jsonl]}
- implementation: interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: P
        key: {k: !jmespath k}
        properties: {$extra last: !jmespath i}
        additional_types: [Extra]
      - type: relationship
        node_type: Q
        relationship_type: TO
        node_key: {q: !jmespath k}
        relationship_properties: {n: !jmespath i}
      - type: relationship
        node_type: Q
        relationship_type: EVENT
        node_key: {q: !jmespath k}
        relationship_creation_rule: CREATE
      - type: relationship
        node_type: P
        relationship_type: SEEN
        node_key: {k: p7}
        node_creation_rule: MATCH_ONLY
EOF
    DBM=$(fresh sluice_gpg_mix)
    rm -f mix.db
    SLUICE_LOG_LEVEL=info "$SLUICE" run mix.yaml --target "$DBM" --batch-size 300 --no-progress >out.txt 2>pgerr.txt
    is $? 0 "$variant: merges across batches into PostgreSQL"
    SLUICE_LOG_LEVEL=info "$SLUICE" run mix.yaml --target sqlite:mix.db --batch-size 300 --no-progress >out.txt 2>err.txt
    "$SLUICE" export "$DBM" | strip /dev/stdin >a.txt
    "$SLUICE" export sqlite:mix.db | strip /dev/stdin >b.txt
    cmp -s a.txt b.txt
    ok $? "$variant: the same graph as SQLite"
    is "$(grep -c '"rel":"EVENT"' a.txt)" 2000 "$variant: every CREATE relationship is kept"
    is "$(grep -c '"rel":"SEEN"' a.txt)" 500 "$variant: MATCH_ONLY finds the node p7"
    has a.txt '"node":"P","props":{"last":1999,' "$variant: a node's last write wins"
    is "$(grep -o 'nodes: .* skipped' pgerr.txt)" \
      "$(grep -o 'nodes: .* skipped' err.txt)" \
      "$variant: writes counted as SQLite counts them (created, updated, not matched, skipped)"
  done

  # A PostgreSQL target writes 10,000 ingestions per batch by default,
  # SQLite 1,000; --batch-size sets both.
  SLUICE_LOG_LEVEL=info "$SLUICE" run range.yaml --target "$DB" --no-progress >out.txt 2>err.txt
  has err.txt " 1 batches" "PostgreSQL: 3000 records in one batch"
  SLUICE_LOG_LEVEL=info "$SLUICE" run range.yaml --target sqlite:g.db --no-progress >out.txt 2>err.txt
  has err.txt " 3 batches" "SQLite: in three"

  # TTL deletes expired nodes with their relationships.
  cat >ttl.yaml <<'EOF'
- implementation: ttl
  arguments:
    graph_object_type: NODE
    configurations:
      - {object_type: M, expiry_in_hours: 0}
EOF
  sleep 1
  "$SLUICE" run ttl.yaml --target "$DB" --no-progress >out.txt 2>err.txt
  is $? 0 "a TTL pipeline on PostgreSQL"
  "$SLUICE" export "$DB" >ttl.jsonl
  is "$(grep -c '"node":"M"' ttl.jsonl)" 0 "the expired nodes are gone"
  is "$(grep -c '"rel":"R"' ttl.jsonl)" 0 "with their relationships"
  is "$(grep -c '"node":"N"' ttl.jsonl)" 3000 "the others stay"

  # Errors: the URI without the password.
  BAD=$(echo "$URI" | sed -E "s#://postgres:[^@]*@#://postgres:not-the-password@#")
  "$SLUICE" run range.yaml --target "$BAD/sluice_gpg1" --no-progress >out.txt 2>err.txt
  is $? 1 "a wrong password fails"
  has err.txt "password authentication failed" "saying why"
  has err.txt "postgresql://postgres@127.0.0.1" "showing the URI"
  ! grep -q "not-the-password" err.txt out.txt
  ok $? "never the password given"
  "$SLUICE" export "$URI/no_such_db" >out.txt 2>err.txt
  is $? 1 "an unknown database fails"
  has err.txt 'database "no_such_db" does not exist' "naming it"
  ! grep -qF "$PW" err.txt out.txt
  ok $? "without the password"
  psql -q "$(fresh sluice_gpg3)" -c "CREATE TABLE node (x int)" >/dev/null
  "$SLUICE" run range.yaml --target "$URI/sluice_gpg3" --no-progress >out.txt 2>err.txt
  is $? 1 "a database with a foreign node table is refused"
  has err.txt 'holds a table "node" that sluice did not make' "with a reason"
else
  # A server crash in the middle of a load: sluice reconnects, writes the
  # lost batches again, and ends with the clean run's graph.
  sed 's/stop: 3000/stop: 60000/' range.yaml >big.yaml
  CLEAN=$(fresh sluice_gpg_clean)
  "$SLUICE" run big.yaml --target "$CLEAN" --no-progress >out.txt 2>err.txt
  is $? 0 "a clean load of 60000 records"
  CRASH=$(fresh sluice_gpg_crash)
  # The harness runs with synchronous_commit off; a crash may then lose
  # commits already acknowledged. This database commits durably.
  psql -q "$CRASH" -c "ALTER DATABASE sluice_gpg_crash SET synchronous_commit = on" >/dev/null
  "$SLUICE" run big.yaml --target "$CRASH" --no-progress >out.txt 2>err.txt &
  pid=$!
  # Crash once some batches are in.
  for _ in $(seq 1 100); do
    cnt=$(psql -Atq "$CRASH" -c "SELECT count(*) FROM node" 2>/dev/null || echo 0)
    [ "${cnt:-0}" -gt 12000 ] && break
    sleep 0.1
  done
  "$SLUICE_TEST_PGSERVER" crash "$SLUICE_TEST_PGDIR" >/dev/null 2>&1
  ok $? "the server crashed mid-load (after $cnt nodes)"
  sleep 2
  "$SLUICE_TEST_PGSERVER" restart "$SLUICE_TEST_PGDIR" >/dev/null 2>&1
  ok $? "and came back"
  wait $pid
  is $? 0 "the load completes"
  has err.txt "writing its part again" "after reconnecting"
  "$SLUICE" export "$CLEAN" | strip /dev/stdin >clean.txt
  "$SLUICE" export "$CRASH" | strip /dev/stdin >crash.txt
  is "$(wc -l <crash.txt)" "$(wc -l <clean.txt)" "as many lines as the clean load"
  cmp -s clean.txt crash.txt
  ok $? "the graph equals the clean load's"
fi
done_testing
