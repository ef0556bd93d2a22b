"""Self-tests of the fixture servers and harness pieces, run against each
other with urllib (no daemon needed)."""

import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))

import harness  # noqa: E402
from feedserver import FeedServer  # noqa: E402
from receiver import Receiver, format_alert  # noqa: E402

NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


RAW = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect)

ITEM = {"id": "t-1", "title": "A headline", "link": "https://wire.example/1",
        "summary": "Text & more", "published": "2024-03-26T09:15:00Z"}


def get(url, headers=None):
    """(status, headers, body) without raising on 3xx/4xx/5xx."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with RAW.open(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def post(url, data, ctype="application/json", timeout=10):
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Content-Type": ctype})
    try:
        with NO_PROXY.open(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


class FeedServerTest(unittest.TestCase):
    def setUp(self):
        self.dir = harness.make_tempdir("cpecwatch-fs-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.feed = harness.rss_feed("Wire", [ITEM])
        with open(os.path.join(self.dir, "wire.xml"), "wb") as f:
            f.write(self.feed)
        with open(os.path.join(self.dir, "feed.json"), "wb") as f:
            f.write(b'{"version": "https://jsonfeed.org/version/1.1", "items": []}')
        self.fs = FeedServer(self.dir).start()
        self.addCleanup(self.fs.stop)

    def test_serves_file_with_type_and_validators(self):
        status, hdrs, body = get(self.fs.url_for("wire.xml"))
        self.assertEqual((status, body), (200, self.feed))
        self.assertEqual(hdrs["Content-Type"], "application/rss+xml; charset=utf-8")
        self.assertRegex(hdrs["ETag"], r'^"[0-9a-f]{24}"$')
        self.assertRegex(hdrs["Last-Modified"], r"GMT$")
        self.assertEqual(get(self.fs.url_for("feed.json"))[1]["Content-Type"],
                         "application/feed+json; charset=utf-8")
        self.assertEqual(get(self.fs.url_for("missing.xml"))[0], 404)
        self.assertEqual(get(self.fs.url + "/%2e%2e/%2e%2e/etc/passwd")[0], 404)

    def test_conditional_get_and_gzip(self):
        _, hdrs, _ = get(self.fs.url_for("wire.xml"))
        self.assertEqual(get(self.fs.url_for("wire.xml"),
                             {"If-None-Match": hdrs["ETag"]})[0], 304)
        self.assertEqual(get(self.fs.url_for("wire.xml"),
                             {"If-Modified-Since": hdrs["Last-Modified"]})[0], 304)
        self.assertEqual(get(self.fs.url_for("wire.xml"), {"If-None-Match": '"other"'})[0], 200)
        self.fs.ignore_validators = True
        self.assertEqual(get(self.fs.url_for("wire.xml"),
                             {"If-None-Match": hdrs["ETag"]})[0], 200)
        status, zh, zbody = get(self.fs.url_for("wire.xml"), {"Accept-Encoding": "gzip"})
        self.assertEqual((status, zh["Content-Encoding"]), (200, "gzip"))
        self.assertEqual(gzip.decompress(zbody), self.feed)
        # a swapped feed has a new validator
        self.fs.write_feed("wire.xml", harness.rss_feed("Wire", [ITEM, dict(ITEM, id="t-2")]))
        self.fs.ignore_validators = False
        self.assertEqual(get(self.fs.url_for("wire.xml"),
                             {"If-None-Match": hdrs["ETag"]})[0], 200)

    def test_misbehaviours_and_records(self):
        self.fs.fail("/wire.xml", 500, count=2)
        self.assertEqual([get(self.fs.url_for("wire.xml"))[0] for _ in range(3)], [500, 500, 200])
        self.fs.redirect("wire.xml", "file:///etc/passwd", count=1)
        status, hdrs, _ = get(self.fs.url_for("wire.xml"))
        self.assertEqual((status, hdrs["Location"]), (302, "file:///etc/passwd"))
        self.fs.replace_body("wire.xml", b"\x00garbage<<", count=1)
        self.assertEqual(get(self.fs.url_for("wire.xml"))[2], b"\x00garbage<<")
        self.fs.delay("wire.xml", 0.5, count=1)
        t = time.monotonic()
        get(self.fs.url_for("wire.xml"))
        self.assertGreaterEqual(time.monotonic() - t, 0.5)
        self.fs.drop("wire.xml", count=1)
        with self.assertRaises(Exception):   # http.client.IncompleteRead
            get(self.fs.url_for("wire.xml"))
        self.assertEqual(get(self.fs.url_for("wire.xml"))[0], 200)
        reqs = self.fs.requests("wire.xml")
        self.assertEqual([r.status for r in reqs], [500, 500, 200, 302, 200, 200, 0, 200])
        self.assertEqual(reqs[0].path, "/wire.xml")
        self.assertIn("user-agent", reqs[0].headers)
        self.assertEqual(len(self.fs.wait_for(8, "wire.xml", timeout=1)), 8)
        with self.assertRaises(TimeoutError):
            self.fs.wait_for(9, "wire.xml", timeout=0.2)

    def test_cli_prints_url_first(self):
        proc = subprocess.Popen([sys.executable, os.path.join(harness.LIB, "feedserver.py"),
                                 "--dir", self.dir], stdout=subprocess.PIPE, text=True)
        try:
            url = proc.stdout.readline().strip()
            self.assertRegex(url, r"^http://127\.0\.0\.1:\d+$")
            self.assertEqual(get(url + "/wire.xml")[2], self.feed)
        finally:
            proc.terminate()
            self.assertEqual(proc.wait(5), 0)
            proc.stdout.close()


class ReceiverTest(unittest.TestCase):
    def setUp(self):
        self.rx = Receiver().start()
        self.addCleanup(self.rx.stop)

    def test_records_in_order_and_fails_on_request(self):
        self.rx.fail(500, count=2)
        self.rx.throttle(retry_after=3)
        codes = [post(self.rx.url_for("hook"), json.dumps({"n": i}).encode())[0]
                 for i in range(4)]
        self.assertEqual(codes, [500, 500, 429, 200])
        hooks = self.rx.wait_for(4, timeout=1)
        self.assertEqual([h.body for h in hooks], [{"n": 0}, {"n": 1}, {"n": 2}, {"n": 3}])
        self.assertEqual(hooks[0].headers["content-type"], "application/json")
        self.assertEqual(self.rx.alerts(), [{"n": 3}])
        self.rx.throttle(retry_after=7)
        self.assertEqual(post(self.rx.url_for("hook"), b"{}")[1]["Retry-After"], "7")

    def test_rejects_non_json(self):
        self.assertEqual(post(self.rx.url_for("hook"), b"not json")[0], 400)
        self.assertEqual(post(self.rx.url_for("hook"), b"{}", "text/plain")[0], 400)
        self.assertEqual([h.status for h in self.rx.hooks], [400, 400])
        self.assertEqual(self.rx.accepted, [])

    def test_delay_beyond_client_timeout(self):
        self.rx.delay(1.5, count=1)
        with self.assertRaises(OSError):   # socket.timeout / URLError
            post(self.rx.url_for("hook"), b"{}", timeout=0.5)
        self.assertEqual(post(self.rx.url_for("hook"), b"{}", timeout=5)[0], 200)
        self.assertEqual(len(self.rx.wait_for(2, timeout=3)), 2)
        self.assertEqual(len(self.rx.wait_quiet(0.2, timeout=3)), 2)

    def test_format_alert(self):
        self.assertEqual(format_alert({"severity": "critical", "title": "T", "link": "L",
                                       "killed": 5, "injured": None,
                                       "province": "Balochistan", "kind": "new"}),
                         "[critical] T — L (killed 5, Balochistan)")
        self.assertEqual(format_alert({"severity": "low", "title": "T", "link": "L",
                                       "killed": None, "province": None}),
                         "[low] T — L")

    def test_cli_print(self):
        proc = subprocess.Popen([sys.executable, os.path.join(harness.LIB, "receiver.py"),
                                 "--print"], stdout=subprocess.PIPE, text=True)
        try:
            url = proc.stdout.readline().strip()
            body = {"severity": "high", "title": "T", "link": "L", "killed": None,
                    "injured": 2, "province": "Sindh"}
            self.assertEqual(post(url + "/hook", json.dumps(body).encode())[0], 200)
            self.assertEqual(proc.stdout.readline().rstrip("\n"), "[high] T — L (injured 2, Sindh)")
        finally:
            proc.terminate()
            self.assertEqual(proc.wait(5), 0)
            proc.stdout.close()


class HarnessTest(unittest.TestCase):
    def test_notify_socket(self):
        d = harness.make_tempdir("cpecwatch-ns-")
        self.addCleanup(shutil.rmtree, d, True)
        ns = harness.NotifySocket(d)
        self.addCleanup(ns.close)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.sendto(b"READY=1\nSTATUS=polling 3 feeds", ns.path)
        s.sendto(b"STOPPING=1", ns.path)
        s.close()
        self.assertEqual(ns.wait_for("STOPPING=1", timeout=2), "STOPPING=1")
        self.assertEqual(ns.wait_for("STATUS=", timeout=2), "STATUS=polling 3 feeds")
        self.assertEqual(ns.lines(), ["READY=1", "STATUS=polling 3 feeds", "STOPPING=1"])
        self.assertLess(ns.index("READY=1"), ns.index("STOPPING=1"))
        with self.assertRaises(TimeoutError):
            ns.wait_for("RELOADING=1", timeout=0.1)

    def test_config_text(self):
        text = harness.make_config("/tmp/s", [{"name": "wire", "url": 'http://h/"x"', "interval": 2}],
                                   [{"name": "j", "type": "journald"}], rules="/r/rules.conf")
        self.assertEqual(text, "\n".join([
            "# written by tests/lib/harness.py",
            'state_dir = "/tmp/s";',
            "poll_interval = 300;",
            "backlog_max_age = 0;",
            "feeds = (", "  {", '    name = "wire";', '    url = "http://h/\\"x\\"";',
            "    interval = 2;", "  }", ");",
            "sinks = (", "  {", '    name = "j";', '    type = "journald";', "  }", ");",
            '@include "/r/rules.conf"', ""]))
        self.assertEqual(harness.line_of(text, "interval = 2"), 9)

    def test_rss_feed_dates(self):
        self.assertEqual(harness.rfc822("2024-03-26T09:15:00Z"), "Tue, 26 Mar 2024 09:15:00 GMT")
        self.assertIn(b"<title>A headline</title>", harness.rss_feed("W", [ITEM]))
        self.assertIn(b"Text &amp; more", harness.rss_feed("W", [ITEM]))

    def test_journal_round_trip(self):
        reason = harness.ensure_journald()
        if reason:
            self.skipTest(reason)
        tag = uuid.uuid4().hex
        since = time.time()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.sendto(("MESSAGE=harness self-test\nCPEC_TEST_TAG=%s\nSYSLOG_IDENTIFIER=harness-test\n"
                  % tag).encode(), harness.JOURNAL_SOCKET)
        s.close()
        got = harness.wait_journal(1, since=since, pids={os.getpid()}, timeout=5,
                                   CPEC_TEST_TAG=tag)
        self.assertEqual([(e["MESSAGE"], e["SYSLOG_IDENTIFIER"]) for e in got],
                         [("harness self-test", "harness-test")])


if __name__ == "__main__":
    unittest.main()
