#!/usr/bin/env bash
# `sluice run --threads N` end to end: the same graph (sluice export, the
# timestamps cut), the same summary and the same log lines with 1, 2 and 5
# threads, on input with bad lines, blank lines, skipped records, a
# gzip-compressed file, a truncated one and a file that is not there; and
# the same failure under --strict.
#
# usage: test_threads_cli.sh path/to/sluice
set -u
. "$(cd "$(dirname "$0")" && pwd)/tap.sh"
. "$(cd "$(dirname "$0")" && pwd)/graph_lib.sh"
SLUICE=$(realpath "$1")
SRC=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d /tmp/sluice-threads-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

python3 "$SRC/bench/graph_workload.py" gen 6000 >/dev/null || exit 1
mkdir data
# a.jsonl: 2000 records with a bad line, a blank line and a record whose
# key is null (the Interpreter skips it) in the middle.
{
  head -n 1000 gen/workload.jsonl
  echo '{"id": 1, "name": oops}'
  echo
  echo '   '
  echo '{"id": null, "name": "no key", "skills": []}'
  sed -n 1001,2000p gen/workload.jsonl
} >data/a.jsonl
# b.jsonl.gz: 3000 records, compressed.
sed -n 2001,5000p gen/workload.jsonl | gzip -c >data/b.jsonl.gz
# c.jsonl.gz: 1000 records, cut short in the middle.
sed -n 5001,6000p gen/workload.jsonl | gzip -c >c.gz
head -c $(($(stat -c %s c.gz) / 2)) c.gz >data/c.jsonl.gz
sed -e "s|- .*workload.jsonl|- data/*.jsonl*|" gen/pipeline.yaml >p.yaml
grep -q 'data/\*.jsonl\*' p.yaml || exit 1

# norm FILE: the log without timestamps, timings, rates and the
# process's usage.
norm() {
  sed -E 's/^[0-9T:.Z-]+ //; s/[0-9]+ records\/s//; s/after [0-9.]+ s//; s/g[0-9]\.db/g.db/
    /^  wall [0-9.]+ s, CPU /d
    s/: [0-9.]+ s mean \(p99 [^)]*\), [0-9.]+ s in all; ([0-9]+ commits?), [0-9.]+ s;/: \1;/' "$1"
}

for t in 1 2 5; do
  "$SLUICE" run p.yaml --target "sqlite:g$t.db" --no-progress \
    --batch-size 64 --threads "$t" >"out$t.txt" 2>&1
  echo $? >"rc$t"
  "$SLUICE" export "sqlite:g$t.db" >"e$t.jsonl" 2>/dev/null
  strip "e$t.jsonl" >"s$t.jsonl"
  norm "out$t.txt" >"n$t.txt"
done
is "$(cat rc1)" 0 "1 thread: the run completes"
has out1.txt "data/a.jsonl:1001:" "the bad line is reported by file:line"
has out1.txt "giving up the rest of data/c.jsonl.gz" \
  "the truncated file is reported"
has out1.txt "has an empty or null key" "the null key is skipped"
ok $(($(wc -l <s1.jsonl) > 5000 ? 0 : 1)) \
  "a graph was written ($(wc -l <s1.jsonl) lines)"
for t in 2 5; do
  is "$(cat rc$t)" 0 "$t threads: the run completes"
  cmp -s s1.jsonl "s$t.jsonl"
  ok $? "$t threads: the same graph as 1 thread"
  cmp -s n1.txt "n$t.txt"
  ok $? "$t threads: the same log and summary, line for line"
  [ $? -eq 0 ] || diff n1.txt "n$t.txt" | head -10 | sed 's/^/#   /'
done

# With threads, the writer's records arrive read ahead (its prepare runs
# on the workers); with one thread, none do.
for t in 1 2; do
  "$SLUICE" run p.yaml --target "sqlite:v$t.db" --no-progress -vv \
    --threads "$t" >"v$t.txt" 2>&1
  grep -o '[0-9]* records arrived read ahead' "v$t.txt" | cut -d' ' -f1 >"ra$t"
done
is "$(cat ra1)" 0 "1 thread: no record read ahead"
ok $(($(cat ra2) > 5000 ? 0 : 1)) \
  "2 threads: the records are read ahead ($(cat ra2))"

# One run's timestamps: every node written in the same 2-second window
# carries the same text, whichever thread made it (so no two texts fall in
# one window).
grep -o '"last_ingested_at":"[^"]*"' e5.jsonl | sort -u >stamps.txt
python3 - stamps.txt <<'EOF'
import datetime, sys
windows = []
for line in open(sys.argv[1]):
    text = line.split('"')[3]
    t = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    windows.append(int(t.replace(tzinfo=datetime.timezone.utc).timestamp()) // 2)
assert windows and len(windows) == len(set(windows)), windows
EOF
ok $? "5 threads: one timestamp per 2-second window ($(wc -l <stamps.txt))"

# --strict: the first bad line fails the run, after the records before it.
for t in 1 3; do
  "$SLUICE" run p.yaml --target "sqlite:x$t.db" --no-progress --strict \
    --batch-size 64 --threads "$t" >"strict$t.txt" 2>&1
  echo $? >"src$t"
  "$SLUICE" export "sqlite:x$t.db" 2>/dev/null >"xe$t.jsonl"
  strip "xe$t.jsonl" >"xs$t.jsonl"
done
is "$(cat src1)" 1 "--strict, 1 thread: the run fails"
is "$(cat src3)" 1 "--strict, 3 threads: the run fails"
has strict3.txt "data/a.jsonl:1001:" "... at the bad line"
is "$(grep -c 'failed in' strict1.txt)" "$(grep -c 'failed in' strict3.txt)" \
  "the same failure messages"
cmp -s xs1.jsonl xs3.jsonl
ok $? "the same records were written before the failure ($(wc -l <xs1.jsonl) lines)"

# A writer that is not the last step passes its records on: with
# threads they are read ahead for it, but their shape must stay for the
# next writer (only the last step's may go back early).
{
  cat p.yaml
  for w in first second; do
    printf -- '- implementation: nodestream.databases:GraphDatabaseWriter\n'
    printf '  arguments:\n    batch_size: 64\n    database: sqlite\n'
    printf '    path: %s.db\n' "$w"
  done
} >two.yaml
for t in 1 2; do
  rm -rf "tw$t" && mkdir "tw$t" && cp -r data two.yaml "tw$t/"
  (cd "tw$t" && "$SLUICE" run two.yaml --no-progress --threads "$t" \
    >out.txt 2>&1)
  echo $? >"twrc$t"
  for w in first second; do
    "$SLUICE" export "sqlite:tw$t/$w.db" 2>/dev/null >"tw$t-$w.jsonl"
    strip "tw$t-$w.jsonl" >"tws$t-$w.jsonl"
  done
done
is "$(cat twrc1) $(cat twrc2)" "0 0" "two writers in a row: both runs complete"
ok $(($(wc -l <tws1-first.jsonl) > 5000 ? 0 : 1)) \
  "1 thread: the first writer wrote the graph ($(wc -l <tws1-first.jsonl) lines)"
cmp -s tws1-first.jsonl tws1-second.jsonl &&
  cmp -s tws1-first.jsonl tws2-first.jsonl &&
  cmp -s tws1-first.jsonl tws2-second.jsonl
ok $? "2 threads: both writers write the graph of 1 thread"

# Records that are already desired ingestions, straight from the file to
# the writer: read ahead in the parse jobs, all but one, which the writer
# reads itself and fails on, after the ones before it.
python3 - <<'PY'
import json
with open("ing.jsonl", "w") as f:
    for i in range(3000):
        rec = {"source": {"type": "Player", "key": {"id": i},
                          "props": {"name": "p%d" % i}},
               "rels": [{"type": "PLAYS_FOR",
                         "node": {"type": "Team",
                                  "key": {"name": "t%d" % (i % 50)}}}]}
        if i == 2500:
            rec = {"source": {"type": "Player"}, "rels": []}
        f.write(json.dumps(rec) + "\n")
PY
for t in 1 2; do
  cat >"ing$t.yaml" <<EOF
- implementation: nodestream.pipeline.extractors.files:FileExtractor
  factory: local
  arguments:
    globs:
      - ing.jsonl
- implementation: nodestream.databases:GraphDatabaseWriter
  arguments:
    batch_size: 100
    database: sqlite
    path: ing$t.db
EOF
  "$SLUICE" run "ing$t.yaml" --no-progress -vv --threads "$t" >"ing$t.txt" 2>&1
  echo $? >"irc$t"
  "$SLUICE" export "sqlite:ing$t.db" 2>/dev/null >"ie$t.jsonl"
  strip "ie$t.jsonl" >"is$t.jsonl"
  grep -o '[0-9]* records arrived read ahead' "ing$t.txt" | cut -d' ' -f1 >"ira$t"
done
is "$(cat irc1) $(cat irc2)" "1 1" "a record that is not an ingestion fails both runs"
has ing2.txt "ing.jsonl:2501: expected a desired ingestion" \
  "... naming its line"
ok $(($(cat ira2) > 0 ? 0 : 1)) "2 threads: records read ahead ($(cat ira2))"
ok $(($(wc -l <is1.jsonl) > 2000 ? 0 : 1)) \
  "the records before it were written ($(wc -l <is1.jsonl) lines)"
cmp -s is1.jsonl is2.jsonl
ok $? "2 threads: the same graph as 1 thread"

# Bad --threads values.
"$SLUICE" run p.yaml --threads 0 >bad.txt 2>&1
is $? 2 "--threads 0 is refused"
has bad.txt "--threads" "... naming the option"
"$SLUICE" run p.yaml --threads 65 >bad.txt 2>&1
is $? 2 "--threads 65 is refused"

done_testing
