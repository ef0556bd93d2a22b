"""One incident, one alert: cpecwatchd against several fixture feeds that
report the same attack, across restarts (every --once run is a fresh daemon
on the same state database) and links that change only in tracking
parameters. Binaries from $CPECWATCH_BUILD (default build/)."""

import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))

import harness  # noqa: E402
from feedserver import FeedServer  # noqa: E402
from receiver import Receiver  # noqa: E402

# Three outlets, three wordings of one attack; ids are the links where an
# outlet gives no guid of its own (so a changed link is a "new" item).
DAWN = {
    "id": "https://dawn.example/2024/03/26/dasu-convoy-attack",
    "link": "https://dawn.example/2024/03/26/dasu-convoy-attack",
    "title": "Suicide bomber kills five Chinese engineers in convoy attack near Dasu, "
             "Khyber Pakhtunkhwa",
    "summary": "A suicide bomber rammed an explosives-laden car into a convoy carrying Chinese "
               "engineers to the Dasu hydropower project. Police said 5 Chinese nationals "
               "were killed in the attack.",
    "published": "2024-03-26T09:15:00Z",
}
TRIBUNE = {
    "id": "tribune-88231",
    "link": "https://tribune.example/story/88231/chinese-convoy-shangla",
    "title": "Five Chinese nationals killed as bomber rams their convoy in Shangla",
    "summary": "Five Chinese nationals working on the Dasu dam were killed when a bomber drove "
               "into their vehicles in Shangla district of Khyber Pakhtunkhwa, officials said.",
    "published": "2024-03-26T11:40:00Z",
}
LATER = {
    "id": "news-991",
    "link": "https://news.example/shangla-toll-six",
    "title": "Toll in Shangla convoy bombing rises to six as Pakistani driver dies",
    "summary": "Six people were killed in the suicide attack on the convoy of Chinese engineers "
               "near Besham, Khyber Pakhtunkhwa, after the Pakistani driver died of his wounds.",
    "published": "2024-03-27T06:00:00Z",
}


def tracked(item, params):
    """The same article behind a link with tracking parameters (and, as the
    outlet uses its links as ids, a new id)."""
    link = item["link"] + params
    return dict(item, link=link, id=link)


class GroupingTest(unittest.TestCase):
    def setUp(self):
        reason = harness.missing_prerequisite()
        if reason:
            self.skipTest(reason)
        self.tmp = harness.make_tempdir()
        self.state = os.path.join(self.tmp, "state")
        self.feeds = os.path.join(self.tmp, "feeds")
        os.mkdir(self.state)
        os.mkdir(self.feeds)
        self.daemons = []
        self.fs = FeedServer(self.feeds)
        self.fs.write_feed("dawn.xml", harness.rss_feed("Dawn", [DAWN]))
        self.fs.write_feed("tribune.xml", harness.rss_feed("Tribune", [TRIBUNE]))
        self.fs.write_feed("news.xml", harness.rss_feed("News", [LATER]))
        self.fs.start()
        self.fs.ignore_validators = True   # every poll reads the whole feed again
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
        shutil.rmtree(self.tmp, ignore_errors=True)
        if reports:
            self.fail("sanitizer report from cpecwatchd:\n" + "\n".join(reports))

    def run_daemon(self, names):
        """One --once run of a fresh daemon on the shared state, polling the
        named feeds; returns the webhook calls it made."""
        feeds = [{"name": n, "url": self.fs.url_for(n + ".xml"), "interval": 60} for n in names]
        sinks = [{"name": "ops", "type": "webhook", "url": self.rx.url_for("hook"),
                  "min_severity": "medium", "retry_initial": 1, "retry_max": 4, "timeout": 5}]
        d = harness.Daemon(tempfile.mkdtemp(prefix="d%d-" % len(self.daemons), dir=self.tmp),
                           harness.make_config(self.state, feeds, sinks))
        self.daemons.append(d)
        before = len(self.rx.hooks)
        rc, _, err = d.run_once()
        self.assertEqual(rc, 0, err)
        time.sleep(0.3)   # a request the daemon made is recorded by now
        return self.rx.hooks[before:]

    def test_one_alert_one_update_nothing_repeated(self):
        # Two outlets, one incident: one webhook call.
        hooks = self.run_daemon(["dawn", "tribune"])
        self.assertEqual(len(hooks), 1, [h.body for h in hooks])
        new = hooks[0].body
        self.assertEqual({k: new[k] for k in ("kind", "version", "severity", "killed", "province",
                                              "link", "changes")},
                         {"kind": "new", "version": 1, "severity": "critical", "killed": 5,
                          "province": "Khyber Pakhtunkhwa", "link": DAWN["link"], "changes": []})
        self.assertEqual(new["id"], new["incident"] + "/1")
        self.assertEqual([s["link"] for s in new["sources"]], [DAWN["link"]])

        # A restart, the same feeds: nothing.
        self.assertEqual(self.run_daemon(["dawn", "tribune"]), [])

        # A third outlet with a higher toll: one update naming the incident.
        hooks = self.run_daemon(["dawn", "tribune", "news"])
        self.assertEqual(len(hooks), 1, [h.body for h in hooks])
        upd = hooks[0].body
        self.assertEqual({k: upd[k] for k in ("kind", "incident", "id", "version", "killed", "link")},
                         {"kind": "update", "incident": new["incident"],
                          "id": new["incident"] + "/2", "version": 2, "killed": 6,
                          "link": LATER["link"]})
        self.assertEqual(upd["changes"], [{"fact": "killed", "from": 5, "to": 6,
                                           "text": "killed 5 \u2192 6"}])
        self.assertEqual([(s["feed"], s["link"]) for s in upd["sources"]],
                         [("dawn", DAWN["link"]), ("tribune", TRIBUNE["link"]),
                          ("news", LATER["link"])])
        for s in upd["sources"]:
            self.assertRegex(s["first_seen"], harness.RFC3339)

        # Links that change only in tracking parameters: nothing.
        self.fs.write_feed("dawn.xml", harness.rss_feed(
            "Dawn", [tracked(DAWN, "?utm_source=rss&utm_medium=feed#comments")]))
        self.fs.write_feed("tribune.xml", harness.rss_feed(
            "Tribune", [tracked(TRIBUNE, "/?fbclid=IwAR0xyz")]))
        self.assertEqual(self.run_daemon(["dawn", "tribune", "news"]), [])
        self.assertEqual(len(self.rx.hooks), 2)


if __name__ == "__main__":
    unittest.main()
