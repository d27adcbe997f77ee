python3 -c 'print("[" * 100000 + "]" * 100000)' >deep.json
python3 -c 'print("{\"a\":" * 100000 + "1" + "}" * 100000)' >deep.jsonl
