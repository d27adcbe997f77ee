#!/usr/bin/env bash
# `sluice run --target`, `sluice export`, `sluice schema` and TTL pipelines
# end to end, with real SQLite files: the writer's batching and flushes,
# re-run idempotence, an interrupted load resumed, two targets in one run,
# skipped relationships, bad targets, and the writer as a pipeline step.
#
# usage: test_graph_cli.sh path/to/sluice
set -u
. "$(cd "$(dirname "$0")" && pwd)/tap.sh"
. "$(cd "$(dirname "$0")" && pwd)/graph_lib.sh"
SLUICE=$(realpath "$1")
T=$(mktemp -d /tmp/sluice-graph-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

# --- people: a CSV through the Interpreter into SQLite -----------------------
cat >people.csv <<'EOF'
id,name,city,team
1,Ada,London,A
2,Grace,New York,B
3,Alan,London,A
4,,Nowhere,B
EOF
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
"$SLUICE" run people.yaml --target sqlite:g.db --no-progress >out.txt 2>err.txt
is $? 0 "run --target sqlite: succeeds"
has err.txt "GraphDatabaseWriter" "the summary shows the writer step"
grep -E '2:GraphDatabaseWriter +4 +4 +0 +4' err.txt >/dev/null
ok $? "the writer counts the four relationships to missing Team nodes as skipped"
"$SLUICE" export sqlite:g.db >g.jsonl 2>err.txt
is $? 0 "export succeeds"
is "$(grep -c '"node":"Person","props"' g.jsonl)" 4 "four people (an empty name is a property)"
is "$(grep -c '"node":"City","props"' g.jsonl)" 3 "three cities (keys lowercased)"
is "$(grep -c '"rel":"LIVES_IN"' g.jsonl)" 4 "four LIVES_IN"
is "$(grep -c '"rel":"IN"' g.jsonl)" 0 "no IN: MATCH_ONLY Team nodes do not exist"
has g.jsonl '{"key":{"id":"1"},"labels":["Human"],"node":"Person","props":{' "a node line"
has g.jsonl '"was_ingested_by_people":true' "with the mark"
has g.jsonl '"rel":"LIVES_IN","to":{"key":{"name":"london"},"node":"City"}}' "a relationship line"
strip g.jsonl >first.txt
"$SLUICE" run people.yaml --target sqlite:g.db --no-progress >out.txt 2>err.txt
"$SLUICE" export sqlite:g.db >g2.jsonl
strip g2.jsonl >second.txt
cmp -s first.txt second.txt
ok $? "re-running the pipeline gives the same graph"

# --- batching and flushing ---------------------------------------------------
cat >range.yaml <<'EOF'
- implementation: range
  factory: range
  arguments: {stop: 2500}
- implementation: interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: N
        key: {i: !jmespath index}
      - type: relationship
        node_type: M
        relationship_type: R
        node_key: {m: !jmespath 'index'}
EOF
"$SLUICE" run range.yaml --target sqlite:r.db --batch-size 7 --no-progress --json >out.txt 2>err.txt
is $? 0 "small write batches"
"$SLUICE" export sqlite:r.db >r.jsonl
is "$(wc -l <r.jsonl)" 7500 "every node and relationship of 2500 records"
has err.txt '358 batches' "written in batches of 7 (358 of them)"

# --- two targets, null, bad targets ------------------------------------------
"$SLUICE" run people.yaml -t sqlite:a.db -t sqlite:b.db -t null: --no-progress >out.txt 2>err.txt
is $? 0 "three targets in one run"
"$SLUICE" export sqlite:a.db | strip /dev/stdin >a.txt
"$SLUICE" export sqlite:b.db | strip /dev/stdin >b.txt
cmp -s a.txt b.txt && cmp -s a.txt first.txt
ok $? "both databases hold the same graph"
"$SLUICE" run people.yaml --target mysql://x --no-progress >out.txt 2>err.txt
is $? 1 "an unknown target fails"
has err.txt "unknown kind of target" "with a message"

# --- no password in the output: a PostgreSQL target nothing listens on ------
# libpq decodes percent-encoded keys and stops the user information at the
# first '@' or '/'; neither the log, --json nor an error may show a secret.
for uri in 'postgresql://u@127.0.0.1:1/db?pass%77ord=secret' \
           'postgresql://u@127.0.0.1:1/db?sslpassword=secret&sslmode=disable' \
           'postgresql://u:secret@secret@127.0.0.1:1/db' \
           'postgresql://u:a/secret@127.0.0.1:1/db' \
           'postgresql://u@127.0.0.1:1/db?password=se%ZZsecret' \
           'postgresql://127.0.0.1:1?password=se@secret' \
           'postgresql://u@127.0.0.1:1?password=se@secret'; do
  for json in "" --json; do
    "$SLUICE" run people.yaml --target "$uri" --no-progress $json >out.txt 2>&1
    is $? 1 "a refused target fails: $uri $json"
    ! grep -q secret out.txt
    ok $? "... and no password is shown"
    grep -q '127.0.0.1' out.txt
    ok $? "... while the target is"
  done
done
echo "not a database" >bad.db
"$SLUICE" export sqlite:bad.db >out.txt 2>err.txt
is $? 1 "exporting a file that is not a database fails"
has err.txt "bad.db" "naming it"

# --- the writer as a step, and TTL ---------------------------------------------
cat >writer.yaml <<'EOF'
- implementation: range
  factory: range
  arguments: {stop: 3}
- implementation: interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: Old
        key: {i: !jmespath index}
- implementation: nodestream.databases:GraphDatabaseWriter
  arguments: {database: sqlite, path: w.db, batch_size: 2}
EOF
"$SLUICE" run writer.yaml --no-progress >out.txt 2>err.txt
is $? 0 "GraphDatabaseWriter in the pipeline file"
is "$("$SLUICE" export sqlite:w.db | grep -c '"node":"Old"')" 3 "writes its nodes"
cat >ttl.yaml <<'EOF'
- implementation: nodestream.pipeline.extractors:TimeToLiveConfigurationExtractor
  arguments:
    graph_object_type: NODE
    configurations:
      - {object_type: Old, expiry_in_hours: 0}
      - {object_type: Kept, expiry_in_hours: 0, enabled: false}
EOF
sleep 1
"$SLUICE" run ttl.yaml --target sqlite:w.db --no-progress >out.txt 2>err.txt
is $? 0 "a TTL pipeline runs"
is "$("$SLUICE" export sqlite:w.db | grep -c '"node":"Old"')" 0 "it deleted the expired nodes"
cat >ttlq.yaml <<'EOF'
- implementation: ttl
  arguments:
    graph_object_type: NODE
    configurations:
      - {object_type: Old, custom_query: "MATCH (n) DETACH DELETE n"}
EOF
"$SLUICE" run ttlq.yaml --target sqlite:w.db --no-progress >out.txt 2>err.txt
is $? 1 "a custom TTL query is refused"
has err.txt "ttlq.yaml:5:42: custom_query: a custom query is Cypher" "at its position"

# --- schema -------------------------------------------------------------------
"$SLUICE" schema people.yaml >s.txt 2>err.txt
is $? 0 "schema"
has s.txt "(Person)-[LIVES_IN]->(City)" "adjacencies"
"$SLUICE" schema people.yaml --format dot >s.dot 2>err.txt
has s.dot 'label="LIVES_IN"' "dot"
if command -v dot >/dev/null 2>&1; then
  dot -Tsvg s.dot >s.svg 2>err.txt
  ok $? "Graphviz renders it"
fi

# --- an interrupted load, resumed ------------------------------------------------
sed 's/stop: 2500/stop: 200000/' range.yaml >big.yaml
"$SLUICE" run big.yaml --target sqlite:clean.db --no-progress >out.txt 2>err.txt
is $? 0 "a clean load of 200000 records"
"$SLUICE" run big.yaml --target sqlite:resumed.db --no-progress >out.txt 2>err.txt &
pid=$!
# Signal once the first write transaction is visible (at most 30 s), not
# after a fixed delay: on a loaded machine nothing may be written yet.
# (Ask only once sluice made the file: sqlite3 would create an empty one.)
for _ in $(seq 600); do
  written=0
  [ -s resumed.db ] &&
    written=$(sqlite3 resumed.db "SELECT count(*) FROM node" 2>/dev/null)
  [ "${written:-0}" -gt 0 ] && break
  sleep 0.05
done
kill -INT $pid
wait $pid
is $? 130 "an interrupted load stops (SIGINT)"
"$SLUICE" export sqlite:resumed.db >part.jsonl
lines=$(wc -l <part.jsonl)
[ "$lines" -gt 0 ] && [ "$lines" -lt 600000 ]
ok $? "what was extracted before the signal was written ($lines lines)"
"$SLUICE" run big.yaml --target sqlite:resumed.db --no-progress >out.txt 2>err.txt
is $? 0 "running it again completes the load"
"$SLUICE" export sqlite:clean.db | strip /dev/stdin >clean.txt
"$SLUICE" export sqlite:resumed.db | strip /dev/stdin >resumed.txt
cmp -s clean.txt resumed.txt
ok $? "the resumed graph equals the clean one"

# --- a project file -------------------------------------------------------------
mkdir -p proj/pipelines proj/data
cp people.csv proj/data/people.csv
sed 's#globs: \[people.csv\]#globs: [data/people.csv]#' people.yaml >proj/pipelines/people.yaml
cat >proj/pipelines/numbers.yaml <<'EOF'
- implementation: range
  factory: range
  arguments: {stop: !config count}
- implementation: interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: Number
        key: {n: !jmespath index}
EOF
cat >proj/nodestream.yaml <<'EOF'
scopes:
  default:
    targets: [local]
    pipelines:
      - pipelines/people.yaml
  numbers:
    config: {count: 5}
    annotations: {schedule: nightly}
    pipelines:
      - path: pipelines/numbers.yaml
        name: numbers
        targets: [other]
targets:
  local: {database: sqlite, path: graph.db, batch_size: 2}
  other: {database: sqlite, path: other.db}
EOF
(cd proj && "$SLUICE" show) >show.txt 2>err.txt
is $? 0 "show"
has show.txt "numbers" "lists the pipelines"
has show.txt "nightly" "with their annotations"
(cd proj && "$SLUICE" run -p nodestream.yaml people --no-progress) >out.txt 2>err.txt
is $? 0 "run NAME from a project (-p)"
is "$(cd proj && "$SLUICE" export local | grep -c '"node":"Person","props"')" 4 \
  "into the scope's target"
(cd proj && "$SLUICE" run --no-progress) >out.txt 2>err.txt
is $? 0 "run with no name runs every pipeline"
is "$(cd proj && "$SLUICE" export other | grep -c '"node":"Number"')" 5 \
  "the scope's config reaches !config"
(cd proj && "$SLUICE" run peple --no-progress) >out.txt 2>err.txt
is $? 1 "an unknown pipeline name fails"
has err.txt "did you mean 'people'" "with a suggestion"
(cd proj/data && "$SLUICE" run -p ../nodestream.yaml numbers -t local --no-progress) >out.txt 2>err.txt
is $? 0 "-t takes a project target name (from another folder: -p)"
is "$(cd proj && "$SLUICE" export local | grep -c '"node":"Number"')" 5 \
  "and writes there too: target paths are relative to the project file"
(cd proj && "$SLUICE" export nowhere) >out.txt 2>err.txt
is $? 1 "an unknown target name fails"

# --- migrations -------------------------------------------------------------
"$SLUICE" migrate sqlite:g.db people.yaml >out.txt 2>err.txt
is $? 0 "migrate"
has err.txt "sqlite:g.db: 8 migrations applied, 0 already there" \
  "key indexes and views per type"
"$SLUICE" migrate sqlite:g.db people.yaml >out.txt 2>err.txt
has err.txt "0 migrations applied, 8 already there" "running it again changes nothing"
sed -i 's/        additional_types: \[Human\]/        additional_types: [Human]\n        additional_indexes: [name]/' people.yaml
"$SLUICE" migrate sqlite:g.db people.yaml >out.txt 2>err.txt
has err.txt "1 migrations applied, 8 already there" "a new additional index is one more migration"
if command -v sqlite3 >/dev/null 2>&1; then
  is "$(sqlite3 g.db "select id || ':' || name from node_Person order by _id limit 1" 2>&1)" \
    "1:Ada" "the view has a column per key and property"
  sqlite3 g.db "explain query plan select * from node_Person where name = 'Ada'" >plan.txt
  has plan.txt "sluice_prop(Person.name)" "and the additional index serves it"
  is "$(sqlite3 g.db "select count(*) from rel_LIVES_IN where _to_key = '{\"name\":\"london\"}'")" 2 \
    "relationship views join their endpoints"
fi
# Relationship properties named like the view's own columns.
cat >relid.yaml <<'EOF'
- implementation: file
  factory: local
  arguments: {globs: [people.csv]}
- implementation: interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: Person
        key: {id: !jmespath id}
      - type: relationship
        node_type: City
        relationship_type: HAS_ID
        node_key: {name: !jmespath city}
        relationship_properties: {id: !jmespath id, _id: !jmespath name}
EOF
"$SLUICE" run relid.yaml --target sqlite:rid.db --no-progress >out.txt 2>err.txt
"$SLUICE" migrate sqlite:rid.db relid.yaml >out.txt 2>err.txt
is $? 0 "a relationship property named _id does not break its view"
if command -v sqlite3 >/dev/null 2>&1; then
  is "$(sqlite3 rid.db "select count(*) from rel_HAS_ID where id = '1' and _id > 0")" 1 \
    "and one named id gets its column"
fi
# Property names that SQLite's JSON paths must quote or escape: each view
# column reads the stored value, and the indexes serve the view.
cat >odd.yaml <<'EOF'
- implementation: range
  factory: range
  arguments: {stop: 3}
- implementation: interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: Odd
        key: {"k\\ey": !jmespath index}
        properties:
          "back\\slash": !jmespath index
          "it's": !jmespath index
          "a.b": !jmespath index
          "$d": !jmespath index
          "two words": !jmespath index
          "zürich ✓": !jmespath index
          "tab\there": !jmespath index
          "dq\"x": !jmespath index
          "": !jmespath index
        additional_indexes: ["back\\slash", "zürich ✓"]
EOF
"$SLUICE" run odd.yaml --target sqlite:odd.db --no-progress >out.txt 2>err.txt
"$SLUICE" migrate sqlite:odd.db odd.yaml >out.txt 2>err.txt
is $? 0 "migrate property names with backslashes, quotes, dots and unicode"
has err.txt "4 migrations applied, 0 already there" "a key index, two additional indexes, a view"
has err.txt "property name 'dq\"x' has a double quote" \
  "a name with a double quote is left out, with a warning"
has err.txt "a property named '' cannot name a view column; it is left out" \
  "and so is the empty name"
if command -v sqlite3 >/dev/null 2>&1; then
  is "$(sqlite3 odd.db 'select group_concat("k\ey" || "back\slash" || "it'"'"'s" || "a.b" || "$d" || "two words" || "zürich ✓" || "tab	here", ",") from (select * from "node_Odd" order by _id)')" \
    "00000000,11111111,22222222" "each view column reads the stored value"
  is "$(sqlite3 odd.db "select count(*) from pragma_table_info('node_Odd') where name in ('dq\"x', '')")" 0 \
    "with no column for the names left out"
  sqlite3 odd.db 'explain query plan select _id from "node_Odd" where "back\slash" = 1' >plan.txt
  has plan.txt 'sluice_prop(Odd.back\slash)' "the index on a name with a backslash serves the view"
  sqlite3 odd.db 'explain query plan select _id from "node_Odd" where "zürich ✓" = 1' >plan.txt
  has plan.txt "sluice_prop(Odd.zürich ✓)" "and so does the one on a unicode name"
fi
"$SLUICE" migrate sqlite:nope/x.db people.yaml >out.txt 2>err.txt
is $? 1 "migrating an unreachable database fails"

# --- export opens the database read-only -----------------------------------------
# `sluice export` must change nothing: no pragma (journal_mode = WAL turns a
# rollback-journal database into WAL, rewriting its header), no schema, no
# -wal or -shm left. CI runs as root, which ignores file modes, so the first
# checks compare the bytes of the file instead: they fail with a read-write
# open even as root. The read-only directory checks run the export as an
# unprivileged user (setpriv when root) so the modes count.
"$SLUICE" export sqlite:g.db | strip /dev/stdin >ro-want.txt
mkdir ro && cp g.db ro/del.db && cp g.db ro/wal.db
if command -v sqlite3 >/dev/null 2>&1; then
  sqlite3 ro/del.db "PRAGMA journal_mode = DELETE" >/dev/null
  is "$(sqlite3 ro/del.db "PRAGMA journal_mode")" delete "a database in rollback-journal mode"
  before=$(cksum <ro/del.db)
  "$SLUICE" export sqlite:ro/del.db | strip /dev/stdin >ro-del.txt
  cmp -s ro-want.txt ro-del.txt
  ok $? "exports the graph"
  is "$(cksum <ro/del.db)" "$before" "export leaves its bytes alone (no journal_mode = WAL)"
  is "$(ls ro | grep -c -- '-wal$\|-shm$')" 0 "and leaves no -wal or -shm file"
  is "$(sqlite3 ro/wal.db "PRAGMA journal_mode")" wal "a database left in WAL mode"
  before=$(cksum <ro/wal.db)
  "$SLUICE" export sqlite:ro/wal.db | strip /dev/stdin >ro-wal.txt
  cmp -s ro-want.txt ro-wal.txt
  ok $? "exports the graph"
  is "$(cksum <ro/wal.db)" "$before" "export leaves its bytes alone"
  rm -f ro/wal.db-wal ro/wal.db-shm
fi
"$SLUICE" export sqlite:ro/none.db >out.txt 2>err.txt
is $? 1 "exporting a missing database fails"
test ! -e ro/none.db
ok $? "without creating it"
# as an unprivileged user: files 0444 in a directory 0555
as_user() { "$@"; }
if [ "$(id -u)" = 0 ]; then
  as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
fi
chmod 755 "$T" && chmod 444 ro/*.db && chmod 555 ro
if as_user test -r ro/del.db 2>/dev/null && ! as_user test -w ro 2>/dev/null; then
  for db in del wal; do
    as_user "$SLUICE" export sqlite:ro/$db.db 2>err.txt | strip /dev/stdin >ro-$db.txt
    cmp -s ro-want.txt ro-$db.txt
    ok $? "$db: exports from a read-only file in a read-only directory"
  done
  is "$(ls ro | grep -c -- '-wal$\|-shm$')" 0 "and leaves no -wal or -shm file"
else
  ok 0 "# SKIP cannot run as an unprivileged user"
  ok 0 "# SKIP cannot run as an unprivileged user"
  ok 0 "# SKIP cannot run as an unprivileged user"
fi
chmod 755 ro

done_testing
