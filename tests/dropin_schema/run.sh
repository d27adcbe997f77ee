#!/usr/bin/env bash
# Test dropin_schema: `sluice print schema` against the output of real
# Nodestream 0.16.1 recorded by record.sh, byte for byte, for every case
# of ./cases, and -o FILE; then error cases (unknown format, bad
# overrides, unknown pipeline, no project); and `sluice migrations show`
# on a SQLite target before and after `sluice migrate`.
#
# usage: run.sh path/to/sluice
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tap.sh"
SLUICE=$(realpath "$1")
T=$(mktemp -d /tmp/sluice-dropin-schema-XXXXXX)
trap 'rm -rf "$T"' EXIT

while read -r name args; do
  case $name in '#'* | '') continue ;; esac
  # shellcheck disable=SC2086
  (cd "$here/project" && "$SLUICE" print schema $args) >"$T/$name" 2>"$T/$name.err"
  st=$?
  if [ $st -eq 0 ] && cmp -s "$T/$name" "$here/expect/$name"; then
    ok 0 "$name: print schema $args"
  else
    ok 1 "$name: print schema $args (status $st)"
    diff "$here/expect/$name" "$T/$name" | head -20 | sed 's/^/#   /'
    sed 's/^/#   /' "$T/$name.err" | head -5
  fi
done <"$here/cases"

(cd "$here/project" && "$SLUICE" print schema -f graphql -o "$T/out") >"$T/stdout"
ok $? "-o FILE: exit status 0"
cmp -s "$T/out" "$here/expect/out_graphql"
ok $? "-o FILE: the file is Nodestream's"
is "$(wc -c <"$T/stdout")" 0 "-o FILE: nothing on stdout"

# -p from elsewhere: the same as inside the project
(cd "$T" && "$SLUICE" print schema -p "$here/project/nodestream.yaml") >"$T/p"
cmp -s "$T/p" "$here/expect/plain"
ok $? "-p PROJECT from another directory"

(cd "$here/project" && "$SLUICE" print schema -f yaml) 2>"$T/err"
is $? 2 "unknown format: status 2"
has "$T/err" "expected plain, graphql or cypheresque" "unknown format: says which"

printf 'nodes:\n  - name: Person\n    properties:\n      born: {type: DATE}\n' >"$T/bad.yaml"
(cd "$here/project" && "$SLUICE" print schema -O "$T/bad.yaml") >/dev/null 2>"$T/err"
is $? 1 "bad overrides: status 1"
has "$T/err" "'DATE' is not a PropertyType" "bad overrides: names the type"
has "$T/err" "bad.yaml:4" "bad overrides: names the line"

printf 'properties: {}\n' >"$T/bad2.yaml"
(cd "$here/project" && "$SLUICE" print schema -O "$T/bad2.yaml") >/dev/null 2>"$T/err"
is $? 1 "overrides with an unknown key: status 1"
has "$T/err" "properties" "overrides with an unknown key: names it"

(cd "$here/project" && "$SLUICE" print schema nosuch) >/dev/null 2>"$T/err"
is $? 1 "unknown pipeline: status 1"
has "$T/err" "'people', 'orgs'" "unknown pipeline: lists the project's"

(cd "$T" && "$SLUICE" print schema) >/dev/null 2>"$T/err"
is $? 1 "no project: status 1"
has "$T/err" "no nodestream.yaml here" "no project: says so"

# pipeline files without a project (a sluice extension)
(cd "$here/project" && "$SLUICE" print schema -f cypheresque pipelines/people.yaml) >"$T/f"
ok $? "a pipeline file without a project"
has "$T/f" "(:Person)-[:KNOWS]->(:Person)" "a pipeline file: its adjacencies"

# --- migrations show (sluice's derived migrations, Nodestream's table) ------
mkdir -p "$T/mig" && cp -r "$here/project/pipelines" "$T/mig/"
cat >"$T/mig/nodestream.yaml" <<'YAML'
scopes:
  default:
    pipelines: [pipelines/people.yaml]
targets:
  lite: {database: sqlite, path: graph.db}
  nothing: {database: "null"}
YAML
(cd "$T/mig" && "$SLUICE" migrations show) >"$T/show1" 2>"$T/show1.err"
ok $? "migrations show: status 0"
has "$T/show1" "| Migration                     | lite | nothing |" "migrations show: a column per target, sorted"
has "$T/show1" "| view node_Person              | ❌    | ?       |" "migrations show: pending before migrate; ? for a store that cannot tell"
has "$T/show1.err" "target nothing" "migrations show: warns about the null target"
(cd "$T/mig" && "$SLUICE" migrate lite pipelines/people.yaml) 2>/dev/null
(cd "$T/mig" && "$SLUICE" migrations show -t lite) >"$T/show2" 2>/dev/null
has "$T/show2" "| key index Person.person_id    | ✅    |" "migrations show -t: applied after migrate"
is "$(grep -c '✅' "$T/show2")" 10 "migrations show: every migration applied"

done_testing
