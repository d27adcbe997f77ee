#!/usr/bin/env bash
# Write counts after a failed commit, SQLite target: the counts a run
# reports (the writer's log line, the summary's committed counts in text
# and --json, its skipped relationships) are what the database holds when
# the run ends, counted on commit, not on send. The disk fills for real: the run's file size limit (ulimit -f, with
# SIGXFSZ ignored) makes the kernel refuse SQLite's writes at COMMIT, so
# the open transaction is rolled back.
#
# usage: test_counts.sh path/to/sluice
set -u
. "$(cd "$(dirname "$0")" && pwd)/tap.sh"
SLUICE=$(realpath "$1")
T=$(mktemp -d /tmp/sluice-counts-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

# pipe STOP TYPE: TYPE{i} for i < STOP, each -[R]-> M{i} and -[IN]->
# Team{i} (MATCH_ONLY: Team nodes never exist, so those relationships are
# skipped).
pipe() {
  cat <<EOF
- implementation: range
  factory: range
  arguments: {stop: $1}
- implementation: interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: $2
        key: {i: !jmespath index}
        properties: {pad: !format {fmt: 'padding-padding-padding-{v}', v: !jmespath index}}
      - type: relationship
        node_type: M$2
        relationship_type: R
        node_key: {m: !jmespath index}
      - type: relationship
        node_type: Team
        relationship_type: IN
        node_key: {t: !jmespath index}
        node_creation_rule: MATCH_ONLY
EOF
}

# reported LOG WHAT: the count the writer's log line gives, e.g.
# reported err.txt 'nodes: \K[0-9]+(?= created)'
reported() {
  grep -oP "$2" "$1" | tail -n 1
}

# sq DB SQL: one value from the database
sq() {
  sqlite3 "$1" "$2"
}

pipe 20000 A >small.yaml
BIG=50000
pipe $BIG N >big.yaml

# A first run succeeds: the counts are the database's.
"$SLUICE" run small.yaml --target sqlite:g.db --no-progress >out.txt 2>err.txt
is $? 0 "a first run of 20000 records"
is "$(reported err.txt 'nodes: \K[0-9]+(?= created)')" \
  "$(sq g.db 'SELECT count(*) FROM node')" "... nodes created: what the file holds"
base_nodes=$(sq g.db 'SELECT count(*) FROM node')
base_rels=$(sq g.db 'SELECT count(*) FROM rel')
size=$(stat -c %s g.db)

# The disk fills: no file may grow past a little more than the database is
# now. The next commit cannot write its WAL frames and rolls back.
limit=$(((size + 2 * 1024 * 1024) / 1024))
(
  ulimit -f "$limit"
  trap '' XFSZ
  exec "$SLUICE" run big.yaml --target sqlite:g.db --no-progress
) >out.txt 2>err.txt
rc=$?
is $rc 1 "a run that fills the disk fails"
grep -E 'SQLite error: (database or disk is full|disk I/O error)' err.txt >/dev/null
ok $? "... with SQLite's error"
now_nodes=$(sq g.db 'SELECT count(*) FROM node')
now_rels=$(sq g.db 'SELECT count(*) FROM rel')
added=$((now_nodes - base_nodes))
[ "$added" -lt $((2 * BIG)) ]
ok $? "... some of its writes were rolled back ($added of $((2 * BIG)) nodes in the file)"
is "$(reported err.txt 'nodes: \K[0-9]+(?= created)')" "$added" \
  "the nodes it reports created are the nodes it added to the file"
is "$(reported err.txt 'relationships: \K[0-9]+(?= created)')" "$((now_rels - base_rels))" \
  "the relationships it reports created are those it added"
# Each record the failed run committed had its IN relationship skipped.
is "$(reported err.txt 'relationships: [0-9]+ created, [0-9]+ updated, \K[0-9]+(?= skipped)')" \
  "$((added / 2))" "the relationships it reports skipped are those of committed batches"
skipped=$(grep -E '^  2:GraphDatabaseWriter +[0-9]' err.txt | awk '{print $5}')
is "$skipped" "$((added / 2))" "the summary's skipped records are the same"
has err.txt "2:GraphDatabaseWriter committed to sqlite:g.db (nodes $added created, 0 updated, $((added / 2)) not matched; relationships $((added / 2)) created, 0 updated, $((added / 2)) skipped)" \
  "the summary's committed counts are the file's"
"$SLUICE" export sqlite:g.db >g.jsonl 2>/dev/null
is "$(grep -c '"node":"N","props"' g.jsonl)" "$((added / 2))" "export agrees with the file"

# The same with --json: the summary's committed counts.
(
  ulimit -f "$limit"
  trap '' XFSZ
  exec "$SLUICE" run big.yaml --target sqlite:g.db --no-progress --json
) >out.txt 2>err.txt
is $? 1 "a run with --json that fills the disk fails"
before=$now_nodes
now_nodes=$(sq g.db 'SELECT count(*) FROM node')
python3 - "$((now_nodes - before))" err.txt <<'EOF'
import json, sys
want = int(sys.argv[1])
lines = [json.loads(l) for l in open(sys.argv[2]) if l.startswith("{")]
s = [l for l in lines if l.get("event") == "summary"][-1]
w = s["steps"][2]
assert s["status"] == "failed", s["status"]
assert w["target"] == "sqlite:g.db", w
c = w["committed"]
assert c["nodes_created"] + c["nodes_updated"] == want + c["nodes_updated"], c
assert c["nodes_created"] == want, (c, want)
assert w["skipped"] == c["rels_skipped"], (w, c)
EOF
ok $? "its JSON summary's committed counts are the file's"

# With room again, a re-run completes, counting only what it adds.
"$SLUICE" run big.yaml --target sqlite:g.db --no-progress >out.txt 2>err.txt
is $? 0 "with room again, the run completes"
after=$(sq g.db 'SELECT count(*) FROM node')
is "$after" "$((base_nodes + 2 * BIG))" "... $BIG N and $BIG MN nodes more"
is "$(reported err.txt 'nodes: \K[0-9]+(?= created)')" "$((after - now_nodes))" \
  "... and reports what it added"

done_testing
