#!/bin/sh
# Record real Nodestream's results for drop-in cases (by hand; never run by
# `make check`). Writes CASE/expect/: status, records.jsonl, stdout, stderr,
# recorded. See tests/dropin/README.md.
#
# usage: tests/dropin/record.sh CASE...   (case folder names or paths)
#   NODESTREAM_SRC  Nodestream's source tree (default /work/nodestream-src)
#   NODESTREAM_PYTHON  the interpreter with its packages (default /usr/bin/python3)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || { sed -n '6,8p' "$0" >&2; exit 2; }
exec "${NODESTREAM_PYTHON:-/usr/bin/python3}" "$here/dropin.py" record \
  --nodestream-src "${NODESTREAM_SRC:-/work/nodestream-src}" \
  --python "${NODESTREAM_PYTHON:-/usr/bin/python3}" "$@"
