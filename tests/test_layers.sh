#!/usr/bin/env bash
# The build enforces the layers: a value-layer file that includes the db
# layer's header (tests/layers/up.c) must not compile, while one that
# includes its own and lower layers' headers (tests/layers/ok.c) must.
# Usage: test_layers.sh BUILD_DIR. Prints TAP and "N passed, N failed".
set -u
bin=${1:?usage: test_layers.sh BUILD_DIR}
. "$(cd "$(dirname "$0")" && pwd)/tap.sh"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

cmake --build "$bin" --target sluice_layer_probe_ok >"$log" 2>&1
st=$?
ok $st "a value-layer file may include value, rt and base headers"
[ $st -eq 0 ] || sed 's/^/#   /' "$log" | tail -20

cmake --build "$bin" --target sluice_layer_probe_up >"$log" 2>&1
st=$?
[ $st -ne 0 ]
ok $? "a value-layer file that includes sluice/db.h does not compile"
# gcc: "sluice/db.h: No such file or directory"; clang: "'sluice/db.h' file not found".
notfound="sluice/db.h: No such file|'sluice/db.h' file not found"
grep -Eq "$notfound" "$log"
ok $? "the compiler names the upward include as not found"
[ $st -ne 0 ] && grep -Eq "$notfound" "$log" || sed 's/^/#   /' "$log" | tail -20
done_testing
