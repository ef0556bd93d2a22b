#!/usr/bin/env python3
"""A webhook receiver for cpecwatch's integration tests: it accepts POSTed
JSON, records every request in order, and fails on purpose when a test asks
it to (status S for the next K requests, 429 with Retry-After, a delay longer
than the client's timeout). Non-JSON bodies are refused with 400.

With service= it behaves like that service's incoming webhook (see SERVICES):
its success answer (Slack's "ok", Discord's 204, Teams Workflows' 202,
Telegram's {"ok": true, ...}), its payload rules checked (Slack blocks and
their text limits, Discord embed limits 256/4096/1024/6000, the Adaptive
Card's fields, ...; a breach is a 400 in the service's words, and kept in
.violations), and its 429 with the service's headers (Discord's
X-RateLimit-*, Telegram's parameters.retry_after). rate_limit(count, period)
makes it enforce a rate as the service would; requests over it are answered
429 and counted in .rate_violations.

Library:  with Receiver() as rx: ...; rx.fail(500, count=2); rx.wait_for(3, timeout=10)
CLI:      python3 tests/lib/receiver.py [--port N] [--print] [--service NAME]
          (first stdout line: base URL; with --print one line per accepted alert)

Python 3 standard library only.
"""

import argparse
import base64
import hashlib
import hmac
import json
import re
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
    error: str = None  # the service's reason for a 400


@dataclass
class _Failure:
    status: int
    count: int = None           # None: every request
    retry_after: str = None
    delay: float = 0.0


def units(text):
    """Length in UTF-16 code units, as the chat services count."""
    return len(text.encode("utf-16-le")) // 2


def _str(v):
    return v if isinstance(v, str) else None


def check_slack(body, path):
    """Block Kit as incoming webhooks take it; an error string or None."""
    blocks = body.get("blocks")
    if not isinstance(body.get("text"), str) or not isinstance(blocks, list):
        return "invalid_payload"
    if not 0 < len(blocks) <= 50:
        return "invalid_blocks"
    for b in blocks:
        kind = b.get("type")
        if kind == "header":
            t = b.get("text", {})
            if t.get("type") != "plain_text" or not _str(t.get("text")) or units(t["text"]) > 150:
                return "invalid_blocks"
        elif kind == "section":
            t, fields = b.get("text"), b.get("fields")
            if t is None and fields is None:
                return "invalid_blocks"
            if t is not None and (not _str(t.get("text")) or units(t["text"]) > 3000):
                return "invalid_blocks"
            if fields is not None and (len(fields) > 10 or any(
                    not _str(f.get("text")) or units(f["text"]) > 2000 for f in fields)):
                return "invalid_blocks"
        elif kind == "context":
            els = b.get("elements")
            if not isinstance(els, list) or not 0 < len(els) <= 10:
                return "invalid_blocks"
        elif kind not in ("divider", "actions"):
            return "invalid_blocks"
    return None


def check_mattermost(body, path):
    if not _str(body.get("text")) and not isinstance(body.get("attachments"), list):
        return "Unable to parse incoming data"
    if units(body.get("text") or "") > 16383:
        return "text too long"
    for a in body.get("attachments") or []:
        if units(json.dumps(a, ensure_ascii=False)) > 16383:
            return "attachment too long"
    return None


def check_discord(body, path):
    embeds = body.get("embeds")
    if not _str(body.get("content")) and not embeds:
        return "Cannot send an empty message"
    if not isinstance(embeds, list) or len(embeds) > 10:
        return "Invalid Form Body: embeds"
    total = 0
    for e in embeds:
        for key, cap in (("title", 256), ("description", 4096)):
            v = e.get(key)
            if v is not None and (not isinstance(v, str) or units(v) > cap):
                return "Invalid Form Body: embeds.%s" % key
            total += units(v or "")
        fields = e.get("fields") or []
        if len(fields) > 25:
            return "Invalid Form Body: embeds.fields"
        for f in fields:
            if not _str(f.get("name")) or not _str(f.get("value")) or \
                    units(f["name"]) > 256 or units(f["value"]) > 1024:
                return "Invalid Form Body: embeds.fields"
            total += units(f["name"]) + units(f["value"])
        footer = (e.get("footer") or {}).get("text") or ""
        if units(footer) > 2048:
            return "Invalid Form Body: embeds.footer"
        total += units(footer)
        colour = e.get("color")
        if colour is not None and not (isinstance(colour, int) and 0 <= colour <= 0xFFFFFF):
            return "Invalid Form Body: embeds.color"
    if total > 6000:
        return "Invalid Form Body: embeds (over 6000 characters)"
    return None


_CARD_ELEMENTS = {"TextBlock": ("text",), "FactSet": ("facts",), "Image": ("url",),
                  "ColumnSet": ("columns",), "Container": ("items",)}


def check_msteams(body, path):
    """A Workflows "post to a channel when a webhook request is received"
    body: a message with one Adaptive Card attachment."""
    atts = body.get("attachments")
    if body.get("type") != "message" or not isinstance(atts, list) or not atts:
        return "message with attachments expected"
    for a in atts:
        if a.get("contentType") != "application/vnd.microsoft.card.adaptive":
            return "attachment is not an Adaptive Card"
        card = a.get("content") or {}
        if card.get("type") != "AdaptiveCard" or not _str(card.get("version")):
            return "AdaptiveCard with a version expected"
        for el in card.get("body") or []:
            need = _CARD_ELEMENTS.get(el.get("type"))
            if need is None or any(el.get(k) in (None, "") for k in need):
                return "bad card element %r" % el.get("type")
            for fact in el.get("facts") or []:
                if not _str(fact.get("title")) or not _str(fact.get("value")):
                    return "FactSet facts need title and value"
        for act in card.get("actions") or []:
            if act.get("type") != "Action.OpenUrl" or not _str(act.get("url")) or not _str(act.get("title")):
                return "Action.OpenUrl needs title and url"
    if len(json.dumps(body).encode()) > 28 * 1024:
        return "payload over 28 KB"
    return None


def check_googlechat(body, path):
    if not _str(body.get("text")) and not body.get("cardsV2"):
        return "Message cannot be empty."
    if units(body.get("text") or "") > 4096:
        return "text over 4096 characters"
    return None


_TG_TAGS = re.compile(r"</?([a-z]+)(?: [^>]*)?>")


def check_telegram(body, path):
    if not re.fullmatch(r"/bot\d+:[A-Za-z0-9_-]+/sendMessage", path):
        return "Not Found"
    text = body.get("text")
    if body.get("chat_id") in (None, ""):
        return "Bad Request: chat_id is empty"
    if not _str(text) or not text.strip():
        return "Bad Request: message text is empty"
    if body.get("parse_mode") == "HTML":
        if any(t not in ("b", "i", "u", "s", "a", "code", "pre") for t in _TG_TAGS.findall(text)):
            return "Bad Request: can't parse entities: unsupported start tag"
        plain = _TG_TAGS.sub("", text)
        if "<" in plain or ">" in plain or re.search(r"&(?!amp;|lt;|gt;|quot;)", plain):
            return "Bad Request: can't parse entities"
        text = plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    if units(text) > 4096:
        return "Bad Request: message is too long"
    return None


def check_ntfy(body, path):
    if not _str(body.get("topic")):
        return "invalid request: topic invalid"
    if len((body.get("message") or "").encode()) > 4096:
        return "message over 4096 bytes (would become an attachment)"
    if body.get("priority") not in (None, 1, 2, 3, 4, 5):
        return "invalid request: priority invalid"
    return None


def _slack_answer(rx, ok, error):
    return (200, "text/plain", b"ok", {}) if ok else (400, "text/plain", error.encode(), {})


def _discord_headers(rx, remaining, reset_after):
    return {"X-RateLimit-Limit": str(rx.rate[0] if rx.rate else 5),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": "%.3f" % (time.time() + reset_after),
            "X-RateLimit-Reset-After": "%.3f" % reset_after,
            "X-RateLimit-Bucket": "b4e8f0c1"}


def _json(obj):
    return json.dumps(obj).encode()


# service -> (payload check, success/400 answer, 429 answer)
SERVICES = {
    "slack": (check_slack, _slack_answer,
              lambda rx, wait: (429, "text/plain", b"rate_limited", {"Retry-After": str(wait)})),
    "mattermost": (check_mattermost, lambda rx, ok, e: (200, "text/plain", b"ok", {}) if ok else
                   (400, "application/json", _json({"id": "web.incoming_webhook.parse.app_error",
                                                     "message": e, "status_code": 400}), {}),
                   lambda rx, wait: (429, "text/plain", b"limit exceeded", {"Retry-After": str(wait)})),
    "discord": (check_discord, lambda rx, ok, e: (204, None, b"", _discord_headers(rx, 4, 2.0)) if ok else
                (400, "application/json", _json({"code": 50035, "message": e}), {}),
                lambda rx, wait: (429, "application/json",
                                  _json({"message": "You are being rate limited.", "retry_after": wait,
                                         "global": False}),
                                  dict(_discord_headers(rx, 0, wait), **{"Retry-After": str(wait)}))),
    "msteams": (check_msteams, lambda rx, ok, e: (202, None, b"", {}) if ok else
                (400, "application/json", _json({"error": {"code": "InvalidRequestContent", "message": e}}), {}),
                lambda rx, wait: (429, "application/json", _json({"error": {"code": "TooManyRequests"}}),
                                  {"Retry-After": str(wait)})),
    "googlechat": (check_googlechat, lambda rx, ok, e:
                   (200, "application/json", _json({"name": "spaces/AAAA/messages/%d" % len(rx.hooks),
                                                    "text": "..."}), {}) if ok else
                   (400, "application/json", _json({"error": {"code": 400, "message": e,
                                                              "status": "INVALID_ARGUMENT"}}), {}),
                   lambda rx, wait: (429, "application/json",
                                     _json({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}),
                                     {"Retry-After": str(wait)})),
    "telegram": (check_telegram, lambda rx, ok, e:
                 (200, "application/json", _json({"ok": True, "result": {"message_id": len(rx.hooks)}}), {})
                 if ok else (400, "application/json", _json({"ok": False, "error_code": 400, "description": e}), {}),
                 lambda rx, wait: (429, "application/json",
                                   _json({"ok": False, "error_code": 429,
                                          "description": "Too Many Requests: retry after %d" % wait,
                                          "parameters": {"retry_after": wait}}), {})),
    "ntfy": (check_ntfy, lambda rx, ok, e:
             (200, "application/json", _json({"id": "m%d" % len(rx.hooks), "event": "message",
                                              "time": int(time.time())}), {}) if ok else
             (400, "application/json", _json({"code": 40001, "http": 400, "error": e}), {}),
             lambda rx, wait: (429, "application/json",
                               _json({"code": 42901, "http": 429, "error": "limit reached: too many requests"}),
                               {"Retry-After": str(wait)})),
}


def standard_webhooks_signature(secret, msg_id, timestamp, body):
    """The Standard Webhooks v1 signature of body (bytes), as "v1,<base64>"."""
    key = base64.b64decode(secret[len("whsec_"):] if secret.startswith("whsec_") else secret)
    signed = b"%s.%s.%s" % (msg_id.encode(), str(timestamp).encode(), body)
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


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
    disable_nagle_algorithm = True   # a kept-alive client would wait ~40 ms per answer
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
        if owner.service and (failure is None or failure.status == 429):
            return self._as_service(owner, hook, failure, body, ctype)
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

    def _as_service(self, owner, hook, failure, body, ctype):
        check, answer, limited = SERVICES[owner.service]
        wait = owner._over_rate(hook)
        if failure or wait:
            status, rtype, data, headers = limited(owner, int(failure.retry_after or 1) if failure else wait)
        else:
            error = "invalid JSON" if body is None or ctype != "application/json" or \
                not isinstance(body, dict) else check(body, self.path)
            hook.error = error
            if error:
                owner._violation(hook, error)
            status, rtype, data, headers = answer(owner, error is None, error)
        hook.status = status
        owner._answered(hook)
        try:
            self.send_response(status)
            if rtype:
                self.send_header("Content-Type", rtype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True

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

    def __init__(self, host="127.0.0.1", port=0, on_accept=None, service=None):
        if service is not None and service not in SERVICES:
            raise ValueError("unknown service %r" % service)
        self.on_accept = on_accept
        self.service = service
        self.rate = None               # (count, period) when rate_limit() was called
        self.violations = []           # (hook, reason): payloads the service would refuse
        self.rate_violations = []      # hooks that came faster than the rate
        self._recent = []              # arrival times within the rate's period
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

    def rate_limit(self, count, period, slack=0.1):
        """Answer 429 (service style) to a request that is more than count
        within period seconds; slack is the part of the period forgiven for
        network jitter."""
        with self._cond:
            self.rate = (count, period)
            self._rate_slack = slack

    def _over_rate(self, hook):
        """Seconds to wait (rounded up, >= 1) when hook breaks the rate, else 0."""
        with self._cond:
            if not self.rate:
                return 0
            count, period = self.rate
            window = period * (1 - self._rate_slack)
            self._recent = [t for t in self._recent if hook.time - t < window]
            if len(self._recent) >= count:
                self.rate_violations.append(hook)
                return max(1, int(period - (hook.time - self._recent[0]) + 0.999))
            self._recent.append(hook.time)
            return 0

    def _violation(self, hook, reason):
        with self._cond:
            self.violations.append((hook, reason))

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
    ap.add_argument("--service", choices=sorted(SERVICES), help="behave like this service")
    args = ap.parse_args(argv)

    def show(hook):
        print(format_alert(hook.body), flush=True)

    rx = Receiver(port=args.port, on_accept=show if args.print else None, service=args.service)
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
