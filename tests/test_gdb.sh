#!/usr/bin/env bash
# Test of tools/sluice-gdb.py against tests/gdb_target.c.
# Usage: test_gdb.sh GDB_TARGET SLUICE_GDB_PY
# Prints TAP and a closing "N passed, M failed"; exits 1 on any failure,
# and 77 ("skip: REASON") when gdb is missing or may not ptrace here.
#
# Task ids are fixed by the order gdb_target spawns its tasks: probe 1,
# sleeper 2, receiver 3, quick 4 (dead, unjoined), newborn 5 (never run).
set -u

target=${1:?usage: test_gdb.sh GDB_TARGET SLUICE_GDB_PY}
helper=${2:?usage: test_gdb.sh GDB_TARGET SLUICE_GDB_PY}
gdb=${GDB:-gdb}
limit=${SLUICE_GDB_TIMEOUT:-90}
# LeakSanitizer cannot run under ptrace; the rest of ASan can.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0

out=""
. "$(cd "$(dirname "$0")" && pwd)/tap.sh"

# has REGEX DESCRIPTION: check that the gdb output matches REGEX.
has() {
	grep -Eq -- "$1" <<<"$out"
	ok $? "$2"
}

# section FROM TO: the lines of the gdb output from FROM up to TO.
section() {
	sed -n "/$1/,/$2/p" <<<"$out"
}

# finish: print the summary and exit.
finish() {
	echo "$((n - failed)) passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}

if [ ! -r "$helper" ] || [ ! -x "$target" ]; then
	ok 1 "$helper and $target exist"
	finish
fi

if ! command -v "$gdb" >/dev/null 2>&1; then
	echo "skip: $gdb not found (package gdb; scripts/setup installs it)"
	exit 77
fi

out=$(timeout -k 10 "$limit" "$gdb" -batch -nx \
	-ex "source $helper" \
	-ex 'break sl_gdb_probe_point' \
	-ex run \
	-ex 'sluice tasks' \
	-ex 'sluice bt 2' \
	-ex 'sluice bt 3' \
	-ex 'sluice bt 4' \
	-ex 'sluice bt 5' \
	-ex 'sluice bt 1' \
	-ex continue \
	"$target" 2>&1 </dev/null)
status=$?
while IFS= read -r line; do
	printf '# %s\n' "$line"
done <<<"$out"
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
	ok 1 "gdb session finished within $limit s (it hung: the target \
probably resumed with wrong registers)"
	finish
fi

if grep -Eq 'ptrace: Operation not permitted|Could not trace|not permitted to trace' <<<"$out"; then
	echo "skip: gdb cannot ptrace the target on this machine (allow it with \
kernel.yama.ptrace_scope=0, or CAP_SYS_PTRACE in a container)"
	exit 77
fi

if grep -q 'sluice: no sluice symbols' <<<"$out"; then
	ok 1 "the target has sluice debug symbols (it has not: build with -g, \
e.g. CMAKE_BUILD_TYPE=RelWithDebInfo or Debug)"
	finish
fi

if grep -q 'Undefined command: "sluice"' <<<"$out"; then
	ok 1 "gdb loaded $helper (it did not: gdb needs Python support)"
	finish
fi

has 'Breakpoint 1, .*sl_gdb_probe_point' "gdb stopped at sl_gdb_probe_point"
has '^\* +1 +probe +running ' "probe (1) is listed as running and marked"
has '^ +2 +sleeper +waiting .* sleep$' "sleeper (2) is waiting for sleep"
has '^ +3 +receiver +waiting .* channel recv$' \
	"receiver (3) is waiting for channel recv"
has '^ +4 +quick +dead ' "quick (4) is listed as dead"
has '^ +5 +newborn +ready ' "newborn (5) is listed as ready"

sleeper_bt=$(section "^task 2 'sleeper' is waiting" "^task 3 ")
grep -q ' sleeper_inner ' <<<"$sleeper_bt"
ok $? "sleeper backtrace shows sleeper_inner"
grep -q ' sl_sleep ' <<<"$sleeper_bt"
ok $? "sleeper backtrace shows sl_sleep"

receiver_bt=$(section "^task 3 'receiver' is waiting" "^task 4 ")
grep -q ' sl_chan_recv ' <<<"$receiver_bt"
ok $? "receiver backtrace shows sl_chan_recv"
grep -q ' receiver_main ' <<<"$receiver_bt"
ok $? "receiver backtrace shows receiver_main"

has "^task 4 'quick' is dead" "a dead task gets a note, not a stack"
has "^task 5 'newborn' is ready but has not started yet" \
	"a task that never ran gets a note, not a stack"

probe_bt=$(section "^task 1 'probe' is running" "^gdb_target:")
grep -q '^#0  sl_gdb_probe_point ' <<<"$probe_bt"
ok $? "running task's backtrace starts in sl_gdb_probe_point"
grep -q ' probe_main ' <<<"$probe_bt"
ok $? "running task's backtrace shows probe_main"

has '^gdb_target: done$' "the target finished its work after continue"
has 'exited normally' "registers were restored: the target exited with 0"
! grep -Eq '^Python Exception|Error occurred in Python' <<<"$out"
ok $? "no Python errors"
finish
