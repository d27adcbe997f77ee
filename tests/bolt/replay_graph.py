#!/usr/bin/env python3
"""replay_graph.py [--strip-times] RECORD.jsonl
replay_graph.py --canon EXPORT.jsonl

Reads what sluice's Neo4j store sent to the peer (`peer.js --sink --record
FILE`, one JSON line per client message) and replays its meaning into an
in-memory property graph, as Neo4j would have stored it; then prints that
graph in the canonical export format (../shared/compat/README.md), one JSON
line per node or relationship, as `sluice export` of the store would.

Only statements of committed transactions count: a transaction's RUNs take
effect at its COMMIT (a COMMIT whose reply was lost included: the peer
records it), in the order the COMMITs came; ROLLBACK, RESET, a COMMIT the
peer failed (`--fail-commit-of`, recorded with "failed": true) or the end
of the connection drops them. A RUN outside a transaction takes effect at once.

The interpreter is strict: it knows the exact statement forms of
src/graph/cypher.c and fails (exit 2) on any other statement, on a row of
the wrong layout, on a property Neo4j cannot store, on MERGE with a null key,
on registry entries that miss a written type, and on commit tokens left
behind.

Semantics (src/graph/graph.h, as Neo4j runs the statements):
  - MERGE (node:`T` {k...}): every node labelled T whose properties equal the
    keys, or a new one holding the keys;
  - MATCH (node:`T`) WHERE node.`k` = ...: every such node, none created;
    `=~` matches string properties by regular expression (whole string);
  - SET node:`X`:`Y` adds labels; SET x += map merges, a null removes;
  - relationships: both ends are MATCHed (never created); MERGE finds or
    creates (from)-[:R {keys}]->(to) for every pair of matched ends, CREATE
    always adds one.
Numbers compare as Neo4j compares them (1 = 1.0), booleans only with
booleans.

--strip-times: leave out last_ingested_at, first_ingested_at and
last_ingested_by_<name>_at, and sort the lines (for cmp).
--canon FILE: print an export file that way (sorted, canonical JSON, times
left out), to compare with a --strip-times replay.
"""
import json
import re
import sys

TIME_VARYING = re.compile(r"^(last_ingested_at|first_ingested_at|last_ingested_by_.*_at)$")

REGISTRY_WRITE = (
    "UNWIND $types AS t MERGE (r:`__SluiceType__` {`kind`: t.`kind`, `type`: "
    "t.`type`, `from`: t.`from`, `to`: t.`to`}) SET r.`keys` = coalesce(r.`keys`, "
    "[]) + [k IN t.`keys` WHERE NOT k IN coalesce(r.`keys`, [])]")
TOKEN_PUT = "CREATE (:`__SluiceCommit__` {`token`: $token})"
TOKEN_GET = "MATCH (c:`__SluiceCommit__` {`token`: $token}) RETURN count(c) AS n"
TOKEN_DEL = "MATCH (c:`__SluiceCommit__` {`token`: $token}) DELETE c"
TOKEN_DEL_PREFIX = "MATCH (c:`__SluiceCommit__`) WHERE c.`token` STARTS WITH $prefix DELETE c"
SCHEMA_READS = ("SHOW CONSTRAINTS YIELD name RETURN name", "SHOW INDEXES YIELD name RETURN name")
RETURN_MATCHES = " RETURN count(*) AS matches"
RETURN_WRITES = " RETURN count(DISTINCT params.i) AS writes, count(*) AS matches"


class Fail(Exception):
    """A statement, row or value the interpreter does not accept."""


def canon(obj):
    """The canonical JSON text of a value (keys sorted, no spaces)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def decode(v):
    """A recorded value as Python: {"$float": "NaN"} forms become floats."""
    if isinstance(v, dict):
        if len(v) == 1 and "$float" in v:
            return float(v["$float"])
        return {k: decode(x) for k, x in v.items()}
    if isinstance(v, list):
        return [decode(x) for x in v]
    return v


def norm(v):
    """A hashable form of a property value for equality as Neo4j's `=`:
    numbers equal across int and float, booleans only booleans."""
    if isinstance(v, bool):
        return ("b", v)
    if isinstance(v, (int, float)):
        return ("n", v)
    if isinstance(v, str):
        return ("s", v)
    if isinstance(v, list):
        return ("l", tuple(norm(x) for x in v))
    raise Fail(f"not a comparable value: {canon(v)}")


def check_prop(name, v):
    """Fail unless Neo4j can store `v` as a property (or `v` is null)."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return
    if isinstance(v, list):
        kinds = {type(x) for x in v}
        if all(k in (bool, int, float, str) for k in kinds) and len(kinds) <= 1:
            return
    raise Fail(f"property {name!r}: Neo4j cannot store {canon(v)}")


class Graph:
    """Nodes (labels, properties) and relationships, with the indexes the
    statements look things up by."""

    def __init__(self):
        self.nodes = []         # id -> {"labels": set, "props": dict}
        self.by_label = {}      # label -> set of node ids
        self.by_prop = {}       # (label, name, norm(value)) -> set of node ids
        self.rels = []          # {"from", "to", "type", "props"}
        self.rels_by_ends = {}  # (from id, type, to id) -> list of rels

    def _index(self, nid, label, name, v, add):
        if v is None:
            return
        key = (label, name, norm(v))
        s = self.by_prop.setdefault(key, set())
        if add:
            s.add(nid)
        else:
            s.discard(nid)

    def new_node(self, label, props):
        nid = len(self.nodes)
        self.nodes.append({"labels": set(), "props": {}})
        self.add_label(nid, label)
        for k, v in props.items():
            self.set_prop(nid, k, v)
        return nid

    def add_label(self, nid, label):
        n = self.nodes[nid]
        if label in n["labels"]:
            return
        n["labels"].add(label)
        self.by_label.setdefault(label, set()).add(nid)
        for k, v in n["props"].items():
            self._index(nid, label, k, v, True)

    def set_prop(self, nid, name, v):
        n = self.nodes[nid]
        old = n["props"].get(name)
        for label in n["labels"]:
            self._index(nid, label, name, old, False)
        if v is None:
            n["props"].pop(name, None)
            return
        n["props"][name] = v
        for label in n["labels"]:
            self._index(nid, label, name, v, True)

    def find(self, label, conds):
        """Ids of nodes labelled `label` meeting every (name, op, value)."""
        ids = None
        for name, op, v in conds:
            if v is None:
                return []
            if op == "=":
                hit = self.by_prop.get((label, name, norm(v)), set())
                ids = set(hit) if ids is None else ids & hit
        if ids is None:
            ids = set(self.by_label.get(label, set()))
        for name, op, v in conds:
            if op == "=~":
                if not isinstance(v, str):
                    return []
                try:
                    rx = re.compile(v, re.S)
                except re.error as e:
                    raise Fail(f"bad regular expression {v!r}: {e}")
                ids = {i for i in ids
                       if isinstance(self.nodes[i]["props"].get(name), str)
                       and rx.fullmatch(self.nodes[i]["props"][name])}
        return sorted(ids)

    def merge_rel(self, f, rtype, t, key, create):
        """The relationships (f)-[:rtype {key}]->(t) to update: all that
        exist (MERGE), else a new one; always a new one with `create`."""
        lst = self.rels_by_ends.setdefault((f, rtype, t), [])
        if not create:
            want = {k: norm(v) for k, v in key.items()}
            found = [r for r in lst
                     if all(k in r["props"] and norm(r["props"][k]) == nv for k, nv in want.items())]
            if found:
                return found
        r = {"from": f, "to": t, "type": rtype, "props": dict(key)}
        self.rels.append(r)
        lst.append(r)
        return [r]


class Parser:
    """A cursor over a statement's text: exact literals and quoted names."""
    NAME = re.compile(r"`((?:[^`]|``)+)`")

    def __init__(self, text):
        self.s, self.i = text, 0

    def fail(self, what):
        raise Fail(f"unknown statement shape (expected {what} at column {self.i + 1}): {self.s}")

    def opt(self, lit):
        if self.s.startswith(lit, self.i):
            self.i += len(lit)
            return True
        return False

    def lit(self, lit):
        if not self.opt(lit):
            self.fail(repr(lit))

    def name(self):
        m = self.NAME.match(self.s, self.i)
        if not m:
            self.fail("a `name`")
        self.i = m.end()
        return m.group(1).replace("``", "`")

    def end(self):
        if self.i != len(self.s):
            self.fail("the end")

    def key_map(self, row):
        """` {`a`: params.ROW.`a`, ...}` (after the " {"): the key names."""
        keys = []
        while True:
            k = self.name()
            self.lit(f": params.{row}.")
            if self.name() != k:
                self.fail(f"params.{row}.`{k}`")
            keys.append(k)
            if self.opt("}"):
                return keys
            self.lit(", ")

    def where(self, var, row):
        """` WHERE var.`a` OP params.ROW.`a` AND ...`: [(name, op)]."""
        conds = []
        while self.opt(" AND " if conds else " WHERE "):
            self.lit(f"{var}.")
            k = self.name()
            op = "=~" if self.opt(" =~ ") else None
            if op is None:
                self.lit(" = ")
                op = "="
            self.lit(f"params.{row}.")
            if self.name() != k:
                self.fail(f"params.{row}.`{k}`")
            conds.append((k, op))
        return conds

    def returns(self):
        if not self.opt(RETURN_WRITES):
            self.lit(RETURN_MATCHES)
        self.end()


def parse_write(text):
    """The shape of a node or relationship write statement, or a Fail."""
    p = Parser(text)
    p.lit("UNWIND $rows AS params ")
    if p.opt("MERGE (node:") or p.opt("MATCH (node:"):
        merge = text.startswith("MERGE", len("UNWIND $rows AS params "))
        shape = {"rel": False, "merge": merge, "type": p.name(), "keys": [], "conds": [], "labels": []}
        if merge:
            if p.opt(" {"):
                shape["keys"] = p.key_map("k")
            p.lit(")")
        else:
            p.lit(")")
            shape["conds"] = p.where("node", "k")
        if p.opt(" SET node:"):
            shape["labels"].append(p.name())
            while p.opt(":"):
                shape["labels"].append(p.name())
        p.lit(" SET node += params.p")
        p.returns()
        return shape
    p.lit("MATCH (from_node:")
    shape = {"rel": True, "from": p.name()}
    p.lit(")")
    shape["from_conds"] = p.where("from_node", "f")
    p.lit(" MATCH (to_node:")
    shape["to"] = p.name()
    p.lit(")")
    shape["to_conds"] = p.where("to_node", "t")
    if p.opt(" CREATE (from_node)-[rel:"):
        shape["create"] = True
    else:
        p.lit(" MERGE (from_node)-[rel:")
        shape["create"] = False
    shape["type"] = p.name()
    shape["keys"] = p.key_map("k") if p.opt(" {") else []
    p.lit("]->(to_node) SET rel += params.p")
    p.returns()
    return shape


class Replay:
    """The graph, what the statements said about it, and the store's own
    bookkeeping (registry entries, commit tokens)."""

    def __init__(self):
        self.g = Graph()
        self.node_keys = {}    # node type -> key names (from its statements)
        self.rel_keys = {}     # relationship type -> key names
        self.adjs = set()      # (rel type, from type, to type)
        self.registry = {}     # (kind, type, from, to) -> set of key names
        self.tokens = set()
        self.shapes = {}       # statement text -> parsed shape
        self.rows = 0          # rows applied

    def run(self, text, params):
        if text == REGISTRY_WRITE:
            for t in params["types"]:
                ident = (t["kind"], t["type"], t["from"], t["to"])
                self.registry.setdefault(ident, set()).update(t["keys"])
            return
        if text == TOKEN_PUT:
            self.tokens.add(params["token"])
            return
        if text == TOKEN_DEL:
            self.tokens.discard(params["token"])
            return
        if text == TOKEN_DEL_PREFIX:
            self.tokens = {t for t in self.tokens if not t.startswith(params["prefix"])}
            return
        if text == TOKEN_GET or text in SCHEMA_READS:
            return
        shape = self.shapes.get(text)
        if shape is None:
            shape = self.shapes[text] = parse_write(text)
        if set(params) != {"rows"} or not isinstance(params["rows"], list):
            raise Fail(f"a write statement's parameters are not {{rows: [...]}}: {canon(params)[:200]}")
        for i, row in enumerate(params["rows"]):
            self.row(shape, i, row)

    def row(self, shape, i, row):
        want = {"i", "f", "t", "k", "p"} if shape["rel"] else {"i", "k", "p"}
        if not isinstance(row, dict) or set(row) != want or row["i"] != i:
            raise Fail(f"row {i}: not a {'relationship' if shape['rel'] else 'node'} row "
                       f"{sorted(want)} with i={i}: {canon(row)[:200]}")
        for part in want - {"i"}:
            if not isinstance(row[part], dict):
                raise Fail(f"row {i}: {part} is not a map")
        for k, v in row["p"].items():
            check_prop(k, v)
        self.rows += 1
        (self.rel_row if shape["rel"] else self.node_row)(shape, row)

    def node_row(self, shape, row):
        g, t = self.g, shape["type"]
        self.node_keys.setdefault(t, set()).update(shape["keys"] or [c[0] for c in shape["conds"]])
        if shape["merge"]:
            key = {k: row["k"].get(k) for k in shape["keys"]}
            for k, v in key.items():
                if v is None:
                    raise Fail(f"MERGE of a {t} node with a null key {k!r}: Neo4j refuses it")
                check_prop(k, v)
            ids = g.find(t, [(k, "=", v) for k, v in key.items()]) or [g.new_node(t, key)]
        else:
            ids = g.find(t, [(k, op, row["k"].get(k)) for k, op in shape["conds"]])
        for nid in ids:
            for label in shape["labels"]:
                g.add_label(nid, label)
            for k, v in row["p"].items():
                g.set_prop(nid, k, v)

    def rel_row(self, shape, row):
        g = self.g
        self.rel_keys.setdefault(shape["type"], set()).update(shape["keys"])
        self.adjs.add((shape["type"], shape["from"], shape["to"]))
        froms = g.find(shape["from"], [(k, op, row["f"].get(k)) for k, op in shape["from_conds"]])
        tos = g.find(shape["to"], [(k, op, row["t"].get(k)) for k, op in shape["to_conds"]])
        key = {k: row["k"].get(k) for k in shape["keys"]}
        for k, v in key.items():
            if v is None:
                raise Fail(f"MERGE of a {shape['type']} relationship with a null key {k!r}")
            check_prop(k, v)
        for f in froms:
            for t in tos:
                for r in g.merge_rel(f, shape["type"], t, key, shape["create"]):
                    for k, v in row["p"].items():
                        if v is None:
                            r["props"].pop(k, None)
                        else:
                            r["props"][k] = v

    def check_end(self):
        """The store's bookkeeping: every written type registered with its
        keys, no commit token left behind."""
        for t, keys in self.node_keys.items():
            have = self.registry.get(("node", t, "", ""))
            if have is None or not keys <= have:
                raise Fail(f"node type {t} (keys {sorted(keys)}) is not in the key-name registry")
        for r, f, t in self.adjs:
            have = self.registry.get(("rel", r, f, t))
            if have is None or not self.rel_keys[r] <= have:
                raise Fail(f"relationship type {r} ({f} -> {t}) is not in the key-name registry")
        if self.tokens:
            raise Fail(f"{len(self.tokens)} commit token(s) left behind: {sorted(self.tokens)[:3]}")

    def lines(self, strip):
        """The canonical export lines: nodes per type, then relationships
        per (type, from type, to type)."""
        g, out = self.g, []

        def props_of(p, keys):
            return ({k: v for k, v in p.items() if k in keys},
                    {k: v for k, v in p.items() if k not in keys and not (strip and TIME_VARYING.match(k))})
        for t in sorted(self.node_keys):
            keys = self.node_keys[t]
            for nid in sorted(g.by_label.get(t, ())):
                n = g.nodes[nid]
                key, props = props_of(n["props"], keys)
                out.append({"node": t, "labels": sorted(n["labels"] - {t}), "key": key, "props": props})
        for r, f, t in sorted(self.adjs):
            fk, tk = self.node_keys.get(f, set()), self.node_keys.get(t, set())
            for rel in g.rels:
                a, b = g.nodes[rel["from"]], g.nodes[rel["to"]]
                if rel["type"] != r or f not in a["labels"] or t not in b["labels"]:
                    continue
                key, props = props_of(rel["props"], self.rel_keys[r])
                out.append({"rel": r, "from": {"node": f, "key": props_of(a["props"], fk)[0]},
                            "to": {"node": t, "key": props_of(b["props"], tk)[0]}, "key": key, "props": props})
        return [canon(o) for o in out]


def replay(path):
    """Replay a recording: the Replay, or a Fail naming the line."""
    rp = Replay()
    txs = {}  # connection -> list of (text, params) of its open transaction, or None
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            try:
                m = json.loads(line)
                conn, msg, fields = (m.get("server", 0), m["conn"]), m["msg"], decode(m["fields"])
                tx = txs.get(conn)
                if msg == "BEGIN":
                    if tx is not None:
                        raise Fail("BEGIN inside a transaction")
                    txs[conn] = []
                elif msg == "RUN":
                    if not isinstance(fields[0], str) or not isinstance(fields[1], dict):
                        raise Fail("RUN without a statement and a parameter map")
                    if tx is None:
                        rp.run(fields[0], fields[1])
                    else:
                        tx.append((fields[0], fields[1]))
                elif msg == "COMMIT":
                    if tx is None:
                        raise Fail("COMMIT outside a transaction")
                    if m.get("failed"):
                        tx = []  # the peer failed it: rolled back
                    for text, params in tx:
                        rp.run(text, params)
                    txs[conn] = None
                elif msg in ("ROLLBACK", "RESET"):
                    txs[conn] = None
                elif msg not in ("HELLO", "LOGON", "LOGOFF", "PULL", "DISCARD", "GOODBYE", "TELEMETRY", "ROUTE"):
                    raise Fail(f"unknown message {msg}")
            except Fail as e:
                raise Fail(f"{path}:{n}: {e}")
            except (ValueError, KeyError, IndexError, TypeError) as e:
                raise Fail(f"{path}:{n}: not a recorded message ({e!r})")
    rp.check_end()
    return rp


def canon_file(path):
    """An export file's lines, canonical, times left out, sorted."""
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            o = json.loads(line)
            if isinstance(o.get("props"), dict):
                o["props"] = {k: v for k, v in o["props"].items() if not TIME_VARYING.match(k)}
            out.append(canon(o))
    return sorted(out)


def main(argv):
    args = argv[1:]
    try:
        if len(args) == 2 and args[0] == "--canon":
            lines = canon_file(args[1])
        elif len(args) in (1, 2) and (len(args) == 1 or args[0] == "--strip-times"):
            strip = len(args) == 2
            rp = replay(args[-1])
            lines = rp.lines(strip)
            if strip:
                lines.sort()
            print(f"replay: {rp.rows} rows committed, {len(lines)} lines", file=sys.stderr)
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except Fail as e:
        print(f"replay: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"replay: {e}", file=sys.stderr)
        return 2
    sys.stdout.write("".join(line + "\n" for line in lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
