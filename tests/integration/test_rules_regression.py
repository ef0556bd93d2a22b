"""Rule regression cases (tests/rules/, see its README.md): every feed file
there is run through `cpecwatch match` with the shipped ruleset, and each
item's severity, killed, injured and province are compared with the line
of the same id in the feed's .expect file, and its tags when the line has
a sixth column. Every item must have a line and every line an item. One
subtest per item; a failure names the item, its title, and each field that
differs.
"""

import glob
import json
import os
import subprocess
import unittest

from tests.lib import harness

RULES_DIR = os.path.join(harness.ROOT, "tests", "rules")
CONF = os.path.join(harness.ROOT, "etc", "cpecwatch.conf")
FIELDS = ("severity", "killed", "injured", "province")
OPTIONAL = ("tags",)   # a sixth column: the item's tags, any order
SEVERITIES = ("none", "low", "medium", "high", "critical")


def parse_value(field, text):
    """'*' = not checked (returned as ...), '-' = null (no tags), numbers for
    tolls, a sorted list for tags (space-separated)."""
    if text == "*":
        return ...
    if text == "-":
        return [] if field == "tags" else None
    if field in ("killed", "injured"):
        return int(text)
    if field == "tags":
        tags = text.split()
        if len(set(tags)) != len(tags):
            raise ValueError("a tag is listed twice in %r" % text)
        return sorted(tags)
    if field == "severity" and text not in SEVERITIES:
        raise ValueError("unknown severity %r" % text)
    return text


def read_expect(path):
    """{id: {field: value}} from an .expect file; raises on a malformed line."""
    cases = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            cols = [c.strip() for c in line.split("|")]
            if len(cols) not in (1 + len(FIELDS), 1 + len(FIELDS) + len(OPTIONAL)):
                raise ValueError("%s:%d: want %d or %d columns separated by '|'"
                                 % (path, n, 1 + len(FIELDS), 1 + len(FIELDS) + len(OPTIONAL)))
            if cols[0] in cases:
                raise ValueError("%s:%d: duplicate id %s" % (path, n, cols[0]))
            try:
                case = dict.fromkeys(OPTIONAL, ...)
                case.update({k: parse_value(k, v) for k, v in zip(FIELDS + OPTIONAL, cols[1:])})
                cases[cols[0]] = case
            except ValueError as e:
                raise ValueError("%s:%d: %s" % (path, n, e))
    return cases


def feed_of(expect_path):
    stem = expect_path[: -len(".expect")]
    found = [p for p in glob.glob(stem + ".*") if not p.endswith(".expect")]
    if len(found) != 1:
        raise ValueError("%s: want exactly one feed file beside it, found %s" % (expect_path, found))
    return found[0]


def run_match(feed):
    binary = os.path.join(harness.build_dir(), "cpecwatch")
    p = subprocess.run([binary, "match", "-c", CONF, feed], capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError("cpecwatch match %s: exit %d: %s" % (feed, p.returncode, p.stderr))
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


class RuleRegression(unittest.TestCase):
    def setUp(self):
        binary = os.path.join(harness.build_dir(), "cpecwatch")
        if not os.access(binary, os.X_OK):
            self.skipTest("no cpecwatch binary at %s" % binary)

    def test_expect_files_parse(self):
        """A broken .expect line is an error, not a silently skipped case."""
        paths = sorted(glob.glob(os.path.join(RULES_DIR, "*.expect")))
        self.assertGreaterEqual(len(paths), 1)
        total = sum(len(read_expect(p)) for p in paths)
        self.assertGreaterEqual(total, 60)

    def test_cases(self):
        for path in sorted(glob.glob(os.path.join(RULES_DIR, "*.expect"))):
            cases = read_expect(path)
            feed = feed_of(path)
            items = run_match(feed)
            got_ids = [o["id"] for o in items]
            name = os.path.basename(feed)
            with self.subTest(feed=name, check="ids"):
                self.assertEqual(sorted(got_ids), sorted(cases), "items and .expect lines differ")
            for o in items:
                want = cases.get(o["id"])
                if want is None:
                    continue
                with self.subTest(feed=name, id=o["id"]):
                    got = dict(o, tags=sorted(o.get("tags", [])))
                    diffs = ["%s: want %r got %r" % (k, want[k], got.get(k)) for k in FIELDS + OPTIONAL
                             if want[k] is not ... and got.get(k) != want[k]]
                    self.assertEqual(diffs, [], "%s | %s" % (o["id"], o["title"]))


if __name__ == "__main__":
    unittest.main()
