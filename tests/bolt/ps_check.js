#!/usr/bin/env node
// The Neo4j side of test_packstream_js (tests/test_packstream_js.c): packs
// and unpacks with the official PackStream codec of the JavaScript driver
// (npm neo4j-driver-bolt-connection, installed by scripts/setup).
//
//   node ps_check.js pack          print the corpus below, a line a value:
//                                  NAME <TAB> HEX <TAB> DESCRIPTION
//   node ps_check.js repack FILE   for each line NAME <TAB> HEX of FILE,
//                                  unpack the bytes, pack the value again
//                                  and print NAME <TAB> HEX <TAB>
//                                  DESCRIPTION (or NAME <TAB> ERROR ...)
//
// HEX is lower case. DESCRIPTION is the value as compact JSON, written the
// same way by the C side: null, true, false; {"int":"<decimal>"};
// {"float":"<16 hex digits of the IEEE bits>"}; a string as
// JSON.stringify writes it; {"bytes":"<hex>"}; [items]; {"map":[[key,
// value], ...]} in wire order; {"struct":<tag>,"fields":[...]}.
'use strict';

const fs = require('fs');
const { int, isInt } = require('neo4j-driver-core');
const { Packer, Unpacker } = require(
    'neo4j-driver-bolt-connection/lib/packstream/packstream-v1.js');
const { Structure } = require(
    'neo4j-driver-bolt-connection/lib/packstream/structure.js');
const ChannelBuffer = require(
    'neo4j-driver-bolt-connection/lib/channel/channel-buf.js').default;

// One output buffer, large enough for the biggest value of the corpus.
const out = new ChannelBuffer(Buffer.alloc(4 << 20));

// The bytes of `v` packed by the official Packer, as hex.
function pack(v) {
  out.position = 0;
  new Packer(out).packable(v)();
  return out._buffer.subarray(0, out.position).toString('hex');
}

// The description of a value (see the opening comment).
function describe(v) {
  if (v === null || v === true || v === false) return String(v);
  if (isInt(v) || typeof v === 'bigint') return `{"int":"${v.toString()}"}`;
  if (typeof v === 'number') {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v);
    return `{"float":"${b.toString('hex')}"}`;
  }
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof Int8Array) {
    return `{"bytes":"${Buffer.from(v.buffer, v.byteOffset, v.length)
        .toString('hex')}"}`;
  }
  if (Array.isArray(v)) return `[${v.map(describe).join(',')}]`;
  if (v instanceof Structure) {
    return `{"struct":${v.signature},"fields":[` +
        `${v.fields.map(describe).join(',')}]}`;
  }
  const entries = Object.keys(v).map(
      (k) => `[${JSON.stringify(k)},${describe(v[k])}]`);
  return `{"map":[${entries.join(',')}]}`;
}

// The corpus: every type, every size and integer width boundary, nested
// values and Bolt's structures. Integers are int() (a plain JS number
// packs as a float).
function corpus() {
  const c = [];
  const add = (name, v) => c.push([name, v]);
  const S = (tag, ...fields) => new Structure(tag, fields);
  const I = (x) => int(x);

  add('null', null);
  add('true', true);
  add('false', false);
  for (const x of ['0', '1', '-1', '-16', '-17', '127', '128', '-128',
    '-129', '32767', '32768', '-32768', '-32769', '2147483647',
    '2147483648', '-2147483648', '-2147483649', '9223372036854775807',
    '-9223372036854775808']) {
    add(`int ${x}`, I(x));
  }
  add('bigint', 1234567890123n);
  for (const x of [0, -0, 1.5, -1.5e300, 1 / 3, 5e-324, 1e21, Infinity,
    -Infinity, NaN]) {
    add(`float ${Object.is(x, -0) ? '-0' : x}`, x);
  }
  for (const n of [0, 1, 15, 16, 255, 256, 65535, 65536]) {
    add(`string of ${n}`, 'abcdefghijklmnopqrstuvwxyz'.repeat(2521)
        .slice(0, n));
    const bytes = new Int8Array(n);
    for (let i = 0; i < n; i++) bytes[i] = (i * 7) & 0xff;
    add(`bytes of ${n}`, bytes);
    add(`list of ${n}`, Array.from({ length: n }, (_, i) => I(i % 200)));
    const map = {};
    for (let i = 0; i < n; i++) map[`k${i}`] = i % 3 ? I(i) : null;
    add(`map of ${n}`, map);
  }
  // String sizes count UTF-8 bytes: 15 and 16 bytes of 8 characters.
  add('utf-8 of 15 bytes', 'é'.repeat(7) + 'a');
  add('utf-8 of 16 bytes', 'é'.repeat(8));
  add('utf-8', 'héllo 日本語 😀');
  add('escapes', 'quote " backslash \\ nl \n tab \t cr \r ctl \u0001 ' +
      '\u001f del \u007f sep \u2028');
  add('nested', {
    name: 'Ann',
    tags: ['a', ['b', ['c', { deep: [null, true, I(-129)] }]]],
    'ключ': { empty: {}, none: [], f: 0.25 },
  });
  add('row', [{ id: I(1), name: 'x', score: 2.5 }, { id: I(2), b: false }]);

  // Bolt's structures.
  const node44 = S(0x4E, I(1), ['Person'], { name: 'Ann', age: I(33) });
  const node5 = S(0x4E, I(2), ['A', 'B'], {}, '4:db:2');
  add('Node 4.4', node44);
  add('Node 5', node5);
  add('Relationship 4.4', S(0x52, I(9), I(1), I(2), 'KNOWS',
      { since: I(2001) }));
  add('Relationship 5', S(0x52, I(9), I(1), I(2), 'KNOWS', {}, '5:r9',
      '5:n1', '5:n2'));
  add('UnboundRelationship', S(0x72, I(3), 'LIKES', { w: 0.5 }, '5:r3'));
  add('Path', S(0x50, [node44, node5, S(0x4E, I(3), [], {})],
      [S(0x72, I(10), 'A', {}), S(0x72, I(11), 'B', {})],
      [I(1), I(1), I(-2), I(2)]));
  add('Date', S(0x44, I(19753)));
  add('Date before 0', S(0x44, I(-719529)));
  add('Time', S(0x54, I('36930500000000'), I(19800)));
  add('LocalTime', S(0x74, I('86399999999999')));
  add('LocalDateTime', S(0x64, I(-1), I(500000000)));
  add('DateTime', S(0x49, I(1706692530), I(123000000), I(-1800)));
  add('DateTimeZoneId', S(0x69, I(1706692530), I(0), 'Europe/Paris'));
  add('legacy DateTime', S(0x46, I(1706696130), I(0), I(3600)));
  add('legacy DateTimeZoneId', S(0x66, I(1706696130), I(0), 'Asia/Tokyo'));
  add('Duration', S(0x45, I(14), I(3), I(14706), I(500000000)));
  add('Point2D', S(0x58, I(7203), 1.5, -2.0));
  add('Point3D', S(0x59, I(4979), 1.0, 2.0, 3.25));
  add('unknown structure', S(0x7F));
  add('structure of 15 fields',
      S(0x01, ...Array.from({ length: 15 }, (_, i) => I(i * 1000))));
  add('RUN', S(0x10, 'UNWIND $rows AS row MERGE (n:N {id: row.id})',
      { rows: [{ id: I(1) }, { id: I(2) }] }, {}));
  return c;
}

function main() {
  const [mode, file] = process.argv.slice(2);
  const lines = [];
  if (mode === 'pack') {
    for (const [name, v] of corpus()) {
      lines.push(`${name}\t${pack(v)}\t${describe(v)}`);
    }
  } else if (mode === 'repack' && file) {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      if (line === '') continue;
      const [name, hex] = line.split('\t');
      try {
        const input = new ChannelBuffer(Buffer.from(hex, 'hex'));
        const v = new Unpacker().unpack(input);
        if (input.remaining() !== 0) {
          throw new Error(`${input.remaining()} bytes left over`);
        }
        lines.push(`${name}\t${pack(v)}\t${describe(v)}`);
      } catch (e) {
        lines.push(`${name}\tERROR ${e.message}`);
      }
    }
  } else {
    process.stderr.write('usage: ps_check.js pack | repack FILE\n');
    process.exit(2);
  }
  lines.push('');
  fs.writeSync(1, lines.join('\n'));
}

main();
