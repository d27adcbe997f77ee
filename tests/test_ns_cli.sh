#!/usr/bin/env bash
# Drop-in command lines: sluice against what real Nodestream 0.16.1 does
# with the same project and command line. Each case states Nodestream's
# recorded behaviour (exit status and the output that matters, run with
# /work/nodestream-src/ns on the project below) in a comment, then checks
# sluice: the same where sluice does the same, or the documented
# difference (docs/nodestream.md) where it cannot. The drop-in harness
# replays the Nodestream side of the main cases from its recordings
# (tests/dropin/cli_*); this file adds what only sluice has to say: long
# forms, -q, the messages of refused options, writer options.
#
# usage: test_ns_cli.sh path/to/sluice
set -u
. "$(cd "$(dirname "$0")" && pwd)/tap.sh"
SLUICE=$(realpath "$1")
T=$(mktemp -d /tmp/sluice-nscli-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

cat >p1.yaml <<'EOF'
- implementation: nodestream.pipeline:IterableExtractor
  factory: range
  arguments: {stop: 3}
- implementation: nodestream.interpreting:Interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: Number
        key: {n: !jmespath index}
EOF
cp p1.yaml p2.yaml
cat >nodestream.yaml <<'EOF'
scopes:
  s1:
    annotations: {who: scope, only_scope: 1}
    targets: [db]
    pipelines:
      - path: p1.yaml
        annotations: {who: pipeline, own: true}
      - p2.yaml
  s2:
    pipelines:
      - path: p2.yaml
        name: other
        targets: [db]
targets:
  db:
    database: "null"
  graph:
    database: sqlite
    path: graph.db
EOF

# --- annotations: the pipeline's own value wins ----------------------------
# Nodestream: PipelineConfiguration.effective_annotations of s1/p1 is
# {'who': 'pipeline', 'only_scope': 1, 'own': True} (the scope's keys,
# updated with the pipeline's); of s1/p2 {'who': 'scope', 'only_scope': 1}.
"$SLUICE" show -s s1 >out.txt 2>err.txt
is $? 0 "show -s s1"
has out.txt "| who: pipeline, only_scope: 1, own: true" \
  "p1: its own 'who' wins, in Nodestream's key order"
has out.txt "| who: scope, only_scope: 1" "p2: the scope's annotations"

# --- show -j -------------------------------------------------------------
# Nodestream: exit 0, stdout exactly this array (no newline after it).
"$SLUICE" show -j >out.txt 2>err.txt
is $? 0 "show -j"
is "$(cat out.txt)" '[{"path": "p1.yaml", "annotations": {"who": "pipeline", "own": true}}, "p2.yaml", {"path": "p2.yaml", "name": "other", "targets": ["db"]}]' \
  "show -j prints Nodestream's JSON array"
# Nodestream: `show -j -s s2` prints the s2 entries only.
"$SLUICE" show --json --scope s2 >out.txt 2>err.txt
is "$(cat out.txt)" '[{"path": "p2.yaml", "name": "other", "targets": ["db"]}]' \
  "show --json --scope s2"
# Nodestream: `show -j -v` prints every key of every entry (after two
# "Running: ..." lines on stdout, which sluice leaves out).
"$SLUICE" show -j -v -s s1 >out.txt 2>err.txt
is "$(cat out.txt)" '[{"path": "p1.yaml", "name": "p1", "targets": [], "annotations": {"who": "pipeline", "own": true}, "exclude_inherited_targets": false}, {"path": "p2.yaml", "name": "p2", "targets": [], "annotations": {}, "exclude_inherited_targets": false}]' \
  "show -j -v: every key"
# Nodestream: `show -s nope` exits 1 (a KeyError printed as 'nope').
"$SLUICE" show -s nope >out.txt 2>err.txt
is $? 1 "show -s of an unknown scope fails"
has err.txt "no scope 'nope'" "... naming it"

# --- an unknown -t ---------------------------------------------------------
# Nodestream: exit 1 before running anything, stderr "Target nope not
# specified in the project." (Project.get_target_by_name raises; the
# "Ignoring" branch of RunPipeline is never reached).
"$SLUICE" run p1 -t nope >out.txt 2>err.txt
is $? 1 "run -t of an unknown target fails"
has err.txt "no target 'nope'" "... naming it"
grep -q "finished\|FAILED" err.txt
is $? 1 "... before running anything"
is "$(wc -c <out.txt)" 0 "... nothing on stdout"

# --- run options -----------------------------------------------------------
# Nodestream: exit 0 with --annotations, -a, -r, -s, -j, -v, -n, --ansi,
# --no-ansi, --metrics-interval-in-seconds and the --prometheus-* settings
# (without --prometheus they change nothing).
"$SLUICE" run p1 --annotations x -a y -r 1 -s 5 -j -v -n --no-ansi \
  --metrics-interval-in-seconds 1 --prometheus-listen-port 9090 \
  --prometheus-listen-address 0.0.0.0 --prometheus-certfile c \
  --prometheus-keyfile k >out.txt 2>err.txt
is $? 0 "run with Nodestream's options"
has err.txt '"status":"ok"' "... -j: JSON summary"
"$SLUICE" run p1 --reporting-frequency 1000 --step-outbox-size 10 -vv \
  --ansi -q >out.txt 2>err.txt
is $? 0 "run with the long forms, -vv and -q"
is "$(wc -c <err.txt)" 0 "... -q: no summary, no progress"
"$SLUICE" run p1 -r 0 >out.txt 2>err.txt
is $? 2 "-r 0 is a usage error"
has err.txt "--reporting-frequency" "... naming the option"
"$SLUICE" run -V >out.txt 2>err.txt
is $? 0 "run -V"
has out.txt "sluice " "... prints the version"

# Nodestream: --storage-backend NAME (an unknown NAME too) exits 0, running
# without checkpoints. sluice keeps checkpoints in the store NAME names: an
# unknown NAME is an error naming it (test_resume.sh runs checkpoints).
"$SLUICE" run p1 --storage-backend local >out.txt 2>err.txt
is $? 1 "--storage-backend with a store the project lacks fails"
has err.txt "no store 'local'" "... naming the store"
# Nodestream: --prometheus starts a metrics server for the run (scrapes
# are tested in test_metrics_cli.sh); port 0 takes any free port.
"$SLUICE" run p1 --prometheus --prometheus-listen-port 0 \
  --prometheus-listen-address 127.0.0.1 >out.txt 2>err.txt
is $? 0 "--prometheus runs the pipeline"
has err.txt "prometheus: serving http://127.0.0.1:" "... serving /metrics"

# Nodestream: `run p1 --auto-migrate -t db` exits 1 with 'The option
# "--targets" does not exist' (its command reads an option that is not
# there); what it means is "migrate the -t targets first", which sluice
# does.
"$SLUICE" run p1 --auto-migrate -t graph >out.txt 2>err.txt
is $? 0 "run --auto-migrate -t graph"
has err.txt "graph: 2 migrations applied" "... migrated the target first"
is "$("$SLUICE" export graph | grep -c '"node":"Number"')" 3 \
  "... then ran into it"
"$SLUICE" run --auto-migrate -t graph -q >out.txt 2>err.txt
is $? 0 "again, every pipeline"
is "$(wc -c <err.txt)" 0 "... -q: silent"

# --- writer options -------------------------------------------------------
# Nodestream: a target's (or a GraphDatabaseWriter's) collect_stats,
# ingest_strategy_name and flush_concurrency configure its writer. sluice
# honours flush_concurrency where a store has lanes (PostgreSQL, Neo4j;
# checked in test_project and graph_pg) and says in one info line what it
# ignores.
cat >w.yaml <<'EOF'
- implementation: nodestream.pipeline:IterableExtractor
  factory: range
  arguments: {stop: 3}
- implementation: nodestream.databases:GraphDatabaseWriter
  arguments:
    target: "null:"
    batch_size: 2
    flush_concurrency: 4
    collect_stats: true
    ingest_strategy_name: default
EOF
SLUICE_LOG_LEVEL=info "$SLUICE" validate w.yaml >out.txt 2>err.txt
is $? 0 "a writer with Nodestream's writer options"
has err.txt "arguments.flush_concurrency: ignored; this store writes in one lane" \
  "... flush_concurrency of a null store: one info line"
has err.txt "arguments.collect_stats: ignored" "... collect_stats: one info line"
has err.txt "arguments.ingest_strategy_name: ignored" \
  "... ingest_strategy_name: one info line"
cat >>nodestream.yaml <<'EOF'
  opts:
    database: "null"
    collect_stats: true
    flush_concurrency: 2
    username: someone
    password: s3cret
EOF
SLUICE_LOG_LEVEL=info "$SLUICE" run p1 -t opts >out.txt 2>err.txt
is $? 0 "a project target with writer options and credentials"
has err.txt "targets.opts.collect_stats: ignored" "... collect_stats: info"
has err.txt "targets.opts.flush_concurrency: ignored" "... flush_concurrency: info"
has err.txt "targets.opts.password: ignored" "... password: info"
grep -q s3cret err.txt
is $? 1 "... never the password itself"

# --- print schema ----------------------------------------------------------
# Nodestream: `print schema` exit 0 (plain); -f graphql exit 0; -o FILE
# writes there; -O FILE reads type overrides.
"$SLUICE" print schema >out.txt 2>err.txt
is $? 0 "print schema"
has out.txt "Number" "... lists the node type"
"$SLUICE" print schema p1 -p nodestream.yaml -f plain -o schema.txt \
  >out.txt 2>err.txt
is $? 0 "print schema p1 -p -f plain -o FILE"
has schema.txt "Number" "... into FILE"
is "$(wc -c <out.txt)" 0 "... not on stdout"
"$SLUICE" print schema -f graphql >out.txt 2>err.txt
is $? 0 "-f graphql"
has out.txt "type Number" "... prints GraphQL types"

done_testing
