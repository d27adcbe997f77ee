#!/usr/bin/env python3
"""bench_pgbench's seven queries through asyncpg on uvloop.

The asyncpg side of bench_pg_vs_asyncpg (bench/bench_pgbench.c built with
SLUICE_VS_ASYNCPG), which runs this script once per round and reads its
output. The same work as bench_pgbench's sluice side: concurrency 10 (one
asyncpg pool of 10 connections, 10 coroutines that each hold one connection
and loop the query until the deadline), the same statements, parameters
and row counts; prepared statements (asyncpg's statement cache) with binary
results decoded into Python values; COPY of 10,000 rows with
copy_records_to_table(); the batch as one executemany() of 1000 rows (one
pipelined round trip with one sync point).

Each query runs once on every connection (asyncpg's first use of a type
on a connection costs a catalogue query), then after a warm-up of WARMUP
seconds for SECONDS seconds: queries that complete after the warm-up
count, and no query starts after the deadline. The client's CPU time (time.process_time(), user + system of
this process) is taken at the first counted completion and after the last
query ended. The tables must exist (the C program creates them); copyfrom's
and batch's are truncated after their query.

usage: asyncpg_pgbench.py URI SECONDS WARMUP
       asyncpg_pgbench.py --check   (prints the versions, or SKIP)

Output, per query: a line "COUNTING <name>" at the first counted
completion (where the C program reads the server's CPU time), then

  RESULT <name> rows=<rows> queries=<n> secs=<wall> cpu=<cpu seconds>

Exits 3 with a line "SKIP <reason>" when asyncpg or uvloop is missing.
"""
import asyncio
import sys
import time

try:
    import asyncpg
    import uvloop
except ImportError as e:  # the C program prints the skip
    print(f"SKIP {e}", flush=True)
    sys.exit(3)

CONCURRENCY = 10
COPY_ROWS = 10000
BATCH_ROWS = 1000
ROW7 = (10, 11, 10, "TESTTESTTEST", 10.333, 12341234, "123412341234")
COLS7 = ["a", "b", "c", "d", "e", "f", "g"]

PG_TYPE = ("select typname, typnamespace, typowner, typlen, typbyval, "
           "typcategory, typispreferred, typisdefined, typdelim, typrelid, "
           "typelem, typarray from pg_type where typtypmod = $1 and "
           "typisdefined = $2")
INSERT7 = ("INSERT INTO _batch(a, b, c, d, e, f, g) VALUES ($1, $2, $3, $4, "
           "$5, $6, $7)")

# name, kind, statement, arguments, script after the query
QUERIES = [
    ("pg_type", "select", PG_TYPE, (-1, True), None),
    ("generate_series", "select",
     "SELECT i FROM generate_series(1, $1) AS i", (1000,), None),
    ("large_object", "select", "SELECT * FROM _bytes", (), None),
    ("arrays", "select", "SELECT * FROM _test", (), None),
    ("copyfrom", "copy", None, None, "TRUNCATE _copy"),
    ("batch", "batch", INSERT7, None, "TRUNCATE _batch"),
    ("oneplusone", "select", "SELECT 1+1", (), None),
]


class Run:
    """One query's measurement: counted rows, queries and times."""

    def __init__(self, name):
        self.name = name
        self.t_warm = self.t_stop = float("inf")
        self.t_last = 0.0
        self.rows = 0
        self.count = 0
        self.cpu0 = None
        self.ready = 0
        self.started = asyncio.Event()

    def start(self, warmup, secs):
        """Start the clock: warm-up, then the measured time."""
        now = time.monotonic()
        self.t_warm = now + warmup
        self.t_stop = self.t_warm + secs
        self.started.set()

    def done(self, rows):
        """Count a query that completed with `rows` rows."""
        now = time.monotonic()
        if now < self.t_warm:
            return
        if self.cpu0 is None:
            self.cpu0 = time.process_time()
            # The C program reads the server's CPU time on this line.
            print(f"COUNTING {self.name}", flush=True)
        self.rows += rows
        self.count += 1
        self.t_last = now


async def once(conn, q, records):
    """Run query `q` once on `conn`; its row count."""
    _, kind, sql, args, _ = q
    if kind == "select":
        return len(await conn.fetch(sql, *args))
    if kind == "copy":
        await conn.copy_records_to_table("_copy", records=records,
                                         columns=COLS7)
        return COPY_ROWS
    await conn.executemany(sql, records)
    return BATCH_ROWS


async def worker(pool, q, run, warmup, secs):
    """Hold one connection and loop the query until the deadline.

    Each connection runs the query once before the clock starts: asyncpg
    looks up a type it has not seen on a connection (int[] here) with a
    catalogue query that can take longer than the warm-up on a busy
    machine.
    """
    async with pool.acquire() as conn:
        records = [ROW7] * (COPY_ROWS if q[1] == "copy" else BATCH_ROWS)
        await once(conn, q, records)
        run.ready += 1
        if run.ready == CONCURRENCY:
            run.start(warmup, secs)
        await run.started.wait()
        while time.monotonic() < run.t_stop:
            run.done(await once(conn, q, records))


async def main(uri, secs, warmup):
    pool = await asyncpg.create_pool(uri, min_size=CONCURRENCY,
                                     max_size=CONCURRENCY)
    try:
        for q in QUERIES:
            run = Run(q[0])
            await asyncio.gather(*[worker(pool, q, run, warmup, secs)
                                   for _ in range(CONCURRENCY)])
            cpu1 = time.process_time()
            if run.count == 0 or run.t_last <= run.t_warm:
                raise RuntimeError(f"{q[0]}: no query counted")
            print(f"RESULT {q[0]} rows={run.rows} queries={run.count} "
                  f"secs={run.t_last - run.t_warm:.6f} "
                  f"cpu={cpu1 - run.cpu0:.6f}", flush=True)
            if q[4] is not None:
                await pool.execute(q[4])
    finally:
        await pool.close()


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        print(f"# asyncpg {asyncpg.__version__}, uvloop {uvloop.__version__}, "
              f"Python {sys.version.split()[0]}", flush=True)
        sys.exit(0)
    if len(sys.argv) != 4:
        print("usage: asyncpg_pgbench.py URI SECONDS WARMUP", file=sys.stderr)
        sys.exit(2)
    uvloop.install()
    asyncio.run(main(sys.argv[1], float(sys.argv[2]), float(sys.argv[3])))
