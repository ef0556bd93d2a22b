"""`make install` into a DESTDIR: every file in its place with its mode, an
edited configuration kept, man pages that render without a warning and
document every option, setting and exit status, and the installed unit
checked by `systemd-analyze verify` and rated by `systemd-analyze security
--offline=true` (exposure at most 1.5)."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))

import harness  # noqa: E402

ROOT = harness.ROOT
PREFIX = "/usr"
EXPECTED = {   # path under DESTDIR: mode
    "usr/bin/cpecwatchd": 0o755,
    "usr/bin/cpecwatch": 0o755,
    "etc/cpecwatch/cpecwatch.conf": 0o644,
    "etc/cpecwatch/rules.conf": 0o644,
    "lib/systemd/system/cpecwatch.service": 0o644,
    "usr/lib/systemd/catalog/cpecwatch.catalog": 0o644,
    "usr/share/man/man1/cpecwatch.1": 0o644,
    "usr/share/man/man5/cpecwatch.conf.5": 0o644,
    "usr/share/man/man8/cpecwatchd.8": 0o644,
}
PAGES = ["usr/share/man/man1/cpecwatch.1", "usr/share/man/man5/cpecwatch.conf.5",
         "usr/share/man/man8/cpecwatchd.8"]
MAX_EXPOSURE = 1.5


def source(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def string_array(text, start):
    """The string literals of the C array that begins at the first match of
    the regex start (up to its closing brace)."""
    m = re.search(start, text)
    if not m:
        raise AssertionError("no %r in the source" % start)
    body = text[m.end():text.index("}", m.end())]
    return re.findall(r'"([^"]+)"', body)


class InstallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dest = tempfile.mkdtemp(prefix="cpecwatch-install-")
        cls.install = subprocess.run(["make", "-s", "-C", ROOT, "install", "DESTDIR=" + cls.dest,
                                      "PREFIX=" + PREFIX], capture_output=True, text=True, timeout=600)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dest, ignore_errors=True)

    def setUp(self):
        self.assertEqual(self.install.returncode, 0, self.install.stdout + self.install.stderr)

    def path(self, rel):
        return os.path.join(self.dest, rel)

    def installed(self):
        found = {}
        for top, _, files in os.walk(self.dest):
            for name in files:
                full = os.path.join(top, name)
                found[os.path.relpath(full, self.dest)] = os.stat(full).st_mode & 0o777
        return found

    def test_every_file_in_its_place(self):
        self.assertEqual(self.installed(), EXPECTED)
        for rel, src in [("etc/cpecwatch/cpecwatch.conf", "etc/cpecwatch.conf"),
                         ("etc/cpecwatch/rules.conf", "etc/rules.conf"),
                         ("usr/share/man/man8/cpecwatchd.8", "docs/man/cpecwatchd.8")]:
            with open(self.path(rel), encoding="utf-8") as f:
                self.assertEqual(f.read(), source(src), rel)
        with open(self.path("lib/systemd/system/cpecwatch.service"), encoding="utf-8") as f:
            unit = f.read()
        self.assertEqual(unit, source("systemd/cpecwatch.service").replace("@BINDIR@", PREFIX + "/bin")
                         .replace("@SYSCONFDIR@", "/etc"))
        self.assertNotRegex(unit, r"@[A-Z]+@")
        p = subprocess.run([self.path("usr/bin/cpecwatch"), "check", "-c", self.path("etc/cpecwatch/cpecwatch.conf")],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_an_edited_configuration_is_kept(self):
        dest = tempfile.mkdtemp(prefix="cpecwatch-reinstall-")
        self.addCleanup(shutil.rmtree, dest, True)
        conf = os.path.join(dest, "etc/cpecwatch/cpecwatch.conf")
        rules = os.path.join(dest, "etc/cpecwatch/rules.conf")
        make = ["make", "-s", "-C", ROOT, "install", "DESTDIR=" + dest, "PREFIX=" + PREFIX]
        self.assertEqual(subprocess.run(make, capture_output=True, timeout=600).returncode, 0)
        with open(conf, "a", encoding="utf-8") as f:
            f.write("# edited by the operator\n")
        with open(rules, "a", encoding="utf-8") as f:
            f.write("# a stale ruleset\n")
        p = subprocess.run(make, capture_output=True, text=True, timeout=600)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(conf, encoding="utf-8") as f:
            self.assertEqual(f.read(), source("etc/cpecwatch.conf") + "# edited by the operator\n")
        with open(rules, encoding="utf-8") as f:
            self.assertEqual(f.read(), source("etc/rules.conf"), "the ruleset is replaced")

    def render(self, rel):
        p = subprocess.run(["man", "--warnings", "-l", self.path(rel)], capture_output=True, text=True,
                           timeout=60, env=dict(os.environ, MANWIDTH="200", MAN_KEEP_FORMATTING=""))
        return p

    def test_man_pages_render_without_warnings(self):
        if shutil.which("man") is None:
            self.skipTest("man (man-db) is not installed: make deps")
        for rel in PAGES:
            p = self.render(rel)
            self.assertEqual((p.returncode, p.stderr), (0, ""), rel)
            name = os.path.basename(rel).rsplit(".", 1)[0]
            self.assertRegex(p.stdout, r"(?m)^NAME\n +%s - " % re.escape(name), rel)
            self.assertIn("SEE ALSO", p.stdout, rel)

    def test_man_pages_document_every_option_setting_and_exit_status(self):
        if shutil.which("man") is None:
            self.skipTest("man (man-db) is not installed: make deps")
        text = {rel: re.sub(r"\s+", " ", self.render(rel).stdout) for rel in PAGES}
        conf, tool, daemon = text[PAGES[1]], text[PAGES[0]], text[PAGES[2]]
        config_c, rules_c = source("src/config.c"), source("src/rules.c")
        keys = (string_array(config_c, r"config_own_keys\[\] = \{")
                + string_array(rules_c, r"ruleset_config_keys\[\] = \{")
                + string_array(rules_c, r"rule_keys\[\] = \{")
                + string_array(rules_c, r"tagdef_keys\[\] = \{")
                + string_array(config_c, r"load_feeds\(.*\n(?:.*\n)*?.*keys\[\] = \{")
                + string_array(config_c, r"load_sinks\(.*\n(?:.*\n)*?.*keys\[\] = \{")
                + ["province", "places", "@include"])
        self.assertGreater(len(keys), 40)
        for key in keys:
            self.assertRegex(conf, r"(?<![\w-])%s(?![\w-])" % re.escape(key), "cpecwatch.conf(5) lacks " + key)
        daemon_opts = re.findall(r'\{ "([a-z-]+)", (?:required|no)_argument', source("src/cpecwatchd.c"))
        self.assertEqual(sorted(daemon_opts), ["config", "dry-run", "help", "once", "state-dir", "verbose"])
        for opt in daemon_opts:
            self.assertIn("--" + opt, daemon, "cpecwatchd(8) lacks --" + opt)
        tool_c = source("src/cpecwatch.c")
        commands = re.findall(r'\{ "([a-z-]+)", cmd_', tool_c)
        self.assertGreaterEqual(len(commands), 8)
        for cmd in commands + ["silence add", "silence list", "silence remove"]:
            self.assertIn("cpecwatch " + cmd, tool, "cpecwatch(1) lacks " + cmd)
        for opt in set(re.findall(r'\{ "([a-z-]+)", (?:required|no)_argument', tool_c)):
            self.assertIn("--" + opt, tool, "cpecwatch(1) lacks --" + opt)
        for page in (tool, daemon):
            self.assertRegex(page, r"EXIT STATUS 0 .* 1 .* 2 ")

    # ------------------------------------------------------ systemd-analyze

    def unit_with_installed_paths(self):
        """The installed unit with its paths pointing into DESTDIR, so that
        verify finds the binaries; its man pages are found through MANPATH."""
        with open(self.path("lib/systemd/system/cpecwatch.service"), encoding="utf-8") as f:
            unit = f.read()
        unit = unit.replace(PREFIX + "/bin/", self.path("usr/bin/")).replace("/etc/cpecwatch/",
                                                                             self.path("etc/cpecwatch/"))
        d = tempfile.mkdtemp(prefix="cpecwatch-unit-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "cpecwatch.service")
        with open(path, "w", encoding="utf-8") as f:
            f.write(unit)
        return path

    def analyze(self, *args):
        if shutil.which("systemd-analyze") is None:
            self.skipTest("systemd-analyze is not installed (Debian package systemd): make deps")
        env = dict(os.environ, MANPATH=self.path("usr/share/man"), SYSTEMD_COLORS="0", SYSTEMD_PAGER="")
        return subprocess.run(["systemd-analyze", *args], capture_output=True, text=True, timeout=120, env=env)

    def test_systemd_analyze_verify_is_clean(self):
        unit = self.unit_with_installed_paths()
        p = self.analyze("verify", unit)
        self.assertEqual((p.returncode, p.stdout, p.stderr), (0, "", ""))
        # it does check: without the installed man pages the Documentation= line fails
        os.rename(self.path("usr/share/man"), self.path("usr/share/man.away"))
        try:
            p = self.analyze("verify", unit)
        finally:
            os.rename(self.path("usr/share/man.away"), self.path("usr/share/man"))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("man cpecwatchd(8)", p.stderr)

    def test_systemd_analyze_security_exposure(self):
        p = self.analyze("security", "--offline=true", "--no-pager", self.unit_with_installed_paths())
        m = re.search(r"Overall exposure level for cpecwatch\.service: (\d+\.\d+) (\w+)", p.stdout)
        self.assertIsNotNone(m, p.stdout[-2000:] + p.stderr)
        self.assertLessEqual(float(m.group(1)), MAX_EXPOSURE, p.stdout)
        self.assertEqual(m.group(2), "OK")


if __name__ == "__main__":
    unittest.main()
