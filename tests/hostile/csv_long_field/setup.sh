python3 -c '
import sys
sys.stdout.write("a,b\n1,\"" + "x" * (2 << 20) + "\"\n2,y\n")' >long.csv
