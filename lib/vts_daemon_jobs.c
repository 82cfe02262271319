/* vts_daemon_jobs.c: what the daemon's workers run: a domain's sync with
 * its log line and metrics, and the sweep of every running domain. Each
 * pool item is one job (vts_daemon_job); the watch's measurements are in
 * vts_daemon_watch.c.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VTS_DAEMON_ALLOW_PRIV
#include "vts_daemon_priv.h"

#include "vts_clock.h"
#include "vts_domxml.h"
#include "vts_log.h"
#include "vts_report.h"
#include "vts_sync.h"

/* Queue @name for a worker; with d->lock held. */
void
vts_daemon_push(vts_daemon *d, const char *name)
{
    if (vts_pool_push(d->pool, name) < 0)
        vts_log(VTS_LOG_ERR, "cannot queue a sync: out of memory");
}

/* Log the outcome of a sync in one line: the result, the trigger, the
 * pause, and the time from trigger to done. */
static void
vts_daemon_log_result(const vts_sched_entry *job, const vts_sync_result *res,
                      vts_sched_outcome outcome, int64_t now, int64_t next_ns)
{
    char line[1024], pause[64] = "", recheck[32] = "", next[96] = "";
    vts_log_level level = VTS_LOG_INFO;

    vts_report_text(line, sizeof(line), job->name, res);
    if (job->pause_ns >= 0) {
        char off[32];

        vts_clock_format_offset(off, sizeof(off), job->pause_ns);
        snprintf(pause, sizeof(pause), ", paused %s%s", off + 1,
                 strcmp(job->pause_reason, "ioerror") == 0 ? " on an I/O error" : "");
    }
    if (job->rechecks > 0)
        snprintf(recheck, sizeof(recheck), ", re-check %d", job->rechecks);
    switch (outcome) {
    case VTS_SCHED_WAIT:
        snprintf(next, sizeof(next), "; waiting for the guest agent");
        level = VTS_LOG_DEBUG;
        break;
    case VTS_SCHED_RETRY:
        snprintf(next, sizeof(next), "; retrying with backoff");
        level = VTS_LOG_WARNING;
        break;
    case VTS_SCHED_GAVE_UP:
        snprintf(next, sizeof(next), "; giving up");
        level = VTS_LOG_WARNING;
        break;
    case VTS_SCHED_REQUEUE:
        snprintf(next, sizeof(next), "; syncing again (triggered meanwhile)");
        /* A revert's Resumed comes while the try on Started meets the new
         * QEMU's agent not yet connected: not worth an operator's look. */
        if (res->action == VTS_ACTION_ERROR && vts_sched_is_wait(res->err.code))
            level = VTS_LOG_DEBUG;
        break;
    case VTS_SCHED_RECHECK:
        snprintf(next, sizeof(next),
                 "; residual over the tolerance, checking again in %.1f s",
                 (double)(next_ns - now) / VTS_NS_PER_SEC);
        break;
    case VTS_SCHED_DONE:
        break;
    }
    vts_log(level, "%s [trigger %s%s%s, %.1f ms after the trigger]%s", line, job->trigger,
            pause, recheck, (double)(now - job->trigger_ns) / VTS_NS_PER_MS, next);
}

/* Write the metrics file, if one is configured (any thread). */
void
vts_daemon_write_metrics(vts_daemon *d)
{
    char path[4096] = "";
    vts_error err;

    pthread_mutex_lock(&d->lock);
    if (d->conf.metrics_file)
        snprintf(path, sizeof(path), "%s", d->conf.metrics_file);
    pthread_mutex_unlock(&d->lock);
    if (path[0] && vts_metrics_write(d->metrics, path, &err) < 0)
        vts_log(VTS_LOG_WARNING, "metrics: %s", err.message);
}

/* Is @name a domain we should touch? Looks at its XML: agent channel and
 * opt-out. Fills @res with the reason when not. */
static bool
vts_daemon_check_xml(const vts_hv_ops *ops, vts_hv_conn *hv, const char *name,
                     vts_sync_result *res, bool *has_agent)
{
    vts_hv_dom *dom = NULL;
    char *xml = NULL;
    vts_domxml_info info;
    bool ok = false;

    *has_agent = false;
    if (ops->lookup(hv, name, &dom, &res->err) < 0 ||
        ops->dom_xml(dom, &xml, &res->err) < 0)
        goto cleanup;
    if (vts_domxml_scan(xml, strlen(xml), &info, &res->err) < 0)
        goto cleanup;
    *has_agent = info.has_agent_channel;
    if (info.opted_out) {
        vts_error_set(&res->err, VTS_ERR_OPTED_OUT,
                      "opted out in its metadata (<sync enabled='no'/> in namespace %s)",
                      VTS_DOMXML_NS);
        goto cleanup;
    }
    ok = true;

cleanup:
    free(xml);
    ops->dom_free(dom);
    return ok;
}

/* vts_sched_prune callback, with d->lock held: drop a forgotten domain's
 * metrics, and stop watching it. */
static void
vts_daemon_forget_metrics(const char *name, void *opaque)
{
    vts_daemon *d = opaque;

    vts_metrics_forget(d->metrics, name);
    vts_watch_remove(d->watch, name);
}

/* Worker thread: list the running domains and trigger those we serve. */
static void
vts_daemon_sweep(vts_daemon *d, vts_hv_conn *hv)
{
    char **names = NULL;
    size_t count = 0;
    vts_error err;
    size_t queued = 0;
    size_t forgotten;
    /* Before the list: what happens to a domain from then on is newer. */
    int64_t listed_ns = vts_mono_ns();

    if (d->ops->list_running(hv, &names, &count, &err) < 0) {
        vts_log(VTS_LOG_WARNING, "sweep: %s", err.message);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        vts_sync_result res;
        bool has_agent;
        bool wanted;

        memset(&res, 0, sizeof(res));
        pthread_mutex_lock(&d->lock);
        wanted = vts_conf_domain_wanted(&d->conf, names[i]);
        pthread_mutex_unlock(&d->lock);
        if (!wanted || !vts_daemon_check_xml(d->ops, hv, names[i], &res, &has_agent) ||
            !has_agent)
            continue;
        pthread_mutex_lock(&d->lock);
        vts_daemon_watch_add(d, names[i], true);
        if (vts_sched_trigger(d->sched, names[i], "sweep", vts_mono_ns())) {
            vts_daemon_push(d, names[i]);
            queued++;
        }
        pthread_mutex_unlock(&d->lock);
    }
    /* Forget the domains that stopped or left while we were not listening. */
    pthread_mutex_lock(&d->lock);
    forgotten =
        vts_sched_prune(d->sched, names, count, listed_ns, vts_daemon_forget_metrics, d);
    pthread_mutex_unlock(&d->lock);
    vts_log(
        VTS_LOG_INFO,
        "sweep: %zu running domains, %zu with a guest agent to check, %zu gone domains "
        "forgotten",
        count, queued, forgotten);
    vts_hv_names_free(names, count);
}

/* Worker thread: one job from the pool. */
void
vts_daemon_job(const char *item, void *opaque)
{
    vts_daemon *d = opaque;
    char *name = NULL;
    vts_sched_entry job;
    vts_sync_opts opts;
    vts_sync_result res;
    vts_sched_outcome outcome;
    vts_hv_conn *hv;
    vts_error cerr;
    const vts_sched_entry *entry;
    bool known;
    unsigned gen;
    int64_t now, next_ns;

    if (strcmp(item, VTS_DAEMON_ITEM_SWEEP) == 0) {
        hv = vts_daemon_worker_conn_get(d, &gen, &cerr);
        if (hv)
            vts_daemon_sweep(d, hv);
        else
            vts_log(VTS_LOG_WARNING, "sweep: %s", cerr.message);
        vts_daemon_worker_conn_put(d, hv, gen, false);
        return;
    }
    if (strncmp(item, VTS_DAEMON_ITEM_WATCH, VTS_DAEMON_ITEM_WATCH_LEN) == 0) {
        vts_daemon_watch_job(d, item + VTS_DAEMON_ITEM_WATCH_LEN);
        return;
    }
    pthread_mutex_lock(&d->lock);
    /* Not necessarily @item: the queued domain that should go first (a
     * hung agent's goes last). */
    if (!vts_sched_begin_next(d->sched, &job)) {
        pthread_mutex_unlock(&d->lock);
        return;
    }
    /* The entry's name may go with vts_sched_finish; ours stays. */
    name = strdup(job.name);
    if (!name) {
        memset(&res, 0, sizeof(res));
        res.action = VTS_ACTION_ERROR;
        vts_error_set(&res.err, VTS_ERR_INTERNAL, "out of memory");
        vts_sched_finish(d->sched, job.name, &res, vts_mono_ns());
        pthread_mutex_unlock(&d->lock);
        vts_daemon_wake_loop(d);
        return;
    }
    job.name = name;
    vts_sync_opts_init(&opts);
    vts_conf_to_sync_opts(&d->conf, &opts);
    pthread_mutex_unlock(&d->lock);
    opts.log = vts_log_sync_cb;
    /* A re-check corrects our own step: the tolerance is the goal. */
    opts.recheck = job.rechecks > 0;

    /* Domains opted out in their metadata are left alone; the step's delay
     * is the one this domain's earlier steps met. */
    opts.honour_opt_out = true;
    opts.delay_hint_ns = vts_sched_step_delay(&job);

    memset(&res, 0, sizeof(res));
    hv = vts_daemon_worker_conn_get(d, &gen, &res.err);
    if (!hv)
        res.action = VTS_ACTION_ERROR;
    else
        vts_sync_domain(vts_daemon_counted_ops(), hv, name, &opts, &res);
    vts_daemon_worker_conn_put(
        d, hv, gen, res.action == VTS_ACTION_ERROR && res.err.code == VTS_ERR_CONNECT);

    now = vts_mono_ns();
    pthread_mutex_lock(&d->lock);
    outcome = vts_sched_finish(d->sched, name, &res, now);
    /* What the watch asked for is done: it does not ask again for this
     * domain until an event (no fighting the guest's NTP). */
    if (strcmp(job.trigger, VTS_WATCH_TRIGGER) == 0 && job.rechecks == 0 &&
        outcome != VTS_SCHED_REQUEUE && outcome != VTS_SCHED_WAIT &&
        outcome != VTS_SCHED_RETRY)
        vts_watch_fixed(d->watch, name);
    if (outcome == VTS_SCHED_REQUEUE)
        vts_daemon_push(d, name);
    for (size_t n = vts_sched_unhold(d->sched); n > 0; n--)
        vts_daemon_push(d, name);
    entry = vts_sched_get(d->sched, name);
    known = entry != NULL;
    next_ns = entry ? entry->next_ns : now;
    pthread_mutex_unlock(&d->lock);

    vts_daemon_log_result(&job, &res, outcome, now, next_ns);
    /* A wait for the agent is a step on the way, not a result (its end,
     * when the agent never came, is: vts_daemon_expired); so is such a
     * try when a new trigger queued the domain again meanwhile. A domain
     * that left meanwhile gets no per-domain series. */
    if (outcome != VTS_SCHED_WAIT &&
        !(outcome == VTS_SCHED_REQUEUE && res.action == VTS_ACTION_ERROR &&
          vts_sched_is_wait(res.err.code))) {
        vts_metrics_record(d->metrics, known ? name : NULL,
                           job.rechecks > 0 ? "recheck" : job.trigger, &res,
                           d->ops->now_ns());
        vts_daemon_write_metrics(d);
    }
    /* Also when the watch waits for the syncs to drain. */
    vts_daemon_wake_loop(d);
    free(name);
}
