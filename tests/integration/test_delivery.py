"""Delivery end to end: cpecwatchd -> fixture receivers that behave like each
chat service, journald, and a webhook receiver that goes down, throttles or
hangs. Binaries from $CPECWATCH_BUILD (default build/)."""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
sys.path.insert(0, HERE)

import harness  # noqa: E402
from feedserver import FeedServer  # noqa: E402
from receiver import Receiver, SERVICES, standard_webhooks_signature  # noqa: E402
from test_daemon import DASU, GWADAR, KECH, SSD, KARACHI, CRICKET  # noqa: E402

# A second `low` item (security policy), for digests.
POLICY = {
    "id": "wire-2025-0312-sindh-escorts", "severity": "low",
    "killed": None, "injured": None, "province": None,
    "title": "Sindh cabinet funds extra police escorts for Chinese nationals travelling to CPEC sites",
    "link": "https://wire.example/2025/03/12/sindh-escorts-chinese-nationals",
    "summary": "The provincial cabinet approved funds for more police escorts and armoured vehicles "
               "for Chinese nationals travelling to CPEC project sites, officials said.",
    "published": "2025-03-12T09:00:00Z",
}

ITEMS = [DASU, GWADAR, KECH, SSD, KARACHI, CRICKET]
ALERTING = [it for it in ITEMS if it["severity"] != "none"]
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BOT_TOKEN = "123456:SECRETbotTOKEN"
MSGID_DEAD = "1e5a5efbc203482c841e4ca9362cef68"


def tool_path():
    return os.path.join(harness.build_dir(), "cpecwatch")


class DeliveryTest(unittest.TestCase):

    def setUp(self):
        reason = harness.missing_prerequisite()
        if reason:
            self.skipTest(reason)
        self.tmp = harness.make_tempdir("cpecwatch-dl-")
        self.state = os.path.join(self.tmp, "state")
        os.mkdir(self.state)
        os.mkdir(os.path.join(self.tmp, "feeds"))
        self.fs = FeedServer(os.path.join(self.tmp, "feeds"))
        self.fs.write_feed("wire.xml", harness.rss_feed("Wire", ITEMS), mtime=time.time() - 60)
        self.fs.start()
        self.receivers = []
        self.daemons = []

    def tearDown(self):
        reports = []
        for d in self.daemons:
            d.cleanup()
            if d.sanitizer_report():
                reports.append(d.sanitizer_report())
        for rx in self.receivers:
            rx.stop()
        self.fs.stop()
        if not os.environ.get("CPECWATCH_KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)
        if reports:
            self.fail("sanitizer report from cpecwatchd:\n" + "\n".join(reports))

    # -- building blocks --
    def receiver(self, **kw):
        rx = Receiver(**kw).start()
        self.receivers.append(rx)
        return rx

    def config_text(self, sinks, interval=3600, extra="", more_feeds=()):
        feeds = [{"name": "wire", "url": self.fs.url_for("wire.xml"), "interval": interval}]
        return harness.make_config(self.state, feeds + list(more_feeds), sinks, extra=extra)

    def daemon(self, sinks, **kw):
        text = self.config_text(sinks, **kw)
        d = harness.Daemon(tempfile.mkdtemp(prefix="d%d-" % len(self.daemons), dir=self.tmp), text)
        self.daemons.append(d)
        return d

    def hook_sink(self, rx, **kw):
        s = {"name": "ops", "type": "webhook", "url": rx.url_for("hook"), "retry_initial": 1,
             "retry_max": 2, "timeout": 5}
        s.update(kw)
        return s

    def outbox_keys(self, sink):
        """Idempotency keys of a sink's deliveries, in enqueue order (the state
        database is the witness of the order alerts were raised in)."""
        db = sqlite3.connect(os.path.join(self.state, "cpecwatch.db"))
        try:
            return [k for (k,) in db.execute(
                "SELECT a.key FROM alerts a JOIN deliveries d ON d.alert_id = a.id"
                " WHERE d.sink = ? ORDER BY a.id", (sink,))]
        finally:
            db.close()

    def tool(self, d, *args):
        return subprocess.run([tool_path(), args[0], "-c", d.config_path, *args[1:]],
                              capture_output=True, text=True, timeout=30)

    # ------------------------------------------------------------ the tests

    def test_fixture_receivers_refuse_malformed_payloads(self):
        """The fixtures themselves: each service's 400 for a body it would
        refuse, and its success answer for a good one."""
        bad = {
            "slack": {"text": "x", "blocks": [{"type": "header", "text": {"type": "plain_text",
                                                                          "text": "x" * 151}}]},
            "discord": {"embeds": [{"title": "t" * 257}]},
            "msteams": {"type": "message", "attachments": [{"contentType": "application/json"}]},
            "telegram": {"chat_id": "1", "text": "<b>unclosed & bad", "parse_mode": "HTML"},
            "googlechat": {"text": "x" * 4097},
            "ntfy": {"topic": "t", "priority": 9},
            "mattermost": {"username": "x"},
        }
        good_status = {"slack": 200, "discord": 204, "msteams": 202, "telegram": 200,
                       "googlechat": 200, "ntfy": 200, "mattermost": 200}
        self.assertEqual(set(bad), set(SERVICES))
        for service, body in bad.items():
            with self.subTest(service):
                rx = self.receiver(service=service)
                path = "/bot%s/sendMessage" % BOT_TOKEN if service == "telegram" else "/hook"
                req = urllib.request.Request(rx.url + path, data=json.dumps(body).encode(),
                                             headers={"Content-Type": "application/json"})
                with self.assertRaises(urllib.error.HTTPError) as cm:
                    urllib.request.urlopen(req, timeout=5)
                self.assertEqual(cm.exception.code, 400)
                self.assertEqual(len(rx.violations), 1)
        self.assertEqual(sorted(good_status), sorted(SERVICES))

    def test_every_chat_service_accepts_every_alert(self):
        sinks, rxs = [], {}
        for service in sorted(SERVICES):
            rx = self.receiver(service=service)
            rxs[service] = rx
            s = {"name": service, "type": service, "retry_initial": 1, "retry_max": 2}
            if service == "telegram":
                s.update(url=rx.url, secret=BOT_TOKEN, chat_id="-1001234")
            elif service == "ntfy":
                s.update(url=rx.url_for("cpec-alerts"))
            else:
                s.update(url=rx.url_for("hook"))
            sinks.append(s)
        d = self.daemon(sinks)
        rc, _, err = d.run_once(timeout=60)
        self.assertEqual(rc, 0, err)
        for service, rx in rxs.items():
            with self.subTest(service):
                self.assertEqual(rx.violations, [], [h.error for h in rx.hooks])
                hooks = rx.accepted
                self.assertEqual(len(hooks), len(ALERTING))
                text = "\n".join(h.raw.decode() for h in hooks)
                for it in ALERTING:   # every message links its report
                    self.assertIn(it["link"], text)
                self.assertIn("CRITICAL", text)
                self.assertIn("Khyber Pakhtunkhwa", text)
                self.assertNotIn(BOT_TOKEN, d.stderr())
        tg = rxs["telegram"].accepted[0]
        self.assertEqual(tg.path, "/bot%s/sendMessage" % BOT_TOKEN)
        self.assertEqual(tg.body["chat_id"], "-1001234")
        self.assertEqual(rxs["ntfy"].accepted[0].body["topic"], "cpec-alerts")
        self.assertEqual(rxs["ntfy"].accepted[0].path, "/")
        # Slack at 1/s: the five took at least four seconds
        slack = rxs["slack"].accepted
        self.assertGreaterEqual(slack[-1].time - slack[0].time, 3.8)

    def test_webhook_is_signed_per_standard_webhooks(self):
        # the verifier itself, on the specification's published vector
        self.assertEqual(standard_webhooks_signature(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                                                     b'{"test": 2432232314}'),
                         "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        rx = self.receiver()
        secret_file = os.path.join(self.tmp, "hook-secret")
        with open(secret_file, "w") as f:
            f.write(SECRET + "\n")
        d = self.daemon([self.hook_sink(rx, secret_file=secret_file)])
        rc, _, err = d.run_once(timeout=30)
        self.assertEqual(rc, 0, err)
        hooks = rx.wait_for(len(ALERTING))
        for h in hooks:
            self.assertEqual(h.headers["webhook-id"], h.body["id"])
            self.assertEqual(h.headers["idempotency-key"], h.body["id"])
            ts = int(h.headers["webhook-timestamp"])
            self.assertLessEqual(abs(ts - h.time), 5)
            self.assertEqual(h.headers["webhook-signature"],
                             standard_webhooks_signature(SECRET, h.headers["webhook-id"], ts, h.raw))
        self.assertNotIn(SECRET, d.stderr())

    def test_journald_entries_carry_every_field(self):
        reason = harness.ensure_journald()
        if reason:
            self.skipTest(reason)
        d = self.daemon([{"name": "journal", "type": "journald", "min_severity": "low"}])
        t0 = time.time()
        rc, _, err = d.run_once(timeout=30)
        self.assertEqual(rc, 0, err)
        entries = harness.wait_journal(len(ALERTING), since=t0, pids=set(d.pids), timeout=10,
                                       SYSLOG_IDENTIFIER="cpecwatchd", CPEC_KIND="new")
        by_link = {e["CPEC_URL"]: e for e in entries}
        self.assertEqual(sorted(by_link), sorted(it["link"] for it in ALERTING))
        for it in ALERTING:
            e = by_link[it["link"]]
            with self.subTest(it["id"]):
                self.assertEqual(e["MESSAGE_ID"], harness.MESSAGE_ID_NEW)
                self.assertEqual(e["PRIORITY"], str(harness.PRIORITY[it["severity"]]))
                want = {"CPEC_SEVERITY": it["severity"], "CPEC_TITLE": it["title"],
                        "CPEC_FEED": "wire", "CPEC_SOURCES": "1"}
                for key, field in (("killed", "CPEC_KILLED"), ("injured", "CPEC_INJURED"),
                                   ("province", "CPEC_PROVINCE")):
                    if it[key] is not None:
                        want[field] = str(it[key])
                    else:
                        self.assertNotIn(field, e)
                self.assertEqual({k: e.get(k) for k in want}, want)
                self.assertRegex(e["CPEC_INCIDENT"], r"^i-[0-9a-f]{16}$")
                self.assertEqual(e["CPEC_ALERT_ID"], e["CPEC_INCIDENT"] + "/1")
                self.assertRegex(e["CPEC_RULES"], r"^[a-z0-9-]+(,[a-z0-9-]+)*$")

    def test_receiver_down_then_up_every_alert_in_order(self):
        rx = self.receiver()
        port = rx.port
        rx.stop()   # down: connections refused
        self.receivers.remove(rx)
        d = self.daemon([self.hook_sink(rx)])
        d.start()
        d.wait_ready()
        # several refused attempts at the first alert, however slow the machine
        deadline = time.monotonic() + 30
        while d.stderr().count("delivery of ") < 2:
            self.assertLess(time.monotonic(), deadline, d.stderr())
            time.sleep(0.1)
        rx = self.receiver(port=port)
        hooks = rx.wait_for(len(ALERTING), timeout=30)
        self.assertEqual(len(rx.wait_quiet(1.5)), len(ALERTING))
        keys = [h.headers["idempotency-key"] for h in hooks]
        self.assertEqual(keys, self.outbox_keys("ops"), "in the order raised, none lost, none twice")
        self.assertTrue(int(hooks[0].headers["cpecwatch-attempt"]) > 1)
        self.assertEqual([h.headers["cpecwatch-attempt"] for h in hooks[1:]], ["1"] * (len(hooks) - 1))
        self.assertEqual(d.stop(), 0)

    def test_429_storm_all_delivered_rate_respected(self):
        rx = self.receiver(service="slack")
        rx.rate_limit(1, 1.0)
        rx.throttle(retry_after=1, count=3)   # the storm
        d = self.daemon([{"name": "ops", "type": "slack", "url": rx.url_for("hook"),
                          "retry_initial": 1, "retry_max": 2}])
        d.start()
        d.wait_ready()
        rx.wait_for(len(ALERTING), accepted=True, timeout=60)
        hooks = rx.wait_quiet(2.0)
        self.assertEqual([h.status for h in hooks[:3]], [429, 429, 429])
        self.assertEqual(len(rx.accepted), len(ALERTING))
        self.assertEqual(rx.violations, [])
        self.assertEqual(rx.rate_violations, [], "never faster than 1 a second")
        titles = [h.body["blocks"][0]["text"]["text"] for h in rx.accepted]
        db_keys = self.outbox_keys("ops")
        self.assertEqual(len(titles), len(db_keys))
        self.assertEqual(d.stop(), 0)

    def test_discord_rate_limit_headers_honoured(self):
        rx = self.receiver(service="discord")
        rx.rate_limit(5, 2.0)
        rx.throttle(retry_after=2, count=1)
        d = self.daemon([{"name": "ops", "type": "discord", "url": rx.url_for("hook"),
                          "retry_initial": 1, "retry_max": 2}])
        d.start()
        d.wait_ready()
        rx.wait_for(len(ALERTING), accepted=True, timeout=60)
        hooks = rx.wait_quiet(2.0)
        self.assertEqual(hooks[0].status, 429)
        self.assertGreaterEqual(hooks[1].time - hooks[0].time, 1.9, "retry_after 2 s honoured")
        self.assertEqual(len(rx.accepted), len(ALERTING))
        self.assertEqual((rx.violations, rx.rate_violations), ([], []))
        self.assertEqual(d.stop(), 0)

    def test_kill_9_during_delivery_repeats_only_that_alert(self):
        rx = self.receiver()
        rx.delay(60.0, count=1)   # the first request hangs: the daemon is mid-delivery
        d = self.daemon([self.hook_sink(rx, timeout=120)])
        d.start()
        d.wait_ready()
        deadline = time.monotonic() + 20
        while not rx.hooks and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(len(rx.hooks), 1)
        first = rx.hooks[0]
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait(10)
        d.start()
        d.wait_ready()
        rx.wait_for(len(ALERTING), accepted=True, timeout=30)
        rx.wait_quiet(1.5)
        accepted = rx.accepted
        keys = [h.headers["idempotency-key"] for h in accepted]
        self.assertEqual(keys, self.outbox_keys("ops"), "every alert, in order, once accepted")
        sent = [h.headers["idempotency-key"] for h in rx.hooks]
        self.assertEqual(sorted(sent), sorted(keys + [first.headers["idempotency-key"]]),
                         "only the interrupted alert went twice")
        again = accepted[0]
        self.assertEqual(again.headers["idempotency-key"], first.headers["idempotency-key"])
        self.assertEqual(again.raw, first.raw)
        self.assertEqual((first.headers["cpecwatch-attempt"], again.headers["cpecwatch-attempt"]),
                         ("1", "2"), "the repeat says it may be one")
        self.assertEqual(d.stop(), 0)

    def test_dead_letter_status_and_redeliver(self):
        reason = harness.ensure_journald()
        rx = self.receiver()
        rx.fail(404, count=1)
        d = self.daemon([self.hook_sink(rx)])
        t0 = time.time()
        rc, _, err = d.run_once(timeout=30)
        self.assertEqual(rc, 0, err)
        self.assertEqual([h.status for h in rx.hooks], [404] + [200] * (len(ALERTING) - 1))
        dead_key = rx.hooks[0].headers["idempotency-key"]
        self.assertRegex(err, r"alert %s is a dead letter: HTTP status 404" % dead_key)
        st = self.tool(d, "status", "-s", self.state)
        self.assertEqual(st.returncode, 0, st.stderr)
        self.assertIn("dead letters: 1\n", st.stdout)
        self.assertRegex(st.stdout, r"(?m)^  ops\s+%s  raised \S+, 1 attempts  error: HTTP status 404"
                         % dead_key)
        if not reason:
            e = harness.wait_journal(1, since=t0, pids=set(d.pids), MESSAGE_ID=MSGID_DEAD)
            self.assertEqual((e[0]["CPEC_SINK"], e[0]["CPEC_ALERT_ID"], e[0]["PRIORITY"]),
                             ("ops", dead_key, "3"))
        red = self.tool(d, "redeliver", "-s", self.state)
        self.assertEqual((red.returncode, red.stdout), (0, "1 dead letter back in the outbox\n"))
        rc, _, err = d.run_once(timeout=30)
        self.assertEqual(rc, 0, err)
        self.assertEqual(rx.hooks[-1].headers["idempotency-key"], dead_key)
        self.assertEqual(rx.hooks[-1].status, 200)
        st = self.tool(d, "status", "-s", self.state)
        self.assertIn("dead letters: 0\n", st.stdout)

    def test_send_test_reports_the_answer_and_hides_the_token(self):
        rx = self.receiver(service="slack")
        d = self.daemon([{"name": "ops", "type": "slack", "url": rx.url_for("services/T0/B0/SECRETPATH")}])
        r = self.tool(d, "send-test", "ops")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "sending a test alert to http://127.0.0.1:%d/\u2026 (slack)\n"
                         "delivered; the receiver answered HTTP 200: ok\n" % rx.port)
        self.assertEqual(rx.violations, [])
        rx.fail(500, count=1)
        r = self.tool(d, "send-test", "ops")
        self.assertEqual(r.returncode, 1)
        self.assertIn("not delivered (try again later); the receiver answered HTTP 500", r.stderr)
        self.assertNotIn("SECRETPATH", r.stdout + r.stderr)

    # ------------------------------------------------- digests and heartbeats

    def pending(self, sink):
        db = sqlite3.connect(os.path.join(self.state, "cpecwatch.db"))
        try:
            return [k for (k,) in db.execute(
                "SELECT a.key FROM alerts a JOIN deliveries d ON d.alert_id = a.id"
                " WHERE d.sink = ? AND d.state = 'pending' ORDER BY a.id", (sink,))]
        finally:
            db.close()

    def low_feed(self):
        self.fs.write_feed("wire.xml", harness.rss_feed("Wire", ITEMS + [POLICY]), mtime=time.time() - 60)

    def test_digest_batches_low_alerts_and_keeps_them_until_accepted(self):
        self.low_feed()
        rx = self.receiver()
        d = self.daemon([self.hook_sink(rx, digest_interval=2)])
        rc, _, err = d.run_once(timeout=30)
        self.assertEqual(rc, 0, err)
        lows = [k for k in self.outbox_keys("ops") if k in self.pending("ops")]
        self.assertEqual(len(lows), 2, "the two low alerts wait in the outbox")
        sent = [h.body for h in rx.wait_quiet(1.0)]
        self.assertEqual([b["severity"] for b in sent], ["critical", "high", "medium", "critical"])
        # due, but the receiver fails: both stay, attempted once
        time.sleep(2.2)
        rx.fail(503, count=1)
        rc, _, err = d.run_once(timeout=30)
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.pending("ops"), lows)
        first = rx.hooks[-1]
        self.assertEqual((first.status, first.headers["cpecwatch-attempt"]), (503, "1"))
        db = sqlite3.connect(os.path.join(self.state, "cpecwatch.db"))
        (retry_at,) = db.execute("SELECT max(next_try) FROM deliveries WHERE state = 'pending'").fetchone()
        db.close()
        time.sleep(max(0.0, retry_at + 0.2 - time.time()))   # past its retry time
        self.low_feed()   # nothing new, but a third low alert would join the next digest only
        rc, _, err = d.run_once(timeout=30)
        self.assertEqual(rc, 0, err)
        again = rx.hooks[-1]
        self.assertEqual((again.status, again.headers["cpecwatch-attempt"]), (200, "2"))
        self.assertEqual(again.raw, first.raw, "a repeated digest is the same message")
        self.assertEqual(self.pending("ops"), [])
        digest = again.body
        self.assertEqual((digest["schema"], digest["kind"], digest["severity"], digest["count"],
                          digest["title"]), ("cpecwatch.alert/1", "digest", "low", 2, "2 low alerts"))
        self.assertEqual(again.headers["idempotency-key"], digest["id"])
        self.assertRegex(digest["id"], r"^digest/\d+-\d+/2$")
        self.assertEqual([a["id"] for a in digest["alerts"]], lows)
        self.assertEqual([a["link"] for a in digest["alerts"]], [SSD["link"], POLICY["link"]])
        self.assertEqual(len(rx.accepted), len(ALERTING) + 1 - 2 + 1)

    def test_digest_in_every_chat_format(self):
        self.low_feed()
        sinks, rxs = [], {}
        for service in sorted(SERVICES):
            rx = self.receiver(service=service)
            rxs[service] = rx
            s = {"name": service, "type": service, "digest_interval": 1, "retry_initial": 1}
            if service == "telegram":
                s.update(url=rx.url, secret=BOT_TOKEN, chat_id="-1001234")
            elif service == "ntfy":
                s.update(url=rx.url_for("cpec-alerts"))
            else:
                s.update(url=rx.url_for("hook"))
            sinks.append(s)
        d = self.daemon(sinks)
        rc, _, err = d.run_once(timeout=60)
        self.assertEqual(rc, 0, err)
        time.sleep(1.2)
        rc, _, err = d.run_once(timeout=60)
        self.assertEqual(rc, 0, err)
        for service, rx in rxs.items():
            with self.subTest(service):
                self.assertEqual(rx.violations, [])
                self.assertEqual(len(rx.accepted), len(ALERTING) - 1 + 1)
                digest = rx.accepted[-1].raw.decode()
                self.assertIn("cpecwatch digest: 2 low alerts", digest)
                for it in (SSD, POLICY):
                    self.assertIn(it["link"], digest)
                for h in rx.accepted[:-1]:
                    self.assertNotIn(SSD["link"], h.raw.decode())
                self.assertEqual(self.pending(service), [])

    def test_heartbeat_counts_and_is_bounded(self):
        rx = self.receiver()
        broken = [{"name": "broken", "url": self.fs.url_for("missing.xml"), "interval": 3600}]
        d = self.daemon([self.hook_sink(rx)], more_feeds=broken)
        rc, _, err = d.run_once(timeout=30)   # alerts raised, "broken" failing; no heartbeat
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(rx.wait_quiet(0.5)), len(ALERTING))
        d.write_config(self.config_text([self.hook_sink(rx, heartbeat_interval=3600)], more_feeds=broken))
        rc, _, err = d.run_once(timeout=30)   # the first heartbeat goes out at once
        self.assertEqual(rc, 0, err)
        beats = [h.body for h in rx.wait_quiet(0.5) if h.body.get("kind") == "heartbeat"]
        self.assertEqual(len(beats), 1)
        self.assertEqual(beats[0]["title"], "cpecwatch alive: 2 feeds, 1 failing, %d alerts in the last 1 h"
                         % len(ALERTING))
        self.assertEqual({k: beats[0][k] for k in ("feeds", "failing", "alerts", "period", "severity")},
                         {"feeds": 2, "failing": 1, "alerts": len(ALERTING), "period": 3600,
                          "severity": "none"})
        rc, _, err = d.run_once(timeout=30)   # not due again: a restart keeps the rhythm
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(rx.wait_quiet(0.5)), len(ALERTING) + 1)
        # every 2 s while running, only the newest kept in the outbox
        d.write_config(self.config_text([self.hook_sink(rx, heartbeat_interval=2)], more_feeds=broken))
        d.start()
        d.wait_ready()
        deadline = time.monotonic() + 30
        while len([h for h in rx.accepted if h.body.get("kind") == "heartbeat"]) < 4:
            self.assertLess(time.monotonic(), deadline, d.stderr())
            time.sleep(0.2)
        self.assertEqual(d.stop(), 0)
        keys = [k for k in self.outbox_keys("ops") if k.startswith("heartbeat/")]
        self.assertEqual(len(keys), 1, keys)
        last = [h for h in rx.accepted if h.body.get("kind") == "heartbeat"][-1]
        self.assertRegex(last.body["title"], r"^cpecwatch alive: 2 feeds, 1 failing, \d+ alerts? in the last 2 s$")

    def test_digest_and_heartbeat_settings_checked(self):
        d = self.daemon([{"name": "journal", "type": "journald", "digest_interval": 60,
                          "heartbeat_interval": 60},
                         {"name": "ops", "type": "webhook", "url": "https://example.org/h",
                          "max_age": 600, "digest_interval": 600}])
        r = subprocess.run([tool_path(), "check", "-c", d.config_path], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        text = d.config_text
        want = ["%s:%d: a journald sink takes no digest_interval" % (d.config_path,
                                                                     harness.line_of(text, "digest_interval = 60")),
                "%s:%d: a journald sink takes no heartbeat_interval" % (d.config_path,
                                                                        harness.line_of(text, "heartbeat_interval")),
                "%s:%d: sink 'ops': digest_interval must be shorter than max_age (600)"
                % (d.config_path, harness.line_of(text, "digest_interval = 600"))]
        self.assertEqual(sorted(r.stderr.splitlines()), sorted(want))

    # ------------------------------------------------------------ source health

    def health_sinks(self):
        health, plain = self.receiver(), self.receiver()
        return health, plain, [self.hook_sink(health, name="health", source_health=True),
                               self.hook_sink(plain, name="plain")]

    def wait_delivered(self, sink, timeout=30):
        """Until the sink's outbox is empty: an answer is recorded before a stop."""
        deadline = time.monotonic() + timeout
        while self.pending(sink):
            self.assertLess(time.monotonic(), deadline, "sink %s: still pending" % sink)
            time.sleep(0.1)

    def wait_requests(self, path, n, timeout=60):
        deadline = time.monotonic() + timeout
        while len(self.fs.requests(path)) < n:
            self.assertLess(time.monotonic(), deadline, "feed server: %d of %d requests"
                            % (len(self.fs.requests(path)), n))
            time.sleep(0.1)

    def test_source_down_and_up_once_across_restarts(self):
        self.fs.write_feed("wire.xml", harness.rss_feed("Wire", [CRICKET]), mtime=time.time() - 60)
        health, plain, sinks = self.health_sinks()
        d = self.daemon(sinks, interval=1, extra="feed_down_after = 2;")
        d.start()
        d.wait_ready()
        self.wait_requests("/wire.xml", 1)
        self.fs.fail("/wire.xml", 500)
        down = health.wait_for(1, timeout=60)[0]
        self.wait_delivered("health")
        self.assertEqual(d.stop(), 0)
        n = len(self.fs.requests("/wire.xml"))
        d.start()   # still failing: no second source-down
        d.wait_ready()
        self.wait_requests("/wire.xml", n + 1)
        self.fs.clear("/wire.xml")
        up = health.wait_for(2, timeout=60)[1]
        self.wait_delivered("health")
        self.assertEqual(d.stop(), 0)
        n = len(self.fs.requests("/wire.xml"))
        d.start()   # answering: no second source-up
        d.wait_ready()
        self.wait_requests("/wire.xml", n + 1)
        time.sleep(0.5)
        self.assertEqual(d.stop(), 0)
        self.assertEqual([h.body["kind"] for h in health.hooks], ["source-down", "source-up"])
        self.assertEqual(plain.hooks, [], "a sink that does not ask gets no source alerts")
        self.assertEqual((down.body["feed"], down.body["severity"], down.body["title"]),
                         ("wire", "none", "Feed wire is down"))
        self.assertRegex(down.body["summary"], r"^No good poll since \S+ \(\d+ failed polls\)\. "
                         r"Last error: HTTP status 500$")
        self.assertEqual(up.body["title"], "Feed wire is back")
        self.assertEqual(down.headers["idempotency-key"].split(":")[:2], ["source-down", "wire"])

    def test_feed_that_never_answered_raises_source_down(self):
        health, plain, sinks = self.health_sinks()
        d = self.daemon(sinks, interval=1, extra="feed_down_after = 2;")
        d.write_config(d.config_text.replace(self.fs.url_for("wire.xml"), self.fs.url_for("typo.xml")))
        d.start()
        d.wait_ready()
        down = health.wait_for(1, timeout=60)[0]
        self.wait_delivered("health")
        self.assertEqual(d.stop(), 0)
        self.assertEqual((down.body["kind"], down.headers["idempotency-key"]),
                         ("source-down", "source-down:wire:0"))
        self.assertRegex(down.body["summary"], r"^Never answered since the first attempt at \S+ "
                         r"\(\d+ failed polls\)\. Last error: HTTP status 404$")
        n = len(self.fs.requests("/typo.xml"))
        self.assertGreaterEqual(n, 2, "raised after feed_down_after, not at the first failure")
        d.start()
        d.wait_ready()
        self.wait_requests("/typo.xml", n + 1)
        time.sleep(0.5)
        self.assertEqual(d.stop(), 0)
        self.assertEqual([h.headers["idempotency-key"] + " " + h.headers["cpecwatch-attempt"] for h in health.hooks], ["source-down:wire:0 1"], "a restart does not repeat it")
        self.assertEqual(plain.hooks, [])


if __name__ == "__main__":
    unittest.main()
