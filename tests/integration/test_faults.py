"""Fault injection, end to end, on the real cpecwatchd ($CPECWATCH_BUILD):

- hostile feed servers (garbage bytes, truncated XML, a gzip bomb, a
  connection reset mid-body, a redirect loop, a redirect to gopher://, a TLS
  server with a self-signed certificate, a host that does not resolve): each
  ends in a per-feed error in `cpecwatch status` and in the log, and the good
  feed beside them is read and alerted all the same;
- the disk: the state directory on a full filesystem (a small tmpfs), a
  read-only state directory, a damaged database;
- a careless operator's regex with catastrophic backtracking.

The tests that mount need root and mount(2); they skip, saying so, where
either is missing. tests/lib/feedserver.py covers redirects to file://,
oversized and dripping bodies, 429 and 500s (test_fetch.py); the webhook
side of faults is in test_daemon.py and the delivery tests.
"""

import http.server
import os
import re
import shutil
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))

import harness  # noqa: E402
from feedserver import FeedServer  # noqa: E402
from receiver import Receiver  # noqa: E402

# An item the shipped rules alert on (critical: Chinese nationals killed),
# and one they do not.
ATTACK = {
    "id": "faults-karachi-convoy",
    "title": "Suicide bomber kills two Chinese engineers in convoy attack in Karachi, Sindh",
    "link": "https://wire.example/2025/03/02/karachi-convoy",
    "summary": "A suicide bomber struck a convoy carrying Chinese engineers of a CPEC power "
               "project in Karachi, Sindh; police said 2 Chinese nationals were killed.",
    "published": "2025-03-02T08:00:00Z",
}
QUIET = {
    "id": "faults-cricket",
    "title": "Pakistan beat Sri Lanka by six wickets in the second Test",
    "link": "https://wire.example/2025/03/02/cricket",
    "summary": "The home side chased down 212 on the final day.",
    "published": "2025-03-02T15:00:00Z",
}
SECOND = {
    "id": "faults-gwadar-port",
    "title": "Gunmen attack Chinese engineers' camp at Gwadar port, Balochistan; three guards killed",
    "link": "https://wire.example/2025/03/05/gwadar-camp",
    "summary": "Militants stormed a camp housing Chinese engineers of the Gwadar port project in "
               "Balochistan; three guards were killed before the attackers were repelled.",
    "published": "2025-03-05T22:00:00Z",
}


def tool(*args, timeout=30):
    p = subprocess.run([os.path.join(harness.build_dir(), "cpecwatch"), *args],
                       capture_output=True, text=True, timeout=timeout,
                       env=dict(os.environ, ASAN_OPTIONS="detect_leaks=1"))
    return p.returncode, p.stdout, p.stderr


def feed_status(config_path):
    """cpecwatch status: {feed name: (ok|FAILING, last ok, error or None)}."""
    rc, out, err = tool("status", "-c", config_path)
    if rc != 0:
        raise AssertionError("cpecwatch status: exit %d\n%s" % (rc, err))
    lines = {}
    for line in out.splitlines():
        m = re.match(r"^  (\S+)\s+(ok|FAILING)\s+last ok (\S+)(?:  error: (.*))?$", line)
        if m:
            lines[m.group(1)] = (m.group(2), m.group(3), m.group(4))
    return lines


def integrity(db_path):
    con = sqlite3.connect(db_path)
    try:
        return con.execute("PRAGMA integrity_check").fetchall()
    finally:
        con.close()


class _TLSServer:
    """HTTPS on 127.0.0.1 with a self-signed certificate that openssl makes
    for this test: a feed a careful client must refuse."""

    def __init__(self, directory, body):
        self.cert = os.path.join(directory, "cert.pem")
        self.key = os.path.join(directory, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", self.key, "-out", self.cert],
                       check=True, capture_output=True, timeout=60)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass   # the client refusing our certificate is the point

        self.httpd = Server(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "https://127.0.0.1:%d/%s" % (self.httpd.server_address[1], path)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class _Base(unittest.TestCase):
    def setUp(self):
        reason = harness.missing_prerequisite()
        if reason:
            self.skipTest(reason)
        self.tmp = harness.make_tempdir("cpecwatch-faults-")
        self.state = os.path.join(self.tmp, "state")
        self.feeds = os.path.join(self.tmp, "feeds")
        os.mkdir(self.state)
        os.mkdir(self.feeds)
        self.daemons = []
        self.mounts = []
        self.fs = FeedServer(self.feeds).start()
        self.rx = Receiver().start()

    def tearDown(self):
        reports = []
        for d in self.daemons:
            d.cleanup()
            r = d.sanitizer_report()
            if r:
                reports.append(r)
        for m in reversed(self.mounts):
            subprocess.run(["umount", "-l", m], capture_output=True)
        self.fs.stop()
        self.rx.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
        if reports:
            self.fail("sanitizer report from cpecwatchd:\n" + "\n".join(reports))

    def daemon(self, feeds, sinks=(), state=None):
        d = harness.Daemon(tempfile.mkdtemp(prefix="d%d-" % len(self.daemons), dir=self.tmp),
                           harness.make_config(state or self.state, list(feeds), list(sinks)))
        self.daemons.append(d)
        return d

    def hook_sink(self):
        return {"name": "hook", "type": "webhook", "url": self.rx.url_for("hook"),
                "min_severity": "low", "timeout": 5, "retry_initial": 1, "retry_max": 2}

    def mount_tmpfs(self, path, size, *options):
        if os.geteuid() != 0:
            self.skipTest("mounting a tmpfs needs root")
        opts = ",".join(("size=%s" % size, "mode=0700") + options)
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", path],
                           capture_output=True, text=True)
        if p.returncode != 0:
            self.skipTest("mount -t tmpfs is not permitted here: %s" % p.stderr.strip())
        self.mounts.append(path)

    def wait_until(self, what, check, timeout=20.0):
        deadline = time.monotonic() + timeout
        while True:
            got = check()
            if got:
                return got
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting for %s" % what)
            time.sleep(0.1)


class FeedFaults(_Base):
    """Seven hostile feeds, a truncated one and a good one, polled together once."""

    def test_hostile_feeds_fail_alone_with_clear_errors(self):
        good = harness.rss_feed("Good", [ATTACK, QUIET])
        self.fs.write_feed("good.xml", good)
        for name in ("garbage", "truncated", "bomb", "reset", "loop-a", "loop-b", "gopher"):
            self.fs.write_feed(name + ".xml", good)
        self.fs.replace_body("garbage.xml", bytes((i * 7919 + 13) % 256 for i in range(65536)))
        # Cut inside the second item: recover mode reads what came whole.
        whole = harness.rss_feed("Truncated", [QUIET, SECOND])
        self.fs.replace_body("truncated.xml", whole[:whole.index(b"<title>Gunmen") + 20])
        # 64 MB of zeros, about 64 kB on the wire: the 16 MB cap applies to
        # what comes out of the decompressor.
        self.fs.behave("bomb.xml", body=b"\0" * (64 << 20), encoding="gzip")
        self.fs.drop("reset.xml")
        self.fs.redirect("loop-a.xml", "/loop-b.xml")
        self.fs.redirect("loop-b.xml", "/loop-a.xml")
        self.fs.redirect("gopher.xml", "gopher://127.0.0.1:%d/1feed" % self.fs.port)
        tls = _TLSServer(self.tmp, good)
        self.addCleanup(tls.stop)
        faults = {   # feed -> (url, what its error must say)
            "garbage": (self.fs.url_for("garbage.xml"), r"^not an XML document$"),
            "bomb": (self.fs.url_for("bomb.xml"), r"^body larger than 16777216 bytes$"),
            "reset": (self.fs.url_for("reset.xml"),
                      r"^transfer closed with \d+ bytes remaining to read$"),
            "loop": (self.fs.url_for("loop-a.xml"), r"^Maximum \(5\) redirects followed$"),
            "gopher": (self.fs.url_for("gopher.xml"),
                       r"^redirect to gopher://127\.0\.0\.1:\d+/1feed refused: "
                       r"only http and https are followed$"),
            "selfsigned": (tls.url("feed.xml"), r"^SSL certificate problem: self-signed certificate$"),
            "nowhere": ("http://cpecwatch-feed.invalid/feed.xml",
                        r"^Could not resolve host: cpecwatch-feed\.invalid$"),
        }
        feeds = [{"name": "good", "url": self.fs.url_for("good.xml")},
                 {"name": "truncated", "url": self.fs.url_for("truncated.xml")}]
        feeds += [{"name": n, "url": u} for n, (u, _) in faults.items()]
        # The same self-signed server, trusted through ca_file: read.
        feeds.append({"name": "trusted", "url": tls.url("feed.xml"), "ca_file": tls.cert})
        d = self.daemon(feeds, [self.hook_sink()])
        rc, _, err = d.run_once(timeout=120)
        self.assertEqual(rc, 0, err)
        # The good feed went on: read, and its one alert delivered.
        hooks = self.rx.wait_for(1, timeout=10)
        # (one incident, whichever of the two feeds carrying it was read first)
        self.assertEqual([h.body["link"] for h in hooks], [ATTACK["link"]])
        self.assertIn(hooks[0].body["feed"], ("good", "trusted"))
        status = feed_status(d.config_path)
        self.assertEqual(status["good"][0::2], ("ok", None))
        self.assertEqual(status["trusted"][0::2], ("ok", None))
        # A truncated document is not an error: what came whole is read (the
        # quiet item), the cut item is not alerted, the feed stays healthy.
        self.assertEqual(status["truncated"][0::2], ("ok", None))
        self.assertNotIn("feed truncated:", err)
        for name, (_, why) in faults.items():
            with self.subTest(feed=name):
                state, last_ok, error = status[name]
                self.assertEqual((state, last_ok), ("FAILING", "never"))
                self.assertRegex(error, why)
                self.assertIn("cpecwatchd: feed %s: %s" % (name, error), err)
        # Nothing of a refused feed came through, and no file:// or gopher:// was read.
        self.assertEqual(len(self.rx.hooks), 1)
        self.assertEqual(integrity(os.path.join(self.state, "cpecwatch.db")), [("ok",)])


class DiskFaults(_Base):

    def test_full_filesystem_then_recovery_loses_nothing(self):
        """The state directory on a 2 MB tmpfs that a filler file fills: the
        poll that finds a new alert fails with a clear error and marks
        nothing seen (so the feed's validators are not kept either); once
        the space is back the next poll enqueues and delivers it, once."""
        self.mount_tmpfs(self.state, "2m")
        self.fs.write_feed("wire.xml", harness.rss_feed("Wire", [QUIET]), mtime=time.time() - 60)
        d = self.daemon([{"name": "wire", "url": self.fs.url_for("wire.xml"), "interval": 1}],
                        [self.hook_sink()])
        d.start()
        d.wait_ready()
        self.fs.wait_for(2, "wire.xml", timeout=20)      # polled, stored, polled again
        filler = os.path.join(self.state, "filler")
        # unbuffered: a buffered file would fail again at close, flushing
        # what the full disk refused
        with open(filler, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        self.fs.write_feed("wire.xml", harness.rss_feed("Wire", [ATTACK, QUIET]))
        err = self.wait_until("the disk-full error",
                              lambda: re.search(r"cpecwatchd: feed wire: (state database: .*full.*)",
                                                d.stderr()))
        self.assertRegex(err.group(1), r"^state database: database or disk is full$")
        self.assertEqual(self.rx.hooks, [], "nothing delivered while nothing could be recorded")
        os.unlink(filler)
        hooks = self.rx.wait_for(1, timeout=30)
        self.wait_until("the feed's recovery", lambda: "back after" in d.stderr())
        self.assertEqual(d.stop(), 0)
        self.assertEqual([h.body["link"] for h in self.rx.hooks], [ATTACK["link"]])
        self.assertEqual([h.body["link"] for h in hooks], [ATTACK["link"]])
        self.assertEqual(integrity(os.path.join(self.state, "cpecwatch.db")), [("ok",)])
        self.assertEqual(feed_status(d.config_path)["wire"][0::2], ("ok", None))

    def test_read_only_state_directory_is_refused(self):
        self.fs.write_feed("wire.xml", harness.rss_feed("Wire", [ATTACK]))
        feeds = [{"name": "wire", "url": self.fs.url_for("wire.xml")}]
        for fresh in (True, False):
            with self.subTest(database="none yet" if fresh else "existing"):
                state = os.path.join(self.tmp, "ro-%s" % fresh)
                os.mkdir(state)
                self.mount_tmpfs(state, "1m")
                if not fresh:   # a database from an earlier run, then the mount turns read-only
                    rc, _, err = self.daemon(feeds, state=state).run_once()
                    self.assertEqual(rc, 0, err)
                subprocess.run(["mount", "-o", "remount,ro", state], check=True)
                before = sorted(os.listdir(state))
                d = self.daemon(feeds, [self.hook_sink()], state=state)
                rc, _, err = d.run_once()
                self.assertEqual(rc, 1)
                self.assertEqual(err, "cpecwatchd: state directory %s is not writable: "
                                      "Read-only file system\n" % state)
                self.assertEqual(d.notify.index("READY=1"), -1)
                self.assertEqual(sorted(os.listdir(state)), before)
        self.assertEqual(self.fs.requests("wire.xml")[1:], [], "polled only by the writable run")

    def test_damaged_database_is_refused_and_left_alone(self):
        self.fs.write_feed("wire.xml", harness.rss_feed("Wire", [ATTACK, QUIET]))
        feeds = [{"name": "wire", "url": self.fs.url_for("wire.xml")}]
        rc, _, err = self.daemon(feeds, [self.hook_sink()]).run_once()
        self.assertEqual(rc, 0, err)
        db = os.path.join(self.state, "cpecwatch.db")
        con = sqlite3.connect(db)   # enough rows for several b-tree pages
        con.executemany("INSERT INTO items(feed, id, first_seen) VALUES(?, ?, 0)",
                        [("old", "item-%05d-%s" % (i, "x" * 60)) for i in range(3000)])
        con.commit()
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
        with open(db, "r+b") as f:   # scribble over an interior page
            f.seek(20 * 4096 + 100)
            f.write(b"\xde\xad\xbe\xef" * 200)
        garbage = os.path.join(self.tmp, "garbage.db")
        with open(garbage, "wb") as f:
            f.write(bytes((i * 131 + 7) % 256 for i in range(8192)))
        for name, path, why in (
                ("damaged page", db, r"database is damaged \(.+\); restore it from a backup or "
                                     r"move it away to start afresh"),
                ("not a database", garbage, r"file is not a database")):
            with self.subTest(case=name):
                state = os.path.dirname(path)
                if path == garbage:
                    state = os.path.join(self.tmp, "garbage-state")
                    os.mkdir(state)
                    shutil.move(garbage, os.path.join(state, "cpecwatch.db"))
                    path = os.path.join(state, "cpecwatch.db")
                with open(path, "rb") as f:
                    before = f.read()
                d = self.daemon(feeds, [self.hook_sink()], state=state)
                rc, _, err = d.run_once()
                self.assertEqual(rc, 1)
                self.assertRegex(err, r"^cpecwatchd: cannot open the state database: %s: %s\n$"
                                 % (re.escape(path), why))
                self.assertEqual(d.notify.index("READY=1"), -1)
                with open(path, "rb") as f:
                    self.assertEqual(f.read(), before, "the file was left as it was")
        self.assertEqual(len(self.rx.hooks), 1, "only the first, sound run delivered")


class CarelessRegex(unittest.TestCase):
    """An operator's regex with catastrophic backtracking, (a+)+$, against
    a text made to trigger it: unbounded, that is 2^40 steps; PCRE2's match
    and depth limits (src/rules.c) make it a non-match in moments."""

    def test_backtracking_regex_is_cut_short(self):
        if not os.access(os.path.join(harness.build_dir(), "cpecwatch"), os.X_OK):
            self.skipTest("no cpecwatch in %s" % harness.build_dir())
        tmp = harness.make_tempdir("cpecwatch-regex-")
        self.addCleanup(shutil.rmtree, tmp, True)
        conf = os.path.join(tmp, "rules.conf")
        with open(conf, "w", encoding="utf-8") as f:
            f.write('groups = { chinese = [ "chinese" ]; evil = [ "/(a+)+$/" ]; };\n'
                    'rules = ( { name = "careless"; all = [ "chinese", "evil" ];'
                    ' severity = "high"; } );\n')
        feed = os.path.join(tmp, "feed.xml")
        title = "chinese " + "a" * 40 + " b"
        with open(feed, "wb") as f:
            f.write(harness.rss_feed("Regex", [dict(QUIET, title=title, summary=title)]))
        rc, out, err = tool("match", "-c", conf, feed, timeout=60)
        self.assertEqual((rc, err), (0, ""))
        line = [l for l in out.splitlines() if l.startswith("{")]
        self.assertEqual(len(line), 1, out)
        self.assertRegex(line[0], r'"alert": ?false')
        self.assertRegex(line[0], r'"rules": ?\[\]')


if __name__ == "__main__":
    unittest.main()
