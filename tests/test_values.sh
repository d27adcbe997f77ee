#!/usr/bin/env bash
# Values a target cannot store, end to end against the private PostgreSQL
# server and real SQLite files (issue 20, defects 3 and 6):
#  - U+0000 in a string, a name, a type or a label, and ±Infinity or NaN,
#    where the store cannot hold them, cost their own record only: it is
#    skipped with its origin (file:line) and the value's place, counted,
#    and every other record loads; `--strict` and `on_error: fail` stop
#    the run naming the record; a re-run completes;
#  - JSON 1e400 and -1e400 stay Infinity and -Infinity (as in Python):
#    two nodes, never one keyed {"id":null}; SQLite stores them (and NUL),
#    its JSON functions read them, and export and print write them as
#    Python's json.dumps does.
#
# usage: test_values.sh path/to/sluice
set -u
. "$(cd "$(dirname "$0")" && pwd)/tap.sh"
. "$(cd "$(dirname "$0")" && pwd)/graph_lib.sh"
SLUICE=$(realpath "$1")
URI=$(cat "$SLUICE_TEST_PGDIR/uri")
T=$(mktemp -d /tmp/sluice-values-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

# Line 2 holds a NUL, lines 4 and 5 infinite keys, line 6 an infinite
# property, line 7 no key (the Interpreter skips it, as Nodestream does).
cat >d.jsonl <<'EOF'
{"id":1,"name":"a"}
{"id":2,"name":"b\u0000c"}
{"id":3,"name":"c"}
{"id":1e400,"name":"pinf"}
{"id":-1e400,"name":"minf"}
{"id":6,"name":"x","v":-1e400}
{"name":"nokey"}
EOF
cat >p.yaml <<'EOF'
- implementation: file
  factory: local
  arguments: {globs: [d.jsonl]}
- implementation: interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: P
        key: {id: !jmespath id}
        properties: {name: !jmespath name, v: !jmespath v}
EOF

# --- PostgreSQL: the record, not its batch --------------------------------
DB=$(fresh sluice_values1)
"$SLUICE" run p.yaml --target "$DB" --no-progress >out.txt 2>err.txt
is $? 0 "PostgreSQL: a load with NUL and infinities completes"
grep -E '2:GraphDatabaseWriter +6 +6 +0 +4$' err.txt >/dev/null
ok $? "the writer counts 4 records skipped"
has err.txt 'd.jsonl:2: postgresql cannot store a string holding U+0000 (NUL) (at source.props.name)' \
  "the NUL record is named by file:line and the value's place"
has err.txt 'd.jsonl:4: postgresql cannot store the number Infinity (at source.key.id)' \
  "so is the Infinity key"
has err.txt 'd.jsonl:5: postgresql cannot store the number -Infinity (at source.key.id)' \
  "and the -Infinity key"
has err.txt 'd.jsonl:6: postgresql cannot store the number -Infinity (at source.props.v)' \
  "and the -Infinity property"
"$SLUICE" export "$DB" >pg.jsonl 2>err.txt
is "$(strip pg.jsonl | sed -E 's/,"was_ingested_by_p":true//')" \
  '{"key":{"id":1},"labels":[],"node":"P","props":{"name":"a"}}
{"key":{"id":3},"labels":[],"node":"P","props":{"name":"c"}}' \
  "every other record loaded, and no node keyed null"
"$SLUICE" run p.yaml --target "$DB" --no-progress >out.txt 2>err.txt
is $? 0 "a re-run completes too"
"$SLUICE" run p.yaml --target "$DB" --strict --no-progress >out.txt 2>err.txt
isnt=$?
ok $((isnt == 0)) "--strict: the NUL record fails the run"
has err.txt 'd.jsonl:2: postgresql cannot store a string holding U+0000' \
  "... naming it"
grep -q 'unsupported Unicode escape' err.txt
ok $((1 - $?)) "... before the batch went out (no server error)"
cat p.yaml >fail.yaml
cat >>fail.yaml <<EOF
- implementation: writer
  arguments: {target: "$DB", on_error: fail}
EOF
"$SLUICE" run fail.yaml --no-progress >out.txt 2>err.txt
isnt=$?
ok $((isnt == 0)) "a writer step with on_error: fail stops at the NUL record"
has err.txt 'd.jsonl:2: postgresql cannot store' "... naming it"
sed 's/on_error: fail/on_error: sometimes/' fail.yaml >bad.yaml
"$SLUICE" validate bad.yaml >out.txt 2>err.txt
isnt=$?
ok $((isnt == 0)) "on_error takes skip or fail only"
has err.txt "expected 'skip' or 'fail', got 'sometimes'" "... and says so"

# Desired ingestions straight to the writer: NUL in names of every kind.
cat >ing.jsonl <<'EOF'
{"source":{"type":"A","key":{"a":1},"props":{"ok":true}}}
{"source":{"type":"A\u0000","key":{"a":2}}}
{"source":{"type":"A","key":{"a\u0000":3}}}
{"source":{"type":"A","key":{"a":4},"labels":["L\u0000"]}}
{"source":{"type":"A","key":{"a":5},"props":{"p\u0000":1}}}
{"source":{"type":"A","key":{"a":6}},"rels":[{"type":"R","key":{"k":"x\u0000"},"node":{"type":"A","key":{"a":1}}}]}
{"source":{"type":"A","key":{"a":7}},"rels":[{"type":"R","node":{"type":"A","key":{"a":1}}}]}
EOF
cat >ing.yaml <<'EOF'
- implementation: file
  factory: local
  arguments: {globs: [ing.jsonl]}
EOF
DB2=$(fresh sluice_values2)
"$SLUICE" run ing.yaml --target "$DB2" --no-progress >out.txt 2>err.txt
is $? 0 "PostgreSQL: desired ingestions with NUL in names"
grep -E '1:GraphDatabaseWriter +7 +7 +0 +5$' err.txt >/dev/null
ok $? "5 of them skipped"
has err.txt 'ing.jsonl:2: postgresql cannot store a name holding U+0000 (NUL) (at source.type)' "a type"
has err.txt 'ing.jsonl:3: postgresql cannot store a name holding U+0000 (NUL) (at source.key.a\u0000)' "a key name"
has err.txt 'ing.jsonl:4: postgresql cannot store a name holding U+0000 (NUL) (at source.labels[0])' "a label"
has err.txt 'ing.jsonl:5: postgresql cannot store a name holding U+0000 (NUL) (at source.props.p\u0000)' "a property name"
has err.txt 'ing.jsonl:6: postgresql cannot store a string holding U+0000 (NUL) (at rels[0].key.k)' "a relationship key"
"$SLUICE" export "$DB2" >pg2.jsonl 2>err.txt
is "$(wc -l <pg2.jsonl)" 3 "the others loaded: nodes 1 and 7 and their relationship"

# --- SQLite: stores NUL and the infinities ---------------------------------
"$SLUICE" run p.yaml --target sqlite:g.db --no-progress >out.txt 2>err.txt
is $? 0 "SQLite: the same load"
grep -E '2:GraphDatabaseWriter +6 +6 +0 +0$' err.txt >/dev/null
ok $? "nothing skipped"
"$SLUICE" export sqlite:g.db >g.jsonl 2>err.txt
is $? 0 "export from SQLite"
is "$(strip g.jsonl | sed -E 's/,"was_ingested_by_p":true//')" \
  '{"key":{"id":-Infinity},"labels":[],"node":"P","props":{"name":"minf"}}
{"key":{"id":1},"labels":[],"node":"P","props":{"name":"a"}}
{"key":{"id":2},"labels":[],"node":"P","props":{"name":"b\u0000c"}}
{"key":{"id":3},"labels":[],"node":"P","props":{"name":"c"}}
{"key":{"id":6},"labels":[],"node":"P","props":{"name":"x","v":-Infinity}}
{"key":{"id":Infinity},"labels":[],"node":"P","props":{"name":"pinf"}}' \
  "two nodes keyed Infinity and -Infinity, none null; NUL kept; export writes them as Python does"
is "$(sqlite3 g.db "SELECT json_extract(key, '\$.id') FROM node WHERE json_extract(props, '\$.name') IN ('pinf', 'minf') ORDER BY 1")" \
  "-Inf
Inf" "SQLite's JSON functions read the stored infinities"
is "$(sqlite3 g.db "SELECT json_extract(props, '\$.v') FROM node WHERE key = '{\"id\":6}'")" \
  "-Inf" "... in properties too (not null)"
"$SLUICE" run p.yaml --target sqlite:g.db --no-progress >out.txt 2>err.txt
"$SLUICE" export sqlite:g.db >g2.jsonl 2>err.txt
is "$(strip g2.jsonl)" "$(strip g.jsonl)" "a re-run finds the infinite keys again: the same graph"

# What sluice writes reads back the same: Python's Infinity tokens are the
# same keys as 1e400 and -1e400.
printf '%s\n' '{"id":Infinity,"name":"again"}' '{"id":-Infinity,"name":"again-"}' >r.jsonl
sed 's/d\.jsonl/r.jsonl/' p.yaml >r.yaml
"$SLUICE" run r.yaml --target sqlite:g.db --no-progress >out.txt 2>err.txt
is $? 0 "SQLite: records with Infinity and -Infinity (as Python's json.loads reads them)"
"$SLUICE" export sqlite:g.db >g3.jsonl 2>err.txt
is "$(grep -c '"node":"P"' g3.jsonl)" 6 "... are the nodes keyed 1e400 and -1e400"
strip g3.jsonl >g3.txt
has g3.txt '"key":{"id":Infinity},"labels":[],"node":"P","props":{"name":"again"' "... updated"
has g3.txt '"key":{"id":-Infinity},"labels":[],"node":"P","props":{"name":"again-"' "... both"

# NaN: SQLite's JSON has no form for it.
cat >n.jsonl <<'EOF'
{"id":7,"f":"nan"}
{"id":8,"f":"-inf"}
EOF
cat >n.yaml <<'EOF'
- implementation: file
  factory: local
  arguments: {globs: [n.jsonl]}
- implementation: interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: Q
        key: {id: !jmespath id}
        properties: {f: !cast {data: !jmespath f, to: float}}
- implementation: print
  arguments: {}
EOF
"$SLUICE" run n.yaml --target sqlite:n.db --no-progress >out.txt 2>err.txt
is $? 0 "SQLite: a NaN property"
has err.txt 'n.jsonl:1: sqlite cannot store the number NaN (at source.props.f)' \
  "... skips its record, named"
has out.txt '"f":NaN}' "print writes NaN as Python's json.dumps does"
has out.txt '"f":-Infinity}' "... and -Infinity"
is "$("$SLUICE" export sqlite:n.db | grep -c '"f":-Infinity')" 1 "the -Infinity record loaded"
"$SLUICE" run n.yaml --target sqlite:n2.db --strict --no-progress >out.txt 2>err.txt
isnt=$?
ok $((isnt == 0)) "--strict: the NaN record fails the run"
has err.txt 'n.jsonl:1: sqlite cannot store the number NaN' "... naming it"

done_testing
