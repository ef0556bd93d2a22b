#!/usr/bin/env python3
"""Write an RSS 2.0 feed of at least SIZE bytes to FILE, for bench_parse.
Items are made from a fixed vocabulary with a seeded generator, so every
run writes the same bytes: titles with entities, descriptions holding
escaped HTML, RFC 822 dates, guids, some Urdu and Chinese text.
Usage: genfeed.py FILE SIZE_BYTES"""

import random
import sys

WORDS = ("attack convoy engineers Chinese CPEC project Gwadar Balochistan Karachi police said "
         "militants security forces road power plant corridor district officials killed injured "
         "suicide bomber explosives vehicle checkpoint Dasu Khyber Pakhtunkhwa Peshawar Quetta "
         "province government ministry workers hydropower port motorway investigation claimed "
         "responsibility statement spokesman".split())
LOCAL = ("گوادر میں چینی انجینئرز کے قافلے پر حملہ", "瓜达尔 中国 工程师 车队 遇袭")
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def sentence(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def item(rng, i):
    title = "%s &amp; %s &#8212; %s" % (sentence(rng, 6)[:-1], rng.choice(WORDS), rng.choice(WORDS))
    paras = "".join("&lt;p&gt;%s &lt;b&gt;%s&lt;/b&gt; %s&lt;/p&gt;"
                    % (sentence(rng, 12), rng.choice(WORDS), sentence(rng, 10))
                    for _ in range(2))
    if i % 7 == 0:
        paras += "&lt;p&gt;%s&lt;/p&gt;" % rng.choice(LOCAL)
    date = "%s, %02d %s 2025 %02d:%02d:%02d +0500" % (
        rng.choice(DAYS), rng.randint(1, 28), rng.choice(MONTHS),
        rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))
    return ("<item><title>%s</title><link>https://news.example/%d/story-%d</link>"
            '<guid isPermaLink="false">bench-%d</guid><pubDate>%s</pubDate>'
            "<dc:creator>Staff reporter</dc:creator><description>%s</description></item>\n"
            % (title, 2025, i, i, date, paras))


def main():
    path, size = sys.argv[1], int(sys.argv[2])
    rng = random.Random(20250701)
    head = ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>\n'
            "<title>Bench wire</title><link>https://news.example/</link>"
            "<description>generated</description>\n")
    written = 0
    with open(path, "w", encoding="utf-8") as f:
        written += f.write(head)
        i = 0
        while written < size:
            text = item(rng, i)
            f.write(text)
            written += len(text.encode("utf-8"))
            i += 1
        f.write("</channel></rss>\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
