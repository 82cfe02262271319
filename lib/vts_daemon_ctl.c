/* vts_daemon_ctl.c: what the daemon answers on its control socket: the
 * status JSON (`vmtimesync --status`) and the hook's announcements.
 * vts_ctl_server.c serves the socket; vts_ctl.c holds the protocol.
 */
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VTS_DAEMON_ALLOW_PRIV
#include "vts_daemon_priv.h"

#include "vts_clock.h"
#include "vts_log.h"
#include "vts_report.h"
#include "vts_sync.h"

/* vts_ctl_wake_fn: a control client's time limit to arm. */
void
vts_daemon_ctl_wake(void *opaque)
{
    vts_daemon_wake_loop(opaque);
}

/* What the status is built from, for its callbacks. */
typedef struct {
    vts_daemon *d;
    json_object *arr;
    int64_t now;
} vts_daemon_status;

/* @o's "watch": the watch's last measurement of @name, or null. */
static void
vts_daemon_status_watch(const vts_daemon_status *st, json_object *o, const char *name)
{
    const vts_watch_entry *w = vts_watch_get(st->d->watch, name);
    json_object *wo = NULL;

    if (w && w->have_offset) {
        wo = json_object_new_object();
        json_object_object_add(wo, "offset_ns", json_object_new_int64(w->offset_ns));
        json_object_object_add(wo, "rtt_ns", json_object_new_int64(w->rtt_ns));
        json_object_object_add(
            wo, "age_s",
            json_object_new_int64((st->now - w->measured_ns) / VTS_NS_PER_SEC));
    }
    json_object_object_add(o, "watch", wo);
}

/* A watched domain that has no sync history. */
static void
vts_daemon_status_watched(const vts_watch_entry *w, void *opaque)
{
    const vts_daemon_status *st = opaque;
    json_object *o = NULL;

    if (vts_sched_get(st->d->sched, w->name))
        return; /* listed with its syncs */
    o = json_object_new_object();
    json_object_object_add(o, "domain", json_object_new_string(w->name));
    json_object_object_add(o, "phase",
                           json_object_new_string(vts_phase_name(VTS_PHASE_IDLE)));
    vts_daemon_status_watch(st, o, w->name);
    json_object_array_add(st->arr, o);
}

/* The status of one domain, for the control socket. */
static void
vts_daemon_status_entry(const vts_sched_entry *e, void *opaque)
{
    const vts_daemon_status *st = opaque;
    json_object *arr = st->arr;
    json_object *o = json_object_new_object();
    char *last;

    json_object_object_add(o, "domain", json_object_new_string(e->name));
    json_object_object_add(o, "phase", json_object_new_string(vts_phase_name(e->phase)));
    if (e->have_last) {
        json_object *res = NULL;

        last = vts_report_json(e->name, &e->last);
        if (last)
            res = json_tokener_parse(last);
        free(last);
        json_object_object_add(o, "last", res);
        json_object_object_add(o, "trigger", json_object_new_string(e->last_trigger));
        json_object_object_add(o, "latency_ns",
                               json_object_new_int64(e->last_latency_ns));
        json_object_object_add(
            o, "pause_ns",
            e->last_pause_ns >= 0 ? json_object_new_int64(e->last_pause_ns) : NULL);
        json_object_object_add(
            o, "age_s",
            json_object_new_int64((vts_mono_ns() - e->last_ns) / VTS_NS_PER_SEC));
    }
    vts_daemon_status_watch(st, o, e->name);
    json_object_array_add(arr, o);
}

static char *
vts_daemon_status_json(vts_daemon *d)
{
    json_object *root = json_object_new_object();
    json_object *arr = json_object_new_array();
    vts_daemon_status st = {d, arr, vts_mono_ns()};
    char *out;

    pthread_mutex_lock(&d->lock);
    json_object_object_add(root, "uri", json_object_new_string(vts_daemon_uri(d)));
    json_object_object_add(root, "connected", json_object_new_boolean(d->conn != NULL));
    vts_sched_foreach(d->sched, vts_daemon_status_entry, &st);
    vts_watch_foreach(d->watch, vts_daemon_status_watched, &st);
    pthread_mutex_unlock(&d->lock);
    json_object_object_add(root, "domains", arr);
    out = strdup(json_object_to_json_string_ext(
        root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(root);
    return out;
}

/* vts_ctl_answer_fn: answer one complete control request. */
char *
vts_daemon_answer(const vts_ctl_request *req, void *opaque)
{
    vts_daemon *d = opaque;
    char *reply = NULL;
    char esc[256];

    switch (req->cmd) {
    case VTS_CTL_STATUS:
        reply = vts_daemon_status_json(d);
        break;
    case VTS_CTL_PENDING: {
        char trigger[VTS_SCHED_TRIGGER_MAX];

        vts_report_escape(esc, sizeof(esc), req->domain);
        snprintf(trigger, sizeof(trigger), "hook/%s", req->reason);
        pthread_mutex_lock(&d->lock);
        /* The hook's news is an event: the watch may correct a drift
         * again. */
        vts_daemon_watch_add(d, req->domain, true);
        if (!vts_conf_domain_wanted(&d->conf, req->domain)) {
            /* excluded: nothing to do */
        } else if (strcmp(req->reason, "reconnect") == 0) {
            /* libvirtd restarted: the guest runs already and no event will
             * come for it, so look at it now (retried until libvirtd is
             * back). */
            if (vts_sched_trigger(d->sched, req->domain, trigger, vts_mono_ns()))
                vts_daemon_push(d, req->domain);
        } else {
            vts_sched_expect(d->sched, req->domain, trigger, vts_mono_ns());
        }
        pthread_mutex_unlock(&d->lock);
        vts_log(VTS_LOG_INFO, "%s: the libvirt hook announced %s", esc, req->reason);
        vts_daemon_wake_loop(d);
        reply = strdup("{\"ok\":true}");
        break;
    }
    }
    return reply;
}
