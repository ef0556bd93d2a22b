"""cpecwatchd end to end: fixture feed server -> daemon -> webhook receiver
and journald. Binaries from $CPECWATCH_BUILD (default build/)."""

import datetime
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))

import harness  # noqa: E402
from feedserver import FeedServer  # noqa: E402
from receiver import Receiver  # noqa: E402

# The "wire" feed: each item with the severity the shipped rule set must give it.
DASU = {
    "id": "wire-2024-0326-dasu", "severity": "critical",
    "killed": 5, "injured": None, "province": "Khyber Pakhtunkhwa",
    "title": "Suicide bomber kills five Chinese engineers in convoy attack near Dasu, "
             "Khyber Pakhtunkhwa",
    "link": "https://wire.example/2024/03/26/dasu-convoy-attack",
    "summary": "A suicide bomber rammed an explosives-laden car into a convoy carrying Chinese "
               "engineers to the Dasu hydropower project in Shangla district, Khyber "
               "Pakhtunkhwa. Police said 5 Chinese nationals were killed in the attack.",
    "published": "2024-03-26T09:15:00Z",
}
GWADAR = {
    "id": "wire-2024-0811-gwadar", "severity": "high",
    "killed": None, "injured": None, "province": "Balochistan",
    "title": "Gunmen open fire on Chinese engineers' convoy on CPEC road project near Gwadar, "
             "Balochistan",
    "link": "https://wire.example/2024/08/11/gwadar-convoy-firing",
    "summary": "Militants attacked a convoy of Chinese engineers working on a CPEC road project "
               "near Gwadar, Balochistan. Security forces repelled the attack and officials "
               "said all Chinese nationals were safe.",
    "published": "2024-08-11T06:30:00Z",
}
KECH = {
    "id": "wire-2025-0120-kech", "severity": "medium",
    "killed": 7, "injured": None, "province": "Balochistan",
    "title": "Militants kill 7 soldiers in attack on army post in Kech, Balochistan",
    "link": "https://wire.example/2025/01/20/kech-army-post-attack",
    "summary": "Militants stormed an army post in Kech district of Balochistan overnight, "
               "killing 7 soldiers, the military said. A banned separatist group claimed "
               "responsibility.",
    "published": "2025-01-20T04:00:00Z",
}
SSD = {
    "id": "wire-2025-0205-ssd", "severity": "low",
    "killed": None, "injured": None, "province": None,
    "title": "Interior ministry approves new security force to protect Chinese nationals "
             "working on CPEC projects",
    "link": "https://wire.example/2025/02/05/security-force-chinese-nationals",
    "summary": "The interior ministry approved a new special security unit to protect Chinese "
               "nationals and CPEC projects after a review of security arrangements for "
               "foreign workers.",
    "published": "2025-02-05T10:00:00Z",
}
CRICKET = {
    "id": "wire-2025-0214-cricket", "severity": "none",
    "title": "Pakistan beat Sri Lanka by six wickets in second Test",
    "link": "https://wire.example/2025/02/14/cricket-second-test",
    "summary": "Pakistan's batters chased down 212 on the final day to win the second Test "
               "by six wickets and level the series.",
    "published": "2025-02-14T15:00:00Z",
}
LOANS = {
    "id": "wire-2025-0301-loans", "severity": "none",
    "title": "Pakistan and China begin talks on rescheduling CPEC energy loans",
    "link": "https://wire.example/2025/03/01/cpec-energy-loan-talks",
    "summary": "Finance officials of both countries met in Beijing to discuss longer repayment "
               "terms for power-sector loans under the China-Pakistan Economic Corridor.",
    "published": "2025-03-01T08:00:00Z",
}
WEATHER = {
    "id": "wire-2025-0520-weather", "severity": "none",
    "title": "Lahore heatwave expected to ease by the weekend, Met Office says",
    "link": "https://wire.example/2025/05/20/lahore-heatwave",
    "summary": "Temperatures in Lahore are forecast to fall below 40 degrees Celsius on "
               "Saturday as pre-monsoon showers arrive.",
    "published": "2025-05-20T07:00:00Z",
}
WIRE = [DASU, GWADAR, KECH, SSD, CRICKET, LOANS, WEATHER]
# Arrives later, to show the daemon is still watching.
KARACHI = {
    "id": "wire-2025-0610-karachi", "severity": "critical",
    "killed": 1, "injured": None, "province": "Sindh",
    "title": "Gunman shoots dead Chinese engineer of CPEC power project in Karachi",
    "link": "https://wire.example/2025/06/10/karachi-chinese-engineer-shot",
    "summary": "A gunman on a motorcycle shot dead a Chinese engineer working on a CPEC power "
               "project in Karachi, Sindh, police said. 1 person was killed.",
    "published": "2025-06-10T12:00:00Z",
}
LATE_CRICKET = {
    "id": "wire-2025-0611-cricket", "severity": "none",
    "title": "Karachi Kings win the final over in a thriller at the National Stadium",
    "link": "https://wire.example/2025/06/11/kings-thriller",
    "summary": "The home side needed nine runs off the last over and got them with a ball "
               "to spare.",
    "published": "2025-06-11T18:00:00Z",
}

SEV_RANK = {s: i for i, s in enumerate(harness.SEVERITIES)}
WEBHOOK_MIN, JOURNAL_MIN = "medium", "low"


def at_least(items, minimum):
    return [it for it in items if SEV_RANK[it["severity"]] >= SEV_RANK[minimum]]


class DaemonTest(unittest.TestCase):
    """Each test: a temp dir, a feed server on a copy of its feeds, a webhook
    receiver, and daemons that are killed in tearDown whatever happened."""

    def setUp(self):
        reason = harness.missing_prerequisite()
        if reason:
            self.skipTest(reason)
        self.journal_reason = harness.ensure_journald()
        self.tmp = harness.make_tempdir()
        self.state = os.path.join(self.tmp, "state")
        self.feeds = os.path.join(self.tmp, "feeds")
        os.mkdir(self.state)
        os.mkdir(self.feeds)
        self.daemons = []
        self.fs = FeedServer(self.feeds)
        self.fs.write_feed("wire.xml", harness.rss_feed("Wire", WIRE), mtime=time.time() - 60)
        self.fs.start()
        self.rx = Receiver().start()

    def tearDown(self):
        reports = []
        for d in self.daemons:
            d.cleanup()
            report = d.sanitizer_report()
            if report:
                reports.append(report)
        self.fs.stop()
        self.rx.stop()
        if os.environ.get("CPECWATCH_KEEP_TMP"):
            sys.stderr.write("\nkept %s\n" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if reports:
            self.fail("sanitizer report from cpecwatchd:\n" + "\n".join(reports))

    # -- building blocks --
    def sinks(self, journal=True, **webhook):
        hook = {"name": "ops", "type": "webhook", "url": self.rx.url_for("hook"),
                "min_severity": WEBHOOK_MIN, "retry_initial": 1, "retry_max": 4, "timeout": 5}
        hook.update(webhook)
        sinks = [hook]
        if journal and not self.journal_reason:
            sinks.insert(0, {"name": "journal", "type": "journald", "min_severity": JOURNAL_MIN})
        return sinks

    def feed(self, name="wire", path="wire.xml", interval=1):
        return {"name": name, "url": self.fs.url_for(path), "interval": interval}

    def daemon(self, feeds=None, sinks=None, text=None):
        if text is None:
            text = harness.make_config(self.state, feeds or [self.feed()],
                                       sinks if sinks is not None else self.sinks())
        d = harness.Daemon(tempfile.mkdtemp(prefix="d%d-" % len(self.daemons), dir=self.tmp),
                           text)
        self.daemons.append(d)
        return d

    def need_journal(self):
        if self.journal_reason:
            self.skipTest(self.journal_reason)

    def journal(self, d, since):
        return harness.journal_entries(since=since, pids=set(d.pids),
                                       MESSAGE_ID=harness.MESSAGE_ID_NEW)

    def answered(self, path, status=200):
        """How many fetches of path were answered status so far."""
        return sum(1 for r in self.fs.requests(path) if r.status == status)

    def wait_fetch(self, path, before, status=200, timeout=15.0):
        """Wait for one more fetch of path answered status than `before` (a
        count from answered()). Counting answers rather than comparing start
        times: a request that began just before a feed was rewritten may be
        the one that reads the new file."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.answered(path, status) > before:
                return
            time.sleep(0.05)
        self.fail("no further fetch of %s answered %d: %r"
                  % (path, status, [r.status for r in self.fs.requests(path)]))

    def settle(self, seconds=1.5):
        """Let a daemon that should do nothing have the time to misbehave."""
        time.sleep(seconds)

    # -- checks of one delivered alert --
    def check_webhook(self, hook, item, since):
        self.assertEqual((hook.method, hook.path), ("POST", "/hook"))
        self.assertEqual(hook.headers["content-type"].split(";")[0].strip(), "application/json")
        self.assertRegex(hook.headers.get("user-agent", ""), r"^cpecwatch/\d+\.\d+")
        a = hook.body
        self.assertIsInstance(a, dict)
        self.assertEqual(set(a), harness.ALERT_KEYS)
        self.assertEqual(hook.headers.get("idempotency-key"), a["id"])
        self.assertIsInstance(a["incident"], str)
        self.assertTrue(a["incident"])
        want = {
            "schema": "cpecwatch.alert/1", "id": a["incident"] + "/1", "kind": "new",
            "version": 1, "severity": item["severity"], "title": item["title"],
            "link": item["link"], "summary": item["summary"], "feed": "wire",
            "published": item["published"], "killed": item["killed"],
            "injured": item["injured"], "province": item["province"],
        }
        self.assertEqual({k: a[k] for k in want}, want)
        self.assertRegex(a["detected"], harness.RFC3339)
        detected = datetime.datetime.fromisoformat(a["detected"].replace("Z", "+00:00"))
        self.assertLessEqual(since - 2, detected.timestamp())
        self.assertLessEqual(detected.timestamp(), time.time() + 2)
        self.assertTrue(a["rules"] and all(isinstance(r, str) and r for r in a["rules"]), a["rules"])
        self.assertTrue(all(isinstance(t, str) and t for t in a["tags"]), a["tags"])

    def check_journal(self, entry, item, alert=None):
        self.assertEqual(entry["SYSLOG_IDENTIFIER"], "cpecwatchd")
        self.assertEqual(entry["MESSAGE_ID"], harness.MESSAGE_ID_NEW)
        self.assertEqual(entry["PRIORITY"], str(harness.PRIORITY[item["severity"]]))
        self.assertTrue(entry.get("MESSAGE"))
        want = {"CPEC_SEVERITY": item["severity"], "CPEC_TITLE": item["title"],
                "CPEC_URL": item["link"], "CPEC_FEED": "wire"}
        for key, field in (("killed", "CPEC_KILLED"), ("injured", "CPEC_INJURED"),
                           ("province", "CPEC_PROVINCE")):
            if item[key] is not None:
                want[field] = str(item[key])
            else:
                self.assertNotIn(field, entry, "absent values are omitted")
        self.assertEqual({k: entry.get(k) for k in want}, want)
        self.assertTrue(entry.get("CPEC_RULES"))
        self.assertTrue(entry.get("CPEC_INCIDENT"))
        self.assertTrue(entry.get("CPEC_ALERT_ID"))
        if alert is not None:   # the same alert in both sinks
            self.assertEqual((entry["CPEC_INCIDENT"], entry["CPEC_ALERT_ID"]),
                             (alert["incident"], alert["id"]))

    # ------------------------------------------------------------ the tests

    def test_first_poll_delivers_to_both_sinks_and_second_poll_nothing(self):
        self.need_journal()
        d = self.daemon()
        t0 = time.time()
        rc, _, err = d.run_once()
        self.assertEqual(rc, 0, err)
        want_hook = at_least(WIRE, WEBHOOK_MIN)
        self.rx.wait_for(len(want_hook), timeout=10)
        hooks = self.rx.wait_quiet(1.0)
        self.assertEqual(sorted(h.body.get("link") for h in hooks),
                         sorted(it["link"] for it in want_hook))
        by_link = {it["link"]: it for it in WIRE}
        for h in hooks:
            with self.subTest(webhook=h.body["title"]):
                self.assertEqual(h.status, 200)
                self.check_webhook(h, by_link[h.body["link"]], t0)
        alerts = {h.body["link"]: h.body for h in hooks}

        want_journal = at_least(WIRE, JOURNAL_MIN)
        harness.wait_journal(len(want_journal), since=t0, pids=set(d.pids), timeout=10,
                             MESSAGE_ID=harness.MESSAGE_ID_NEW)
        self.settle(0.5)
        entries = self.journal(d, t0)
        self.assertEqual(sorted(e.get("CPEC_URL") for e in entries),
                         sorted(it["link"] for it in want_journal))
        for e in entries:
            with self.subTest(journal=e.get("CPEC_TITLE")):
                self.check_journal(e, by_link[e["CPEC_URL"]], alerts.get(e["CPEC_URL"]))

        # The second poll: the server answers 200 with the same items (no
        # 304 shortcut), the items are seen, nothing is delivered.
        self.fs.ignore_validators = True
        n_fetch = len(self.fs.requests("wire.xml"))
        t1 = time.time()
        rc, _, err = d.run_once()
        self.assertEqual(rc, 0, err)
        self.assertEqual([r.status for r in self.fs.requests("wire.xml")[n_fetch:]], [200])
        self.settle(1.0)
        self.assertEqual(len(self.rx.hooks), len(want_hook))
        self.assertEqual(self.journal(d, t1), [])

    def test_polls_and_restart_deliver_nothing_twice(self):
        d = self.daemon()
        t0 = time.time()
        d.start()
        d.wait_ready()
        want = at_least(WIRE, WEBHOOK_MIN)
        self.rx.wait_for(len(want), timeout=15)
        # Polls go on (conditional GETs) and deliver nothing.
        n = len(self.fs.requests("wire.xml"))
        self.fs.wait_for(n + 2, "wire.xml", timeout=10)
        self.assertTrue(any("if-none-match" in r.headers or "if-modified-since" in r.headers
                            for r in self.fs.requests("wire.xml")[n:]),
                        "later polls are conditional")
        # A changed feed with one more unrelated item: old items stay seen.
        before = self.answered("wire.xml")
        self.fs.write_feed("wire.xml", harness.rss_feed("Wire", WIRE + [LATE_CRICKET]))
        self.wait_fetch("wire.xml", before)
        self.settle()
        self.assertEqual(len(self.rx.wait_quiet(0.5)), len(want))
        if not self.journal_reason:
            self.assertEqual(len(self.journal(d, t0)), len(at_least(WIRE, JOURNAL_MIN)))
        self.assertEqual(d.stop(), 0)

        # Restart on the same state; the server ignores validators.
        self.fs.ignore_validators = True
        mark = time.time()
        before = self.answered("wire.xml")
        d.start()
        d.wait_ready()
        self.wait_fetch("wire.xml", before)
        self.settle()
        self.assertEqual(len(self.rx.hooks), len(want))
        if not self.journal_reason:
            self.assertEqual(self.journal(d, mark), [])
        # Still watching: a new incident alerts, once.
        self.fs.write_feed("wire.xml", harness.rss_feed("Wire", WIRE + [LATE_CRICKET, KARACHI]))
        self.rx.wait_for(len(want) + 1, timeout=15)
        self.settle()
        hooks = self.rx.hooks
        self.assertEqual(len(hooks), len(want) + 1)
        self.check_webhook(hooks[-1], KARACHI, mark)
        self.assertEqual(d.stop(), 0)

    def test_webhook_500_twice_then_delivered_in_order(self):
        self.fs.write_feed("wire.xml", harness.rss_feed("Wire", [DASU, KECH, CRICKET]))
        self.rx.fail(500, count=2)
        d = self.daemon(sinks=self.sinks(journal=False))
        d.start()
        d.wait_ready()
        self.rx.wait_for(4, timeout=20)
        self.settle()
        hooks = self.rx.hooks
        keys = [h.headers.get("idempotency-key") for h in hooks]
        self.assertEqual([h.status for h in hooks], [500, 500, 200, 200])
        self.assertEqual(keys[0:3], [keys[0]] * 3, "three tries of the same alert")
        self.assertNotEqual(keys[3], keys[0])
        self.assertEqual(hooks[0].raw, hooks[2].raw, "a retry sends the same body")
        # Backoff starts at retry_initial (1 s) and doubles.
        self.assertGreaterEqual(hooks[1].time - hooks[0].time, 0.9)
        self.assertGreaterEqual(hooks[2].time - hooks[1].time, 1.8)
        self.assertEqual(sorted(h.body["link"] for h in hooks[2:]),
                         sorted([DASU["link"], KECH["link"]]))
        self.assertEqual(d.stop(), 0)

    def test_webhook_429_honours_retry_after(self):
        self.fs.write_feed("wire.xml", harness.rss_feed("Wire", [DASU]))
        self.rx.throttle(retry_after=3, count=1)
        d = self.daemon(sinks=self.sinks(journal=False))
        d.start()
        d.wait_ready()
        self.rx.wait_for(2, timeout=20)
        self.settle()
        hooks = self.rx.hooks
        self.assertEqual([h.status for h in hooks], [429, 200])
        self.assertEqual(hooks[0].headers.get("idempotency-key"),
                         hooks[1].headers.get("idempotency-key"))
        self.assertGreaterEqual(hooks[1].time - hooks[0].time, 2.8, "Retry-After: 3, not 1 s")
        self.assertEqual(d.stop(), 0)

    def test_webhook_4xx_is_permanent(self):
        self.fs.write_feed("wire.xml", harness.rss_feed("Wire", [DASU, KECH]))
        self.rx.fail(404, count=1)
        d = self.daemon(sinks=self.sinks(journal=False))
        d.start()
        d.wait_ready()
        self.rx.wait_for(2, timeout=15)
        self.settle(3.5)   # longer than a retry of the refused alert would take
        hooks = self.rx.hooks
        self.assertEqual([h.status for h in hooks], [404, 200])
        self.assertNotEqual(hooks[0].headers.get("idempotency-key"),
                            hooks[1].headers.get("idempotency-key"))
        self.assertEqual(d.stop(), 0)

    def test_webhook_timeout_is_retried(self):
        self.fs.write_feed("wire.xml", harness.rss_feed("Wire", [DASU]))
        self.rx.delay(3.0, count=1)
        d = self.daemon(sinks=self.sinks(journal=False, timeout=1))
        d.start()
        d.wait_ready()
        self.rx.wait_for(2, timeout=20)
        self.settle()
        hooks = self.rx.hooks
        self.assertEqual(len(hooks), 2)
        self.assertEqual(hooks[0].headers.get("idempotency-key"),
                         hooks[1].headers.get("idempotency-key"))
        # timeout (1 s) then retry_initial (1 s)
        self.assertGreaterEqual(hooks[1].time - hooks[0].time, 1.8)
        self.assertEqual(d.stop(), 0)

    def test_non_http_urls_refused_with_file_and_line(self):
        bad = "file:///etc/passwd"
        cases = {
            "feed": ([{"name": "passwd", "url": bad, "interval": 1}], self.sinks(journal=False)),
            "sink": ([self.feed()], [{"name": "ops", "type": "webhook", "url": bad}]),
        }
        for what, (feeds, sinks) in cases.items():
            with self.subTest(what):
                d = self.daemon(feeds=feeds, sinks=sinks)
                line = harness.line_of(d.config_text, bad)
                rc, out, err = d.run_once(timeout=10)
                self.assertEqual(rc, 2, err)
                self.assertRegex(err, r"(?m)^%s:%d: \S" % (re.escape(d.config_path), line))
                self.assertNotIn("root:", out + err)
        self.assertEqual(self.rx.hooks, [])
        self.assertEqual(self.fs.requests(), [])

    def test_config_value_out_of_range_names_its_line(self):
        d = self.daemon(feeds=[dict(self.feed(), interval=0)])
        rc, _, err = d.run_once(timeout=10)
        self.assertEqual(rc, 2, err)
        self.assertRegex(err, r"(?m)^%s:%d: \S"
                         % (re.escape(d.config_path), harness.line_of(d.config_text, "interval = 0")))

    def test_broken_feeds_do_not_stop_the_others(self):
        self.fs.write_feed("cut.xml", harness.rss_feed("Cut", [KARACHI]))
        self.fs.write_feed("junk.xml", harness.rss_feed("Junk", [KARACHI]))
        self.fs.fail("down.xml", 500)
        self.fs.replace_body("junk.xml", b"\x00\xff<rss><channel><item><title>\xc3(")
        self.fs.redirect("passwd.xml", "file:///etc/passwd")
        self.fs.drop("cut.xml")
        feeds = [self.feed("down", "down.xml"), self.feed("junk", "junk.xml"),
                 self.feed("passwd", "passwd.xml"), self.feed("cut", "cut.xml"),
                 self.feed("missing", "missing.xml"), self.feed()]
        d = self.daemon(feeds=feeds)
        t0 = time.time()
        rc, _, err = d.run_once()
        self.assertEqual(rc, 0, err)
        want = at_least(WIRE, WEBHOOK_MIN)
        self.rx.wait_for(len(want), timeout=10)
        hooks = self.rx.wait_quiet(1.0)
        self.assertEqual(sorted((h.body["feed"], h.body["link"]) for h in hooks),
                         sorted(("wire", it["link"]) for it in want))
        for h in hooks:
            self.assertNotIn(b"root:", h.raw)
        for path in ("down.xml", "junk.xml", "passwd.xml", "cut.xml", "missing.xml"):
            self.assertTrue(self.fs.requests(path), "%s was fetched" % path)
        if not self.journal_reason:
            entries = harness.wait_journal(len(at_least(WIRE, JOURNAL_MIN)), since=t0,
                                           pids=set(d.pids), timeout=10,
                                           MESSAGE_ID=harness.MESSAGE_ID_NEW)
            self.assertEqual({e["CPEC_FEED"] for e in entries}, {"wire"})

    def test_sigint_after_ready_exits_zero(self):
        d = self.daemon()
        d.start()
        d.wait_ready()
        self.assertEqual(d.stop(signal.SIGINT), 0, d.stderr())
        ready, stopping = d.notify.index("READY=1"), d.notify.index("STOPPING=1")
        self.assertGreaterEqual(ready, 0)
        self.assertGreater(stopping, ready, d.notify.lines())

    def test_dry_run_prints_and_sends_nothing(self):
        d = self.daemon()
        t0 = time.time()
        rc, out, err = d.run_once("--dry-run")
        self.assertEqual(rc, 0, err)
        for it in at_least(WIRE, WEBHOOK_MIN):
            self.assertIn(it["title"], out)
        self.settle(1.0)
        self.assertEqual(self.rx.hooks, [])
        if not self.journal_reason:
            self.assertEqual(self.journal(d, t0), [])


if __name__ == "__main__":
    unittest.main()
