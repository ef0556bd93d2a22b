/* render.c — see render.h. One function per service, all built from the
 * same facts; jansson does the JSON escaping, this file the markup
 * escaping and the cutting. */
#include "render.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "util.h"

#define RENDER_MAX_LINKS 5
#define ELLIPSIS "\xe2\x80\xa6"   /* U+2026, one UTF-16 unit */

/* What every message shows, read once from the alert. */
struct facts {
    const char *kind, *severity, *title, *link, *summary, *feed, *province, *incident, *detected;
    long long killed, injured, version, n_sources;
    const char *links[RENDER_MAX_LINKS];   /* the report first, then other sources */
    size_t n_links;
    char *changes;                         /* "" unless an update says what changed */
};

size_t render_units(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p & 0xc0) != 0x80)
            n++;
        if (*p >= 0xf0)
            n++;   /* outside the BMP: a surrogate pair */
    }
    return n;
}

/* s cut to max units with an ellipsis; markup: never leave half an "&…;"
 * entity behind. */
static char *cut_text(const char *s, size_t max, bool markup)
{
    if (render_units(s) <= max)
        return xstrdup(s);
    if (max == 0)
        return xstrdup("");
    size_t units = 0, end = 0;
    const unsigned char *p = (const unsigned char *)s;
    /* keep max-1 units and add the ellipsis */
    for (size_t i = 0; p[i]; i++) {
        if ((p[i] & 0xc0) == 0x80)
            continue;
        size_t u = p[i] >= 0xf0 ? 2 : 1;
        if (units + u > max - 1)
            break;
        units += u;
        end = i + 1;
        while ((p[end] & 0xc0) == 0x80)
            end++;
    }
    for (size_t back = 1; markup && back <= 8 && back <= end; back++) {
        char c = s[end - back];
        if (c == ';')
            break;
        if (c == '&') {
            end -= back;
            break;
        }
    }
    struct sbuf b = {0};
    sbuf_append(&b, s, end);
    sbuf_puts(&b, ELLIPSIS);
    return sbuf_steal(&b);
}

char *render_cut(const char *s, size_t max)
{
    return cut_text(s, max, false);
}

/* --------------------------------------------------------------- facts */

static void scalar_text(struct sbuf *b, const json_t *v)
{
    if (json_is_string(v))
        sbuf_puts(b, json_string_value(v));
    else if (json_is_integer(v))
        sbuf_printf(b, "%lld", (long long)json_integer_value(v));
    else if (!v || json_is_null(v))
        sbuf_puts(b, "none");
    else {
        char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        sbuf_puts(b, t ? t : "?");
        free(t);
    }
}

/* One change: "text", {"text": …}, {"fact", "from", "to"}, or anything
 * else as JSON. */
static void change_text(struct sbuf *b, const char *key, const json_t *c)
{
    const json_t *field = json_object_get(c, "fact");
    if (json_is_string(json_object_get(c, "text"))) {
        sbuf_puts(b, json_string_value(json_object_get(c, "text")));
        return;
    }
    if (key) {
        sbuf_printf(b, "%s: ", key);
    } else if (json_is_string(field)) {
        sbuf_printf(b, "%s: ", json_string_value(field));
    }
    if (json_is_object(c) && (json_object_get(c, "from") || json_object_get(c, "to"))) {
        scalar_text(b, json_object_get(c, "from"));
        sbuf_puts(b, " \xe2\x86\x92 ");   /* → */
        scalar_text(b, json_object_get(c, "to"));
    } else
        scalar_text(b, c);
}

/* The alert's "changes" (array or object), one change per line. */
static char *changes_text(const json_t *changes)
{
    struct sbuf b = {0};
    const char *key;
    const json_t *v;
    size_t i;
    if (json_is_array(changes)) {
        json_array_foreach(changes, i, v) {
            if (b.len)
                sbuf_putc(&b, '\n');
            change_text(&b, NULL, v);
        }
    } else if (json_is_object(changes)) {
        json_object_foreach((json_t *)changes, key, v) {
            if (b.len)
                sbuf_putc(&b, '\n');
            change_text(&b, key, v);
        }
    } else if (json_is_string(changes))
        sbuf_puts(&b, json_string_value(changes));
    return sbuf_steal(&b);
}

static const char *source_link(const json_t *s)
{
    if (json_is_string(s))
        return json_string_value(s);
    const char *l = json_string_value(json_object_get(s, "link"));
    return l ? l : json_string_value(json_object_get(s, "url"));
}

static void add_link(struct facts *f, const char *link)
{
    if (!link || !url_is_http(link) || f->n_links == RENDER_MAX_LINKS)
        return;
    for (size_t i = 0; i < f->n_links; i++)
        if (strcmp(f->links[i], link) == 0)
            return;
    f->links[f->n_links++] = link;
}

long long render_source_count(const json_t *alert)
{
    const json_t *sources = json_object_get(alert, "sources");
    if (json_is_array(sources) && json_array_size(sources) > 0)
        return (long long)json_array_size(sources);
    if (json_is_integer(sources) && json_integer_value(sources) > 0)
        return json_integer_value(sources);
    return 1;
}

static void facts_read(struct facts *f, const json_t *a)
{
    const json_t *sources = json_object_get(a, "sources");
    *f = (struct facts){
        .kind = alert_str(a, "kind"), .severity = alert_str(a, "severity"),
        .title = alert_str(a, "title"), .link = alert_str(a, "link"),
        .summary = alert_str(a, "summary"), .feed = alert_str(a, "feed"),
        .province = alert_str(a, "province"), .incident = alert_str(a, "incident"),
        .detected = alert_str(a, "detected"),
        .killed = alert_int(a, "killed"), .injured = alert_int(a, "injured"),
        .version = alert_int(a, "version"), .n_sources = render_source_count(a),
    };
    if (!*f->title)
        f->title = "(untitled)";
    add_link(f, f->link);
    size_t i;
    const json_t *s;
    json_array_foreach(sources, i, s)
        add_link(f, source_link(s));
    f->changes = changes_text(json_object_get(a, "changes"));
}

static bool is_source_alert(const struct facts *f)
{
    return strncmp(f->kind, "source-", 7) == 0;
}

/* "CRITICAL", "UPDATE · HIGH", "SOURCE DOWN" */
static void label(struct sbuf *b, const struct facts *f)
{
    const char *s = is_source_alert(f) ? f->kind : f->severity;
    if (strcmp(f->kind, "update") == 0)
        sbuf_puts(b, "UPDATE \xc2\xb7 ");
    for (; *s; s++)
        sbuf_putc(b, *s == '-' ? ' ' : (char)toupper((unsigned char)*s));
}

static char *label_text(const struct facts *f)
{
    struct sbuf b = {0};
    label(&b, f);
    return sbuf_steal(&b);
}

static void count_text(struct sbuf *b, long long n)
{
    if (n >= 0)
        sbuf_printf(b, "%lld", n);
    else
        sbuf_puts(b, "not reported");
}

static char *place_text(const struct facts *f)
{
    return xstrdup(*f->province ? f->province : "not reported");
}

static char *toll_text(const struct facts *f)
{
    struct sbuf b = {0};
    sbuf_puts(&b, "killed ");
    count_text(&b, f->killed);
    sbuf_puts(&b, ", injured ");
    count_text(&b, f->injured);
    return sbuf_steal(&b);
}

/* "Place: Sindh · killed 2, injured 17 · 3 sources" */
static void facts_line(struct sbuf *b, const struct facts *f)
{
    char *place = place_text(f), *toll = toll_text(f);
    sbuf_printf(b, "Place: %s \xc2\xb7 %s \xc2\xb7 %lld source%s", place, toll, f->n_sources,
                f->n_sources == 1 ? "" : "s");
    free(place);
    free(toll);
}

static char *footer_text(const struct facts *f)
{
    struct sbuf b = {0};
    sbuf_printf(&b, "cpecwatch \xc2\xb7 %s", f->feed);
    if (*f->incident)
        sbuf_printf(&b, " \xc2\xb7 incident %s v%lld", f->incident, f->version);
    if (*f->detected)
        sbuf_printf(&b, " \xc2\xb7 %s", f->detected);
    return sbuf_steal(&b);
}

static void facts_clear(struct facts *f)
{
    free(f->changes);
}

/* Markup escapes: Slack mrkdwn and Telegram HTML both need & < > escaped. */
static char *escape_html(const char *s)
{
    struct sbuf b = {0};
    for (; *s; s++) {
        if (*s == '&')
            sbuf_puts(&b, "&amp;");
        else if (*s == '<')
            sbuf_puts(&b, "&lt;");
        else if (*s == '>')
            sbuf_puts(&b, "&gt;");
        else
            sbuf_putc(&b, *s);
    }
    return sbuf_steal(&b);
}

/* Text cut to max units, then escaped; the escaped form is cut again at max
 * so that escaping never pushes it over. */
static char *cut_escaped(const char *s, size_t max)
{
    char *cut = render_cut(s, max), *esc = escape_html(cut), *out = cut_text(esc, max, true);
    free(cut);
    free(esc);
    return out;
}

static json_t *json_take(char *s)
{
    json_t *j = json_string(s);
    free(s);
    return j ? j : json_string("");
}

/* The plain-text body shared by the services without rich layouts:
 * headline, facts, what changed, summary, links. max bounds the whole. */
static char *plain_body(const struct facts *f, bool with_headline, size_t max)
{
    struct sbuf b = {0};
    if (with_headline) {
        label(&b, f);
        sbuf_printf(&b, ": %s\n", f->title);
    }
    facts_line(&b, f);
    sbuf_putc(&b, '\n');
    if (*f->changes)
        sbuf_printf(&b, "What changed:\n%s\n", f->changes);
    struct sbuf links = {0};
    for (size_t i = 0; i < f->n_links; i++)
        sbuf_printf(&links, "\n%s", f->links[i]);
    /* the summary gives way first, so facts and links always fit */
    size_t fixed = render_units(b.data) + render_units(links.data ? links.data : "") + 1;
    if (*f->summary && fixed < max) {
        char *sum = render_cut(f->summary, max - fixed);
        sbuf_printf(&b, "%s\n", sum);
        free(sum);
    }
    if (links.data)
        sbuf_puts(&b, links.data + 1);
    sbuf_free(&links);
    char *all = sbuf_steal(&b), *out = render_cut(all, max);
    free(all);
    return out;
}

/* --------------------------------------------------------------- Slack */

#define SLACK_HEADER_MAX 150
#define SLACK_TEXT_MAX 3000
#define SLACK_FALLBACK_MAX 3000

static json_t *slack_section(char *mrkdwn)
{
    return json_pack("{s:s, s:{s:s, s:o}}", "type", "section", "text", "type", "mrkdwn", "text",
                     json_take(mrkdwn));
}

static json_t *slack_field(const char *name, char *value)
{
    struct sbuf b = {0};
    char *esc = cut_escaped(value, SLACK_TEXT_MAX / 2);
    sbuf_printf(&b, "*%s*\n%s", name, esc);
    free(esc);
    free(value);
    return json_pack("{s:s, s:o}", "type", "mrkdwn", "text", json_take(sbuf_steal(&b)));
}

static char *slack_links(const struct facts *f)
{
    struct sbuf b = {0};
    sbuf_puts(&b, "*Links*");
    for (size_t i = 0; i < f->n_links; i++) {
        char *url = escape_html(f->links[i]);
        sbuf_printf(&b, "\n<%s|%s>", url, i == 0 ? "the report" : "another source");
        free(url);
    }
    return sbuf_steal(&b);
}

static json_t *render_slack(const struct facts *f)
{
    struct sbuf head = {0};
    label(&head, f);
    sbuf_printf(&head, ": %s", f->title);
    char *fallback = render_cut(head.data, SLACK_FALLBACK_MAX);
    char sources[24];
    snprintf(sources, sizeof sources, "%lld", f->n_sources);
    json_t *blocks = json_array();
    json_array_append_new(blocks, json_pack("{s:s, s:{s:s, s:o}}", "type", "header", "text",
                                            "type", "plain_text", "text",
                                            json_take(render_cut(head.data, SLACK_HEADER_MAX))));
    json_array_append_new(blocks, json_pack("{s:s, s:[o, o, o, o]}", "type", "section", "fields",
                                            slack_field("Severity", label_text(f)),
                                            slack_field("Place", place_text(f)),
                                            slack_field("Killed / injured", toll_text(f)),
                                            slack_field("Sources", xstrdup(sources))));
    if (*f->changes) {
        char *c = cut_escaped(f->changes, SLACK_TEXT_MAX - 20);
        struct sbuf b = {0};
        sbuf_printf(&b, "*What changed*\n%s", c);
        free(c);
        json_array_append_new(blocks, slack_section(sbuf_steal(&b)));
    }
    if (*f->summary)
        json_array_append_new(blocks, slack_section(cut_escaped(f->summary, SLACK_TEXT_MAX)));
    if (f->n_links)
        json_array_append_new(blocks, slack_section(slack_links(f)));
    char *footer = footer_text(f);
    json_array_append_new(blocks, json_pack("{s:s, s:[{s:s, s:o}]}", "type", "context", "elements",
                                            "type", "mrkdwn", "text",
                                            json_take(cut_escaped(footer, SLACK_TEXT_MAX))));
    free(footer);
    sbuf_free(&head);
    return json_pack("{s:o, s:o}", "text", json_take(fallback), "blocks", blocks);
}

/* ---------------------------------------------------------- Mattermost */

#define MATTERMOST_TITLE_MAX 256
#define MATTERMOST_TEXT_MAX 4000

static const char *severity_hex(const struct facts *f)
{
    static const struct { const char *name, *hex; int rgb; } colours[] = {
        { "critical", "#b71c1c", 0xb71c1c }, { "high", "#e65100", 0xe65100 },
        { "medium", "#f9a825", 0xf9a825 }, { "low", "#1565c0", 0x1565c0 },
        { "source-down", "#616161", 0x616161 }, { "source-up", "#2e7d32", 0x2e7d32 },
    };
    const char *key = is_source_alert(f) ? f->kind : f->severity;
    for (size_t i = 0; i < sizeof colours / sizeof colours[0]; i++)
        if (strcmp(key, colours[i].name) == 0)
            return colours[i].hex;
    return "#616161";
}

static int severity_rgb(const struct facts *f)
{
    return (int)strtol(severity_hex(f) + 1, NULL, 16);
}

static json_t *mm_field(const char *title, char *value)
{
    return json_pack("{s:b, s:s, s:o}", "short", 1, "title", title, "value", json_take(value));
}

static json_t *render_mattermost(const struct facts *f)
{
    char sources[24];
    snprintf(sources, sizeof sources, "%lld", f->n_sources);
    char *head = label_text(f);
    struct sbuf text = {0};
    sbuf_printf(&text, "**%s**: %s", head, f->title);
    json_t *fields = json_pack("[o, o, o]", mm_field("Place", place_text(f)),
                               mm_field("Killed / injured", toll_text(f)),
                               mm_field("Sources", xstrdup(sources)));
    json_t *att = json_pack("{s:o, s:s, s:o, s:o, s:o, s:o}",
                            "fallback", json_take(render_cut(text.data, MATTERMOST_TITLE_MAX)),
                            "color", severity_hex(f),
                            "title", json_take(render_cut(f->title, MATTERMOST_TITLE_MAX)),
                            "text", json_take(plain_body(f, false, MATTERMOST_TEXT_MAX)),
                            "fields", fields,
                            "footer", json_take(footer_text(f)));
    if (*f->link && url_is_http(f->link))
        json_object_set_new(att, "title_link", json_string(f->link));
    free(head);
    json_t *j = json_pack("{s:s, s:o, s:[o]}", "username", "cpecwatch",
                          "text", json_take(render_cut(text.data, MATTERMOST_TITLE_MAX)),
                          "attachments", att);
    sbuf_free(&text);
    return j;
}

/* ------------------------------------------------------------- Discord */

#define DISCORD_TITLE_MAX 256
#define DISCORD_DESC_MAX 4096
#define DISCORD_FIELD_MAX 1024
#define DISCORD_FOOTER_MAX 2048
#define DISCORD_TOTAL_MAX 6000

struct embed_field {
    const char *name;
    char *value;
};

static json_t *render_discord(const struct facts *f)
{
    char *title = render_cut(f->title, DISCORD_TITLE_MAX), *footer = footer_text(f);
    char *cut_footer = render_cut(footer, DISCORD_FOOTER_MAX);
    struct sbuf links = {0};
    for (size_t i = 0; i < f->n_links; i++)
        sbuf_printf(&links, "%s[%s](%s)", i ? "\n" : "", i == 0 ? "the report" : "another source",
                    f->links[i]);
    char sources[24];
    snprintf(sources, sizeof sources, "%lld", f->n_sources);
    struct embed_field fields[] = {
        { "Severity", label_text(f) }, { "Place", place_text(f) },
        { "Killed / injured", toll_text(f) }, { "Sources", xstrdup(sources) },
        { "What changed", render_cut(f->changes, DISCORD_FIELD_MAX) },
        { "Links", render_cut(links.data ? links.data : "", DISCORD_FIELD_MAX) },
    };
    /* 6000 units for title, description, field names and values and footer together */
    size_t used = render_units(title) + render_units(cut_footer);
    json_t *jfields = json_array();
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (*fields[i].value) {
            used += render_units(fields[i].name) + render_units(fields[i].value);
            json_array_append_new(jfields, json_pack("{s:s, s:s, s:b}", "name", fields[i].name,
                                                     "value", fields[i].value, "inline", i < 4));
        }
        free(fields[i].value);
    }
    size_t room = used < DISCORD_TOTAL_MAX ? DISCORD_TOTAL_MAX - used : 0;
    char *desc = render_cut(f->summary, room < DISCORD_DESC_MAX ? room : DISCORD_DESC_MAX);
    json_t *embed = json_pack("{s:o, s:i, s:o, s:{s:o}}", "title", json_take(title),
                              "color", severity_rgb(f), "fields", jfields,
                              "footer", "text", json_take(cut_footer));
    if (*desc)
        json_object_set_new(embed, "description", json_string(desc));
    if (*f->link && url_is_http(f->link))
        json_object_set_new(embed, "url", json_string(f->link));
    if (*f->detected)
        json_object_set_new(embed, "timestamp", json_string(f->detected));
    free(desc);
    free(footer);
    sbuf_free(&links);
    /* no @everyone or role pings from text taken off the news */
    return json_pack("{s:s, s:{s:[]}, s:[o]}", "username", "cpecwatch", "allowed_mentions", "parse",
                     "embeds", embed);
}

/* ------------------------------------------------------------- MS Teams */

#define TEAMS_TITLE_MAX 256
#define TEAMS_TEXT_MAX 2000

static const char *teams_colour(const struct facts *f)
{
    if (strcmp(f->kind, "source-up") == 0)
        return "Good";
    if (strcmp(f->severity, "critical") == 0 || strcmp(f->severity, "high") == 0 ||
        strcmp(f->kind, "source-down") == 0)
        return "Attention";
    return strcmp(f->severity, "medium") == 0 ? "Warning" : "Accent";
}

static json_t *teams_text(char *text, bool bold)
{
    json_t *t = json_pack("{s:s, s:o, s:b}", "type", "TextBlock", "text", json_take(text), "wrap", 1);
    if (bold)
        json_object_set_new(t, "weight", json_string("Bolder"));
    return t;
}

static json_t *teams_fact(const char *title, char *value)
{
    return json_pack("{s:s, s:o}", "title", title, "value", json_take(value));
}

static json_t *render_msteams(const struct facts *f)
{
    char sources[24];
    snprintf(sources, sizeof sources, "%lld", f->n_sources);
    json_t *body = json_array();
    json_t *sev = teams_text(label_text(f), true);
    json_object_set_new(sev, "color", json_string(teams_colour(f)));
    json_array_append_new(body, sev);
    json_t *title = teams_text(render_cut(f->title, TEAMS_TITLE_MAX), true);
    json_object_set_new(title, "size", json_string("Medium"));
    json_array_append_new(body, title);
    json_array_append_new(body, json_pack("{s:s, s:[o, o, o, o]}", "type", "FactSet", "facts",
                                          teams_fact("Place", place_text(f)),
                                          teams_fact("Killed / injured", toll_text(f)),
                                          teams_fact("Sources", xstrdup(sources)),
                                          teams_fact("Feed", xstrdup(f->feed))));
    if (*f->changes) {
        struct sbuf b = {0};
        sbuf_printf(&b, "What changed: %s", f->changes);
        json_array_append_new(body, teams_text(render_cut(b.data, TEAMS_TEXT_MAX), false));
        sbuf_free(&b);
    }
    if (*f->summary)
        json_array_append_new(body, teams_text(render_cut(f->summary, TEAMS_TEXT_MAX), false));
    json_t *actions = json_array();
    for (size_t i = 0; i < f->n_links; i++)
        json_array_append_new(actions, json_pack("{s:s, s:s, s:s}", "type", "Action.OpenUrl",
                                                 "title", i == 0 ? "Read the report" : "Another source",
                                                 "url", f->links[i]));
    json_t *card = json_pack("{s:s, s:s, s:s, s:o, s:o}",
                             "$schema", "http://adaptivecards.io/schemas/adaptive-card.json",
                             "type", "AdaptiveCard", "version", "1.4", "body", body, "actions", actions);
    return json_pack("{s:s, s:[{s:s, s:n, s:o}]}", "type", "message", "attachments",
                     "contentType", "application/vnd.microsoft.card.adaptive", "contentUrl", "content", card);
}

/* ---------------------------------------------------- Google Chat, ntfy */

#define GOOGLECHAT_TEXT_MAX 4096
#define TELEGRAM_TEXT_MAX 4096
#define NTFY_TITLE_MAX 256
#define NTFY_MESSAGE_MAX 1024   /* units; 4096 bytes is ntfy's cap, and 4 bytes a unit at worst */

static json_t *render_googlechat(const struct facts *f)
{
    struct sbuf b = {0};
    char *head = label_text(f), *body = plain_body(f, false, GOOGLECHAT_TEXT_MAX - TEAMS_TITLE_MAX - 40);
    char *title = render_cut(f->title, TEAMS_TITLE_MAX);
    sbuf_printf(&b, "*%s: %s*\n%s", head, title, body);
    free(head);
    free(body);
    free(title);
    json_t *j = json_pack("{s:o}", "text", json_take(render_cut(b.data, GOOGLECHAT_TEXT_MAX)));
    sbuf_free(&b);
    return j;
}

static json_t *render_telegram(const struct facts *f, const char *chat_id)
{
    struct sbuf b = {0};
    char *head = label_text(f), *title = cut_escaped(f->title, 256);
    char *body = plain_body(f, false, TELEGRAM_TEXT_MAX - 300);
    char *esc = escape_html(body);
    sbuf_printf(&b, "<b>%s: %s</b>\n%s", head, title, esc);
    free(head);
    free(title);
    free(body);
    free(esc);
    char *text = sbuf_steal(&b), *cut = cut_text(text, TELEGRAM_TEXT_MAX, true);
    free(text);
    return json_pack("{s:s, s:o, s:s, s:{s:b}}", "chat_id", chat_id ? chat_id : "",
                     "text", json_take(cut), "parse_mode", "HTML",
                     "link_preview_options", "is_disabled", 1);
}

static int ntfy_priority(const struct facts *f)
{
    if (strcmp(f->kind, "source-down") == 0)
        return 4;
    if (strcmp(f->kind, "source-up") == 0)
        return 2;
    int sev = severity_from_name(f->severity);
    return sev >= SEV_LOW ? sev + 1 : 3;   /* low 2, medium 3, high 4, critical 5 (max) */
}

static json_t *render_ntfy(const struct facts *f, const char *topic)
{
    char *head = label_text(f);
    struct sbuf title = {0};
    sbuf_printf(&title, "%s: %s", head, f->title);
    free(head);
    json_t *j = json_pack("{s:s, s:o, s:o, s:i, s:[s]}", "topic", topic ? topic : "",
                          "title", json_take(render_cut(title.data, NTFY_TITLE_MAX)),
                          "message", json_take(plain_body(f, false, NTFY_MESSAGE_MAX)),
                          "priority", ntfy_priority(f),
                          "tags", ntfy_priority(f) >= 4 ? "rotating_light" : "information_source");
    if (*f->link && url_is_http(f->link))
        json_object_set_new(j, "click", json_string(f->link));
    sbuf_free(&title);
    return j;
}

/* ------------------------------------------------ digests and heartbeats
 * A digest lists its alerts one line each, as many whole lines as fit in
 * the service's limit, then "… and N more": markup is never cut in half. */

#define DIGEST_TITLE_MAX 200   /* units of an alert's title in its line */
#define DIGEST_LINK_MAX 600    /* a longer link is left out of the line */

enum digest_style { STYLE_PLAIN, STYLE_SLACK, STYLE_TELEGRAM };

/* "• Title — Place (update)" and the link, in the service's markup. */
static void digest_line(struct sbuf *b, const struct facts *f, enum digest_style style)
{
    char *title = render_cut(f->title, DIGEST_TITLE_MAX);
    const char *link = f->n_links && strlen(f->links[0]) <= DIGEST_LINK_MAX ? f->links[0] : NULL;
    char *t = style == STYLE_PLAIN ? xstrdup(title) : escape_html(title);
    char *l = link ? escape_html(link) : NULL;
    sbuf_puts(b, "\xe2\x80\xa2 ");   /* • */
    if (l && style == STYLE_SLACK)
        sbuf_printf(b, "<%s|%s>", l, t);
    else if (l && style == STYLE_TELEGRAM)
        sbuf_printf(b, "<a href=\"%s\">%s</a>", l, t);
    else
        sbuf_puts(b, t);
    if (*f->province)
        sbuf_printf(b, " \xe2\x80\x94 %s", f->province);
    if (strcmp(f->kind, "update") == 0)
        sbuf_puts(b, " (update)");
    if (link && style == STYLE_PLAIN)
        sbuf_printf(b, "\n  %s", link);
    free(title);
    free(t);
    free(l);
}

/* The digest's lines, at most max units in all. */
static char *digest_list(const json_t *digest, enum digest_style style, size_t max)
{
    const json_t *alerts = json_object_get(digest, "alerts");
    size_t n = json_array_size(alerts), i;
    struct sbuf b = {0};
    for (i = 0; i < n; i++) {
        struct facts f;
        struct sbuf line = {0};
        facts_read(&f, json_array_get(alerts, i));
        digest_line(&line, &f, style);
        facts_clear(&f);
        char more[48];   /* room for the trailer unless this is the last line */
        snprintf(more, sizeof more, "\n\xe2\x80\xa6 and %zu more", n - i);
        size_t need = render_units(b.data ? b.data : "") + 1 + render_units(line.data) +
                      (i + 1 < n ? render_units(more) : 0);
        if (need > max) {
            sbuf_free(&line);
            sbuf_puts(&b, i ? more : more + 1);
            break;
        }
        sbuf_printf(&b, "%s%s", i ? "\n" : "", line.data);
        sbuf_free(&line);
    }
    return sbuf_steal(&b);
}

/* "cpecwatch digest: 3 low alerts" */
static char *digest_headline(const json_t *digest)
{
    struct sbuf b = {0};
    size_t n = json_array_size(json_object_get(digest, "alerts"));
    sbuf_printf(&b, "cpecwatch digest: %zu %s alert%s", n, alert_str(digest, "severity"), n == 1 ? "" : "s");
    return sbuf_steal(&b);
}

/* A headline and one text, as each service lays them out; head and the
 * text are taken (freed). */
static json_t *slack_message(char *head, char *mrkdwn)
{
    json_t *blocks = json_pack("[{s:s, s:{s:s, s:o}}]", "type", "header", "text", "type", "plain_text",
                               "text", json_take(render_cut(head, SLACK_HEADER_MAX)));
    json_array_append_new(blocks, slack_section(mrkdwn));
    return json_pack("{s:o, s:o}", "text", json_take(head), "blocks", blocks);
}

static json_t *teams_message(char *head, char *text)
{
    json_t *card = json_pack("{s:s, s:s, s:s, s:[o, o]}",
                             "$schema", "http://adaptivecards.io/schemas/adaptive-card.json",
                             "type", "AdaptiveCard", "version", "1.4",
                             "body", teams_text(head, true), teams_text(text, false));
    return json_pack("{s:s, s:[{s:s, s:n, s:o}]}", "type", "message", "attachments",
                     "contentType", "application/vnd.microsoft.card.adaptive", "contentUrl", "content", card);
}

static json_t *discord_message(char *head, char *text, int colour)
{
    return json_pack("{s:s, s:{s:[]}, s:[{s:o, s:o, s:i, s:{s:s}}]}", "username", "cpecwatch",
                     "allowed_mentions", "parse", "embeds", "title", json_take(head),
                     "description", json_take(text), "color", colour, "footer", "text", "cpecwatch");
}

static json_t *render_digest_as(enum sink_type type, const json_t *d, const struct render_target *to)
{
    char *head = digest_headline(d);
    struct sbuf b = {0};
    json_t *j;
    switch (type) {
    case SINK_SLACK:
        return slack_message(head, digest_list(d, STYLE_SLACK, SLACK_TEXT_MAX));
    case SINK_DISCORD:
        return discord_message(head, digest_list(d, STYLE_PLAIN, DISCORD_DESC_MAX), 0x1565c0);
    case SINK_MSTEAMS:
        return teams_message(head, digest_list(d, STYLE_PLAIN, TEAMS_TEXT_MAX));
    case SINK_NTFY:
        return json_pack("{s:s, s:o, s:o, s:i, s:[s]}", "topic", to && to->topic ? to->topic : "",
                         "title", json_take(head), "message",
                         json_take(digest_list(d, STYLE_PLAIN, NTFY_MESSAGE_MAX)), "priority", 2,
                         "tags", "information_source");
    case SINK_TELEGRAM: {
        char *list = digest_list(d, STYLE_TELEGRAM, TELEGRAM_TEXT_MAX - render_units(head) - 8);
        sbuf_printf(&b, "<b>%s</b>\n%s", head, list);
        free(list);
        j = json_pack("{s:s, s:o, s:s, s:{s:b}}", "chat_id", to && to->chat_id ? to->chat_id : "",
                      "text", json_take(sbuf_steal(&b)), "parse_mode", "HTML",
                      "link_preview_options", "is_disabled", 1);
        break;
    }
    default: {   /* Google Chat, Mattermost: text with a bold headline */
        size_t max = type == SINK_MATTERMOST ? MATTERMOST_TEXT_MAX : GOOGLECHAT_TEXT_MAX;
        char *list = digest_list(d, STYLE_PLAIN, max - render_units(head) - 8);
        sbuf_printf(&b, type == SINK_MATTERMOST ? "**%s**\n%s" : "*%s*\n%s", head, list);
        free(list);
        j = json_pack("{s:o}", "text", json_take(sbuf_steal(&b)));
        if (type == SINK_MATTERMOST)
            json_object_set_new(j, "username", json_string("cpecwatch"));
        break;
    }
    }
    free(head);
    return j;
}

/* A heartbeat is its one line, quiet wherever the service allows. */
static json_t *render_heartbeat_as(enum sink_type type, const json_t *h, const struct render_target *to)
{
    char *line = render_cut(alert_str(h, "title"), NTFY_TITLE_MAX);
    switch (type) {
    case SINK_SLACK:
        return slack_message(xstrdup("cpecwatch alive"), line);
    case SINK_DISCORD:
        return discord_message(xstrdup("cpecwatch alive"), line, 0x2e7d32);
    case SINK_MSTEAMS:
        return teams_message(xstrdup("cpecwatch alive"), line);
    case SINK_NTFY:
        return json_pack("{s:s, s:s, s:o, s:i, s:[s]}", "topic", to && to->topic ? to->topic : "",
                         "title", "cpecwatch alive", "message", json_take(line), "priority", 1,
                         "tags", "heartbeat");
    case SINK_TELEGRAM: {
        char *esc = escape_html(line);
        free(line);
        return json_pack("{s:s, s:o, s:s, s:b}", "chat_id", to && to->chat_id ? to->chat_id : "",
                         "text", json_take(esc), "parse_mode", "HTML", "disable_notification", 1);
    }
    case SINK_MATTERMOST:
        return json_pack("{s:s, s:o}", "username", "cpecwatch", "text", json_take(line));
    default:
        return json_pack("{s:o}", "text", json_take(line));
    }
}

char *render_message(enum sink_type type, const json_t *alert, const struct render_target *to)
{
    struct facts f;
    json_t *j = NULL;
    const char *kind = alert_str(alert, "kind");
    if (strcmp(kind, "digest") == 0 || strcmp(kind, "heartbeat") == 0) {
        j = kind[0] == 'd' ? render_digest_as(type, alert, to) : render_heartbeat_as(type, alert, to);
        char *out = alert_dump(j);
        json_decref(j);
        return out;
    }
    facts_read(&f, alert);
    switch (type) {
    case SINK_SLACK: j = render_slack(&f); break;
    case SINK_MATTERMOST: j = render_mattermost(&f); break;
    case SINK_DISCORD: j = render_discord(&f); break;
    case SINK_MSTEAMS: j = render_msteams(&f); break;
    case SINK_GOOGLECHAT: j = render_googlechat(&f); break;
    case SINK_TELEGRAM: j = render_telegram(&f, to ? to->chat_id : NULL); break;
    case SINK_NTFY: j = render_ntfy(&f, to ? to->topic : NULL); break;
    default: j = json_deep_copy(alert); break;
    }
    facts_clear(&f);
    char *out = alert_dump(j);
    json_decref(j);
    return out;
}
