python3 -c '
import sys
sys.stdout.buffer.write(b"a\n" + b"\x01" * (45 << 20) + b"\n")' >ctl.csv
