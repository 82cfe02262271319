/* vts_watch.c: watch mode's schedule and correction policy (see
 * vts_watch.h). */
#include "vts_watch.h"

#include <stdlib.h>
#include <string.h>

/* The jitter of a measurement is below interval / VTS_WATCH_JITTER_DIV. */
#define VTS_WATCH_JITTER_DIV 10

struct vts_watch {
    vts_watch_conf conf;
    int64_t epoch_ns; /* slots are epoch + (phase + k) * interval */
    uint64_t rng;
    vts_watch_entry *entries;
    size_t count;
};

/* splitmix64: small, seedable, good enough for jitter. */
static uint64_t
vts_watch_rand(vts_watch *w)
{
    uint64_t z = (w->rng += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double
vts_watch_rand01(vts_watch *w)
{
    return (double)(vts_watch_rand(w) >> 11) / (double)(1ULL << 53);
}

static void
vts_watch_set_due(vts_watch *w, vts_watch_entry *e)
{
    int64_t span = w->conf.interval_ns / VTS_WATCH_JITTER_DIV;

    e->due_ns =
        e->slot_ns + (span > 0 ? (int64_t)(vts_watch_rand01(w) * (double)span) : 0);
}

/* @e's first slot at or after @now. */
static void
vts_watch_place(vts_watch *w, vts_watch_entry *e, int64_t now)
{
    int64_t iv = w->conf.interval_ns;
    int64_t first;

    if (iv <= 0)
        return;
    first = w->epoch_ns + (int64_t)(e->phase * (double)iv);
    e->slot_ns = first;
    if (now > first)
        e->slot_ns = first + (now - first + iv - 1) / iv * iv;
    vts_watch_set_due(w, e);
}

/* @e was measured (or skipped) in its current slot: on to the next one
 * that is still to come (a late one is not followed by a catch-up burst). */
static void
vts_watch_advance(vts_watch *w, vts_watch_entry *e, int64_t now)
{
    e->slot_ns += w->conf.interval_ns;
    if (e->slot_ns <= now)
        vts_watch_place(w, e, now);
    else
        vts_watch_set_due(w, e);
}

vts_watch *
vts_watch_new(const vts_watch_conf *conf, int64_t now)
{
    vts_watch *w = calloc(1, sizeof(*w));

    if (!w)
        return NULL;
    w->conf = *conf;
    w->epoch_ns = now;
    w->rng = conf->seed;
    return w;
}

void
vts_watch_free(vts_watch *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->count; i++)
        free(w->entries[i].name);
    free(w->entries);
    free(w);
}

void
vts_watch_set_conf(vts_watch *w, const vts_watch_conf *conf, int64_t now)
{
    bool respace = conf->interval_ns != w->conf.interval_ns;
    uint64_t rng = w->rng;

    w->conf = *conf;
    w->rng = rng;
    if (!respace)
        return;
    w->epoch_ns = now;
    for (size_t i = 0; i < w->count; i++)
        vts_watch_place(w, &w->entries[i], now);
}

static vts_watch_entry *
vts_watch_find(const vts_watch *w, const char *name)
{
    for (size_t i = 0; i < w->count; i++) {
        if (strcmp(w->entries[i].name, name) == 0)
            return &w->entries[i];
    }
    return NULL;
}

static int
vts_watch_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* The middle of the largest gap between the phases in use (circular);
 * a random phase when there are none. */
static double
vts_watch_free_phase(vts_watch *w)
{
    double *ph = NULL;
    double best_start = 0, best_gap = -1, phase;

    if (w->count == 0 || !(ph = malloc(w->count * sizeof(*ph))))
        return vts_watch_rand01(w);
    for (size_t i = 0; i < w->count; i++)
        ph[i] = w->entries[i].phase;
    qsort(ph, w->count, sizeof(*ph), vts_watch_cmp_double);
    for (size_t i = 0; i < w->count; i++) {
        double next = i + 1 < w->count ? ph[i + 1] : ph[0] + 1.0;

        if (next - ph[i] > best_gap) {
            best_gap = next - ph[i];
            best_start = ph[i];
        }
    }
    free(ph);
    phase = best_start + best_gap / 2;
    return phase >= 1.0 ? phase - 1.0 : phase;
}

bool
vts_watch_add(vts_watch *w, const char *name, int64_t now)
{
    vts_watch_entry *grown = NULL;
    vts_watch_entry e;

    if (vts_watch_find(w, name))
        return false;
    memset(&e, 0, sizeof(e));
    if (!(e.name = strdup(name)))
        return false;
    grown = realloc(w->entries, (w->count + 1) * sizeof(*grown));
    if (!grown) {
        free(e.name);
        return false;
    }
    w->entries = grown;
    e.phase = vts_watch_free_phase(w);
    vts_watch_place(w, &e, now);
    w->entries[w->count++] = e;
    return true;
}

void
vts_watch_remove(vts_watch *w, const char *name)
{
    vts_watch_entry *e = vts_watch_find(w, name);
    size_t i;

    if (!e)
        return;
    i = (size_t)(e - w->entries);
    free(e->name);
    memmove(&w->entries[i], &w->entries[i + 1], (w->count - i - 1) * sizeof(*e));
    w->count--;
}

void
vts_watch_event(vts_watch *w, const char *name)
{
    vts_watch_entry *e = vts_watch_find(w, name);

    if (e)
        e->fixed = e->reported = false;
}

void
vts_watch_fixed(vts_watch *w, const char *name)
{
    vts_watch_entry *e = vts_watch_find(w, name);

    if (e) {
        e->fixed = true;
        e->reported = false;
    }
}

/* How many measurements run, of answering and of unresponsive agents. */
static void
vts_watch_running(const vts_watch *w, int *answering, int *unresponsive)
{
    *answering = *unresponsive = 0;
    for (size_t i = 0; i < w->count; i++) {
        if (w->entries[i].running && w->entries[i].unresponsive)
            ++*unresponsive;
        else if (w->entries[i].running)
            ++*answering;
    }
}

/* May a measurement of @e start, with @running[0] of answering agents and
 * @running[1] of unresponsive ones under way? */
static bool
vts_watch_room(const vts_watch *w, const vts_watch_entry *e, const int *running)
{
    int max = w->conf.max_running > 0 ? w->conf.max_running : 1;

    return e->unresponsive ? running[1] < 1 : running[0] < max;
}

bool
vts_watch_begin_next(vts_watch *w, int64_t now, bool syncs_queued,
                     bool (*busy)(const char *name, void *opaque), void *opaque,
                     vts_watch_entry *job, size_t *skipped)
{
    int running[2];

    if (w->conf.interval_ns <= 0 || syncs_queued)
        return false;
    vts_watch_running(w, &running[0], &running[1]);
    for (;;) {
        vts_watch_entry *best = NULL;

        for (size_t i = 0; i < w->count; i++) {
            vts_watch_entry *e = &w->entries[i];

            if (e->running || e->due_ns > now || !vts_watch_room(w, e, running))
                continue;
            if (!best || e->due_ns < best->due_ns)
                best = e;
        }
        if (!best)
            return false;
        if (busy && busy(best->name, opaque)) {
            /* Its sync measures it anyway: this interval is done. */
            vts_watch_advance(w, best, now);
            if (skipped)
                ++*skipped;
            continue;
        }
        best->running = true;
        *job = *best;
        return true;
    }
}

void
vts_watch_yield(vts_watch *w, const char *name)
{
    vts_watch_entry *e = vts_watch_find(w, name);

    if (e)
        e->running = false;
}

/* Errors that mean the domain is not one to watch (any more). */
static bool
vts_watch_is_gone(vts_err_code code)
{
    return code == VTS_ERR_NOT_FOUND || code == VTS_ERR_NOT_RUNNING ||
           code == VTS_ERR_NO_AGENT_CHANNEL || code == VTS_ERR_OPTED_OUT;
}

vts_watch_verdict
vts_watch_finish(vts_watch *w, const char *name, const vts_sync_result *res, int64_t now,
                 int64_t wall_ns, int64_t *moved_ns)
{
    vts_watch_entry *e = vts_watch_find(w, name);
    vts_watch_verdict v = VTS_WATCH_OK;
    int64_t off;

    *moved_ns = 0;
    if (!e || !e->running)
        return VTS_WATCH_GONE;
    e->running = false;
    if (res->action == VTS_ACTION_ERROR || !res->have_offset) {
        if (vts_watch_is_gone(res->err.code)) {
            vts_watch_remove(w, name);
            return VTS_WATCH_GONE;
        }
        if (res->err.code == VTS_ERR_PAUSED ||
            res->err.code == VTS_ERR_AGENT_NOT_CONNECTED) {
            v = VTS_WATCH_SKIPPED;
        } else {
            e->unresponsive = res->err.code == VTS_ERR_AGENT_TIMEOUT;
            v = VTS_WATCH_FAILED;
        }
        vts_watch_advance(w, e, now);
        return v;
    }
    e->unresponsive = false;
    e->have_offset = true;
    e->offset_ns = res->offset_ns;
    e->rtt_ns = res->rtt_ns;
    e->measured_ns = now;
    e->measured_wall_ns = wall_ns;
    off = res->offset_ns < 0 ? -res->offset_ns : res->offset_ns;
    if (w->conf.fix_above_ns >= 0 && off > w->conf.fix_above_ns) {
        if (!e->fixed) {
            v = VTS_WATCH_FIX;
        } else {
            v = VTS_WATCH_HELD;
            if (!e->reported)
                *moved_ns = res->offset_ns;
            e->reported = true;
        }
    }
    vts_watch_advance(w, e, now);
    return v;
}

int64_t
vts_watch_next_due(const vts_watch *w)
{
    int64_t due = -1;
    int running[2];

    if (w->conf.interval_ns <= 0)
        return -1;
    vts_watch_running(w, &running[0], &running[1]);
    for (size_t i = 0; i < w->count; i++) {
        const vts_watch_entry *e = &w->entries[i];

        if (e->running || !vts_watch_room(w, e, running))
            continue;
        if (due < 0 || e->due_ns < due)
            due = e->due_ns;
    }
    return due;
}

const vts_watch_entry *
vts_watch_get(const vts_watch *w, const char *name)
{
    return vts_watch_find(w, name);
}

void
vts_watch_foreach(const vts_watch *w, void (*fn)(const vts_watch_entry *e, void *opaque),
                  void *opaque)
{
    for (size_t i = 0; i < w->count; i++)
        fn(&w->entries[i], opaque);
}

size_t
vts_watch_count(const vts_watch *w)
{
    return w->count;
}

const char *
vts_watch_verdict_name(vts_watch_verdict v)
{
    switch (v) {
    case VTS_WATCH_OK:
        return "ok";
    case VTS_WATCH_FIX:
        return "fixed";
    case VTS_WATCH_HELD:
        return "held";
    case VTS_WATCH_FAILED:
        return "failed";
    case VTS_WATCH_SKIPPED:
        return "skipped";
    case VTS_WATCH_GONE:
        break;
    }
    return "gone";
}

int
vts_watch_measure(const vts_hv_ops *ops, vts_hv_conn *conn, const char *domain,
                  const vts_watch_conf *conf, const vts_sync_opts *opts,
                  vts_sync_result *res)
{
    vts_sync_opts o = *opts;

    o.check_only = true;
    o.check_quick = true;
    o.check_bound_ns = conf->fix_above_ns >= 0 ? conf->fix_above_ns : opts->threshold_ns;
    o.honour_opt_out = true;
    return vts_sync_domain(ops, conn, domain, &o, res);
}
