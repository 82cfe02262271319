/* vts_daemon_loop.c: the event loop thread's reactions: a domain event
 * becomes a scheduled sync, and the one timer moves everything due on
 * (reconnects, backoffs and re-checks, the watch, slow control clients).
 */
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>

#define VTS_DAEMON_ALLOW_PRIV
#include "vts_daemon_priv.h"

#include "vts_clock.h"
#include "vts_log.h"
#include "vts_report.h"
#include "vts_sync.h"

/* Make the loop's timer fire as soon as possible (any thread). */
void
vts_daemon_wake_loop(vts_daemon *d)
{
    __atomic_store_n(&d->wake_pending, true, __ATOMIC_SEQ_CST);
    if (d->timer >= 0)
        d->ops->loop_update_timer(d->timer, 0);
}

/* Loop thread: a domain event. */
void
vts_daemon_on_event(const vts_hv_event *ev, void *opaque)
{
    vts_daemon *d = opaque;
    int64_t now = vts_mono_ns();
    char name[256], trigger[VTS_SCHED_TRIGGER_MAX];
    bool queue = false;

    vts_report_escape(name, sizeof(name), ev->domain);
    vts_log(VTS_LOG_DEBUG, "%s: event %s/%s", name, vts_ev_kind_name(ev->kind),
            vts_ev_detail_name(ev->detail));
    snprintf(trigger, sizeof(trigger), "%s/%s", vts_ev_kind_name(ev->kind),
             vts_ev_detail_name(ev->detail));

    pthread_mutex_lock(&d->lock);
    switch (ev->kind) {
    case VTS_EV_SUSPENDED:
        vts_sched_suspended(d->sched, ev->domain, vts_ev_detail_name(ev->detail), now);
        /* It stays paused until someone resumes it: nothing is tried
         * meanwhile, and the operator learns why once. */
        if (ev->detail == VTS_EVD_IOERROR)
            vts_log(VTS_LOG_WARNING,
                    "%s: paused on an I/O error (error_policy='stop'); no sync until it "
                    "is resumed",
                    name);
        break;
    case VTS_EV_STARTED:
        /* A fresh boot reads the host's time from its RTC: nothing to fix,
         * but something to watch. */
        vts_daemon_watch_add(d, ev->domain, ev->detail != VTS_EVD_BOOTED);
        if (ev->detail == VTS_EVD_BOOTED)
            break;
        /* fall through */
    case VTS_EV_RESUMED:
    case VTS_EV_PMWAKEUP:
        vts_daemon_watch_add(d, ev->domain, true);
        if (vts_conf_domain_wanted(&d->conf, ev->domain))
            queue = vts_sched_trigger(d->sched, ev->domain, trigger, now);
        break;
    case VTS_EV_AGENT_CONNECTED:
        vts_daemon_watch_add(d, ev->domain, false);
        queue = vts_sched_agent_connected(d->sched, ev->domain, now);
        break;
    case VTS_EV_STOPPED:
        vts_sched_stopped(d->sched, ev->domain);
        vts_watch_remove(d->watch, ev->domain);
        vts_metrics_forget(d->metrics, ev->domain);
        break;
    case VTS_EV_AGENT_DISCONNECTED:
        break;
    case VTS_EV_JOB_COMPLETED:
        if (ev->downtime_ms >= 0)
            vts_log(VTS_LOG_INFO,
                    "%s: migration job completed, guest paused %" PRId64 " ms", name,
                    ev->downtime_ms);
        break;
    }
    if (queue)
        vts_daemon_push(d, ev->domain);
    pthread_mutex_unlock(&d->lock);
}

/* What one pass of vts_sched_expire did, for vts_daemon_on_timer. */
typedef struct {
    vts_daemon *d;
    size_t failed; /* waits that ended as failures, counted in the metrics */
} vts_daemon_expiry;

/* Loop thread, under d->lock: a backoff or re-check is due, or a wait for
 * the agent ran out. */
static void
vts_daemon_expired(const char *name, vts_sched_expiry what, void *opaque)
{
    vts_daemon_expiry *x = opaque;
    vts_daemon *d = x->d;
    const vts_sched_entry *e;
    char esc[256];

    if (what == VTS_SCHED_EXPIRE_QUEUE) {
        vts_daemon_push(d, name);
        return;
    }
    vts_report_escape(esc, sizeof(esc), name);
    /* Restored or reverted paused, and still paused: its agent cannot
     * connect until it runs. */
    if (what == VTS_SCHED_EXPIRE_PAUSED) {
        vts_log(VTS_LOG_INFO,
                "%s: still paused after agent_wait; it is synced when it resumes", esc);
        return;
    }
    vts_log(
        VTS_LOG_WARNING,
        "%s: the guest agent did not connect within agent_wait; giving up (vmtimesync %s "
        "fixes it by hand once the agent runs)",
        esc, esc);
    /* The commonest failure after a migration or restore: count it with the
     * last attempt's code (agent-not-connected, or paused when the guest
     * never ran). A name the hook announced that never came (an aborted
     * migration) had no attempt and is no failure. */
    e = vts_sched_get(d->sched, name);
    if (e && e->have_last && e->last.action == VTS_ACTION_ERROR) {
        vts_metrics_record(d->metrics, name, e->trigger, &e->last, d->ops->now_ns());
        x->failed++;
    }
}

/* The earlier of two due times (monotonic ns), -1 meaning none. */
static int64_t
vts_daemon_earlier(int64_t a, int64_t b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

/* Loop thread: the one timer. Reconnects, moves due domains on, drops slow
 * control clients, and re-arms itself for the next due time. */
void
vts_daemon_on_timer(int timer, void *opaque)
{
    vts_daemon *d = opaque;
    vts_daemon_expiry expiry = {d, 0};
    int64_t now = vts_mono_ns();
    int64_t due;
    int64_t ms = -1;

    (void)timer;
    /* What was asked before this point, this pass does. */
    __atomic_store_n(&d->wake_pending, false, __ATOMIC_SEQ_CST);
    vts_daemon_connect_on_timer(d, now);

    pthread_mutex_lock(&d->lock);
    vts_sched_expire(d->sched, now, vts_daemon_expired, &expiry);
    due = vts_sched_next_due(d->sched);
    pthread_mutex_unlock(&d->lock);
    if (expiry.failed)
        vts_daemon_write_metrics(d);
    due = vts_daemon_earlier(due, vts_daemon_watch_dispatch(d, now));
    if (d->ctl)
        due = vts_daemon_earlier(due, vts_ctl_server_expire(d->ctl, now));
    due = vts_daemon_earlier(due, vts_daemon_connect_next_due(d));
    if (due >= 0) {
        int64_t wait = due - vts_mono_ns();

        ms = wait <= 0 ? 0 : (wait + VTS_NS_PER_MS - 1) / VTS_NS_PER_MS;
        if (ms > INT_MAX / 2)
            ms = INT_MAX / 2;
    }
    d->ops->loop_update_timer(d->timer, (int)ms);
    /* A wake from another thread (a connect done, a sync finished) that
     * came during this pass may have been overwritten just now. */
    if (ms != 0 && __atomic_load_n(&d->wake_pending, __ATOMIC_SEQ_CST))
        d->ops->loop_update_timer(d->timer, 0);
}
