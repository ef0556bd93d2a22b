"""A webhook receiver for the benchmarks: accepts POSTed JSON alerts,
counts them, answers 200 at once. Unlike tests/lib/receiver.py it keeps no
records and cannot misbehave, and it sets TCP_NODELAY: on a kept-alive
connection a reply written in two pieces otherwise waits for the client's
delayed ACK (about 40 ms on Linux), which would put the receiver's pauses,
not the daemon's work, into the daemon's wall time.

Python 3 standard library only.
"""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1 << 20


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(n, MAX_BODY)) if n > 0 else b""
        try:
            ok = isinstance(json.loads(body), dict)
        except ValueError:
            ok = False
        self.server.owner.count(ok)
        reply = b'{"ok": true}' if ok else b'{"ok": false}'
        self.wfile.write(b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                         % (200 if ok else 400, b"OK" if ok else b"Bad Request", len(reply), reply))


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class FastReceiver:
    """with FastReceiver() as rx: rx.url_for("hook"); rx.accepted (a count)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.accepted = 0
        self.refused = 0
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread = None

    def count(self, ok):
        with self._lock:
            if ok:
                self.accepted += 1
            else:
                self.refused += 1

    def url_for(self, path="hook"):
        return "http://127.0.0.1:%d/%s" % (self._httpd.server_address[1], path.lstrip("/"))

    def __enter__(self):
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="fastreceiver", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._httpd.shutdown()
        self._thread.join(5)
        self._httpd.server_close()
