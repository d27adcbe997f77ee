#!/usr/bin/env bash
# `sluice run` and `sluice validate` end to end, with real files: every
# built-in step, formats and compression through the FileExtractor,
# on_error, start and process failures, SIGINT/SIGTERM (and a second
# signal), the progress and summary output, and the command-line errors.
#
# usage: test_cli.sh path/to/sluice
set -u
. "$(cd "$(dirname "$0")" && pwd)/tap.sh"
SLUICE=$(realpath "$1")
T=$(mktemp -d /tmp/sluice-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1


# --- range -> print ------------------------------------------------------
cat >range.yaml <<'EOF'
- implementation: nodestream.pipeline:IterableExtractor
  factory: range
  arguments: {start: 3, stop: 2503, step: 5}
- implementation: print
  arguments: {path: out.jsonl}
EOF
"$SLUICE" run range.yaml --no-progress >stdout.txt 2>stderr.txt
is $? 0 "range -> print succeeds"
is "$(wc -l <out.jsonl)" 500 "500 records printed"
is "$(head -1 out.jsonl)" '{"index":3}' "first record"
is "$(tail -1 out.jsonl)" '{"index":2498}' "last record"
is "$(wc -c <stdout.txt)" 0 "nothing on stdout when printing to a file"
has stderr.txt "range.yaml: finished" "summary says finished"
has stderr.txt "0:IterableExtractor" "summary names the steps"
grep -E '1:Print +500 +500 +0 +0' stderr.txt >/dev/null
ok $? "summary counts in and out per step"

"$SLUICE" validate range.yaml >v.txt 2>&1
is $? 0 "validate accepts it"
has v.txt "ok, 2 steps: 0:IterableExtractor 1:Print" "validate lists the steps"

# --- print to stdout, batch and outbox options -----------------------------
cat >stdout.yaml <<'EOF'
- implementation: range
  arguments: {stop: 10000}
- implementation: print
EOF
"$SLUICE" run stdout.yaml --batch-size 7 --step-outbox-size 3 --no-progress \
  >out.txt 2>err.txt
is $? 0 "tiny batches and outboxes work"
is "$(wc -l <out.txt)" 10000 "every record on stdout"
is "$(sort -u out.txt | wc -l)" 10000 "no duplicates"
python3 - out.txt <<'EOF'
import json, sys
xs = [json.loads(l)["index"] for l in open(sys.argv[1])]
sys.exit(0 if xs == list(range(10000)) else 1)
EOF
ok $? "in order"

# --- FileExtractor: formats, compression, globs ---------------------------
mkdir -p data/sub
printf '{"a":1}\n{"a":2}\n' >data/one.jsonl
printf 'x,y\n1,"two, three"\n4,5\n' >data/two.csv
printf 'hello\nworld\n' >data/sub/three.txt
printf '{"doc": [1, 2]}' >data/sub/four.json
printf 'k: v\nn: 1\n' >data/sub/five.yaml
printf '{"z":"gz"}\n' | gzip >data/six.jsonl.gz
printf '{"z":"zst"}\n' | zstd -q >data/seven.jsonl.zst
printf '{"z":"bz2"}\n' | bzip2 >data/eight.jsonl.bz2
cat >files.yaml <<'EOF'
- implementation: nodestream.pipeline.extractors.files:FileExtractor
  factory: local
  arguments:
    globs:
      - data/**/*.jsonl*
      - data/**/*.csv
      - data/sub/*
- implementation: print
  arguments: {canonical: true}
EOF
"$SLUICE" run files.yaml --no-progress >out.txt 2>err.txt
is $? 0 "the FileExtractor reads every format"
cat >want.txt <<'EOF'
{"z":"bz2"}
{"a":1}
{"a":2}
{"z":"zst"}
{"z":"gz"}
{"k":"v","n":1}
{"doc":[1,2]}
{"line":"hello"}
{"line":"world"}
{"x":"1","y":"two, three"}
{"x":"4","y":"5"}
EOF
diff want.txt out.txt >diff.txt
ok $? "records of every file, files in sorted order"
cat diff.txt | sed 's/^/#   /'

cat >sources.yaml <<'EOF'
- implementation: nodestream.pipeline.extractors:FileExtractor
  arguments:
    sources:
      - type: local
        globs: [data/two.csv]
- implementation: print
EOF
"$SLUICE" run sources.yaml --no-progress >out.txt 2>err.txt
is $? 0 "sources: [{type: local}] form"
is "$(wc -l <out.txt)" 2 "its records"

cat >none.yaml <<'EOF'
- implementation: file
  factory: local
  arguments: {globs: [nothing/*.csv]}
- implementation: print
EOF
"$SLUICE" run none.yaml --no-progress >out.txt 2>err.txt
is $? 0 "no files found is not an error"
has err.txt "no files found for glob 'nothing/*.csv'" "but a warning"

# --- stdin ---------------------------------------------------------------
cat >stdin.yaml <<'EOF'
- implementation: stdin
  arguments: {format: csv, compression: gzip, delimiter: ";"}
- implementation: print
EOF
printf 'a;b\n1;2\n' | gzip | "$SLUICE" run stdin.yaml --no-progress \
  >out.txt 2>err.txt
is $? 0 "stdin with format, compression and delimiter"
is "$(cat out.txt)" '{"a":"1","b":"2"}' "stdin record"

# --- bad input: on_error ---------------------------------------------------
printf '{"ok":1}\n{bad\n{"ok":2}\n[1,\n{"ok":3}\n' >bad.jsonl
cat >fail.yaml <<'EOF'
- implementation: file
  factory: local
  arguments: {globs: [bad.jsonl]}
- implementation: print
EOF
"$SLUICE" run fail.yaml --no-progress >out.txt 2>err.txt
is $? 0 "bad records are skipped by default (as in Nodestream)"
is "$(wc -l <out.txt)" 3 "the good records, also those after a bad one"
has err.txt "skipped: bad.jsonl:2:2" "a warning names file:line:column"
grep -E '0:FileExtractor +0 +3 +2 +2' err.txt >/dev/null
ok $? "the summary counts them as errors and skipped"
has err.txt "skipped 2 records" "skips are counted in the summary"
has err.txt "bad.jsonl:4:" "and their locations listed"
"$SLUICE" run fail.yaml --no-progress --strict >out.txt 2>err.txt
is $? 1 "--strict: a bad record fails the run"
has err.txt "bad.jsonl:2:2" "the error names file:line:column"
is "$(cat out.txt)" '{"ok":1}' "what was read before is printed"
sed 's/globs: \[bad.jsonl\]/globs: [bad.jsonl], on_error: fail/' fail.yaml \
  >strict.yaml
"$SLUICE" run strict.yaml --no-progress >out.txt 2>err.txt
is $? 1 "on_error: fail fails the run at the first bad record"
is "$(cat out.txt)" '{"ok":1}' "... after printing what was read before"
sed 's/globs: \[bad.jsonl\]/globs: [bad.jsonl], on_error: skip/' fail.yaml \
  >skip.yaml
"$SLUICE" run skip.yaml --no-progress --strict >out.txt 2>err.txt
is $? 1 "--strict wins over on_error: skip"
printf 'x\n' >notes.unknown
printf 'not gzip' >broken.jsonl.gz
cat >files.yaml <<'EOF'
- implementation: file
  factory: local
  arguments: {globs: ['*.unknown', '*.gz', bad.jsonl]}
- implementation: print
EOF
"$SLUICE" run files.yaml --no-progress >out.txt 2>err.txt
is $? 0 "a file of unknown suffix and a corrupt .gz are skipped"
is "$(wc -l <out.txt)" 3 "... the other file is read"
has err.txt "skipping the file: notes.unknown: cannot tell the record format" "the unknown suffix is named"
has err.txt "giving up the rest of broken.jsonl.gz" "the corrupt file is named"
grep -E '0:FileExtractor +0 +3 +4 +4' err.txt >/dev/null
ok $? "every skip is counted"
"$SLUICE" run files.yaml --no-progress --strict >out.txt 2>err.txt
is $? 1 "--strict: the unknown suffix fails the run"

# --- failures: start, unknown step, bad arguments --------------------------
cat >startfail.yaml <<'EOF'
- implementation: range
  arguments: {stop: 100000000}
- implementation: print
  arguments: {path: /nonexistent/dir/out.jsonl}
EOF
timeout 20 "$SLUICE" run startfail.yaml --no-progress >out.txt 2>err.txt
is $? 1 "a step failing in start fails the run without hanging"
has err.txt "step 1:Print failed in start" "the error names the step"
has err.txt "/nonexistent/dir/out.jsonl" "and the cause"
grep -E '0:IterableExtractor +0 +0 ' err.txt >/dev/null
ok $? "no record was extracted"

cat >unknown.yaml <<'EOF'
- implementation: range
  factory: range

- implementation: nodestream.pipeline.extractors:NoSuchThing
  arguments: {}
EOF
"$SLUICE" validate unknown.yaml >out.txt 2>err.txt
is $? 1 "validate rejects an unknown implementation"
has err.txt "unknown.yaml:4:" "naming file:line"
has err.txt "NoSuchThing" "and the name"
has err.txt "known steps: file, stdin, range, print" "and the known names"

cat >badargs.yaml <<'EOF'
- implementation: range
  factory: range
  arguments:
    stop: 10
    stpe: 2
EOF
"$SLUICE" validate badargs.yaml >out.txt 2>err.txt
is $? 1 "an unknown argument is an error"
has err.txt "badargs.yaml:5:5" "at its position"
has err.txt "unknown argument 'stpe'" "named"

cat >badfactory.yaml <<'EOF'
- implementation: range
  factory: rnage
EOF
"$SLUICE" validate badfactory.yaml >out.txt 2>err.txt
is $? 1 "an unknown factory is an error"
has err.txt "has no factory 'rnage'; it has: range" "listing the factories"

# --- annotations ------------------------------------------------------------
cat >annot.yaml <<'EOF'
- implementation: range
  arguments: {stop: 3}
  annotations: [test]
- implementation: range
  arguments: {stop: 5}
  annotations: [live]
- implementation: print
EOF
"$SLUICE" validate annot.yaml -a live >out.txt 2>&1
has out.txt "ok, 2 steps" "-a selects the annotated steps"
"$SLUICE" run annot.yaml -a test --no-progress >out.txt 2>err.txt
is "$(wc -l <out.txt)" 3 "the test extractor ran"

# --- --json -----------------------------------------------------------------
"$SLUICE" run skip.yaml --json >out.txt 2>err.txt
is $? 0 "--json run"
python3 - err.txt <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
s = [l for l in lines if l.get("event") == "summary"]
assert len(s) == 1, s
s = s[0]
assert s["status"] == "ok"
assert s["steps"][0]["skipped"] == 2 and s["steps"][0]["out"] == 3
assert len(s["steps"][0]["skips"]) == 2
assert "bad.jsonl:2:" in s["steps"][0]["skips"][0]
assert any(l.get("level") == "warn" for l in lines)
EOF
ok $? "--json: every stderr line is JSON, with a summary"

# --- signals ----------------------------------------------------------------
mkfifo fifo
cat >sig.yaml <<'EOF'
- implementation: stdin
- implementation: print
  arguments: {path: sigout.jsonl}
EOF
for sig in INT TERM; do
  want=130; [ $sig = TERM ] && want=143
  # The writer keeps the fifo open, so stdin never ends by itself.
  (printf '{"r":1}\n{"r":2}\n'; sleep 30) >fifo &
  writer=$!
  "$SLUICE" run sig.yaml --no-progress <fifo >out.txt 2>err.txt &
  pid=$!
  for _ in $(seq 50); do
    [ -s sigout.jsonl ] || grep -q . err.txt 2>/dev/null && break
    sleep 0.1
  done
  sleep 0.5
  kill -$sig $pid
  wait $pid
  is $? $want "SIG$sig stops the run with exit $want"
  has err.txt "stopped by" "the summary says it was stopped"
  is "$(wc -l <sigout.jsonl)" 2 "records read before the signal were written"
  kill $writer 2>/dev/null; wait $writer 2>/dev/null
done

cat >slow.yaml <<'EOF'
- implementation: range
  arguments: {stop: 1000000000}
- implementation: print
  arguments: {path: /dev/null}
EOF
"$SLUICE" run slow.yaml --no-progress >out.txt 2>err.txt &
pid=$!
sleep 0.5
kill -INT $pid
wait $pid
is $? 130 "SIGINT stops an endless extractor"
grep -E '0:IterableExtractor +0 +([0-9]+) ' err.txt >/dev/null
ok $? "the summary counts what was extracted"
out0=$(awk '$1 == "0:IterableExtractor" {print $3}' err.txt)
in1=$(awk '$1 == "1:Print" {print $2}' err.txt)
is "$in1" "$out0" "everything extracted was drained to the last step"

# --- progress -----------------------------------------------------------------
"$SLUICE" run slow.yaml --progress-interval 0.1 >out.txt 2>err.txt &
pid=$!
sleep 0.7
kill -INT $pid
wait $pid
n_progress=$(grep -c 'progress: [0-9]* records, [0-9]* records/s' err.txt)
[ "$n_progress" -ge 3 ]
ok $? "off a terminal, progress comes as log lines ($n_progress)"
"$SLUICE" run slow.yaml --json --progress-interval 0.1 >out.txt 2>err.txt &
pid=$!
sleep 0.7
kill -TERM $pid
wait $pid
is $? 143 "--json run stopped by SIGTERM"
python3 - err.txt <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert sum("progress:" in l.get("msg", "") for l in lines) >= 3
s = [l for l in lines if l.get("event") == "summary"][0]
assert s["status"] == "stopped" and s["signal"] == 15, s
EOF
ok $? "--json: progress and summary are JSON, the summary says stopped"
# On a terminal (script gives one), the line is redrawn in place.
script -qefc "timeout -s INT 1 '$SLUICE' run slow.yaml" tty.txt >/dev/null 2>&1
grep -q $'\r\033\[K[0-9]* records  [0-9]* records/s' tty.txt
ok $? "on a terminal the progress line is redrawn in place"
"$SLUICE" run range.yaml --progress-interval 0 >out.txt 2>err.txt
is $? 2 "a zero progress interval is refused"

# --- the Interpreter -----------------------------------------------------------
mkdir -p air
cat >air/data.csv <<'EOF'
ident,name,iso_country
00A,Total Rf,US
,No Ident,US
00B,Other,
EOF
cat >air/airports.yaml <<'EOF'
- implementation: nodestream.pipeline.extractors:FileExtractor
  factory: local
  arguments: {globs: [air/data.csv]}
- implementation: nodestream.interpreting:Interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: Airport
        key: {identifier: !regex {regex: '^[0-9A-Z]+$', data: !jmespath ident}}
        properties: {name: !jmespath name}
      - type: relationship
        node_type: Country
        relationship_type: WITHIN
        node_key: {code: !cast {data: !jmespath iso_country, to: int}}
        condition: {type: compare, left: !jmespath iso_country, operator: equals, right: US}
- implementation: print
EOF
"$SLUICE" run air/airports.yaml --no-progress >out.jsonl 2>err.txt
is $? 1 "a provider failing at run time fails the run"
has err.txt "air/data.csv:2: interpretation 2 (relationship) at air/airports.yaml:11" \
  "the error names the record's file:line and the interpretation"
has err.txt "invalid literal for int() with base 10: 'US'" "and the cause"
sed -i 's/!cast {data: !jmespath iso_country, to: int}/!jmespath iso_country/' air/airports.yaml
"$SLUICE" run air/airports.yaml --no-progress >out.jsonl 2>err.txt
is $? 0 "interpreting airports succeeds"
is "$(wc -l <out.jsonl)" 2 "one ingestion per record with a key; the one without is skipped"
has out.jsonl '"key":{"identifier":"00a"}' "keys are lowercased"
has out.jsonl '"was_ingested_by_airports":true' "the pipeline name is the file stem"
has out.jsonl '"node":{"type":"Country","labels":[],"key":{"code":"us"}' "the relationship's node"
grep -E '1:Interpreter +3 +2 +0 +1' err.txt >/dev/null
ok $? "the summary counts the skipped ingestion"
has err.txt "air/data.csv:3: the source node Airport has an empty or null key" "and says where"
cat >air/bad.yaml <<'EOF'
- implementation: interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: A
        key: {id: !jmespath 'a[?'}
EOF
"$SLUICE" validate air/bad.yaml >out.txt 2>err.txt
is $? 1 "validate refuses a malformed expression"
has err.txt "air/bad.yaml:6:19: key: !jmespath 'a[?': column 4: expected an expression" "at its file:line:column, and the column in the expression"
"$SLUICE" help steps >out.txt
has out.txt "nodestream.interpreting:Interpreter" "help steps lists the Interpreter"
has out.txt "nodestream.pipeline.filters:ValueMatchesRegexFilter" "and the filters"

# --- command-line errors ------------------------------------------------------
"$SLUICE" run >out.txt 2>err.txt
is $? 2 "run without a file is a usage error"
has err.txt "no pipeline file given and no nodestream.yaml here" "saying what is missing"
"$SLUICE" run range.yaml --batch-size 0 >out.txt 2>err.txt
is $? 2 "a zero batch size is refused"
has err.txt "--batch-size expects a whole number" "with a message"
"$SLUICE" run missing.yaml >out.txt 2>err.txt
is $? 1 "a missing pipeline file fails"
has err.txt "missing.yaml" "naming it"
"$SLUICE" --version >out.txt
has out.txt "sluice " "--version"
"$SLUICE" --help >out.txt
has out.txt "run PIPELINE.yaml" "--help lists run"
"$SLUICE" help steps >out.txt
has out.txt "nodestream.pipeline.extractors:FileExtractor" "help steps"

# --- Nodestream's pass-through and logging steps ------------------------------
cat >pass.yaml <<'YAML'
- implementation: nodestream.pipeline:IterableExtractor
  factory: range
  arguments: {stop: 3}
- implementation: nodestream.pipeline:PassStep
  arguments: {anything: 1, goes: [2]}
- implementation: nodestream.pipeline.transformers:PassTransformer
- implementation: nodestream.pipeline:LoggerWriter
  arguments: {logger_name: mylog, level: WARNING}
- implementation: print
YAML
"$SLUICE" run pass.yaml >out.txt 2>err.txt
is $? 0 "PassStep, PassTransformer and LoggerWriter run"
has out.txt '{"index":2}' "the records pass through"
has err.txt 'warn  [3:LoggerWriter] mylog: {"index":1}' "LoggerWriter logs each at its level"
cat >lacks.yaml <<'YAML'
- implementation: nodestream.pipeline:IterableExtractor
  factory: range
  arguments: {stop: 3}
- implementation: nodestream.pipeline.extractors.stores.aws:DynamoDBExtractor
YAML
"$SLUICE" run lacks.yaml >out.txt 2>err.txt
is $? 1 "a Nodestream step sluice lacks fails the load"
has err.txt "lacks.yaml:4:3: implementation: Nodestream's step 'nodestream.pipeline.extractors.stores.aws:DynamoDBExtractor' (nodestream.pipeline.extractors.stores.aws.dynamodb_extractor:DynamoDBExtractor) is not available in sluice yet" "saying so, with file and line"

# SchemaEnforcer: the first 2 records give the schema; record 3 is the
# first checked.
printf '{"id":1,"name":"a"}\n{"id":2,"name":"b"}\n{"id":"x","name":"c"}\n{"id":4}\n{"id":5.0,"name":"e"}\n' >schema.jsonl
cat >enforce.yaml <<'YAML'
- implementation: nodestream.pipeline.extractors:FileExtractor
  factory: local
  arguments: {globs: [schema.jsonl]}
- implementation: nodestream.pipeline.filters:SchemaEnforcer
  arguments: {inference_sample_size: 2}
- implementation: print
YAML
"$SLUICE" run enforce.yaml >out.txt 2>err.txt
is $? 0 "SchemaEnforcer runs"
is "$(tr -d '\n' <out.txt)" '{"id":1,"name":"a"}{"id":2,"name":"b"}{"id":5.0,"name":"e"}' "records that do not match the inferred schema are dropped"
has err.txt 'schema.jsonl:3: schema validation failed, record dropped (enforce): at $.id: "x" is not of type '"'integer'" "naming the record and what failed"
has err.txt "schema.jsonl:4: schema validation failed, record dropped (enforce): at \$: 'name' is a required property" "a missing key too"
has err.txt "1:SchemaEnforcer skipped 2 records" "counted as skipped"
sed 's/inference_sample_size: 2}/inference_sample_size: 2, enforcement_policy: warn}/' enforce.yaml >warn.yaml
"$SLUICE" run warn.yaml >out.txt 2>err.txt
is $? 0 "SchemaEnforcer warns"
is "$(wc -l <out.txt)" 5 "every record passes in warn mode"
has err.txt "schema.jsonl:3: schema validation failed, record kept (warn)" "with a warning"
sed 's/inference_sample_size: 2}/inference_sample_size: 3}/' enforce.yaml >three.yaml
"$SLUICE" run three.yaml >out.txt 2>err.txt
is "$(wc -l <out.txt)" 4 "with 3 samples, record 3 shapes the schema and record 4 is dropped"
sed 's/inference_sample_size: 2}/key: stored}/' enforce.yaml >key.yaml
"$SLUICE" run key.yaml >out.txt 2>err.txt
is $? 1 "a schema from the object store fails the load"
has err.txt "key.yaml:5:20: arguments.key: a schema kept in Nodestream's object store ('stored') cannot be fetched: sluice has no object store; only schema inference is available" "saying only inference is available"

# --- load errors name the file and line; the load has a memory budget -----
"$SLUICE" run range.yaml --config /dev/zero >out.txt 2>err.txt
is $? 1 "--config /dev/zero fails"
has err.txt "--config: /dev/zero: larger than 16 MiB" "naming the option, the file and the cap"
cat >inczero.yaml <<'EOF'
- implementation: range
  arguments: !include /dev/zero
EOF
"$SLUICE" validate inczero.yaml >out.txt 2>err.txt
is $? 1 "!include /dev/zero fails"
has err.txt "inczero.yaml:2:14: !include: /dev/zero: larger than 64 MiB" "at the !include's place"
python3 - <<'EOF'
big = "x" * (1 << 20)
head = ("- implementation: nodestream.interpreting:Interpreter\n"
        "  arguments:\n    interpretations:\n      - type: properties\n"
        "        properties:\n          big: &A \"%s\"\n" % big)
open("alias200.yaml", "w").write(head + "".join(
    "          p%d: *A\n" % i for i in range(200)))
open("alias700.yaml", "w").write(head + "".join(
    "          p%d: *A\n" % i for i in range(700)))
EOF
"$SLUICE" validate alias200.yaml >out.txt 2>err.txt
is $? 0 "200 aliases of a 1 MiB string validate (3.3 GB and 14 s before)"
"$SLUICE" validate alias700.yaml >out.txt 2>err.txt
is $? 1 "700 aliases pass the load's memory budget"
has err.txt "alias700.yaml:6:16: " "the error names the file and line"
has err.txt "the memory budget of a load" "and the budget"

done_testing
