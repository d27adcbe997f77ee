#!/usr/bin/env bash
# The PostgreSQL graph target end to end, against the private server the
# harness started: the same graph as SQLite, re-run idempotence, MATCH_ONLY
# and skipped relationships, TTL, migrations (indexes and views), two
# targets, clear errors without the password, and (with --fault) a server
# crash in the middle of a load.
#
# usage: test_graph_pg.sh path/to/sluice [--fault]
set -u
. "$(cd "$(dirname "$0")" && pwd)/tap.sh"
. "$(cd "$(dirname "$0")" && pwd)/graph_lib.sh"
SLUICE=$(realpath "$1")
FAULT=${2:-}
URI=$(cat "$SLUICE_TEST_PGDIR/uri")
PW=$(cat "$SLUICE_TEST_PGDIR/password")
T=$(mktemp -d /tmp/sluice-graphpg-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

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
  # lanes=N (a project target's flush_concurrency) is the store's, not libpq's.
  "$SLUICE" run range.yaml --target "$DB?lanes=2" --batch-size 500 --no-progress >out.txt 2>err.txt
  is $? 0 "a run in 2 lanes (?lanes=2)"
  "$SLUICE" export "$DB?lanes=1" | strip /dev/stdin >pg3.txt
  cmp -s pg.txt pg3.txt
  ok $? "... the same graph"
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
  # The order variants also give the MATCH_ONLY node p7 a property the
  # EAGER write of p7 sets too, and start two batches with p7: a
  # node's EAGER and MATCH_ONLY writes of one batch apply in the batch's
  # order (SQLite's), the MATCH_ONLY one first or last.
  for i in $(seq 0 1999); do
    echo "{\"k\":\"p$((i % 500))\",\"i\":$i}"
  done >mix.jsonl
  for i in $(seq 0 1999); do
    echo "{\"k\":\"p$(((i + 207) % 500))\",\"i\":$i}"
  done >mixo.jsonl
  for variant in plain nulls order order-nulls; do
    extra="" data=mix.jsonl seen=""
    case $variant in *nulls) extra="gone: !jmespath no_such_field," ;; esac
    case $variant in order*)
      data=mixo.jsonl
      seen="node_properties: {last: !jmespath i}" ;;
    esac
    cat >mix.yaml <<EOF
- implementation: nodestream.pipeline.extractors:FileExtractor
  factory: local
  arguments: {globs: [$T/$data]}
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
        $seen
EOF
    DBM=$(fresh sluice_gpg_mix)
    rm -f mix.db
    SLUICE_LOG_LEVEL=info "$SLUICE" run mix.yaml --target "$DBM" --batch-size 300 --no-progress >out.txt 2>pgerr.txt
    is $? 0 "$variant: merges across batches into PostgreSQL"
    SLUICE_LOG_LEVEL=info "$SLUICE" run mix.yaml --target sqlite:mix.db --batch-size 300 --no-progress >out.txt 2>err.txt
    "$SLUICE" export "$DBM" | strip /dev/stdin >a.txt
    "$SLUICE" export sqlite:mix.db | strip /dev/stdin >b.txt
    cmp -s a.txt b.txt
    ok $? "$variant: the same graph as SQLite" || diff a.txt b.txt | head -5 | sed 's/^/# /' 
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

  # Two runs of one pipeline at once into one database: lanes of the two
  # processes meet on the same rows (deadlocks and relationships the
  # other made are retried); the graph is a single run's.
  sed 's/stop: 3000/stop: 20000/' range.yaml >rangebig.yaml
  DBC=$(fresh sluice_gpg_conc)
  "$SLUICE" run rangebig.yaml --target "$DBC" --no-progress >c1.out 2>c1.err &
  pid=$!
  "$SLUICE" run rangebig.yaml --target "$DBC" --no-progress >c2.out 2>c2.err
  rc2=$?
  wait $pid
  rc1=$?
  is "$rc1$rc2" 00 "two concurrent runs into one database both succeed"
  DBS=$(fresh sluice_gpg_single)
  "$SLUICE" run rangebig.yaml --target "$DBS" --no-progress >out.txt 2>err.txt
  "$SLUICE" export "$DBC" | strip /dev/stdin >conc.txt
  "$SLUICE" export "$DBS" | strip /dev/stdin >single.txt
  cmp -s conc.txt single.txt
  ok $? "and leave the graph one run leaves"
  diff conc.txt single.txt | head -n 6 | sed 's/^/# /'
  is "$(psql -Atq "$DBC" -c "SELECT count(*) FROM (SELECT 1 FROM rel WHERE NOT multi GROUP BY from_id, type, to_id, key HAVING count(*) > 1) AS d")" 0 \
    "with no relationship twice"

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

  # Migrations: the SQLite store's indexes and views, with the same names
  # and columns, on PostgreSQL.
  printf 'id,name,city,team\n1,Ada,London,x\n2,Grace,New York,y\n3,Alan,london,z\n' >people.csv
  cat >people.yaml <<'EOF'
- implementation: file
  factory: local
  arguments: {globs: [people.csv]}
- implementation: interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: Person
        key: {id: !jmespath id}
        properties: {name: !jmespath name}
        additional_types: [Human]
      - type: relationship
        node_type: City
        relationship_type: LIVES_IN
        node_key: {name: !jmespath city}
      - type: relationship
        node_type: Team
        relationship_type: IN
        node_key: {name: !jmespath team}
        node_creation_rule: MATCH_ONLY
EOF
  # v2/people.yaml (the same pipeline name): one more property and an
  # additional index.
  mkdir -p v2
  sed 's/properties: {name: !jmespath name}/properties: {name: !jmespath name, town: !jmespath city}\n        additional_indexes: [name]/' \
    people.yaml >v2/people.yaml
  # counts FILE: the summary line without the target
  counts() { grep -o '[0-9]* migrations applied, [0-9]* already there' "$1"; }
  # explain_uses DB QUERY INDEX: QUERY's plan (EXPLAIN, no sequential or
  # bitmap scans) with 2,000 more Person nodes, rolled back after (with
  # three rows every index of the type costs the planner the same), asked
  # again for up to 30 s until it names INDEX: an index made on a table
  # whose rows were updated is not used by transactions whose snapshot
  # is older than the index (pg_index.indcheckxmin), and the tests that
  # run beside this one against the server keep such transactions open.
  explain_uses() {
    local i
    for i in $(seq 1 150); do
      psql -Atq "$1" -c "BEGIN" \
        -c "INSERT INTO node(type, key, props) SELECT 'Person', json_build_object('id', 'many' || g)::text, json_build_object('name', 'many' || g, 'town', 'many' || g)::jsonb FROM generate_series(1, 2000) AS g" \
        -c "ANALYZE node" -c "SET LOCAL enable_seqscan = off" \
        -c "SET LOCAL enable_bitmapscan = off" -c "EXPLAIN $2" \
        -c "ROLLBACK" >plan.txt
      grep -qF "Index Scan using $3" plan.txt && return
      sleep 0.2
    done
  }
  DBG=$(fresh sluice_gpg_mig)
  "$SLUICE" run people.yaml --target "$DBG" --no-progress >out.txt 2>err.txt
  "$SLUICE" run people.yaml --target sqlite:mig.db --no-progress >out.txt 2>err.txt
  printf 'scopes:\n  default:\n    pipelines: [people.yaml]\ntargets:\n  pg: {database: postgresql, uri: "%s"}\n' "$DBG" >mig-project.yaml
  "$SLUICE" migrations show -p mig-project.yaml >show1.txt 2>show1.err
  is $? 0 "migrations show on a PostgreSQL target"
  is "$(grep -c '❌' show1.txt)" 8 "... every migration pending before migrate"
  "$SLUICE" migrate "$DBG" people.yaml >out.txt 2>pg1.txt
  is $? 0 "migrate a PostgreSQL target"
  has pg1.txt "postgresql://postgres@127.0.0.1" "naming it"
  has pg1.txt "8 migrations applied, 0 already there" "key indexes and views per type"
  "$SLUICE" migrations show -p mig-project.yaml >show2.txt 2>show2.err
  is "$(grep -c '✅' show2.txt)" 8 "migrations show: every migration applied after migrate"
  ! grep -qF "$PW" show1.txt show1.err show2.txt show2.err
  ok $? "... never showing the password"
  ! grep -qF "$PW" pg1.txt out.txt
  ok $? "without the password"
  "$SLUICE" migrate sqlite:mig.db people.yaml >out.txt 2>sq1.txt
  is "$(counts pg1.txt)" "$(counts sq1.txt)" "as many as on SQLite"
  is "$(psql -Atq "$DBG" -c 'SELECT string_agg(id || $$:$$ || name, $$,$$ ORDER BY id) FROM "node_Person"')" \
    "1:Ada,2:Grace,3:Alan" "the view node_Person has the rows, a column per key and property"
  is "$(psql -Atq "$DBG" -c "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'node_Person'")" \
    "_id,_labels,id,name,last_ingested_at,last_ingested_by_people_at,was_ingested_by_people" \
    "the columns SQLite's view has"
  is "$(psql -Atq "$DBG" -c 'SELECT _labels FROM "node_Person" WHERE id = $$1$$')" '["Human"]' \
    "_labels is the labels"
  is "$(psql -Atq "$DBG" -c "SELECT count(*) FROM pg_indexes WHERE tablename = 'node' AND indexname = 'sluice_key(Person.id)'")" 1 \
    "the key index exists"
  explain_uses "$DBG" 'SELECT name FROM "node_Person" WHERE id = $$2$$' '"sluice_key(Person.id)"'
  has plan.txt 'Index Scan using "sluice_key(Person.id)"' "and a query on the view's key column uses it"
  is "$(psql -Atq "$DBG" -c 'SELECT count(*) FROM "rel_LIVES_IN" WHERE _to_key = $${"name":"london"}$$')" 2 \
    "relationship views join their endpoints (_to_key is jsonb)"
  is "$(psql -Atq "$DBG" -c 'SELECT string_agg(p.name || $$>$$ || (r._to_key ->> $$name$$), $$,$$ ORDER BY p.id) FROM "node_Person" AS p JOIN "rel_LIVES_IN" AS r ON r._from_id = p._id')" \
    "Ada>london,Grace>new york,Alan>london" "the demo's join of people and cities"
  "$SLUICE" migrate "$DBG" people.yaml >out.txt 2>pg2.txt
  is $? 0 "migrate again"
  has pg2.txt "0 migrations applied, 8 already there" "changes nothing"
  "$SLUICE" migrate sqlite:mig.db people.yaml >out.txt 2>sq2.txt
  is "$(counts pg2.txt)" "$(counts sq2.txt)" "as on SQLite"
  "$SLUICE" run v2/people.yaml --target "$DBG" --no-progress >out.txt 2>err.txt
  "$SLUICE" run v2/people.yaml --target sqlite:mig.db --no-progress >out.txt 2>err.txt
  "$SLUICE" migrate "$DBG" v2/people.yaml >out.txt 2>pg3.txt
  is $? 0 "migrate after the schema changed"
  has pg3.txt "2 migrations applied, 7 already there" "the new index and the changed view"
  "$SLUICE" migrate sqlite:mig.db v2/people.yaml >out.txt 2>sq3.txt
  is "$(counts pg3.txt)" "$(counts sq3.txt)" "as on SQLite"
  is "$(psql -Atq "$DBG" -c 'SELECT town FROM "node_Person" WHERE id = $$2$$')" "New York" \
    "the view was replaced: it has the new column"
  has <(psql -Atq "$DBG" -c "SELECT sql FROM sluice_migrations WHERE name = 'view node_Person'") \
    "props ->> 'town' AS \"town\"" "and sluice_migrations its new SQL"
  explain_uses "$DBG" 'SELECT _id FROM "node_Person" WHERE name = $$Ada$$' '"sluice_prop(Person.name)"'
  has plan.txt 'Index Scan using "sluice_prop(Person.name)"' "the additional index serves the view's column"
  "$SLUICE" migrate "$DBG" v2/people.yaml >out.txt 2>pg4.txt
  has pg4.txt "0 migrations applied, 9 already there" "then nothing changes again"

  # Names with quotes are written as quoted identifiers and literals.
  cat >odd.yaml <<'EOF'
- implementation: range
  factory: range
  arguments: {stop: 5}
- implementation: interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: "O'Bri\"en"
        key: {"k'\"": !jmespath index}
        properties:
          "q\"'": !jmespath index
          "x'); DROP TABLE node; --": !jmespath index
          "back\\slash'": !jmespath index
          "": !jmespath index
          a_property_name_longer_than_the_63_bytes_postgresql_allows_for_a_name: !jmespath index
        additional_indexes: ["q\"'", "a_property_name_longer_than_the_63_bytes_postgresql_allows_for_a_name"]
EOF
  DBO=$(fresh sluice_gpg_odd)
  "$SLUICE" run odd.yaml --target "$DBO" --no-progress >out.txt 2>err.txt
  "$SLUICE" migrate "$DBO" odd.yaml >out.txt 2>err.txt
  is $? 0 "migrate types and properties with quotes in their names"
  has err.txt "4 migrations applied, 0 already there" "a key index, two additional indexes, a view"
  has err.txt "is longer than PostgreSQL's 63 bytes; it is left out" \
    "a column name too long for PostgreSQL is left out, with a warning"
  has err.txt "a property named '' cannot name a view column; it is left out" \
    "so is the empty name, which no identifier can be, with a warning"
  is "$(psql -Atq "$DBO" -c "SELECT count(*) FROM information_schema.columns WHERE table_name = 'node_O''Bri\"en' AND column_name = ''")" 0 \
    "and the view has no column for it"
  is "$(psql -Atq "$DBO" -c 'SELECT count(*) FROM node')" 5 "the node table is still there"
  is "$(psql -Atq "$DBO" -c 'SELECT string_agg("k'"'"'""" || $$/$$ || "q""'"'"'" || "x'"'"'); DROP TABLE node; --" || "back\slash'"'"'", $$,$$ ORDER BY "k'"'"'""") FROM "node_O'"'"'Bri""en"')" \
    "0/000,1/111,2/222,3/333,4/444" "the view has a column per quoted name"
  is "$(psql -Atq "$DBO" -c "SELECT count(*) FROM pg_indexes WHERE indexname IN ('sluice_key(O''Bri\"en.k''\")', 'sluice_prop(O''Bri\"en.q\"'')') OR indexname LIKE 'sluice_prop(O''Bri\"en.a_property_name%'")" 3 \
    "the indexes, a long name shortened with a hash"
  psql -Atq "$DBO" -c "SET enable_seqscan = off" \
    -c 'EXPLAIN SELECT _id FROM "node_O'"'"'Bri""en" WHERE "q""'"'"'" = $$3$$' >plan.txt
  has plan.txt "\"sluice_prop(O'Bri\"\"en.q\"\"')\"" "and serve queries on the view"
  "$SLUICE" migrate "$DBO" odd.yaml >out.txt 2>err.txt
  has err.txt "0 migrations applied, 4 already there" "migrating again changes nothing"

  # Two migrations at once: one applies, the other waits for its lock and
  # keeps.
  DBC=$(fresh sluice_gpg_conc)
  "$SLUICE" migrate "$DBC" people.yaml >out.txt 2>c1.txt &
  p1=$!
  "$SLUICE" migrate "$DBC" people.yaml >out.txt 2>c2.txt &
  p2=$!
  wait $p1; r1=$?
  wait $p2; r2=$?
  is "$r1:$r2" "0:0" "two migrations at once both succeed"
  is "$(cat c1.txt c2.txt | counts /dev/stdin | sort | tr '\n' ';')" \
    "0 migrations applied, 8 already there;8 migrations applied, 0 already there;" \
    "one applies everything, the other keeps it"

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
