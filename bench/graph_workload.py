#!/usr/bin/env python3
"""Generate the graph workload of the speed benchmarks.

A JSON-lines file in the style of Nodestream's fixtures, and a pipeline
file that both sluice and Nodestream 0.16.1 run:

- each record is a player: an id, a name, a nested `profile` object (age,
  height, preferred foot, a text biography), a nested `club` and `nation`,
  a `position` and a list of `skills`;
- the pipeline makes one source node (Player, 5 properties) and four
  relationship interpretations: Country, Team and Position by key, and
  Skill with `find_many` over the `skills` list.

With the default 63,666 records the file is about 24 MB and the graph
about 70,000 nodes and 400,000 relationships. The output is the same for
the same arguments (a fixed pseudo-random sequence).

usage: graph_workload.py DIR [RECORDS]
writes DIR/workload.jsonl, DIR/pipeline.yaml and DIR/nodestream.yaml (a
Nodestream project running the pipeline into its `null` database).
"""
import json
import os
import sys

PIPELINE = """\
- implementation: nodestream.pipeline.extractors.files:FileExtractor
  factory: local
  arguments:
    globs:
      - {data}

- implementation: nodestream.interpreting:Interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: Player
        key:
          player_id: !jmespath id
        properties:
          name: !jmespath name
          age: !jmespath profile.age
          height_cm: !jmespath profile.height_cm
          foot: !jmespath profile.foot
          bio: !jmespath profile.bio
      - type: relationship
        node_type: Country
        relationship_type: REPRESENTS
        node_key:
          code: !jmespath nation.code
        node_properties:
          name: !jmespath nation.name
      - type: relationship
        node_type: Team
        relationship_type: PLAYS_FOR
        node_key:
          name: !jmespath club.name
        node_properties:
          league: !jmespath club.league
        relationship_properties:
          shirt: !jmespath club.shirt
      - type: relationship
        node_type: Position
        relationship_type: LINES_UP_AT
        node_key:
          name: !jmespath position
        key_normalization:
          do_trim_whitespace: true
          do_lowercase_strings: false
      - type: relationship
        node_type: Skill
        relationship_type: HAS_SKILL
        find_many: true
        node_key:
          name: !jmespath skills
"""

PROJECT = """\
targets:
  discard:
    database: "null"
scopes:
  bench:
    pipelines:
      - path: pipeline.yaml
"""

WORDS = ("quick passing strong header left right pace vision calm agile "
         "tall young veteran captain clinical creative tireless loyal "
         "technical physical").split()


class Rand:
    """xorshift64: the same numbers on every machine."""

    def __init__(self, seed):
        self.x = seed

    def next(self):
        x = self.x
        x ^= (x << 13) & 0xFFFFFFFFFFFFFFFF
        x ^= x >> 7
        x ^= (x << 17) & 0xFFFFFFFFFFFFFFFF
        self.x = x
        return x

    def below(self, n):
        return self.next() % n


def record(r, i):
    nation = r.below(210)
    club = r.below(720)
    skills = sorted({"skill %d" % r.below(5200)
                     for _ in range(1 + r.below(6))})
    bio = " ".join(WORDS[r.below(len(WORDS))] for _ in range(12))
    return {
        "id": "p%06d" % i,
        "name": "Player %d %s" % (i, WORDS[r.below(len(WORDS))].title()),
        "profile": {
            "age": 16 + r.below(24),
            "height_cm": 160 + r.below(45),
            "foot": "left" if r.below(4) == 0 else "right",
            "bio": bio,
        },
        "nation": {"code": "N%03d" % nation, "name": "Nation %d" % nation},
        "club": {"name": "Club %d" % club, "league": "League %d" % (club % 40),
                 "shirt": 1 + r.below(99)},
        "position": " %s " % ("GK DF MF FW LB RB CB CM AM DM LW RW ST CF SW"
                              .split()[r.below(15)]),
        "skills": skills,
    }


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: graph_workload.py DIR [RECORDS]")
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 63666
    os.makedirs(out, exist_ok=True)
    data = os.path.join(os.path.abspath(out), "workload.jsonl")
    r = Rand(0x9E3779B97F4A7C15)
    with open(data, "w") as f:
        for i in range(n):
            f.write(json.dumps(record(r, i), separators=(",", ":")))
            f.write("\n")
    with open(os.path.join(out, "pipeline.yaml"), "w") as f:
        f.write(PIPELINE.format(data=data))
    with open(os.path.join(out, "nodestream.yaml"), "w") as f:
        f.write(PROJECT)


if __name__ == "__main__":
    main()
