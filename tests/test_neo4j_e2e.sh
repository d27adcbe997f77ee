#!/usr/bin/env bash
# The Neo4j target end to end over Bolt, without a Neo4j server: `sluice run`
# writes into tests/bolt/peer.js in recording sink mode (it acknowledges
# everything, records every client message, and keeps the store's commit
# tokens), and tests/bolt/replay_graph.py replays the committed statements
# and their parameter rows into a graph.
#
#   compat: the compat cases fifa and airports (../shared/compat) give the
#     graph Nodestream produced (graph_diff.py); negative controls: a row
#     dropped from the recording, a COMMIT turned into a ROLLBACK and an
#     unknown statement shape each make the check fail.
#   once: CREATE relationships written exactly once although the reply to
#     a COMMIT of theirs is lost (the peer closes the connection after the
#     commit took effect): the replayed graph is the SQLite target's;
#     negative control: with the peer denying the commit token, the chunk
#     is written twice and the comparison fails.
#   counts: the counts a run reports are what was committed when a COMMIT
#     fails for real (the peer answers it with a FAILURE and rolls it back):
#     the chunks committed before it in the same batch count, the failed
#     one does not.
#
# usage: test_neo4j_e2e.sh compat SLUICE NODE BOLT_DIR COMPAT_DIR
#        test_neo4j_e2e.sh once SLUICE NODE BOLT_DIR
#        test_neo4j_e2e.sh counts SLUICE NODE BOLT_DIR
set -u
. "$(cd "$(dirname "$0")" && pwd)/tap.sh"
MODE=$1
SLUICE=$(realpath "$2")
NODE=$3
BOLT=$(realpath "$4")
COMPAT=${5:+$(realpath "$5")}
PEER=$BOLT/peer.js
REPLAY=$BOLT/replay_graph.py
T=$(mktemp -d /tmp/sluice-neo4je2e-XXXXXX)
peer_pid=""
cleanup() {
  [ -n "$peer_pid" ] && kill "$peer_pid" 2>/dev/null && wait "$peer_pid" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT

# start_peer RECORD [OPTION...]: a recording sink; sets peer_pid and port.
start_peer() {
  local rec=$1
  shift
  rm -f "$T/port" "$rec"
  "$NODE" "$PEER" --sink --record "$rec" --port-file "$T/port" --timeout 120 "$@" 2>"$T/peer.log" &
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
# mutate KIND IN OUT: a damaged copy of a recording.
#   droprow: the first relationship row of the first relationship RUN is
#     left out; rollback: the last COMMIT becomes a ROLLBACK; shape: the
#     first node statement says `SET node = params.p`.
mutate() {
  python3 - "$@" <<'EOF'
import json, sys
kind, src, dst = sys.argv[1:]
lines = [json.loads(l) for l in open(src, encoding="utf-8")]
if kind == "droprow":
    m = next(m for m in lines if m["msg"] == "RUN" and "MATCH (from_node:" in m["fields"][0])
    rows = m["fields"][1]["rows"]
    del rows[0]
    for i, r in enumerate(rows):
        r["i"] = i
elif kind == "rollback":
    m = [m for m in lines if m["msg"] == "COMMIT"][-1]
    m["msg"] = "ROLLBACK"
elif kind == "shape":
    m = next(m for m in lines if m["msg"] == "RUN" and "(node:" in m["fields"][0])
    m["fields"][0] = m["fields"][0].replace("SET node += params.p", "SET node = params.p")
with open(dst, "w", encoding="utf-8") as f:
    for m in lines:
        f.write(json.dumps(m, ensure_ascii=False) + "\n")
EOF
}

if [ "$MODE" = compat ]; then
  DIFF=$COMPAT/graph_diff.py
  for case in fifa airports; do
    dir=$COMPAT/$case
    start_peer "$T/$case.rec"
    (cd "$dir" && "$SLUICE" run pipeline.yaml --no-progress \
      --target "bolt://neo4j:pw@127.0.0.1:$port/neo4j") >"$T/run.log" 2>&1
    ok $? "$case: sluice run into the peer"
    stop_peer
    ok $? "$case: the peer recorded every message"
    python3 "$REPLAY" "$T/$case.rec" >"$T/$case.jsonl" 2>"$T/replay.log"
    ok $? "$case: the recording replays (every statement shape known)"
    python3 "$DIFF" "$dir/expected.jsonl" "$T/$case.jsonl" >"$T/diff.log" 2>&1
    ok $? "$case: the committed rows give Nodestream's graph"
    sed 's/^/# /' "$T/diff.log" | head -n 4
    # Negative controls: the check must see damage.
    mutate droprow "$T/$case.rec" "$T/bad.rec"
    python3 "$REPLAY" "$T/bad.rec" >"$T/bad.jsonl" 2>/dev/null &&
      ! python3 "$DIFF" "$dir/expected.jsonl" "$T/bad.jsonl" >"$T/diff.log" 2>&1
    ok $? "$case: negative control: one relationship row dropped, the graphs differ"
    grep -E '^(rels|MISSING)' "$T/diff.log" | head -n 2 | sed 's/^/# /'
    mutate rollback "$T/$case.rec" "$T/bad.rec"
    python3 "$REPLAY" "$T/bad.rec" >"$T/bad.jsonl" 2>/dev/null &&
      ! python3 "$DIFF" "$dir/expected.jsonl" "$T/bad.jsonl" >/dev/null 2>&1
    ok $? "$case: negative control: the last transaction rolled back, the graphs differ"
    mutate shape "$T/$case.rec" "$T/bad.rec"
    python3 "$REPLAY" "$T/bad.rec" >/dev/null 2>"$T/replay.log"
    is $? 2 "$case: negative control: an unknown statement shape fails the replay"
    has "$T/replay.log" "unknown statement shape" "$case: and says so"
  done
  done_testing
  exit
fi

if [ "$MODE" = counts ]; then
  # counts: 3000 records, each a node N{i} -[R]-> M{i}, in batches of 1000
  # and chunks of 100 rows. The COMMIT of the 15th N chunk fails: 10 N
  # chunks of batch 1 and 4 of batch 2 are committed, and the M chunks
  # another lane writes meanwhile; then the run fails.
  cd "$T" || exit 1
  cat >counts.yaml <<'EOF'
- implementation: range
  factory: range
  arguments: {stop: 3000}
- implementation: interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: N
        key: {i: !jmespath index}
      - type: relationship
        node_type: M
        relationship_type: R
        node_key: {m: !jmespath index}
EOF
  start_peer "$T/counts.rec" --fail-commit-of 'MERGE \(node:`N`' --fail-commit-nth 15
  "$SLUICE" run counts.yaml --no-progress \
    --target "bolt://neo4j:pw@127.0.0.1:$port/neo4j?chunk_size=100" >run.log 2>&1
  is $? 1 "a run whose COMMIT fails fails"
  stop_peer
  has "$T/peer.log" "failing a COMMIT" "the peer failed a COMMIT"
  has run.log "TransactionCommitFailed" "the run says why"
  python3 "$REPLAY" --strip-times "$T/counts.rec" >got.txt 2>replay.log
  ok $? "the recording replays"
  got_n=$(grep -c '"node":"N","props"' got.txt)
  got_m=$(grep -c '"node":"M","props"' got.txt)
  got_r=$(grep -c '"rel":"R"' got.txt)
  is "$got_n" 1400 "1400 N nodes committed (14 chunks)"
  # The sink reports every write as matched, none as created.
  line=$(grep -oE 'nodes: [0-9]+ created, [0-9]+ updated, [0-9]+ not matched; relationships: [0-9]+ created, [0-9]+ updated' run.log)
  nodes=$(echo "$line" | sed -E 's/nodes: ([0-9]+) created, ([0-9]+) updated.*/\1 + \2/')
  rels=$(echo "$line" | sed -E 's/.*relationships: ([0-9]+) created, ([0-9]+) updated/\1 + \2/')
  is "$((nodes))" "$((got_n + got_m))" "the nodes reported written are those committed ($line)"
  is "$((rels))" "$got_r" "the relationships too"
  done_testing
  exit
fi

# once: 2000 records; each writes P and Q nodes, a MERGE relationship TO
# and a CREATE relationship EVENT (keyed by the record, so that no two
# merge in a batch), in chunks of 100 rows.
cd "$T" || exit 1
for i in $(seq 0 1999); do
  echo "{\"k\":\"p$((i % 500))\",\"i\":$i}"
done >mix.jsonl
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
        properties: {last: !jmespath i}
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
        relationship_key: {n: !jmespath i}
EOF
"$SLUICE" run mix.yaml --target sqlite:mix.db --no-progress >run.log 2>&1
ok $? "the pipeline into SQLite"
"$SLUICE" export sqlite:mix.db >sqlite.jsonl && python3 "$REPLAY" --canon sqlite.jsonl >want.txt
ok $? "its graph"
is "$(grep -c '"rel":"EVENT"' want.txt)" 2000 "2000 CREATE relationships"

for nth in 1 7; do
  start_peer "$T/once.rec" --lose-commit-of 'CREATE \(from_node\)' --lose-commit-nth "$nth"
  SLUICE_LOG_LEVEL=info "$SLUICE" run mix.yaml --no-progress \
    --target "bolt://neo4j:pw@127.0.0.1:$port/neo4j?chunk_size=100" >run.log 2>&1
  ok $? "lost COMMIT reply of CREATE chunk $nth: sluice run succeeds"
  stop_peer
  has "$T/peer.log" "closing the connection instead of replying to COMMIT" \
    "chunk $nth: the peer lost the reply"
  has run.log "its last transaction had committed before the connection was lost" \
    "chunk $nth: the store found its commit token"
  python3 "$REPLAY" --strip-times "$T/once.rec" >got.txt 2>replay.log
  ok $? "chunk $nth: the recording replays (no commit token left behind)"
  cmp -s want.txt got.txt
  ok $? "chunk $nth: the graph is SQLite's: every CREATE relationship exactly once"
  diff want.txt got.txt | head -n 4 | sed 's/^/# /'
done

# Negative control: the peer denies the token, so the store writes the
# chunk again; the replay must show the duplicates.
start_peer "$T/once.rec" --lose-commit-of 'CREATE \(from_node\)' --lose-commit-nth 3 --forget-tokens
"$SLUICE" run mix.yaml --no-progress \
  --target "bolt://neo4j:pw@127.0.0.1:$port/neo4j?chunk_size=100" >run.log 2>&1
ok $? "negative control: sluice run with the token denied"
stop_peer
python3 "$REPLAY" --strip-times "$T/once.rec" >got.txt 2>replay.log
ok $? "negative control: the recording replays"
! cmp -s want.txt got.txt
ok $? "negative control: the graphs differ"
is "$(grep -c '"rel":"EVENT"' got.txt)" 2100 "negative control: 100 CREATE relationships twice"
done_testing
