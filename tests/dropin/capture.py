#!/usr/bin/python3
"""Run Nodestream's command line, also writing every record that reaches
the end of a pipeline to $DROPIN_RECORDS as one JSON line.

Used only by record.sh, with Debian's /usr/bin/python3 and Nodestream's
source tree on PYTHONPATH. Arguments are Nodestream's own (run, show, ...).
The hook wraps PipelineProgressReporter.observe, which Nodestream calls
once for each record leaving the last step (writers pass records on, so
this is also what reached them). Flush markers are not records and are
left out. Non-JSON values are written as their str() so the file stays
readable; such cases should not compare records.
"""
import json
import os
import sys

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

if __name__ == "__main__":
    from nodestream.cli.application import run

    sys.argv = ["nodestream"] + sys.argv[1:]
    run()
