"""Crash consistency: while cpecwatchd polls fixture feeds and delivers to a
webhook receiver, SIGKILL it at random moments (at least KILLS times, also
during start-up, polls and deliveries), restarting it each time, while new
items keep appearing in the feeds. Then let one last run finish. Every
expected alert must have been delivered at least once; repeats are at most
one per kill and carry the same Idempotency-Key; the database passes
PRAGMA integrity_check.

The kill moments come from a seeded generator; the seed is printed in every
failure message (set CPECWATCH_CHAOS_SEED to replay one).
"""

import datetime
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))

import harness  # noqa: E402
from feedserver import FeedServer  # noqa: E402
from receiver import Receiver  # noqa: E402

KILLS = 32
N_FEEDS = 3
PLACES = [("Karachi", "Sindh"), ("Gwadar", "Balochistan"), ("Dasu", "Khyber Pakhtunkhwa"),
          ("Quetta", "Balochistan"), ("Hyderabad", "Sindh"), ("Peshawar", "Khyber Pakhtunkhwa"),
          ("Turbat", "Balochistan"), ("Gilgit", "Gilgit-Baltistan"), ("Thatta", "Sindh"),
          ("Khuzdar", "Balochistan"), ("Swat", "Khyber Pakhtunkhwa"), ("Hub", "Balochistan")]
NUMBERS = ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
           "twelve", "thirteen"]


def incidents():
    """Twelve attacks, each its own incident under the shipped rules
    (distinct places, months apart, distinct tolls): twelve alerts."""
    base = datetime.datetime(2024, 1, 3, 6, 0)
    out = []
    for i, (city, province) in enumerate(PLACES):
        out.append({
            "id": "chaos-%02d" % i,
            "title": "Attack on Chinese engineers in %s, %s: %s killed" % (city, province, NUMBERS[i]),
            "link": "https://wire.example/chaos/%02d-%s" % (i, city.lower()),
            "summary": "Militants attacked Chinese nationals working on a CPEC project in %s, %s. "
                       "Officials said %d people were killed." % (city, province, i + 2),
            "published": (base + datetime.timedelta(days=17 * i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        })
    return out


class Chaos(unittest.TestCase):

    def setUp(self):
        reason = harness.missing_prerequisite()
        if reason:
            self.skipTest(reason)
        self.seed = int(os.environ.get("CPECWATCH_CHAOS_SEED", str(int(time.time() * 1000) % 100000)))
        self.rng = random.Random(self.seed)
        self.tmp = harness.make_tempdir("cpecwatch-chaos-")
        self.state = os.path.join(self.tmp, "state")
        feeds_dir = os.path.join(self.tmp, "feeds")
        os.mkdir(self.state)
        os.mkdir(feeds_dir)
        self.fs = FeedServer(feeds_dir).start()
        self.rx = Receiver().start()
        # A short pause before each answer widens the window between a
        # delivery being sent and being recorded, where a kill causes a repeat.
        self.rx.delay(0.3, count=None)
        self.d = None

    def tearDown(self):
        report = None
        if self.d:
            self.d.cleanup()
            report = self.d.sanitizer_report()
        self.fs.stop()
        self.rx.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
        if report:
            self.fail("sanitizer report from cpecwatchd:\n" + report)

    def publish(self, items, shown):
        """Feed k serves items k, k+N_FEEDS, … among the first `shown`."""
        for k in range(N_FEEDS):
            self.fs.write_feed("f%d.xml" % k, harness.rss_feed(
                "Chaos %d" % k, [it for i, it in enumerate(items[:shown]) if i % N_FEEDS == k]))

    def test_sigkill_at_random_moments_loses_nothing(self):
        items = incidents()
        shown = N_FEEDS
        self.publish(items, shown)
        feeds = [{"name": "f%d" % k, "url": self.fs.url_for("f%d.xml" % k), "interval": 1}
                 for k in range(N_FEEDS)]
        sinks = [{"name": "hook", "type": "webhook", "url": self.rx.url_for("hook"),
                  "min_severity": "low", "timeout": 5, "retry_initial": 1, "retry_max": 2}]
        self.d = harness.Daemon(tempfile.mkdtemp(dir=self.tmp),
                                harness.make_config(self.state, feeds, sinks))
        why = "seed %d" % self.seed
        kills = 0
        t0 = time.monotonic()
        while kills < KILLS:
            proc = self.d.start()
            time.sleep(self.rng.uniform(0.0, 1.0))
            if proc.poll() is not None:
                self.fail("cpecwatchd exited by itself (%s) [%s]:\n%s"
                          % (proc.returncode, why, self.d.stderr()[-3000:]))
            proc.kill()
            proc.wait()
            kills += 1
            if kills % 3 == 0 and shown < len(items):
                shown += 1
                self.publish(items, shown)
        self.publish(items, len(items))
        # The last run: everything still owed arrives. Its own READY=1 (the
        # notify socket has collected those of the killed runs, too) before
        # anything else, so that SIGTERM at the end finds it set up.
        readies = self.d.notify.lines().count("READY=1")
        proc = self.d.start()
        deadline = time.monotonic() + 30
        while self.d.notify.lines().count("READY=1") == readies:
            if proc.poll() is not None or time.monotonic() > deadline:
                self.fail("last run: no READY=1 [%s]:\n%s" % (why, self.d.stderr()[-3000:]))
            time.sleep(0.02)
        want = {it["link"] for it in items}
        deadline = time.monotonic() + 60
        while {h.body["link"] for h in self.rx.accepted} != want:
            if time.monotonic() > deadline:
                self.fail("missing after %d kills [%s]: %s" % (
                    kills, why, sorted(want - {h.body["link"] for h in self.rx.accepted})))
            time.sleep(0.1)
        self.rx.wait_quiet(1.5, timeout=30)
        self.assertEqual(self.d.stop(), 0, why)
        elapsed = time.monotonic() - t0

        accepted = self.rx.accepted
        by_link = {}
        for h in accepted:
            self.assertEqual(h.headers.get("idempotency-key"), h.body["id"], why)
            by_link.setdefault(h.body["link"], []).append(h)
        self.assertEqual(set(by_link), want, why)
        for link, hooks in by_link.items():
            # One alert per item: every copy the same alert, the same key.
            self.assertEqual({h.headers["idempotency-key"] for h in hooks},
                             {hooks[0].body["id"]}, "%s [%s]" % (link, why))
            self.assertEqual({h.raw for h in hooks}, {hooks[0].raw}, "%s [%s]" % (link, why))
        repeats = len(accepted) - len(want)
        self.assertLessEqual(repeats, kills, why)
        con = sqlite3.connect(os.path.join(self.state, "cpecwatch.db"))
        try:
            self.assertEqual(con.execute("PRAGMA integrity_check").fetchall(), [("ok",)], why)
            pending = con.execute("SELECT count(*) FROM deliveries WHERE state != 'done'").fetchone()
        finally:
            con.close()
        self.assertEqual(pending, (0,), why)
        sys.stderr.write("\nchaos: %d kills, %d alerts, %d repeats, %d requests, %.0f s [%s] "
                         % (kills, len(want), repeats, len(self.rx.hooks), elapsed, why))


if __name__ == "__main__":
    unittest.main()
