"""The operator's tool against a real state database: `cpecwatch status`
(text and --json) read while the daemon runs, silences honoured by a
running daemon without a restart, `replay` of stored items under the
current rules, the guarded migration of an older database, and the
Prometheus metrics file the daemon writes after each cycle."""

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))

import harness  # noqa: E402

ATTACK = {
    "id": "op-1", "title": "Suicide bomber kills five Chinese engineers in convoy attack near "
    "Dasu, Khyber Pakhtunkhwa", "link": "https://op.example/1",
    "summary": "Five Chinese nationals were killed when a suicide bomber hit their convoy.",
    "published": "2024-03-26T09:15:00Z",
}
ATTACK_UPDATE = {   # the same attack, a higher toll: an update of ATTACK's incident
    "id": "op-1b", "title": "Death toll in Dasu convoy attack on Chinese engineers rises to seven, "
    "Khyber Pakhtunkhwa", "link": "https://other.example/dasu-toll",
    "summary": "Seven people including five Chinese nationals were killed in the suicide attack on a "
    "convoy near Dasu, Khyber Pakhtunkhwa, police said.",
    "published": "2024-03-26T13:00:00Z",
}
PLOT = {
    "id": "op-2", "title": "Police foil plot to attack Chinese engineers at CPEC power plant in "
    "Karachi", "link": "https://op.example/2",
    "summary": "Counter-terrorism police arrested two militants planning an attack on Chinese "
    "workers in Karachi, Sindh.", "published": "2024-11-14T09:00:00Z",
}
GWADAR = {
    "id": "op-3", "title": "Gunmen open fire on Chinese engineers' convoy on CPEC road project near "
    "Gwadar, Balochistan", "link": "https://op.example/3",
    "summary": "Militants attacked a convoy of Chinese engineers working on a CPEC road project near "
    "Gwadar, Balochistan. Security forces repelled the attack and all Chinese nationals were safe.",
    "published": "2024-08-11T06:30:00Z",
}
WEATHER = {
    "id": "op-4", "title": "Rain expected in Lahore this weekend", "link": "https://op.example/4",
    "summary": "The Met Office forecasts light rain across Punjab.", "published": "2024-08-12T06:30:00Z",
}

# Rules that match nothing: a daemon run under them stores items and raises
# no alert, so that replay under the shipped rules shows what changes.
NO_RULES = """groups = { nothing = [ "zzqqzz" ]; };
rules = ( { name = "never"; all = [ "nothing" ]; severity = "high"; } );
gazetteer = ( { province = "Sindh"; places = [ "karachi" ]; } );
"""

# The first schema (before next_poll, errors, item text and silences), as
# an older cpecwatch wrote it: the migration must upgrade it in place.
OLD_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE feeds(name TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, last_poll INTEGER NOT NULL DEFAULT 0,
  last_ok INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0, last_error TEXT);
CREATE TABLE items(feed TEXT NOT NULL, id TEXT NOT NULL, first_seen INTEGER NOT NULL,
  PRIMARY KEY(feed, id)) WITHOUT ROWID;
INSERT INTO meta VALUES('schema', '1');
"""

SAMPLE = re.compile(r'^([a-z_]+)(\{[a-z_]+="(?:[^"\\\n]|\\.)*"\})? (-?\d+)$')


def tool(*args, timeout=30):
    p = subprocess.run([os.path.join(harness.build_dir(), "cpecwatch"), *args], capture_output=True,
                       text=True, timeout=timeout, env=dict(os.environ, ASAN_OPTIONS="detect_leaks=1"))
    return p.returncode, p.stdout, p.stderr


def epoch(rfc3339):
    return harness._parse_iso(rfc3339).timestamp()


def read_metrics(path):
    """{(name, label value or None): value}; asserts the textfile format:
    every sample's metric has HELP and TYPE lines before it."""
    samples, typed = {}, set()
    with open(path, encoding="utf-8") as f:
        for line in f.read().splitlines():
            if line.startswith("# TYPE "):
                typed.add(line.split()[2])
                continue
            if line.startswith("# HELP "):
                continue
            m = SAMPLE.match(line)
            if not m:
                raise AssertionError("not a textfile sample: %r" % line)
            if m.group(1) not in typed:
                raise AssertionError("sample before its TYPE: %r" % line)
            label = m.group(2).split('="', 1)[1][:-2] if m.group(2) else None
            samples[(m.group(1), label)] = int(m.group(3))
    return samples


class OperatorTest(harness.DaemonTestCase):
    def daemon(self, feeds, interval=60, rules=harness.RULES, extra=""):
        text = harness.make_config(
            self.state, [{"name": f, "url": self.fs.url_for(f + ".xml"), "interval": interval} for f in feeds],
            [{"name": "ops", "type": "webhook", "url": self.rx.url_for("hook"), "min_severity": "low",
              "retry_initial": 1, "retry_max": 2}], rules=rules, extra=extra)
        return self.daemon_for(text)

    def cli(self, d, *args, rc=0):
        words = 2 if args[0] == "silence" else 1   # the command, and silence's subcommand
        code, out, err = tool(*args[:words], "-c", d.config_path, *args[words:])
        self.assertEqual(code, rc, "cpecwatch %s: exit %d\n%s%s" % (" ".join(args), code, out, err))
        return out, err

    def status(self, d):
        out, _ = self.cli(d, "status", "--json")
        self.assertEqual(len(out.splitlines()), 1, "one JSON document on one line")
        return json.loads(out)

    def wait_stderr(self, d, pattern, timeout=15.0):
        deadline = time.monotonic() + timeout
        while not re.search(pattern, d.stderr()):
            self.assertLess(time.monotonic(), deadline, "no %r in\n%s" % (pattern, d.stderr()))
            time.sleep(0.05)
        return re.search(pattern, d.stderr())

    # ---------------------------------------------------------------- status

    def test_status_json_and_text_while_the_daemon_runs(self):
        self.fs.write_feed("good.xml", harness.rss_feed("Good", [ATTACK]))
        self.fs.fail("bad.xml", 500)
        self.rx.fail(503, count=1)   # the first attempt fails, the retry a second later succeeds
        d = self.daemon(["good", "bad"], interval=60)
        d.start()
        d.wait_ready()
        self.rx.wait_for(1, timeout=15, accepted=True)
        self.wait_stderr(d, r"feed bad: HTTP status 500")
        # Feed health reaches the database within a second (saved in batches),
        # and the sink marks the delivery done after the receiver's answer.
        deadline = time.monotonic() + 10
        st = self.status(d)
        while (any(f["state"] == "pending" for f in st["feeds"]) or st["outbox_pending"]) and \
                time.monotonic() < deadline:
            time.sleep(0.1)
            st = self.status(d)
        self.assertEqual(sorted(st), ["alerts", "database", "dead_letter_count", "dead_letters", "feeds",
                                      "incidents", "items_seen", "outbox_pending", "silences", "sinks"])
        self.assertEqual((st["database"], st["items_seen"], st["alerts"], st["outbox_pending"],
                          st["dead_letter_count"], st["dead_letters"], st["silences"]),
                         (os.path.join(self.state, "cpecwatch.db"), 1, 1, 0, 0, [], []))
        good, bad = st["feeds"]
        for t in ("last_poll", "last_success", "next_poll"):
            self.assertRegex(good[t], harness.RFC3339)
        # next poll: one interval (60 s) after the last, plus up to 10% jitter
        gap = epoch(good["next_poll"]) - epoch(good["last_poll"])
        self.assertTrue(60 <= gap <= 67, gap)
        self.assertEqual({k: good[k] for k in ("name", "state", "last_error", "failures", "errors")},
                         {"name": "good", "state": "ok", "last_error": None, "failures": 0, "errors": 0})
        self.assertEqual({k: bad[k] for k in ("name", "state", "last_success", "last_error", "failures", "errors")},
                         {"name": "bad", "state": "failing", "last_success": None,
                          "last_error": "HTTP status 500", "failures": 1, "errors": 1})
        # one failure: backed off to twice the interval
        gap = epoch(bad["next_poll"]) - epoch(bad["last_poll"])
        self.assertTrue(120 <= gap <= 133, gap)
        self.assertEqual(st["sinks"], [{"name": "ops", "type": "webhook", "pending": 0, "dead": 0,
                                        "delivered": 1, "failed_attempts": 1}])
        [inc] = st["incidents"]
        hook = self.rx.hooks[0].body
        self.assertEqual({k: inc[k] for k in ("key", "severity", "title", "link", "killed", "province",
                                               "version")},
                         {"key": hook["incident"], "severity": "critical", "title": ATTACK["title"],
                          "link": ATTACK["link"], "killed": 5, "province": "Khyber Pakhtunkhwa",
                          "version": 1})
        self.assertEqual([(s["feed"], s["link"]) for s in inc["sources"]], [("good", ATTACK["link"])])
        self.assertRegex(inc["sources"][0]["seen"], harness.RFC3339)

        out, _ = self.cli(d, "status")
        lines = out.splitlines()
        self.assertEqual(lines[:5], ["database: %s" % st["database"], "items seen: 1", "alerts: 1",
                                     "outbox pending: 0", "dead letters: 0"])
        self.assertIn("  good                 ok      last ok %s" % good["last_success"], lines)
        self.assertIn("  bad                  FAILING last ok never  error: HTTP status 500", lines)
        self.assertIn("      last poll %s, next poll %s, 1 failures in a row, 1 ever"
                      % (bad["last_poll"], bad["next_poll"]), lines)
        self.assertIn("  ops                  webhook    pending 0, dead 0, delivered 1, failed attempts 1",
                      lines)
        self.assertIn("  %s critical %s" % (inc["key"], ATTACK["title"]), lines)
        self.assertIn("      source good %s %s" % (inc["sources"][0]["seen"], ATTACK["link"]), lines)
        self.assertEqual(lines[-1], "silences (0 active):")
        self.assertEqual(d.stop(), 0)

    def test_status_of_a_missing_database_fails(self):
        d = self.daemon(["good"])
        code, out, err = tool("status", "--json", "-c", d.config_path)
        self.assertEqual((code, out), (1, ""))
        self.assertIn("cpecwatch.db: No such file or directory (has cpecwatchd run yet?)", err)
        self.assertEqual(tool("status", "--bogus", "-c", d.config_path)[0], 2)

    # -------------------------------------------------------------- silences

    def test_rule_silence_is_honoured_by_the_running_daemon_then_removed(self):
        journal = harness.ensure_journald()
        self.fs.write_feed("wire.xml", harness.rss_feed("Wire", [ATTACK]))
        d = self.daemon(["wire"], interval=1)
        d.start()
        d.wait_ready()
        first = self.rx.wait_for(1, timeout=15, accepted=True)[0].body
        rule = first["rules"][0]
        t0 = time.time()
        out, _ = self.cli(d, "silence", "add", "--rule", rule, "--for", "30m", "--reason", "drill in Dasu")
        m = re.fullmatch(r"silence (\d+): rule (\S+) muted until (\S+)\n", out)
        self.assertIsNotNone(m, out)
        self.assertEqual(m.group(2), rule)
        self.assertTrue(t0 + 1800 - 2 <= epoch(m.group(3)) <= time.time() + 1800 + 1, m.group(3))
        sid = int(m.group(1))

        # a new incident hitting the same rule, while the daemon keeps running
        self.fs.write_feed("wire.xml", harness.rss_feed("Wire", [ATTACK, GWADAR]))
        hit = self.wait_stderr(d, r"alert (\S+) \[(\w+)\] silenced by silence %d \(rule %s: drill in Dasu\)"
                               % (sid, re.escape(rule)))
        time.sleep(2)   # a few more polls and delivery passes
        self.assertEqual([h.body["title"] for h in self.rx.hooks], [ATTACK["title"]], "nothing sent")
        st = self.status(d)
        self.assertEqual(st["alerts"], 2, "the silenced alert is still recorded")
        self.assertEqual(st["sinks"][0]["pending"], 0)
        [s] = st["silences"]
        self.assertEqual({k: s[k] for k in ("id", "kind", "target", "reason", "hits")},
                         {"id": sid, "kind": "rule", "target": rule, "reason": "drill in Dasu", "hits": 1})
        self.assertEqual(s["until"], m.group(3))
        self.assertIn(hit.group(1).split("/")[0], [i["key"] for i in st["incidents"]])
        out, _ = self.cli(d, "silence", "list", "--json")
        self.assertEqual([json.loads(line) for line in out.splitlines()], [s])
        out, _ = self.cli(d, "silence", "list")
        self.assertEqual(out, "1 active silence\n  %-4d rule     %-24s until %s, 1 alerts muted, reason: "
                         "drill in Dasu\n" % (sid, rule, s["until"]))
        if not journal:
            e = harness.wait_journal(1, since=t0, MESSAGE_ID="baf671661519465f9350983ee06ac521",
                                     CPEC_SILENCE_ID=str(sid))[0]
            self.assertEqual((e["CPEC_SILENCE_ACTION"], e["CPEC_SILENCE_KIND"], e["CPEC_SILENCE_TARGET"],
                              e["CPEC_SILENCE_REASON"], e["SYSLOG_IDENTIFIER"], e["PRIORITY"]),
                             ("added", "rule", rule, "drill in Dasu", "cpecwatch", "5"))

        out, _ = self.cli(d, "silence", "remove", str(sid))
        self.assertEqual(out, "silence %d removed\n" % sid)
        self.assertEqual(self.cli(d, "silence", "list")[0], "0 active silences\n")
        self.fs.write_feed("wire.xml", harness.rss_feed("Wire", [ATTACK, GWADAR, PLOT]))
        self.rx.wait_for(2, timeout=15, accepted=True)
        self.assertEqual([h.body["title"] for h in self.rx.hooks], [ATTACK["title"], PLOT["title"]])
        self.assertEqual(d.stop(), 0)

    def test_incident_silence_mutes_its_updates_only(self):
        self.fs.write_feed("wire.xml", harness.rss_feed("Wire", [ATTACK]))
        d = self.daemon(["wire"], interval=1)
        d.start()
        d.wait_ready()
        key = self.rx.wait_for(1, timeout=15, accepted=True)[0].body["incident"]
        out, _ = self.cli(d, "silence", "add", "--incident", key, "--for", "2h", "--reason", "known")
        sid = int(out.split()[1].rstrip(":"))
        self.fs.write_feed("wire.xml", harness.rss_feed("Wire", [ATTACK, ATTACK_UPDATE, PLOT]))
        self.wait_stderr(d, r"alert %s/2 \[critical\] silenced by silence %d \(incident %s: known\)"
                         % (key, sid, key))
        self.rx.wait_for(2, timeout=15, accepted=True)
        time.sleep(1.5)
        self.assertEqual([h.body["title"] for h in self.rx.hooks], [ATTACK["title"], PLOT["title"]])
        self.assertEqual(d.stop(), 0)

    def test_silence_refuses_what_it_cannot_mean(self):
        d = self.daemon(["wire"])
        self.fs.write_feed("wire.xml", harness.rss_feed("Wire", [WEATHER]))
        self.assertEqual(d.run_once()[0], 0)
        cases = [
            (["--rule", "x", "--for", "10x", "--reason", "r"], "--for needs a duration such as 30m, 2h or 7d"),
            (["--rule", "x", "--for", "366d", "--reason", "r"], "--for needs a duration"),
            (["--rule", "x", "--for", "0m", "--reason", "r"], "--for needs a duration"),
            (["--rule", "x", "--for", "1h"], "--reason needs a text of 1 to 512 bytes"),
            (["--feed", "nosuch", "--for", "1h", "--reason", "r"], "'nosuch' is not a feed of the configuration"),
            (["--incident", "i-12", "--for", "1h", "--reason", "r"], "'i-12' is not an incident key"),
        ]
        for args, message in cases:
            code, out, err = tool("silence", "add", "-c", d.config_path, *args)
            self.assertEqual((code, out), (2, ""), args)
            self.assertIn(message, err, args)
        for args in (["silence", "add", "--for", "1h", "--reason", "r"],   # no target
                     ["silence", "add", "--rule", "a", "--feed", "wire", "--for", "1h", "--reason", "r"],
                     ["silence", "remove"], ["silence", "list", "extra"], ["silence", "mute"]):
            self.assertEqual(tool(*args[:2], "-c", d.config_path, *args[2:])[0], 2, args)
        code, _, err = tool("silence", "remove", "-c", d.config_path, "42")
        self.assertEqual((code, err), (1, "cpecwatch: no silence 42\n"))
        out, _ = self.cli(d, "silence", "add", "--feed", "wire", "--for", "1h30m", "--reason", "flaky")
        self.assertRegex(out, r"^silence 1: feed wire muted until \S+\n$")
        [s] = [json.loads(line) for line in self.cli(d, "silence", "list", "--json")[0].splitlines()]
        self.assertEqual(epoch(s["until"]) - epoch(s["created"]), 5400)

    # ---------------------------------------------------------------- replay

    def test_replay_runs_the_current_rules_over_stored_items(self):
        items = [ATTACK, GWADAR, WEATHER, PLOT]
        self.fs.write_feed("wire.xml", harness.rss_feed("Wire", items))
        rules = os.path.join(self.tmp, "none.conf")
        with open(rules, "w", encoding="utf-8") as f:
            f.write(NO_RULES)
        d = self.daemon(["wire"], rules=rules)
        self.assertEqual(d.run_once()[0], 0)
        self.assertEqual(self.status(d)["alerts"], 0, "nothing alerted under the empty rules")

        # the same items through `match`, with the shipped rules: the expectation
        d.write_config(d.config_text.replace(rules, harness.RULES))
        feed_file = os.path.join(self.feeds, "wire.xml")
        code, out, err = tool("match", "-c", d.config_path, feed_file)
        self.assertEqual(code, 0, err)
        expected = {e["id"]: e for e in map(json.loads, out.splitlines())}
        self.assertEqual(sorted(i for i, e in expected.items() if e["alert"]), ["op-1", "op-2", "op-3"])

        out, err = self.cli(d, "replay", "--since", "1h")
        lines = [json.loads(line) for line in out.splitlines()]
        self.assertEqual([e["id"] for e in lines], ["op-1", "op-3", "op-2"], "by publication time")
        for e in lines:
            self.assertEqual(e["feed"], "wire")
            self.assertRegex(e["first_seen"], harness.RFC3339)
            self.assertIsNone(e["silenced"])
            want = dict(expected[e["id"]])
            del want["file"]
            # an incident key depends on when its first report was seen
            self.assertRegex(e.pop("incident"), r"^i-[0-9a-f]{16}$")
            del want["incident"]
            self.assertEqual({k: e[k] for k in want}, want)
        self.assertEqual(len({e["link"] for e in lines}), 3, "three incidents")
        self.assertEqual(err, "replay: 4 items, 3 would alert (0 of them silenced); "
                         "0 items without kept text left out\n")
        out, _ = self.cli(d, "replay", "--since", "1h", "--all")
        self.assertEqual([json.loads(line)["id"] for line in out.splitlines()], ["op-1", "op-3", "op-4", "op-2"])

        # a silence shows; items first seen before --since are left out
        self.cli(d, "silence", "add", "--feed", "wire", "--for", "1h", "--reason", "tuning")
        con = sqlite3.connect(os.path.join(self.state, "cpecwatch.db"))
        with con:
            con.execute("UPDATE items SET first_seen = first_seen - 7200 WHERE id = 'op-1'")
        con.close()
        out, err = self.cli(d, "replay", "--since", "1h")
        self.assertEqual([(json.loads(line)["id"], json.loads(line)["silenced"]) for line in out.splitlines()],
                         [("op-3", 1), ("op-2", 1)])
        self.assertEqual(err, "replay: 3 items, 2 would alert (2 of them silenced); "
                         "0 items without kept text left out\n")
        self.assertEqual(self.cli(d, "replay", rc=2)[0], "")
        self.assertIn("--since needs a duration", self.cli(d, "replay", "--since", "soon", rc=2)[1])

    def test_an_older_database_is_migrated_in_place(self):
        db = os.path.join(self.state, "cpecwatch.db")
        con = sqlite3.connect(db)
        with con:
            con.executescript(OLD_SCHEMA)
            con.execute("INSERT INTO feeds(name, last_poll, last_ok) VALUES('wire', 100, 100)")
            first_seen = int(time.time()) - 60
            con.execute("INSERT INTO items VALUES('wire', 'old-1', ?)", (first_seen,))
        con.close()
        self.fs.write_feed("wire.xml", harness.rss_feed("Wire", [ATTACK]))
        d = self.daemon(["wire"])
        code, _, err = d.run_once()
        self.assertEqual(code, 0, err)
        con = sqlite3.connect(db)
        cols = {t: [r[1] for r in con.execute("PRAGMA table_info(%s)" % t)] for t in ("feeds", "items")}
        last_seen = con.execute("SELECT last_seen FROM items WHERE id = 'old-1'").fetchone()[0]
        con.close()
        self.assertEqual(cols["feeds"][-2:], ["next_poll", "errors"])
        self.assertEqual(cols["items"][-5:], ["link", "title", "summary", "published", "last_seen"])
        self.assertEqual(last_seen, first_seen, "an older item counts as last seen when first seen")
        out, err = self.cli(d, "replay", "--since", "1h")
        self.assertEqual([json.loads(line)["id"] for line in out.splitlines()], ["op-1"])
        self.assertEqual(err, "replay: 1 items, 1 would alert (0 of them silenced); "
                         "1 items without kept text left out\n")
        self.assertEqual(d.run_once()[0], 0, "a second open finds nothing to migrate")

    # --------------------------------------------------------------- metrics

    def test_metrics_file_after_each_cycle(self):
        self.maxDiff = None
        self.fs.write_feed("good.xml", harness.rss_feed("Good", [ATTACK, PLOT, WEATHER]))
        self.fs.fail("bad.xml", 503)
        mdir = os.path.join(self.tmp, "textfile")
        os.mkdir(mdir)
        path = os.path.join(mdir, "cpecwatch.prom")
        d = self.daemon(["good", "bad"], extra='metrics_file = "%s";' % path)
        t0 = int(time.time())
        code, _, err = d.run_once()
        self.assertEqual(code, 0, err)
        self.assertEqual(os.listdir(mdir), ["cpecwatch.prom"], "no temporary file left")
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o644)
        m = read_metrics(path)
        last_ok = m.pop(("cpecwatch_last_successful_poll_timestamp_seconds", None))
        self.assertTrue(t0 <= last_ok <= time.time() + 1, last_ok)
        self.assertEqual(m.pop(("cpecwatch_feed_last_success_timestamp_seconds", "good")), last_ok)
        # the delivery may or may not have finished when the cycle ended
        delivered = {k: m.pop(k) for k in [("cpecwatch_deliveries_total", "ops"),
                                           ("cpecwatch_outbox_pending", "ops")]}
        self.assertEqual(sum(delivered.values()), 2, delivered)
        self.assertEqual(m, {
            ("cpecwatch_feeds", "ok"): 1, ("cpecwatch_feeds", "failing"): 1, ("cpecwatch_feeds", "pending"): 0,
            ("cpecwatch_feed_fetch_errors_total", "good"): 0, ("cpecwatch_feed_fetch_errors_total", "bad"): 1,
            ("cpecwatch_feed_consecutive_failures", "good"): 0,
            ("cpecwatch_feed_consecutive_failures", "bad"): 1,
            ("cpecwatch_feed_last_success_timestamp_seconds", "bad"): 0,
            ("cpecwatch_items_seen_total", None): 3,
            ("cpecwatch_alerts_total", "none"): 0, ("cpecwatch_alerts_total", "low"): 0,
            ("cpecwatch_alerts_total", "medium"): 0, ("cpecwatch_alerts_total", "high"): 1,
            ("cpecwatch_alerts_total", "critical"): 1,
            ("cpecwatch_delivery_failures_total", "ops"): 0, ("cpecwatch_dead_letters", "ops"): 0,
            ("cpecwatch_silences_active", None): 0,
        })
        # the next cycle replaces it: a second failure of bad, the outbox empty
        code, _, err = d.run_once()
        self.assertEqual(code, 0, err)
        m = read_metrics(path)
        self.assertEqual((m[("cpecwatch_feed_fetch_errors_total", "bad")], m[("cpecwatch_outbox_pending", "ops")],
                          m[("cpecwatch_deliveries_total", "ops")], m[("cpecwatch_items_seen_total", None)]),
                         (2, 0, 2, 3))

    def test_metrics_file_must_be_an_absolute_prom_path(self):
        d = self.daemon(["good"], extra='metrics_file = "cpecwatch.txt";')
        code, out, err = tool("check", "-c", d.config_path)
        line = harness.line_of(d.config_text, "metrics_file")
        self.assertEqual((code, err), (2, "%s:%d: 'metrics_file' must be an absolute path ending in .prom, "
                                          "at most 1024 bytes\n" % (d.config_path, line)))


if __name__ == "__main__":
    unittest.main()
