"""Malformed configurations and rule sets: every one of the files in
tests/fixtures/config-errors/ must make both `cpecwatch check -c FILE` and
`cpecwatchd -c FILE` exit 2 with a `file:line: message` error naming the
right line, and never crash (no signal, no sanitizer report).

Each fixture states what it expects on its first line:
    # expect: LINE FRAGMENT          the error is FILE:LINE: …FRAGMENT…
    # expect: OTHER:LINE FRAGMENT    the error is in OTHER (relative to the
                                     fixture), e.g. an @included rule file
    # expect: 0 FRAGMENT             no line to name: FILE: …FRAGMENT…
The fixtures double as seeds for tests/fuzz/fuzz_config.
"""

import glob
import os
import re
import subprocess
import unittest

from tests.lib import harness

FIXTURES = os.path.join(harness.ROOT, "tests", "fixtures", "config-errors")
EXPECT = re.compile(r"^# expect: (?:(?P<file>[^ :]+):)?(?P<line>\d+) (?P<frag>.+)$")
MIN_CASES = 40
# libconfig's own leak on one kind of syntax error (see the file).
LSAN_SUPP = os.path.join(harness.ROOT, "tests", "fuzz", "lsan.supp")


def fixtures():
    return sorted(glob.glob(os.path.join(FIXTURES, "*.conf")))


def expectation(path):
    with open(path, "rb") as f:
        first = f.readline().decode("utf-8").rstrip("\n")
    m = EXPECT.match(first)
    if not m:
        raise AssertionError("%s: first line is not '# expect: LINE FRAGMENT'" % path)
    where = path
    if m.group("file"):
        where = os.path.join(os.path.dirname(path), m.group("file"))
    return os.path.realpath(where), int(m.group("line")), m.group("frag")


def run(argv):
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1",
               LSAN_OPTIONS="suppressions=" + LSAN_SUPP)
    p = subprocess.run(argv, capture_output=True, timeout=30, env=env,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stderr.decode("utf-8", "replace")


def error_lines(stderr, where, line):
    """The stderr lines that report an error at where:line (or where: when
    line is 0), with the file name resolved as the program printed it."""
    found = []
    for text in stderr.splitlines():
        m = re.match(r"^(.+?):(\d+): (.*)$", text) if line else re.match(r"^(.+?): (.*)$", text)
        if not m or os.path.realpath(m.group(1)) != where:
            continue
        if line and int(m.group(2)) != line:
            continue
        found.append(m.groups()[-1])
    return found


class ConfigErrors(unittest.TestCase):
    def setUp(self):
        for prog in ("cpecwatch", "cpecwatchd"):
            if not os.access(os.path.join(harness.build_dir(), prog), os.X_OK):
                self.skipTest("no %s in %s" % (prog, harness.build_dir()))

    def test_table_is_large_enough(self):
        self.assertGreaterEqual(len(fixtures()), MIN_CASES)

    def check(self, argv, path):
        where, line, frag = expectation(path)
        rc, err = run(argv)
        for mark in harness.SANITIZER_MARKS:
            self.assertNotIn(mark, err)
        self.assertEqual(rc, 2, "exit %s, stderr:\n%s" % (rc, err))
        messages = error_lines(err, where, line)
        self.assertTrue(messages, "no '%s:%s: ' error in:\n%s" % (where, line, err))
        self.assertTrue(any(frag in m for m in messages),
                        "no error containing %r in:\n%s" % (frag, err))

    def test_cpecwatch_check(self):
        tool = os.path.join(harness.build_dir(), "cpecwatch")
        for path in fixtures():
            with self.subTest(fixture=os.path.basename(path)):
                self.check([tool, "check", "-c", path], path)

    def test_cpecwatchd(self):
        daemon = os.path.join(harness.build_dir(), "cpecwatchd")
        for path in fixtures():
            with self.subTest(fixture=os.path.basename(path)):
                self.check([daemon, "-c", path, "--once", "--dry-run"], path)


if __name__ == "__main__":
    unittest.main()
