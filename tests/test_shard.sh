#!/usr/bin/env bash
# sluice run --shard K/N (docs/scale-out.md): N processes that split the
# input, by file or by record key, load the graph one process loads.
#
# Without --pg: the options' checks, and SQLite targets (one database file
# per shard): the union of the shards' exports is the whole's, every file
# is read by exactly one shard, every record kept by exactly one, and the
# summaries say so.
#
# With --pg (the private PostgreSQL of the harness): two processes, shard
# 1/2 and 2/2, run at the same time into one database give exactly the
# graph one process gives, split by file and split by record key; and two
# processes sharing many related nodes in small batches never deadlock
# (the PostgreSQL store locks rows in identity order; without that order
# this load deadlocked 9 to 26 times per run).
#
# usage: test_shard.sh path/to/sluice [--pg]
set -u
. "$(cd "$(dirname "$0")" && pwd)/tap.sh"
. "$(cd "$(dirname "$0")" && pwd)/graph_lib.sh"
SLUICE=$(realpath "$1")
MODE=${2:-}
T=$(mktemp -d /tmp/sluice-shard-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

# 12 files of 400 people each; people share 300 cities and 7 teams
# (related nodes every shard writes), a city's props depend on the city
# alone, so every shard writes the same ones.
mkdir data
python3 - <<'EOF'
import json, random
random.seed(11)
for f in range(12):
    with open(f"data/part-{f:02d}.jsonl", "w") as o:
        for i in range(400):
            p = f * 400 + i
            c = random.randrange(300)
            o.write(json.dumps({"id": p, "name": f"p{p}", "city": f"c{c}",
                                "zone": c % 5, "team": f"t{p % 7}",
                                "since": 2000 + p % 20}) + "\n")
EOF
cat >p.yaml <<'EOF'
- implementation: file
  factory: local
  arguments: {globs: ["data/*.jsonl"]}
- implementation: interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: Person
        key: {id: !jmespath id}
        properties: {name: !jmespath name}
      - type: relationship
        node_type: City
        relationship_type: LIVES_IN
        node_key: {name: !jmespath city}
        node_properties: {zone: !jmespath zone}
        relationship_properties: {since: !jmespath since}
      - type: relationship
        node_type: Team
        relationship_type: PLAYS_FOR
        node_key: {name: !jmespath team}
EOF

# union OUT FILES...: the stripped exports of FILES, merged
union() {
  local out=$1
  shift
  cat "$@" | strip /dev/stdin | sort -u >"$out"
}

# summary FILE KEY: the number after "KEY": in a --json summary
summary() {
  sed -nE 's/.*"shard":\{[^}]*"'"$2"'":([0-9]+).*/\1/p' "$1"
}

if [ "$MODE" != "--pg" ]; then
  # --- the options ---------------------------------------------------------
  for bad in 0/2 3/2 1/0 2 a/b 1/2x -1/2 1/65537 ""; do
    "$SLUICE" run p.yaml --shard "$bad" -t null: >out.txt 2>err.txt
    rc=$?
    is "$rc" 2 "--shard '$bad' is refused"
  done
  has err.txt "--shard expects K/N, this worker's index and the number of workers, with 1 <= K <= N" "... naming what it expects"
  "$SLUICE" run p.yaml --shard-index 2/2 -t null: >out.txt 2>err.txt
  is $? 2 "--shard-index 2/2 is refused (0-based)"
  has err.txt "with 0 <= I < N" "... naming what it expects"
  "$SLUICE" run p.yaml --shard 1/2 --shard-index 0/2 -t null: >out.txt 2>err.txt
  is $? 2 "--shard and --shard-index together are refused"
  "$SLUICE" run p.yaml --shard-key id -t null: >out.txt 2>err.txt
  is $? 2 "--shard-key without --shard is refused"
  has err.txt "--shard-key needs --shard K/N" "... saying what it needs"
  "$SLUICE" run p.yaml --shard 1/2 --shard-key 'id[' -t null: >out.txt 2>err.txt
  is $? 1 "a bad --shard-key is refused"
  has err.txt "--shard-key 'id[': expected a JMESPath expression" "... naming the option"
  "$SLUICE" validate p.yaml --shard 1/2 --shard-key id >out.txt 2>err.txt
  is $? 0 "validate takes the shard options"
  has out.txt "0:FileExtractor 1:ShardFilter 2:Interpreter" "... and shows the filter before the Interpreter"
  cat >stdin.yaml <<'EOF'
- implementation: stdin
- implementation: interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: Person
        key: {id: !jmespath id}
EOF
  "$SLUICE" run stdin.yaml --shard 1/2 -t null: </dev/null >out.txt 2>err.txt
  is $? 1 "--shard by file with no FileExtractor fails"
  has err.txt "this pipeline has none; give --shard-key EXPR to split its records by key instead" "... pointing at --shard-key"
  head -c 0 /dev/null | "$SLUICE" run stdin.yaml --shard 1/1 --shard-key id -t null: --no-progress >out.txt 2>err.txt
  is $? 0 "--shard 1/1 --shard-key reads standard input"

  # --- SQLite: by file ------------------------------------------------------
  "$SLUICE" run p.yaml -t sqlite:all.db --no-progress >out.txt 2>err.txt
  is $? 0 "the whole load in one process"
  "$SLUICE" export sqlite:all.db >all.jsonl
  strip all.jsonl >all.txt
  is "$(wc -l <all.txt)" 14707 "4800 people, 300 cities, 7 teams, 9600 relationships"
  files=0
  for k in 1 2 3; do
    "$SLUICE" run p.yaml -t sqlite:f$k.db --shard $k/3 --no-progress -j >out.txt 2>f$k.err
    is $? 0 "shard $k/3 by file"
    "$SLUICE" export sqlite:f$k.db >f$k.jsonl
    files=$((files + $(summary f$k.err files_kept)))
    is "$(summary f$k.err files_other)" $((12 - $(summary f$k.err files_kept))) "... its summary counts the files left to the others"
  done
  is "$files" 12 "every file is read by exactly one shard"
  has f1.err '"shard":{"index":1,"count":3,"by":"file","files_kept":' "the JSON summary has the shard"
  union f.txt f1.jsonl f2.jsonl f3.jsonl
  cmp -s all.txt f.txt
  ok $? "the union of the 3 shards' graphs is the whole graph"
  "$SLUICE" run p.yaml -t null: --shard-index 0/3 --no-progress -j >out.txt 2>i.err
  is "$(summary i.err files_kept)" "$(summary f1.err files_kept)" "--shard-index 0/3 is --shard 1/3"
  "$SLUICE" run p.yaml -t null: --shard 2/3 --no-progress >out.txt 2>t.err
  grep -qE "^  shard 2/3 by file: [0-9]+ files? read here, [0-9]+ left to other shards$" t.err
  ok $? "the text summary has the shard"
  # A file added later does not move the others.
  cp data/part-00.jsonl data/part-12.jsonl
  "$SLUICE" run p.yaml -t sqlite:g1.db --shard 1/3 --no-progress -j >out.txt 2>g1.err
  kept=$(summary g1.err files_kept)
  [ "$kept" = "$(summary f1.err files_kept)" ] ||
    [ "$kept" = $(($(summary f1.err files_kept) + 1)) ]
  ok $? "adding a file moves no other file to another shard"
  rm data/part-12.jsonl

  # --- SQLite: by record key -------------------------------------------------
  kept=0
  other=0
  for k in 1 2 3; do
    "$SLUICE" run p.yaml -t sqlite:r$k.db --shard $k/3 --shard-key id --no-progress -j >out.txt 2>r$k.err
    is $? 0 "shard $k/3 by record key"
    "$SLUICE" export sqlite:r$k.db >r$k.jsonl
    kept=$((kept + $(summary r$k.err records_kept)))
    other=$((other + $(summary r$k.err records_other)))
  done
  is "$kept" 4800 "every record is kept by exactly one shard"
  is "$other" 9600 "... and left by the other two, counted"
  has r2.err '"name":"1:ShardFilter","in":4800,' "the filter's input is every record"
  has r2.err '"errors":0,"skipped":0' "records of other shards are not skips"
  union r.txt r1.jsonl r2.jsonl r3.jsonl
  cmp -s all.txt r.txt
  ok $? "the union of the 3 shards' graphs is the whole graph"
  # Source nodes and their relationships are each written by one shard.
  cat r1.jsonl r2.jsonl r3.jsonl | grep -c '"node":"Person","props"' >n.txt
  is "$(cat n.txt)" 4800 "each person is in one shard's graph only"
  "$SLUICE" run p.yaml -t null: --shard 1/2 --shard-key missing --no-progress >out.txt 2>m.err
  has m.err "the shard key \`missing\` is null; every record without a key goes to one shard" "a null key is warned about"
  grep -qE "^  shard 1/2 by key \`missing\`: (4800 records kept, 0|0 records kept, 4800) left to other shards \(4800 with a null key\)$" m.err
  ok $? "... and counted: all its records go to one shard"
  "$SLUICE" run p.yaml -t null: --shard 1/2 --shard-key 'abs(name)' --no-progress >out.txt 2>e.err
  is $? 0 "a key that cannot be evaluated skips the record"
  has e.err "data/part-00.jsonl:1: shard key \`abs(name)\`" "... naming it"
  has e.err "1:ShardFilter                            4800            0     4800     4800" "... counted as errors and skips"
  "$SLUICE" run p.yaml -t null: --shard 1/2 --shard-key 'abs(name)' --strict --no-progress >out.txt 2>e.err
  is $? 1 "... or fails the run with --strict"
else
  # --- PostgreSQL: two processes at once into one database -------------------
  URI=$(cat "$SLUICE_TEST_PGDIR/uri")
  DB=$(fresh sluice_shard_one)
  "$SLUICE" run p.yaml -t "$DB" --no-progress >out.txt 2>err.txt
  is $? 0 "the whole load in one process"
  "$SLUICE" export "$DB" | strip /dev/stdin >one.txt
  is "$(wc -l <one.txt)" 14707 "4800 people, 300 cities, 7 teams, 9600 relationships"
  for how in file key; do
    opt=()
    [ $how = key ] && opt=(--shard-key id)
    DB=$(fresh sluice_shard_$how)
    "$SLUICE" run p.yaml -t "$DB" --shard 1/2 "${opt[@]}" --batch-size 500 --no-progress >o1.txt 2>e1.txt &
    p1=$!
    "$SLUICE" run p.yaml -t "$DB" --shard 2/2 "${opt[@]}" --batch-size 500 --no-progress >o2.txt 2>e2.txt &
    p2=$!
    wait $p1
    r1=$?
    wait $p2
    r2=$?
    is "$r1 $r2" "0 0" "by $how: shards 1/2 and 2/2 at once into one database"
    is "$(psql -Atq "$DB" -c "SELECT count(*) FROM pg_indexes WHERE tablename = 'rel' AND indexname IN ('sluice_rel_out', 'sluice_rel_in')")" 2 \
      "... the indexes of relationships by end, left to the end of the load, built once"
    "$SLUICE" export "$DB" | strip /dev/stdin >two.txt
    cmp -s one.txt two.txt
    ok $? "... give exactly the graph one process gives"
    cat e1.txt e2.txt | grep -c "SQLSTATE 40P01" >dl.txt
    is "$(cat dl.txt)" 0 "... without a deadlock"
  done

  # Contention: 20000 items, each tagged with 4 of 1000 tags, loaded by two
  # processes at once in batches of 500 (so each lane transaction locks
  # ~100 shared tags).
  mkdir tags
  python3 - <<'EOF'
import json, random
random.seed(7)
n = 0
for f in range(4):
    with open(f"tags/part-{f}.jsonl", "w") as o:
        for i in range(5000):
            o.write(json.dumps({"id": n, "tags": [f"g{random.randrange(1000)}" for _ in range(4)]}) + "\n")
            n += 1
EOF
  cat >tags.yaml <<'EOF'
- implementation: file
  factory: local
  arguments: {globs: ["tags/*.jsonl"]}
- implementation: interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: Item
        key: {id: !jmespath id}
      - type: relationship
        node_type: Tag
        relationship_type: TAGGED
        node_key: {name: !jmespath 'tags[]'}
        find_many: true
EOF
  DB=$(fresh sluice_shard_tags1)
  "$SLUICE" run tags.yaml -t "$DB" --no-progress >out.txt 2>err.txt
  "$SLUICE" export "$DB" | strip /dev/stdin >tags1.txt
  DB=$(fresh sluice_shard_tags2)
  "$SLUICE" run tags.yaml -t "$DB" --shard 1/2 --shard-key id --batch-size 500 --no-progress -v >o1.txt 2>e1.txt &
  p1=$!
  "$SLUICE" run tags.yaml -t "$DB" --shard 2/2 --shard-key id --batch-size 500 --no-progress -v >o2.txt 2>e2.txt &
  p2=$!
  wait $p1
  r1=$?
  wait $p2
  r2=$?
  is "$r1 $r2" "0 0" "two processes sharing 1000 related nodes, in small batches"
  cat e1.txt e2.txt | grep -c "SQLSTATE 40P01" >dl.txt
  is "$(cat dl.txt)" 0 "... never deadlock"
  cat e1.txt e2.txt | grep -c "written again after a deadlock" >dl.txt
  is "$(cat dl.txt)" 0 "... and retry nothing"
  "$SLUICE" export "$DB" | strip /dev/stdin >tags2.txt
  cmp -s tags1.txt tags2.txt
  ok $? "... and give the graph one process gives"
fi

done_testing
