"""The backlog gate: the first good poll of a new feed records the items
published more than backlog_max_age ago without alerting (a feed's archive
is no news); items without a date, and every later poll, alert as usual;
0 turns the gate off. Real cpecwatchd --once runs against the fixture feed
server and the webhook receiver."""

import datetime
import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))

import harness  # noqa: E402


def ago(hours):
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=hours)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def report(key, place, province, published):
    return {"id": "wire-" + key, "link": "https://wire.example/" + key, "published": published,
            "title": "Bomb attack on Chinese engineers' convoy in %s, three killed" % place,
            "summary": "Three people were killed when a bomb hit a convoy carrying Chinese "
                       "engineers in %s, %s, police said." % (place, province)}


OLD = report("gwadar", "Gwadar", "Balochistan", ago(72))
UNDATED = report("karachi", "Karachi", "Sindh", None)
FRESH = report("dasu", "Dasu", "Khyber Pakhtunkhwa", ago(2))
OLD_LATER = report("gilgit", "Gilgit", "Gilgit-Baltistan", ago(96))


class BacklogTest(harness.DaemonTestCase):
    def daemon_in_own_dir(self, config_text):
        d = harness.Daemon(tempfile.mkdtemp(prefix="d%d-" % len(self.daemons), dir=self.tmp), config_text)
        self.daemons.append(d)
        return d

    def run_daemon(self, state, backlog_max_age, feed="wire.xml", interval=60):
        feeds = [{"name": "wire", "url": self.fs.url_for(feed), "interval": interval}]
        sinks = [{"name": "ops", "type": "webhook", "url": self.rx.url_for("hook"),
                  "min_severity": "low", "retry_initial": 1, "retry_max": 4, "timeout": 5}]
        d = self.daemon_in_own_dir(harness.make_config(state, feeds, sinks, backlog_max_age=backlog_max_age))
        before = len(self.rx.hooks)
        rc, _, err = d.run_once("-v")
        self.assertEqual(rc, 0, err)
        time.sleep(0.3)   # a request the daemon made is recorded by now
        return sorted(h.body["link"] for h in self.rx.hooks[before:]), d.stderr()

    def test_first_poll_skips_the_archive_later_polls_do_not(self):
        self.fs.write_feed("wire.xml", harness.rss_feed("Wire", [OLD, UNDATED, FRESH]))
        links, err = self.run_daemon(self.state, None)   # the default: 24 h
        self.assertEqual(links, sorted([UNDATED["link"], FRESH["link"]]))
        self.assertIn("feed wire: first poll: 1 items published over 86400s ago recorded without alerting",
                      err)

        # Seen, so never alerted later either; an old item new to a known feed is news.
        self.fs.write_feed("wire.xml", harness.rss_feed("Wire", [OLD_LATER, OLD, UNDATED, FRESH]))
        links, err = self.run_daemon(self.state, None)
        self.assertEqual(links, [OLD_LATER["link"]])
        self.assertNotIn("first poll", err)

    def test_zero_turns_the_gate_off(self):
        self.fs.write_feed("wire.xml", harness.rss_feed("Wire", [OLD, FRESH]))
        links, err = self.run_daemon(self.state, 0)
        self.assertEqual(links, sorted([OLD["link"], FRESH["link"]]))
        self.assertNotIn("first poll", err)

    def test_a_feed_that_never_answered_gets_the_gate_when_it_does(self):
        state = tempfile.mkdtemp(prefix="state-", dir=self.tmp)
        links, err = self.run_daemon(state, None, feed="missing.xml", interval=1)
        self.assertEqual(links, [])
        self.assertIn("feed wire: HTTP status 404", err)
        self.fs.write_feed("missing.xml", harness.rss_feed("Wire", [OLD, FRESH]))
        time.sleep(2.5)   # its backoff after one failure: twice the 1 s interval
        links, err = self.run_daemon(state, None, feed="missing.xml", interval=1)
        self.assertEqual(links, [FRESH["link"]], err)


if __name__ == "__main__":
    unittest.main()
