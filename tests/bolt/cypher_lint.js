// Parse every Cypher statement sluice's Neo4j store can send with Neo4j's
// own parser and semantic analysis (@neo4j-cypher/language-support), and
// fail on any diagnostic but the expected ones.
//
// usage: node cypher_lint.js < statements.jsonl
//   each input line is {"what": "...", "cypher": "..."} (test_cypher
//   --print writes them).
//
// Tolerated, and only these:
//   - "Parameter $x is not defined." (isNotParamError): the linter is
//     given no parameters; sluice sends them with every statement;
//   - "CALL subquery without a variable scope clause is deprecated...":
//     the TTL statements keep `CALL { WITH x ... }` because Neo4j 4.4 and
//     5.x before 5.23 lack the `CALL (x) { ... }` form.
// Labels and properties draw no diagnostics: the linter is given no
// database schema, so it has nothing to compare them with.
//
// Negative controls: statements that are broken in the ways a quoting bug
// would break them must be reported, or the test fails (a linter that
// reports nothing would otherwise pass everything).
'use strict';

const path = require('path');
const lang = require(path.join(__dirname, 'node_modules',
                               '@neo4j-cypher', 'language-support'));

/** Diagnostics of `q` that are not tolerated. */
function problems(q) {
  const { diagnostics } = lang.lintCypherQuery(q, {});
  return diagnostics.filter(
    (d) => lang.isNotParamError(d) &&
      !d.message.startsWith('CALL subquery without a variable scope ' +
                            'clause is deprecated. Use CALL (x) { ... }'));
}

/** Read standard input whole. */
function readStdin() {
  return require('fs').readFileSync(0, 'utf8');
}

let failed = 0;
let checked = 0;
const lines = readStdin().split('\n').filter((l) => l.length > 0);
for (const line of lines) {
  const { what, cypher } = JSON.parse(line);
  const bad = problems(cypher);
  checked++;
  if (bad.length > 0) {
    failed++;
    console.log(`not ok ${checked} - ${what}: ${cypher}`);
    for (const d of bad)
      console.log(`#   ${d.severity === 1 ? 'error' : 'warning'}: ` +
                  `${d.message}`);
  } else {
    console.log(`ok ${checked} - ${what}`);
  }
}

// Negative controls, derived from real statements.
const sample = lines.map((l) => JSON.parse(l).cypher);
const doubled = sample.find((q) => q.includes('``') && q.startsWith('UNWIND'));
const controls = [
  ['an unbalanced parenthesis',
   'UNWIND $rows AS params MERGE (node:`T` {`a`: params.k.`a`) ' +
   'SET node += params.p'],
  ['a variable that is not bound',
   'MATCH (node:`T`) WHERE node.`a` =~ params.k.`a` RETURN node'],
  ['doubled backticks undone (a quoting bug)',
   doubled === undefined ? '' : doubled.split('``').join('`')],
  ['a name with a space left unquoted',
   'UNWIND $rows AS params MERGE (node:with space) SET node += params.p'],
];
for (const [what, q] of controls) {
  checked++;
  if (q.length > 0 && problems(q).length > 0) {
    console.log(`ok ${checked} - negative control reported: ${what}`);
  } else {
    failed++;
    console.log(`not ok ${checked} - negative control not reported: ` +
                `${what}: ${q}`);
  }
}
if (lines.length < 100) {
  failed++;
  console.log(`not ok - only ${lines.length} statements to check`);
}
console.log(`1..${checked}`);
console.log(`${checked - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
