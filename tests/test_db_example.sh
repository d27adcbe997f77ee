#!/bin/bash
# Smoke test of examples/db_example: run it against a database URL
# (argv 2; "sqlite" for a fresh SQLite file, "postgres" for the test
# server) and check what it prints. TAP output.
set -u
exe=$1
kind=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ "$kind" = sqlite ]; then
  url="sqlite:$tmp/example.db"
else
  url="$(cat "$SLUICE_TEST_PGDIR/uri")/postgres"
fi
"$exe" "$url" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$kind" = sqlite ] && grep -q "not built" "$tmp/err"; then
  echo "ok 1 # skip SQLite: $(cat "$tmp/err")"
  echo "1..1"
  exit 0
fi
n=0
fail=0
check() {
  n=$((n + 1))
  if eval "$1"; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}
check '[ $rc -eq 0 ]' "db_example exits 0 ($(head -c 300 "$tmp/err"))"
check 'grep -qx "bob props: {\"age\":17,\"vip\":true}" "$tmp/out"' "props merged"
check 'grep -q "^sql: SELECT \"example_bookings\".\"day\", .* INNER JOIN \"example_users\" ON \"example_bookings\".\"user_id\" = \"example_users\".\"id\" WHERE \"example_bookings\".\"day\" >= \$1 ORDER BY" "$tmp/out"' "join SQL"
check 'grep -qx "booking: {\"day\":\"2024-05-01\",\"example_users.name\":\"ann\",\"room\":\"blue\"}" "$tmp/out"' "first booking"
check 'grep -qx "booking: {\"day\":\"2024-05-02\",\"example_users.name\":\"bob\",\"room\":\"red\"}" "$tmp/out"' "second booking"
check 'grep -qx "bookings: 2" "$tmp/out"' "rolled-back booking absent"
[ $fail -eq 0 ] || { echo "# output:"; sed 's/^/# /' "$tmp/out" "$tmp/err"; }
echo "1..$n"
exit $fail
