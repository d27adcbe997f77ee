python3 -c '
import sys
sys.stdout.write("a,b\n1,\"" + "x" * (70 << 20) + "\"\n2,y\n")' >huge.csv
