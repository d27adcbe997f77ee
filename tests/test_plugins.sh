#!/usr/bin/env bash
# Plugins as a user drives them (issue 17, docs/plugins.md): the sample
# plugin (examples/plugins/sample.c) loaded with --plugin and from a
# project file's `plugins:` list, its extractor, value provider and
# normalizer seen in the exported graph; its errors and crashes named; and
# the shared objects sluice refuses (another API version, no entry point,
# an init that fails, not a plugin, no file).
#
# usage: test_plugins.sh path/to/sluice path/to/libsluice_sample.so DIR
#   DIR holds the refused test plugins (tests/plugins/*.c, built)
set -u
. "$(cd "$(dirname "$0")" && pwd)/tap.sh"
SLUICE=$(realpath "$1")
SAMPLE=$(realpath "$2")
BAD=$(realpath "$3")
EXAMPLES=$(cd "$(dirname "$0")/../examples/plugins" && pwd)
T=$(mktemp -d /tmp/sluice-plugins-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
cp "$EXAMPLES/pipeline.yaml" .

# nodes LABEL FILE: how many nodes of LABEL an export holds.
nodes() { grep -c "\"node\":\"$1\",\"props\"" "$2"; }

# --- --plugin -------------------------------------------------------------
"$SLUICE" run --plugin "$SAMPLE" pipeline.yaml -t sqlite:a.db --no-progress \
  >out.txt 2>err.txt
is $? 0 "run --plugin PATH pipeline.yaml"
"$SLUICE" export sqlite:a.db >a.jsonl
is "$(nodes Item a.jsonl)" 5 "the plugin's extractor made 5 records, 5 Item nodes"
has a.jsonl '"loud":"ITEM-3!","name":"item-3","plain":"item3"' \
  "!shout (a plugin provider) and strip_dashes (a plugin normalizer) set properties"
has a.jsonl '{"key":{"name":"EVEN"},"labels":[],"node":"Parity"' \
  "do_strip_dashes in a key_normalization, after do_uppercase_strings"
is "$(grep -c '"rel":"HAS_PARITY"' a.jsonl)" 5 "5 relationships"
has err.txt "plugin sample 1.0 ($SAMPLE)" "the run logs the plugin it loaded"
has err.txt "0:sample:Countdown" "the summary names the plugin's step"

"$SLUICE" run --plugin "$SAMPLE" --threads 1 pipeline.yaml -t sqlite:a1.db \
  -q >/dev/null 2>&1
"$SLUICE" export sqlite:a1.db | sed 's/"last_ingested[a-z_]*":"[^"]*",//g' >a1.jsonl
sed 's/"last_ingested[a-z_]*":"[^"]*",//g' a.jsonl >a0.jsonl
cmp -s a0.jsonl a1.jsonl
ok $? "one thread and several give the same graph (providers on worker threads)"

"$SLUICE" validate --plugin "$SAMPLE" pipeline.yaml >out.txt 2>err.txt
is $? 0 "validate --plugin PATH loads the plugin before the pipeline"
has out.txt "pipeline.yaml: ok, 2 steps: 0:sample:Countdown 1:Interpreter" "and builds its step"

# --- a plugin graph target ---------------------------------------------------
"$SLUICE" run --plugin "$SAMPLE" pipeline.yaml -t sample-jsonl:t.jsonl \
  --no-progress >out.txt 2>err.txt
is $? 0 "run -t SCHEME:... writes to the plugin's graph target"
is "$(grep -c '^{"node":{"type":"Item","key":{"id":' t.jsonl)" 5 \
  "it got the 5 Item node writes (type, sorted key)"
has t.jsonl '"loud":"ITEM-3!","plain":"item3"},"rule":"EAGER"}}' \
  "with their properties and creation rule"
is "$(grep -c '^{"rel":{"type":"HAS_PARITY","from":{"type":"Item","key":{"id":' t.jsonl)" 5 \
  "and the 5 relationship writes, after the nodes"
[ "$(grep -n '"rel"' t.jsonl | head -1 | cut -d: -f1)" -gt \
  "$(grep -n '"node"' t.jsonl | tail -1 | cut -d: -f1)" ]
ok $? "nodes come before relationships"
has err.txt "nodes: 7 created, 0 updated, 0 not matched; relationships: 5 created" \
  "the writer reports the counts the target gave"
"$SLUICE" run --plugin "$SAMPLE" pipeline.yaml -t sample-jsonl: -q >out.txt 2>err.txt
is $? 1 "a target's open error fails the run"
has err.txt "plugin 'sample': target sample-jsonl: (open): sample-jsonl:PATH needs a path" \
  "naming the plugin and the target"

# --- the project file's plugins: list --------------------------------------
mkdir proj && cp pipeline.yaml proj/
cat >proj/nodestream.yaml <<YAML
plugins:
  - name: sample
    path: $SAMPLE
    config:
      default_prefix: !env PLUGIN_PREFIX
scopes:
  default:
    targets: [graph]
    pipelines: [pipeline.yaml]
targets:
  graph: {database: sqlite, path: graph.db}
YAML
(cd proj && PLUGIN_PREFIX=thing "$SLUICE" run --no-progress >../out.txt 2>../err.txt)
is $? 0 "a project run loads the plugins of its plugins: list"
"$SLUICE" export sqlite:proj/graph.db >b.jsonl
has b.jsonl '"loud":"THING-2!","name":"thing-2","plain":"thing2"' \
  "the plugin's config (with !env resolved) reached it"
has err.txt "plugin 'sample': ready (thing)" "the plugin's log line carries its name"
# The other commands that read the project's pipelines load its plugins too.
(cd proj && PLUGIN_PREFIX=thing "$SLUICE" print schema >../ps.txt 2>../err.txt)
is $? 0 "print schema of a project whose pipeline uses a plugin's !tag"
has ps.txt "[NODE] Item:" "... prints the pipeline's types"
(cd proj && PLUGIN_PREFIX=thing "$SLUICE" audit ttls >../at.txt 2>../err.txt)
has at.txt "Time to live not configured for GraphObjectType.NODE 'Item'" \
  "audit ttls of that project reads the pipeline"
(cd proj && PLUGIN_PREFIX=thing "$SLUICE" migrations show >../ms.txt 2>../err.txt)
has ms.txt "node_Item" "migrations show of that project reads the pipeline"
"$SLUICE" schema proj/pipeline.yaml --plugin "$SAMPLE" >sc.txt 2>err.txt
is $? 0 "schema PIPELINE --plugin PATH"
has sc.txt "Item" "... prints the pipeline's types"
"$SLUICE" schema proj/pipeline.yaml >/dev/null 2>err.txt
ok $([ $? -ne 0 ] && echo 0 || echo 1) "without --plugin, the plugin's !tag is unknown"
(cd proj && "$SLUICE" run -q --plugin "$SAMPLE" >/dev/null 2>../err.txt)
is $? 0 "the same plugin from the project and --plugin is loaded once"

# A name without a path: NAME.so or libNAME.so in $SLUICE_PLUGIN_PATH or
# the project's plugins/ directory.
mkdir -p proj2/plugins libs && cp pipeline.yaml proj2/ &&
  cp "$SAMPLE" libs/libsample.so
cat >proj2/nodestream.yaml <<YAML
plugins:
  - name: sample
    targets: [graph]        # Nodestream's keys are accepted, unused
scopes:
  default:
    targets: [graph]
    pipelines: [pipeline.yaml]
targets:
  graph: {database: sqlite, path: graph.db}
YAML
(cd proj2 && SLUICE_PLUGIN_PATH=$T/libs "$SLUICE" run -q >/dev/null 2>../err.txt)
is $? 0 "a plugin named only is found in \$SLUICE_PLUGIN_PATH"
"$SLUICE" export sqlite:proj2/graph.db >c.jsonl
is "$(nodes Item c.jsonl)" 5 \
  "and runs"
(cd proj2 && "$SLUICE" run -q >/dev/null 2>../err.txt)
is $? 1 "a plugin that is nowhere fails the run"
has err.txt "nodestream.yaml:2:5: plugin 'sample' has no path, and there is no sample.so or libsample.so" \
  "naming the entry and where it looked"
mv libs/libsample.so proj2/plugins/sample.so
(cd proj2 && "$SLUICE" run -q >/dev/null 2>../err.txt)
is $? 0 "... and is found as plugins/NAME.so beside the project file"

# Entries that are not plugins fail at load, naming the place.
mkdir proj3 && cp pipeline.yaml proj3/
bad_entry() { # YAML-OF-THE-ENTRY EXPECTED-MESSAGE DESCRIPTION
  printf 'plugins:\n  - %s\nscopes:\n  default:\n    pipelines: [pipeline.yaml]\n' \
    "$1" >proj3/nodestream.yaml
  (cd proj3 && "$SLUICE" run -q -t null: >/dev/null 2>../err.txt)
  [ $? -ne 0 ]
  ok $? "$3 fails the run"
  has err.txt "$2" "... saying: $2"
}
bad_entry '{path: x.so}' "nodestream.yaml:2:5: plugins[0]: a plugin needs a name" "an entry without a name"
bad_entry '{name: s, pathh: x.so}' "plugins[0]: unknown option 'pathh' for a plugin" "an unknown key"
bad_entry '{name: s, config: [1]}' "plugins[0]: config: expected a mapping" "a config that is not a mapping"
bad_entry 'sample' "plugins[0]: expected a mapping with name" "a bare name"

# --- refusals ----------------------------------------------------------------
"$SLUICE" run --plugin "$BAD/libtest_plugin_bad_abi.so" pipeline.yaml -q \
  >out.txt 2>err.txt
is $? 1 "a plugin built for another API version is refused"
has err.txt "plugin 'future' ($BAD/libtest_plugin_bad_abi.so) was built for sluice plugin API version 2, and this sluice has version 1" \
  "naming the plugin and both versions (and its init never ran: no abort)"
"$SLUICE" run --plugin "$BAD/libtest_plugin_no_init.so" pipeline.yaml -q \
  >out.txt 2>err.txt
is $? 1 "a plugin without an entry point is refused"
has err.txt "plugin 'headless' ($BAD/libtest_plugin_no_init.so) has no entry point sluice_plugin_init" \
  "naming it and the missing symbol"
"$SLUICE" run --plugin "$BAD/libtest_plugin_init_fails.so" pipeline.yaml -q \
  >out.txt 2>err.txt
is $? 1 "a plugin whose init fails stops the run"
has err.txt "plugin 'grumpy': sluice_plugin_init ($BAD/libtest_plugin_init_fails.so): no licence key in config.licence" \
  "with the plugin's message and name"
LIBZ=$(ldd "$SLUICE" | awk '/libz\.so/ {print $3; exit}')
"$SLUICE" run --plugin "$LIBZ" pipeline.yaml -q >out.txt 2>err.txt
is $? 1 "a shared object that is not a plugin is refused"
has err.txt "is not a sluice plugin: it has no symbol sluice_plugin_info" "saying so"
"$SLUICE" run --plugin ./nowhere.so pipeline.yaml -q >out.txt 2>err.txt
is $? 1 "a missing file is refused"
has err.txt "--plugin: plugin ./nowhere.so: No such file or directory" "naming it"
"$SLUICE" run pipeline.yaml -q >out.txt 2>err.txt
is $? 1 "without the plugin, its tags are unknown"
has err.txt "!shout is not a tag sluice knows" "and said so"

# --- a plugin's errors carry its name ----------------------------------------
cat >fail.yaml <<'YAML'
- implementation: sample:Countdown
  arguments: {from: 5}
- implementation: sample:Fail
  arguments: {on_id: 3}
YAML
"$SLUICE" run --plugin "$SAMPLE" fail.yaml -q >out.txt 2>err.txt
is $? 1 "a plugin step's error fails the run"
has err.txt "countdown:3: plugin 'sample': step sample:Fail (process): record 3 is cursed" \
  "with the record's origin, the plugin's name, the step and its message"
cat >badarg.yaml <<'YAML'
- implementation: sample:Countdown
  arguments: {from: -1}
YAML
"$SLUICE" run --plugin "$SAMPLE" badarg.yaml -q >out.txt 2>err.txt
is $? 1 "bad arguments of a plugin step fail the load"
has err.txt "badarg.yaml:1:3: plugin 'sample': step sample:Countdown (create): arguments.from: expected a whole number" \
  "naming the step's place and the plugin"
sed 's/suffix: "!"}/suffix: "!", loudness: 3}/' pipeline.yaml >shout.yaml
"$SLUICE" run --plugin "$SAMPLE" shout.yaml -q >out.txt 2>err.txt
is $? 1 "a plugin provider's compile error fails the load"
has err.txt "plugin 'sample': provider !shout (compile" "naming the plugin and the provider"
has err.txt "unknown argument 'loudness'" "with its message"

# --- a crash ----------------------------------------------------------------
# The SQLite store commits every 250,000 writes or 2 seconds; the crash
# comes 3 seconds into a run of records that would last far longer, by
# when the writer (at most its outboxes behind) has committed.
cat >crash.yaml <<'YAML'
- implementation: sample:Countdown
  arguments: {from: 100000000}
- implementation: sample:Crash
  arguments: {after_ms: 3000}
- implementation: nodestream.interpreting:Interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: Item
        key: {id: !jmespath id}
YAML
"$SLUICE" run --plugin "$SAMPLE" crash.yaml -t sqlite:crash.db -q >out.txt \
  2>err.txt
rc=$?
[ "$rc" -ne 0 ]
ok $? "a crash in a plugin ends the run (status $rc)"
has err.txt "sluice: plugin 'sample' crashed (SIGSEGV) in step sample:Crash (process)" \
  "and names the plugin and the step"
has err.txt "sluice: counts at the crash (step, in, out, errors, skipped):" \
  "then gives the counts of every step at the crash"
# Countdown's out: records it emitted, a count that had to grow for 3 s.
out=$(awk '$1 == "0:sample:Countdown" {print $3}' err.txt)
[ "${out:-0}" -gt 0 ] && grep -Eq '^  2:Interpreter +[0-9]+ +[0-9]+ +0 +0$' err.txt
ok $? "with numbers (Countdown had emitted ${out:-none})"
"$SLUICE" export sqlite:crash.db >crash.jsonl 2>err.txt
ok $? "the target is still a readable graph afterwards"
c=$(nodes Item crash.jsonl)
[ "$c" -gt 0 ]
ok $? "holding what was committed before the crash ($c nodes, none after it)"

done_testing
