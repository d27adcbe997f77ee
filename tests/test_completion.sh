#!/bin/bash
# completions/sluice.bash driven as bash drives it: COMP_WORDS and
# COMP_CWORD set, _sluice called, COMPREPLY checked. The commands; each
# command's options against the list its --help prints; the target names
# of a project file (./nodestream.yaml and -p FILE) after -t/--target.
#   test_completion.sh SLUICE SOURCE_DIR
# TAP output.
set -u
sluice=$1 src=$2
. "$src/tests/tap.sh"
. "$src/completions/sluice.bash"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# complete WORD...: the words of the line, the last being completed; the
# sorted COMPREPLY on one line.
complete_line() {
  COMP_WORDS=("$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMP_LINE="$*"
  COMPREPLY=()
  _sluice sluice "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
  printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

is "$(complete -p sluice)" "complete -o bashdefault -o filenames -F _sluice sluice" \
  "the file registers _sluice for sluice"
is "$(complete_line sluice mig)" "migrate migrations" "commands: sluice mig<TAB>"
is "$(complete_line sluice "")" \
  "--help --version audit copy demo export help migrate migrations new print remove run scaffold schema show validate version" \
  "commands: sluice <TAB>"
is "$(complete_line sluice print "")" "schema" "sluice print <TAB>"
is "$(complete_line sluice run --thr)" "--threads" "an option: sluice run --thr<TAB>"
is "$(complete_line sluice run --shard)" "--shard --shard-index --shard-key" "sluice run --shard<TAB>"
is "$(complete_line sluice print schema -f g)" "graphql" "sluice print schema -f g<TAB>"
is "$(complete_line sluice schema x.yaml --format d)" "dot" "sluice schema --format d<TAB>"

# Every option each command's --help lists (its lines that start with an
# option) is offered after a dash.
for cmd in run validate show "print schema" "migrations show" new scaffold remove copy "audit ttls"; do
  "$sluice" $cmd --help >"$tmp/help" 2>&1
  want=$(grep -E '^ +-' "$tmp/help" | grep -oE '(^|[ ,(])--?[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]' |
    sed 's/^[ ,(]//' | sort -u)
  got=" $(complete_line sluice $cmd -) "
  missing=""
  for o in $want; do [[ $got == *" $o "* ]] || missing="$missing $o"; done
  is "$missing" "" "sluice $cmd -<TAB> offers every option of sluice $cmd --help"
done

# Target names from the project file.
mkdir -p "$tmp/proj/sub"
cat >"$tmp/proj/nodestream.yaml" <<'YAML'
# a project
scopes:
  default:
    targets: [not_a_target]
    pipelines:
      - path: p.yaml
targets:
  graph:
    database: sqlite
    path: graph.db
  "pg-main":
    database: postgresql
  # a comment
  nulldb: {database: "null"}
plugins: []
YAML
cat >"$tmp/proj/sub/other.yaml" <<'YAML'
targets:
    archive:
        database: sqlite
YAML
cd "$tmp/proj"
is "$(complete_line sluice run -t "")" "graph nulldb pg-main" "sluice run -t <TAB>: ./nodestream.yaml's targets"
is "$(complete_line sluice run --target g)" "graph" "sluice run --target g<TAB>"
is "$(complete_line sluice run -p sub/other.yaml -t "")" "archive" "sluice run -p FILE -t <TAB>: FILE's targets"
is "$(complete_line sluice migrations show --project=sub/other.yaml -t a)" "archive" \
  "sluice migrations show --project=FILE -t a<TAB>"
# As bash splits that line (= is in COMP_WORDBREAKS).
is "$(complete_line sluice run --project = sub/other.yaml -t "")" "archive" \
  "sluice run --project=FILE -t <TAB>, split at the ="
is "$(complete_line sluice copy --from "")" "graph nulldb pg-main" "sluice copy --from <TAB>: the project's targets"
is "$(complete_line sluice copy -f graph -t n)" "nulldb" "sluice copy -f graph -t n<TAB>"
is "$(complete_line sluice new x -d p)" "postgresql" "sluice new x -d p<TAB>"
is "$(complete_line sluice audit "")" "ttls" "sluice audit <TAB>"
cd "$tmp"
is "$(complete_line sluice run -t "")" "" "no project file: no target names"
done_testing
