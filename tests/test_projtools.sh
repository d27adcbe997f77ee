#!/usr/bin/env bash
# The project tools as a user drives them (issue 17): `sluice new` then
# `sluice run` and `sluice export` in the new project; postgresql and
# neo4j projects that load; a PROJECT that exists; `scaffold` and
# `remove` editing nodestream.yaml with its comments kept, and their
# errors; `audit ttls` (Nodestream's lines and exit status). `copy` is
# tested by test_copy.sh and test_copy_pg.sh.
#
# usage: test_projtools.sh path/to/sluice
set -u
. "$(cd "$(dirname "$0")" && pwd)/tap.sh"
. "$(cd "$(dirname "$0")" && pwd)/graph_lib.sh"
SLUICE=$(realpath "$1")
T=$(mktemp -d /tmp/sluice-projtools-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

# --- new ---------------------------------------------------------------
"$SLUICE" new books >out.txt 2>err.txt
is $? 0 "sluice new books"
for f in nodestream.yaml README.md pipelines/sample.yaml data/books.jsonl; do
  [ -s "books/$f" ]
  ok $? "the project has $f"
done
(cd books && "$SLUICE" run --no-progress >../run.out 2>../run.err)
is $? 0 "sluice run inside the new project, with no argument"
(cd books && "$SLUICE" export graph) >books.jsonl 2>err.txt
is $? 0 "sluice export graph (the project's target)"
is "$(grep -c '^{"key":.*"node":"Book"' books.jsonl)" 5 "5 Book nodes, one a line of the data"
is "$(grep -c '^{"key":.*"node":"Author"' books.jsonl)" 3 "3 Author nodes (two books share one)"
is "$(grep -c '"rel":"WRITTEN_BY"' books.jsonl)" 5 "5 WRITTEN_BY relationships"
has books.jsonl '"title":"Seven Small Engines"' "a Book node has its title"
[ -f books/graph.db ]
ok $? "the graph is books/graph.db (SQLite by default)"

cp -r books books.before
"$SLUICE" new books >out.txt 2>err.txt
is $? 1 "new: a PROJECT that exists and is not empty fails"
has err.txt "books exists and is not an empty directory: nothing written" "and says so"
diff -r books books.before >/dev/null
ok $? "nothing in it changed"
mkdir empty
"$SLUICE" new empty >out.txt 2>err.txt
is $? 0 "new: an empty directory is used"
"$SLUICE" new bad -d oracle >out.txt 2>err.txt
is $? 2 "new -d oracle is a usage error"
has err.txt "expected sqlite, postgresql or neo4j" "naming the choices"
[ ! -e bad ]
ok $? "and writes nothing"
mkdir where
"$SLUICE" new placed where >out.txt 2>err.txt && [ -f where/placed/nodestream.yaml ]
ok $? "new PROJECT PATH writes PATH/PROJECT"

"$SLUICE" new pgproj -d postgresql >out.txt 2>err.txt
is $? 0 "new -d postgresql"
has pgproj/nodestream.yaml "database: postgresql" "its target is PostgreSQL"
has pgproj/nodestream.yaml "uri: !env DATABASE_URL" "whose uri comes from the environment"
(cd pgproj && DATABASE_URL=postgresql://u@127.0.0.1:1/db "$SLUICE" show) >show.txt 2>err.txt
is $? 0 "the postgresql project loads (show)"
has show.txt "default | sample | pipelines/sample.yaml | graph" "its pipeline writes to the target graph"
"$SLUICE" validate pgproj/pipelines/sample.yaml >out.txt 2>&1
is $? 0 "its pipeline validates"
"$SLUICE" new pguri -d postgresql --uri postgresql://loader@db.example:5432/graph >out.txt 2>err.txt
is $? 0 "new -d postgresql --uri URI"
has pguri/nodestream.yaml "uri: 'postgresql://loader@db.example:5432/graph'" "the URI is written"
"$SLUICE" new pgpw -d postgresql --uri postgresql://loader:s3cret@db/graph >out.txt 2>err.txt
is $? 2 "a --uri with a password is refused"
if grep -q s3cret err.txt; then ok 1 "without showing the password"; else ok 0 "without showing the password"; fi
[ ! -e pgpw ]
ok $? "and nothing is written"
"$SLUICE" new n4j -d neo4j --uri bolt://127.0.0.1:7687 >out.txt 2>err.txt
is $? 0 "new -d neo4j --uri"
(cd n4j && NEO4J_USERNAME=neo4j NEO4J_PASSWORD=pw "$SLUICE" show) >show.txt 2>err.txt
is $? 0 "the neo4j project loads (show)"
has n4j/nodestream.yaml "password: !env NEO4J_PASSWORD" "its password comes from the environment"

# --- scaffold and remove -----------------------------------------------
cd books || exit 1
cat >nodestream.yaml <<'EOF'
# Books, by hand.
scopes:
  default:
    targets: [graph]      # where they go
    pipelines:
      - pipelines/sample.yaml   # the sample
      # more to come

targets:
  graph:
    database: sqlite
    path: graph.db   # here
EOF
cp nodestream.yaml ../orig.yaml
"$SLUICE" scaffold numbers >../out.txt 2>../err.txt
is $? 0 "scaffold numbers"
has ../out.txt "Generated pipeline at 'pipelines/numbers.yaml'" "Nodestream's message"
[ -f pipelines/numbers.yaml ]
ok $? "pipelines/numbers.yaml is written"
"$SLUICE" show >../show.txt 2>&1
has ../show.txt "default | numbers | pipelines/numbers.yaml | graph" "the project lists it in scope default, with the scope's target"
grep -v 'pipelines/numbers.yaml' nodestream.yaml | diff - ../orig.yaml >/dev/null
ok $? "everything else in nodestream.yaml is kept, comments included"
is "$(grep -n 'numbers' nodestream.yaml | cut -d: -f1)" 7 "the entry follows the last one"
has pipelines/numbers.yaml "stop: 100000" "Nodestream's sample: 100000 numbers"
sed -i 's/stop: 100000/stop: 3000/' pipelines/numbers.yaml
"$SLUICE" run numbers --no-progress -q >/dev/null 2>&1
is $? 0 "the scaffolded pipeline runs (3000 numbers here)"
is "$("$SLUICE" export graph | grep -c '"node":"Number"')" 3000 "3000 Number nodes"
"$SLUICE" scaffold numbers >../out.txt 2>../err.txt
is $? 1 "scaffold: a name the scope has fails"
has ../err.txt "scope 'default' has a pipeline 'numbers' already" "and says so"
"$SLUICE" scaffold other -s nightly >../out.txt 2>../err.txt
is $? 0 "scaffold into a new scope"
"$SLUICE" show -s nightly >../show.txt 2>&1
has ../show.txt "nightly | other" "the scope is made"
"$SLUICE" remove numbers >../out.txt 2>../err.txt
is $? 0 "remove numbers"
[ ! -e pipelines/numbers.yaml ]
ok $? "its file is deleted"
"$SLUICE" remove nightly other >../out.txt 2>../err.txt
is $? 0 "remove SCOPE NAME (Nodestream's form)"
has nodestream.yaml "    pipelines: []" "an emptied list stays a list"
"$SLUICE" scaffold again -s nightly >../out.txt 2>../err.txt
is $? 0 "scaffold into the emptied list"
"$SLUICE" remove again >/dev/null 2>&1
grep -v -e '^  nightly:' -e '^    pipelines: \[\]' nodestream.yaml | diff - ../orig.yaml >/dev/null
ok $? "after scaffold and remove the file is as it was, comments included"
"$SLUICE" remove nosuch >../out.txt 2>../err.txt
is $? 1 "remove: a name the project does not have fails"
has ../err.txt "no pipeline 'nosuch'" "and says so"
"$SLUICE" remove nightly sample >../out.txt 2>../err.txt
is $? 1 "remove: a name the scope does not have fails"
[ -f pipelines/sample.yaml ]
ok $? "and deletes nothing"
cd .. || exit 1
(cd where && "$SLUICE" scaffold x) >out.txt 2>err.txt
is $? 1 "scaffold outside a project fails"
has err.txt "not in a project" "and says so"
(cd where && "$SLUICE" remove x) >out.txt 2>err.txt
is $? 1 "remove outside a project fails"
cat >flow.yaml <<'EOF'
scopes:
  default:
    pipelines: [books/pipelines/sample.yaml]
EOF
"$SLUICE" scaffold y -p flow.yaml >out.txt 2>err.txt
is $? 1 "scaffold: a pipelines list in flow style is refused"
has err.txt "flow.yaml:3:16: the pipelines list is written in flow style" "naming the place"
[ ! -e pipelines/y.yaml ]
ok $? "and nothing is written"

mkdir -p inner && cp books/pipelines/sample.yaml outside.yaml &&
  printf 'scopes:\n  default:\n    pipelines:\n      - ../outside.yaml\n' >inner/nodestream.yaml
(cd inner && "$SLUICE" remove outside) >out.txt 2>err.txt
is $? 0 "remove a pipeline whose file is outside the project's directory"
[ -f outside.yaml ] && ! grep -q outside inner/nodestream.yaml
ok $? "its entry goes, its file stays"
has out.txt "it is not under the project's directory" "and says why"

mkdir nonl && cp books/pipelines/sample.yaml nonl/ &&
  printf 'scopes:\n  default:\n    pipelines:\n      - sample.yaml' >nonl/nodestream.yaml
(cd nonl && "$SLUICE" scaffold a -s other && "$SLUICE" scaffold b) >out.txt 2>err.txt
is $? 0 "scaffold into a project file whose last line has no newline"
printf '%s\n' scopes: '  default:' '    pipelines:' '      - sample.yaml' '      - pipelines/b.yaml' \
  '  other:' '    pipelines:' '      - pipelines/a.yaml' | diff - nonl/nodestream.yaml >/dev/null
ok $? "each entry on a line of its own"

# --- audit ttls --------------------------------------------------------
mkdir audit && cd audit || exit 1
mkdir pipelines
cp ../books/pipelines/sample.yaml pipelines/
cat >pipelines/ttl.yaml <<'EOF'
- implementation: nodestream.pipeline.extractors:TimeToLiveConfigurationExtractor
  arguments:
    graph_object_type: NODE
    configurations:
      - {object_type: Book, expiry_in_hours: 2}
      - {object_type: Nope, expiry_in_hours: 2}
EOF
cat >nodestream.yaml <<'EOF'
scopes:
  default:
    pipelines: [pipelines/sample.yaml, pipelines/ttl.yaml]
EOF
"$SLUICE" audit ttls >../out.txt 2>../err.txt
is $? 2 "audit ttls: the exit status counts the types without a TTL"
printf '%s\n' "Time to live not configured for GraphObjectType.RELATIONSHIP 'WRITTEN_BY'" \
  "Time to live not configured for GraphObjectType.NODE 'Author'" \
  "Time to live configured for unknown object type 'Nope'" >../want.txt
diff ../out.txt ../want.txt >/dev/null
ok $? "the lines Nodestream 0.16.1 prints for this project"
cat >>pipelines/ttl.yaml <<'EOF'
      - {object_type: Author, expiry_in_hours: 2}
- implementation: nodestream.pipeline.extractors:TimeToLiveConfigurationExtractor
  arguments:
    graph_object_type: RELATIONSHIP
    configurations:
      - {object_type: WRITTEN_BY, expiry_in_hours: 2}
EOF
"$SLUICE" audit ttls >../out.txt 2>../err.txt
is $? 0 "audit ttls: every type configured"
has ../out.txt "All Object Types Have TTLs Configured" "Nodestream's success line"
cd .. || exit 1

done_testing
