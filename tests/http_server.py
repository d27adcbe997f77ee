#!/usr/bin/env python3
"""A small HTTP server for sluice's HTTP tests, on a free loopback port.

usage: http_server.py ROOT PORTFILE

Serves files under ROOT and a few behaviours the tests need, writes the
port it listens on to PORTFILE once it listens, and exits when its parent
process goes away (the tests also kill it), so a failing test never leaves
it running.

Routes (PATH is relative to ROOT):
  /files/PATH              the file, in 64 KiB writes, with Content-Length
  /gzip-te/PATH            the file gzip-compressed, Content-Encoding: gzip
                           (406 unless the request accepts gzip)
  /deflate-te/PATH         the same with Content-Encoding: deflate
  /redirect/N/PATH         302 to /redirect/N-1/PATH; /redirect/0/PATH to
                           /files/PATH
  /loop...                 302 to itself
  /status/CODE             that status with a short body
  /auth/PATH               the file with Basic user:secretpw, else 401
  /stall/PATH              the file's first line, then nothing for 60 s
  /slow/MS                 a one-line JSON body after MS milliseconds
  /api/offset              offset pagination: ?offset=N (default 0), 10
                           items a page of `total` (default 25), as a list,
                           or as {"data": [...]} with ?wrap=1
  /api/retry/KEY           429 with Retry-After: 1 for the first `fail`
                           (default 2) requests of KEY (503 without
                           Retry-After with ?code=503), then one page
  /api/link                ?page=N of `pages` (default 3) with a Link
                           header rel="next" (relative on even pages)
  /api/field               ?page=N of 3 with {"items": [...], "next": URL}
  /api/bad                 malformed JSON
  /api/headers             echoes the X-Echo request header as a record
  /log                     the request lines seen so far, one a line
"""
import gzip
import os
import sys
import threading
import time
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.realpath(sys.argv[1])
PORTFILE = sys.argv[2]
LOCK = threading.Lock()
RETRIES = {}
LOG = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_body(self, code, body, ctype="application/json", extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def file_path(self, rel):
        p = os.path.realpath(os.path.join(ROOT, urllib.parse.unquote(rel)))
        if not p.startswith(ROOT + os.sep) or not os.path.isfile(p):
            return None
        return p

    def serve_file(self, rel):
        p = self.file_path(rel)
        if p is None:
            self.send_body(404, b"no such file\n", "text/plain")
            return
        size = os.path.getsize(p)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        with open(p, "rb") as f:
            while True:
                chunk = f.read(65536)
                if not chunk:
                    break
                self.wfile.write(chunk)

    def page(self, items, extra=()):
        import json

        self.send_body(200, json.dumps(items).encode(), extra=extra)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        path = u.path
        with LOCK:
            LOG.append(self.path)
        try:
            self.route(path, q)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def route(self, path, q):
        import json

        if path.startswith("/files/"):
            return self.serve_file(path[len("/files/"):])
        for prefix, enc in (("/gzip-te/", "gzip"), ("/deflate-te/", "deflate")):
            if path.startswith(prefix):
                if enc not in self.headers.get("Accept-Encoding", ""):
                    return self.send_body(406, b"accept it\n", "text/plain")
                p = self.file_path(path[len(prefix):])
                if p is None:
                    return self.send_body(404, b"no such file\n", "text/plain")
                data = open(p, "rb").read()
                body = gzip.compress(data) if enc == "gzip" else zlib.compress(data)
                return self.send_body(200, body, "application/octet-stream",
                                      [("Content-Encoding", enc)])
        if path.startswith("/redirect/"):
            n, rest = path[len("/redirect/"):].split("/", 1)
            n = int(n)
            loc = "/files/" + rest if n == 0 else "/redirect/%d/%s" % (n - 1, rest)
            return self.send_body(302, b"", "text/plain", [("Location", loc)])
        if path.startswith("/loop"):
            return self.send_body(302, b"", "text/plain", [("Location", path)])
        if path.startswith("/status/"):
            code = int(path[len("/status/"):].split(".")[0])
            return self.send_body(code, b"status body\n", "text/plain")
        if path.startswith("/auth/"):
            import base64

            want = "Basic " + base64.b64encode(b"user:secretpw").decode()
            if self.headers.get("Authorization") != want:
                return self.send_body(401, b"who are you\n", "text/plain",
                                      [("WWW-Authenticate", 'Basic realm="t"')])
            return self.serve_file(path[len("/auth/"):])
        if path.startswith("/stall/"):
            p = self.file_path(path[len("/stall/"):])
            first = open(p, "rb").readline()
            self.send_response(200)
            self.send_header("Content-Length", str(os.path.getsize(p)))
            self.end_headers()
            self.wfile.write(first)
            self.wfile.flush()
            time.sleep(60)
            return
        if path.startswith("/slow/"):
            time.sleep(int(path[len("/slow/"):]) / 1000.0)
            return self.send_body(200, b'{"slow": true}\n')
        if path == "/api/offset":
            total = int(q.get("total", 25))
            off = int(q.get("offset", 0))
            items = [{"id": i} for i in range(off, min(off + 10, total))]
            return self.page({"data": items} if q.get("wrap") else items)
        if path.startswith("/api/retry/"):
            key = path[len("/api/retry/"):]
            fail = int(q.get("fail", 2))
            with LOCK:
                n = RETRIES.get(key, 0)
                RETRIES[key] = n + 1
            if n < fail:
                if q.get("code") == "503":
                    return self.send_body(503, b"busy\n", "text/plain")
                return self.send_body(429, b"slow down\n", "text/plain",
                                      [("Retry-After", "1")])
            return self.page([{"key": key, "attempts": n + 1}])
        if path == "/api/link":
            page = int(q.get("page", 1))
            pages = int(q.get("pages", 3))
            extra = []
            if page < pages:
                nxt = "/api/link?page=%d&pages=%d" % (page + 1, pages)
                if page % 2 == 1:
                    nxt = "http://%s%s" % (self.headers["Host"], nxt)
                extra.append(("Link", '<%s>; rel="next", </api/link?page=1>; rel="first"' % nxt))
            return self.page([{"page": page, "i": i} for i in range(2)], extra)
        if path == "/api/field":
            page = int(q.get("page", 1))
            nxt = "/api/field?page=%d" % (page + 1) if page < 3 else None
            return self.page({"items": [{"page": page}], "meta": {"next": nxt}})
        if path == "/api/bad":
            return self.send_body(200, b'[{"a": 1}, {"b": ')
        if path == "/api/headers":
            return self.page([{"echo": self.headers.get("X-Echo")}])
        if path == "/log":
            with LOCK:
                body = "".join(line + "\n" for line in LOG).encode()
            return self.send_body(200, body, "text/plain")
        self.send_body(404, b"no route\n", "text/plain")


def watch_parent(parent):
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(0.5)


class Server(ThreadingHTTPServer):
    request_queue_size = 64
    daemon_threads = True


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    tmp = PORTFILE + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, PORTFILE)
    srv.serve_forever()


if __name__ == "__main__":
    main()
