#!/usr/bin/env bash
# The FileExtractor's s3 source end to end through `sluice run`, against a
# real S3-compatible server (s3rver, tests/s3/server.js, which also checks
# SigV4 signatures) on a free loopback port: listing in pages, prefix and
# suffix, gzip objects, object_format, archive_dir, wrong credentials, a
# missing bucket, option errors, a graph equal to the same files read
# locally, and --shard splitting the objects.
#
# usage: test_s3_cli.sh path/to/sluice path/to/node
set -u
. "$(cd "$(dirname "$0")" && pwd)/tap.sh"
SLUICE=$(realpath "$1")
NODE=${2:-node}
SRC=$(cd "$(dirname "$0")/.." && pwd)
. "$SRC/tests/graph_lib.sh"
T=$(mktemp -d /tmp/sluice-s3cli-XXXXXX)
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT
cd "$T" || exit 1

"$NODE" --openssl-legacy-provider "$SRC/tests/s3/server.js" "$T/s3data" \
  "$T/port" data >server.log 2>&1 &
SERVER=$!
for _ in $(seq 200); do [ -s port ] && break; sleep 0.1; done
[ -s port ] || { echo "Bail out! s3rver did not start"; cat server.log; exit 1; }
P=$(cat port)
export AWS_ENDPOINT_URL="http://127.0.0.1:$P" AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
unset AWS_SESSION_TOKEN AWS_ENDPOINT_URL_S3 AWS_DEFAULT_REGION AWS_PROFILE
export AWS_SHARED_CREDENTIALS_FILE="$T/no-credentials" AWS_CONFIG_FILE="$T/no-config"

# s3curl ARGS...: curl signing as the test account.
s3curl() {
  curl -sS --aws-sigv4 aws:amz:us-east-1:s3 --user S3RVER:S3RVER "$@"
}
# put FILE KEY: upload FILE as KEY (the key URL-encoded by the caller).
put() {
  local h
  h=$(sha256sum "$1" | cut -d' ' -f1)
  s3curl -f -o /dev/null -H "x-amz-content-sha256: $h" -X PUT \
    --data-binary "@$1" "$AWS_ENDPOINT_URL/data/$2"
}
# keys PREFIX: the keys under PREFIX, one a line, sorted.
keys() {
  s3curl -H "x-amz-content-sha256: $(printf '' | sha256sum | cut -d' ' -f1)" \
    "$AWS_ENDPOINT_URL/data?list-type=2&prefix=$1" |
    grep -o '<Key>[^<]*</Key>' | sed 's/<[^>]*>//g' | sort
}

# Fixtures: 13 JSON-lines files (one with a key that needs escaping in
# XML and in URLs), a text file, gzip copies, odd-suffixed copies.
mkdir -p local/in
python3 - <<'EOF' || exit 1
import json, random
random.seed(7)
names = [f"part-{i:02d}.jsonl" for i in range(12)] + ["odd & key +(1).jsonl"]
for n, name in enumerate(names):
    with open(f"local/in/{name}", "w") as o:
        for i in range(50):
            p = n * 50 + i
            o.write(json.dumps({"id": p, "name": f"p{p}",
                                "city": f"c{random.randrange(40)}"}) + "\n")
EOF
printf 'line one\nline two\n' >local/readme.txt
for f in local/in/part-*.jsonl; do
  b=$(basename "$f")
  put "$f" "in/$b" || { echo "Bail out! cannot upload $b"; exit 1; }
done
put "local/in/odd & key +(1).jsonl" "in/odd%20%26%20key%20%2B%281%29.jsonl"
put local/readme.txt in/readme.txt
for i in 00 01 02; do
  gzip -c "local/in/part-$i.jsonl" >"part-$i.jsonl.gz"
  put "part-$i.jsonl.gz" "gz/part-$i.jsonl.gz"
  put "local/in/part-$i.jsonl" "fmt/part-$i.data"
  put "local/in/part-$i.jsonl" "mv/part-$i.jsonl"
done
is "$(keys in%2F | wc -l)" 14 "the fixtures are in the bucket"

# s3_pipe FILE OPTION...: a FileExtractor with one s3 source (bucket data,
# the option lines given) and an Interpreter (none with BARE=1).
s3_pipe() {
  local out=$1
  shift
  {
    echo "- implementation: nodestream.pipeline.extractors:FileExtractor"
    echo "  arguments:"
    echo "    sources:"
    echo "      - type: s3"
    echo "        bucket: data"
    for a in "$@"; do echo "        $a"; done
    [ "${BARE:-}" = 1 ] || cat <<'EOF'
- implementation: nodestream.interpreting:Interpreter
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
EOF
  } >"$out"
}

# run FILE [OPTIONS]: run it; the records in rec.jsonl, the output in
# out.txt, the exit status in $rc.
run() {
  rm -f rec.jsonl
  SLUICE_RECORDS_OUT="$T/rec.jsonl" "$SLUICE" run "$@" --no-progress \
    >out.txt 2>&1
  rc=$?
  [ -f rec.jsonl ] || : >rec.jsonl
}

# --- listing in pages, and the graph equals the local files' --------------
# Both pipelines are named "pipe" (the name is in the graph's properties).
mkdir s3run localrun
s3_pipe s3run/pipe.yaml "prefix: in/" "suffix: .jsonl" "page_size: 4"
run s3run/pipe.yaml -t sqlite:s3.db -vv
is "$rc" 0 "an s3 source with 4 keys a page runs"
is "$(grep -c 'reading s3://data/in/' out.txt)" 13 "... reads the 13 objects of 4 pages"
has out.txt "reading s3://data/in/odd & key +(1).jsonl" "... a key escaped in XML and in the URL"
is "$(grep -c 'listing s3://data/in/, page' out.txt)" 4 "... listed in 4 requests"
first_read=$(grep -n 'reading s3://' out.txt | head -1 | cut -d: -f1)
page2=$(grep -n 'listing s3://data/in/, page 2' out.txt | cut -d: -f1)
last_read=$(grep -n 'reading s3://' out.txt | tail -1 | cut -d: -f1)
[ "$first_read" -lt "$page2" ] && [ "$page2" -lt "$last_read" ]
ok $? "... a page's objects are read before the next page is listed"
cat >localrun/pipe.yaml <<'EOF'
- implementation: nodestream.pipeline.extractors:FileExtractor
  arguments:
    sources:
      - type: local
        globs: ["local/in/*.jsonl"]
EOF
sed -n '/Interpreter/,$p' s3run/pipe.yaml >>localrun/pipe.yaml
run localrun/pipe.yaml -t sqlite:local.db
is "$rc" 0 "the same files read locally"
"$SLUICE" export sqlite:s3.db >s3.jsonl && "$SLUICE" export sqlite:local.db >local.jsonl
strip s3.jsonl >s3.txt
strip local.jsonl >local.txt
is "$(wc -l <s3.txt)" $((650 + 40 + 650)) "650 people, 40 cities, 650 relationships"
cmp -s s3.txt local.txt
ok $? "sluice export of the S3 run equals the local run's"

# --- prefix and suffix -------------------------------------------------------
s3_pipe p.yaml "prefix: in/part-0" "page_size: 3"
run p.yaml -t null: -vv
is "$(grep -c 'reading s3://data/in/part-0' out.txt)" 10 "prefix in/part-0 reads part-00 to part-09"
s3_pipe p.yaml "prefix: in/" "suffix: .txt"
run p.yaml -t null: -vv
is "$(grep -c 'reading s3://' out.txt)" 1 "suffix .txt reads only readme.txt"
has out.txt "reading s3://data/in/readme.txt" "... that one"
BARE=1 s3_pipe p.yaml "prefix: in/"
run p.yaml
is "$rc" 0 "no suffix: every object under the prefix"
is "$(grep -c '"id"' rec.jsonl)" 650 "... 650 JSON records"
is "$(grep -c 'line ' rec.jsonl)" 2 "... and readme.txt's two lines"

# order: s3 (only readme.txt) and local (part-05) sources, both ways round
for first in s3 local; do
  {
    echo "- implementation: nodestream.pipeline.extractors:FileExtractor"
    echo "  arguments:"
    echo "    sources:"
    s3src='      - {type: s3, bucket: data, prefix: in/readme}'
    localsrc='      - {type: local, globs: [local/in/part-05.jsonl]}'
    if [ $first = s3 ]; then echo "$s3src"; echo "$localsrc"
    else echo "$localsrc"; echo "$s3src"; fi
  } >o.yaml
  run o.yaml
  is "$(wc -l <rec.jsonl)" 52 "sources s3 and local, $first first: every record"
  if [ $first = s3 ]; then grep -q 'line one' <(head -1 rec.jsonl)
  else grep -q 'line two' <(tail -1 rec.jsonl); fi
  ok $? "... the $first source's first, as listed"
done

# --- gzip objects and object_format -----------------------------------------
s3_pipe p.yaml "prefix: gz/"
run p.yaml -t null:
is "$rc" 0 "gzip objects"
is "$(wc -l <rec.jsonl)" 150 "... decompressed: 3 x 50 records"
s3_pipe p.yaml "prefix: fmt/" "suffix: .data" "object_format: .jsonl"
run p.yaml -t null:
is "$rc" 0 "object_format with suffix"
is "$(wc -l <rec.jsonl)" 150 "... reads .data objects as JSON lines"
s3_pipe p.yaml "prefix: fmt/" "object_format: .jsonl"
run p.yaml -t null:
is "$(wc -l <rec.jsonl)" 0 "object_format without suffix filters by it (as Nodestream)"
s3_pipe p.yaml "prefix: fmt/"
run p.yaml -t null: --strict
is "$rc" 1 "an unknown suffix fails a --strict run"
has out.txt "s3://data/fmt/part-00.data" "... naming the object"

# --- archive_dir -------------------------------------------------------------
s3_pipe p.yaml "prefix: mv/" "archive_dir: mv/done"
run p.yaml -t null:
is "$rc" 0 "archive_dir: the run"
is "$(wc -l <rec.jsonl)" 150 "... reads the 3 objects"
is "$(keys mv%2F | tr '\n' ' ')" "mv/done/part-00.jsonl mv/done/part-01.jsonl mv/done/part-02.jsonl " \
  "... and moves them to the archive"
run p.yaml -t null:
is "$rc" 0 "a second run"
is "$(wc -l <rec.jsonl)" 0 "... finds nothing left (the archive is not read)"

# --- errors ------------------------------------------------------------------
s3_pipe p.yaml "prefix: in/"
AWS_SECRET_ACCESS_KEY=not-the-secret-42 run p.yaml -t null:
is "$rc" 1 "a wrong secret key fails the run"
has out.txt "GET s3://data/in/: HTTP 403 (SignatureDoesNotMatch" "... with the status, the bucket and S3's code"
grep -q "not-the-secret-42" out.txt
is $? 1 "... and never shows the secret"
AWS_ACCESS_KEY_ID=NOBODY run p.yaml -t null:
is "$rc" 1 "an unknown access key fails the run"
has out.txt "HTTP 403 (InvalidAccessKeyId" "... with S3's code"
s3_pipe p.yaml "prefix: in/" "aws_access_key_id: S3RVER" "aws_secret_access_key: explicit-secret-77"
run p.yaml -t null: -vvv
is "$rc" 1 "explicit wrong keys in the pipeline fail the run"
grep -q "explicit-secret-77" out.txt
is $? 1 "... the secret shows nowhere, even at -vvv"
BARE=1 s3_pipe p.yaml "prefix: in/" "aws_access_key_id: S3RVER" "aws_secret_access_key: S3RVER" "page_size: 100"
AWS_SECRET_ACCESS_KEY=wrong run p.yaml
is "$rc" 0 "explicit right keys replace the environment's"
is "$(wc -l <rec.jsonl)" 652 "... and read everything"
sed -i 's/bucket: data/bucket: nope/' p.yaml
run p.yaml -t null:
is "$rc" 1 "a missing bucket fails the run"
has out.txt "s3://nope/in/: HTTP 404 (NoSuchBucket" "... naming the bucket and S3's code"
(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY; s3_pipe p.yaml; run p.yaml -t null:; echo "$rc" >rc.txt)
is "$(cat rc.txt)" 1 "no credentials fail the run"
has out.txt "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" "... naming the variables"
printf '[loader]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n' >creds
(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
 export AWS_SHARED_CREDENTIALS_FILE="$T/creds"
 BARE=1 s3_pipe p.yaml "prefix: in/" "profile_name: loader"
 run p.yaml; echo "$rc $(wc -l <rec.jsonl)" >rc.txt)
is "$(cat rc.txt)" "0 652" "profile_name reads the keys of ~/.aws/credentials"
s3_pipe p.yaml "prefx: in/"
run p.yaml -t null:
is "$rc" 1 "an unknown option fails"
has out.txt "unknown option 'prefx'" "... naming it"
s3_pipe p.yaml "assume_role_arn: arn:aws:iam::1:role/x"
run p.yaml -t null:
is "$rc" 1 "assume_role_arn with keys STS does not know fails (tests/test_s3_sts.sh has the rest)"
has out.txt "AssumeRole arn:aws:iam::1:role/x (STS $AWS_ENDPOINT_URL/): HTTP 403 (InvalidClientTokenId" "... naming the role and STS's code (S3RVER is no STS account here)"
s3_pipe p.yaml "object_format: json"
run p.yaml -t null:
is "$rc" 1 "object_format without a dot is refused"
has out.txt "expected a file suffix such as '.json', got 'json'" "... saying what it expects"
AWS_ENDPOINT_URL=http://127.0.0.1:1 run s3run/pipe.yaml -t null:
is "$rc" 1 "a refused connection fails the run"
has out.txt "127.0.0.1" "... naming the endpoint"

# --- --shard splits the objects --------------------------------------------
files=0
for k in 1 2; do
  run s3run/pipe.yaml -t sqlite:sh$k.db --shard $k/2 -j
  is "$rc" 0 "shard $k/2"
  "$SLUICE" export sqlite:sh$k.db >sh$k.jsonl
  files=$((files + $(sed -nE 's/.*"files_kept":([0-9]+).*/\1/p' out.txt)))
done
is "$files" 13 "every object is read by exactly one shard"
cat sh1.jsonl sh2.jsonl | strip /dev/stdin | sort -u >sh.txt
cmp -s sh.txt s3.txt
ok $? "the union of the shards' graphs is the whole graph"

# --- checkpoints in an s3 store (storage: type s3, --storage-backend) -----
# Enough records that the kill after the first checkpoint lands before the
# run has written them all (18,000 were once written within the ~50 ms
# the bucket listing takes).
mkdir -p ck/in
python3 - <<'EOF' || exit 1
import json
for f in range(3):
    with open("ck/in/part%d.jsonl" % f, "w") as o:
        for i in range(25000):
            n = f * 25000 + i
            o.write(json.dumps({"id": n, "u": "u%d" % (n % 97)}) + "\n")
EOF
cat >ck/p.yaml <<'EOF'
- implementation: nodestream.pipeline.extractors:FileExtractor
  factory: local
  arguments: {globs: [in/*.jsonl]}
- implementation: nodestream.interpreting:Interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: E
        key: {id: !jmespath id}
      - type: relationship
        node_type: U
        relationship_type: BY
        node_key: {u: !jmespath u}
        relationship_creation_rule: CREATE
EOF
cat >ck/nodestream.yaml <<'EOF'
storage:
  stores:
    - name: bucket
      type: s3
      bucket_name: data
      region_name: us-east-1
    - name: nobucket
      type: s3
      bucket_name: no-such-bucket
EOF
(cd ck && "$SLUICE" run p.yaml -t sqlite:ref.db --no-progress -q)
"$SLUICE" export sqlite:ck/ref.db | strip /dev/stdin >ck/ref.txt
(cd ck && exec "$SLUICE" run p.yaml -t sqlite:k.db --storage-backend bucket \
  --checkpoint-interval 0.01 --no-progress >k1.log 2>&1) &
pid=$!
for _ in $(seq 1 500); do
  keys "" | grep -q extractor_progress_checkpoint && break
  sleep 0.01
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
st=$?
obj=$(keys "" | grep extractor_progress_checkpoint)
sum=$(sha256sum ck/p.yaml | cut -c1-64)
is "$obj" "p-$sum/0/extractor_progress_checkpoint" \
  "the checkpoint is the bucket's object <stem>-<sha256>/<step>/extractor_progress_checkpoint"
(cd ck && "$SLUICE" run p.yaml -t sqlite:k.db --storage-backend bucket \
  --no-progress -v >k2.log 2>&1)
is $? 0 "the run killed (status $st) runs again from the s3 store"
[ "$st" -ne 137 ] || has ck/k2.log "resuming from a checkpoint" "... and resumes"
"$SLUICE" export sqlite:ck/k.db | strip /dev/stdin >ck/k.txt
cmp -s ck/ref.txt ck/k.txt
ok $? "the graph equals an uninterrupted run's"
is "$(keys "" | grep -c extractor_progress_checkpoint)" 0 \
  "the finished run deleted its checkpoint from the bucket"
(cd ck && "$SLUICE" run p.yaml -t null: --storage-backend nobucket \
  --no-progress >nb.log 2>&1)
ok $([ $? -ne 0 ] && echo 0 || echo 1) "an s3 store whose bucket is missing fails the run"
has ck/nb.log "no-such-bucket" "... naming the bucket"
grep -q S3RVER ck/*.log
ok $([ $? -ne 0 ] && echo 0 || echo 1) "no key appears in the logs"

done_testing
