"""`cpecwatch parse`: the contract line by line, HTML values kept and
sanitised by default, plain text with --text, standard input, and a clear
error (exit 1, the other files still printed) for a file that is no feed."""

import json
import os
import subprocess
import tempfile
import unittest

from tests.lib import harness

RSS = """<?xml version="1.0" encoding="windows-1252"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Wire &amp; Co</title>
<item><title>Blast near &lt;b&gt;Dasu&lt;/b&gt; convoy</title><link>https://wire.example/a?utm_source=x</link>
<guid isPermaLink="false">w-1</guid><pubDate>Wed, 14 Jul 2021 08:30:00 +0500</pubDate><dc:creator>Desk</dc:creator>
<description><![CDATA[<P onclick="x()">Nine Chinese engineers killed<script>track()</script><br/>caf\xe9 &rsquo;s</P>]]></description>
</item></channel></rss>
""".encode("cp1252")

ATOM = b"""<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://news.example/asia/">
<title>N</title><entry><id>tag:n,1</id><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">
Attack in <a href="gwadar.html">Gwadar</a></div></title><updated>2024-03-20T10:00:00Z</updated></entry></feed>"""


def run(*args, stdin=None):
    p = subprocess.run([os.path.join(harness.build_dir(), "cpecwatch"), "parse", *args], input=stdin,
                       capture_output=True, timeout=30)
    return p.returncode, [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()], \
        p.stderr.decode()


class ParseTool(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.rss = os.path.join(self.dir.name, "wire.xml")
        self.atom = os.path.join(self.dir.name, "news.atom")
        with open(self.rss, "wb") as f:
            f.write(RSS)
        with open(self.atom, "wb") as f:
            f.write(ATOM)

    def tearDown(self):
        self.dir.cleanup()

    def test_html_kept_and_sanitised_by_default(self):
        rc, lines, err = run(self.rss, self.atom)
        self.assertEqual(rc, 0, err)
        self.assertEqual(lines[0], {"feed": {"title": "Wire & Co"}})
        item = lines[1]
        self.assertEqual(set(item), {"title", "link", "id", "published", "updated", "summary", "author"})
        self.assertEqual(item["title"], "Blast near <b>Dasu</b> convoy")
        self.assertEqual(item["summary"], "<p>Nine Chinese engineers killed<br />caf\u00e9 &rsquo;s</p>")
        self.assertEqual(item["id"], "w-1")
        self.assertEqual(item["link"], "https://wire.example/a?utm_source=x")
        self.assertEqual(item["published"], "2021-07-14T03:30:00Z")
        self.assertIsNone(item["updated"])
        self.assertEqual(item["author"], "Desk")
        self.assertEqual(lines[2], {"feed": {"title": "N"}})
        self.assertEqual(lines[3]["title"], 'Attack in <a href="https://news.example/asia/gwadar.html">Gwadar</a>')
        self.assertEqual(lines[3]["updated"], "2024-03-20T10:00:00Z")

    def test_text_is_what_the_rules_read(self):
        rc, lines, err = run("--text", self.rss)
        self.assertEqual(rc, 0, err)
        self.assertEqual(lines[1]["title"], "Blast near Dasu convoy")
        self.assertEqual(lines[1]["summary"], "Nine Chinese engineers killed caf\u00e9 \u2019s")

    def test_standard_input(self):
        rc, lines, err = run("-", stdin=ATOM)
        self.assertEqual(rc, 0, err)
        self.assertEqual(lines[1]["id"], "tag:n,1")

    def test_a_file_that_is_no_feed(self):
        bad = os.path.join(self.dir.name, "page.html")
        with open(bad, "w") as f:
            f.write("<html><body>not a feed</body></html>")
        rc, lines, err = run(bad, self.atom)
        self.assertEqual(rc, 1)
        self.assertIn("page.html", err)
        self.assertEqual(lines[0], {"feed": {"title": "N"}}, "the other file is still printed")


if __name__ == "__main__":
    unittest.main()
