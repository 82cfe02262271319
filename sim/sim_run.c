/* sim_run.c: one simulated run (see sim_run.h).
 *
 * The glue between the scheduler, the pool and the sync mirrors the
 * daemon's (vts_daemon_job in lib/vts_daemon_jobs.c, the timer's
 * vts_sched_expire in lib/vts_daemon_loop.c): it is the daemon's logic
 * with libvirt's event loop replaced by the driver below, which sleeps on
 * the virtual clock until the scheduler's next deadline or until a job
 * kicks it.
 */
#include "sim_run.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_clock.h"
#include "vts_conf.h"
#include "vts_pool.h"
#include "vts_sched.h"
#include "vts_sync.h"

/* The trickle: this many resumes, one a second. */
#define SIM_TRICKLE_S 60
/* A run that takes longer than this in virtual time is stuck. */
#define SIM_HORIZON_NS (3600LL * VTS_NS_PER_SEC)

typedef struct {
    int64_t trigger_ns; /* its last trigger */
    int64_t done_ns;    /* this wave: the sync that left it idle and fine,
                         * from its trigger */
    bool failed;
} sim_dom;

typedef struct {
    const sim_conf *conf;
    pthread_mutex_t lock; /* as the daemon's d->lock: sched, doms, wave */
    vts_sched *sched;
    vts_pool *pool;
    vts_conf vconf;
    sim_dom *doms;
    sim_wave *wave;
    int64_t wave_start;
    int64_t *lats; /* trickle: each healthy sync's latency from its trigger */
    int nlats, maxlats;
} sim_ctx;

/* With VTS_SIM_DEBUG set: the sync's own log lines, on virtual time. */
static void
sim_log(void *opaque, vts_log_level level, const char *domain, const char *msg)
{
    (void)opaque;
    (void)level;
    fprintf(stderr, "%10.6f %s: %s\n", (double)sim_clock_now() / VTS_NS_PER_SEC, domain,
            msg);
}

/* Queue @name for a worker, with ctx->lock held. */
static void
sim_push(sim_ctx *ctx, const char *name)
{
    sim_clock_pushed();
    if (vts_pool_push(ctx->pool, name) < 0)
        abort();
}

static int
sim_index(const char *name)
{
    return atoi(name + strlen("guest-"));
}

/* Worker thread: as vts_daemon_job. */
static void
sim_job(const char *item, void *opaque)
{
    sim_ctx *ctx = opaque;
    vts_sched_entry job;
    vts_sync_opts opts;
    vts_sync_result res;
    vts_sched_outcome outcome;
    vts_hv_conn *conn = NULL;
    char *name = NULL;
    sim_guest *g;
    int calls;
    bool ok;

    sim_clock_job_begin();
    pthread_mutex_lock(&ctx->lock);
    if (ctx->conf->fifo)
        ok = vts_sched_begin(ctx->sched, item, &job);
    else
        ok = vts_sched_begin_next(ctx->sched, &job);
    if (ok)
        name = strdup(job.name);
    vts_sync_opts_init(&opts);
    vts_conf_to_sync_opts(&ctx->vconf, &opts);
    pthread_mutex_unlock(&ctx->lock);
    if (!ok || !name)
        goto cleanup;
    opts.recheck = job.rechecks > 0;
    /* As vts_daemon_job: opt-out honoured, and the step's delay the one
     * this domain's earlier steps met. */
    opts.honour_opt_out = true;
    opts.delay_hint_ns = vts_sched_step_delay(&job);
    if (getenv("VTS_SIM_DEBUG"))
        opts.log = sim_log;
    g = sim_hv_guest(sim_index(name));

    memset(&res, 0, sizeof(res));
    sim_clock_lock();
    calls = g->calls;
    sim_clock_unlock();
    if (sim_hv_ops.connect("sim", &conn, &res.err) < 0)
        res.action = VTS_ACTION_ERROR;
    else
        vts_sync_domain(&sim_hv_ops, conn, name, &opts, &res);
    sim_clock_lock();
    calls = g->calls - calls;
    sim_clock_unlock();

    pthread_mutex_lock(&ctx->lock);
    outcome = vts_sched_finish(ctx->sched, name, &res, sim_clock_now());
    if (outcome == VTS_SCHED_REQUEUE)
        sim_push(ctx, name);
    for (size_t n = ctx->conf->fifo ? 0 : vts_sched_unhold(ctx->sched); n > 0; n--)
        sim_push(ctx, name);
    if (!g->hung) {
        sim_dom *d = &ctx->doms[sim_index(name)];

        ctx->wave->syncs++;
        ctx->wave->round_trips += calls;
        if (calls > ctx->wave->round_trips_max)
            ctx->wave->round_trips_max = calls;
        ctx->wave->steps += res.steps;
        if (outcome == VTS_SCHED_DONE && res.action != VTS_ACTION_ERROR) {
            d->done_ns = sim_clock_now() - d->trigger_ns;
            if (ctx->nlats < ctx->maxlats)
                ctx->lats[ctx->nlats++] = d->done_ns;
        }
        d->failed = outcome == VTS_SCHED_GAVE_UP;
    }
    pthread_mutex_unlock(&ctx->lock);

cleanup:
    sim_hv_ops.disconnect(conn);
    free(name);
    /* As the daemon kicks its loop: a deadline may have come nearer. */
    sim_clock_kick();
    sim_clock_job_end();
}

static void
sim_expired(const char *name, vts_sched_expiry what, void *opaque)
{
    if (what == VTS_SCHED_EXPIRE_QUEUE)
        sim_push(opaque, name);
}

static void
sim_idle_check(const vts_sched_entry *e, void *opaque)
{
    if (e->phase != VTS_PHASE_IDLE)
        *(bool *)opaque = false;
}

static int
sim_cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Resume guest @i (paused 1-10 s), with ctx->lock held. */
static void
sim_resume(sim_ctx *ctx, int i)
{
    sim_hv_pause(i, 1 * VTS_NS_PER_SEC, 10 * VTS_NS_PER_SEC);
    ctx->doms[i].trigger_ns = sim_clock_now();
    ctx->doms[i].done_ns = -1;
    ctx->doms[i].failed = false;
    if (vts_sched_trigger(ctx->sched, sim_hv_guest(i)->name, "resumed/unpaused",
                          sim_clock_now()))
        sim_push(ctx, sim_hv_guest(i)->name);
}

/* Are all the healthy guests done (with ctx->lock held)? */
static bool
sim_healthy_done(const sim_ctx *ctx)
{
    for (int i = 0; i < ctx->conf->n; i++) {
        if (!sim_hv_guest(i)->hung && ctx->doms[i].done_ns < 0)
            return false;
    }
    return true;
}

/* The driver, as the daemon's event loop: resume every guest at once (or
 * with @trickle, one healthy guest a second for SIM_TRICKLE_S), then run
 * the scheduler's deadlines until every domain is idle (or with @until_healthy,
 * until the healthy guests are done). */
static int
sim_wave_run(sim_ctx *ctx, sim_wave *w, bool trickle, bool until_healthy, vts_error *err)
{
    int n = ctx->conf->n;
    int64_t *done = calloc((size_t)(n + ctx->maxlats), sizeof(*done));
    int k = 0, next_guest = 0, triggers = 0;

    if (!done)
        return vts_error_set(err, VTS_ERR_INTERNAL, "out of memory");
    memset(w, 0, sizeof(*w));
    pthread_mutex_lock(&ctx->lock);
    ctx->wave = w;
    ctx->wave_start = sim_clock_now();
    ctx->nlats = 0;
    for (int i = 0; i < n && !trickle; i++)
        sim_resume(ctx, i);
    pthread_mutex_unlock(&ctx->lock);

    for (;;) {
        bool idle = true;
        int64_t due, next_trigger = SIM_NEVER;

        pthread_mutex_lock(&ctx->lock);
        while (trickle && triggers < SIM_TRICKLE_S &&
               sim_clock_now() >= ctx->wave_start + triggers * VTS_NS_PER_SEC) {
            while (sim_hv_guest(next_guest % n)->hung)
                next_guest++;
            sim_resume(ctx, next_guest++ % n);
            triggers++;
        }
        if (trickle && triggers < SIM_TRICKLE_S)
            next_trigger = ctx->wave_start + triggers * VTS_NS_PER_SEC;
        vts_sched_expire(ctx->sched, sim_clock_now(), sim_expired, ctx);
        vts_sched_foreach(ctx->sched, sim_idle_check, &idle);
        if (until_healthy)
            idle = sim_healthy_done(ctx);
        due = vts_sched_next_due(ctx->sched);
        pthread_mutex_unlock(&ctx->lock);
        if (idle && next_trigger == SIM_NEVER)
            break;
        if (sim_clock_now() - ctx->wave_start > SIM_HORIZON_NS) {
            free(done);
            return vts_error_set(err, VTS_ERR_INTERNAL, "still busy after an hour");
        }
        if (due < 0 || due > next_trigger)
            due = next_trigger;
        sim_clock_driver_wait(due);
    }
    w->idle_ns = sim_clock_now() - ctx->wave_start;

    sim_clock_lock();
    for (int i = 0; i < n; i++) {
        sim_guest *g = sim_hv_guest(i);
        int64_t off = llabs(g->offset_ns);

        if (g->hung) {
            w->hung++;
            continue;
        }
        w->healthy++;
        if (ctx->doms[i].done_ns < 0)
            w->not_done++;
        else
            done[k++] = ctx->doms[i].done_ns;
        if (g->within_ns < 0)
            w->off++;
        else if (g->within_ns - ctx->wave_start > w->stepped_ns)
            w->stepped_ns = g->within_ns - ctx->wave_start;
        if (off > w->worst_ns)
            w->worst_ns = off;
    }
    sim_clock_unlock();
    if (trickle) {
        /* Every trickled sync counts, from its own trigger. */
        memcpy(done, ctx->lats, (size_t)ctx->nlats * sizeof(*done));
        k = ctx->nlats;
    }
    if (k > 0) {
        qsort(done, (size_t)k, sizeof(*done), sim_cmp64);
        w->done_ns = done[k - 1];
        w->median_done_ns = done[(k - 1) / 2];
    }
    free(done);
    return 0;
}

int
sim_run(const sim_conf *conf, sim_result *res, vts_error *err)
{
    sim_ctx ctx;
    sim_hv_conf hc;
    vts_sched_conf sc;
    int ret = -1;
    int waves = conf->waves < 1               ? 1
                : conf->waves > SIM_WAVES_MAX ? SIM_WAVES_MAX
                                              : conf->waves;

    memset(&ctx, 0, sizeof(ctx));
    memset(res, 0, sizeof(*res));
    ctx.conf = conf;
    pthread_mutex_init(&ctx.lock, NULL);
    vts_conf_init(&ctx.vconf);
    /* The daemon's defaults, and its workers. */
    ctx.vconf.workers = conf->workers;
    vts_conf_to_sched_conf(&ctx.vconf, &sc);
    if (conf->no_cap)
        sc.unresponsive_max = 0;

    sim_hv_conf_init(&hc, conf->busybox);
    if (conf->idle) {
        /* TESTHOST.md: round trips on an idle machine. */
        hc.rtt_min_ns = 900 * VTS_NS_PER_MS / 1000;
        hc.rtt_max_ns = 1300 * VTS_NS_PER_MS / 1000;
    }
    sim_clock_reset(conf->workers);
    ctx.sched = vts_sched_new(&sc);
    ctx.doms = calloc((size_t)conf->n, sizeof(*ctx.doms));
    ctx.maxlats = conf->n + 2 * SIM_TRICKLE_S;
    ctx.lats = calloc((size_t)ctx.maxlats, sizeof(*ctx.lats));
    if (!ctx.sched || !ctx.doms || !ctx.lats ||
        sim_hv_init(&hc, conf->n, conf->hung_every, conf->seed) < 0) {
        vts_error_set(err, VTS_ERR_INTERNAL, "out of memory");
        goto cleanup;
    }
    sim_clock_join(); /* the driver */
    ctx.pool = vts_pool_new(conf->workers, sim_job, &ctx, err);
    if (!ctx.pool)
        goto leave;
    if (conf->bg_clients > 0 && sim_hv_background_start(conf->bg_clients) < 0) {
        vts_error_set(err, VTS_ERR_INTERNAL, "cannot start the background clients");
        goto leave;
    }
    ret = 0;
    for (int i = 0; i < waves && ret == 0; i++) {
        if (i > 0 && !conf->trickle)
            sim_clock_sleep(1 * VTS_NS_PER_SEC);
        /* The trickle starts as soon as the healthy guests are done. */
        ret = sim_wave_run(&ctx, &res->wave[i], conf->trickle && i == 1,
                           conf->trickle && i == 0, err);
        res->wave[i].hold_ns = (hc.hold_min_ns + hc.hold_max_ns) / 2;
    }
    if (conf->bg_clients > 0)
        sim_hv_background_stop();
    sim_hv_stats_get(&res->hv);

leave:
    sim_clock_leave();
    if (ctx.pool && vts_pool_stop(ctx.pool, 1000) == 0)
        vts_pool_free(ctx.pool);
cleanup:
    sim_hv_fini();
    free(ctx.doms);
    free(ctx.lats);
    vts_sched_free(ctx.sched);
    vts_conf_clear(&ctx.vconf);
    pthread_mutex_destroy(&ctx.lock);
    return ret;
}
