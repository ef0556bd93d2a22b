"""What the poll, idle and state benchmarks share: nginx on loopback with
its own prefix, a fast webhook receiver (fastreceiver.py), running a
command and reading its costs (wall time, user+system CPU and peak RSS from
wait4() of the child), /proc readings of a running process, configuration
writers, and the Markdown the sections are made of.

Python 3 standard library only.
"""

import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

LIB = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(LIB)))
RULES = os.path.join(ROOT, "etc", "rules.conf")
sys.path.insert(0, LIB)

from fastreceiver import FastReceiver as Receiver  # noqa: E402,F401  (after the path is set)

CLK_TCK = os.sysconf("SC_CLK_TCK")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"   # /usr/sbin is not on every user's PATH


def log(msg):
    """Progress on stderr: stdout is the Markdown section."""
    print("  " + msg, file=sys.stderr, flush=True)


def build_path(build, prog):
    d = build if os.path.isabs(build) else os.path.join(ROOT, build)
    return os.path.join(d, prog)


def missing_commands(*cmds):
    return [c for c in cmds if not shutil.which(c) and not os.access(c, os.X_OK)]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Tmp:
    """A temporary directory the nginx workers (user nobody when run as
    root) can read; removed on exit."""

    def __init__(self, tag, base=None):
        self.path = tempfile.mkdtemp(prefix="cpecwatch-bench-%s-" % tag, dir=base)
        os.chmod(self.path, 0o755)

    def __enter__(self):
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)


class Nginx:
    """nginx serving root on a free loopback port, its prefix in a temporary
    directory; the process is ours and is stopped by stop()."""

    def __init__(self, root, workdir):
        self.root = root
        self.prefix = os.path.join(workdir, "nginx")
        self.proc = None
        self.port = None

    def start(self):
        os.makedirs(self.prefix, exist_ok=True)
        with open(os.path.join(LIB, "nginx.conf.in"), encoding="utf-8") as f:
            template = f.read()
        for attempt in range(5):
            self.port = free_port()
            conf = os.path.join(self.prefix, "nginx.conf")
            with open(conf, "w", encoding="utf-8") as f:
                f.write(template.replace("@PREFIX@", self.prefix).replace("@ROOT@", self.root)
                        .replace("@PORT@", str(self.port)))
            errlog = os.path.join(self.prefix, "startup.log")
            self.proc = subprocess.Popen([NGINX, "-p", self.prefix, "-c", conf, "-e", errlog],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            if self._wait_listening():
                return self
            self.stop()
        raise RuntimeError("nginx did not start; see %s" % self.prefix)

    def _wait_listening(self, timeout=10.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    def answers(self):
        """How many of each status nginx answered since the last call, as
        "2000×200" text (its access log is read and emptied)."""
        path = os.path.join(self.prefix, "access.log")
        counts = {}
        with open(path, "r+", encoding="ascii") as f:
            for line in f:
                counts[line.strip()] = counts.get(line.strip(), 0) + 1
            f.truncate(0)
        return ", ".join("%d×%s" % (n, s) for s, n in sorted(counts.items())) or "none"

    def requests(self):
        """Requests answered so far (since the last answers())."""
        with open(os.path.join(self.prefix, "access.log"), "rb") as f:
            return f.read().count(b"\n")

    def url(self, path):
        return "http://127.0.0.1:%d/%s" % (self.port, path.lstrip("/"))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)   # graceful: workers finish, then exit
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class Run:
    """The costs of one finished command."""

    def __init__(self, wall, user, system, maxrss_kb, rc):
        self.wall, self.user, self.system, self.rc = wall, user, system, rc
        self.cpu = user + system
        self.rss_mb = maxrss_kb / 1024.0


def measure(cmd, log_path=None, env=None, cwd=None):
    """Run cmd to its end under GNU time; its wall time (ours), and from
    time's wait4() the CPU time and peak RSS of the command and of every
    descendant it waited for (so a shell script's curl and parsers count;
    RSS is that of the largest single process, not the sum of processes
    alive at once). GNU time is the launcher because Linux charges a child
    with the peak RSS of the process image it replaced at exec: a child
    forked from this Python would carry Python's RSS."""
    fd, res = tempfile.mkstemp(prefix="cpecwatch-bench-time-")
    os.close(fd)
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL
    try:
        t0 = time.monotonic()
        rc = subprocess.call(["/usr/bin/time", "-q", "-o", res, "-f", "%U %S %M"] + list(cmd),
                             stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env, cwd=cwd)
        wall = time.monotonic() - t0
        with open(res, encoding="ascii") as f:
            user, system, maxrss = f.read().split()[-3:]
    finally:
        os.unlink(res)
        if log_path:
            out.close()
    return Run(wall, float(user), float(system), int(maxrss), rc)


def proc_cpu_seconds(pid):
    """utime + stime of a running process, from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid, encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK   # fields 14 and 15 of stat(5)


def proc_memory_mb(pid):
    """(VmRSS, VmHWM) of a running process in MB."""
    got = {}
    with open("/proc/%d/status" % pid, encoding="ascii") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                got[key] = int(value.split()[0]) / 1024.0
    return got.get("VmRSS", 0.0), got.get("VmHWM", 0.0)


def proc_private_mb(pid):
    """(Pss, RssAnon) of a running process in MB: its share of the pages it
    shares with others, and the memory that is its own."""
    got = {}
    with open("/proc/%d/smaps_rollup" % pid, encoding="ascii") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("Pss", "Anonymous"):
                got[key] = int(value.split()[0]) / 1024.0
    return got.get("Pss", float("nan")), got.get("Anonymous", float("nan"))


def proc_rss_by_mapping(pid):
    """Resident memory of a running process by what is mapped, from
    /proc/PID/smaps: {name: (Rss kB, Anonymous kB)}, name being the file
    (a shared library, the program), "[heap]", "[stack]" or "[anonymous]"."""
    got = {}
    name = None
    with open("/proc/%d/smaps" % pid, encoding="utf-8", errors="replace") as f:
        for line in f:
            fields = line.split()
            if fields and "-" in fields[0] and not fields[0].endswith(":"):
                name = fields[5] if len(fields) > 5 else "[anonymous]"
                got.setdefault(name, [0, 0])
            elif fields and fields[0] in ("Rss:", "Anonymous:") and name is not None:
                got[name][0 if fields[0] == "Rss:" else 1] += int(fields[1])
    return {k: tuple(v) for k, v in got.items()}


def wait_settled(pid, quiet=1.0, timeout=60.0):
    """Wait until pid has used no CPU for quiet seconds; False on timeout."""
    end = time.monotonic() + timeout
    last, since = proc_cpu_seconds(pid), time.monotonic()
    while time.monotonic() < end:
        time.sleep(0.1)
        now = proc_cpu_seconds(pid)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return True
    return False


def cpecwatch_conf(path, feeds, sink_url, max_parallel=16, interval=300, extra=""):
    """A cpecwatchd configuration: feeds [(name, url)], one webhook sink,
    the shipped ruleset by absolute path. The backlog gate is off: every
    generated item, however old its date, goes through the whole pipeline."""
    lines = ["# written by tests/bench for one benchmark run",
             "poll_interval = %d;" % interval, "max_parallel = %d;" % max_parallel, "backlog_max_age = 0;",
             "fetch_timeout = 60;", "connect_timeout = 15;", extra, "feeds = ("]
    lines.append(",\n".join('  { name = "%s"; url = "%s"; }' % f for f in feeds))
    lines += [");", "sinks = (",
              '  { name = "bench"; type = "webhook"; url = "%s"; min_severity = "low"; }' % sink_url,
              ");", '@include "%s"' % RULES, ""]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    return path


def median(values):
    return statistics.median(values) if values else float("nan")


def fmt(x, unit="", digits=2):
    if x != x:   # NaN: not measured
        return "–"
    return ("%.*f" % (digits, x)) + unit


def ratio(a, b):
    """a/b as 'N.N×', or '–' when either is missing."""
    if a != a or b != b or b == 0:
        return "–"
    r = a / b
    return ("%.1f×" % r) if r >= 10 else ("%.2f×" % r) if r >= 0.1 else ("%.3f×" % r)


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def version_of(cmd):
    """First line of a tool's version, for the section's record."""
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        text = (r.stdout or r.stderr).strip().splitlines()
        return text[0] if text else "?"
    except OSError:
        return "not installed"


def deb_version(pkg):
    try:
        r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", pkg], capture_output=True,
                           text=True, timeout=10)
        return r.stdout.strip() or "not installed"
    except OSError:
        return "?"
