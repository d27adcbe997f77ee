#!/usr/bin/env bash
# The compat suite against a real Neo4j: for each case of ../shared/compat
# (a folder with pipeline.yaml and expected.jsonl), empty the database
# (tests/bolt/neo4j_clear.js, through the official JavaScript driver), run
# `sluice run pipeline.yaml --target $SLUICE_NEO4J_URI`, then `sluice export
# $SLUICE_NEO4J_URI`, and compare with graph_diff.py. Skipped (exit 77) when
# SLUICE_NEO4J_URI is not set. THE DATABASE IS EMPTIED: point it at a
# database of its own.
#
#   SLUICE_NEO4J_URI=bolt://neo4j:secret@localhost:7687/neo4j \
#     bash tests/neo4j_live.sh build/sluice [NODE [COMPAT_DIR [CASE...]]]
#
# NODE defaults to `node`, COMPAT_DIR to ../shared/compat beside the
# checkout; CASE names cases (default: all).
set -u
if [ -z "${SLUICE_NEO4J_URI:-}" ]; then
  echo "skip: SLUICE_NEO4J_URI is not set"
  exit 77
fi
. "$(cd "$(dirname "$0")" && pwd)/tap.sh"
here=$(cd "$(dirname "$0")" && pwd)
SLUICE=$(realpath "$1")
NODE=${2:-node}
COMPAT=${3:-$here/../../shared/compat}
shift $(($# < 3 ? $# : 3))
URI=$SLUICE_NEO4J_URI
# The URI as shown: without the password.
SHOWN=$(printf '%s' "$URI" | sed -E 's#(://[^:/@]*):[^@/]*@#\1@#')
if [ ! -f "$COMPAT/graph_diff.py" ]; then
  echo "no compat suite at $COMPAT (pass its folder as the third argument)" >&2
  exit 2
fi
COMPAT=$(realpath "$COMPAT")
T=$(mktemp -d /tmp/sluice-neo4jlive-XXXXXX)
trap 'rm -rf "$T"' EXIT

cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
  for d in "$COMPAT"/*/; do [ -f "$d/pipeline.yaml" ] && cases+=("$(basename "$d")"); done
fi
echo "# Neo4j at $SHOWN"
for name in "${cases[@]}"; do
  dir=$COMPAT/$name
  expected=$dir/expected.jsonl
  [ -f "$expected" ] || expected=$dir/expected.jsonl.gz
  "$NODE" "$here/bolt/neo4j_clear.js" "$URI" >"$T/clear.log" 2>&1
  ok $? "$name: the database emptied"
  sed 's/^/# /' "$T/clear.log"
  (cd "$dir" && timeout 600 "$SLUICE" run pipeline.yaml --no-progress --target "$URI") >"$T/run.log" 2>&1
  rc=$?
  ok $rc "$name: sluice run"
  [ $rc -eq 0 ] || tail -n 15 "$T/run.log" | sed 's/^/#   /'
  (cd "$dir" && timeout 600 "$SLUICE" export "$URI") >"$T/actual.jsonl" 2>"$T/export.log"
  ok $? "$name: sluice export"
  python3 "$COMPAT/graph_diff.py" "$expected" "$T/actual.jsonl" >"$T/diff.log" 2>&1
  ok $? "$name: Nodestream's graph"
  sed 's/^/# /' "$T/diff.log" | head -n 30
done
done_testing
