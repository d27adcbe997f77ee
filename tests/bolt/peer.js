#!/usr/bin/env node
// A scripted Bolt peer for sluice's tests: it stands in for a Neo4j server,
// plays script files (expected client messages, the replies to send) on the
// connections it accepts, and exits 0 when every script was played through.
// Encoding and chunking use Neo4j's own JavaScript codec
// (neo4j-driver-bolt-connection, installed into tests/bolt/node_modules by
// scripts/setup). The script format and the command line are described in
// tests/bolt/README.md; `node peer.js --help` prints a summary.
'use strict';

const net = require('net');
const fs = require('fs');
const path = require('path');

const NM = path.join(__dirname, 'node_modules');
let codec;
try {
  codec = require(path.join(NM, 'neo4j-driver-bolt-connection'));
} catch (e) {
  process.stderr.write(`peer: cannot load neo4j-driver-bolt-connection from ${NM} (run scripts/setup): ${e.message}\n`);
  process.exit(2);
}
const ChannelBuffer = require(path.join(NM, 'neo4j-driver-bolt-connection/lib/channel/channel-buf.js')).default;
const { Packer, Unpacker } = codec.packstream.v1;
const { Structure } = codec.packstream.structure;
const { Chunker, Dechunker } = codec.channel;

const EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_TIMEOUT = 3;

// --- Names ------------------------------------------------------------------
const REQUESTS = {
  HELLO: 0x01, GOODBYE: 0x02, RESET: 0x0f, RUN: 0x10, BEGIN: 0x11, COMMIT: 0x12,
  ROLLBACK: 0x13, DISCARD: 0x2f, PULL: 0x3f, TELEMETRY: 0x54, ROUTE: 0x66,
  LOGON: 0x6a, LOGOFF: 0x6b,
};
const RESPONSES = { SUCCESS: 0x70, RECORD: 0x71, IGNORED: 0x7e, FAILURE: 0x7f };
const STRUCTS = {
  Node: 0x4e, Relationship: 0x52, UnboundRelationship: 0x72, Path: 0x50,
  Date: 0x44, Time: 0x54, LocalTime: 0x74, LocalDateTime: 0x64,
  DateTime: 0x49, DateTimeZoneId: 0x69, LegacyDateTime: 0x46,
  LegacyDateTimeZoneId: 0x66, Duration: 0x45, Point2D: 0x58, Point3D: 0x59,
};
const REQUEST_NAME = invert(REQUESTS);
const STRUCT_NAME = invert(STRUCTS);
function invert(o) {
  const r = {};
  for (const k of Object.keys(o)) r[o[k]] = k;
  return r;
}
const hex2 = (n) => n.toString(16).toUpperCase().padStart(2, '0');
const requestName = (tag) => REQUEST_NAME[tag] || `0x${hex2(tag)}`;

// --- Values as text ---------------------------------------------------------
// The JSON form used by --record and in messages: integers are plain
// numbers, floats always carry a fraction or exponent (1.0), byte arrays are
// {"$bytes":"hex"}, structures {"$struct":tag,"fields":[...]}.
function toJson(v, limit) {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'bigint': return v.toString();
    case 'boolean': return v ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(v)) return `{"$float":"${v}"}`;
      if (Number.isInteger(v)) return Math.abs(v) < 1e16 ? v.toFixed(1) : v.toExponential();
      return String(v);
    case 'string':
      if (limit && v.length > limit) return JSON.stringify(v.slice(0, limit)).slice(0, -1) + `..." (${v.length} chars)`;
      return JSON.stringify(v);
  }
  if (Array.isArray(v)) return '[' + v.map((x) => toJson(x, limit)).join(',') + ']';
  if (v instanceof Int8Array || v instanceof Uint8Array) {
    return `{"$bytes":"${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}"}`;
  }
  if (v instanceof Structure) {
    return `{"$struct":${v.signature},"fields":${toJson(v.fields, limit)}}`;
  }
  if (typeof v === 'object') {
    return '{' + Object.keys(v).map((k) => JSON.stringify(k) + ':' + toJson(v[k], limit)).join(',') + '}';
  }
  return JSON.stringify(String(v));
}
// How a message reads in diagnostics: RUN "query" {...} {}
const showMessage = (name, fields) => [name, ...fields.map((f) => toJson(f, 200))].join(' ');

// --- Script values: a JSON reader that keeps integers and floats apart -------
// Integer literals become BigInt, literals with a fraction or exponent become
// Number (a float). Objects keep their key order as an entry list.
class Obj {
  constructor(entries) { this.entries = entries; }
}
class Reader {
  constructor(text, where) { this.s = text; this.i = 0; this.where = where; }
  fail(msg) { throw new ScriptError(`${this.where}: ${msg} at column ${this.i + 1}`); }
  ws() { while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++; }
  atEnd() { this.ws(); return this.i >= this.s.length; }
  startsWith(t) { this.ws(); return this.s.startsWith(t, this.i); }
  value() {
    this.ws();
    const c = this.s[this.i];
    if (c === '"') return this.string();
    if (c === '{') {
      this.i++;
      const entries = [];
      this.ws();
      if (this.s[this.i] === '}') { this.i++; return new Obj(entries); }
      for (;;) {
        this.ws();
        if (this.s[this.i] !== '"') this.fail('expected a "key"');
        const k = this.string();
        this.ws();
        if (this.s[this.i] !== ':') this.fail('expected ":"');
        this.i++;
        entries.push([k, this.value()]);
        this.ws();
        if (this.s[this.i] === ',') { this.i++; continue; }
        if (this.s[this.i] === '}') { this.i++; return new Obj(entries); }
        this.fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      this.i++;
      const list = [];
      this.ws();
      if (this.s[this.i] === ']') { this.i++; return list; }
      for (;;) {
        list.push(this.value());
        this.ws();
        if (this.s[this.i] === ',') { this.i++; continue; }
        if (this.s[this.i] === ']') { this.i++; return list; }
        this.fail('expected "," or "]"');
      }
    }
    const num = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
    num.lastIndex = this.i;
    const m = num.exec(this.s);
    if (m && m[0] !== '-' && m[0] !== '') {
      this.i = num.lastIndex;
      return m[2] || m[3] ? Number(m[0]) : BigInt(m[0]);
    }
    for (const [word, v] of [['true', true], ['false', false], ['null', null]]) {
      if (this.s.startsWith(word, this.i)) { this.i += word.length; return v; }
    }
    this.fail(c === undefined ? 'unexpected end of line' : `unexpected "${c}"`);
  }
  string() {
    const start = this.i++;
    while (this.i < this.s.length && this.s[this.i] !== '"') this.i += this.s[this.i] === '\\' ? 2 : 1;
    if (this.i >= this.s.length) this.fail('unterminated string');
    this.i++;
    try {
      return JSON.parse(this.s.slice(start, this.i));
    } catch (e) {
      this.fail(`bad string: ${e.message}`);
    }
  }
}
class ScriptError extends Error {}

const SIGILS = ['$struct', '$bytes', '$repeat', '$float', '$int', '$map', '$unordered', '$re', '$type'];
function sigilOf(o, where) {
  if (!(o instanceof Obj) || o.entries.length === 0) return null;
  const k = o.entries[0][0];
  if (!k.startsWith('$')) return null;
  if (!SIGILS.includes(k)) throw new ScriptError(`${where}: unknown ${k} (known: ${SIGILS.join(' ')}; write a map with $-keys as {"$map":{...}})`);
  return k;
}
function entry(o, key, where) {
  const e = o.entries.find(([k]) => k === key);
  if (!e) throw new ScriptError(`${where}: ${o.entries[0][0]} needs "${key}"`);
  return e[1];
}
function structTag(t, where) {
  if (typeof t === 'bigint') return Number(t);
  if (typeof t === 'string') {
    if (STRUCTS[t] !== undefined) return STRUCTS[t];
    if (/^0x[0-9a-f]{1,2}$/i.test(t)) return parseInt(t.slice(2), 16);
  }
  throw new ScriptError(`${where}: bad structure tag ${JSON.stringify(String(t))} (a number, "0x4E" or one of ${Object.keys(STRUCTS).join(' ')})`);
}
function repeatString(o, where) {
  const s = entry(o, '$repeat', where), n = entry(o, 'times', where);
  if (typeof s !== 'string' || typeof n !== 'bigint') throw new ScriptError(`${where}: {"$repeat": "text", "times": N}`);
  return s.repeat(Number(n));
}
function floatOf(v, where) {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return Number(v);
  throw new ScriptError(`${where}: bad $float`);
}
function bytesOf(v, where) {
  if (typeof v !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(v.replace(/\s+/g, ''))) throw new ScriptError(`${where}: $bytes takes a hex string`);
  return new Int8Array(Buffer.from(v.replace(/\s+/g, ''), 'hex'));
}

// A value to send (S: lines).
function toValue(v, where) {
  if (Array.isArray(v)) return v.map((x) => toValue(x, where));
  if (!(v instanceof Obj)) return v;
  const sig = sigilOf(v, where);
  switch (sig) {
    case null: {
      const o = {};
      for (const [k, x] of v.entries) o[k] = toValue(x, where);
      return o;
    }
    case '$struct': {
      const fields = entry(v, 'fields', where);
      if (!Array.isArray(fields)) throw new ScriptError(`${where}: $struct fields must be a list`);
      return new Structure(structTag(entry(v, '$struct', where), where), toValue(fields, where));
    }
    case '$bytes': return bytesOf(entry(v, '$bytes', where), where);
    case '$repeat': return repeatString(v, where);
    case '$float': return floatOf(entry(v, '$float', where), where);
    case '$int': return BigInt(entry(v, '$int', where));
    case '$map': {
      const m = entry(v, '$map', where);
      if (!(m instanceof Obj)) throw new ScriptError(`${where}: $map takes a map`);
      const o = {};
      for (const [k, x] of m.entries) o[k] = toValue(x, where);
      return o;
    }
    default: throw new ScriptError(`${where}: ${sig} only matches client messages (C: lines)`);
  }
}

// A pattern for client values (C: lines). match(p, value) -> boolean.
const ANY = { any: true };
function toPattern(v, where) {
  if (v === '*') return ANY;
  if (Array.isArray(v)) return { list: v.map((x) => toPattern(x, where)) };
  if (!(v instanceof Obj)) return { eq: v };
  const sig = sigilOf(v, where);
  switch (sig) {
    case null: case '$map': {
      const literal = sig === '$map';
      const src = literal ? entry(v, '$map', where) : v;
      if (!(src instanceof Obj)) throw new ScriptError(`${where}: $map takes a map`);
      const keys = [];
      let extra = false;
      for (const [k, x] of src.entries) {
        if (!literal && k === '*') { extra = true; continue; }
        const optional = !literal && k.length > 1 && k.endsWith('?');
        keys.push({ key: optional ? k.slice(0, -1) : k, optional, pat: toPattern(x, where) });
      }
      return { map: keys, extra };
    }
    case '$struct': {
      const fields = entry(v, 'fields', where);
      if (!Array.isArray(fields)) throw new ScriptError(`${where}: $struct fields must be a list`);
      return { struct: structTag(entry(v, '$struct', where), where), fields: fields.map((x) => toPattern(x, where)) };
    }
    case '$bytes': return { bytes: Buffer.from(bytesOf(entry(v, '$bytes', where), where)) };
    case '$repeat': return { eq: repeatString(v, where) };
    case '$float': return { eq: floatOf(entry(v, '$float', where), where) };
    case '$int': return { eq: BigInt(entry(v, '$int', where)) };
    case '$unordered': {
      const l = entry(v, '$unordered', where);
      if (!Array.isArray(l)) throw new ScriptError(`${where}: $unordered takes a list`);
      return { unordered: l.map((x) => toPattern(x, where)) };
    }
    case '$re': {
      const r = entry(v, '$re', where);
      try {
        return { re: new RegExp(r, 's') };
      } catch (e) {
        throw new ScriptError(`${where}: bad $re: ${e.message}`);
      }
    }
    case '$type': {
      const t = entry(v, '$type', where);
      const types = ['null', 'bool', 'int', 'float', 'string', 'bytes', 'list', 'map', 'struct'];
      if (!types.includes(t)) throw new ScriptError(`${where}: $type is one of ${types.join(' ')}`);
      return { type: t };
    }
  }
}
function typeOf(v) {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'float';
  if (typeof v === 'string') return 'string';
  if (v instanceof Int8Array) return 'bytes';
  if (Array.isArray(v)) return 'list';
  if (v instanceof Structure) return 'struct';
  return 'map';
}
function match(p, v) {
  if (p === ANY) return true;
  if ('eq' in p) {
    if (typeof p.eq === 'number' && typeof v === 'number') return p.eq === v || (Number.isNaN(p.eq) && Number.isNaN(v));
    return p.eq === v; // a BigInt never equals a Number here: 1 is not 1.0
  }
  if (p.list) return Array.isArray(v) && v.length === p.list.length && p.list.every((q, i) => match(q, v[i]));
  if (p.unordered) {
    if (!Array.isArray(v) || v.length !== p.unordered.length) return false;
    const used = new Array(v.length).fill(false);
    return p.unordered.every((q) => {
      const j = v.findIndex((x, k) => !used[k] && match(q, x));
      if (j < 0) return false;
      used[j] = true;
      return true;
    });
  }
  if (p.map) {
    if (typeOf(v) !== 'map') return false;
    for (const { key, optional, pat } of p.map) {
      if (!Object.prototype.hasOwnProperty.call(v, key)) {
        if (optional) continue;
        return false;
      }
      if (!match(pat, v[key])) return false;
    }
    if (!p.extra) {
      for (const k of Object.keys(v)) if (!p.map.some((e) => e.key === k)) return false;
    }
    return true;
  }
  if (p.struct !== undefined) {
    return v instanceof Structure && v.signature === p.struct && v.fields.length === p.fields.length &&
      p.fields.every((q, i) => match(q, v.fields[i]));
  }
  if (p.bytes) return v instanceof Int8Array && Buffer.from(v.buffer, v.byteOffset, v.byteLength).equals(p.bytes);
  if (p.re) return typeof v === 'string' && p.re.test(v);
  if (p.type) return typeOf(v) === p.type;
  return false;
}

// --- Script files -----------------------------------------------------------
function parseVersion(s, where) {
  const m = /^(\d+)\.(\d+)$/.exec(s);
  if (!m) throw new ScriptError(`${where}: bad Bolt version "${s}" (want MAJOR.MINOR)`);
  return { major: +m[1], minor: +m[2] };
}
function parseRawBytes(text, where) {
  const r = new Reader(text, where);
  if (r.startsWith('"')) {
    const s = r.value();
    if (!r.atEnd()) r.fail('trailing text');
    return Buffer.from(s, 'utf8');
  }
  const h = text.replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(h)) throw new ScriptError(`${where}: raw bytes are hex digits or a "quoted text"`);
  return Buffer.from(h, 'hex');
}

// Parses one script file. vars: ${NAME} substitutions (ports, addresses).
function parseScript(file, vars) {
  const text = fs.readFileSync(file, 'utf8');
  const name = path.basename(file);
  const script = {
    file, name, version: null, handshake: 'plain', manifest: null, raw: null,
    restart: false, concurrent: false, repeat: 1, chunk: 65535,
    initial: [], steps: [], autos: [],
  };
  // Logical lines: a line that starts with white space continues the one before.
  const lines = [];
  text.split(/\r?\n/).forEach((l, n) => {
    if (/^\s*(#.*)?$/.test(l)) return;
    if (/^\s/.test(l) && lines.length) lines[lines.length - 1].text += ' ' + l.trim();
    else lines.push({ no: n + 1, text: l.trim() });
  });
  let block = script.initial;
  for (const { no, text: raw } of lines) {
    const where = `${name}:${no}`;
    const l = raw.replace(/\$\{([A-Z_][A-Z0-9_]*)\}/g, (m, k) => {
      if (vars[k] === undefined) throw new ScriptError(`${where}: unknown variable ${m} (known: ${Object.keys(vars).map((v) => '${' + v + '}').join(' ')})`);
      return vars[k];
    });
    const m = /^([!CSA?*+]):\s*(.*)$/.exec(l);
    if (!m) throw new ScriptError(`${where}: a line starts with !: C: S: A: ?: *: or +: (got "${raw}")`);
    const [, kind, body] = m;
    if (kind === '!') {
      const words = body.split(/\s+/);
      const kw = words[0].toUpperCase();
      if (kw === 'BOLT') script.version = parseVersion(words[1] || '', where);
      else if (kw === 'ALLOW' && /^RESTART$/i.test(words[1])) script.restart = true;
      else if (kw === 'ALLOW' && /^CONCURRENT$/i.test(words[1])) script.concurrent = true;
      else if (kw === 'REPEAT' && /^[1-9]\d*$/.test(words[1])) script.repeat = +words[1];
      else if (kw === 'CHUNK' && /^\d+$/.test(words[1]) && +words[1] >= 1 && +words[1] <= 65535) script.chunk = +words[1];
      else if (kw === 'AUTO' && words[1]) script.autos.push(makeExpect('A', words[1].toUpperCase(), where, l));
      else if (kw === 'HANDSHAKE' && /^PLAIN$/i.test(words[1])) script.handshake = 'plain';
      else if (kw === 'HANDSHAKE' && /^MANIFEST$/i.test(words[1])) {
        script.handshake = 'manifest';
        script.manifest = words.slice(2).map((r) => {
          const mm = /^(\d+\.\d+)(?:-(\d+\.\d+))?$/.exec(r);
          if (!mm) throw new ScriptError(`${where}: bad version range "${r}" (e.g. 5.8-5.0 or 4.4)`);
          const hi = parseVersion(mm[1], where), lo = mm[2] ? parseVersion(mm[2], where) : hi;
          if (lo.major !== hi.major || lo.minor > hi.minor) throw new ScriptError(`${where}: bad version range "${r}"`);
          return { major: hi.major, minor: hi.minor, range: hi.minor - lo.minor };
        });
      } else if (kw === 'HANDSHAKE' && /^RAW$/i.test(words[1])) {
        script.handshake = 'raw';
        script.raw = parseRawBytes(body.replace(/^\S+\s+\S+\s*/, ''), where);
      } else throw new ScriptError(`${where}: unknown header "${body}"`);
      continue;
    }
    if (kind === 'S') {
      block.push(parseAction(body, where, l));
      continue;
    }
    const mm = /^([A-Z_]+|0x[0-9A-Fa-f]{2})\b\s*(.*)$/.exec(body);
    if (!mm) throw new ScriptError(`${where}: expected a message name`);
    const e = makeExpect(kind, mm[1], where, l, mm[2]);
    if (kind === 'A') script.autos.push(e);
    else script.steps.push(e);
    block = e.actions;
  }
  if (!script.version && script.handshake !== 'raw') throw new ScriptError(`${name}: no "!: BOLT x.y" header`);
  if (script.handshake === 'manifest' && script.manifest.length === 0) {
    script.manifest = [{ major: script.version.major, minor: script.version.minor, range: 0 }];
  }
  return script;
}
function makeExpect(kind, msg, where, text, rest = '') {
  const tag = REQUESTS[msg] !== undefined ? REQUESTS[msg] : /^0x/.test(msg) ? parseInt(msg.slice(2), 16) : undefined;
  if (tag === undefined) throw new ScriptError(`${where}: unknown client message ${msg} (known: ${Object.keys(REQUESTS).join(' ')})`);
  const r = new Reader(rest, where);
  const fields = [];
  let more = false;
  while (!r.atEnd()) {
    if (r.startsWith('...')) {
      r.i += 3;
      if (!r.atEnd()) r.fail('"..." must come last');
      more = true;
      break;
    }
    fields.push(toPattern(r.value(), where));
  }
  const [min, max] = { C: [1, 1], '?': [0, 1], '*': [0, Infinity], '+': [1, Infinity], A: [0, Infinity] }[kind];
  return { kind, tag, name: requestName(tag), fields, more, min, max, where, text, actions: [] };
}
function parseAction(body, where, text) {
  let m = /^<([A-Z]+)>\s*(.*)$/.exec(body);
  if (m) {
    const [, cmd, arg] = m;
    switch (cmd) {
      case 'NOOP': return { op: 'noop', where, text };
      case 'RAW': return { op: 'raw', bytes: parseRawBytes(arg, where), where, text };
      case 'SLEEP':
        if (!/^\d+(\.\d+)?$/.test(arg)) throw new ScriptError(`${where}: <SLEEP> SECONDS`);
        return { op: 'sleep', ms: Math.round(parseFloat(arg) * 1000), where, text };
      case 'CLOSE': case 'EXIT': return { op: 'close', where, text };
      case 'ABORT': return { op: 'abort', where, text };
      case 'NOTHING': return { op: 'nothing', where, text };
      default: throw new ScriptError(`${where}: unknown command <${cmd}> (known: <NOOP> <RAW> <SLEEP> <CLOSE> <ABORT> <NOTHING>)`);
    }
  }
  m = /^([A-Z]+|0x[0-9A-Fa-f]{2})\b\s*(.*)$/.exec(body);
  if (!m) throw new ScriptError(`${where}: expected a reply (SUCCESS RECORD FAILURE IGNORED) or a <COMMAND>`);
  const tag = RESPONSES[m[1]] !== undefined ? RESPONSES[m[1]] : /^0x/.test(m[1]) ? parseInt(m[1].slice(2), 16) : undefined;
  if (tag === undefined) throw new ScriptError(`${where}: unknown reply ${m[1]} (known: ${Object.keys(RESPONSES).join(' ')})`);
  const r = new Reader(m[2], where);
  const fields = [];
  while (!r.atEnd()) fields.push(toValue(r.value(), where));
  return { op: 'send', tag, fields, where, text };
}

// --- Options ----------------------------------------------------------------
const USAGE = `usage: node peer.js [--record FILE] [--timeout S] [--verbose] [--tls CERT KEY]
                    [--listen HOST:PORT] [--port-file FILE] SCRIPT...
                    [--listen HOST:PORT] [--port-file FILE] SCRIPT...  (more servers)
       node peer.js --sink [--record FILE [--lose-commit-of RE [--lose-commit-nth N]] [--fail-commit-of RE [--fail-commit-nth N]] [--forget-tokens]] [--bolt X.Y]
                    [--listen HOST:PORT] [--port-file FILE] [--timeout S]
Each --listen/--port-file group is one server (default 127.0.0.1:0, any port);
its scripts play on its successive connections. The port file gets the port
once every server listens. Exit 0: every script completed; 1: a script
failed; 2: usage or script error; 3: timeout. See tests/bolt/README.md.`;

function usage(msg) {
  if (msg) process.stderr.write(`peer: ${msg}\n`);
  process.stderr.write(USAGE + '\n');
  process.exit(EXIT_USAGE);
}
function parseArgs(argv) {
  const o = { record: null, timeout: null, verbose: false, sink: false, bolt: null, loseCommitOf: null, loseCommitNth: 1, failCommitOf: null, failCommitNth: 1, forgetTokens: false, groups: [] };
  let g = null;
  const group = (key) => {
    if (!g || (key && g[key] !== null) || g.scripts.length) {
      g = { listen: null, portFile: null, scripts: [] };
      o.groups.push(g);
    }
    return g;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--help' || a === '-h') {
      process.stdout.write(USAGE + '\n');
      process.exit(0);
    } else if (a === '--listen') group('listen').listen = val();
    else if (a === '--port-file') group('portFile').portFile = val();
    else if (a === '--record') o.record = val();
    else if (a === '--tls') {
      o.tlsCert = val();
      o.tlsKey = val();
    }
    else if (a === '--timeout') {
      o.timeout = Number(val());
      if (!(o.timeout >= 0)) usage('--timeout takes seconds (0: none)');
    } else if (a === '--sink') o.sink = true;
    else if (a === '--bolt') o.bolt = parseVersion(val(), '--bolt');
    else if (a === '--lose-commit-nth') {
      o.loseCommitNth = Number(val());
      if (!(Number.isInteger(o.loseCommitNth) && o.loseCommitNth >= 1)) usage('--lose-commit-nth takes a count from 1');
    } else if (a === '--fail-commit-nth') {
      o.failCommitNth = Number(val());
      if (!(Number.isInteger(o.failCommitNth) && o.failCommitNth >= 1)) usage('--fail-commit-nth takes a count from 1');
    } else if (a === '--fail-commit-of') {
      try {
        o.failCommitOf = new RegExp(val(), 's');
      } catch (e) {
        usage(`--fail-commit-of: ${e.message}`);
      }
    } else if (a === '--forget-tokens') o.forgetTokens = true;
    else if (a === '--lose-commit-of') {
      try {
        o.loseCommitOf = new RegExp(val(), 's');
      } catch (e) {
        usage(`--lose-commit-of: ${e.message}`);
      }
    }
    else if (a === '--verbose' || a === '-v') o.verbose = true;
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else {
      if (!g) group(null);
      g.scripts.push(a);
    }
  }
  if (o.groups.length === 0) group(null);
  for (const gr of o.groups) {
    gr.listen = gr.listen || '127.0.0.1:0';
    const m = /^(.*):(\d+)$/.exec(gr.listen);
    if (!m) usage(`--listen takes HOST:PORT (got ${gr.listen})`);
    gr.host = m[1].replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
    gr.port = +m[2];
  }
  if (o.sink) {
    if (o.groups.length !== 1 || o.groups[0].scripts.length) usage('--sink takes no scripts and one server');
    if ((o.loseCommitOf || o.failCommitOf || o.forgetTokens) && !o.record) usage('--lose-commit-of, --fail-commit-of and --forget-tokens need --sink --record FILE');
  } else {
    if (o.loseCommitOf || o.failCommitOf || o.forgetTokens) usage('--lose-commit-of, --fail-commit-of and --forget-tokens are for --sink --record FILE');
    if (o.groups.some((gr) => gr.scripts.length === 0)) usage('every server needs at least one script');
    if (o.bolt) usage('--bolt is for --sink (scripts say "!: BOLT x.y")');
  }
  if (o.timeout === null) o.timeout = 60;
  return o;
}

// --- Shared runtime ---------------------------------------------------------
const opts = parseArgs(process.argv.slice(2));
// A TLS server hands over its sockets once the handshake is done.
const CONN_EVENT = opts.tlsCert ? 'secureConnection' : 'connection';
const servers = [];
const sockets = new Set();
let recordFd = null;
let connCount = 0;
let exiting = false;

const log = (s) => process.stderr.write(`peer: ${s}\n`);
const vlog = (s) => { if (opts.verbose) log(s); };
function finish(code, msg) {
  if (exiting) return;
  exiting = true;
  if (msg) log(msg);
  for (const s of sockets) s.destroy();
  for (const srv of servers) srv.server.close();
  if (recordFd !== null) fs.closeSync(recordFd);
  process.exit(code);
}
function listenAll(groups) {
  return Promise.all(groups.map((g) => new Promise((resolve) => {
    // --tls CERT KEY: every server speaks TLS (bolt+s:// and bolt+ssc://).
    const server = opts.tlsCert
      ? require('tls').createServer({ cert: fs.readFileSync(opts.tlsCert), key: fs.readFileSync(opts.tlsKey), noDelay: true })
      : net.createServer({ noDelay: true });
    server.on('error', (e) => finish(EXIT_USAGE, `cannot listen on ${g.listen}: ${e.message}`));
    server.listen(g.port, g.host, () => {
      const port = server.address().port;
      const host = g.host === '0.0.0.0' || g.host === '::' ? '127.0.0.1' : g.host;
      const addr = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
      resolve({ group: g, server, port, addr });
    });
  })));
}
function writePortFiles(list) {
  for (const s of list) {
    if (!s.group.portFile) continue;
    const tmp = `${s.group.portFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${s.port}\n`);
    fs.renameSync(tmp, s.group.portFile);
  }
}
function onSignals(handler) {
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => handler(sig));
}

// --- Handshake ----------------------------------------------------------------
// The client's 20 bytes: magic 6060B017, then four slots [0, range, minor, major].
function readProposals(buf) {
  const slots = [];
  for (let i = 4; i < 20; i += 4) {
    const s = buf.readUInt32BE(i);
    if (s === 0) continue;
    if (s === 0x000001ff) slots.push({ manifest: 1 });
    else slots.push({ major: buf[i + 3], minor: buf[i + 2], range: buf[i + 1] });
  }
  return slots;
}
const showSlots = (slots) => slots.map((s) => s.manifest ? 'manifest-v1' :
  s.range ? `${s.major}.${s.minor}-${s.major}.${s.minor - s.range}` : `${s.major}.${s.minor}`).join(', ') || 'none';
const offers = (slots, v) => slots.some((s) => !s.manifest && s.major === v.major && v.minor <= s.minor && v.minor >= s.minor - s.range);
function varint(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return Buffer.from(out);
}
// Reads a varint at buf[off]; null while incomplete.
function readVarint(buf, off) {
  let n = 0, mul = 1;
  for (let i = off; i < buf.length; i++) {
    n += (buf[i] & 0x7f) * mul;
    mul *= 128;
    if (!(buf[i] & 0x80)) return { value: n, end: i + 1 };
  }
  return null;
}
function badMagic(buf) {
  const t = buf.slice(0, 4).toString('latin1');
  return /^[A-Z]{3,}/.test(t) ? `not Bolt: the client sent text "${buf.slice(0, 40).toString('latin1').split(/\r?\n/)[0]}"`
    : `bad Bolt magic ${buf.slice(0, 4).toString('hex')} (want 6060b017)`;
}

// --- Script mode ------------------------------------------------------------
class Conn {
  constructor(socket, server, script, id) {
    Object.assign(this, { socket, server, script, id });
    this.pos = 0;
    this.count = 0;
    this.queue = [];
    this.busy = false;
    this.state = 'handshake';
    this.pending = Buffer.alloc(0);
    this.out = [];
    this.done = false;
    const self = this;
    this.chunker = new Chunker({ write(b) { self.out.push(b._buffer); } }, script.chunk + 2);
    this.packer = new Packer(this.chunker);
    this.unpacker = new Unpacker(false, true);
    this.dechunker = new Dechunker();
    this.dechunker.onmessage = (b) => this.onMessage(b);
    socket.on('data', (d) => this.onData(d));
    socket.on('end', () => this.push({ eof: 'the client closed the connection' }));
    socket.on('error', (e) => this.push({ eof: `connection error (${e.code || e.message})` }));
    socket.on('close', () => this.push({ eof: 'the connection closed' }));
  }
  label() { return `connection ${this.id} (${this.script.name})`; }
  fail(msg) {
    this.done = true;
    finish(EXIT_FAIL, `${this.label()}: ${msg}`);
  }
  onData(d) {
    if (this.done) return;
    this.received = true;
    if (this.state === 'bolt') {
      try {
        this.dechunker.write(new ChannelBuffer(d));
      } catch (e) {
        this.fail(`cannot de-chunk the client's bytes: ${e.message}`);
      }
      return;
    }
    this.pending = Buffer.concat([this.pending, d]);
    this.handshake();
  }
  handshake() {
    const s = this.script, buf = this.pending;
    if (this.state === 'handshake') {
      if (buf.length >= 4 && buf.readUInt32BE(0) !== 0x6060b017) return this.fail(badMagic(buf));
      if (buf.length < 20) return;
      const slots = readProposals(buf);
      this.pending = buf.slice(20);
      vlog(`${this.label()}: client offers ${showSlots(slots)}`);
      if (s.handshake === 'raw') {
        this.socket.write(s.raw);
        return this.startBolt();
      }
      if (s.handshake === 'manifest') {
        if (!slots.some((x) => x.manifest)) {
          this.socket.write(Buffer.alloc(4));
          return this.fail(`the script wants a manifest-v1 handshake; the client offered ${showSlots(slots)}`);
        }
        const parts = [Buffer.from([0, 0, 1, 0xff]), varint(s.manifest.length)];
        for (const r of s.manifest) parts.push(Buffer.from([0, r.range, r.minor, r.major]));
        parts.push(varint(0));
        this.socket.write(Buffer.concat(parts));
        this.state = 'manifest';
        return this.handshake();
      }
      const v = s.version;
      if (!offers(slots, v)) {
        this.socket.write(Buffer.alloc(4));
        return this.fail(`the client did not offer Bolt ${v.major}.${v.minor}; it offered ${showSlots(slots)}`);
      }
      this.socket.write(Buffer.from([0, 0, v.minor, v.major]));
      return this.startBolt();
    }
    if (this.state === 'manifest') {
      if (buf.length < 5) return;
      const caps = readVarint(buf, 4);
      if (!caps) return;
      const major = buf[3], minor = buf[2];
      this.pending = buf.slice(caps.end);
      vlog(`${this.label()}: client chose ${major}.${minor}, capabilities ${caps.value}`);
      const ok = s.manifest.some((r) => r.major === major && minor <= r.minor && minor >= r.minor - r.range);
      if (!ok || buf[0] !== 0 || buf[1] !== 0) return this.fail(`the client chose ${buf.slice(0, 4).toString('hex')}, not one of the offered versions`);
      if (s.version && (s.version.major !== major || s.version.minor !== minor)) {
        return this.fail(`the client chose Bolt ${major}.${minor}; the script wants ${s.version.major}.${s.version.minor}`);
      }
      return this.startBolt();
    }
  }
  startBolt() {
    this.state = 'bolt';
    this.queue.push({ start: true });
    const rest = this.pending;
    this.pending = null;
    this.pump().catch((e) => finish(EXIT_FAIL, `internal error: ${e.stack || e}`));
    if (rest.length) this.onData(rest);
  }
  onMessage(b) {
    let msg;
    try {
      msg = this.unpacker.unpack(b);
    } catch (e) {
      return this.fail(`cannot unpack a client message (${e.message}): ${hexOf(b)}`);
    }
    if (b.hasRemaining()) return this.fail(`a client message has ${b.remaining()} bytes after its structure`);
    if (!(msg instanceof Structure)) return this.fail(`a client message is not a structure: ${toJson(msg, 200)}`);
    const name = requestName(msg.signature);
    if (recordFd !== null) {
      const srv = servers.length > 1 ? `,"server":${this.server.index}` : '';
      fs.writeSync(recordFd, `{"conn":${this.id}${srv},"msg":"${name}","fields":${toJson(msg.fields)}}\n`);
    }
    this.push({ tag: msg.signature, name, fields: msg.fields });
  }
  push(item) {
    if (this.done) return;
    this.queue.push(item);
    this.pump().catch((e) => finish(EXIT_FAIL, `internal error: ${e.stack || e}`));
  }
  async pump() {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length && !this.done) {
        const item = this.queue.shift();
        if (item.start) await this.run(this.script.initial);
        else if (item.eof) this.closed(item.eof);
        else await this.handle(item);
        if (!this.done && this.finished()) this.close('script completed');
      }
      this.flush();
    } finally {
      this.busy = false;
    }
  }
  flush() {
    this.chunker.flush();
    if (this.out.length && !this.socket.destroyed) this.socket.write(Buffer.concat(this.out));
    this.out = [];
  }
  finished() {
    const st = this.script.steps;
    return this.state === 'bolt' && (st.length === 0 || (this.pos === st.length - 1 && this.count >= st[this.pos].max));
  }
  canEnd() {
    const st = this.script.steps;
    if (st.length === 0) return true;
    if (this.count < st[this.pos].min) return false;
    return st.slice(this.pos + 1).every((x) => x.min === 0);
  }
  expected() {
    const st = this.script.steps, out = [];
    let i = this.pos, c = this.count;
    for (; i < st.length; i++, c = 0) {
      if (c < st[i].max) out.push(`${st[i].where}: ${st[i].text}`);
      if (c < st[i].min) break;
    }
    for (const a of this.script.autos) out.push(`${a.where}: ${a.text}`);
    return out.length ? out.join('\n    ') : '(nothing: the script is at its end)';
  }
  async handle(msg) {
    const st = this.script.steps;
    const matches = (e) => e.tag === msg.tag && (e.more ? msg.fields.length >= e.fields.length : msg.fields.length === e.fields.length) &&
      e.fields.every((p, i) => match(p, msg.fields[i]));
    let hit = null;
    for (let i = this.pos, c = this.count; i < st.length; i++, c = 0) {
      if (c < st[i].max && matches(st[i])) {
        this.pos = i;
        this.count = c + 1;
        hit = st[i];
        break;
      }
      if (c < st[i].min) break;
    }
    if (!hit) hit = this.script.autos.find(matches);
    if (!hit) return this.fail(`unexpected message\n  got:      ${showMessage(msg.name, msg.fields)}\n  expected: ${this.expected()}`);
    vlog(`${this.label()} C: ${showMessage(msg.name, msg.fields)}`);
    if (hit.actions.length || hit.kind === 'C') return this.run(hit.actions);
    // Default replies of A:, ?:, *: and +: lines without S: lines.
    if (msg.tag === REQUESTS.GOODBYE) return this.close('GOODBYE');
    if (msg.tag === REQUESTS.HELLO) {
      const v = this.script.version || { major: 5 };
      return this.send(RESPONSES.SUCCESS, [{ server: v.major >= 5 ? 'Neo4j/5.26.0' : 'Neo4j/4.4.0', connection_id: `bolt-${this.id}` }]);
    }
    this.send(RESPONSES.SUCCESS, [{}]);
  }
  send(tag, fields) {
    vlog(`${this.label()} S: ${showMessage(Object.keys(RESPONSES).find((k) => RESPONSES[k] === tag) || '0x' + hex2(tag), fields)}`);
    this.packer.packable(new Structure(tag, fields))();
    this.chunker.messageBoundary();
    if (this.script.chunk < 65535) {
      // The codec keeps a float or a header within one chunk; cut the
      // message into chunks of exactly the script's size instead.
      this.chunker.flush();
      const whole = Buffer.concat(this.out);
      this.out = [rechunk(whole, this.script.chunk)];
    }
  }
  async run(actions) {
    for (const a of actions) {
      if (this.done) return;
      switch (a.op) {
        case 'send': this.send(a.tag, a.fields); break;
        case 'noop':
          this.chunker.flush();
          this.out.push(Buffer.alloc(2));
          break;
        case 'nothing': break;
        case 'raw': this.flush(); this.socket.write(a.bytes); break;
        case 'sleep':
          this.flush();
          await new Promise((r) => setTimeout(r, a.ms));
          break;
        case 'close': return this.close(`<CLOSE> at ${a.where}`);
        case 'abort':
          this.flush();
          return this.end(`<ABORT> at ${a.where}`, () => this.socket.resetAndDestroy());
      }
    }
  }
  close(why) {
    this.flush();
    this.end(why, () => {
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 500).unref();
    });
  }
  // The peer ends the connection: the script must be completable here.
  end(why, how) {
    this.done = true;
    if (!this.canEnd()) {
      how();
      return finish(EXIT_FAIL, `${this.label()}: the peer closed the connection (${why}) before the script completed; still expected:\n    ${this.expected()}`);
    }
    vlog(`${this.label()}: ${why}, closing`);
    how();
    this.server.completed(this);
  }
  // The client ended the connection.
  closed(why) {
    if (this.done) return;
    this.done = true;
    if (this.state === 'handshake' && !this.received) {
      // Connected and left without a byte (a port probe): no script used.
      vlog(`${this.label()}: ${why} before the handshake; the script stays unused`);
      this.script.started--;
      this.script.active--;
      this.socket.destroy();
      return;
    }
    if (this.state !== 'bolt') return finish(EXIT_FAIL, `${this.label()}: ${why} during the handshake`);
    if (!this.canEnd()) return finish(EXIT_FAIL, `${this.label()}: ${why} before the script completed; still expected:\n    ${this.expected()}`);
    vlog(`${this.label()}: ${why}; script completed`);
    this.socket.destroy();
    this.server.completed(this);
  }
}
// Re-chunks complete messages (chunk stream, message ends 00 00) into
// chunks of at most size bytes; NOOPs pass through.
function rechunk(buf, size) {
  const out = [];
  let msg = [];
  for (let i = 0; i < buf.length;) {
    const n = buf.readUInt16BE(i);
    i += 2;
    if (n === 0) {
      const body = Buffer.concat(msg);
      msg = [];
      for (let j = 0; j < body.length; j += size) {
        const piece = body.subarray(j, j + size);
        const h = Buffer.alloc(2);
        h.writeUInt16BE(piece.length);
        out.push(h, piece);
      }
      out.push(Buffer.alloc(2));
    } else {
      msg.push(buf.subarray(i, i + n));
      i += n;
    }
  }
  return Buffer.concat(out);
}
function hexOf(b) {
  const bytes = [];
  b.reset();
  while (b.hasRemaining() && bytes.length < 64) bytes.push(hex2(b.readUInt8()));
  return bytes.join(' ') + (b.hasRemaining() ? ' ...' : '');
}

class ScriptServer {
  constructor(index, listening, scripts) {
    Object.assign(this, { index, scripts, ...listening });
    this.cursor = 0;
    for (const s of scripts) Object.assign(s, { started: 0, active: 0, completions: 0 });
    this.server.on(CONN_EVENT, (socket) => this.accept(socket));
  }
  available(s) {
    return (s.restart || s.started < s.repeat) && (s.concurrent || s.active === 0);
  }
  accept(socket) {
    const id = ++connCount;
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      maybeDone();
    });
    socket.setNoDelay(true);
    let k = this.cursor;
    while (k < this.scripts.length && !this.available(this.scripts[k])) k++;
    if (k >= this.scripts.length) {
      socket.destroy();
      return finish(EXIT_FAIL, `connection ${id} to ${this.addr}: no script left for it (scripts: ${this.scripts.map((s) => `${s.name} ${s.started}/${s.restart ? 'restart' : s.repeat} started, ${s.active} active`).join('; ')})`);
    }
    this.cursor = k;
    const s = this.scripts[k];
    s.started++;
    s.active++;
    vlog(`connection ${id} to ${this.addr}: playing ${s.name}`);
    new Conn(socket, this, s, id);
  }
  completed(conn) {
    conn.script.active--;
    conn.script.completions++;
    maybeDone();
  }
  pending() {
    return this.scripts.filter((s) => s.completions < s.repeat || s.active > 0);
  }
}
function maybeDone() {
  if (exiting || opts.sink) return;
  if (servers.every((s) => s.pending().length === 0) && sockets.size === 0) finish(EXIT_OK);
}
function report() {
  const lines = [];
  for (const s of servers) {
    for (const sc of s.scripts) {
      lines.push(`  ${s.addr} ${sc.name}: ${sc.completions}/${sc.repeat} completed, ${sc.active} connection(s) in progress`);
    }
  }
  return lines.join('\n');
}

async function runScripts() {
  const listening = await listenAll(opts.groups);
  const vars = {};
  listening.forEach((l, i) => {
    vars[`PORT${i}`] = String(l.port);
    vars[`ADDR${i}`] = l.addr;
  });
  try {
    listening.forEach((l, i) => {
      const own = { ...vars, PORT: String(l.port), ADDR: l.addr };
      servers.push(new ScriptServer(i, l, l.group.scripts.map((f) => parseScript(f, own))));
    });
  } catch (e) {
    if (e instanceof ScriptError || e.code === 'ENOENT') finish(EXIT_USAGE, e.message);
    throw e;
  }
  if (recordFd === null && opts.record) recordFd = fs.openSync(opts.record, 'a');
  writePortFiles(listening);
  for (const l of listening) vlog(`listening on ${l.addr}`);
  if (opts.timeout > 0) {
    setTimeout(() => finish(EXIT_TIMEOUT, `timeout after ${opts.timeout} s; scripts:\n${report()}`), opts.timeout * 1000).unref();
  }
  onSignals((sig) => {
    if (servers.every((s) => s.pending().every((sc) => sc.completions >= sc.repeat))) finish(EXIT_OK, `${sig}: every script had completed`);
    finish(EXIT_FAIL, `${sig} before every script completed:\n${report()}`);
  });
  // Keep the event loop alive while waiting for connections.
  setInterval(() => {}, 1 << 30);
}

// --- Sink mode --------------------------------------------------------------
// Accepts any handshake and authentication and answers every request with a
// canned SUCCESS, reading many pipelined messages per read. The replies are
// packed once, by the same codec, at start.
function packed(tag, fields) {
  const out = [];
  const ch = new Chunker({ write(b) { out.push(Buffer.from(b._buffer)); } }, 65537);
  new Packer(ch).packable(new Structure(tag, fields))();
  ch.messageBoundary();
  ch.flush();
  return Buffer.concat(out);
}
async function runSink() {
  const [l] = await listenAll(opts.groups);
  servers.push(l);
  const ok = (m) => packed(RESPONSES.SUCCESS, [m]);
  const replies = new Array(256).fill(ok({}));
  replies[REQUESTS.HELLO] = ok({ server: 'Neo4j/5.26.0', connection_id: 'bolt-sink', hints: {} });
  replies[REQUESTS.RUN] = ok({ fields: [] });
  replies[REQUESTS.PULL] = ok({ type: 'w', stats: {} });
  replies[REQUESTS.COMMIT] = ok({ bookmark: 'b' });
  const addrs = [l.addr];
  replies[REQUESTS.ROUTE] = ok({ rt: { ttl: 300n, db: 'neo4j', servers: ['ROUTE', 'WRITE', 'READ'].map((role) => ({ addresses: addrs, role })) } });
  let idle = null;
  const touch = () => {
    if (!opts.timeout) return;
    if (idle) clearTimeout(idle);
    idle = setTimeout(() => finish(EXIT_OK, `sink: idle for ${opts.timeout} s, exiting`), opts.timeout * 1000);
  };
  touch();
  if (opts.record) recordFd = fs.openSync(opts.record, 'a');
  const tokens = new Set();
  l.server.on(CONN_EVENT, (socket) => {
    const id = ++connCount;
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let hs = Buffer.alloc(0);
    let bolt = false;
    let rec = null;
    // De-chunking state: header bytes still wanted, bytes left in the chunk,
    // bytes seen of the current message, its marker and tag bytes.
    let hdr = 0, hdrHi = 0, left = 0, seen = 0, tag = 0;
    socket.on('data', (d) => {
      touch();
      if (rec) return rec.onData(d);
      let i = 0;
      if (!bolt) {
        hs = Buffer.concat([hs, d]);
        if (hs.length < 20) return;
        if (hs.readUInt32BE(0) !== 0x6060b017) return socket.destroy();
        const slots = readProposals(hs).filter((s) => !s.manifest);
        const v = opts.bolt || slots[0];
        if (!v || (opts.bolt && !offers(slots, v))) {
          socket.end(Buffer.alloc(4));
          return;
        }
        socket.write(Buffer.from([0, 0, v.minor, v.major]));
        bolt = true;
        d = hs.slice(20);
        hs = null;
        if (opts.record) {
          rec = new RecordingSink(socket, id, replies, tokens);
          return rec.onData(d);
        }
      }
      const out = [];
      let bye = false;
      const n = d.length;
      while (i < n) {
        if (left > 0) {
          const take = Math.min(left, n - i);
          if (seen < 2) {
            if (seen === 0 && take > 1) tag = d[i + 1];
            else if (seen === 1) tag = d[i];
          }
          seen += take;
          left -= take;
          i += take;
          continue;
        }
        if (hdr === 0) {
          if (n - i >= 2) {
            left = d.readUInt16BE(i);
            i += 2;
          } else {
            hdrHi = d[i++];
            hdr = 1;
            continue;
          }
        } else {
          left = (hdrHi << 8) | d[i++];
          hdr = 0;
        }
        if (left === 0 && seen > 0) {
          if (tag === REQUESTS.GOODBYE) bye = true;
          else out.push(replies[tag]);
          seen = 0;
        }
      }
      if (out.length) socket.write(out.length === 1 ? out[0] : Buffer.concat(out));
      if (bye) socket.end();
    });
  });
  writePortFiles([l]);
  vlog(`sink listening on ${l.addr}`);
  onSignals(() => finish(EXIT_OK));
}

// --- Sink mode with --record -------------------------------------------------
// The same canned replies, but every client message is unpacked and
// recorded, and a few statements get answers that let sluice's Neo4j store
// proceed as against a server (the store's own statements, see
// src/graph/cypher.c):
//  - write statements (UNWIND $rows AS params ... RETURN count(...) AS x,
//    ...) return one row holding the number of rows for every column;
//  - the commit tokens of the store's exactly-once check
//    (`__SluiceCommit__`) are kept: CREATE adds one and DELETE removes it
//    when their transaction commits, and the look-up counts them;
//  - any other statement returns the names after its RETURN's AS, no rows.
// --lose-commit-of RE: the COMMIT of the first (--lose-commit-nth N: the
// Nth) transaction that ran a statement matching RE is recorded and takes
// effect, but the connection is closed instead of replying (a lost COMMIT
// reply). --fail-commit-of RE: the COMMIT of the first (--fail-commit-nth
// N: the Nth) transaction that ran a statement matching RE fails: nothing
// of it takes effect, the reply is a FAILURE (Neo.DatabaseError), and the
// COMMIT is recorded with "failed": true. --forget-tokens: every token
// look-up answers 0 (a negative control: a store that trusts it writes
// such a chunk twice).
const TOKEN_PUT = /^CREATE \(:`__SluiceCommit__` \{`token`: \$token\}\)$/;
const TOKEN_GET = /^MATCH \(c:`__SluiceCommit__` \{`token`: \$token\}\) RETURN count\(c\) AS n$/;
const TOKEN_DEL = /^MATCH \(c:`__SluiceCommit__` \{`token`: \$token\}\) DELETE c$/;
const TOKEN_DEL_PREFIX = /^MATCH \(c:`__SluiceCommit__`\) WHERE c.`token` STARTS WITH \$prefix DELETE c$/;
let commitMatches = 0;
let failMatches = 0;
class RecordingSink {
  constructor(socket, id, replies, tokens) {
    Object.assign(this, { socket, id, replies, tokens });
    this.unpacker = new Unpacker(false, true);
    this.dechunker = new Dechunker();
    this.dechunker.onmessage = (b) => this.onMessage(b);
    this.tx = null;       // the open transaction: {ops: [token changes], texts: [statements]}
    this.result = null;   // the last RUN's rows, sent on PULL
    this.out = [];
    this.dead = false;
  }
  onData(d) {
    if (this.dead || !d.length) return;
    try {
      this.dechunker.write(new ChannelBuffer(d));
    } catch (e) {
      return finish(EXIT_FAIL, `sink connection ${this.id}: cannot de-chunk: ${e.message}`);
    }
    if (this.out.length && !this.dead) this.socket.write(Buffer.concat(this.out));
    this.out = [];
  }
  onMessage(b) {
    if (this.dead) return;
    let msg;
    try {
      msg = this.unpacker.unpack(b);
    } catch (e) {
      return finish(EXIT_FAIL, `sink connection ${this.id}: cannot unpack a client message: ${e.message}`);
    }
    if (!(msg instanceof Structure)) return finish(EXIT_FAIL, `sink connection ${this.id}: a client message is not a structure`);
    const tag = msg.signature, f = msg.fields;
    // A COMMIT that is to fail says so in the recording.
    const failed = tag === REQUESTS.COMMIT && this.tx && opts.failCommitOf &&
      this.tx.texts.some((t) => opts.failCommitOf.test(t)) && ++failMatches === opts.failCommitNth;
    fs.writeSync(recordFd, `{"conn":${this.id},"msg":"${requestName(tag)}","fields":${toJson(f)}${failed ? ',"failed":true' : ''}}\n`);
    if (failed) return this.failCommit();
    switch (tag) {
      case REQUESTS.BEGIN: this.tx = { ops: [], texts: [] }; break;
      case REQUESTS.RUN: return this.run(f[0], f[1] || {});
      case REQUESTS.PULL: return this.pull();
      case REQUESTS.COMMIT: return this.commit();
      case REQUESTS.ROLLBACK: case REQUESTS.RESET: this.tx = null; break;
      case REQUESTS.GOODBYE:
        this.dead = true;
        this.socket.end();
        return;
    }
    this.out.push(this.replies[tag]);
  }
  run(q, params) {
    const text = String(q);
    let fields = [], rows = [];
    if (TOKEN_PUT.test(text)) this.change({ add: params.token });
    else if (TOKEN_DEL.test(text)) this.change({ del: params.token });
    else if (TOKEN_DEL_PREFIX.test(text)) this.change({ prefix: params.prefix });
    else if (TOKEN_GET.test(text)) {
      const pending = this.tx ? this.tx.ops : [];
      let n = this.tokens.has(params.token) && !opts.forgetTokens ? 1 : 0;
      for (const op of pending) {
        if (op.add === params.token) n = opts.forgetTokens ? 0 : 1;
        else if (op.del === params.token || (op.prefix !== undefined && String(params.token).startsWith(op.prefix))) n = 0;
      }
      fields = ['n'];
      rows = [[BigInt(n)]];
    } else {
      const ret = /\sRETURN\s(.*)$/s.exec(text);
      if (ret) fields = [...ret[1].matchAll(/\sAS\s+`?(\w+)`?/g)].map((m) => m[1]);
      if (ret && /^UNWIND \$rows AS params\s/.test(text) && Array.isArray(params.rows)) {
        rows = [fields.map(() => BigInt(params.rows.length))];
      }
    }
    if (this.tx) this.tx.texts.push(text);
    this.result = rows;
    this.out.push(packed(RESPONSES.SUCCESS, [{ fields }]));
  }
  pull() {
    for (const r of this.result || []) this.out.push(packed(RESPONSES.RECORD, [r]));
    this.result = null;
    this.out.push(this.replies[REQUESTS.PULL]);
  }
  // A token change: in the open transaction, or at once (auto-commit).
  change(op) {
    if (this.tx) this.tx.ops.push(op);
    else this.apply([op]);
  }
  apply(ops) {
    for (const op of ops) {
      if (op.add !== undefined) this.tokens.add(op.add);
      else if (op.del !== undefined) this.tokens.delete(op.del);
      else for (const t of [...this.tokens]) if (String(t).startsWith(op.prefix)) this.tokens.delete(t);
    }
  }
  // The COMMIT fails: the transaction is rolled back, nothing applied.
  failCommit() {
    this.tx = null;
    log(`sink connection ${this.id}: failing a COMMIT (rolled back)`);
    this.out.push(packed(RESPONSES.FAILURE, [{ code: 'Neo.DatabaseError.Transaction.TransactionCommitFailed',
      message: 'Could not apply the transaction to the store (injected by peer.js --fail-commit-of)' }]));
  }
  commit() {
    const tx = this.tx;
    this.tx = null;
    if (tx) this.apply(tx.ops);
    if (tx && opts.loseCommitOf && tx.texts.some((t) => opts.loseCommitOf.test(t)) && ++commitMatches === opts.loseCommitNth) {
      log(`sink connection ${this.id}: committed, closing the connection instead of replying to COMMIT`);
      this.dead = true;
      if (this.out.length) this.socket.write(Buffer.concat(this.out));
      this.out = [];
      this.socket.destroy();
      return;
    }
    this.out.push(this.replies[REQUESTS.COMMIT]);
  }
}

(opts.sink ? runSink() : runScripts()).catch((e) => finish(EXIT_FAIL, `internal error: ${e.stack || e}`));
