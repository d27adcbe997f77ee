#!/usr/bin/env bash
# `sluice copy` between SQLite targets as a user drives it (issue 17):
# everything (--all, or no project file), the project's schema types,
# --node, --relationship and --type with Nodestream's rules, usage
# errors, parallel relationships, and a graph much larger than the peak
# RSS of its copy. The PostgreSQL round trip is test_copy_pg.sh.
#
# usage: test_copy.sh path/to/sluice
set -u
. "$(cd "$(dirname "$0")" && pwd)/tap.sh"
. "$(cd "$(dirname "$0")" && pwd)/graph_lib.sh"
SLUICE=$(realpath "$1")
T=$(mktemp -d /tmp/sluice-copy-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

# A project whose graph holds Book, Author, WRITTEN_BY and Number.
"$SLUICE" new books >/dev/null 2>&1
(cd books && "$SLUICE" scaffold numbers >/dev/null 2>&1 &&
  sed -i 's/stop: 100000/stop: 2000/' pipelines/numbers.yaml &&
  "$SLUICE" run --no-progress -q >/dev/null 2>&1)
is $? 0 "a project with two pipelines, run"

# --- copy between SQLite targets ---------------------------------------
cd books || exit 1
"$SLUICE" copy --from graph --to sqlite:all.db --all >../out.txt 2>../err.txt
is $? 0 "copy --from TARGET-NAME --to URI --all"
has ../err.txt "Starting copy from sqlite:" "logs the start"
has ../err.txt "written: 2008 nodes (2008 new), 5 relationships (5 new" "and counts what it wrote"
"$SLUICE" export graph >../a.jsonl
"$SLUICE" export sqlite:all.db >../b.jsonl
cmp -s ../a.jsonl ../b.jsonl
ok $? "the copy exports the same lines, timestamps included"
"$SLUICE" copy --from graph --to sqlite:all.db --all -q >../out.txt 2>&1
"$SLUICE" export sqlite:all.db >../b2.jsonl
cmp -s ../a.jsonl ../b2.jsonl
ok $? "a second copy into it changes nothing (nodes and relationships merge)"
cp pipelines/numbers.yaml ../numbers.yaml
"$SLUICE" remove numbers >/dev/null 2>&1
"$SLUICE" copy --from graph --to sqlite:schema.db >../out.txt 2>../err.txt
is $? 0 "copy with the project's schema (Number no longer in it)"
"$SLUICE" export sqlite:schema.db >../b.jsonl
grep -v '"node":"Number"' ../a.jsonl | cmp -s - ../b.jsonl
ok $? "copies the schema's types: everything but the Number nodes"
"$SLUICE" scaffold numbers >/dev/null 2>&1
cp ../numbers.yaml pipelines/numbers.yaml
"$SLUICE" copy --from graph --to sqlite:num.db --node Number >../out.txt 2>../err.txt
is $? 0 "copy --node Number"
"$SLUICE" export sqlite:num.db >../b.jsonl
grep '"node":"Number"' ../a.jsonl | cmp -s - ../b.jsonl
ok $? "the Number nodes, nothing else"
"$SLUICE" copy --from graph --to sqlite:au.db --node Author >../out.txt 2>../err.txt
"$SLUICE" export sqlite:au.db >../b.jsonl
grep -v '"node":"Number"' ../a.jsonl | cmp -s - ../b.jsonl
ok $? "--node Author: Author, WRITTEN_BY (touches Author) and Book (its other end)"
"$SLUICE" copy --from graph --to sqlite:wb.db --type WRITTEN_BY --node Book >../out.txt 2>../err.txt
"$SLUICE" export sqlite:wb.db >../b.jsonl
grep -v '"node":"Number"' ../a.jsonl | cmp -s - ../b.jsonl
ok $? "--type WRITTEN_BY --node Book: the relationship type and both ends"
"$SLUICE" copy --from graph --to sqlite:un.db --node Number --relationship NONE >../out.txt 2>../err.txt
is $? 0 "an unknown type does not fail the copy"
has ../err.txt "Unknown relationship type 'NONE' - skipping" "it is skipped with a warning (as Nodestream)"
"$SLUICE" copy --from graph --to sqlite:x.db --all --node Book >../out.txt 2>../err.txt
is $? 2 "--all with --node is a usage error"
"$SLUICE" copy --from graph >../out.txt 2>../err.txt
is $? 2 "copy without --to is a usage error"
has ../err.txt "the project's: graph" "naming the project's targets"
"$SLUICE" copy --from graph --to graph >../out.txt 2>../err.txt
is $? 1 "copy onto itself fails"
"$SLUICE" copy --from nosuch --to sqlite:y.db >../out.txt 2>../err.txt
is $? 1 "copy from an unknown target fails"
"$SLUICE" copy --from sqlite:none.db --to sqlite:y.db >../out.txt 2>../err.txt
is $? 1 "copy from a SQLite file that does not exist fails"
[ ! -e y.db ] && [ ! -e none.db ]
ok $? "and creates neither file"
cd .. || exit 1
"$SLUICE" copy --from sqlite:books/graph.db --to sqlite:z.db --node Book >out.txt 2>err.txt
is $? 1 "--node without a project file fails"
has err.txt "name types of a project's schema" "saying why"

# Parallel relationships (CREATE) stay as many.
cat >par.yaml <<'EOF'
- implementation: range
  factory: range
  arguments: {stop: 5}
- implementation: interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: P
        key: {p: 1}
      - type: relationship
        node_type: Q
        relationship_type: LIKES
        node_key: {q: 1}
        relationship_creation_rule: CREATE
        relationship_properties: {n: !jmespath index}
EOF
"$SLUICE" run par.yaml -t sqlite:par.db --batch-size 1 --no-progress -q >/dev/null 2>&1
"$SLUICE" copy --from sqlite:par.db --to sqlite:par2.db -q >out.txt 2>&1
is $? 0 "copy without a project file: everything"
"$SLUICE" export sqlite:par.db >a.jsonl
"$SLUICE" export sqlite:par2.db >b.jsonl
is "$(grep -c LIKES b.jsonl)" 5 "5 parallel relationships stay 5"
"$SLUICE" copy --from sqlite:par.db --to sqlite:par3.db -j >out.txt 2>err.txt
is "$(tail -1 err.txt | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["copy"], d["nodes_read"], d["relationships_written"], d["relationships_created"])')" \
  "done 2 5 5" "-j: the summary is one JSON object"
cmp -s a.jsonl b.jsonl
ok $? "the same export"

# Bounded memory: a graph of ~240 MB of properties copies in far less.
# Under the sanitizers (SLUICE_COPY_LIGHT=1: ASan's shadow memory and
# quarantine) a smaller one, still more than the queue holds, and no RSS
# bound.
N=80000
[ -n "${SLUICE_COPY_LIGHT:-}" ] && N=8000
cat >big.yaml <<'EOF'
- implementation: range
  factory: range
  arguments: {stop: NNN}
- implementation: interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: B
        key: {i: !jmespath index}
        properties:
          pad: !format {fmt: '{v}-PAD', v: !jmespath index}
      - type: relationship
        node_type: B
        relationship_type: NEXT
        node_key: {i: !jmespath 'index'}
EOF
sed -i -e "s/PAD/$(printf 'x%.0s' $(seq 2500))/" -e "s/NNN/$N/" big.yaml
"$SLUICE" run big.yaml -t sqlite:big.db --no-progress -q >/dev/null 2>&1
is $? 0 "a graph of $N nodes with 2.5 KB properties"
size=$("$SLUICE" export sqlite:big.db | wc -c)
[ "$size" -gt $((N * 2500)) ]
ok $? "its export is $((size / 1000000)) MB"
/usr/bin/time -f '%M' -o rss.txt "$SLUICE" copy --from sqlite:big.db --to sqlite:big2.db >out.txt 2>&1
is $? 0 "copy it"
rss=$(tail -1 rss.txt)
echo "# peak RSS of the copy: $((rss / 1024)) MB"
# (the SQLite store's page cache is 64 MiB of it, the queue 8 MiB)
if [ -z "${SLUICE_COPY_LIGHT:-}" ]; then
  [ "$rss" -lt 150000 ]
  ok $? "in bounded memory: peak RSS $((rss / 1024)) MB < 150 MB"
fi
has out.txt "written: $N nodes ($N new), $N relationships ($N new" "all of it"

done_testing
