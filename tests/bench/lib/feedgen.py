"""Generated RSS 2.0 feeds for the poll, idle and state benchmarks.

Every feed is a file NAME.xml of English news items assembled from small
phrase tables with a fixed seed, so every run serves the same stories (the
dates follow the clock, so that incidents are recent). Most items are the
ordinary news a feed carries; a share of them report one of a few dozen
security incidents in the corridor, each incident reported by many feeds
in different words, some with a higher toll later, so that matching,
grouping (one alert per incident, updates) and delivery all do real work.

Python 3 standard library only.
"""

import email.utils
import os
import random
import time
from xml.sax.saxutils import escape

SEED = 20250326

# Ordinary news: none of these words is in a rule's term group.
NEWS_SUBJ = ["The provincial cabinet", "The State Bank", "The cricket board", "Traders",
             "Farmers", "University students", "The city council", "Exporters", "Doctors",
             "The weather office", "Teachers", "The stock exchange", "Textile mills",
             "The railway ministry", "A film festival", "Hockey players", "Wheat growers",
             "The tax authority", "Bus operators", "A local charity"]
NEWS_VERB = ["approves new budget for", "announces results in", "opens a library in",
             "raises fares in", "celebrates record harvest near", "plans new hospital in",
             "cuts interest rates for", "hosts a book fair in", "names new squad after trials in",
             "reports higher exports from", "lays foundation of a school in",
             "launches tree planting in", "extends deadline for shops in",
             "signs water deal for", "restores old market in"]
NEWS_PLACE = ["Lahore", "Multan", "Faisalabad", "Sialkot", "Bahawalpur", "Sahiwal", "Gujranwala",
              "Rawalpindi", "Jhelum", "Sargodha", "Okara", "Kasur"]
NEWS_TAIL = ["on Monday", "after long talks", "as prices ease", "before the holidays",
             "for the third year", "amid light rain", "despite late delays", "this week",
             "with wide support", "ahead of the summer"]
NEWS_BODY = ["Officials said the plan would be reviewed next month and that residents could send "
             "their comments to the district office.",
             "The decision follows months of consultation with local groups, who welcomed the "
             "news but asked for clearer timelines.",
             "Figures released on the same day showed a modest rise compared with last year, "
             "in line with market expectations.",
             "Organisers expect thousands of visitors and have arranged extra buses from the "
             "main terminal to the venue."]

# Incidents: target, place (with its province), how, and the toll.
INC_TARGET = ["Chinese engineers", "Chinese nationals", "a convoy of Chinese workers",
              "Chinese staff of a CPEC project", "police escorting Chinese workers"]
INC_PLACE = ["Gwadar", "Turbat", "Quetta", "Besham", "Dasu", "Karachi", "Hyderabad", "Bannu",
             "Peshawar", "Chilas", "Khuzdar", "Mastung", "Sukkur", "Gilgit", "Panjgur"]
INC_HOW = [("a suicide bomber", "Suicide"), ("a car bomb", "Car bomb"),
           ("a roadside bomb", "Roadside bomb"), ("gunmen", "Gun")]
INC_TITLES = [
    "{Killed} killed as {how} hit {target} near {place}",
    "{How} attack on {target} in {place} leaves {killed} dead",
    "{place}: {killed} dead after {how} struck {target}",
    "Attack on {target} near {place}, {killed} killed",
]
# Details that make each incident's wire copy its own text (outlets reuse
# the copy of an incident; different incidents read differently).
INC_WHEN = ["Early on Monday", "Late on Tuesday", "Before dawn on Wednesday", "On Thursday evening",
            "Around noon on Friday", "On Saturday morning", "Late on Sunday night"]
INC_ROAD = ["the coastal highway", "a market road", "the airport road", "a bridge over the river",
            "the link road to the dam", "a checkpoint outside the town", "the old bypass",
            "a narrow mountain pass", "the road to the port", "a busy bazaar"]
INC_VEHICLE = ["a minibus", "two jeeps", "a convoy of four vehicles", "a pickup truck",
               "a company coaster", "an armoured van", "a rented car"]
INC_SOURCE = ["the deputy commissioner", "a police spokesman", "hospital officials",
              "the district administration", "a senior superintendent of police",
              "rescue workers", "the provincial home department"]
INC_AFTER = ["The area was cordoned off and a search operation began.",
             "Ambulances took the wounded to the district hospital.",
             "Traffic on the route was suspended for several hours.",
             "Investigators collected evidence from the scene.",
             "Extra police were deployed at nearby sites.",
             "Shops in the area closed for the day."]
INC_BODY = ("{when}, a {how} struck {target} travelling in {vehicle} on {road} near {place}. "
            "{source} said {killed} people were killed and {injured} injured. {after}")


def _item(guid, link, title, body, when):
    return ("  <item>\n"
            "    <title>%s</title>\n"
            "    <link>%s</link>\n"
            "    <guid isPermaLink=\"false\">%s</guid>\n"
            "    <pubDate>%s</pubDate>\n"
            "    <description>%s</description>\n"
            "  </item>\n" % (escape(title), escape(link), escape(guid),
                             email.utils.formatdate(when, usegmt=True), escape(body)))


def _news(rng):
    title = " ".join([rng.choice(NEWS_SUBJ), rng.choice(NEWS_VERB), rng.choice(NEWS_PLACE),
                      rng.choice(NEWS_TAIL)])
    return title, rng.choice(NEWS_BODY) + " " + rng.choice(NEWS_BODY)


def incidents(rng, count, now, span=86400):
    """count incidents within span seconds before now: dicts of what every
    report of one incident shares."""
    out = []
    for k in range(count):
        out.append({"place": INC_PLACE[k % len(INC_PLACE)], "target": rng.choice(INC_TARGET),
                    "how": rng.choice(INC_HOW), "killed": rng.randint(1, 6),
                    "injured": rng.randint(2, 20), "when": now - rng.randint(3600, span),
                    "detail": {"when": rng.choice(INC_WHEN), "road": rng.choice(INC_ROAD),
                               "vehicle": rng.choice(INC_VEHICLE),
                               "source": rng.choice(INC_SOURCE).capitalize(),
                               "after": rng.choice(INC_AFTER)}})
    return out


def _report(rng, inc):
    """One outlet's report of an incident; one in five has a higher toll."""
    killed = inc["killed"] + (rng.randint(1, 3) if rng.random() < 0.2 else 0)
    words = {"how": inc["how"][0], "How": inc["how"][1], "target": inc["target"],
             "place": inc["place"], "killed": killed, "Killed": killed, "injured": inc["injured"]}
    words.update(inc["detail"])
    title = rng.choice(INC_TITLES).format(**words)
    return title[0].upper() + title[1:], INC_BODY.format(**words)


def feed_text(name, n_items, rng, incs, share, now):
    """The RSS document of feed name: n_items items, newest first, a share
    of them reports of incidents in incs."""
    parts = ['<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0">\n<channel>\n'
             "  <title>Bench outlet %s</title>\n  <link>http://bench.invalid/%s/</link>\n"
             "  <description>Generated for the cpecwatch benchmarks</description>\n" % (name, name)]
    for i in range(n_items - 1, -1, -1):
        guid = "%s-%d" % (name, i)
        link = "http://bench.invalid/%s/%d.html" % (name, i)
        if incs and rng.random() < share:
            inc = rng.choice(incs)
            title, body = _report(rng, inc)
            when = inc["when"] + rng.randint(60, 6 * 3600)
        else:
            title, body = _news(rng)
            when = now - 60 * (n_items - i) - rng.randint(0, 59)
        parts.append(_item(guid, link, title, body, min(when, now)))
    parts.append("</channel>\n</rss>\n")
    return "".join(parts)


def write_feeds(directory, n_feeds, n_items, n_incidents=40, share=0.05, span=86400,
                prefix="f", seed=SEED):
    """Write n_feeds files PREFIX00000.xml ... into directory, n_items each,
    a share of them reports of n_incidents incidents within span seconds
    before now; return the feed names."""
    now = int(time.time())
    rng = random.Random(seed)
    incs = incidents(random.Random(seed + 1), n_incidents, now, span) if n_incidents else []
    os.makedirs(directory, exist_ok=True)
    os.chmod(directory, 0o755)   # nginx's workers read it as another user when run as root
    os.chmod(os.path.dirname(os.path.abspath(directory)), 0o755)
    names = []
    for k in range(n_feeds):
        name = "%s%05d" % (prefix, k)
        text = feed_text(name, n_items, rng, incs, share, now)
        with open(os.path.join(directory, name + ".xml"), "w", encoding="utf-8") as f:
            f.write(text)
        names.append(name)
    return names
