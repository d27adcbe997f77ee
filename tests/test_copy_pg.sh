#!/usr/bin/env bash
# `sluice copy` through PostgreSQL, against the private server the harness
# started (issue 17): SQLite -> PostgreSQL -> SQLite gives the same
# export, byte for byte; PostgreSQL -> PostgreSQL; a `sluice new -d
# postgresql` project that runs with its URI from the environment and
# copies by target name; the password never shown.
#
# usage: test_copy_pg.sh path/to/sluice
set -u
. "$(cd "$(dirname "$0")" && pwd)/tap.sh"
. "$(cd "$(dirname "$0")" && pwd)/graph_lib.sh"
SLUICE=$(realpath "$1")
URI=$(cat "$SLUICE_TEST_PGDIR/uri")
PW=$(cat "$SLUICE_TEST_PGDIR/password")
T=$(mktemp -d /tmp/sluice-copypg-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

# A graph with labels, keys of two properties, every kind of value,
# relationship keys and parallel (CREATE) relationships.
cat >g.yaml <<'EOF'
- implementation: range
  factory: range
  arguments: {stop: 1000}
- implementation: interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: N
        key: {i: !jmespath index, k: x}
        properties:
          name: !format {fmt: 'n{v} – é', v: !jmespath index}
          f: 1.5
          l: [1, "a", true]
          o: {deep: {er: null}}
        additional_types: [Num, Thing]
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
        relationship_properties: {w: !jmespath index}
EOF
"$SLUICE" run g.yaml -t sqlite:a.db --batch-size 200 --no-progress -q >/dev/null 2>&1
is $? 0 "a graph in SQLite"
"$SLUICE" export sqlite:a.db >a.jsonl
PG1=$(fresh sluice_copy1)
"$SLUICE" copy --from sqlite:a.db --to "$PG1" >out.txt 2>err.txt
is $? 0 "copy SQLite -> PostgreSQL"
"$SLUICE" export "$PG1" >pg.jsonl
cmp -s a.jsonl pg.jsonl
ok $? "PostgreSQL exports what SQLite does"
"$SLUICE" copy --from "$PG1" --to sqlite:b.db >out.txt 2>err.txt
is $? 0 "copy PostgreSQL -> SQLite"
"$SLUICE" export sqlite:b.db >b.jsonl
cmp -s a.jsonl b.jsonl
ok $? "the round trip exports the same lines, timestamps included"
is "$(grep -c '"rel":"MANY"' b.jsonl)" "$(grep -c '"rel":"MANY"' a.jsonl)" "parallel relationships: as many"
PG2=$(fresh sluice_copy2)
"$SLUICE" copy --from "$PG1" --to "$PG2" --batch-size 300 >out.txt 2>err.txt
is $? 0 "copy PostgreSQL -> PostgreSQL in batches of 300"
"$SLUICE" export "$PG2" | cmp -s a.jsonl -
ok $? "the same graph"
if grep -q "$PW" err.txt; then ok 1 "the password is not shown"; else ok 0 "the password is not shown"; fi
has err.txt "Starting copy from postgresql://postgres@" "the URIs are shown without it"

# A new postgresql project: its URI from the environment.
"$SLUICE" new pgbooks -d postgresql >/dev/null 2>&1
PG3=$(fresh sluice_copy3)
(cd pgbooks && DATABASE_URL=$PG3 "$SLUICE" run --no-progress -q) >out.txt 2>err.txt
is $? 0 "sluice run in a new postgresql project, DATABASE_URL set"
(cd pgbooks && DATABASE_URL=$PG3 "$SLUICE" export graph) >books.jsonl 2>err.txt
is "$(grep -c '^{"key":.*"node":"Book"' books.jsonl)" 5 "5 Book nodes in PostgreSQL"
(cd pgbooks && DATABASE_URL=$PG3 "$SLUICE" copy --from graph --to sqlite:../books.db) >out.txt 2>err.txt
is $? 0 "copy --from the project's PostgreSQL target by name"
"$SLUICE" export sqlite:books.db | cmp -s books.jsonl -
ok $? "the same graph in SQLite"
PG4=$(fresh sluice_copy4)
"$SLUICE" copy --from sqlite:books.db --to "$PG4" --all >out.txt 2>err.txt
is $? 0 "copy back into an empty database"
"$SLUICE" export "$PG4" | cmp -s books.jsonl -
ok $? "the same graph again"

done_testing
