/* render.h — an alert (schema cpecwatch.alert/1) as the message body each
 * chat service takes: Slack Block Kit, Mattermost attachments, a Discord
 * embed, a Teams Adaptive Card (Workflows), Google Chat text, Telegram
 * sendMessage, ntfy JSON publish. Every message shows severity, title,
 * place, killed and injured, number of sources, links, and for updates what
 * changed; long text is cut at the service's limits (counted in UTF-16
 * units, the stricter count), never refused. Pure. */
#pragma once
#include <jansson.h>
#include <stddef.h>
#include "config.h"

/* Where a message goes, for services that name it in the body. */
struct render_target {
    const char *chat_id;   /* telegram */
    const char *topic;     /* ntfy */
};

/* The JSON body for a chat sink type (not journald, not webhook): a string
 * the caller frees. */
char *render_message(enum sink_type type, const json_t *alert, const struct render_target *to);

/* How many reports the alert stands on: its "sources" (an array or a
 * count), 1 when it names none. */
long long render_source_count(const json_t *alert);

/* Length of s in UTF-16 code units (how JavaScript-based services count). */
size_t render_units(const char *s);

/* A copy of s cut to at most max UTF-16 units, ending in "…" when cut, never
 * inside a UTF-8 sequence. Caller frees. */
char *render_cut(const char *s, size_t max);
