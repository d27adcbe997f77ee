#!/usr/bin/env bash
# S3 with assume_role_arn: sluice calls STS AssumeRole with the base
# credentials and reads S3 with the temporary ones, renewing them before
# they expire. The peer is tests/s3/server.js (s3rver behind a SigV4
# verifier) with its STS endpoint on: it checks the base account's
# signature, the role and the ExternalId, and hands out credentials that
# last 6 seconds (the first renewal fails three times, as a transient STS
# failure would; STS's clock is an hour behind, so its Expiration is in the
# past by ours and only its Date header tells the lifetime); S3 accepts those only with their session token and only
# until they expire, and does not know the base account at all.
#
# usage: test_s3_sts.sh path/to/sluice path/to/node
set -u
. "$(cd "$(dirname "$0")" && pwd)/tap.sh"
SLUICE=$(realpath "$1")
NODE=${2:-node}
SRC=$(cd "$(dirname "$0")/.." && pwd)
. "$SRC/tests/graph_lib.sh"
T=$(mktemp -d /tmp/sluice-s3sts-XXXXXX)
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT
cd "$T" || exit 1

ROLE=arn:aws:iam::000000000000:role/loader
EXT=ext-4711
BASE_SECRET=base-secret-9f3c
TTL=6
S3PEER_STS_KEYS="BASEKEY:$BASE_SECRET" S3PEER_STS_ROLE=$ROLE \
  S3PEER_STS_EXTERNAL_ID=$EXT S3PEER_STS_TTL=$TTL S3PEER_LOG="$T/peer.log" \
  S3PEER_GET_DELAY_MS=700 S3PEER_STS_FAIL=2,3,4 S3PEER_STS_CLOCK=-3600 \
  "$NODE" --openssl-legacy-provider "$SRC/tests/s3/server.js" "$T/s3data" \
  "$T/port" data >server.log 2>&1 &
SERVER=$!
for _ in $(seq 200); do [ -s port ] && break; sleep 0.1; done
[ -s port ] || { echo "Bail out! s3rver did not start"; cat server.log; exit 1; }
P=$(cat port)
EP="http://127.0.0.1:$P"
export AWS_ENDPOINT_URL=$EP AWS_REGION=us-east-1
unset AWS_SESSION_TOKEN AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_STS \
  AWS_DEFAULT_REGION AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
export AWS_SHARED_CREDENTIALS_FILE="$T/no-credentials" AWS_CONFIG_FILE="$T/no-config"
: >peer.log

# put FILE KEY: upload FILE as KEY with s3rver's own account.
put() {
  curl -sS -f -o /dev/null --aws-sigv4 aws:amz:us-east-1:s3 --user S3RVER:S3RVER \
    -H "x-amz-content-sha256: $(sha256sum "$1" | cut -d' ' -f1)" -X PUT \
    --data-binary "@$1" "$EP/data/$2"
}

# Fixtures: 22 JSON-lines objects; at 0.7 s a GET with temporary
# credentials (one GET started ahead), reading them takes longer than the
# credentials last.
mkdir -p local
python3 - <<'EOF' || exit 1
import json, random
random.seed(11)
for f in range(22):
    with open(f"local/part-{f:02d}.jsonl", "w") as o:
        for i in range(40):
            p = f * 40 + i
            o.write(json.dumps({"id": p, "city": f"c{random.randrange(30)}"}) + "\n")
EOF
for f in local/*.jsonl; do
  put "$f" "in/$(basename "$f")" || { echo "Bail out! cannot upload $f"; exit 1; }
done

# pipe FILE OPTION...: an s3 source (bucket data, prefix in/, the option
# lines given) and an Interpreter.
pipe() {
  local out=$1
  shift
  {
    echo "- implementation: nodestream.pipeline.extractors:FileExtractor"
    echo "  arguments:"
    echo "    sources:"
    echo "      - type: s3"
    echo "        bucket: data"
    for a in "$@"; do echo "        $a"; done
    cat <<'EOF'
- implementation: nodestream.interpreting:Interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: Person
        key: {id: !jmespath id}
      - type: relationship
        node_type: City
        relationship_type: LIVES_IN
        node_key: {name: !jmespath city}
EOF
  } >"$out"
}

# run FILE [OPTIONS]: run it; output in out.txt, status in $rc, the peer's
# log lines of this run in run.log.
run() {
  local before
  before=$(wc -l <peer.log)
  "$SLUICE" run "$@" --no-progress >out.txt 2>&1
  rc=$?
  tail -n +$((before + 1)) peer.log >run.log
}

# --- the graph with plain credentials, and with the role ------------------
mkdir plain role
pipe plain/pipe.yaml "prefix: in/"
AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER run plain/pipe.yaml -t sqlite:plain.db
is "$rc" 0 "plain credentials: the run"
"$SLUICE" export sqlite:plain.db | strip /dev/stdin >plain.txt
is "$(wc -l <plain.txt)" $((880 + 30 + 880)) "... 880 people, 30 cities, 880 relationships"
is "$(grep -c '^sts ' run.log)" 0 "... and no STS call"

pipe role/pipe.yaml "prefix: in/" "assume_role_arn: $ROLE" "assume_role_external_id: $EXT"
export AWS_ACCESS_KEY_ID=BASEKEY AWS_SECRET_ACCESS_KEY=$BASE_SECRET
t0=$(date +%s.%N)
run role/pipe.yaml -t sqlite:role.db -vvv
t1=$(date +%s.%N)
is "$rc" 0 "assume_role_arn: the run"
"$SLUICE" export sqlite:role.db | strip /dev/stdin >role.txt
cmp -s plain.txt role.txt
ok $? "... loads the same graph as plain credentials"
assumed=$(grep -c "^sts ok $ROLE " run.log)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
echo "# the run took $secs s with credentials of $TTL s; AssumeRole $assumed times"
ok $(awk -v s="$secs" -v t="$TTL" 'BEGIN { exit !(s > t) }'; echo $?) "... outlasts the temporary credentials ($TTL s)"
ok $([ "$assumed" -ge 2 ]; echo $?) "... assumes the role again before they expire ($assumed calls)"
is "$(grep '^sts ok' run.log | grep -c ' noduration$')" "$assumed" "... without DurationSeconds, as Nodestream"
used=$(grep '^s3 ASIA' run.log | cut -d' ' -f2 | sort -u | wc -l)
ok $([ "$used" -ge 2 ]; echo $?) "... S3 requests signed with $used successive temporary keys"
is "$(grep -c '^s3 BASEKEY\|^s3 S3RVER' run.log)" 0 "... and never with the base keys"
is "$(grep -c '^s3 expired\|^s3 badtoken' run.log)" 0 "... none expired or without its token"
is "$(grep -c "^s3 ASIA.* GET /data/in/part-" run.log)" 22 "... every object read with them"
has out.txt "assumed role $ROLE" "... and it says so"
is "$(grep -c '^sts fail ServiceUnavailable' run.log)" 3 "... STS failing the first renewal three times"
has out.txt "trying again in 0.25 s" "... which is tried again"
has out.txt "renewing the credentials of role $ROLE failed" "... then warned about, the current ones still good"
sessions=$(grep '^sts ok' run.log | cut -d' ' -f5 | sort -u | wc -l)
is "$sessions" "$assumed" "... a new session name each time"
grep -q "$BASE_SECRET\|FwoGZXIvYXdzE" out.txt
is $? 1 "... no secret or session token in the output at -vvv"

# --- the base keys alone cannot read S3 ------------------------------------
pipe p.yaml "prefix: in/part-00"
run p.yaml -t null:
is "$rc" 1 "without the role, the base keys cannot read the bucket"
has out.txt "InvalidAccessKeyId" "... S3 does not know them"

# --- STS errors --------------------------------------------------------------
pipe p.yaml "prefix: in/" "assume_role_arn: $ROLE" "assume_role_external_id: wrong-id"
run p.yaml -t null:
is "$rc" 1 "a wrong ExternalId fails the run"
has out.txt "AssumeRole $ROLE (STS $EP/): HTTP 403 (AccessDenied" "... naming the role, the endpoint and STS's code"
has out.txt "GET s3://data/in/" "... and the listing it was for"
pipe p.yaml "prefix: in/" "assume_role_arn: $ROLE"
run p.yaml -t null:
is "$rc" 1 "no ExternalId when the role demands one fails too"
has out.txt "AccessDenied" "... with STS's code"
pipe p.yaml "prefix: in/" "assume_role_arn: ${ROLE}x" "assume_role_external_id: $EXT"
run p.yaml -t null:
is "$rc" 1 "another role fails"
has out.txt "AssumeRole ${ROLE}x" "... naming it"
pipe p.yaml "prefix: in/" "assume_role_arn: $ROLE" "assume_role_external_id: $EXT"
AWS_SECRET_ACCESS_KEY=not-the-base-secret-5 run p.yaml -t null: -vvv
is "$rc" 1 "a wrong base secret fails the run"
has out.txt "AssumeRole $ROLE (STS $EP/): HTTP 403 (SignatureDoesNotMatch" "... naming the role and STS's code"
grep -q "not-the-base-secret-5" out.txt
is $? 1 "... never showing the secret"
AWS_ACCESS_KEY_ID=NOBODY run p.yaml -t null:
is "$rc" 1 "an unknown base key fails the run"
has out.txt "HTTP 403 (InvalidClientTokenId" "... with STS's code"
(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY; run p.yaml -t null:; echo "$rc" >rc.txt)
is "$(cat rc.txt)" 1 "no base credentials fail the run"
has out.txt "no AWS credentials" "... saying so"
AWS_ENDPOINT_URL=http://127.0.0.1:1 run p.yaml -t null:
is "$rc" 1 "an STS that cannot be reached fails the run"
has out.txt "AssumeRole $ROLE (STS http://127.0.0.1:1/)" "... naming the role and the endpoint"
pipe p.yaml "prefix: in/" "assume_role_arn: loader"
run p.yaml -t null:
is "$rc" 1 "a role that is not an ARN is refused"
has out.txt "expected a role ARN (arn:aws:iam::ACCOUNT:role/NAME), got 'loader'" "... saying what is expected"

# --- the STS and S3 endpoints given in the pipeline --------------------------
pipe p.yaml "prefix: in/part-01" "assume_role_arn: $ROLE" \
  "assume_role_external_id: $EXT" "endpoint_url: $EP" "sts_endpoint_url: $EP/"
(unset AWS_ENDPOINT_URL; run p.yaml -t null: -j; echo "$rc" >rc.txt)
is "$(cat rc.txt)" 0 "endpoint_url and sts_endpoint_url without AWS_ENDPOINT_URL"
is "$(grep -c '^sts ok' run.log)" 1 "... one AssumeRole"
pipe p.yaml "prefix: in/part-01" "assume_role_arn: $ROLE" \
  "assume_role_external_id: $EXT" "endpoint_url: $EP"
AWS_ENDPOINT_URL_STS=http://127.0.0.1:1 run p.yaml -t null:
is "$rc" 1 "AWS_ENDPOINT_URL_STS comes before AWS_ENDPOINT_URL, and endpoint_url is S3's only"
has out.txt "AssumeRole $ROLE (STS http://127.0.0.1:1/)" "... naming the STS endpoint it tried"

# --- an s3 object store with the role (checkpoints) --------------------------
mkdir -p ck/in
python3 - <<'EOF' || exit 1
import json
with open("ck/in/a.jsonl", "w") as o:
    for i in range(5000):
        o.write(json.dumps({"id": i, "u": "u%d" % (i % 50)}) + "\n")
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
EOF
cat >ck/nodestream.yaml <<EOF
storage:
  stores:
    - name: bucket
      type: s3
      bucket_name: data
      assume_role_arn: $ROLE
      assume_role_external_id: $EXT
    - name: denied
      type: s3
      bucket_name: data
      assume_role_arn: $ROLE
      assume_role_external_id: nope
EOF
(cd ck && "$SLUICE" run p.yaml -t sqlite:k.db --storage-backend bucket \
  --checkpoint-interval 0.001 --no-progress >../out.txt 2>&1; echo $? >../rc.txt)
is "$(cat rc.txt)" 0 "an s3 store with assume_role_arn: the run"
ok $(grep -q '^s3 ASIA[A-Z2-7]* PUT /data/p-[0-9a-f]*/0/extractor_progress_checkpoint' peer.log; echo $?) \
  "... writes its checkpoints with the temporary credentials"
ok $(grep -q '^s3 ASIA[A-Z2-7]* DELETE /data/p-[0-9a-f]*/0/extractor_progress_checkpoint' peer.log; echo $?) \
  "... and deletes the finished run's with them"
is "$("$SLUICE" export sqlite:ck/k.db | grep -c '"node"')" 5000 "... and loads every record"
(cd ck && "$SLUICE" run p.yaml -t null: --storage-backend denied \
  --no-progress >../out.txt 2>&1; echo $? >../rc.txt)
ok $([ "$(cat rc.txt)" -ne 0 ]; echo $?) "an s3 store whose role is denied fails the run"
has out.txt "AssumeRole $ROLE" "... naming the role"
has out.txt "AccessDenied" "... and STS's code"

done_testing
