#!/usr/bin/env bash
# ../shared/compat/check with --pg pointed at the test server.
# usage: compat_pg.sh CHECK SLUICE
set -eu
exec bash "$1" --sluice "$2" --pg "$(cat "$SLUICE_TEST_PGDIR/uri")"
