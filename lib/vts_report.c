/* vts_report.c: sync results for people and for programs. */
#include "vts_report.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
vts_report_escape(char *buf, size_t len, const char *in)
{
    size_t o = 0;

    if (len == 0)
        return;
    for (; in && *in; in++) {
        unsigned char c = (unsigned char)*in;

        if (c < 0x20 || c == 0x7f || c == '\\') {
            if (o + 4 >= len)
                break;
            snprintf(buf + o, len - o, "\\x%02x", c);
            o += 4;
        } else {
            if (o + 1 >= len)
                break;
            buf[o++] = (char)c;
        }
    }
    buf[o] = '\0';
}

void
vts_report_text(char *buf, size_t len, const char *domain, const vts_sync_result *res)
{
    char name[256], off[32], resid[32], rtt[32];
    char msg[4 * VTS_ERROR_MSG_MAX];

    vts_report_escape(name, sizeof(name), domain);
    /* The message may quote the guest agent: a guest must not be able to
     * forge log lines or send terminal escapes. */
    vts_report_escape(msg, sizeof(msg), res->err.message);
    vts_clock_format_offset(off, sizeof(off), res->offset_ns);
    vts_clock_format_offset(resid, sizeof(resid), res->residual_ns);
    snprintf(rtt, sizeof(rtt), "%.2f ms", (double)res->rtt_ns / VTS_NS_PER_MS);

    switch (res->action) {
    case VTS_ACTION_STEPPED:
        snprintf(buf, len, "%s: offset %s -> stepped%s -> residual %s (rtt %s)", name,
                 off, res->via_exec ? " via guest-exec" : "", resid, rtt);
        break;
    case VTS_ACTION_CHECKED:
        snprintf(buf, len, "%s: offset %s -> checked, not changed (rtt %s)", name, off,
                 rtt);
        break;
    case VTS_ACTION_NONE:
        snprintf(buf, len, "%s: offset %s -> within threshold, not stepped (rtt %s)",
                 name, off, rtt);
        break;
    case VTS_ACTION_ERROR:
        if (res->have_offset)
            snprintf(buf, len, "%s: offset %s -> %s", name, off, msg);
        else
            snprintf(buf, len, "%s: %s", name, msg);
        break;
    }
}

/* Add @key: @value, or null when !@have. Ownership of the new value passes
 * to @obj. */
static void
vts_report_add_ns(json_object *obj, const char *key, int have, int64_t value)
{
    json_object_object_add(obj, key, have ? json_object_new_int64(value) : NULL);
}

char *
vts_report_json(const char *domain, const vts_sync_result *res)
{
    json_object *obj = json_object_new_object();
    json_object *error = NULL;
    char *out = NULL;

    if (!obj)
        return NULL;
    json_object_object_add(obj, "domain", json_object_new_string(domain ? domain : ""));
    json_object_object_add(obj, "action",
                           json_object_new_string(vts_action_name(res->action)));
    vts_report_add_ns(obj, "offset_ns", res->have_offset, res->offset_ns);
    vts_report_add_ns(obj, "residual_ns", res->have_residual, res->residual_ns);
    vts_report_add_ns(obj, "rtt_ns", res->have_offset, res->rtt_ns);
    json_object_object_add(obj, "steps", json_object_new_int(res->steps));
    json_object_object_add(obj, "round_trips", json_object_new_int(res->round_trips));
    /* How the guest was stepped: null when it was not tried. */
    json_object_object_add(obj, "via",
                           res->via_exec    ? json_object_new_string("guest-exec")
                           : res->steps > 0 ? json_object_new_string("guest-set-time")
                                            : NULL);
    if (res->action == VTS_ACTION_ERROR) {
        error = json_object_new_object();
        json_object_object_add(
            error, "code", json_object_new_string(vts_error_code_name(res->err.code)));
        json_object_object_add(error, "message",
                               json_object_new_string(res->err.message));
    }
    json_object_object_add(obj, "error", error);
    out = strdup(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(obj);
    return out;
}
