#!/usr/bin/env python3
"""Generate the JSON-lines input of bench/sqlite-profile/pipeline.yaml.

usage: gen.py N [SEED] > records.jsonl

Each record, in Nodestream's fixture style: an account id, five
properties (text, integer, float, boolean), a nested profile object that
names a country and a city, a company name with stray whitespace (for
key normalisation), and a list of 0-6 tags (for find_many). Per record:
one source node, three single relationships and about three tag
relationships; related nodes repeat (250 countries, 5,000 cities,
20,000 companies, 500 tags). Deterministic for a given N and SEED.
"""
import json
import random
import sys


def main():
    n = int(sys.argv[1])
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    syll = ["ka", "lo", "mi", "ra", "to", "ne", "su", "vi", "da", "pe",
            "qu", "ze", "bo", "fa", "gi", "hu"]

    def word(k):
        return "".join(rng.choice(syll) for _ in range(k)).capitalize()

    countries = ["%s%02d" % (word(2).upper()[:2], i) for i in range(250)]
    cities = [word(3) + " " + word(2) for _ in range(5000)]
    companies = [word(3) + " " + rng.choice(["Ltd", "GmbH", "Inc", "SA"])
                 for _ in range(20000)]
    tags = ["tag-" + word(2).lower() + str(i) for i in range(500)]
    out = sys.stdout
    for i in range(n):
        rec = {
            "account_id": "A%09d" % (i * 7919 % 1000000007),
            "name": word(2) + " " + word(3),
            "email": "user%d@%s.example" % (i, word(2).lower()),
            "score": rng.randint(0, 100000),
            "balance": round(rng.uniform(-1000, 100000), 2),
            "active": rng.random() < 0.8,
            "profile": {
                "country": rng.choice(countries),
                "city": rng.choice(cities),
                "since": "20%02d-%02d-%02d" % (rng.randint(0, 25),
                                              rng.randint(1, 12),
                                              rng.randint(1, 28)),
            },
            "employer": "  " + rng.choice(companies) + " ",
            "tags": rng.sample(tags, rng.randint(0, 6)),
        }
        out.write(json.dumps(rec, separators=(",", ":")))
        out.write("\n")


if __name__ == "__main__":
    main()
