#!/usr/bin/env node
// Is peer.js a faithful Bolt server? Each case starts the peer on port 0 with
// scripts from tests/bolt/scripts/, runs the official neo4j-driver 6.3.0 (or a
// raw socket) against it, and checks the driver's result and the peer's exit
// status. Prints TAP; exits 1 when a case fails.
//   node tests/bolt/peer_faithful.js [-v] [CASE-NAME-SUBSTRING...]
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const assert = require('assert/strict');

const HERE = __dirname;
const NM = path.join(HERE, 'node_modules');
const neo4j = require(path.join(NM, 'neo4j-driver'));
const codec = require(path.join(NM, 'neo4j-driver-bolt-connection'));
const ChannelBuffer = require(path.join(NM, 'neo4j-driver-bolt-connection/lib/channel/channel-buf.js')).default;
const { Packer, Unpacker } = codec.packstream.v1;
const { Structure } = codec.packstream.structure;
const { Chunker, Dechunker } = codec.channel;

const PEER = path.join(HERE, 'peer.js');
const SCRIPTS = path.join(HERE, 'scripts');
const argv = process.argv.slice(2);
const verbose = argv.includes('-v');
const only = argv.filter((a) => a !== '-v');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-peer-'));
const children = new Set();

// Starts peer.js. servers: a list of script lists, one per server (port).
// Resolves when every port file exists: { ports, addrs, exit(): status }.
async function startPeer(servers, extra = []) {
  const args = [PEER, '--timeout', '20', ...extra];
  const files = servers.map((scripts, i) => {
    const f = path.join(tmp, `port-${process.pid}-${Date.now()}-${i}`);
    args.push('--port-file', f, ...scripts.map((s) => path.join(SCRIPTS, s)));
    return f;
  });
  if (verbose) args.splice(1, 0, '--verbose');
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
    if (verbose) process.stderr.write(d);
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    children.delete(child);
    resolve({ code, signal, stderr });
  }));
  let done = null;
  exited.then((r) => { done = r; });
  const deadline = Date.now() + 10000;
  while (!files.every((f) => fs.existsSync(f))) {
    if (done) throw new Error(`peer exited ${done.code} before listening: ${done.stderr}`);
    if (Date.now() > deadline) throw new Error('peer did not write its port files');
    await sleep(10);
  }
  const ports = files.map((f) => +fs.readFileSync(f, 'utf8').trim());
  files.forEach((f) => fs.unlinkSync(f));
  return {
    ports,
    addrs: ports.map((p) => `127.0.0.1:${p}`),
    // The peer's exit status once the client is done (SIGTERM after 5 s).
    async exit(graceMs = 5000) {
      const t = setTimeout(() => child.kill('SIGTERM'), graceMs);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
}
const ver = (pv) => `${pv.major}.${pv.minor}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const auth = neo4j.auth.basic('neo4j', 'secret');
const driverOpts = { maxConnectionPoolSize: 1, connectionAcquisitionTimeout: 5000, maxTransactionRetryTime: 5000 };
const driverFor = (peer, scheme = 'bolt', i = 0) => neo4j.driver(`${scheme}://${peer.addrs[i]}`, auth, driverOpts);

// Runs fn and returns the error it throws (fails when it does not throw).
async function rejects(fn) {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error, got none');
}
// The peer must have exited 0 (every script completed).
async function peerOk(peer) {
  const r = await peer.exit();
  assert.equal(r.code, 0, `peer exit ${r.code} (${r.signal || ''}): ${r.stderr}`);
}

// --- A raw Bolt client on the official codec (for what drivers never send) --
function rawClient(port, { chunk = 65535 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const replies = [];
    let wanted = 0, notify = null, hs = null;
    const dechunker = new Dechunker();
    const unpacker = new Unpacker(false, true);
    dechunker.onmessage = (b) => {
      replies.push(unpacker.unpack(b));
      if (notify && replies.length >= wanted) notify();
    };
    sock.on('error', reject);
    sock.on('data', (d) => {
      if (!hs) {
        hs = d.slice(0, 4);
        d = d.slice(4);
        resolve(client);
      }
      if (d.length) dechunker.write(new ChannelBuffer(d));
    });
    let out = [];
    const chunker = new Chunker({ write(b) { out.push(Buffer.from(b._buffer)); } }, 65537);
    const packer = new Packer(chunker);
    // Cuts one packed message (chunks of up to 65535 bytes, then 00 00) into
    // chunks of the wanted size, so floats and headers straddle chunks.
    const cut = (b) => {
      const body = [];
      for (let i = 0; b.readUInt16BE(i) !== 0; i += 2 + b.readUInt16BE(i)) body.push(b.subarray(i + 2, i + 2 + b.readUInt16BE(i)));
      const whole = Buffer.concat(body), parts = [];
      for (let j = 0; j < whole.length; j += chunk) {
        const piece = whole.subarray(j, j + chunk);
        parts.push(Buffer.from([piece.length >> 8, piece.length & 0xff]), piece);
      }
      parts.push(Buffer.alloc(2));
      return Buffer.concat(parts);
    };
    const client = {
      version: () => hs,
      // Queues a message; noopsBefore: that many empty chunks first.
      msg(tag, fields, noopsBefore = 0) {
        for (let i = 0; i < noopsBefore; i++) out.push(Buffer.alloc(2));
        packer.packable(new Structure(tag, fields))();
        chunker.messageBoundary();
        if (chunk < 65535) {
          const at = out.length;
          chunker.flush();
          out.push(cut(Buffer.concat(out.splice(at))));
        }
        return client;
      },
      // Sends what is queued and waits until n replies arrived in total.
      async send(n) {
        chunker.flush();
        sock.write(Buffer.concat(out));
        out = [];
        wanted = n;
        if (replies.length < n) await new Promise((r) => { notify = r; });
        return replies;
      },
      close: () => sock.end(),
    };
    sock.on('connect', () => sock.write(Buffer.from('6060b017' + '00000405' + '00'.repeat(12), 'hex')));
  });
}

// --- The cases --------------------------------------------------------------
const cases = [];
const test = (name, fn) => cases.push({ name, fn });

test('handshake: plain 5.4 reply; executeQuery returns records (ints, floats)', async () => {
  const peer = await startPeer([['execute_query_v5x4.script']]);
  const driver = driverFor(peer);
  const r = await driver.executeQuery('UNWIND range(1, $n) AS x RETURN x, x * 1.5 AS y', { n: neo4j.int(3) }, { database: 'neo4j' });
  await driver.close();
  assert.deepEqual(r.keys, ['x', 'y']);
  assert.deepEqual(r.records.map((x) => [x.get('x'), x.get('y')]), [[neo4j.int(1), 1.5], [neo4j.int(2), 3], [neo4j.int(3), 4.5]]);
  assert.equal(ver(r.summary.server.protocolVersion), '5.4');
  await peerOk(peer);
});

test('handshake: plain 4.4 reply; auth in HELLO; auto-commit RUN', async () => {
  const peer = await startPeer([['session_run_v4x4.script']]);
  const driver = driverFor(peer);
  const s = driver.session({ database: 'neo4j' });
  const r = await s.run('RETURN $x AS x', { x: 'hi' });
  await s.close();
  await driver.close();
  assert.equal(r.records[0].get('x'), 'hi');
  assert.equal(ver(r.summary.server.protocolVersion), '4.4');
  assert.equal(r.summary.counters.updates().nodesCreated, 2);
  await peerOk(peer);
});

test('handshake: manifest v1 (5.6-5.0, 4.4); the client picks 5.6', async () => {
  const peer = await startPeer([['manifest_v1.script']]);
  const driver = driverFor(peer);
  const info = await driver.getServerInfo();
  await driver.close();
  assert.equal(ver(info.protocolVersion), '5.6');
  await peerOk(peer);
});

test('handshake: no version in common (00000000): the driver errors', async () => {
  const peer = await startPeer([['no_common_version.script']]);
  const driver = driverFor(peer);
  const e = await rejects(() => driver.getServerInfo());
  await driver.close();
  assert.match(e.message, /protocol version|version/i, e.message);
  await peerOk(peer);
});

test('handshake: an HTTP reply (wrong port): the driver says so', async () => {
  const peer = await startPeer([['http_reply.script']]);
  const driver = driverFor(peer);
  const e = await rejects(() => driver.getServerInfo());
  await driver.close();
  assert.match(e.message, /Server responded HTTP/, e.message);
  await peerOk(peer);
});

test('auth: LOGON fails with Security.Unauthorized', async () => {
  const peer = await startPeer([['auth_failure.script']]);
  const driver = driverFor(peer);
  const e = await rejects(() => driver.executeQuery('RETURN 1'));
  await driver.close();
  assert.equal(e.code, 'Neo.ClientError.Security.Unauthorized', e.message);
  await peerOk(peer);
});

test('records: Node, Relationship, Path, Date, DateTime, Duration, Point, bytes', async () => {
  const peer = await startPeer([['structures_v5x4.script']]);
  const driver = driverFor(peer);
  const s = driver.session({ database: 'neo4j' });
  const r = await s.run('MATCH p = (a)-[r]->(b) RETURN a, r, p, d, t, dur, pt, bin, f');
  await s.close();
  await driver.close();
  const x = r.records[0];
  assert.ok(neo4j.isNode(x.get('a')));
  assert.deepEqual(x.get('a').labels, ['Person', 'Admin']);
  assert.equal(x.get('a').properties.name, 'Ann');
  assert.equal(x.get('a').elementId, '4:db:1');
  assert.ok(neo4j.isRelationship(x.get('r')));
  assert.equal(x.get('r').type, 'KNOWS');
  assert.equal(x.get('r').endNodeElementId, '4:db:2');
  assert.ok(neo4j.isPath(x.get('p')));
  assert.equal(x.get('p').length, 1);
  assert.equal(x.get('p').end.elementId, '4:db:2');
  assert.ok(neo4j.isDate(x.get('d')));
  assert.equal(x.get('d').toString(), '2024-01-01');
  assert.ok(neo4j.isDateTime(x.get('t')));
  assert.equal(x.get('t').toString(), '2024-01-01T01:00:00.000000500+01:00');
  assert.ok(neo4j.isDuration(x.get('dur')));
  assert.deepEqual(['months', 'days', 'seconds', 'nanoseconds'].map((k) => x.get('dur')[k].toNumber()), [14, 3, 7200, 0]);
  assert.ok(neo4j.isPoint(x.get('pt')));
  assert.deepEqual([x.get('pt').srid, x.get('pt').x, x.get('pt').y], [neo4j.int(4326), 13.4, 52.5]);
  assert.deepEqual([...x.get('bin')], [0, -1, 16]); // Int8Array: 0x00 0xFF 0x10
  assert.equal(x.get('f'), 2);
  await peerOk(peer);
});

test('explicit transaction BEGIN/RUN/PULL/COMMIT; --record keeps ints, floats, structs', async () => {
  const rec = path.join(tmp, 'record.jsonl');
  const peer = await startPeer([['explicit_tx_v5x4.script']], ['--record', rec]);
  const driver = driverFor(peer);
  const s = driver.session({ database: 'neo4j' });
  const tx = await s.beginTransaction({ metadata: { app: 'sluice' } });
  const rows = [
    { id: neo4j.int(1), props: { name: 'Ann', at: new neo4j.types.Date(2024, 1, 1), score: 1.0 } },
    { id: neo4j.int(2), props: { name: 'Bob', at: new neo4j.types.DateTime(2024, 1, 1, 0, 0, 0, 0, 0), score: 0.5 } },
  ];
  const r = await tx.run('UNWIND $rows AS params MERGE (n:`Person` {id: params.id}) SET n += params.props', { rows });
  await tx.commit();
  const bookmarks = s.lastBookmarks();
  await s.close();
  await driver.close();
  assert.equal(r.summary.counters.updates().nodesCreated, 2);
  assert.deepEqual(bookmarks, ['bm:tx1']);
  await peerOk(peer);
  const lines = fs.readFileSync(rec, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.msg), ['HELLO', 'LOGON', 'BEGIN', 'RUN', 'PULL', 'COMMIT', 'GOODBYE']);
  assert.ok(lines.every((l) => l.conn === 1));
  const run = fs.readFileSync(rec, 'utf8').split('\n')[3];
  assert.ok(run.includes('{"id":1,"props":{"name":"Ann","at":{"$struct":68,"fields":[19723]},"score":1.0}}'), run);
  assert.ok(run.includes('"at":{"$struct":73,"fields":[1704067200,0,0]},"score":0.5'), run);
});

test('FAILURE, then IGNORED, then RESET; the driver surfaces the code', async () => {
  const peer = await startPeer([['failure_ignored_reset.script']]);
  const driver = driverFor(peer);
  const s = driver.session({ database: 'neo4j' });
  const e = await rejects(() => s.run('RETURN 1 +'));
  assert.equal(e.code, 'Neo.ClientError.Statement.SyntaxError');
  const r = await s.run('RETURN 1 AS one');
  await s.close();
  await driver.close();
  assert.deepEqual(r.records[0].get('one'), neo4j.int(1));
  await peerOk(peer);
});

test('transient DeadlockDetected: executeQuery retries and commits', async () => {
  const peer = await startPeer([['transient_retry.script']]);
  const driver = driverFor(peer);
  const r = await driver.executeQuery('MERGE (n:Counter {id: 1}) SET n.v = n.v + 1', {}, { database: 'neo4j' });
  await driver.close();
  assert.equal(r.summary.counters.updates().propertiesSet, 1);
  await peerOk(peer);
});

test('connection dropped mid-transaction: the driver reports it', async () => {
  const peer = await startPeer([['drop_mid_tx.script']]);
  const driver = driverFor(peer);
  const s = driver.session({ database: 'neo4j' });
  const tx = await s.beginTransaction();
  const e = await rejects(() => tx.run('CREATE (n:Lost)'));
  await s.close().catch(() => {});
  await driver.close();
  assert.match(e.code, /^(ServiceUnavailable|SessionExpired)$/, `${e.code}: ${e.message}`);
  await peerOk(peer);
});

test('lost COMMIT reply: the driver reports an unknown outcome', async () => {
  const peer = await startPeer([['lost_commit.script']]);
  const driver = driverFor(peer);
  const s = driver.session({ database: 'neo4j' });
  const tx = await s.beginTransaction();
  await tx.run('CREATE (n:Maybe)');
  const e = await rejects(() => tx.commit());
  await s.close().catch(() => {});
  await driver.close();
  assert.match(e.code, /^(ServiceUnavailable|SessionExpired)$/, `${e.code}: ${e.message}`);
  await peerOk(peer);
});

test('routing: NotALeader on writer A, new routing table, commit on writer B', async () => {
  const peer = await startPeer([['router.script'], ['writer_not_leader.script'], ['writer_leader.script']]);
  const driver = driverFor(peer, 'neo4j');
  const r = await driver.executeQuery('CREATE (n:Event {id: $id})', { id: neo4j.int(7) }, { database: 'neo4j' });
  await driver.close();
  assert.equal(r.summary.server.address, peer.addrs[2]);
  assert.equal(r.summary.counters.updates().nodesCreated, 1);
  await peerOk(peer);
});

test('NOOP chunks between replies and 7-byte chunks', async () => {
  const peer = await startPeer([['noop_chunks.script']]);
  const driver = driverFor(peer);
  const s = driver.session({ database: 'neo4j' });
  const r = await s.run("RETURN 'keep-alive' AS k");
  await s.close();
  await driver.close();
  assert.equal(r.records[0].get('k'), 'keep-alive');
  await peerOk(peer);
});

test('messages over 64 KiB: a 100 KiB RUN parameter and a 100 KiB RECORD', async () => {
  const peer = await startPeer([['large_messages.script']]);
  const driver = driverFor(peer);
  const s = driver.session({ database: 'neo4j' });
  const r = await s.run('RETURN size($blob) AS n, $blob2 AS big', { blob: 'y'.repeat(102400), blob2: '0123456789abcdef'.repeat(6400) });
  await s.close();
  await driver.close();
  assert.deepEqual(r.records[0].get('n'), neo4j.int(102400));
  assert.equal(r.records[0].get('big'), 'x'.repeat(102400));
  await peerOk(peer);
});

test('raw client: NOOPs before and between messages, 5-byte chunks, int vs float', async () => {
  const peer = await startPeer([['raw_client.script']]);
  const c = await rawClient(peer.ports[0], { chunk: 5 });
  assert.equal(c.version().toString('hex'), '00000405');
  const hello = { user_agent: 'raw/1', n: 1n, f: 1, big: 9007199254740993n, neg: -17n };
  const replies = await c.msg(0x01, [hello], 2).msg(0x0f, [], 3).send(2);
  assert.deepEqual(replies.map((m) => m.signature), [0x70, 0x70]);
  assert.equal(replies[0].fields[0].connection_id, 'bolt-raw');
  c.msg(0x02, [], 1);
  await c.send(2);
  c.close();
  await peerOk(peer);
  // The same HELLO with the integer 1 sent as the float 1.0: no match.
  const peer2 = await startPeer([['raw_client.script']]);
  const c2 = await rawClient(peer2.ports[0]);
  c2.msg(0x01, [{ ...hello, n: 1 }]).send(1).catch(() => {});
  const r = await peer2.exit();
  c2.close();
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unexpected message\n  got: {6}HELLO \{"user_agent":"raw\/1","n":1\.0,/, r.stderr);
});

test('negative: a script expecting another query makes the peer exit 1', async () => {
  const peer = await startPeer([['wrong_query.script']]);
  const driver = driverFor(peer);
  const s = driver.session({ database: 'neo4j' });
  const e = await rejects(() => s.run('RETURN 42'));
  await s.close().catch(() => {});
  await driver.close();
  assert.ok(e, 'the driver sees the connection go');
  const r = await peer.exit();
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /unexpected message/);
  assert.match(r.stderr, /got: +RUN "RETURN 42" \{\} \{"db":"neo4j"\}/);
  assert.match(r.stderr, /expected: wrong_query\.script:\d+: C: RUN "MATCH \(n\) RETURN n"/);
});

test('negative: a script the client does not finish makes the peer exit 1', async () => {
  const peer = await startPeer([['execute_query_v5x4.script', 'execute_query_v5x4.script']]);
  const driver = driverFor(peer);
  await driver.executeQuery('UNWIND range(1, $n) AS x RETURN x, x * 1.5 AS y', { n: neo4j.int(3) }, { database: 'neo4j' });
  await driver.close();
  const r = await peer.exit(300);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /SIGTERM before every script completed/);
  assert.match(r.stderr, /execute_query_v5x4\.script: 0\/1 completed/);
});

test('sink: executeQuery and a pipelined burst get canned replies', async () => {
  const child = spawn(process.execPath, [PEER, '--sink', '--port-file', path.join(tmp, 'sink-port')], { stdio: ['ignore', 'inherit', 'pipe'] });
  children.add(child);
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  while (!fs.existsSync(path.join(tmp, 'sink-port'))) await sleep(10);
  const port = +fs.readFileSync(path.join(tmp, 'sink-port'), 'utf8');
  const driver = neo4j.driver(`bolt://127.0.0.1:${port}`, auth, driverOpts);
  const r = await driver.executeQuery('CREATE (n)', {}, { database: 'neo4j' });
  await driver.close();
  assert.deepEqual(r.records, []);
  const c = await rawClient(port);
  c.msg(0x01, [{ user_agent: 'raw/1' }]);
  for (let i = 0; i < 1000; i++) c.msg(0x11, [{}]).msg(0x10, ['CREATE (n)', { i: BigInt(i) }, {}]).msg(0x3f, [{ n: -1n }]).msg(0x12, [], i % 3);
  const replies = await c.send(1 + 4000);
  c.close();
  assert.equal(replies.length, 4001);
  assert.deepEqual(replies[4000].fields[0], { bookmark: 'b' });
  assert.deepEqual(replies[3].fields[0], { type: 'w', stats: {} });
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});

let results = { pass: 0, fail: 0 };
async function main() {
  const selected = cases.filter((c) => only.length === 0 || only.some((o) => c.name.includes(o)));
  console.log(`1..${selected.length}`);
  let n = 0;
  for (const c of selected) {
    n++;
    const t0 = Date.now();
    try {
      let timer;
      await Promise.race([c.fn(), new Promise((resolve, reject) => {
        timer = setTimeout(() => reject(new Error('case timed out after 15 s')), 15000);
      })]).finally(() => clearTimeout(timer));
      results.pass++;
      console.log(`ok ${n} - ${c.name} (${Date.now() - t0} ms)`);
    } catch (e) {
      results.fail++;
      console.log(`not ok ${n} - ${c.name}`);
      console.log(String(e.stack || e).split('\n').map((l) => `#   ${l}`).join('\n'));
    }
    for (const ch of children) ch.kill('SIGKILL');
  }
  console.log(`# ${results.pass} passed, ${results.fail} failed`);
}
main().then(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
  process.exit(results.fail ? 1 : 0);
}, (e) => {
  console.error(e);
  for (const ch of children) ch.kill('SIGKILL');
  process.exit(1);
});
