#!/usr/bin/env python3
"""Signed objects as Nodestream 0.16.1 makes them, for tests/test_objstore.c.

    objstore_hmac.py check B64KEY PATH HEXDATA   exit 0 when the file PATH
        holds HMAC-SHA256(key, data) + b"\\n" + data
    objstore_hmac.py write B64KEY PATH HEXDATA   write that to PATH

The digest comes from Python's hmac module, independently of sluice's
OpenSSL code; the layout is Nodestream's SignedObject.into_bytes().
"""
import base64
import hashlib
import hmac
import sys


def main():
    mode, key_b64, path, hexdata = sys.argv[1:5]
    key = base64.b64decode(key_b64)
    data = bytes.fromhex(hexdata)
    want = hmac.new(key, data, hashlib.sha256).digest() + b"\n" + data
    if mode == "write":
        with open(path, "wb") as f:
            f.write(want)
        return 0
    with open(path, "rb") as f:
        got = f.read()
    if got != want:
        print(f"# {path}: {len(got)} bytes, expected {len(want)}; "
              f"signature {got[:32].hex()} vs {want[:32].hex()}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
