#!/usr/bin/env python3
"""A webhook receiver for cpecwatch's integration tests, shaped like the
incoming-webhook endpoints of Slack or Discord: it accepts POSTed JSON,
records every request in order, and fails on purpose when a test asks it to
(status S for the next K requests, 429 with Retry-After, a delay longer than
the client's timeout). Non-JSON bodies are refused with 400.

Library:  with Receiver() as rx: ...; rx.fail(500, count=2); rx.wait_for(3, timeout=10)
CLI:      python3 tests/lib/receiver.py [--port N] [--print]
          (first stdout line: base URL; with --print one line per accepted alert)

Python 3 standard library only.
"""

import argparse
import json
import signal
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1 << 20


@dataclass
class Hook:
    """One request as the receiver saw it."""
    method: str
    path: str
    headers: dict      # lower-cased names
    raw: bytes
    body: object       # parsed JSON, or None when the body was not JSON
    time: float        # time.time() when the request had been read
    status: int = 0    # what the receiver answered


@dataclass
class _Failure:
    status: int
    count: int = None           # None: every request
    retry_after: str = None
    delay: float = 0.0


def format_alert(body):
    """One readable line for an alert: [sev] Title — link (killed 5, Province)."""
    if not isinstance(body, dict):
        return "(not an alert) %r" % (body,)
    extra = []
    if body.get("kind") not in (None, "new"):
        extra.append(str(body["kind"]))
    if isinstance(body.get("killed"), int):
        extra.append("killed %d" % body["killed"])
    if isinstance(body.get("injured"), int):
        extra.append("injured %d" % body["injured"])
    if body.get("province"):
        extra.append(str(body["province"]))
    line = "[%s] %s — %s" % (body.get("severity", "?"), body.get("title", "?"),
                             body.get("link", "?"))
    if extra:
        line += " (%s)" % ", ".join(extra)
    return line


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "receiver/1"
    timeout = 30

    def log_message(self, fmt, *args):   # quiet: the records are the log
        pass

    def do_GET(self):
        self._reply(405, {"ok": False, "error": "POST only"})

    def do_POST(self):
        owner = self.server.owner
        raw = self._read_body()
        if raw is None:
            return
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            body = None
        hook = Hook(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                    raw, body, time.time())
        owner._record(hook)   # arrival order, before any deliberate delay
        failure = owner._take_failure()
        ctype = hook.headers.get("content-type", "").split(";")[0].strip().lower()
        if failure:
            if failure.delay:
                time.sleep(failure.delay)
            hook.status = failure.status
            extra = {"Retry-After": failure.retry_after} if failure.retry_after else {}
        elif body is None or ctype != "application/json":
            hook.status = 400
            extra = {}
        else:
            hook.status = 200
            extra = {}
        owner._answered(hook)
        self._reply(hook.status, {"ok": hook.status < 300}, extra)

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        try:
            n = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            n = -1
        if n < 0 or n > MAX_BODY:
            self._reply(413, {"ok": False, "error": "bad length"})
            return None
        return self.rfile.read(n)

    def _read_chunked(self):
        parts, total = [], 0
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline().strip():   # trailers
                    pass
                return b"".join(parts)
            total += size
            if total > MAX_BODY:
                self._reply(413, {"ok": False, "error": "too large"})
                return None
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _reply(self, status, obj, headers=None):
        data = (json.dumps(obj) + "\n").encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except OSError:   # the client gave up (timeout test): nothing to tell
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Receiver:
    """The webhook receiver as a library; also a context manager.
    on_accept(hook) is called (in the server thread) for every 2xx answer."""

    def __init__(self, host="127.0.0.1", port=0, on_accept=None):
        self.on_accept = on_accept
        self._cond = threading.Condition()
        self._hooks = []
        self._failures = []
        self._httpd = _Server((host, port), _Handler)
        self._httpd.owner = self
        self._thread = None

    @property
    def port(self):
        return self._httpd.server_address[1]

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def url_for(self, path="hook"):
        return "%s/%s" % (self.url, path.lstrip("/"))

    def start(self):
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="receiver", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._thread:
            self._httpd.shutdown()
            self._thread.join(5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- failure modes, consumed in the order they were queued --
    def fail(self, status, count=None, retry_after=None):
        """Answer status to the next count requests (None: all)."""
        with self._cond:
            self._failures.append(_Failure(status, count,
                                           None if retry_after is None else str(retry_after)))

    def throttle(self, retry_after, count=1):
        self.fail(429, count=count, retry_after=retry_after)

    def delay(self, seconds, count=1, status=200):
        """Sleep before answering the next count requests (a client timeout)."""
        with self._cond:
            self._failures.append(_Failure(status, count, None, seconds))

    def clear(self):
        with self._cond:
            self._failures.clear()

    def _take_failure(self):
        with self._cond:
            if not self._failures:
                return None
            f = self._failures[0]
            if f.count is not None:
                f.count -= 1
                if f.count <= 0:
                    self._failures.pop(0)
            return f

    # -- what arrived --
    def _record(self, hook):
        with self._cond:
            self._hooks.append(hook)
            self._cond.notify_all()

    def _answered(self, hook):
        with self._cond:
            self._cond.notify_all()
        if self.on_accept and 200 <= hook.status < 300:
            self.on_accept(hook)

    @property
    def hooks(self):
        """Every request so far, in arrival order."""
        with self._cond:
            return list(self._hooks)

    @property
    def accepted(self):
        """Requests answered 2xx, in arrival order."""
        return [h for h in self.hooks if 200 <= h.status < 300]

    def alerts(self):
        """Bodies of the accepted requests."""
        return [h.body for h in self.accepted]

    def wait_for(self, n, timeout=10.0, accepted=False):
        """Wait until n requests were answered (or n accepted); returns them
        in arrival order.
        Raises TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [h for h in self._hooks
                       if h.status and (not accepted or 200 <= h.status < 300)]
                if len(got) >= n:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("receiver: %d of %d %srequests after %.1fs"
                                       % (len(got), n, "accepted " if accepted else "", timeout))
                self._cond.wait(left)

    def wait_quiet(self, quiet=2.0, timeout=30.0):
        """Wait until no request arrived for quiet seconds; returns all requests."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                last = self._hooks[-1].time if self._hooks else 0.0
                idle = time.time() - last
                if idle >= quiet:
                    return list(self._hooks)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("receiver: still busy after %.1fs" % timeout)
                self._cond.wait(min(left, quiet - idle))


def main(argv=None):
    ap = argparse.ArgumentParser(description="Receive webhook alerts (JSON POSTs).")
    ap.add_argument("--port", type=int, default=0, help="port (default: ephemeral)")
    ap.add_argument("--print", action="store_true", help="print each accepted alert")
    args = ap.parse_args(argv)

    def show(hook):
        print(format_alert(hook.body), flush=True)

    rx = Receiver(port=args.port, on_accept=show if args.print else None)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    rx.start()
    print(rx.url, flush=True)
    done.wait()
    rx.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
