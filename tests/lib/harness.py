"""Pieces the cpecwatch integration tests share: a journald that listens,
reading the journal back, a NOTIFY_SOCKET that collects sd_notify messages,
feed builders, and a Daemon that writes a configuration and runs
$CPECWATCH_BUILD/cpecwatchd (default build/) against it.

Python 3 standard library only.
"""

import atexit
import datetime
import email.utils
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
from xml.sax.saxutils import escape

LIB = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(LIB))
RULES = os.environ.get("CPECWATCH_RULES", os.path.join(ROOT, "etc", "rules.conf"))

JOURNAL_SOCKET = "/run/systemd/journal/socket"
JOURNALD = "/lib/systemd/systemd-journald"
MESSAGE_ID_NEW = "af07e2d78d784af9abb7a4727e11aaa4"
PRIORITY = {"critical": 2, "high": 3, "medium": 4, "low": 5}
SEVERITIES = ("none", "low", "medium", "high", "critical")
ALERT_KEYS = {"schema", "id", "kind", "incident", "version", "severity", "title", "link",
              "summary", "feed", "published", "detected", "killed", "injured", "province",
              "rules", "tags", "sources", "changes"}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer")


def build_dir():
    """Where the binaries are: $CPECWATCH_BUILD, default build/ of the tree."""
    d = os.environ.get("CPECWATCH_BUILD", "build")
    return d if os.path.isabs(d) else os.path.join(ROOT, d)


def daemon_path():
    return os.path.join(build_dir(), "cpecwatchd")


def missing_prerequisite():
    """A reason to skip daemon tests, or None when they can run. Under
    tests/run (which names the build in CPECWATCH_BUILD) a missing binary is
    an error, never a skip: make check must not pass on tests it did not run."""
    if not os.access(daemon_path(), os.X_OK):
        if os.environ.get("CPECWATCH_BUILD"):
            raise RuntimeError("no daemon binary at %s" % daemon_path())
        return "no daemon binary at %s (build it, or set CPECWATCH_BUILD)" % daemon_path()
    if not os.path.isfile(RULES):
        return "no rule set at %s" % RULES
    return None


# ---------------------------------------------------------------- journald

_journald = None


def journal_listening():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        s.connect(JOURNAL_SOCKET)
        return True
    except OSError:
        return False
    finally:
        s.close()


def _stop_journald():
    if _journald and _journald.poll() is None:
        _journald.terminate()
        try:
            _journald.wait(5)
        except subprocess.TimeoutExpired:
            _journald.kill()


def ensure_journald(timeout=5.0):
    """Make sure journald listens on its socket, starting systemd-journald
    standalone when nobody does (root only). Returns None when it listens,
    else the reason, for skipTest."""
    global _journald
    if journal_listening():
        return None
    if shutil.which("journalctl") is None:
        return "journalctl is not installed"
    if not os.access(JOURNALD, os.X_OK):
        return "nothing listens on %s and %s is missing" % (JOURNAL_SOCKET, JOURNALD)
    if os.geteuid() != 0:
        return "nothing listens on %s and starting journald needs root" % JOURNAL_SOCKET
    if _journald is None or _journald.poll() is not None:
        _journald = subprocess.Popen([JOURNALD], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        atexit.register(_stop_journald)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if journal_listening():
            return None
        if _journald.poll() is not None:
            return "systemd-journald exited with %s" % _journald.returncode
        time.sleep(0.05)
    return "systemd-journald did not listen on %s within %.0fs" % (JOURNAL_SOCKET, timeout)


def journal_entries(since=None, pids=None, **match):
    """Journal entries (dicts) with FIELD=VALUE for every keyword given,
    written at or after since (time.time() seconds) by one of pids (when
    given), oldest first."""
    cmd = ["journalctl", "-o", "json", "--no-pager", "-q"]
    if since is not None:
        cmd += ["--since", "@%d" % int(since)]
    cmd += ["%s=%s" % (k, v) for k, v in match.items()]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    entries = []
    for line in out.stdout.splitlines():
        if not line.strip():
            continue
        e = json.loads(line)
        if since is not None and int(e["__REALTIME_TIMESTAMP"]) < int(since * 1e6):
            continue
        if pids is not None and int(e.get("_PID", 0)) not in pids:
            continue
        entries.append(e)
    return entries


def wait_journal(n, since=None, pids=None, timeout=10.0, **match):
    """Poll until at least n matching entries are readable (journald writes
    asynchronously to the socket's sender); returns them or raises
    TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        got = journal_entries(since=since, pids=pids, **match)
        if len(got) >= n:
            return got
        if time.monotonic() > deadline:
            raise TimeoutError("journal: %d of %d entries matching %r" % (len(got), n, match))
        time.sleep(0.1)


# ------------------------------------------------------------ NOTIFY_SOCKET

class NotifySocket:
    """An AF_UNIX datagram socket collecting sd_notify assignments in order."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify.sock")
        self.messages = []      # (time.time(), "KEY=value")
        self._cond = threading.Condition()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            self._sock.bind(self.path)
        except OSError:
            self._sock.close()
            raise
        self._sock.settimeout(0.1)
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="notify", daemon=True)
        self._thread.start()

    def _loop(self):
        while not self._closed:
            try:
                data = self._sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            now = time.time()
            with self._cond:
                for line in data.decode("utf-8", "replace").split("\n"):
                    if line:
                        self.messages.append((now, line))
                self._cond.notify_all()

    def lines(self):
        with self._cond:
            return [m for _, m in self.messages]

    def _find(self, what):
        for i, (_, m) in enumerate(self.messages):
            if m == what or (what.endswith("=") and m.startswith(what)):
                return i
        return -1

    def index(self, what):
        """Position of the first message equal to what (or starting with it
        when what ends in '='), -1 if none."""
        with self._cond:
            return self._find(what)

    def wait_for(self, what, timeout=10.0):
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._find(what) < 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("sd_notify: no %r within %.0fs (got %r)"
                                       % (what, timeout, [m for _, m in self.messages]))
                self._cond.wait(left)
            return self.messages[self._find(what)][1]

    def close(self):
        self._closed = True
        self._thread.join(1)
        self._sock.close()


# ------------------------------------------------------------ configuration

def conf_value(v):
    """A Python value as libconfig text."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return '"%s"' % v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    raise TypeError("no libconfig form for %r" % (v,))


def conf_groups(key, groups):
    """key = ( { a = 1; ... }, ... ); one setting per line, so that an error's
    line number points at one setting."""
    out = ["%s = (" % key]
    for i, g in enumerate(groups):
        out.append("  {")
        out += ["    %s = %s;" % (k, conf_value(v)) for k, v in g.items()]
        out.append("  }%s" % ("," if i + 1 < len(groups) else ""))
    out.append(");")
    return "\n".join(out)


def make_config(state_dir, feeds, sinks, poll_interval=300, rules=RULES, extra="", backlog_max_age=0):
    """backlog_max_age is off (0) by default: the fixtures' items carry fixed
    dates from the past, and most tests want their first poll to alert;
    None leaves it out (the daemon's default)."""
    parts = ["# written by tests/lib/harness.py",
             "state_dir = %s;" % conf_value(state_dir),
             "poll_interval = %d;" % poll_interval] + \
            ([] if backlog_max_age is None else ["backlog_max_age = %d;" % backlog_max_age]) + \
            [conf_groups("feeds", feeds),
             conf_groups("sinks", sinks)]
    if extra:
        parts.append(extra)
    if rules:
        parts.append("@include %s" % conf_value(rules))
    return "\n".join(parts) + "\n"


def line_of(text, needle):
    """1-based number of the first line of text containing needle."""
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise ValueError("%r not in text" % needle)


# ------------------------------------------------------------------- feeds

def rfc822(iso):
    """'2024-03-26T09:15:00Z' -> RFC 822 date for RSS."""
    return email.utils.format_datetime(_parse_iso(iso), usegmt=True)


def _parse_iso(iso):
    return datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))


def rss_feed(title, items, link="https://wire.example/"):
    """An RSS 2.0 document; items are dicts with id, title, link, summary,
    published (RFC 3339 UTC, or None: no pubDate)."""
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           '<rss version="2.0"><channel>',
           "<title>%s</title><link>%s</link><description>%s</description>"
           % (escape(title), escape(link), escape(title))]
    for it in items:
        date = "<pubDate>%s</pubDate>" % rfc822(it["published"]) if it["published"] else ""
        out.append("<item><title>%s</title><link>%s</link>"
                   '<guid isPermaLink="false">%s</guid>%s'
                   "<description>%s</description></item>"
                   % (escape(it["title"]), escape(it["link"]), escape(it["id"]), date,
                      escape(it["summary"])))
    out.append("</channel></rss>")
    return "\n".join(out).encode("utf-8")


# ------------------------------------------------------------------ daemon

class Daemon:
    """One cpecwatchd under test, in its own directory.

    d = Daemon(tmpdir, config_text); d.start(); d.wait_ready(); ...; rc = d.stop()
    The configuration is written to tmpdir/cpecwatch.conf; stdout and stderr
    of every run go to files there (append, one file pair per Daemon)."""

    def __init__(self, directory, config_text):
        self.dir = directory
        self.config_path = os.path.join(directory, "cpecwatch.conf")
        self.stdout_path = os.path.join(directory, "cpecwatchd.stdout")
        self.stderr_path = os.path.join(directory, "cpecwatchd.stderr")
        self.proc = None
        self.pids = []
        self.notify = None
        self.extra_env = {}     # e.g. WATCHDOG_USEC, set before start()
        self.write_config(config_text)

    def write_config(self, text):
        self.config_text = text
        with open(self.config_path, "w", encoding="utf-8") as f:
            f.write(text)

    def _env(self):
        env = {k: v for k, v in os.environ.items()
               if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
        env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0"
        env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
        if self.notify:
            env["NOTIFY_SOCKET"] = self.notify.path
        env.update(self.extra_env)
        return env

    def _spawn(self, args):
        if self.notify is None:
            self.notify = NotifySocket(self.dir)
        out = open(self.stdout_path, "ab")
        err = open(self.stderr_path, "ab")
        try:
            self.proc = subprocess.Popen([daemon_path(), "-c", self.config_path, *args],
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                         env=self._env(), cwd=self.dir)
        finally:
            out.close()
            err.close()
        self.pids.append(self.proc.pid)
        return self.proc

    def start(self, *args):
        """Start the daemon in the background; returns the Popen."""
        if self.proc and self.proc.poll() is None:
            raise RuntimeError("daemon already running")
        return self._spawn(args)

    def wait_ready(self, timeout=15.0):
        """Wait for READY=1; fails early with stderr when the daemon exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.notify.index("READY=1") >= 0:
                return
            if self.proc.poll() is not None:
                raise AssertionError("cpecwatchd exited with %s before READY=1:\n%s"
                                     % (self.proc.returncode, self.stderr()))
            time.sleep(0.02)
        raise TimeoutError("cpecwatchd: no READY=1 within %.0fs:\n%s" % (timeout, self.stderr()))

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Signal the daemon and wait; returns its exit code (negative: killed
        by that signal after the timeout)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("cpecwatchd did not exit within %.0fs of %s"
                                     % (timeout, signal.Signals(sig).name))
        return self.proc.returncode

    def run(self, *args, timeout=30.0):
        """Run the daemon in the foreground; returns (exit code, stdout, stderr
        of this run)."""
        out0 = _size(self.stdout_path)
        err0 = _size(self.stderr_path)
        proc = self._spawn(args)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError("cpecwatchd %s did not finish within %.0fs:\n%s"
                                 % (" ".join(args), timeout, self.stderr()))
        return proc.returncode, _tail(self.stdout_path, out0), _tail(self.stderr_path, err0)

    def run_once(self, *args, timeout=30.0):
        return self.run("--once", *args, timeout=timeout)

    def stdout(self):
        return _tail(self.stdout_path, 0)

    def stderr(self):
        return _tail(self.stderr_path, 0)

    def sanitizer_report(self):
        """The sanitizer complaint in stderr, or None."""
        text = self.stderr()
        for mark in SANITIZER_MARKS:
            at = text.find(mark)
            if at >= 0:
                return text[max(0, at - 200):at + 3000]
        return None

    def cleanup(self):
        """Kill whatever still runs (tearDown, also after a failure)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.notify:
            self.notify.close()


def _size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _tail(path, offset):
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def make_tempdir(prefix="cpecwatch-it-"):
    return tempfile.mkdtemp(prefix=prefix)


# ------------------------------------------------------------- test cases

class DaemonTestCase(unittest.TestCase):
    """The scaffolding of a daemon test: a temporary directory with state/
    and feeds/, a fixture feed server on feeds/ (self.fs), a webhook
    receiver (self.rx), and the daemons the test starts (self.daemon_for),
    killed in tearDown whatever happened; a sanitizer report from any of
    them fails the test. Subclasses write their feeds in write_feeds(),
    before the server starts."""

    def setUp(self):
        reason = missing_prerequisite()
        if reason:
            self.skipTest(reason)
        self.tmp = make_tempdir()
        self.state = os.path.join(self.tmp, "state")
        self.feeds = os.path.join(self.tmp, "feeds")
        os.mkdir(self.state)
        os.mkdir(self.feeds)
        self.daemons = []
        from feedserver import FeedServer   # noqa: E402 (beside this file)
        from receiver import Receiver       # noqa: E402
        self.fs = FeedServer(self.feeds)
        self.write_feeds()
        self.fs.start()
        self.rx = Receiver().start()

    def write_feeds(self):
        """Write the feeds the test starts with (none by default)."""

    def daemon_for(self, config_text):
        """A Daemon in the test's directory, cleaned up in tearDown."""
        d = Daemon(self.tmp, config_text)
        self.daemons.append(d)
        return d

    def tearDown(self):
        reports = []
        for d in self.daemons:
            d.cleanup()
            report = d.sanitizer_report()
            if report:
                reports.append(report)
        self.rx.stop()
        self.fs.stop()
        if not os.environ.get("CPECWATCH_KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)
        if reports:
            self.fail("sanitizer report from cpecwatchd:\n" + "\n".join(reports))
