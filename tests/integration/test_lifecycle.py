"""cpecwatchd as a systemd service sees it: READY/STATUS/STOPPING, watchdog
pings, SIGHUP reload (valid and invalid), SIGTERM during a slow delivery."""

import os
import re
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))

import harness  # noqa: E402

ATTACK = {
    "id": "life-1", "title": "Suicide bomber kills five Chinese engineers in convoy attack near "
    "Dasu, Khyber Pakhtunkhwa", "link": "https://life.example/1",
    "summary": "Five Chinese nationals were killed when a suicide bomber hit their convoy.",
    "published": "2024-03-26T09:15:00Z",
}
PLOT = {
    "id": "life-2", "title": "Police foil plot to attack Chinese engineers at CPEC power plant in "
    "Karachi", "link": "https://life.example/2",
    "summary": "Counter-terrorism police arrested two militants planning an attack on Chinese "
    "workers in Karachi, Sindh.", "published": "2024-11-14T09:00:00Z",
}


class LifecycleTest(harness.DaemonTestCase):
    def write_feeds(self):
        self.fs.write_feed("a.xml", harness.rss_feed("A", [ATTACK]))
        self.fs.write_feed("b.xml", harness.rss_feed("B", [PLOT]))

    def config(self, feeds, timeout=5):
        return harness.make_config(
            self.state,
            [{"name": f, "url": self.fs.url_for(f + ".xml"), "interval": 1} for f in feeds],
            [{"name": "ops", "type": "webhook", "url": self.rx.url_for("hook"),
              "min_severity": "high", "retry_initial": 1, "retry_max": 2, "timeout": timeout}])

    def fetches(self, name, after=0.0):
        return [r for r in self.fs.requests(name + ".xml") if r.time > after]

    def wait_hooks(self, n, timeout=15.0):
        """Wait until n requests have arrived (answered or not)."""
        deadline = time.monotonic() + timeout
        while len(self.rx.hooks) < n:
            self.assertLess(time.monotonic(), deadline, "%d requests arrived" % len(self.rx.hooks))
            time.sleep(0.05)
        return self.rx.hooks

    def test_ready_status_watchdog_stopping(self):
        d = self.daemon_for(self.config(["a"]))
        d.extra_env["WATCHDOG_USEC"] = "1000000"
        d.start()
        d.wait_ready()
        status = d.notify.wait_for("STATUS=")
        self.assertRegex(status, r"^STATUS=1 feeds \(0 failing\), last poll (never|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ), "
                                 r"\d+ alerts today, \d+ in outbox$")
        self.rx.wait_for(1, timeout=15)
        deadline = time.monotonic() + 10
        while not [m for m in d.notify.lines() if re.match(r"STATUS=.*last poll \d{4}-.*, 1 alerts today, 0 in outbox$", m)]:
            self.assertLess(time.monotonic(), deadline, d.notify.lines())
            time.sleep(0.05)
        self.rx.wait_for(1, timeout=15)
        time.sleep(3)
        pings = [t for t, m in d.notify.messages if m == "WATCHDOG=1"]
        self.assertGreaterEqual(len(pings), 3, "WATCHDOG=1 about every 0.5 s of a 1 s watchdog")
        self.assertEqual(d.stop(), 0)
        lines = d.notify.lines()
        self.assertLess(lines.index("READY=1"), lines.index("STOPPING=1"))

    def test_reload_valid_config_swaps_feeds(self):
        d = self.daemon_for(self.config(["a"]))
        d.start()
        d.wait_ready()
        self.rx.wait_for(1, timeout=15)
        d.write_config(self.config(["b"]))
        d.send_signal(signal.SIGHUP)
        d.notify.wait_for("RELOADING=1")
        deadline = time.monotonic() + 10
        while d.notify.lines().count("READY=1") < 2:
            self.assertLess(time.monotonic(), deadline, d.notify.lines())
            time.sleep(0.05)
        swapped = time.time()
        self.rx.wait_for(2, timeout=15)
        self.assertEqual([h.body["title"] for h in self.rx.hooks], [ATTACK["title"], PLOT["title"]])
        time.sleep(2.5)   # a few poll intervals: only the new feed is fetched
        self.assertGreaterEqual(len(self.fetches("b", swapped)), 2)
        self.assertEqual(self.fetches("a", swapped + 0.5), [])
        self.assertIn("reload: now 1 feeds, 1 sinks", d.stderr())
        self.assertEqual(d.stop(), 0)

    def test_reload_invalid_config_keeps_running(self):
        d = self.daemon_for(self.config(["a"]))
        d.start()
        d.wait_ready()
        self.rx.wait_for(1, timeout=15)
        good = d.config_text
        d.write_config(good.replace("poll_interval = 300;", "poll_interval = \"often\";"))
        d.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while not [m for m in d.notify.lines() if m.startswith("STATUS=reload failed")]:
            self.assertLess(time.monotonic(), deadline, d.notify.lines())
            time.sleep(0.05)
        status = [m for m in d.notify.lines() if m.startswith("STATUS=reload failed")][0]
        line = harness.line_of(d.config_text, "poll_interval")
        self.assertEqual(status, "STATUS=reload failed, old configuration running: %s:%d: "
                         "'poll_interval' must be an integer" % (d.config_path, line))
        self.assertLess(d.notify.lines().index("RELOADING=1"), len(d.notify.lines()) - 1)
        self.assertEqual(d.notify.lines().count("READY=1"), 2, "READY=1 again after the failed reload")
        mark = time.time()
        time.sleep(2.5)
        self.assertIsNone(d.proc.poll(), "still running")
        self.assertGreaterEqual(len(self.fetches("a", mark)), 1, "old feed still polled")
        self.assertEqual(d.stop(), 0)

    def test_sigterm_during_slow_delivery_then_delivered_after_restart(self):
        self.rx.delay(8, count=1)
        d = self.daemon_for(self.config(["a"], timeout=60))
        d.start()
        d.wait_ready()
        self.wait_hooks(1)                       # the slow request has arrived
        begin = time.monotonic()
        self.assertEqual(d.stop(timeout=10), 0)
        self.assertLess(time.monotonic() - begin, 5, "stops without waiting for the receiver")
        d.start()
        d.wait_ready()
        hooks = self.wait_hooks(2)
        self.assertEqual(hooks[0].headers.get("idempotency-key"), hooks[1].headers.get("idempotency-key"))
        self.assertEqual(hooks[1].body["title"], ATTACK["title"])
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
