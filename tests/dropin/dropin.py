#!/usr/bin/env python3
"""The drop-in differential harness (tests/dropin/README.md).

    dropin.py check --sluice PATH [CASE...]   run cases with sluice, compare
    dropin.py record --nodestream-src DIR CASE...   record Nodestream's results

A case is a folder beside this script holding a `cmd` file. `check` is what
the CTest test `dropin` runs; `record` is run by hand through record.sh and
never by the test suite. Only the standard library is used.
"""
import argparse
import collections
import datetime
import difflib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
# Observations a case may compare; `checks` lists a subset.
KNOWN_CHECKS = ("status", "records", "messages", "stdout", "stdout-json", "graph")
DEFAULT_CHECKS = ("status", "records", "messages")
# Folders of a case that are results, not fixture: never copied to the run.
RESULT_DIRS = ("expect", "sluice")
# Seconds one command may take.
TIMEOUT = 120
# The SQLite file, relative to the run folder, that a `graph` case's target
# writes (`database: sqlite`, `path: graph.db`); capture.py records the graph
# of the same path for Nodestream.
GRAPH_DB = "graph.db"
# Properties whose values depend on the time of the run; a graph comparison
# ignores them on both sides.
TIME_VARYING = re.compile(r"^(last_ingested_at|first_ingested_at|last_ingested_by_.*_at)$")


class CaseError(Exception):
    """A case folder that cannot be used as it is (missing or bad files)."""


def read_text(path, default=None):
    """The text of `path`, or `default` when it does not exist."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return default


def write_text(path, text):
    """Write `text` to `path`, creating its folder."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


class Case:
    """One case folder: its command, checks, message patterns and results."""

    def __init__(self, path):
        self.path = os.path.abspath(path)
        self.name = os.path.basename(self.path)
        cmd = read_text(os.path.join(self.path, "cmd"))
        if cmd is None:
            raise CaseError(f"{self.name}: no cmd file")
        lines = [l for l in cmd.splitlines() if l.strip() and not l.startswith("#")]
        if len(lines) != 1 or "{prog}" not in lines[0]:
            raise CaseError(f"{self.name}/cmd: expected one command line holding {{prog}}")
        self.cmd = lines[0]
        words = (read_text(os.path.join(self.path, "checks")) or "").split()
        self.checks = tuple(words) if words else DEFAULT_CHECKS
        for w in self.checks:
            if w not in KNOWN_CHECKS:
                raise CaseError(f"{self.name}/checks: unknown check '{w}' (known: {', '.join(KNOWN_CHECKS)})")
        self.patterns = self._patterns()
        mine = os.path.join(self.path, "sluice")
        if os.path.isdir(mine) and not os.path.isfile(os.path.join(mine, "WHY")):
            raise CaseError(f"{self.name}/sluice: says where sluice differs on purpose but has no WHY file")

    def _patterns(self):
        """(who, negate, regex, text) for each line of `messages`."""
        out = []
        text = read_text(os.path.join(self.path, "messages"), "")
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            who, negate, pat = "both", False, line
            m = re.match(r"^(sluice|nodestream|not):\s?(.*)$", line)
            if m:
                pat = m.group(2)
                if m.group(1) == "not":
                    negate = True
                else:
                    who = m.group(1)
            try:
                out.append((who, negate, re.compile(pat, re.M), pat))
            except re.error as e:
                raise CaseError(f"{self.name}/messages:{n}: bad pattern: {e}")
        return out

    def expected(self, name):
        """The expected result file `name`: sluice/NAME if the case keeps a
        deliberate difference there, else expect/NAME; None if neither."""
        for d in ("sluice", "expect"):
            p = os.path.join(self.path, d, name)
            if os.path.exists(p):
                return p
        return None

    def run(self, prog, records_env, scratch, extra_env=None):
        """Run the command with {prog} replaced by `prog` (a list of words)
        in a fresh copy of the fixture, scratch/work, with `extra_env` added
        to the environment. Returns (status, stdout, stderr, records text)."""
        work = os.path.join(scratch, "work")
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(self.path, work, ignore=lambda d, names: RESULT_DIRS if d == self.path else ())
        records = os.path.join(scratch, "records.jsonl")
        if os.path.exists(records):
            os.remove(records)
        env = dict(os.environ)
        env[records_env] = records
        env.update(extra_env or {})
        cmd = self.cmd.replace("{prog}", " ".join(shlex.quote(w) for w in prog))
        try:
            p = subprocess.run(["sh", "-c", cmd], cwd=work, env=env, stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=TIMEOUT)
            status = p.returncode
            out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
        except subprocess.TimeoutExpired as e:
            status = "timeout"
            out = (e.stdout or b"").decode("utf-8", "replace")
            err = (e.stderr or b"").decode("utf-8", "replace") + f"\n(killed after {TIMEOUT} s)\n"
        return status, out, err, read_text(records, "")


def canonical_records(text, where):
    """The records of a JSON-lines text, each re-written with sorted keys."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            v = json.loads(line)
        except ValueError as e:
            out.append(f"<{where}:{n}: not JSON: {e}: {line[:200]}>")
            continue
        out.append(json.dumps(v, sort_keys=True, ensure_ascii=False))
    return out


def canonical_graph(text, where):
    """A graph in canonical JSON lines as a multiset (Counter) of its lines,
    each re-written with sorted keys and without the time-varying properties.
    Lines that are not JSON objects are kept as markers, so they differ."""
    out = collections.Counter()
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as e:
            out[f"<{where}:{n}: not JSON: {e}: {line[:200]}>"] += 1
            continue
        if not isinstance(obj, dict):
            out[f"<{where}:{n}: not a JSON object: {line[:200]}>"] += 1
            continue
        if isinstance(obj.get("props"), dict):
            obj["props"] = {k: v for k, v in obj["props"].items() if not TIME_VARYING.match(k)}
        out[json.dumps(obj, sort_keys=True, ensure_ascii=False)] += 1
    return out


def graph_counts(graph):
    """'N nodes, M relationships' of a canonical_graph() Counter."""
    rels = sum(c for line, c in graph.items() if line.startswith("{") and "rel" in json.loads(line))
    return f"{sum(graph.values()) - rels} nodes, {rels} relationships"


def diff_graphs(expected, actual):
    """Problem lines for two canonical_graph() multisets (empty: equal):
    the lines missing from `actual` and those it has in excess, with how
    many times when more than once; at most 20 of them."""
    missing, extra = expected - actual, actual - expected
    if not missing and not extra:
        return []
    out = [f"graph differs: expected {graph_counts(expected)}, sluice gave {graph_counts(actual)}; "
           f"{sum(missing.values())} line(s) missing, {sum(extra.values())} unexpected:"]
    shown = [("missing   ", line, c) for line, c in sorted(missing.items())]
    shown += [("unexpected", line, c) for line, c in sorted(extra.items())]
    for word, line, c in shown[:20]:
        out.append(f"    {word} {line}" + (f"  (x{c})" if c > 1 else ""))
    if len(shown) > 20:
        out.append(f"    ... ({len(shown) - 20} more)")
    return out


def sluice_graph(sluice, work):
    """(graph text, problem) from `sluice export` of the run's GRAPH_DB."""
    db = os.path.join(work, GRAPH_DB)
    if not os.path.exists(db):
        return "", f"sluice wrote no {GRAPH_DB} (the case's target must be database: sqlite, path: {GRAPH_DB})"
    try:
        p = subprocess.run([sluice, "export", "sqlite:" + db], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return "", f"sluice export took more than {TIMEOUT} s"
    if p.returncode != 0:
        return "", (f"sluice export sqlite:{GRAPH_DB} failed, status {p.returncode}: "
                    + p.stderr.decode("utf-8", "replace").strip()[-300:])
    return p.stdout.decode("utf-8", "replace"), None


def diff_lines(expected, actual, what):
    """Up to 40 lines of unified diff between two lists of lines."""
    d = list(difflib.unified_diff(expected, actual, f"expected {what}", f"sluice {what}", lineterm="", n=2))
    if len(d) > 40:
        d = d[:40] + [f"... ({len(d) - 40} more diff lines)"]
    return d


def check_patterns(case, who, output):
    """Messages that fail for `who` ("sluice" or "nodestream") on `output`."""
    bad = []
    for pwho, negate, rx, text in case.patterns:
        if pwho not in ("both", who):
            continue
        found = rx.search(output) is not None
        if found and negate:
            bad.append(f"message matched but must not: {text}")
        elif not found and not negate:
            bad.append(f"message not found: {text}")
    return bad


def tail(text, n=12):
    """The last `n` lines of `text`, indented."""
    lines = text.rstrip("\n").splitlines()[-n:]
    return ["    | " + l for l in lines]


def check_case(case, sluice, scratch):
    """Compare sluice with the recording. A list of problem lines (empty: pass)."""
    status, out, err, records = case.run([sluice], "SLUICE_RECORDS_OUT", scratch)
    problems = []
    if "status" in case.checks:
        p = case.expected("status")
        if p is None:
            problems.append("no recorded status (run record.sh)")
        else:
            want = read_text(p).strip()
            if str(status) != want:
                problems.append(f"exit status: expected {want}, sluice gave {status}")
    if "records" in case.checks:
        p = case.expected("records.jsonl")
        if p is None:
            problems.append("no recorded records (run record.sh)")
        else:
            d = diff_lines(canonical_records(read_text(p), "expected"),
                           canonical_records(records, "sluice"), "records")
            if d:
                problems.append("records differ:")
                problems.extend("    " + l for l in d)
    if "graph" in case.checks:
        p = case.expected("graph.jsonl")
        if p is None:
            problems.append("no recorded graph (run record.sh)")
        else:
            text, bad = sluice_graph(sluice, os.path.join(scratch, "work"))
            if bad:
                problems.append(bad)
            else:
                problems.extend(diff_graphs(canonical_graph(read_text(p), "expected"),
                                            canonical_graph(text, "sluice")))
    for word, parse in (("stdout", False), ("stdout-json", True)):
        if word not in case.checks:
            continue
        p = case.expected("stdout")
        if p is None:
            problems.append("no recorded stdout (run record.sh)")
            continue
        want = read_text(p)
        if parse:
            try:
                same = json.loads(want) == json.loads(out)
            except ValueError as e:
                same, out = False, f"(not JSON: {e})\n{out}"
            if not same:
                problems.append("stdout differs as JSON:")
                problems.extend(tail("expected: " + want.strip() + "\nsluice:   " + out.strip()))
        elif want != out:
            problems.append("stdout differs:")
            problems.extend("    " + l for l in diff_lines(want.splitlines(), out.splitlines(), "stdout"))
    if "messages" in case.checks:
        problems.extend(check_patterns(case, "sluice", out + err))
    if problems:
        problems.append("  sluice's output (last lines):")
        problems.extend(tail(out + err))
    return problems


def find_cases(names):
    """Case folders named on the command line, else every one beside this script."""
    if names:
        return [os.path.join(HERE, n) if not os.path.isdir(n) else n for n in names]
    return sorted(os.path.join(HERE, d) for d in os.listdir(HERE)
                  if os.path.isfile(os.path.join(HERE, d, "cmd")))


def cmd_check(args):
    """Run every case with sluice; print PASS/FAIL per case and a total."""
    sluice = os.path.abspath(args.sluice)
    if not os.access(sluice, os.X_OK):
        sys.exit(f"dropin: {sluice} is not an executable")
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="dropin.") as scratch:
        for path in find_cases(args.cases):
            try:
                case = Case(path)
                problems = check_case(case, sluice, scratch)
            except CaseError as e:
                print(f"FAIL {os.path.basename(path)}: {e}")
                failed += 1
                continue
            if problems:
                print(f"FAIL {case.name}: {case.cmd}")
                for line in problems:
                    print("  " + line)
                failed += 1
            else:
                print(f"PASS {case.name}")
                passed += 1
    print(f"dropin: {passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


def cmd_record(args):
    """Run each case with Nodestream and write its expect/ folder."""
    src = os.path.abspath(args.nodestream_src)
    python = args.python
    prog = [python, os.path.join(HERE, "capture.py")]
    os.environ["PYTHONPATH"] = src + (":" + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else "")
    version = subprocess.run([python, "-c", "import importlib.metadata as m; print(m.version('nodestream'))"],
                             capture_output=True, text=True).stdout.strip() or "unknown"
    rc = 0
    with tempfile.TemporaryDirectory(prefix="dropin-record.") as scratch:
        for path in find_cases(args.cases):
            case = Case(path)
            graph = os.path.join(scratch, "graph.jsonl")
            if os.path.exists(graph):
                os.remove(graph)
            status, out, err, records = case.run(prog, "DROPIN_RECORDS", scratch, {"DROPIN_GRAPH": graph})
            exp = os.path.join(case.path, "expect")
            graph_text = read_text(graph)
            if graph_text is not None:
                write_text(os.path.join(exp, "graph.jsonl"), graph_text)
            elif os.path.exists(os.path.join(exp, "graph.jsonl")):
                os.remove(os.path.join(exp, "graph.jsonl"))
            write_text(os.path.join(exp, "status"), f"{status}\n")
            write_text(os.path.join(exp, "records.jsonl"), records)
            write_text(os.path.join(exp, "stdout"), out)
            write_text(os.path.join(exp, "stderr"), err)
            write_text(os.path.join(exp, "recorded"),
                       f"nodestream {version} ({src}), {datetime.date.today().isoformat()}\n"
                       f"command: {case.cmd}\n")
            bad = check_patterns(case, "nodestream", out + err)
            n = len(canonical_records(records, "records"))
            said = f"recorded {case.name}: status {status}, {n} record{'s' if n != 1 else ''}"
            if graph_text is not None:
                said += ", graph of " + graph_counts(canonical_graph(graph_text, "graph"))
            print(said)
            if "graph" in case.checks and graph_text is None:
                bad.append(f"no graph captured (the target must be database: sqlite, path: {GRAPH_DB})")
            for line in bad:
                print(f"  {line}")
                rc = 1
    return rc


def main():
    """Parse the command line and run `check` or `record`."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    c = sub.add_parser("check", help="compare sluice with the recordings")
    c.add_argument("--sluice", required=True)
    c.add_argument("cases", nargs="*")
    r = sub.add_parser("record", help="record Nodestream's results (by hand)")
    r.add_argument("--nodestream-src", default="/work/nodestream-src")
    r.add_argument("--python", default="/usr/bin/python3")
    r.add_argument("cases", nargs="+")
    args = ap.parse_args()
    return cmd_check(args) if args.what == "check" else cmd_record(args)


if __name__ == "__main__":
    sys.exit(main())
