#!/usr/bin/env bash
# The command-line compatibility table of docs/nodestream.md stays true:
# every option a row marks "same" or "differs" is accepted by that sluice
# command (`sluice CMD OPTION [VALUE] -h` exits 0), every option marked
# "refused" fails with exit status 2 and a message naming it, and every
# command marked "same" or "differs" exists. Rows of "(every command)"
# are checked against each command sluice has (run, show, print schema).
#
# usage: test_ns_table.sh path/to/sluice path/to/docs/nodestream.md
set -u
. "$(cd "$(dirname "$0")" && pwd)/tap.sh"
SLUICE=$(realpath "$1")
TABLE=$(realpath "$2")
T=$(mktemp -d /tmp/sluice-nstable-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

# trim TEXT: without surrounding blanks and backticks.
trim() {
  local s="$1"
  s="${s#"${s%%[![:space:]]*}"}"
  s="${s%"${s##*[![:space:]]}"}"
  s="${s//\`/}"
  printf '%s' "$s"
}

# check_row CMD FORMS VALUE STATUS: the checks of one row for command CMD
# (words, e.g. "print schema"); FORMS is "-r, --reporting-frequency" or "".
check_row() {
  local cmd="$1" forms="$2" value="$3" status="$4"
  local -a words
  read -r -a words <<<"$cmd"
  if [ -z "$forms" ]; then
    "$SLUICE" "${words[@]}" -h >out.txt 2>err.txt
    is $? 0 "$cmd exists ($status)"
    return
  fi
  local form long=""
  IFS=',' read -r -a list <<<"$forms"
  for form in "${list[@]}"; do
    form=$(trim "$form")
    case "$form" in --*) long="$form" ;; esac
  done
  [ -n "$long" ] || long=$(trim "${list[0]}")
  for form in "${list[@]}"; do
    form=$(trim "$form")
    local -a args=("$form")
    [ -n "$value" ] && args+=("$value")
    case "$status" in
    same | differs)
      "$SLUICE" "${words[@]}" "${args[@]}" -h >out.txt 2>err.txt
      local rc=$?
      is "$rc" 0 "$cmd ${args[*]}: accepted ($status)"
      [ "$rc" -eq 0 ] || sed 's/^/#   /' err.txt | head -3
      ;;
    refused)
      "$SLUICE" "${words[@]}" "${args[@]}" >out.txt 2>err.txt
      is $? 2 "$cmd ${args[*]}: refused"
      has err.txt "$long" "... the message names $long"
      ;;
    esac
  done
}

rows=0
in_table=0
while IFS= read -r line; do
  case "$line" in
  "| command | option | value | sluice | notes |") in_table=1; continue ;;
  "|---"*) continue ;;
  "|"*) [ "$in_table" -eq 1 ] || continue ;;
  *) [ "$in_table" -eq 1 ] && break; continue ;;
  esac
  IFS='|' read -r _ c o v s _ <<<"$line"
  cmd=$(trim "$c")
  forms=$(trim "$o")
  value=$(trim "$v")
  status=$(trim "$s")
  rows=$((rows + 1))
  case "$status" in
  same | differs | refused | absent) ;;
  *) ok 1 "row '$line': status '$status' is not same, differs, refused or absent"; continue ;;
  esac
  [ "$status" = absent ] && continue
  if [ "$cmd" = "(every command)" ]; then
    for each in run show "print schema"; do
      check_row "$each" "$forms" "$value" "$status"
    done
  else
    check_row "$cmd" "$forms" "$value" "$status"
  fi
done <"$TABLE"
[ "$rows" -gt 50 ]
ok $? "the table has its rows ($rows)"

done_testing
