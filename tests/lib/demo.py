#!/usr/bin/env python3
"""`make demo`: cpecwatchd end to end on the machine, no internet needed.

Serves the sample feeds of tests/fixtures/demo from a local feed server,
starts a webhook receiver that prints every alert it accepts, writes a
configuration (state in a temporary directory; a webhook sink and, when
journald listens, a journald sink), runs `cpecwatchd --once`, then prints a
summary. Exits 0 when at least one alert arrived.

    python3 tests/lib/demo.py --bin build [--verbose] [--keep]
"""

import argparse
import collections
import os
import shutil
import sys
import threading
import time

import harness
from feedserver import FeedServer
from receiver import Receiver, format_alert

FEEDS_DIR = os.path.join(harness.ROOT, "tests", "fixtures", "demo")
FEED_SUFFIXES = (".xml", ".atom", ".json")


def demo_feeds(server):
    """One feed per sample file, named after the file."""
    names = sorted(n for n in os.listdir(FEEDS_DIR) if n.endswith(FEED_SUFFIXES))
    return [{"name": os.path.splitext(n)[0], "url": server.url_for(n)} for n in names]


def main(argv=None):
    ap = argparse.ArgumentParser(description="Run cpecwatchd once over the sample feeds.")
    ap.add_argument("--bin", default=os.environ.get("CPECWATCH_BUILD", "build"),
                    help="directory holding cpecwatchd (default: build)")
    ap.add_argument("-v", "--verbose", action="store_true", help="show the daemon's log")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds for the daemon run")
    args = ap.parse_args(argv)

    os.environ["CPECWATCH_BUILD"] = os.path.abspath(args.bin)
    reason = harness.missing_prerequisite()
    if reason:
        print("demo: %s" % reason, file=sys.stderr)
        return 1

    tmp = harness.make_tempdir("cpecwatch-demo-")
    state = os.path.join(tmp, "state")
    os.mkdir(state)
    lock = threading.Lock()
    by_severity = collections.Counter()

    def show(hook):
        with lock:
            by_severity[hook.body.get("severity", "?") if isinstance(hook.body, dict) else "?"] += 1
            print("  " + format_alert(hook.body), flush=True)

    fs = FeedServer(FEEDS_DIR).start()
    rx = Receiver(on_accept=show).start()
    daemon = None
    try:
        journal = harness.journal_listening()
        feeds = demo_feeds(fs)
        sinks = [{"name": "demo-webhook", "type": "webhook", "url": rx.url_for("hook"),
                  "min_severity": "low", "retry_initial": 1, "retry_max": 4, "timeout": 5}]
        if journal:
            sinks.append({"name": "journal", "type": "journald", "min_severity": "low"})
        daemon = harness.Daemon(tmp, harness.make_config(state, feeds, sinks))

        print("cpecwatch demo — %d sample feeds served at %s" % (len(feeds), fs.url))
        for f in feeds:
            print("  feed %-18s %s" % (f["name"], f["url"]))
        print("webhook receiver at %s; journald sink: %s"
              % (rx.url_for("hook"), "yes" if journal else "no (no journald socket)"))
        print("running: %s -c %s --once\n" % (harness.daemon_path(), daemon.config_path),
              flush=True)

        t0 = time.time()
        rc, out, err = daemon.run_once(*(["-v"] if args.verbose else []), timeout=args.timeout)
        try:
            rx.wait_quiet(2.0, timeout=10.0)
        except TimeoutError:
            pass
        if args.verbose and err:
            print("\n--- cpecwatchd log ---\n" + err.rstrip())
        if rc != 0:
            print("\ndemo: cpecwatchd exited with %d:\n%s" % (rc, err[-4000:]), file=sys.stderr)
            return 1

        n = sum(by_severity.values())
        parts = ["%s %d" % (s, by_severity[s]) for s in reversed(harness.SEVERITIES)
                 if by_severity[s]]
        summary = "\n%d alert%s (%s) from %d feeds in %.1fs" % (
            n, "" if n == 1 else "s", ", ".join(parts) or "none", len(feeds), time.time() - t0)
        if journal:
            entries = harness.journal_entries(since=t0, pids=set(daemon.pids),
                                              MESSAGE_ID=harness.MESSAGE_ID_NEW)
            summary += "; %d journal entries (journalctl -t cpecwatchd -o verbose)" % len(entries)
        print(summary, flush=True)
        if n == 0:
            print("demo: no alert arrived; daemon log:\n%s" % err[-4000:], file=sys.stderr)
            return 1
        return 0
    finally:
        if daemon:
            daemon.cleanup()
        rx.stop()
        fs.stop()
        if args.keep:
            print("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
