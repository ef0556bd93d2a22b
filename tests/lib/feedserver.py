#!/usr/bin/env python3
"""A fixture feed server for cpecwatch's integration tests.

Serves the files of one directory over HTTP/1.1 on 127.0.0.1 the way a
well-behaved news site does (Content-Type by feed kind, strong ETag,
Last-Modified, 304 on a matching validator, brotli or gzip when asked),
records every request, and misbehaves on purpose when a test asks it to: an
error status for the next K requests, a delay, a redirect (to any URL,
file:// included), a body replaced by given bytes (optionally compressed),
a connection dropped in the middle of the body, a body trickled one byte at
a time.

Library:  with FeedServer(dir) as fs: fs.url_for("wire.xml"); fs.fail("/wire.xml", 500, count=2)
CLI:      python3 tests/lib/feedserver.py --dir DIR [--port N]   (first stdout line: base URL)

Python 3 standard library only; brotli bodies come from the `brotli`
command (Debian package brotli), and are not offered when it is missing.
"""

import argparse
import email.utils
import gzip
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONTENT_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
    "other": "application/octet-stream",
}


def content_type_for(name, data):
    """Content-Type from the extension; .xml is sniffed for an Atom root."""
    ext = os.path.splitext(name)[1].lower()
    if ext in (".json", ".jsonfeed"):
        return CONTENT_TYPES["json"]
    if ext == ".atom":
        return CONTENT_TYPES["atom"]
    if ext in (".rss", ".rdf"):
        return CONTENT_TYPES["rss"]
    if ext == ".xml":
        head = data[:2048]
        if b"<feed" in head and b"http://www.w3.org/2005/Atom" in head:
            return CONTENT_TYPES["atom"]
        return CONTENT_TYPES["rss"]
    return CONTENT_TYPES["other"]


@dataclass
class Request:
    """One request as the server saw it."""
    method: str
    path: str                 # with the query string
    headers: dict             # lower-cased names
    time: float               # time.time() when the request line was read
    status: int = 0           # what the server answered (0: connection dropped)
    encoding: str = None      # Content-Encoding of the answer, if any


@dataclass
class Behaviour:
    """A misbehaviour for one path; count None means for every request."""
    status: int = None
    body: bytes = None
    content_type: str = None
    delay: float = 0.0
    location: str = None
    drop: bool = False
    drip: float = 0.0         # > 0: send the body one byte per this many seconds
    encoding: str = None      # "gzip" or "br": compress the given body with it
    headers: dict = field(default_factory=dict)
    count: int = None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True   # a kept-alive client would wait ~40 ms per answer
    server_version = "feedserver/1"
    timeout = 30              # idle keep-alive connections end on their own

    def log_message(self, fmt, *args):   # noqa: D102 - quiet unless asked
        if self.server.owner.verbose:
            sys.stderr.write("feedserver: %s\n" % (fmt % args))

    def do_HEAD(self):
        self._serve(head=True)

    def do_GET(self):
        self._serve(head=False)

    def _serve(self, head):
        owner = self.server.owner
        req = Request(self.command, self.path,
                      {k.lower(): v for k, v in self.headers.items()}, time.time())
        owner._record(req)
        path = urllib.parse.urlsplit(self.path).path
        b = owner._take(path)
        if b and b.delay:
            time.sleep(b.delay)
        if b and b.location is not None:
            return self._answer(req, b.status or 302, b"", "text/plain",
                                {"Location": b.location, **b.headers}, head)
        if b and (b.status is not None or b.body is not None):
            status = b.status or 200
            body = b.body if b.body is not None else b""
            ctype = b.content_type or (content_type_for(path, body) if status == 200
                                       else "text/plain")
            hdrs = dict(b.headers)
            if b.encoding:
                body = compress(body, b.encoding)
                hdrs["Content-Encoding"] = req.encoding = b.encoding
            return self._answer(req, status, body, ctype, hdrs, head,
                                drop=b.drop, drip=b.drip)
        self._serve_file(req, path, head, drop=bool(b and b.drop), drip=b.drip if b else 0.0)

    def _serve_file(self, req, path, head, drop, drip=0.0):
        owner = self.server.owner
        data, mtime = owner._read(path)
        if data is None:
            return self._answer(req, 404, b"not found\n", "text/plain", {}, head)
        etag = '"%s"' % hashlib.sha256(data).hexdigest()[:24]
        last_modified = email.utils.formatdate(mtime, usegmt=True)
        hdrs = {"ETag": etag, "Last-Modified": last_modified, "Vary": "Accept-Encoding",
                "Cache-Control": "max-age=0"}
        if not owner.ignore_validators and self._not_modified(etag, mtime):
            return self._answer(req, 304, b"", None, hdrs, head)
        ctype = content_type_for(path, data)
        accepted = self.headers.get("Accept-Encoding", "")
        for enc in owner.encodings:
            if _accepts(accepted, enc) and (enc != "br" or brotli_available()):
                data = compress(data, enc, mtime)
                hdrs["Content-Encoding"] = req.encoding = enc
                break
        self._answer(req, 200, data, ctype, hdrs, head, drop=drop, drip=drip)

    def _not_modified(self, etag, mtime):
        inm = self.headers.get("If-None-Match")
        if inm is not None:   # RFC 9110: If-Modified-Since is ignored then
            tags = [t.strip() for t in inm.split(",")]
            return "*" in tags or etag in tags or ("W/" + etag) in tags
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                when = email.utils.parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError):
                return False
            return int(mtime) <= when
        return False

    def _answer(self, req, status, body, ctype, headers, head, drop=False, drip=0.0):
        req.status = 0 if drop else status
        self.send_response(status)
        if ctype and status != 304:
            self.send_header("Content-Type", ctype)
        for k, v in headers.items():
            self.send_header(k, v)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if head or status == 304:
            return
        if drop:
            # Half the body, then a hard close: the client sees a short read.
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           b"\x01\x00\x00\x00\x00\x00\x00\x00")
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if drip > 0:
            self._drip(body, drip)
            return
        self.wfile.write(body)

    def _drip(self, body, seconds):
        """One byte per `seconds` until the body is out, the client hangs up
        or the server stops."""
        self.close_connection = True
        stopping = self.server.owner._stopping
        for i in range(len(body)):
            try:
                self.wfile.write(body[i:i + 1])
                self.wfile.flush()
            except OSError:
                return
            if stopping.wait(seconds):
                return


def brotli_available():
    return shutil.which("brotli") is not None


def compress(data, encoding, mtime=0):
    """data compressed with a Content-Encoding: gzip or br."""
    if encoding == "gzip":
        return gzip.compress(data, mtime=int(mtime))
    if encoding == "br":
        return subprocess.run(["brotli", "-c"], input=data, stdout=subprocess.PIPE,
                              check=True).stdout
    raise ValueError("unknown encoding %r" % encoding)


def _accepts(value, encoding):
    """Whether an Accept-Encoding value allows encoding (gzip or br)."""
    names = ("gzip", "x-gzip", "*") if encoding == "gzip" else (encoding, "*")
    for part in value.split(","):
        bits = [b.strip() for b in part.split(";")]
        if bits[0].lower() in names:
            q = [b for b in bits[1:] if b.startswith("q=")]
            try:
                return not q or float(q[0][2:]) > 0
            except ValueError:
                return False
    return False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # a client hanging up mid-answer (a size cap, a timeout) is what
        # several tests provoke: no traceback for that
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class FeedServer:
    """The feed server as a library; also a context manager."""

    def __init__(self, directory, host="127.0.0.1", port=0, verbose=False):
        self.directory = os.path.abspath(directory)
        self.verbose = verbose
        self.ignore_validators = False   # True: always answer 200 with the body
        self.encodings = ["br", "gzip"]  # preferred first, among those the client accepts
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._requests = []
        self._behaviours = {}
        self._httpd = _Server((host, port), _Handler)
        self._httpd.owner = self
        self._thread = None

    # -- life cycle --
    @property
    def port(self):
        return self._httpd.server_address[1]

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def url_for(self, name):
        return "%s/%s" % (self.url, name.lstrip("/"))

    def start(self):
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="feedserver", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stopping.set()
        if self._thread:
            self._httpd.shutdown()
            self._thread.join(5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- the feeds --
    def _file(self, path):
        rel = urllib.parse.unquote(path).lstrip("/")
        full = os.path.realpath(os.path.join(self.directory, rel))
        if not full.startswith(self.directory + os.sep):
            return None
        return full

    def _read(self, path):
        full = self._file(path)
        try:
            with open(full, "rb") as f:
                return f.read(), os.fstat(f.fileno()).st_mtime
        except (OSError, TypeError):
            return None, 0

    def write_feed(self, name, data, mtime=None):
        """Replace a feed atomically (new items); mtime defaults to now."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        full = os.path.join(self.directory, name.lstrip("/"))
        tmp = full + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        when = time.time() if mtime is None else mtime
        os.utime(tmp, (when, when))
        os.replace(tmp, full)

    # -- misbehaviour --
    def behave(self, path, **kw):
        """Queue a Behaviour for path (see the dataclass for the fields)."""
        with self._lock:
            self._behaviours.setdefault("/" + path.lstrip("/"), []).append(Behaviour(**kw))

    def fail(self, path, status, count=None, body=b"", headers=None):
        self.behave(path, status=status, body=body, count=count, headers=headers or {})

    def delay(self, path, seconds, count=None):
        self.behave(path, delay=seconds, count=count)

    def redirect(self, path, location, status=302, count=None):
        self.behave(path, status=status, location=location, count=count)

    def replace_body(self, path, data, content_type=None, count=None):
        self.behave(path, body=data, content_type=content_type, count=count)

    def drop(self, path, count=None):
        self.behave(path, drop=True, count=count)

    def drip(self, path, seconds_per_byte=1.0, count=None):
        """Send the file's body (or, after replace_body, the given one) one
        byte at a time."""
        self.behave(path, drip=seconds_per_byte, count=count)

    def clear(self, path=None):
        with self._lock:
            if path is None:
                self._behaviours.clear()
            else:
                self._behaviours.pop("/" + path.lstrip("/"), None)

    def _take(self, path):
        with self._lock:
            queue = self._behaviours.get(path)
            if not queue:
                return None
            b = queue[0]
            if b.count is not None:
                b.count -= 1
                if b.count <= 0:
                    queue.pop(0)
            return b

    # -- what happened --
    def _record(self, req):
        with self._cond:
            self._requests.append(req)
            self._cond.notify_all()

    def _matching(self, path):
        if path is None:
            return list(self._requests)
        path = "/" + path.lstrip("/")
        return [r for r in self._requests if urllib.parse.urlsplit(r.path).path == path]

    def requests(self, path=None):
        """Requests so far (optionally only those for one path, query ignored)."""
        with self._lock:
            return self._matching(path)

    def wait_for(self, n, path=None, timeout=10.0):
        """Wait until at least n requests (for path) arrived; returns them.
        Raises TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                reqs = self._matching(path)
                if len(reqs) >= n:
                    return reqs
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("feedserver: %d of %d requests for %s after %.1fs"
                                       % (len(reqs), n, path or "any path", timeout))
                self._cond.wait(left)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Serve feed files, misbehaving on request.")
    ap.add_argument("--dir", required=True, help="directory whose files are served")
    ap.add_argument("--port", type=int, default=0, help="port (default: ephemeral)")
    ap.add_argument("-v", "--verbose", action="store_true", help="log requests to stderr")
    args = ap.parse_args(argv)
    if not os.path.isdir(args.dir):
        ap.error("no such directory: %s" % args.dir)
    fs = FeedServer(args.dir, port=args.port, verbose=args.verbose)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    fs.start()
    print(fs.url, flush=True)
    done.wait()
    fs.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
