/* vts_waiter.c: the hook's detached waiter, run by the CLI (vmtimesync
 * --hook-waiter): wait, woken by libvirt's events, until a migrated or
 * restored guest runs with its agent connected, then sync it once. */
#include "vts_waiter.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vts_clock.h"
#include "vts_domxml.h"
#include "vts_log.h"
#include "vts_report.h"
#include "vts_sync.h"

/* How long the waiter retries connecting while libvirtd starts up. */
#define VTS_WAITER_CONNECT_NS (30 * VTS_NS_PER_SEC)
/* How long a domain may take to show up (an incoming migration defines it
 * at "prepare", right after "migrate begin"). */
#define VTS_WAITER_APPEAR_NS (60 * VTS_NS_PER_SEC)
/* Syncs a waiter makes at most: the first, and re-checks or retries (see
 * vts_waiter_again). */
#define VTS_WAITER_SYNC_TRIES 3

static void
vts_waiter_sleep(int64_t ns)
{
    struct timespec ts = {ns / VTS_NS_PER_SEC, ns % VTS_NS_PER_SEC};

    nanosleep(&ts, NULL);
}

/* Is @domain running with its agent connected? Sets *@seen when the domain
 * exists, *@gone_for_good when waiting cannot help. */
static bool
vts_waiter_ready(const vts_hv_ops *ops, vts_hv_conn *conn, const char *domain, bool *seen,
                 bool *gone_for_good, vts_error *err)
{
    vts_hv_dom *dom = NULL;
    vts_dom_state state;
    vts_domxml_info info;
    char *xml = NULL;
    bool ready = false;

    if (ops->lookup(conn, domain, &dom, err) < 0) {
        /* Seen, then gone: the migration failed or the guest left. */
        *gone_for_good = *seen || err->code != VTS_ERR_NOT_FOUND;
        goto cleanup;
    }
    *seen = true;
    if (ops->dom_state(dom, &state, err) < 0 || state != VTS_DOM_RUNNING)
        goto cleanup;
    if (ops->dom_xml(dom, &xml, err) < 0 ||
        vts_domxml_scan(xml, strlen(xml), &info, err) < 0)
        goto cleanup;
    if (!info.has_agent_channel) {
        vts_error_set(err, VTS_ERR_NO_AGENT_CHANNEL, "no guest agent channel");
        *gone_for_good = true;
        goto cleanup;
    }
    ready = info.agent_state == VTS_AGENT_STATE_CONNECTED;

cleanup:
    free(xml);
    ops->dom_free(dom);
    return ready;
}

/* Should the waiter sync once more, as vmtimesyncd would re-check or retry
 * (right after a migration or restore the guest and the host are at their
 * busiest, and a step can land off)? A step that left more than the
 * tolerance is re-checked, a failed verify or an agent timeout retried:
 * VTS_WAITER_SYNC_TRIES syncs in all. Sets opts->recheck for a re-check. */
static bool
vts_waiter_again(vts_sync_opts *opts, const vts_sync_result *res, int *tries)
{
    bool off = res->action == VTS_ACTION_STEPPED && res->have_residual &&
               llabs(res->residual_ns) > opts->tolerance_ns;
    bool failed =
        res->action == VTS_ACTION_ERROR && (res->err.code == VTS_ERR_VERIFY_FAILED ||
                                            res->err.code == VTS_ERR_AGENT_TIMEOUT);

    if ((!off && !failed) || ++*tries >= VTS_WAITER_SYNC_TRIES)
        return false;
    opts->recheck = off;
    return true;
}

/* What the waiter's event loop saw (its own thread runs the loop). */
typedef struct {
    const char *domain;
    bool news;   /* an event about the domain: look again */
    bool due;    /* the next deadline came */
    bool closed; /* the connection to libvirt went away */
} vts_waiter_state;

static void
vts_waiter_on_event(const vts_hv_event *ev, void *opaque)
{
    vts_waiter_state *w = opaque;

    if (strcmp(ev->domain, w->domain) == 0)
        w->news = true;
}

static void
vts_waiter_on_close(void *opaque)
{
    vts_waiter_state *w = opaque;

    w->closed = true;
}

static void
vts_waiter_on_timer(int timer, void *opaque)
{
    vts_waiter_state *w = opaque;

    (void)timer;
    w->due = true;
}

int
vts_waiter_run(const vts_hv_ops *ops, const vts_conf *conf, const char *domain,
               const char *reason)
{
    const char *uri = vts_conf_uri(conf);
    int64_t start = vts_mono_ns();
    vts_hv_conn *conn = NULL;
    vts_sync_opts opts;
    vts_sync_result res;
    vts_error err;
    vts_waiter_state w = {.domain = domain};
    char name[256], line[1024];
    bool seen = false, gone = false;
    int tries = 0;
    int timer = -1;
    int ret = -1;

    vts_report_escape(name, sizeof(name), domain);
    if (ops->loop_init(&err) < 0) {
        vts_log(VTS_LOG_ERR, "%s: after %s: %s", name, reason, err.message);
        return -1;
    }
    while (ops->connect(uri, &conn, &err) < 0) {
        if (vts_mono_ns() - start > VTS_WAITER_CONNECT_NS) {
            vts_log(VTS_LOG_ERR, "%s: after %s: %s", name, reason, err.message);
            return -1;
        }
        vts_waiter_sleep(500 * VTS_NS_PER_MS);
    }
    /* Registered before the first look: nothing that happens after it is
     * missed. */
    if (ops->events_register(conn, vts_waiter_on_event, vts_waiter_on_close, &w, &err) <
            0 ||
        (timer = ops->loop_add_timer(-1, vts_waiter_on_timer, &w)) < 0) {
        vts_log(VTS_LOG_ERR, "%s: after %s: %s", name, reason,
                timer < 0 && err.message[0] == '\0' ? "cannot set a timer" : err.message);
        ops->disconnect(conn);
        return -1;
    }

    vts_sync_opts_init(&opts);
    vts_conf_to_sync_opts(conf, &opts);
    opts.log = vts_log_sync_cb;
    for (;;) {
        int64_t waited = vts_mono_ns() - start;
        int64_t left;

        vts_error_clear(&err);
        if (vts_waiter_ready(ops, conn, domain, &seen, &gone, &err)) {
            vts_sync_domain(ops, conn, domain, &opts, &res);
            /* The agent may drop between our look and the sync: wait on. */
            if (res.action != VTS_ACTION_ERROR ||
                (res.err.code != VTS_ERR_AGENT_NOT_CONNECTED &&
                 res.err.code != VTS_ERR_PAUSED)) {
                bool again = vts_waiter_again(&opts, &res, &tries);

                vts_report_text(line, sizeof(line), domain, &res);
                vts_log(res.action == VTS_ACTION_ERROR && !again ? VTS_LOG_WARNING
                                                                 : VTS_LOG_INFO,
                        "%s [after %s, by the hook's waiter, %.1f s after the hook]%s",
                        line, reason, (double)(vts_mono_ns() - start) / VTS_NS_PER_SEC,
                        again ? "; checking again in 1 s" : "");
                ret = res.action == VTS_ACTION_ERROR ? -1 : 0;
                if (!again)
                    break;
                vts_waiter_sleep(VTS_NS_PER_SEC);
                continue;
            }
        }
        if (gone) {
            vts_log(VTS_LOG_INFO, "%s: not syncing after %s: %s", name, reason,
                    err.message[0] ? err.message : "the domain went away");
            break;
        }
        if ((!seen && waited >= VTS_WAITER_APPEAR_NS) || waited >= conf->agent_wait_ns) {
            vts_log(VTS_LOG_WARNING,
                    "%s: after %s, the guest %s within %.0f s; giving up (run "
                    "'vmtimesync %s' "
                    "once its agent runs)",
                    name, reason, seen ? "agent did not connect" : "did not appear",
                    (double)waited / VTS_NS_PER_SEC, name);
            break;
        }
        if (w.closed) {
            vts_log(VTS_LOG_WARNING,
                    "%s: after %s, lost the connection to libvirt; giving up (libvirtd's "
                    "reconnect hook starts a new waiter)",
                    name, reason);
            break;
        }
        /* Until libvirt tells of the domain (it starts, resumes, its agent
         * connects...) or the next deadline comes: no polling. */
        left =
            (!seen && VTS_WAITER_APPEAR_NS < conf->agent_wait_ns ? VTS_WAITER_APPEAR_NS
                                                                 : conf->agent_wait_ns) -
            (vts_mono_ns() - start);
        w.news = w.due = false;
        ops->loop_update_timer(timer, left <= 0 ? 0 : (int)(left / VTS_NS_PER_MS) + 2);
        while (!w.news && !w.due && !w.closed) {
            if (ops->loop_run_once(&err) < 0) {
                vts_log(VTS_LOG_ERR, "%s: after %s: %s", name, reason, err.message);
                goto cleanup;
            }
        }
    }

cleanup:
    ops->loop_remove_timer(timer);
    ops->disconnect(conn);
    return ret;
}
