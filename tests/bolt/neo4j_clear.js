#!/usr/bin/env node
// Empties a Neo4j database for tests/neo4j_live.sh: deletes every node and
// relationship (sluice's own __SluiceType__ and __SluiceCommit__ nodes too),
// through the official JavaScript driver (npm neo4j-driver, which
// scripts/setup installs into tests/bolt/node_modules), not through sluice.
//
// usage: node neo4j_clear.js URI
//   URI as sluice takes it: bolt://USER:PASSWORD@HOST:PORT/DATABASE (also
//   bolt+s, bolt+ssc, neo4j, neo4j+s, neo4j+ssc); query parameters are
//   ignored. Prints the number of nodes deleted; exit 0, or 1 with the error.
'use strict';

const path = require('path');

let neo4j;
try {
  neo4j = require(path.join(__dirname, 'node_modules', 'neo4j-driver'));
} catch (e) {
  process.stderr.write(`neo4j_clear: cannot load neo4j-driver (run scripts/setup): ${e.message}\n`);
  process.exit(1);
}

async function main(uri) {
  const u = new URL(uri);
  const user = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || undefined;
  const auth = user ? neo4j.auth.basic(user, password) : undefined;
  const driver = neo4j.driver(`${u.protocol}//${u.host}`, auth);
  const session = driver.session({ database, defaultAccessMode: neo4j.session.WRITE });
  try {
    // An auto-commit query, in batches, so a large database does not need
    // one huge transaction.
    const r = await session.run('MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS');
    process.stdout.write(`${r.summary.counters.updates().nodesDeleted} nodes deleted\n`);
  } finally {
    await session.close();
    await driver.close();
  }
}

if (process.argv.length !== 3) {
  process.stderr.write('usage: node neo4j_clear.js URI\n');
  process.exit(2);
}
main(process.argv[2]).catch((e) => {
  process.stderr.write(`neo4j_clear: ${e.message}\n`);
  process.exit(1);
});
