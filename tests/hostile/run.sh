#!/usr/bin/env bash
# Replays the hostile inputs of tests/hostile/*/ (format in README.md)
# against a sluice binary: exit code, expected error text, peak memory,
# and no sanitizer report or signal.
#
# usage: run.sh path/to/sluice [CASE...]
# With SLUICE_HOSTILE_LIGHT=1 (set for sanitizer builds) cases marked
# `heavy: yes` are skipped.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../tap.sh"
SLUICE=$(realpath "$1")
shift
T=$(mktemp -d /tmp/sluice-hostile-XXXXXX)
trap 'rm -rf "$T"' EXIT

# measure OUT RSSFILE CMD...: run CMD with stdout+stderr to OUT, write its
# peak resident memory (KiB) to RSSFILE, and return its exit status (128 +
# signal when killed).
measure() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys
out, rss = sys.argv[1], sys.argv[2]
with open(out, "wb") as f:
    try:
        p = subprocess.run(sys.argv[3:], stdout=f, stderr=subprocess.STDOUT,
                           timeout=60)
        rc = p.returncode if p.returncode >= 0 else 128 - p.returncode
    except subprocess.TimeoutExpired:
        f.write(b"\nhostile: timed out after 60 s\n")
        rc = 124
with open(rss, "w") as f:
    f.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(rc)
PY
}

cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
  for d in "$HERE"/*/; do cases+=("$(basename "$d")"); done
fi
start=$SECONDS
for name in "${cases[@]}"; do
  src="$HERE/$name"
  dir="$T/$name"
  mkdir -p "$dir"
  cp -r "$src"/. "$dir"/
  args="" exits="0" maxrss="" heavy=""
  wants=()
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in "#"*) continue ;; esac
    key=${line%%:*}
    val=${line#*:}
    val=${val# }
    case "$key" in
      args) args=$val ;;
      exit) exits=$val ;;
      stderr) wants+=("$val") ;;
      maxrss_mib) maxrss=$val ;;
      heavy) heavy=$val ;;
      "") ;;
      *) echo "# $name/case: unknown key '$key'" ;;
    esac
  done <"$src/case"
  if [ "$heavy" = yes ] && [ "${SLUICE_HOSTILE_LIGHT:-0}" = 1 ]; then
    echo "# $name: skipped (heavy, SLUICE_HOSTILE_LIGHT=1)"
    rm -rf "$dir"
    continue
  fi
  if [ -f "$dir/setup.sh" ]; then
    (cd "$dir" && bash setup.sh) || { ok 1 "$name: setup.sh"; continue; }
  fi
  t0=$SECONDS
  # shellcheck disable=SC2086 # args split on spaces, as documented
  (cd "$dir" && measure out.txt rss.txt "$SLUICE" $args)
  rc=$?
  rss=$(( $(cat "$dir/rss.txt") / 1024 ))
  note_="exit $rc, ${rss} MiB, $((SECONDS - t0)) s"
  allowed=1
  for e in $exits; do [ "$rc" = "$e" ] && allowed=0; done
  ok $allowed "$name: exit code in {$exits} ($note_)"
  [ $allowed -eq 0 ] || sed 's/^/#   /' "$dir/out.txt" | head -20
  ! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$dir/out.txt"
  ok $? "$name: no sanitizer report"
  for w in "${wants[@]}"; do
    has "$dir/out.txt" "$w" "$name: says '$w'"
  done
  if [ -n "$maxrss" ]; then
    [ "$rss" -le "$maxrss" ]
    ok $? "$name: peak memory ${rss} MiB <= $maxrss MiB"
  fi
  rm -rf "$dir"
done
echo "# $((SECONDS - start)) s"
done_testing
