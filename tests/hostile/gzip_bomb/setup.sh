python3 -c '
import gzip
m = gzip.compress(b"\0" * (1 << 20), 9)
open("bomb.jsonl.gz", "wb").write(m * 72)'
