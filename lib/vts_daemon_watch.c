/* vts_daemon_watch.c: the daemon's watch mode: which domains it watches,
 * handing the measurements that are due to the workers (syncs first),
 * and what a measurement leads to: nothing, a sync, or a log line.
 * vts_watch.c holds the watch's own bookkeeping.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VTS_DAEMON_ALLOW_PRIV
#include "vts_daemon_priv.h"

#include "vts_clock.h"
#include "vts_log.h"
#include "vts_report.h"
#include "vts_sync.h"

/* The watch's settings from d->conf (vts_conf_to_watch_conf: half the
 * workers measure at once at most, so that syncs always find room) and a
 * fresh seed. A reload's workers take effect at restart: the pool's count,
 * not the configuration's. With d->lock held (or before the loop runs). */
void
vts_daemon_watch_conf(const vts_daemon *d, vts_watch_conf *wc)
{
    vts_conf_to_watch_conf(&d->conf, d->pool_workers, wc);
    wc->seed = (uint64_t)vts_mono_ns() ^ ((uint64_t)getpid() << 32);
}

/* With d->lock held: watch @name from now on, if we look after it. An
 * event that syncs it (@event) makes a later drift the watch's to fix
 * again. */
void
vts_daemon_watch_add(vts_daemon *d, const char *name, bool event)
{
    if (!vts_conf_domain_wanted(&d->conf, name))
        return;
    vts_watch_add(d->watch, name, vts_mono_ns());
    if (event)
        vts_watch_event(d->watch, name);
}

/* vts_watch_begin_next's @busy: is a sync of @name pending or under way,
 * or is @name paused (its agent cannot answer; it is synced when it
 * resumes, and a guest paused on an I/O error gets no attempt at all)?
 * With d->lock held. */
static bool
vts_daemon_watch_busy(const char *name, void *opaque)
{
    return vts_sched_busy(opaque, name);
}

/* Loop thread: hand the watch measurements that are due to the workers,
 * unless a sync waits for one (syncs go first). Returns when the next one
 * is due (-1: none, or when a measurement or sync ends: they wake the loop). */
int64_t
vts_daemon_watch_dispatch(vts_daemon *d, int64_t now)
{
    vts_watch_entry job;
    size_t skipped = 0;
    int64_t due = -1;
    char item[VTS_DAEMON_ITEM_WATCH_LEN + 256];

    pthread_mutex_lock(&d->lock);
    if (d->conn && vts_sched_queued(d->sched) == 0) {
        while (vts_watch_begin_next(d->watch, now, false, vts_daemon_watch_busy, d->sched,
                                    &job, &skipped)) {
            snprintf(item, sizeof(item), "%s%s", VTS_DAEMON_ITEM_WATCH, job.name);
            if (strlen(job.name) >= sizeof(item) - VTS_DAEMON_ITEM_WATCH_LEN ||
                vts_pool_push(d->pool, item) < 0) {
                vts_watch_yield(d->watch, job.name); /* out of memory: later */
                break;
            }
        }
        due = vts_watch_next_due(d->watch);
    }
    pthread_mutex_unlock(&d->lock);
    if (skipped > 0) {
        for (; skipped > 0; skipped--)
            vts_metrics_watch_measured(d->metrics,
                                       vts_watch_verdict_name(VTS_WATCH_SKIPPED));
        /* No job runs for a skipped guest to write the file: with every
         * guest paused (a storage outage), it would not move at all. */
        vts_daemon_write_metrics(d);
    }
    return due;
}

/* Log what a watch measurement found; @moved is vts_watch_finish's, or
 * for VTS_WATCH_FAILED whether the last one had timed out already. */
static void
vts_daemon_watch_log(const char *name, const vts_watch_conf *wc,
                     const vts_sync_result *res, vts_watch_verdict v, int64_t moved)
{
    char esc[256], off[32], bound[32];

    vts_report_escape(esc, sizeof(esc), name);
    vts_clock_format_offset(off, sizeof(off), res->offset_ns);
    vts_clock_format_offset(bound, sizeof(bound), wc->fix_above_ns);
    switch (v) {
    case VTS_WATCH_OK:
        vts_log(VTS_LOG_DEBUG, "%s: watch: offset %s (rtt %.2f ms)", esc, off,
                (double)res->rtt_ns / VTS_NS_PER_MS);
        break;
    case VTS_WATCH_FIX:
        vts_log(VTS_LOG_INFO,
                "%s: watch: offset %s, beyond watch_fix_above (%s): syncing", esc, off,
                bound + 1);
        break;
    case VTS_WATCH_HELD:
        if (moved != 0)
            vts_log(
                VTS_LOG_WARNING,
                "%s: watch: clock moved %.0f ms since last step without an event; not "
                "stepping it again until an event (is the guest's NTP setting it?)",
                esc, (double)moved / VTS_NS_PER_MS);
        break;
    case VTS_WATCH_FAILED:
        /* A hung agent fails every interval: say it once a run of them. */
        vts_log(moved ? VTS_LOG_DEBUG : VTS_LOG_WARNING,
                "%s: watch: measuring failed: %s", esc, res->err.message);
        break;
    case VTS_WATCH_SKIPPED:
    case VTS_WATCH_GONE:
        vts_log(VTS_LOG_DEBUG, "%s: watch: not measured: %s", esc, res->err.message);
        break;
    }
}

/* Worker thread: measure @name for the watch (guest-get-time only). A
 * sync that came meanwhile goes first: the measurement is given back. */
void
vts_daemon_watch_job(vts_daemon *d, const char *name)
{
    vts_watch_conf wc;
    vts_sync_opts opts;
    vts_sync_result res;
    vts_watch_verdict v;
    vts_hv_conn *hv;
    unsigned gen;
    int64_t moved = 0, wall;
    bool queue = false, failing = false;

    pthread_mutex_lock(&d->lock);
    if (!vts_conf_domain_wanted(&d->conf, name)) {
        /* Excluded by a reload since it was added. */
        vts_watch_remove(d->watch, name);
        pthread_mutex_unlock(&d->lock);
        return;
    }
    if (vts_sched_queued(d->sched) > 0 || vts_daemon_watch_busy(name, d->sched)) {
        vts_watch_yield(d->watch, name);
        pthread_mutex_unlock(&d->lock);
        return;
    }
    vts_daemon_watch_conf(d, &wc);
    vts_sync_opts_init(&opts);
    vts_conf_to_sync_opts(&d->conf, &opts);
    pthread_mutex_unlock(&d->lock);
    opts.log = vts_log_sync_cb;

    memset(&res, 0, sizeof(res));
    hv = vts_daemon_worker_conn_get(d, &gen, &res.err);
    if (!hv)
        res.action = VTS_ACTION_ERROR;
    else
        vts_watch_measure(vts_daemon_counted_ops(), hv, name, &wc, &opts, &res);
    vts_daemon_worker_conn_put(
        d, hv, gen, res.action == VTS_ACTION_ERROR && res.err.code == VTS_ERR_CONNECT);
    wall = d->ops->now_ns();

    pthread_mutex_lock(&d->lock);
    {
        const vts_watch_entry *e = vts_watch_get(d->watch, name);

        failing = e && e->unresponsive;
    }
    v = vts_watch_finish(d->watch, name, &res, vts_mono_ns(), wall, &moved);
    if (v == VTS_WATCH_FIX)
        queue = vts_sched_trigger(d->sched, name, VTS_WATCH_TRIGGER, vts_mono_ns());
    if (queue)
        vts_daemon_push(d, name);
    /* Under d->lock, as a stop event's forgetting is: a domain that
     * stopped meanwhile gets no series back. */
    if (v == VTS_WATCH_GONE &&
        (res.err.code == VTS_ERR_NOT_FOUND || res.err.code == VTS_ERR_NOT_RUNNING))
        vts_metrics_forget(d->metrics, name);
    if (v != VTS_WATCH_GONE && res.have_offset)
        vts_metrics_guest_offset(d->metrics, name, res.offset_ns, wall);
    pthread_mutex_unlock(&d->lock);

    vts_daemon_watch_log(name, &wc, &res, v, v == VTS_WATCH_FAILED ? failing : moved);
    if (v != VTS_WATCH_GONE) {
        vts_metrics_watch_measured(d->metrics, vts_watch_verdict_name(v));
        vts_daemon_write_metrics(d);
    }
    vts_daemon_wake_loop(d);
}
