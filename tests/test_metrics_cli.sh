#!/usr/bin/env bash
# `sluice run`'s metrics end to end: --prometheus scraped with curl while a
# pipeline runs (its input held open on stdin), the text parsed and its
# values checked against each other, the data fed and the summary; 404,
# an oversized request, a client that never finishes its request; a port
# in use; HTTPS with a self-signed certificate made here by `openssl req`;
# the progress reports (plain, JSON, on a "terminal") with bytes and ETA;
# --metrics-file.
#
# usage: test_metrics_cli.sh path/to/sluice
set -u
. "$(cd "$(dirname "$0")" && pwd)/tap.sh"
SLUICE=$(realpath "$1")
T=$(mktemp -d /tmp/sluice-metrics-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
cd "$T" || exit 1

# free_port: a TCP port nothing listens on now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# The records: N people, each in one of 7 groups. N is a multiple of 128,
# the size of a record batch: a StdinExtractor whose input pauses keeps
# its partly filled batch until more records come or the input ends.
N=2560
B=512
# feeder.py N GO: N JSON lines on stdout, then stdout held open until the
# file GO exists (a stream that pauses), then the end.
cat >feeder.py <<'EOF'
import json, os, sys, time
n, go = int(sys.argv[1]), sys.argv[2]
for i in range(n):
    sys.stdout.write(json.dumps({"id": i, "name": "p%d" % i, "g": i % 7}) + "\n")
sys.stdout.flush()
while not os.path.exists(go):
    time.sleep(0.05)
EOF
cat >p.yaml <<'EOF'
- implementation: stdin
- implementation: nodestream.interpreting:Interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: Person
        key: {id: !jmespath id}
        properties: {name: !jmespath name}
      - type: relationship
        relationship_type: IN_GROUP
        node_type: Group
        node_key: {g: !jmespath g}
EOF

# prom.py FILE EXPR...: parse the exposition in FILE (every sample line
# must parse; each HELP/TYPE names its family), then evaluate each EXPR
# with v(name, **labels) -> value (KeyError if absent), fam(name) -> the
# family's samples and hist_ok(name) -> whether its buckets are monotonic
# and +Inf equals _count; print the values, exit 1 on a false one.
cat >prom.py <<'EOF'
import re, sys
samples, types = {}, {}
line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
lab_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if not line:
        continue
    if line.startswith("# TYPE "):
        _, _, name, t = line.split(" ", 3)
        types[name] = t
        continue
    if line.startswith("#"):
        continue
    m = line_re.match(line)
    if not m:
        sys.exit("bad line: " + line)
    labels = tuple(sorted(lab_re.findall(m.group(3) or "")))
    samples[(m.group(1), labels)] = float(m.group(4))
for (name, _) in samples:
    base = re.sub(r'_(bucket|sum|count)$', '', name)
    if name not in types and base not in types:
        sys.exit("no TYPE for " + name)
def v(name, **labels):
    for (n, l), x in samples.items():
        if n == name and all(dict(l).get(k) == w for k, w in labels.items()):
            return x
    raise KeyError(name + str(labels))
def fam(name):
    return {l: x for (n, l), x in samples.items() if n == name}
def hist_ok(name):
    groups = {}
    for (n, l), x in samples.items():
        if n == name + "_bucket":
            d = dict(l); le = d.pop("le")
            groups.setdefault(tuple(sorted(d.items())), []).append(
                (float("inf") if le == "+Inf" else float(le), x))
    if not groups:
        return False
    for key, bs in groups.items():
        bs.sort()
        if any(a[1] > b[1] for a, b in zip(bs, bs[1:])):
            return False
        if bs[-1][1] != samples[(name + "_count", key)]:
            return False
    return True
bad = 0
for e in sys.argv[2:]:
    try:
        r = eval(e)
    except Exception as ex:
        r = "error: %r" % ex
    print("#   %s -> %s" % (e, r))
    if r is not True:
        bad = 1
sys.exit(bad)
EOF

# wait_for SECONDS CMD...: run CMD every 0.1 s until it succeeds (0) or
# SECONDS pass (1).
wait_for() {
  local end=$((SECONDS + $1))
  shift
  while [ $SECONDS -lt $end ]; do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}

# scrape_has URL FILE REGEX: the scrape of URL, saved in FILE, has a line
# matching REGEX.
scrape_has() {
  curl -s -m 2 $CURL_OPTS "$1" >"$2" 2>/dev/null && grep -Eq "$3" "$2"
}
CURL_OPTS=""

# hold PORT READY: listen on 127.0.0.1:PORT (or, with PORT/CLIENT, connect
# there and send half a request), touch READY, then wait.
cat >hold.py <<'EOF'
import socket, sys, time
port, ready = sys.argv[1], sys.argv[2]
if port.endswith("/CLIENT"):
    s = socket.create_connection(("127.0.0.1", int(port.split("/")[0])))
    s.sendall(b"GET /metr")
else:
    s = socket.socket()
    s.bind(("127.0.0.1", int(port)))
    s.listen()
open(ready, "w").close()
time.sleep(60)
EOF

# --- a scrape during a run -------------------------------------------------
PORT=$(free_port)
URL="http://127.0.0.1:$PORT/metrics"
python3 feeder.py $N go1 | "$SLUICE" run p.yaml -t sqlite:g.db \
  --batch-size $B --threads 2 --prometheus --prometheus-listen-port "$PORT" \
  --prometheus-listen-address 127.0.0.1 --metrics-file m.json \
  >out.txt 2>err.txt &
run_pid=$!
pids+=($run_pid)
# Wait until every record is written (the input stays open).
wait_for 30 scrape_has "$URL" s1.txt "^nodes_upserted_by_type_Person $N\$"
ok $? "a scrape during the run sees all $N records written"
python3 prom.py s1.txt \
  'v("sluice_step_records_out_total", step="0:StdinExtractor") == '$N \
  'v("sluice_records_read") == '$N \
  'v("sluice_step_records_in_total", step="1:Interpreter") == '$N \
  'v("sluice_step_records_out_total", step="1:Interpreter") == '$N \
  'v("sluice_step_records_in_total", step="2:GraphDatabaseWriter") == '$N \
  'v("records_written") == '$N \
  'v("records") == '$N \
  'v("relationships_upserted_by_relationship_type_IN_GROUP") == '$N \
  'v("nodes_upserted") == v("nodes_upserted_by_type_Person") + v("nodes_upserted_by_type_Group")' \
  'v("relationships_upserted") == '$N \
  'v("sluice_upserted_total", kind="node", type="Person") == '$N \
  'v("sluice_write_batches_total", target="sqlite:g.db") == '$((N / B)) \
  'v("sluice_write_batch_seconds_count", target="sqlite:g.db") == '$((N / B)) \
  'v("writer_pending_records") == 0' \
  'v("sluice_outbox_records", step="0:StdinExtractor") == 0' \
  'hist_ok("sluice_write_batch_seconds")' \
  'hist_ok("sluice_db_operation_seconds")' \
  'v("sluice_db_operation_seconds_count", database="sqlite:g.db") > 0' \
  'v("sluice_db_connections", database="sqlite:g.db", state="open") >= 1' \
  'v("steps_running") == 3' \
  'v("fatal_errors") == 0 and v("non_fatal_errors") == 0' \
  'v("buffered_StdinExtractor_0_to_Interpreter_1") == v("sluice_outbox_records", step="0:StdinExtractor")' \
  'v("sluice_outbox_capacity_batches", step="0:StdinExtractor") > 0' \
  'v("process_resident_memory_bytes") > 1000000' \
  'v("process_cpu_seconds_total") > 0' \
  'v("process_open_fds") > 0 and v("process_max_fds") >= v("process_open_fds")' \
  'v("sluice_build_info") == 1'
ok $? "... its values are there and consistent"
has s1.txt "# TYPE records gauge" "... Nodestream's names, as gauges"

code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/nope")
is "$code" 404 "another path: 404"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 10000 /dev/zero | tr '\0' a)" "$URL")
is "$code" 431 "a request head over 8 KiB: 431"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL")
is "$code" 405 "POST: 405"
# A client that connects and never finishes its request holds nothing up.
python3 hold.py "$PORT/CLIENT" ready1 &
slow=$!
pids+=($slow)
wait_for 20 test -e ready1
start=$(date +%s.%N)
curl -s -m 5 "$URL" >s2.txt
rc=$?
took=$(python3 -c "print($(date +%s.%N) - $start < 2)")
is "$rc/$took" "0/True" "a slow client does not block another scrape"
kill $slow 2>/dev/null

touch go1
wait $run_pid
is $? 0 "the run ends when its input does"
curl -s -m 2 "$URL" >/dev/null 2>&1
is $? 7 "... and stops serving"
python3 - m.json "$N" "$B" <<'EOF'
import json, sys
n, b = int(sys.argv[2]), int(sys.argv[3])
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) == 1, lines
s = lines[0]
assert s["event"] == "summary" and s["status"] == "ok", s
assert s["steps"][0]["out"] == n and s["steps"][2]["in"] == n, s["steps"]
assert s["wall"] > 0 and s["cpu"]["user"] + s["cpu"]["system"] > 0, s
assert s["rss_peak"] > 1000000, s
t = s["targets"][0]
assert t["target"] == "sqlite:g.db" and t["batches"] == n // b, t
assert t["upserted_by_type"]["nodes"]["Person"] == n, t
assert t["upserted_by_type"]["relationships"]["IN_GROUP"] == n, t
assert t["batch_seconds"]["count"] == n // b, t
assert t["committed"]["nodes_created"] == n + 7, t
assert t["committed"]["rels_created"] == n, t
EOF
ok $? "--metrics-file: the summary as JSON, equal to the scrape's counts"
has err.txt "peak RSS" "the text summary: wall and CPU time, peak RSS"
has err.txt "2:GraphDatabaseWriter wrote $((N / B)) batches to sqlite:g.db" \
  "... and the writer's batches"
has err.txt "relationship  IN_GROUP" "... and its writes by type"

# --- a project: two pipelines, one after the other --------------------------
# Nodestream's totals add up over a command's pipelines; the labelled
# metrics are the running pipeline's; --metrics-file has a line each.
cat >first.yaml <<'EOF'
- implementation: nodestream.pipeline:IterableExtractor
  factory: range
  arguments: {stop: 300}
- implementation: nodestream.interpreting:Interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: Number
        key: {n: !jmespath index}
EOF
cat >nodestream.yaml <<'EOF'
scopes:
  s:
    targets: [graph]
    pipelines: [first.yaml, p.yaml]
targets:
  graph:
    database: sqlite
    path: proj.db
EOF
PORT=$(free_port)
URL="http://127.0.0.1:$PORT/metrics"
python3 feeder.py 256 go3 | "$SLUICE" run --prometheus \
  --prometheus-listen-port "$PORT" --prometheus-listen-address 127.0.0.1 \
  --metrics-file pm.json >out.txt 2>err.txt &
run_pid=$!
pids+=($run_pid)
wait_for 30 scrape_has "$URL" s4.txt '^sluice_records_read 256$'
ok $? "a scrape during the project's second pipeline"
python3 prom.py s4.txt \
  'v("sluice_step_records_out_total", step="0:StdinExtractor", pipeline="p.yaml") == 256' \
  'v("nodes_upserted_by_type_Number") == 300' \
  'len(fam("sluice_step_records_in_total")) == 3' \
  'v("records") >= 300'
ok $? "... Nodestream's totals include the first pipeline's"
touch go3
wait $run_pid
is $? 0 "the project run ends"
python3 -c '
import json, sys
l = [json.loads(x) for x in open("pm.json")]
assert [s["pipeline"] for s in l] == ["first.yaml", "p.yaml"], l
assert l[0]["steps"][0]["out"] == 300 and l[1]["steps"][0]["out"] == 256, l
assert l[0]["targets"][0]["upserted_by_type"]["nodes"]["Number"] == 300
' && ok 0 "--metrics-file: one summary line per pipeline" ||
  ok 1 "--metrics-file: one summary line per pipeline"
rm -f nodestream.yaml

# --- a port in use ---------------------------------------------------------
PORT=$(free_port)
python3 hold.py "$PORT" ready2 &
holder=$!
pids+=($holder)
wait_for 20 test -e ready2
echo '{"id":1,"name":"a","g":1}' | "$SLUICE" run p.yaml -t sqlite:g2.db \
  --prometheus --prometheus-listen-port "$PORT" \
  --prometheus-listen-address 127.0.0.1 >out.txt 2>err.txt
is $? 1 "a port in use fails the run"
has err.txt "--prometheus: cannot listen on 127.0.0.1 port $PORT: address already in use" \
  "... naming the address and port"
grep -q "finished\|FAILED\|records read" err.txt
is $? 1 "... before anything runs (no summary)"
kill $holder 2>/dev/null

# --- HTTPS -------------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem \
  -days 1 -subj /CN=localhost -addext subjectAltName=DNS:localhost \
  >/dev/null 2>&1
ok $? "openssl req makes a self-signed certificate"
PORT=$(free_port)
python3 feeder.py 10 go2 | "$SLUICE" run p.yaml -t sqlite:g3.db \
  --prometheus --prometheus-listen-port "$PORT" \
  --prometheus-listen-address 127.0.0.1 --prometheus-certfile cert.pem \
  --prometheus-keyfile key.pem >out.txt 2>err.txt &
run_pid=$!
pids+=($run_pid)
CURL_OPTS="--cacert cert.pem"
wait_for 30 scrape_has "https://localhost:$PORT/metrics" s3.txt "^sluice_records_read 10\$"
ok $? "HTTPS: a scrape verified against the certificate"
CURL_OPTS=""
curl -s -m 2 "http://127.0.0.1:$PORT/metrics" >/dev/null 2>&1
isnt_zero=$?
[ $isnt_zero -ne 0 ]
ok $? "... plain HTTP gets nothing from it"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert cert.pem "https://localhost:$PORT/x")
is "$code" 404 "... and 404 over TLS"
touch go2
wait $run_pid
is $? 0 "... the run ends normally"
has err.txt "prometheus: serving https://127.0.0.1:$PORT/metrics" "... logged as https"

echo '{"id":1}' | "$SLUICE" run p.yaml --prometheus --prometheus-listen-port 0 \
  --prometheus-certfile nothere.pem >out.txt 2>err.txt
is $? 1 "an unreadable certificate fails the run"
has err.txt "nothere.pem: cannot read the TLS certificate" "... naming the file"
"$SLUICE" run p.yaml --prometheus --prometheus-keyfile key.pem >out.txt 2>err.txt
is $? 2 "a key file without a certificate is a usage error"
has err.txt "--prometheus-keyfile needs --prometheus-certfile" "... saying so"
openssl req -x509 -newkey rsa:2048 -nodes -keyout key2.pem -out cert2.pem \
  -days 1 -subj /CN=other >/dev/null 2>&1
echo '{"id":1}' | "$SLUICE" run p.yaml --prometheus --prometheus-listen-port 0 \
  --prometheus-certfile cert.pem --prometheus-keyfile key2.pem >out.txt 2>err.txt
is $? 1 "a key that is not the certificate's fails the run"
has err.txt "key2.pem: the private key does not match the certificate" "... saying so"

# --- progress ------------------------------------------------------------------
python3 -c '
import json
with open("big.jsonl", "w") as f:
    for i in range(300000):
        f.write(json.dumps({"id": i, "name": "person %d" % i, "g": i % 7}) + "\n")'
SIZE=$(stat -c %s big.jsonl)
cat >file.yaml <<'EOF'
- implementation: nodestream.pipeline.extractors:FileExtractor
  factory: local
  arguments: {globs: ["big.jsonl"]}
- implementation: print
  arguments: {path: /dev/null}
EOF
"$SLUICE" run file.yaml --json --progress-interval 0.01 --threads 1 \
  >out.txt 2>err.txt
is $? 0 "--json progress run"
python3 - err.txt "$SIZE" <<'EOF'
import json, sys
size = int(sys.argv[2])
ev = [json.loads(l) for l in open(sys.argv[1])]
prog = [e for e in ev if e.get("event") == "progress"]
assert len(prog) >= 2, ev
for p in prog:
    assert p["msg"].startswith("progress: ") and p["level"] == "info", p
    assert p["bytes_total"] == size, p
    assert 0 <= p["bytes_read"] <= size, p
    assert p["records"] >= 0 and p["records_per_second"] >= 0, p
    assert p["eta_seconds"] >= 0, p
assert all(a["records"] <= b["records"] for a, b in zip(prog, prog[1:]))
s = [e for e in ev if e.get("event") == "summary"][0]
assert s["bytes_read"] == size, s
EOF
ok $? "... JSON progress: records, rate, bytes of the file's size, ETA"
"$SLUICE" run file.yaml --progress-interval 0.01 --threads 1 >out.txt 2>err.txt
grep -Eq "progress: [0-9]+ records, [0-9]+ records/s, read [0-9.]+ [kMG]?B / [0-9.]+ MB \([0-9]+%\), ETA [0-9]+:[0-9][0-9], " err.txt
ok $? "plain progress lines: read X / Y (P%), ETA"
"$SLUICE" run file.yaml --ansi --progress-interval 0.01 --threads 1 >out.txt 2>err.txt
grep -q $'\r\033\\[K[0-9]* records  [0-9]* records/s  .* ETA ' err.txt
ok $? "--ansi: the line redrawn in place, with ETA"
"$SLUICE" run file.yaml -q --metrics-file q.json >out.txt 2>err.txt
is "$(wc -c <err.txt)" 0 "-q --metrics-file: nothing on stderr"
python3 -c 'import json,sys; s=json.load(open("q.json")); assert s["steps"][0]["out"] == 300000, s' \
  && ok 0 "... the summary in the file" || ok 1 "... the summary in the file"
"$SLUICE" run file.yaml --metrics-file /nonexistent/dir/m.json >out.txt 2>err.txt
is $? 2 "an unwritable --metrics-file is refused before the run"
has err.txt "--metrics-file /nonexistent/dir/m.json" "... naming it"

done_testing
