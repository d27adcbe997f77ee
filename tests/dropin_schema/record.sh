#!/usr/bin/env bash
# Record real Nodestream's `print schema` output for every case of
# ./cases into expect/NAME (run by hand, never by the build):
#   tests/dropin_schema/record.sh [path/to/nodestream]
# The default command is the source tree's wrapper, /work/nodestream-src/ns
# (Nodestream 0.16.1 with Debian's Python).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
ns=${1:-/work/nodestream-src/ns}
mkdir -p "$here/expect"
grep -v '^#' "$here/cases" | while read -r name args; do
  [ -n "$name" ] || continue
  # shellcheck disable=SC2086
  (cd "$here/project" && "$ns" print schema $args) >"$here/expect/$name"
  echo "recorded $name"
done
# -o FILE writes the same text as stdout.
(cd "$here/project" && "$ns" print schema -f graphql -o "$here/expect/out_graphql")
echo "recorded out_graphql"
