#!/usr/bin/python3
"""Run Nodestream's command line, also writing what the harness compares:

- every record that reaches the end of a pipeline, to $DROPIN_RECORDS, one
  JSON line each;
- the graph a `database: sqlite` target would hold, to $DROPIN_GRAPH, in the
  canonical JSON-lines form (see README.md, "Graphs").

Used only by record.sh, with Debian's /usr/bin/python3 and Nodestream's
source tree on PYTHONPATH. Arguments are Nodestream's own (run, show, ...).

Records: the hook wraps PipelineProgressReporter.observe, which Nodestream
calls once for each record leaving the last step (writers pass records on,
so this is also what reached them). Flush markers are not records and are
left out. Non-JSON values are written as their str() so the file stays
readable; such cases should not compare records.

Graph: Nodestream has no SQLite connector, so this file registers one under
the name `sqlite` (the database sluice writes for the same target). It
accepts any arguments, and its query executor applies each flushed batch to
an in-memory labelled property graph with the meaning of Nodestream's Neo4j
plugin: nodes are MERGEd (EAGER), MATCHed (MATCH_ONLY) or MATCHed by
regular expression (FUZZY) on their type and key, then get `SET += props`
(a null value removes the property) and their extra labels; relationships
MATCH both endpoints (never creating them) and are MERGEd on (from, type,
key, to), or CREATEd every time under the CREATE rule. A node with a null
key value is skipped. The graph of the target whose path is `graph.db` is
written when the process exits.
"""
import atexit
import json
import os
import re
import sys

from nodestream.databases.database_connector import DatabaseConnector
from nodestream.databases.null import NullMigrator, NullRetriever
from nodestream.databases.query_executor import QueryExecutor
from nodestream.model import NodeCreationRule, RelationshipCreationRule
from nodestream.pipeline.flush import Flush
from nodestream.pipeline.progress_reporter import PipelineProgressReporter

_observe = PipelineProgressReporter.observe


def observe(self, record):
    """Append `record` to $DROPIN_RECORDS, then do what Nodestream does."""
    path = os.environ.get("DROPIN_RECORDS")
    if path and record is not Flush:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record, default=str, ensure_ascii=False) + "\n")
    return _observe(self, record)


PipelineProgressReporter.observe = observe

# The SQLite file the harness exports on sluice's side; only the graph of a
# target with this path is written to $DROPIN_GRAPH.
GRAPH_DB = "graph.db"


def same(a, b):
    """Cypher's `a = b` for stored values: numbers compare by value, a
    boolean equals only a boolean, null equals nothing."""
    if a is None or b is None:
        return False
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


class MemoryNode:
    """A node as Neo4j keeps it: labels and properties. `type` and `keys`
    remember how it was created, for the canonical form."""

    def __init__(self, type_, keys):
        self.type = type_
        self.labels = {type_}
        self.keys = tuple(keys)
        self.props = {}


class MemoryRel:
    """A relationship between two MemoryNodes."""

    def __init__(self, type_, start, end, keys):
        self.type = type_
        self.start = start
        self.end = end
        self.keys = tuple(keys)
        self.props = {}


class MemoryGraph:
    """An in-memory labelled property graph with the few Cypher operations
    Nodestream's Neo4j plugin sends."""

    def __init__(self):
        self.nodes = []
        self.rels = []

    @staticmethod
    def set_props(obj, props):
        """`SET obj += props`: a null value removes the property."""
        for k, v in props.items():
            if v is None:
                obj.props.pop(k, None)
            else:
                obj.props[k] = v

    def match(self, type_, key, fuzzy):
        """The nodes labelled `type_` whose properties equal `key`'s values
        (or fully match them as regular expressions when `fuzzy`)."""
        out = []
        for n in self.nodes:
            if type_ not in n.labels:
                continue
            ok = True
            for k, want in key.items():
                have = n.props.get(k)
                if fuzzy:
                    ok = (isinstance(have, str) and isinstance(want, str)
                          and re.fullmatch(want, have) is not None)
                else:
                    ok = same(have, want)
                if not ok:
                    break
            if ok:
                out.append(n)
        return out

    def endpoints(self, node, rule):
        """The nodes a relationship statement MATCHes for one end."""
        return self.match(node.type, node.key_values, rule == NodeCreationRule.FUZZY)

    def upsert_node(self, rule, node):
        """One row of a node statement."""
        key = dict(node.key_values)
        if not key or any(v is None for v in key.values()):
            return
        found = self.match(node.type, key, rule == NodeCreationRule.FUZZY)
        if not found and rule == NodeCreationRule.EAGER:
            n = MemoryNode(node.type, key.keys())
            n.props.update(key)
            self.nodes.append(n)
            found = [n]
        for n in found:
            n.labels.update(node.additional_types)
            self.set_props(n, node.properties)

    def upsert_rel(self, op, rel):
        """One row of a relationship statement."""
        r = rel.relationship
        key = dict(r.key_values)
        if any(v is None for v in key.values()):
            return  # Neo4j refuses to MERGE on a null property
        for a in self.endpoints(rel.from_node, op.from_node.node_creation_rule):
            for b in self.endpoints(rel.to_node, op.to_node.node_creation_rule):
                found = []
                if op.relationship_creation_rule != RelationshipCreationRule.CREATE:
                    found = [x for x in self.rels
                             if x.start is a and x.end is b and x.type == r.type
                             and all(same(x.props.get(k), v) for k, v in key.items())]
                if not found:
                    x = MemoryRel(r.type, a, b, key.keys())
                    x.props.update(key)
                    self.rels.append(x)
                    found = [x]
                for x in found:
                    self.set_props(x, r.properties)

    @staticmethod
    def split(obj):
        """(key, props) of a node or relationship as the canonical form has them."""
        key = {k: obj.props.get(k) for k in obj.keys}
        props = {k: v for k, v in obj.props.items() if k not in obj.keys}
        return key, props

    def lines(self):
        """The graph in canonical JSON lines, sorted."""
        out = []
        for n in self.nodes:
            key, props = self.split(n)
            out.append({"node": n.type, "labels": sorted(n.labels - {n.type}), "key": key, "props": props})
        for x in self.rels:
            key, props = self.split(x)
            out.append({"rel": x.type,
                        "from": {"node": x.start.type, "key": self.split(x.start)[0]},
                        "to": {"node": x.end.type, "key": self.split(x.end)[0]},
                        "key": key, "props": props})
        return sorted(json.dumps(o, sort_keys=True, default=str, ensure_ascii=False) for o in out)


GRAPHS = {}  # absolute database path -> MemoryGraph


class MemoryQueryExecutor(QueryExecutor):
    """Applies each flushed bucket to a MemoryGraph."""

    def __init__(self, graph):
        self.graph = graph

    async def upsert_nodes_in_bulk_with_same_operation(self, operation, nodes):
        for node in nodes:
            self.graph.upsert_node(operation.node_creation_rule, node)

    async def upsert_relationships_in_bulk_of_same_operation(self, shape, relationships):
        for rel in relationships:
            self.graph.upsert_rel(shape, rel)

    async def perform_ttl_op(self, config):
        pass

    async def execute_hook(self, hook):
        pass


class MemoryConnector(DatabaseConnector, alias="sqlite"):
    """`database: sqlite` for Nodestream: an in-memory graph per `path`."""

    def __init__(self, path=GRAPH_DB, **_):
        self.graph = GRAPHS.setdefault(os.path.abspath(path), MemoryGraph())

    def make_migrator(self):
        return NullMigrator()

    def make_query_executor(self):
        return MemoryQueryExecutor(self.graph)

    def make_type_retriever(self, **kwargs):
        return NullRetriever(**kwargs)


def write_graph():
    """Write the graph of GRAPH_DB to $DROPIN_GRAPH, if there is one."""
    path = os.environ.get("DROPIN_GRAPH")
    graph = GRAPHS.get(os.path.abspath(GRAPH_DB))
    if path and graph is not None:
        with open(path, "w", encoding="utf-8") as out:
            out.writelines(line + "\n" for line in graph.lines())


atexit.register(write_graph)

if __name__ == "__main__":
    from nodestream.cli.application import run

    sys.argv = ["nodestream"] + sys.argv[1:]
    run()
