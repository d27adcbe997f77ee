#!/usr/bin/env bash
# `sluice copy` into a Neo4j target, without a Neo4j server: the copy
# writes into tests/bolt/peer.js in recording sink mode, and
# tests/bolt/replay_graph.py replays the committed statements into a graph,
# which must be the SQLite source's (labels, keys, properties, relationship
# keys, parallel CREATE relationships). Negative control: the recording
# with its last COMMIT turned into a ROLLBACK gives another graph. And
# from Neo4j: the peer plays tests/bolt/scripts/c_export.script (the
# store's export queries and their records), once for `sluice export`
# and once for `sluice copy` into SQLite, which must export the same.
#
# usage: test_copy_neo4j.sh SLUICE NODE BOLT_DIR
set -u
. "$(cd "$(dirname "$0")" && pwd)/tap.sh"
SLUICE=$(realpath "$1")
NODE=$2
BOLT=$(realpath "$3")
PEER=$BOLT/peer.js
REPLAY=$BOLT/replay_graph.py
T=$(mktemp -d /tmp/sluice-copyneo4j-XXXXXX)
peer_pid=""
cleanup() {
  [ -n "$peer_pid" ] && kill "$peer_pid" 2>/dev/null && wait "$peer_pid" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
cd "$T" || exit 1

# start_script SCRIPT: the peer playing SCRIPT; sets peer_pid and port.
start_script() {
  rm -f "$T/port"
  "$NODE" "$PEER" --port-file "$T/port" --timeout 60 "$1" 2>"$T/peer.log" &
  peer_pid=$!
  for _ in $(seq 200); do
    [ -s "$T/port" ] && break
    sleep 0.05
  done
  port=$(cat "$T/port" 2>/dev/null)
}
# start_peer RECORD: a recording sink; sets peer_pid and port.
start_peer() {
  rm -f "$T/port" "$1"
  "$NODE" "$PEER" --sink --record "$1" --port-file "$T/port" --timeout 120 2>"$T/peer.log" &
  peer_pid=$!
  for _ in $(seq 200); do
    [ -s "$T/port" ] && break
    sleep 0.05
  done
  port=$(cat "$T/port" 2>/dev/null)
}
# stop_peer: SIGTERM (the sink then exits 0); its status.
stop_peer() {
  kill "$peer_pid" 2>/dev/null
  wait "$peer_pid"
  local rc=$?
  peer_pid=""
  return $rc
}

cat >g.yaml <<'EOF'
- implementation: range
  factory: range
  arguments: {stop: 600}
- implementation: interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: N
        key: {i: !jmespath index}
        properties: {name: !format {fmt: 'n{v}', v: !jmespath index}, f: 1.5}
        additional_types: [Num]
      - type: relationship
        node_type: M
        relationship_type: R
        node_key: {m: !jmespath 'index'}
        relationship_key: {k: !jmespath 'index'}
        relationship_properties: {w: !jmespath index}
      - type: relationship
        node_type: M
        relationship_type: MANY
        node_key: {m: 1}
        relationship_creation_rule: CREATE
EOF
"$SLUICE" run g.yaml -t sqlite:a.db --batch-size 100 --no-progress -q >/dev/null 2>&1
is $? 0 "a graph in SQLite, with 6 parallel relationships"
"$SLUICE" export sqlite:a.db >a.jsonl && python3 "$REPLAY" --canon a.jsonl >want.txt
ok $? "its canonical form"

start_peer "$T/copy.rec"
"$SLUICE" copy --from sqlite:a.db --to "bolt://neo4j:pw@127.0.0.1:$port/neo4j" \
  --batch-size 250 >out.txt 2>err.txt
is $? 0 "copy SQLite -> Neo4j (the peer)"
stop_peer
ok $? "the peer recorded every message"
python3 "$REPLAY" --strip-times "$T/copy.rec" >got.txt 2>replay.log
ok $? "the recording replays (every statement shape known)"
cmp -s want.txt got.txt
ok $? "Neo4j holds the SQLite graph: labels, keys, properties, parallel relationships"
diff want.txt got.txt | head -n 4 | sed 's/^/# /'
is "$(grep -c '"rel":"MANY"' got.txt)" "$(grep -c '"rel":"MANY"' want.txt)" "as many parallel relationships"
if grep -q ':pw@' err.txt; then ok 1 "the password is not shown"; else ok 0 "the password is not shown"; fi

# Negative control: with the last transaction rolled back, the check
# sees a graph that is not the source's.
python3 - "$T/copy.rec" "$T/bad.rec" <<'EOF2'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
[m for m in lines if m["msg"] == "COMMIT"][-1]["msg"] = "ROLLBACK"
with open(sys.argv[2], "w", encoding="utf-8") as f:
    for m in lines:
        f.write(json.dumps(m, ensure_ascii=False) + "\n")
EOF2
python3 "$REPLAY" --strip-times "$T/bad.rec" >bad.txt 2>/dev/null
! cmp -s want.txt bad.txt
ok $? "negative control: the last transaction rolled back, the graphs differ"

# From Neo4j.
start_script "$BOLT/scripts/c_export.script"
"$SLUICE" export "bolt://neo4j:pw@127.0.0.1:$port/neo4j" >neo4j.jsonl 2>err.txt
is $? 0 "sluice export from the scripted Neo4j"
wait "$peer_pid"
peer_pid=""
start_script "$BOLT/scripts/c_export.script"
"$SLUICE" copy --from "bolt://neo4j:pw@127.0.0.1:$port/neo4j" --to sqlite:from.db >out.txt 2>err.txt
is $? 0 "copy Neo4j -> SQLite"
wait "$peer_pid"
ok $? "the peer saw the queries of its script, in order"
peer_pid=""
"$SLUICE" export sqlite:from.db >from.jsonl
[ -s neo4j.jsonl ] && cmp -s neo4j.jsonl from.jsonl
ok $? "SQLite holds the Neo4j graph: labels, keys, a date, a relationship"

done_testing
