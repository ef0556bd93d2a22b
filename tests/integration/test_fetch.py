"""Fetching feeds the polite and careful way, end to end: the real cpecwatchd
(from $CPECWATCH_BUILD, default build/) against the fixture feed server.
Conditional GET, compression, redirects, size and speed limits, Retry-After,
backoff, encodings and hostile documents. In every test a well-behaved feed
runs beside the misbehaving one, and must come through untouched."""

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))

import harness  # noqa: E402
from feedserver import FeedServer, brotli_available  # noqa: E402

# Items of our own: ATTACK (served by the misbehaving feeds) and KARACHI
# (by the good one) raise alerts of two different incidents under the
# shipped rules; SPORT raises none.
KARACHI = {
    "id": "fx-karachi-engineer",
    "title": "Gunman shoots dead Chinese engineer of CPEC power project in Karachi",
    "link": "https://wire.example/2025/06/10/karachi-engineer",
    "summary": "A gunman on a motorcycle shot dead a Chinese engineer working on a CPEC power "
               "project in Karachi, Sindh, police said.",
    "published": "2025-06-10T12:00:00Z",
}
ATTACK = {
    "id": "fx-gwadar-convoy",
    "title": "Gunmen attack convoy of Chinese engineers on CPEC road near Gwadar, Balochistan",
    "link": "https://wire.example/2025/07/01/gwadar-convoy",
    "summary": "Militants opened fire on a convoy carrying Chinese engineers working on a CPEC "
               "project near Gwadar. Three guards were killed.",
    "published": "2025-07-01T06:00:00Z",
}
SPORT = {
    "id": "fx-cricket",
    "title": "Pakistan beat Sri Lanka by six wickets in the second Test",
    "link": "https://wire.example/2025/07/01/cricket",
    "summary": "The home side chased down 212 on the final day.",
    "published": "2025-07-01T15:00:00Z",
}
CAP = 16 * 1024 * 1024   # FEED_MAX_BYTES


def curl_has_brotli():
    try:
        out = subprocess.run(["curl-config", "--features"], capture_output=True, text=True).stdout
    except OSError:
        return False
    return "brotli" in out.split()


def alerts(stdout):
    """The alerts a --dry-run printed (one JSON object per line)."""
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


class FetchTest(unittest.TestCase):

    def setUp(self):
        reason = harness.missing_prerequisite()
        if reason:
            self.skipTest(reason)
        self.tmp = harness.make_tempdir("cpecwatch-fetch-")
        self.state = os.path.join(self.tmp, "state")
        self.feeds = os.path.join(self.tmp, "feeds")
        os.mkdir(self.state)
        os.mkdir(self.feeds)
        self.daemons = []
        self.fs = FeedServer(self.feeds)
        self.fs.write_feed("good.xml", harness.rss_feed("Good", [KARACHI, SPORT]),
                           mtime=time.time() - 60)
        self.fs.start()

    def tearDown(self):
        reports = []
        for d in self.daemons:
            d.cleanup()
            report = d.sanitizer_report()
            if report:
                reports.append(report)
        self.fs.stop()
        if os.environ.get("CPECWATCH_KEEP_TMP"):
            sys.stderr.write("\nkept %s\n" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if reports:
            self.fail("sanitizer report from cpecwatchd:\n" + "\n".join(reports))

    # -- building blocks --
    def feed(self, name, path=None, interval=1):
        return {"name": name, "url": self.fs.url_for(path or name + ".xml"), "interval": interval}

    def daemon(self, *feeds, extra=""):
        text = harness.make_config(self.state, [self.feed("good"), *feeds], [], extra=extra)
        d = harness.Daemon(tempfile.mkdtemp(prefix="d%d-" % len(self.daemons), dir=self.tmp), text)
        self.daemons.append(d)
        return d

    def status(self, d):
        """cpecwatch status: {feed name: its line}."""
        tool = os.path.join(harness.build_dir(), "cpecwatch")
        p = subprocess.run([tool, "status", "-c", d.config_path], capture_output=True, text=True,
                           timeout=30, env=dict(os.environ, ASAN_OPTIONS="detect_leaks=1"))
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = {}
        for line in p.stdout.splitlines():
            m = re.match(r"^  (\S+)\s+(ok|FAILING)\s+last ok (\S+)(?:  error: (.*))?$", line)
            if m:
                lines[m.group(1)] = (m.group(2), m.group(3), m.group(4))
        return lines

    def assert_good_feed_fine(self, d):
        """The well-behaved feed was read and stored while the other misbehaved."""
        good = self.status(d)["good"]
        self.assertEqual((good[0], good[2]), ("ok", None), good)
        self.assertRegex(good[1], harness.RFC3339)

    def assert_failed(self, d, name, error_re):
        state, last_ok, error = self.status(d)[name]
        self.assertEqual((state, last_ok), ("FAILING", "never"))
        self.assertRegex(error, error_re)
        self.assertRegex(d.stderr(), r"(?m)^cpecwatchd: feed %s: %s" % (name, error_re))

    def alert_titles(self, stdout, feed="good"):
        return sorted(a["title"] for a in alerts(stdout) if a["feed"] == feed)

    def request_gaps(self, path, n, timeout):
        """The first n requests for path once answered, and the gaps between them."""
        reqs = self.fs.wait_for(n, path, timeout=timeout)[:n]
        deadline = time.monotonic() + 10
        while reqs[-1].status == 0 and time.monotonic() < deadline:
            time.sleep(0.05)   # recorded on arrival, answered a moment later
        return [b.time - a.time for a, b in zip(reqs, reqs[1:])], reqs

    # ------------------------------------------------------------ the tests

    def test_304_is_not_parsed_and_validators_survive_a_restart(self):
        d = self.daemon()
        rc, _, err = d.run_once("-v")
        self.assertEqual(rc, 0, err)
        self.assertIn("feed good: 2 items, 2 new", err)
        first = self.fs.requests("good.xml")[0]
        self.assertEqual(first.status, 200)
        # CDNs block empty agents: ours names itself, its version and where to read about it
        self.assertRegex(first.headers.get("user-agent", ""),
                         r"^cpecwatch/\d+\.\d+\.\d+ \(\+https://\S+\)$")
        self.assertNotIn("if-none-match", first.headers)
        rc, _, err = d.run_once("-v")   # a new process: validators come from the database
        self.assertEqual(rc, 0, err)
        second = self.fs.requests("good.xml")[1]
        self.assertEqual(second.status, 304)
        self.assertRegex(second.headers.get("if-none-match", ""), r'^"[0-9a-f]{24}"$')
        self.assertIn("if-modified-since", second.headers)
        self.assertIn("feed good: not modified, nothing to parse", err)
        self.assertNotIn("items,", err)
        self.assert_good_feed_fine(d)

    def test_gzip_and_brotli_bodies(self):
        cases = {"gzip": None, "br": None}
        if not curl_has_brotli():
            cases["br"] = "this libcurl has no brotli"
        elif not brotli_available():
            cases["br"] = "the brotli command is not installed (make deps)"
        for enc, skip in cases.items():
            with self.subTest(enc):
                if skip:
                    self.skipTest(skip)
                self.fs.encodings = [enc]
                d = self.daemon()
                rc, out, err = d.run_once("--dry-run")
                self.assertEqual(rc, 0, err)
                req = self.fs.requests("good.xml")[-1]
                offered = {e.strip().split(";")[0] for e in
                           req.headers.get("accept-encoding", "").split(",")}
                self.assertLessEqual({"gzip", "deflate"} | ({"br"} if curl_has_brotli() else set()),
                                     offered)
                self.assertEqual((req.status, req.encoding), (200, enc))
                self.assertEqual(self.alert_titles(out), [KARACHI["title"]])

    def test_redirect_chain_followed_and_permanent_move_logged(self):
        # moved: 301 -> 308 -> 301 -> feed; temp: 302 -> 307 -> 302 -> 302 -> feed (5 hops allowed)
        self.fs.write_feed("moved-here.xml", harness.rss_feed("Moved", [ATTACK]))
        self.fs.redirect("moved.xml", "/m1.xml", status=301)
        self.fs.redirect("m1.xml", self.fs.url_for("m2.xml"), status=308)
        self.fs.redirect("m2.xml", "m3.xml", status=301)
        self.fs.redirect("m3.xml", "/moved-here.xml", status=301)
        self.fs.write_feed("temp-here.xml", harness.rss_feed("Temp", [ATTACK]))
        hops = ["temp.xml", "t1.xml", "t2.xml", "t3.xml", "t4.xml", "temp-here.xml"]
        for a, b, status in zip(hops, hops[1:], [302, 307, 302, 302, 303]):
            self.fs.redirect(a, "/" + b, status=status)
        long_hops = ["far.xml"] + ["f%d.xml" % i for i in range(1, 6)] + ["good.xml"]
        for a, b in zip(long_hops, long_hops[1:]):   # 6 redirects: one too many
            self.fs.redirect(a, "/" + b)
        d = self.daemon(self.feed("moved"), self.feed("temp"), self.feed("far"))
        rc, out, err = d.run_once("--dry-run", "-v")
        self.assertEqual(rc, 0, err)
        for name in ("moved", "temp"):
            self.assertIn("feed %s: 1 items, 1 new" % name, err)
        self.assertEqual(self.alert_titles(out, "good"), [KARACHI["title"]])
        self.assertNotIn("feed far: 1 items", err)
        self.assertEqual(len(self.fs.requests("f5.xml")), 1)
        self.assertEqual(self.fs.requests("good.xml")[0].status, 200)   # by "good" itself only
        self.assertEqual(len(self.fs.requests("good.xml")), 1)
        self.assertIn("cpecwatchd: feed moved: moved permanently to %s (update its url)"
                      % self.fs.url_for("moved-here.xml"), err)
        self.assertNotIn("feed temp: moved", err)
        self.assertRegex(err, r"feed far: Maximum \(5\) redirects followed")

    def test_redirect_to_file_url_refused(self):
        self.fs.redirect("passwd.xml", "/hop.xml")
        self.fs.redirect("hop.xml", "file:///etc/passwd")
        d = self.daemon(self.feed("passwd"))
        rc, out, err = d.run_once()
        self.assertEqual(rc, 0, err)
        self.assert_failed(d, "passwd", re.escape(
            "redirect to file:///etc/passwd refused: only http and https are followed"))
        self.assertNotIn("root:", out + err)
        self.assert_good_feed_fine(d)

    def test_oversized_bodies_aborted_also_after_decompression(self):
        big = harness.rss_feed("Big", [dict(ATTACK, summary="x" * (CAP + 1024))])
        self.fs.replace_body("big.xml", big)            # curl sees Content-Length
        self.fs.behave("bomb.xml", body=big, encoding="gzip")   # small on the wire
        d = self.daemon(self.feed("big"), self.feed("bomb"))
        rc, _, err = d.run_once(timeout=60)
        self.assertEqual(rc, 0, err)
        self.assertLess(len(self.fs.requests("bomb.xml")[0].headers), 50)
        for name in ("big", "bomb"):
            self.assert_failed(d, name, re.escape("body larger than %d bytes" % CAP))
        self.assert_good_feed_fine(d)

    def test_a_trickle_is_cut_by_the_low_speed_limit(self):
        self.fs.write_feed("slow.xml", harness.rss_feed("Slow", [ATTACK]))
        self.fs.drip("slow.xml", 1.0)
        d = self.daemon(self.feed("slow"), extra="fetch_timeout = 9;")
        t0 = time.monotonic()
        rc, _, err = d.run_once(timeout=60)
        self.assertEqual(rc, 0, err)
        self.assertLess(time.monotonic() - t0, 45)
        # the low-speed limit (a third of fetch_timeout, +1) fires, not the total timeout
        self.assert_failed(d, "slow", r"Operation too slow\. Less than 10 bytes/sec transferred "
                                      r"the last 4 seconds")
        self.assert_good_feed_fine(d)

    def test_429_retry_after_is_honoured(self):
        self.fs.write_feed("busy.xml", harness.rss_feed("Busy", [ATTACK]))
        self.fs.fail("busy.xml", 429, count=1, headers={"Retry-After": "5"})
        d = self.daemon(self.feed("busy"))
        d.start()
        d.wait_ready()
        gaps, reqs = self.request_gaps("busy.xml", 2, timeout=30)
        self.assertEqual([r.status for r in reqs], [429, 200])
        # without Retry-After the next poll would come after about 2 s (interval 1, one failure)
        self.assertGreaterEqual(gaps[0], 4.9)
        self.fs.wait_for(3, "good.xml", timeout=15)   # the other feed kept its own pace
        self.assertLess(self.fs.requests("good.xml")[1].time, reqs[1].time)
        self.assertEqual(d.stop(), 0, d.stderr())
        self.assertRegex(d.stderr(), r"feed busy: HTTP status 429")
        self.assertEqual(self.status(d)["busy"][0], "ok")

    def test_500s_back_off_then_recover(self):
        self.fs.write_feed("flaky.xml", harness.rss_feed("Flaky", [ATTACK]))
        self.fs.fail("flaky.xml", 500, count=3)
        d = self.daemon(self.feed("flaky"))
        d.start()
        d.wait_ready()
        gaps, reqs = self.request_gaps("flaky.xml", 4, timeout=60)
        self.assertEqual([r.status for r in reqs], [500, 500, 500, 200])
        # interval 1 s doubled per failure: 2, 4, 8 s (jitter only adds)
        for gap, least in zip(gaps, (2, 4, 8)):
            self.assertGreaterEqual(gap, least - 0.1, gaps)
        deadline = time.monotonic() + 15
        while "back after 3 failed polls" not in d.stderr() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(d.stop(), 0, d.stderr())
        err = d.stderr()
        self.assertIn("cpecwatchd: feed flaky: back after 3 failed polls", err)
        self.assertEqual(err.count("feed flaky: HTTP status 500"), 1, "logged on change only")
        self.assertEqual(self.status(d)["flaky"][0], "ok")

    def test_windows_1252_feeds(self):
        title = "Gunmen attack \u201cChinese engineers\u2019\u201d convoy on CPEC road near Gwadar"
        item = dict(ATTACK, title=title)
        body = harness.rss_feed("Cp", [item]).decode("utf-8").encode("cp1252")
        labelled = body.replace(b'encoding="utf-8"', b'encoding="windows-1252"')
        self.fs.write_feed("declared.xml", labelled)
        self.fs.write_feed("http.xml", body.replace(b' encoding="utf-8"', b""))
        self.fs.replace_body("http.xml", body.replace(b' encoding="utf-8"', b""),
                             content_type="application/rss+xml; charset=windows-1252")
        self.fs.write_feed("mislabelled.xml", body)   # says UTF-8, is not
        for name in ("declared", "http", "mislabelled"):
            with self.subTest(name):
                d = self.daemon(self.feed(name))
                rc, out, err = d.run_once("--dry-run")
                self.assertEqual(rc, 0, err)
                self.assertEqual(self.alert_titles(out, name), [title])
                self.assertEqual(self.alert_titles(out), [KARACHI["title"]])

    def test_broken_markup_still_yields_items(self):
        # bare '&', undeclared HTML entities, an unknown one, a control
        # character, raw HTML in a description, and a document cut short
        broken = (b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Broken & co'
                  b"</title>\n<item><title>Gunmen attack convoy of Chinese engineers on CPEC road "
                  b"near Gwadar &amp; Turbat&nbsp;&mdash;&bogus; Balochistan\x01</title>"
                  b"<link>https://wire.example/x?a=1&b=2</link><guid>x1</guid>"
                  b"<description><p>Three guards killed <b>near Gwadar</b></p></description></item>\n"
                  b"<item><title>Militants kill 7 soldiers in attack on army post in Kech, "
                  b"Balochistan</title><guid>x2</guid><description>Kech district")
        self.fs.write_feed("broken.xml", broken)
        d = self.daemon(self.feed("broken"))
        rc, out, err = d.run_once("--dry-run", "-v")
        self.assertEqual(rc, 0, err)
        self.assertIn("feed broken: 2 items, 2 new", err)
        got = {a["title"]: a for a in alerts(out) if a["feed"] == "broken"}
        first = ("Gunmen attack convoy of Chinese engineers on CPEC road near Gwadar & Turbat"
                 "\u00a0\u2014&bogus; Balochistan")
        cut = "Militants kill 7 soldiers in attack on army post in Kech, Balochistan"
        self.assertEqual(sorted(got), sorted([first, cut]))
        self.assertEqual(got[first]["link"], "https://wire.example/x?a=1&b=2")
        self.assertEqual(got[first]["summary"], "Three guards killed near Gwadar")
        # a guid is a permalink unless it says otherwise: resolved against the feed URL
        self.assertEqual((got[cut]["link"], got[cut]["summary"]),
                         (self.fs.url_for("x2"), "Kech district"))
        self.assertIn("feed good: 2 items, 2 new", err)

    def test_billion_laughs_is_inert(self):
        ents = ['<!ENTITY lol "lol">'] + [
            '<!ENTITY lol%d "%s">' % (i, ("&lol%s;" % ("" if i == 1 else i - 1)) * 10)
            for i in range(1, 10)]
        doc = ('<?xml version="1.0"?>\n<!DOCTYPE rss [\n%s\n]>\n<rss version="2.0"><channel>'
               "<title>Laughs &lol9;</title><item><title>%s</title><guid>l1</guid>"
               "<description>&lol9;&lol9;</description></item>"
               '<item><title>&lol; only &lol9;</title><guid>l2</guid></item></channel></rss>'
               % ("\n".join(ents), ATTACK["title"]))
        self.fs.write_feed("laughs.xml", doc)
        d = self.daemon(self.feed("laughs"))
        rc, out, err = d.run_once("--dry-run", timeout=60)
        self.assertEqual(rc, 0, err)
        got = [a for a in alerts(out) if a["feed"] == "laughs"]
        self.assertEqual([a["title"] for a in got], [ATTACK["title"]])
        self.assertLessEqual(len(got[0]["summary"] or ""), 64)
        self.assertNotIn("lollol", out)
        self.assertLess(len(out), 64 * 1024)
        self.assertEqual(self.alert_titles(out), [KARACHI["title"]])
        # the largest child of this test process so far stayed far below an expansion (GBs)
        self.assertLess(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, 1024 * 1024)


if __name__ == "__main__":
    unittest.main()
