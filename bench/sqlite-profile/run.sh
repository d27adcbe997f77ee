#!/bin/sh
# Run the profile workload into null: and sqlite:, printing the run's
# records/s, wall and CPU seconds and peak RSS of each.
# usage: run.sh BUILD_DIR RECORDS.jsonl [WORKDIR]
set -eu
build=$(cd "$1" && pwd)
input=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
work=${3:-$(mktemp -d)}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
cd "$work"
ln -sf "$input" records.jsonl
for target in null: "sqlite:$work/graph.db"; do
	rm -f graph.db graph.db-wal graph.db-shm
	/usr/bin/time -v "$build/sluice" run "$here/pipeline.yaml" \
		--target "$target" --no-progress >out.txt 2>&1
	rate=$(grep -o '[0-9]* records/s' out.txt)
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' out.txt)
	user=$(sed -n 's/.*User time (seconds): //p' out.txt)
	sys=$(sed -n 's/.*System time (seconds): //p' out.txt)
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' out.txt)
	echo "$target: $rate, wall $wall, user ${user}s, sys ${sys}s, peak RSS ${rss} KiB"
done
