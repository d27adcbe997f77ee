# One record whose leaf is a 64 KiB string, so the 256 MiB are written in
# few, long appends (fast under ASan too).
python3 -c 'print("{\"s\":\"" + "x" * 65536 + "\"}")' >data.jsonl
