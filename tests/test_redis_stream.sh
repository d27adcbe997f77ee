#!/usr/bin/env bash
# The StreamExtractor with `connector: redis` (docs/streams.md), against a
# real redis-server that this script starts on a free loopback port in a
# temporary directory and stops on exit, whatever happens.
#
# - the records loaded into SQLite are the entries; every entry is
#   acknowledged, the run ends by stop_when_idle;
# - acknowledgement only after the commit: a run that fails in the middle
#   (--strict and a bad entry) leaves exactly the entries after the last
#   committed poll pending, and a second run consumes exactly those: the
#   final graph equals one clean run's;
# - two consumers of one group at once give the graph one consumer gives,
#   each entry consumed by exactly one;
# - XAUTOCLAIM takes a dead consumer's pending entries;
# - kill -9 while reads ahead and pipelined XACKs are out: every entry
#   acknowledged is in the committed graph, a rerun replays the rest;
# - a bad entry is skipped and counted, naming its entry ID;
# - a wrong port fails naming host:port, never the password.
#
# usage: test_redis_stream.sh path/to/sluice
set -u
. "$(cd "$(dirname "$0")" && pwd)/tap.sh"
. "$(cd "$(dirname "$0")" && pwd)/graph_lib.sh"
SLUICE=$(realpath "$1")
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  echo "Bail out! redis-server is not installed (scripts/setup installs it)"
  exit 1
fi
T=$(mktemp -d /tmp/sluice-redis-XXXXXX)
stop_redis() {
  local pid
  pid=$(cat "$T/redis.pid" 2>/dev/null)
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  rm -rf "$T"
}
trap stop_redis EXIT
cd "$T" || exit 1

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$PORT" --bind 127.0.0.1 --dir "$T" --save "" \
  --appendonly no --daemonize yes --pidfile "$T/redis.pid" \
  --logfile "$T/redis.log" || { echo "Bail out! redis-server did not start"; exit 1; }
for _ in $(seq 50); do
  redis-cli -p "$PORT" PING >/dev/null 2>&1 && break
  sleep 0.1
done
R() { redis-cli -p "$PORT" "$@"; }

# add STREAM FROM TO [BAD...]: entries {"id": i, "name": "p<i>", "city":
# "c<i % 7>"} in field data, for i in FROM..TO; entry i in BAD is not JSON
add() {
  python3 - "$@" <<'EOF' | redis-cli -p "$PORT" --pipe >/dev/null
import json, sys
s, a, b, bad = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), set(map(int, sys.argv[4:]))
out = sys.stdout.buffer
for i in range(a, b + 1):
    v = "{not json" if i in bad else json.dumps({"id": i, "name": f"p{i}", "city": f"c{i % 7}"})
    args = [b"XADD", s.encode(), b"*", b"data", v.encode()]
    out.write(b"*%d\r\n" % len(args))
    for x in args:
        out.write(b"$%d\r\n%s\r\n" % (len(x), x))
EOF
}

# pipeline FILE STREAM GROUP CONSUMER [EXTRA ARGUMENT LINES]
pipeline() {
  cat >"$1" <<EOF
- implementation: nodestream.pipeline.extractors.streams:StreamExtractor
  factory: from_file_data
  arguments:
    connector: redis
    record_format: json
    url: redis://127.0.0.1:$PORT
    stream: $2
    group_id: $3
    consumer: $4
    start_id: "0"
    max_records: 50
    poll_timeout: 0.2
    stop_when_idle: 1
${5:-}
- implementation: interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: Person
        key: {id: !jmespath id}
        properties: {name: !jmespath name}
      - type: relationship
        node_type: City
        relationship_type: LIVES_IN
        node_key: {name: !jmespath city}
EOF
}

# pending STREAM GROUP: entries delivered and not acknowledged
pending() { R XPENDING "$1" "$2" | head -1; }

# nodes DB: Person nodes in a SQLite graph
nodes() { "$SLUICE" export "sqlite:$1" | grep -c '"labels":\[\],"node":"Person"'; }

# norm FILE...: the exports FILE... without timestamps and pipeline names
# (was_ingested_by_<pipeline>), merged and sorted
norm() { cat "$@" | strip /dev/stdin | sed -E 's/_by_[a-z0-9]+/_by_P/g' | sort -u; }

# --- records equal the entries; all acknowledged; stop_when_idle ---------
add s1 1 1000
pipeline p1.yaml s1 g c1
start=$(date +%s.%N)
"$SLUICE" run p1.yaml -t sqlite:one.db --no-progress >out.txt 2>err.txt
is $? 0 "a run over 1000 entries ends by stop_when_idle"
end=$(date +%s.%N)
"$SLUICE" export sqlite:one.db >one.jsonl
strip one.jsonl >one.txt
is "$(grep -c '"labels":\[\],"node":"Person"' one.txt)" 1000 "1000 Person nodes"
is "$(grep -c '"rel"' one.txt)" 1000 "1000 relationships"
python3 - one.txt <<'EOF'
import json, sys
ids = sorted(json.loads(l)["key"]["id"] for l in open(sys.argv[1]) if '"labels":[],"node":"Person"' in l)
names = {json.loads(l)["key"]["id"]: json.loads(l)["props"]["name"] for l in open(sys.argv[1]) if '"labels":[],"node":"Person"' in l}
assert ids == list(range(1, 1001)), "ids"
assert all(names[i] == f"p{i}" for i in ids), "names"
EOF
ok $? "... whose keys and names are the entries'"
is "$(pending s1 g)" 0 "every entry is acknowledged"
has err.txt "1000 messages acknowledged" "the summary log counts the acknowledgements"
ok "$(python3 -c "print(0 if 1.0 <= $end - $start < 8 else 1)")" "the run took at least stop_when_idle (1 s), and ended"
"$SLUICE" run p1.yaml -t sqlite:again.db --no-progress >out.txt 2>err.txt
is $? 0 "a second run of the same group"
is "$(nodes again.db)" 0 "... gets nothing: every entry was acknowledged"

# --- fields format -------------------------------------------------------
R XADD f '*' a 1 b two >/dev/null
cat >pf.yaml <<EOF
- implementation: stream
  arguments: {connector: redis, url: "redis://127.0.0.1:$PORT", stream: f,
              group_id: g, start_id: "0", record_format: fields,
              stop_when_idle: 0.5}
- implementation: print
EOF
"$SLUICE" run pf.yaml --no-progress >out.txt 2>err.txt
is $? 0 "record_format: fields"
is "$(cat out.txt)" '{"a":"1","b":"two"}' "... makes an object of the entry's fields"

# --- acknowledgement after the commit: a failed run, then a rerun -------
add s2 1 1000 577
add s3 1 1000 577
pipeline clean.yaml s3 g c1
"$SLUICE" run clean.yaml -t sqlite:clean.db --no-progress >out.txt 2>err.txt
is $? 0 "a clean run over 1000 entries, one of them bad"
has err.txt "0:StreamExtractor skipped 1 record; the first:" "the bad entry is skipped and counted"
has err.txt "field 'data' is not JSON" "... saying why"
bad_id=$(R XRANGE s3 - + | grep -B2 '^{not json' | head -1)
has err.txt "redis:s3:$bad_id" "... naming the entry ID"
is "$(pending s3 g)" 0 "... and acknowledged with the others"
pipeline fail.yaml s2 g c1
"$SLUICE" run fail.yaml -t sqlite:two.db --no-progress --strict >out.txt 2>err.txt
is $? 1 "with --strict, the bad entry 577 fails the run"
is "$(pending s2 g)" 250 "the 50 entries of the bad one's poll and the 4 reads of 50 ahead stay pending (the 200 after them were never read)"
ok "$([ "$(nodes two.db)" -ge 550 ] && echo 0 || echo 1)" "the 550 acknowledged entries are in the graph"
"$SLUICE" run fail.yaml -t sqlite:two.db --no-progress >out.txt 2>err.txt
is $? 0 "a second run, not strict"
has err.txt "450 messages acknowledged" "... acknowledges exactly the 250 pending and the 200 unread entries (the bad one skipped)"
is "$(pending s2 g)" 0 "... and none stays pending"
"$SLUICE" export sqlite:two.db >two.jsonl
"$SLUICE" export sqlite:clean.db >clean.jsonl
diff <(norm two.jsonl) <(norm clean.jsonl) >diff.txt
ok $? "the graph of the failed run and its rerun equals one clean run's"

# max_unacked_polls bounds the reads ahead too: 1 read ahead of 50
add s2b 1 1000 577
pipeline fail1.yaml s2b g c1 "    max_unacked_polls: 1"
"$SLUICE" run fail1.yaml -t sqlite:two1.db --no-progress --strict >out.txt 2>err.txt
is $? 1 "with max_unacked_polls: 1, the bad entry fails the run"
is "$(pending s2b g)" 100 "... the bad one's poll and a single read ahead stay pending"

# --- kill -9 while reads ahead and XACKs are on the wire ----------------
# After each kill, every entry the group acknowledged (delivered: up to
# its last-delivered-id, and not pending) must be in the committed graph;
# a rerun under the same consumer name replays the rest.
add s9 1 6000
pipeline kill.yaml s9 g ck "    claim_min_idle: 600"
R XRANGE s9 - + >xr.txt
# acked_in_graph DB: "<acknowledged> <pending> <missing>" for stream s9
acked_in_graph() {
  R XPENDING s9 g - + 100000 >xp.txt
  R XINFO GROUPS s9 >xi.txt
  "$SLUICE" export "sqlite:$1" >k.jsonl
  python3 - <<'EOF2'
import json
xr = open("xr.txt").read().split("\n")
ids = {}
for i in range(0, len(xr) - 2, 3):
    ids[xr[i]] = json.loads(xr[i + 2])["id"]
pend = set(open("xp.txt").read().split("\n")[0::4]) - {""}
xi = open("xi.txt").read().split("\n")
last = xi[xi.index("last-delivered-id") + 1]
key = lambda e: tuple(map(int, e.split("-")))
acked = [e for e in ids if key(e) <= key(last) and e not in pend]
graph = set()
for l in open("k.jsonl"):
    o = json.loads(l)
    if o.get("node") == "Person":
        graph.add(o["key"]["id"])
missing = [e for e in acked if ids[e] not in graph]
print(len(acked), len(pend), len(missing))
EOF2
}
for round in 1 2; do
  # The watcher starts the run itself, holds one connection and polls
  # it every 2 ms: the kill lands right after the group passed the mark,
  # also on a loaded machine.
  set -- $(python3 - "$PORT" "$SLUICE" $((round * 1500)) <<'EOF2'
import signal, socket, subprocess, sys, time
port, sluice, mark = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rb")
def reply():
    line = f.readline()
    t, v = line[:1], line[1:-2]
    if t == b"*":
        return None if int(v) < 0 else [reply() for _ in range(int(v))]
    if t == b"$":
        return None if int(v) < 0 else f.read(int(v) + 2)[:-2].decode()
    return int(v) if t == b":" else v.decode()
run = subprocess.Popen([sluice, "run", "kill.yaml", "-t", "sqlite:kill.db",
                        "--no-progress"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
got, deadline = 0, time.time() + 60
while got < mark and time.time() < deadline:
    s.sendall(b"*3\r\n$5\r\nXINFO\r\n$6\r\nGROUPS\r\n$2\r\ns9\r\n")
    for g in reply() or []:
        d = dict(zip(g[0::2], g[1::2]))
        if d.get("name") == "g":
            got = d.get("entries-read") or 0
    time.sleep(0.002)
alive = 0 if run.poll() is None else 1
run.send_signal(signal.SIGKILL)
run.wait()
print(alive, got)
EOF2
)
  ok "$1" "kill -9 #$round lands while the run reads (after $2 entries read)"
  set -- $(acked_in_graph kill.db)
  ok "$([ "$1" -gt 0 ] && [ "$2" -gt 0 ] && echo 0 || echo 1)" "... $1 entries acknowledged, $2 pending"
  is "$3" 0 "... and every acknowledged entry is in the committed graph"
done
"$SLUICE" run kill.yaml -t sqlite:kill.db --no-progress >out.txt 2>err.txt
is $? 0 "a rerun under the same consumer name"
is "$(pending s9 g)" 0 "... acknowledges everything"
"$SLUICE" export sqlite:kill.db >kill.jsonl
strip kill.jsonl >kill.txt
is "$(grep -c '"labels":\[\],"node":"Person"' kill.txt)" 6000 "... replays the pending entries and reads the rest: 6000 Person nodes"
is "$(grep -c '"rel":"LIVES_IN"' kill.txt)" 6000 "... 6000 relationships, none written twice by a replay"
is "$(grep -c '"node":"City","props"' kill.txt)" 7 "... and the 7 cities"

# --- two consumers of one group at once ---------------------------------
# Both wait on the empty stream before the entries come, so that neither
# takes everything while the other starts.
R XGROUP CREATE s4 g 0 MKSTREAM >/dev/null
pipeline a.yaml s4 g ca
pipeline b.yaml s4 g cb
sed -i 's/stop_when_idle: 1/stop_when_idle: 4/' a.yaml b.yaml
"$SLUICE" run a.yaml -t sqlite:a.db --no-progress >a.out 2>a.err &
pa=$!
"$SLUICE" run b.yaml -t sqlite:b.db --no-progress >b.out 2>b.err &
pb=$!
for _ in $(seq 100); do
  [ "$(R XINFO CONSUMERS s4 g | grep -cE '^c[ab]$')" = 2 ] && break
  sleep 0.05
done
add s4 1 4000
wait $pa
ra=$?
wait $pb
rb=$?
is "$ra/$rb" 0/0 "two consumers of one group run at once"
na=$(nodes a.db)
nb=$(nodes b.db)
is "$((na + nb))" 4000 "... each entry went to exactly one of them ($na + $nb)"
ok "$([ "$na" -gt 0 ] && [ "$nb" -gt 0 ] && echo 0 || echo 1)" "... both got entries"
pipeline single.yaml s4 solo c1
"$SLUICE" run single.yaml -t sqlite:single.db --no-progress >out.txt 2>err.txt
"$SLUICE" export sqlite:a.db >a.jsonl
"$SLUICE" export sqlite:b.db >b.jsonl
"$SLUICE" export sqlite:single.db >single.jsonl
diff <(norm a.jsonl b.jsonl) <(norm single.jsonl) >diff.txt
ok $? "... the union of their graphs is the graph one consumer gives"
is "$(pending s4 g)" 0 "... and everything is acknowledged"

# --- XAUTOCLAIM of a dead consumer's entries ----------------------------
add s5 1 500
R XGROUP CREATE s5 g 0 >/dev/null
R XREADGROUP GROUP g dead COUNT 200 STREAMS s5 '>' >/dev/null
is "$(pending s5 g)" 200 "a consumer read 200 entries and died"
sleep 0.5
pipeline claim.yaml s5 g c1 "    claim_min_idle: 0.3"
"$SLUICE" run claim.yaml -t sqlite:claim.db --no-progress >out.txt 2>err.txt
is $? 0 "another consumer with claim_min_idle: 0.3"
is "$(nodes claim.db)" 500 "... loads all 500 entries, the dead one's included"
is "$(pending s5 g)" 0 "... and acknowledges them"
add s6 1 100
R XGROUP CREATE s6 g 0 >/dev/null
R XREADGROUP GROUP g dead COUNT 40 STREAMS s6 '>' >/dev/null
sed -i 's/stream: s5/stream: s6/; s/claim_min_idle: 0.3/claim_min_idle: 600/' claim.yaml
"$SLUICE" run claim.yaml -t sqlite:noclaim.db --no-progress >out.txt 2>err.txt
is "$(nodes noclaim.db)" 60 "entries pending for less than claim_min_idle are left to their consumer"
is "$(pending s6 g)" 40 "... which still holds them"

# --- a consumer's own pending entries after a restart -------------------
add s7 1 300
R XGROUP CREATE s7 g 0 >/dev/null
R XREADGROUP GROUP g c1 COUNT 120 STREAMS s7 '>' >/dev/null
pipeline own.yaml s7 g c1 "    claim_min_idle: 600"
"$SLUICE" run own.yaml -t sqlite:own.db --no-progress >out.txt 2>err.txt
is "$(nodes own.db)" 300 "a restarted consumer reads its own pending entries first, then the new ones"
is "$(pending s7 g)" 0 "... and acknowledges all"

# --- a stop (SIGTERM) while the read blocks -----------------------------
add s8 1 20
cat >sig.yaml <<EOF
- implementation: stream
  arguments: {connector: redis, url: "redis://127.0.0.1:$PORT", stream: s8,
              group_id: g, consumer: c1, start_id: "0", poll_timeout: 30}
- implementation: interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: Person
        key: {id: !jmespath id}
EOF
"$SLUICE" run sig.yaml -t sqlite:sig.db --no-progress >out.txt 2>err.txt &
ps=$!
for _ in $(seq 100); do
  [ "$(R XINFO GROUPS s8 2>/dev/null | grep -A1 '^entries-read$' | tail -1)" = 20 ] &&
    [ "$(pending s8 g)" = 0 ] && break
  sleep 0.1
done
is "$(pending s8 g)" 0 "without stop_when_idle, the entries are acknowledged before the read blocks"
kill -TERM $ps
start=$(date +%s.%N)
wait $ps
rc=$?
end=$(date +%s.%N)
is "$rc" 143 "SIGTERM stops the run cleanly"
ok "$(python3 -c "print(0 if $end - $start < 5 else 1)")" "... at once, not after poll_timeout (30 s)"
is "$(nodes sig.db)" 20 "... with every entry in the graph"

# --- connection errors --------------------------------------------------
FREE=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >bad.yaml <<EOF
- implementation: stream
  arguments: {connector: redis, url: "redis://me:sekret@127.0.0.1:$FREE/0",
              stream: s1, group_id: g, stop_when_idle: 1}
EOF
"$SLUICE" run bad.yaml -t null: --no-progress >out.txt 2>err.txt
is $? 1 "a wrong port fails the run"
cat out.txt >>err.txt
has err.txt "redis at 127.0.0.1:$FREE: connecting: Connection refused" "... naming host:port"
ok "$(grep -q sekret err.txt && echo 1 || echo 0)" "... never the password"
cat >kafka.yaml <<EOF
- implementation: stream
  arguments: {connector: kafka, topic: t}
EOF
"$SLUICE" run kafka.yaml -t null: --no-progress >out.txt 2>err.txt
ok "$([ $? -ne 0 ] && echo 0 || echo 1)" "connector: kafka is refused"
cat out.txt >>err.txt
has err.txt "kafka is not built, see docs/streams.md" "... pointing at the docs"

done_testing
