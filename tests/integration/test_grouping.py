"""One incident, one alert: cpecwatchd against several fixture feeds that
report the same attack, across restarts (every --once run is a fresh daemon
on the same state database) and links that change only in tracking
parameters. Binaries from $CPECWATCH_BUILD (default build/)."""

import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))

import harness  # noqa: E402

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

# Karachi airport, October 2024, and a made-up bombing in Hyderabad the
# same evening: one province, one attack type, two cities, two incidents. Then the claim,
# and a second claim that is no news.
AIRPORT = {
    "id": "wire-2024-10-06-airport",
    "link": "https://wire.example/2024/10/06/karachi-airport-blast",
    "title": "Explosion near Karachi airport hits convoy of Chinese engineers, two killed",
    "summary": "Two Chinese nationals were killed when a bomb went off beside their convoy "
               "outside Karachi airport late on Sunday, police said.",
    "published": "2024-10-06T18:30:00Z",
}
HYDERABAD = {
    "id": "herald-5512",
    "link": "https://herald.example/hyderabad-chinese-car",
    "title": "Bomb blast near Chinese engineers' car in Hyderabad, one wounded",
    "summary": "A Chinese engineer was wounded when a small bomb went off beside his car in "
               "Hyderabad, Sindh, police said.",
    "published": "2024-10-06T20:00:00Z",
}
CLAIM = {
    "id": "digest-4410",
    "link": "https://digest.example/briefs/bla-claims-karachi-airport",
    "title": "BLA claims Karachi airport bombing that killed two Chinese nationals",
    "summary": "The Baloch Liberation Army said its Majeed Brigade carried out the attack on "
               "the convoy of Chinese engineers near the airport.",
    "published": "2024-10-07T06:00:00Z",
}
CLAIM_AGAIN = {
    "id": "post-77",
    "link": "https://post.example/karachi-airport-claim",
    "title": "Majeed Brigade claimed responsibility for Karachi airport attack on Chinese convoy",
    "summary": "Two Chinese engineers were killed in the bombing outside Karachi airport, "
               "officials said.",
    "published": "2024-10-07T09:00:00Z",
}


def tracked(item, params):
    """The same article behind a link with tracking parameters (and, as the
    outlet uses its links as ids, a new id)."""
    link = item["link"] + params
    return dict(item, link=link, id=link)


class GroupingTest(harness.DaemonTestCase):
    def write_feeds(self):
        self.fs.write_feed("dawn.xml", harness.rss_feed("Dawn", [DAWN]))
        self.fs.write_feed("tribune.xml", harness.rss_feed("Tribune", [TRIBUNE]))
        self.fs.write_feed("news.xml", harness.rss_feed("News", [LATER]))
        self.fs.ignore_validators = True   # every poll reads the whole feed again

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

    def test_cities_apart_claim_once(self):
        self.fs.write_feed("wire.xml", harness.rss_feed("Wire", [AIRPORT]))
        self.fs.write_feed("herald.xml", harness.rss_feed("Herald", [HYDERABAD]))
        self.fs.write_feed("digest.xml", harness.rss_feed("Digest", [CLAIM]))
        self.fs.write_feed("post.xml", harness.rss_feed("Post", [CLAIM_AGAIN]))
        # Karachi and Hyderabad the same evening: two incidents, two alerts.
        hooks = self.run_daemon(["wire", "herald"])
        self.assertEqual(sorted((h.body["kind"], h.body["link"]) for h in hooks),
                         [("new", HYDERABAD["link"]), ("new", AIRPORT["link"])])
        self.assertNotEqual(hooks[0].body["incident"], hooks[1].body["incident"])
        airport = next(h.body for h in hooks if h.body["link"] == AIRPORT["link"])
        self.assertEqual([t for t in airport["tags"] if t.startswith(("type:", "place:"))],
                         ["type:bombing", "place:karachi"])

        # The claim: one update to the airport incident, naming the claimant.
        hooks = self.run_daemon(["wire", "herald", "digest"])
        self.assertEqual(len(hooks), 1, [h.body for h in hooks])
        upd = hooks[0].body
        self.assertEqual({k: upd[k] for k in ("kind", "incident", "version", "link", "changes")},
                         {"kind": "update", "incident": airport["incident"], "version": 2,
                          "link": CLAIM["link"],
                          "changes": [{"fact": "claimed", "from": None, "to": "BLA",
                                       "text": "claimed by BLA"}]})

        # Another outlet's claim adds nothing: silent.
        self.assertEqual(self.run_daemon(["wire", "herald", "digest", "post"]), [])


if __name__ == "__main__":
    unittest.main()
