#!/usr/bin/env bash
# Checkpoints and resume (`sluice run --storage-backend`): runs killed with
# kill -9 at random points and started again until one finishes give the
# graph an uninterrupted run gives, with CREATE-rule relationships written
# once; the checkpoint object is where Nodestream keeps it and is deleted
# at the end; --from-start ignores it; changed inputs and a damaged
# checkpoint are clear errors.
#
# usage: test_resume.sh path/to/sluice sqlite|pg [KILL_RUNS]
# (pg: against the server the harness started, $SLUICE_TEST_PGDIR)
set -u
. "$(cd "$(dirname "$0")" && pwd)/tap.sh"
. "$(cd "$(dirname "$0")" && pwd)/graph_lib.sh"
SLUICE=$(realpath "$1")
KIND=${2:?usage: test_resume.sh SLUICE sqlite|pg [KILL_RUNS]}
RUNS=${3:-20}
# KEEP=1 in the environment keeps the directory, to read its logs.
T=$(mktemp -d /tmp/sluice-resume-XXXXXX)
trap 'kill -9 $(jobs -p) 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
cd "$T" || exit 1
# BS: the runs' write batch size. A PostgreSQL target's default (10,000
# ingestions) holds this whole load: on a fast machine every record is
# read, and the one batch filled, before the first checkpoint interval,
# so that no progress mark comes before the end and no run can resume.
BS=()
if [ "$KIND" = pg ]; then
  URI=$(cat "$SLUICE_TEST_PGDIR/uri")
  BS=(--batch-size 1000)
fi

# done_in TARGET: whether TARGET's checkpoint table says a run finished
# (a run killed after its last commit has nothing left to do; started
# again, it would be a new load).
done_in() {
  local q="SELECT count(*) FROM sluice_progress WHERE pos LIKE '%\"done\":true%'"
  if [ "$KIND" = pg ]; then
    [ "$(psql -Atq "$1" -c "$q" 2>/dev/null)" = 1 ]
  else
    [ "$(sqlite3 "${1#sqlite:}" "$q" 2>/dev/null)" = 1 ]
  fi
}

# same_as_ref TARGET NAME DESCRIPTION: TARGET's export (NAME.txt) equals
# the uninterrupted run's (ref.txt); the first differences if not
same_as_ref() {
  "$SLUICE" export "$1" >"$2.jsonl"
  strip "$2.jsonl" >"$2.txt"
  cmp -s ref.txt "$2.txt"
  local st=$?
  ok $st "$3"
  [ $st -eq 0 ] || diff ref.txt "$2.txt" | head -6 | sed 's/^/#   /'
}

# after_saves N PID: wait until the checkpoint object changed N times, or
# run PID ended (at most about 10 s)
after_saves() {
  local seen=0 last="" cur
  for _ in $(seq 1 2000); do
    kill -0 "$2" 2>/dev/null || return
    cur=""
    [ -f "$ckobj" ] && read -r cur <"$ckobj" 2>/dev/null
    if [ -n "$cur" ] && [ "$cur" != "$last" ]; then
      seen=$((seen + 1))
      last=$cur
    fi
    [ "$seen" -ge "$1" ] && return
    sleep 0.005
  done
}

# target NAME: a fresh, empty target
target() {
  if [ "$KIND" = pg ]; then
    fresh "$1"
  else
    rm -f "$T/$1.db" "$T/$1.db-wal" "$T/$1.db-shm"
    echo "sqlite:$T/$1.db"
  fi
}

# Three JSON-lines files and a gzip one; each record makes an Event, a
# CREATE-rule relationship to its User (once per record: written twice, it
# would show twice) and a merged relationship to a Tag whose property the
# records overwrite in order (a replay out of order would show).
python3 - <<'EOF'
import gzip, json, random
random.seed(7)
n = 0
for f in range(4):
    name = "in/part%d.jsonl" % f + (".gz" if f == 3 else "")
    import os
    os.makedirs("in", exist_ok=True)
    op = gzip.open if f == 3 else open
    with op(name, "wt") as out:
        for i in range(2500):
            n += 1
            if i == 100 and f == 1:
                out.write("{not json\n")
            out.write(json.dumps({"id": n, "user": "u%d" % random.randrange(400),
                                  "tag": "t%d" % random.randrange(50),
                                  "n": n, "note": "x" * random.randrange(40)}) + "\n")
EOF
cat >p.yaml <<'EOF'
- implementation: nodestream.pipeline.extractors:FileExtractor
  factory: local
  arguments:
    globs: [in/*.jsonl, in/*.jsonl.gz]
- implementation: nodestream.interpreting:Interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: Event
        key: {id: !jmespath id}
        properties: {note: !jmespath note}
      - type: relationship
        node_type: User
        relationship_type: BY
        node_key: {uid: !jmespath user}
        relationship_creation_rule: CREATE
        relationship_properties: {n: !jmespath n}
      - type: relationship
        node_type: Tag
        relationship_type: TAGGED
        node_key: {name: !jmespath tag}
        relationship_properties: {last: !jmespath n}
EOF
cat >nodestream.yaml <<EOF
storage:
  stores:
    - name: here
      type: local
      root: $T/objects
EOF

# The checkpoint object of p.yaml's runs.
ckobj="objects/p-$(sha256sum p.yaml | cut -c1-64)/0/extractor_progress_checkpoint"
ref=$(target ref)
t0=$(date +%s%N)
"$SLUICE" run "${BS[@]}" p.yaml -t "$ref" --no-progress -q
is $? 0 "an uninterrupted run (no checkpoints)"
# Kills land at random within about as long as that run took.
span=$((($(date +%s%N) - t0) / 1000000))
[ "$span" -ge 100 ] || span=100
"$SLUICE" export "$ref" >ref.jsonl
strip ref.jsonl >ref.txt
is "$(grep -c '"rel":"BY"' ref.txt)" 10000 "10,000 CREATE relationships, one per record"

# --- kill -9 at random points, then run again until a run finishes ---------
kills=0
killed=0
multi=0
stale=0
late=0
resumed=0
bad=0
# At least RUNS loads; more (up to 3 x RUNS) while fewer than half of them
# were killed, fewer than 1 in 10 killed more than once, or fewer than
# half resumed from a checkpoint: where a kill lands is chance (a load
# on a busy machine can end before the first poll sees a checkpoint), so
# the coverage is reached by running loads, and a resume that never
# happens still fails the checks below.
covered() {
  [ "$killed" -ge $((RUNS / 2)) ] && [ "$multi" -ge $(((RUNS + 9) / 10)) ] &&
    [ "$resumed" -ge $((RUNS / 2)) ]
}
r=0
while [ "$r" -lt "$RUNS" ] || { ! covered && [ "$r" -lt $((RUNS * 3)) ]; }; do
  r=$((r + 1))
  tgt=$(target "k$r")
  rm -rf objects
  tries=0
  while :; do
    tries=$((tries + 1))
    "$SLUICE" run "${BS[@]}" p.yaml -t "$tgt" --storage-backend here \
      --checkpoint-interval 0.02 --no-progress -v >"run$r.$tries.log" 2>&1 &
    pid=$!
    # The first three times: at a random time within the span of an
    # uninterrupted run (before the first save too, or after the end),
    # or within 10 ms after the run's 1st or 2nd new checkpoint (a time
    # alone often lands after a resumed run's end when the machine's load
    # changes, and so did up to 90 ms after a checkpoint once runs got
    # faster; a PostgreSQL run of this load saves a checkpoint with each
    # of its 10 write batches at most, so a 3rd may be the end); then
    # perhaps not at all.
    if [ "$tries" -gt 3 ] && [ $((RANDOM % 2)) -eq 0 ]; then
      wait "$pid"
    elif [ $((RANDOM % 3)) -eq 0 ]; then
      ms=$((20 + RANDOM % (span * 8 / 10)))
      sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
    else
      after_saves $((1 + RANDOM % 2)) "$pid"
      sleep "0.00$((RANDOM % 10))"
    fi
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    st=$?
    # 137: killed; anything else: the run ended by itself first.
    [ "$st" -eq 137 ] || break
    # Killed after its work was done and its checkpoint deleted, on its
    # way out: the load is whole, and a run started now would be a new
    # load (CREATE relationships again), as after any finished run.
    if done_in "$tgt" &&
      [ -z "$(find objects -name extractor_progress_checkpoint 2>/dev/null)" ]; then
      late=$((late + 1))
      st=0
      break
    fi
    # Killed once its work was done: a run started again finds nothing
    # left to do (and deletes a checkpoint left behind).
    if done_in "$tgt"; then
      "$SLUICE" run "${BS[@]}" p.yaml -t "$tgt" --storage-backend here --no-progress \
        -v >"run$r.done.log" 2>&1
      st=$?
      stale=$((stale + 1))
      break
    fi
    kills=$((kills + 1))
    [ "$tries" -lt 60 ] || break
  done
  grep -q "resuming from a checkpoint" run$r.*.log && resumed=$((resumed + 1))
  [ "$tries" -gt 1 ] && killed=$((killed + 1))
  [ "$tries" -gt 2 ] && multi=$((multi + 1))
  if [ "${st:-1}" -ne 0 ]; then
    bad=$((bad + 1))
    echo "# run $r: the last run failed ($st):"
    grep -m3 -E " error | warn " "run$r.$tries.log" | sed 's/^/#   /'
    sed 's/^/#   /' "run$r.$tries.log" | tail -3
    continue
  fi
  "$SLUICE" export "$tgt" >"k$r.jsonl"
  strip "k$r.jsonl" >"k$r.txt"
  if ! cmp -s ref.txt "k$r.txt"; then
    bad=$((bad + 1))
    echo "# run $r ($tries starts): the graph differs from the reference:"
    diff ref.txt "k$r.txt" | head -6 | sed 's/^/#   /'
  fi
  if [ -n "$(find objects -name extractor_progress_checkpoint 2>/dev/null)" ]; then
    bad=$((bad + 1))
    echo "# run $r: a checkpoint is left after the run finished"
  fi
done
loads=$r
is "$bad" 0 "$loads loads killed with kill -9 and resumed: each graph equals the uninterrupted run's"
# Killed more than once: 1 load in 10 (2 of 20; 1 of the sanitizer
# build's 2).
ok $([ "$killed" -ge $((RUNS / 2)) ] && [ "$multi" -ge $(((RUNS + 9) / 10)) ] && echo 0 || echo 1) \
  "at least $((RUNS / 2)) loads were killed, $(((RUNS + 9) / 10)) several times ($killed of $loads; $multi more than once; $kills kills)"
ok $([ "$resumed" -ge $((RUNS / 2)) ] && echo 0 || echo 1) \
  "at least $((RUNS / 2)) loads resumed from a checkpoint ($resumed of $loads; $stale killed after their last commit, $late on their way out)"

# A run stopped with SIGINT (the writers finish: what came after the last
# checkpoint is rolled back, not committed without a position) resumes to
# the same graph.
tgt=$(target stopped)
rm -rf objects
"$SLUICE" run "${BS[@]}" p.yaml -t "$tgt" --storage-backend here --checkpoint-interval 0.05 \
  --no-progress >stop.log 2>&1 &
pid=$!
ms=$((50 + RANDOM % (span * 6 / 10)))
sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
kill -INT $pid 2>/dev/null
wait $pid
st=$?
# (A run the signal came too late for ended by itself: nothing to resume.)
[ "$st" -eq 0 ] ||
  "$SLUICE" run "${BS[@]}" p.yaml -t "$tgt" --storage-backend here --no-progress >stop2.log 2>&1
is $? 0 "a run stopped with SIGINT (status $st) runs again to the end"
same_as_ref "$tgt" stopped "and the graph equals the uninterrupted run's"

# Stopped after the extractor read everything, while the writer commits
# the last of it: the final position ("done") is acknowledged after the
# extractor ended, and the stopped run saves it, so the run started again
# has nothing left to do (it used to start a new load: every CREATE
# relationship twice). One write batch: the writer commits only at the end.
tgt=$(target late)
rm -rf objects
"$SLUICE" run "${BS[@]}" p.yaml -t "$tgt" --storage-backend here --checkpoint-interval 100 \
  --batch-size 100000 --no-progress -vv >late.log 2>&1 &
pid=$!
for _ in $(seq 1 500); do
  grep -q "reading in/part3.jsonl.gz" late.log && break
  sleep 0.01
done
sleep 0.3
kill -INT $pid 2>/dev/null
wait $pid
st=$?
obj=$(find objects -name extractor_progress_checkpoint 2>/dev/null)
if [ "$st" -ne 0 ] && [ -n "$obj" ] && grep -q '"done":true' "$obj"; then
  "$SLUICE" run "${BS[@]}" p.yaml -t "$tgt" --storage-backend here --no-progress -v >late2.log 2>&1
  is $? 0 "a run stopped after its last commit runs again"
  grep -q "nothing is left to read" late2.log
  ok $? "and finds nothing left to do"
else
  # The signal came before the extractor ended (or after the run ended).
  [ "$st" -eq 0 ] ||
    "$SLUICE" run "${BS[@]}" p.yaml -t "$tgt" --storage-backend here --no-progress >late2.log 2>&1
  is $? 0 "a run stopped near its end (status $st) runs again"
  echo "# SKIP the signal did not land between the extractor's end and the last commit"
fi
same_as_ref "$tgt" late "and the graph equals the uninterrupted run's"

# --- the checkpoint object, --from-start, errors -----------------------------
tgt=$(target one)
rm -rf objects
"$SLUICE" run "${BS[@]}" p.yaml -t "$tgt" --storage-backend here --checkpoint-interval 0.01 \
  --no-progress >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 200); do
  [ -n "$(find objects -name extractor_progress_checkpoint 2>/dev/null)" ] && break
  sleep 0.01
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
obj=$(find objects -name extractor_progress_checkpoint)
sum=$(sha256sum p.yaml | cut -c1-64)
case "$obj" in
  "objects/p-$sum/0/extractor_progress_checkpoint") st=0 ;;
  *) st=1; echo "# found: '$obj'" ;;
esac
ok $st "the checkpoint is objects/<stem>-<sha256 of the file>/<step>/extractor_progress_checkpoint"
grep -Eq '^\{"run":"[0-9a-f]{32}","input":[0-9]+,"name":"in/part[0-9].jsonl(.gz)?","line":[0-9]+\}$' "$obj"
ok $? "it holds the run, the input and the line"
cp "$obj" saved.ckpt

"$SLUICE" run "${BS[@]}" p.yaml -t "$tgt" --storage-backend here --from-start \
  --no-progress -v >fs.log 2>&1
is $? 0 "--from-start runs"
has fs.log "is ignored" "--from-start says the checkpoint is ignored"
if [ "$KIND" = sqlite ]; then
  "$SLUICE" export "$tgt" | strip /dev/stdin >fs.txt
  ok $([ "$(grep -c '"rel":"BY"' fs.txt)" -gt 10000 ] && echo 0 || echo 1) \
    "--from-start writes the CREATE relationships again (a new run)"
fi
[ -z "$(find objects -name extractor_progress_checkpoint)" ]
ok $? "a finished run deletes its checkpoint"

# A stop signal once the run has ended (it no longer catches signals) and
# its checkpoint is gone must not end the process as stopped: a run
# started again, as that status asks, would load everything again.
rm -rf objects
SLUICE_TEST_SIGNAL_AT_END=1 "$SLUICE" run "${BS[@]}" p.yaml -t "$(target late_signal)" \
  --storage-backend here --no-progress -q
is $? 0 "a stop signal after the end of a run leaves its status 0"

# Inputs changed since the checkpoint.
mkdir -p "$(dirname "$obj")"
cp saved.ckpt "$obj"
mv in/part0.jsonl in/part0.moved
tgt=$(target changed)
"$SLUICE" run "${BS[@]}" p.yaml -t "$tgt" --storage-backend here --no-progress >ch.log 2>&1
st=$?
mv in/part0.moved in/part0.jsonl
ok $([ $st -ne 0 ] && echo 0 || echo 1) "inputs changed since the checkpoint: the run fails"
has ch.log "the inputs changed since" "and says the inputs changed"
has ch.log "--from-start" "and how to start over"

printf 'garbage' >"$obj"
"$SLUICE" run "${BS[@]}" p.yaml -t "$tgt" --storage-backend here --no-progress >gb.log 2>&1
ok $([ $? -ne 0 ] && echo 0 || echo 1) "a damaged checkpoint fails the run"
has gb.log "extractor_progress_checkpoint" "naming the checkpoint"
has gb.log "expected a sluice checkpoint" "saying what was expected"

# Nodestream's own checkpointing extractor, the IterableExtractor (range):
# killed after its first checkpoint, resumed, the same graph.
cat >r.yaml <<'EOF'
- implementation: nodestream.pipeline:IterableExtractor
  factory: range
  arguments: {stop: 60000}
- implementation: nodestream.interpreting:Interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: N
        key: {i: !jmespath index}
      - type: relationship
        node_type: M
        relationship_type: TO
        node_key: {m: !jmespath 'index'}
        relationship_creation_rule: CREATE
EOF
rref=$(target rref)
"$SLUICE" run "${BS[@]}" r.yaml -t "$rref" --no-progress -q
"$SLUICE" export "$rref" >rref.jsonl
strip rref.jsonl >rref.txt
rk=$(target rk)
rm -rf objects
"$SLUICE" run "${BS[@]}" r.yaml -t "$rk" --storage-backend here --checkpoint-interval 0.01 \
  --no-progress >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 500); do
  [ -n "$(find objects -name extractor_progress_checkpoint 2>/dev/null)" ] && break
  sleep 0.01
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
st=$?
"$SLUICE" run "${BS[@]}" r.yaml -t "$rk" --storage-backend here --no-progress -v >rr.log 2>&1
is $? 0 "a range run killed (status $st) runs again"
[ "$st" -ne 137 ] || has rr.log "resuming from a checkpoint: range, after line" \
  "and resumes after the records it did"
"$SLUICE" export "$rk" >rk.jsonl
strip rk.jsonl >rk.txt
cmp -s rref.txt rk.txt
ok $? "the IterableExtractor's graph equals an uninterrupted run's"

"$SLUICE" run "${BS[@]}" p.yaml -t "$tgt" --storage-backend nosuch --no-progress >ns.log 2>&1
ok $([ $? -ne 0 ] && echo 0 || echo 1) "an unknown store name fails the run"
has ns.log "nosuch" "naming it"
done_testing
