/* vts_watch.h: watch mode: when the daemon measures each running guest
 * between events, and what a measurement leads to.
 *
 * Pure bookkeeping, like vts_sched.h: no threads and no clock of its own;
 * every call gets the time, and the daemon serialises calls with its lock.
 * The measurement itself is vts_watch_measure() on a worker thread.
 *
 * Spreading. Each watched domain has a phase within the interval. A domain
 * added takes the middle of the largest gap between the phases in use (the
 * first one: a random phase), so N domains added together are measured
 * interval/N apart, and the libvirtd workers they need are spread over the
 * interval instead of arriving in a burst. Each measurement is due at the
 * domain's slot (its phase in the current interval) plus a jitter drawn
 * anew every interval, uniform in [0, interval/10): the jitter never
 * accumulates, so the phases stay spread.
 *
 * Sharing the workers. Event-triggered syncs go first: no measurement
 * starts while a sync is queued (vts_watch_begin_next's @syncs_queued), and
 * none of a domain whose own sync is pending or under way (@busy: that one
 * is skipped for this interval). At most max_running measurements run at
 * once, plus one of a domain whose agent did not answer the last one: a
 * hung agent holds a worker for agent_timeout, never the others'
 * measurements.
 *
 * Correction. An offset beyond fix_above (when not never) asks for a sync
 * with trigger "watch". Never fighting the guest's NTP: a domain the watch
 * had synced is not synced by the watch again until an event (resume,
 * start, wakeup, the hook, a sweep: vts_watch_event) syncs it; meanwhile an
 * offset beyond the bound is "held", reported once.
 */
#ifndef VTS_WATCH_H
#define VTS_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vts_hv.h"
#include "vts_sync.h"

/* The trigger of a sync the watch asks for. */
#define VTS_WATCH_TRIGGER "watch"

typedef struct {
    int64_t interval_ns;  /* 0: off */
    int64_t fix_above_ns; /* < 0: never */
    int max_running;      /* measurements at once (at least 1) */
    uint64_t seed;        /* of the jitter and the first phase */
} vts_watch_conf;

/* What one measurement led to; also the `result` label of
 * vmtimesync_watch_measurements_total (vts_watch_verdict_name). */
typedef enum {
    VTS_WATCH_OK,      /* measured and left alone: within fix_above, or
                        * correction off (never) */
    VTS_WATCH_FIX,     /* measured, beyond fix_above: sync it (trigger watch) */
    VTS_WATCH_HELD,    /* measured, beyond fix_above again after the watch
                        * synced it, with no event since: not synced */
    VTS_WATCH_FAILED,  /* the agent was asked and did not answer well */
    VTS_WATCH_SKIPPED, /* not measured: its sync was pending or under way, it
                        * was paused, or its agent was not connected */
    VTS_WATCH_GONE,    /* not measured: not running, not there, no agent
                        * channel or opted out; no longer watched (not a
                        * measurement: not counted) */
} vts_watch_verdict;

typedef struct {
    char *name;
    double phase;      /* within the interval: 0 <= phase < 1 */
    int64_t slot_ns;   /* this interval's slot: epoch + phase + k * interval */
    int64_t due_ns;    /* slot + jitter */
    bool running;      /* a worker measures it */
    bool unresponsive; /* its last measurement timed out */
    bool fixed;        /* the watch had it synced; no event since */
    bool reported;     /* held, and said so, since it was fixed */
    bool have_offset;  /* the last measurement, for status */
    int64_t offset_ns;
    int64_t rtt_ns;
    int64_t measured_ns;      /* monotonic */
    int64_t measured_wall_ns; /* CLOCK_REALTIME */
} vts_watch_entry;

typedef struct vts_watch vts_watch;

/* A watch with @conf (copied), its intervals counted from @now. NULL when
 * out of memory. Free with vts_watch_free(), which accepts NULL. */
vts_watch *vts_watch_new(const vts_watch_conf *conf, int64_t now);
void vts_watch_free(vts_watch *w);

/* Replace the configuration (on reload). A new interval re-spaces every
 * domain's next measurement from @now. */
void vts_watch_set_conf(vts_watch *w, const vts_watch_conf *conf, int64_t now);

/* Watch @name (running, with an agent channel), first measured at its
 * slot. Returns false when it is watched already or out of memory. */
bool vts_watch_add(vts_watch *w, const char *name, int64_t now);

/* Stop watching @name (it stopped or left). A measurement under way ends
 * with VTS_WATCH_GONE. */
void vts_watch_remove(vts_watch *w, const char *name);

/* An event synced (or is about to sync) @name: a drift from now on may be
 * fixed by the watch again. */
void vts_watch_event(vts_watch *w, const char *name);

/* The watch asked for a sync of @name and it ended: from now on @name is
 * not synced by the watch again until vts_watch_event. */
void vts_watch_fixed(vts_watch *w, const char *name);

/* A worker takes the domain whose measurement is due first (at or before
 * @now), and copies its entry into @job (job->name stays the watch's: copy
 * it). False when the watch is off, @syncs_queued, nothing is due, or the
 * measurements allowed at once are running. Due domains for which @busy
 * (may be NULL) says true are skipped to their next slot, counted in
 * @skipped (may be NULL). */
bool vts_watch_begin_next(vts_watch *w, int64_t now, bool syncs_queued,
                          bool (*busy)(const char *name, void *opaque), void *opaque,
                          vts_watch_entry *job, size_t *skipped);

/* Give back a measurement taken but not made (a sync came first): due
 * again at once. */
void vts_watch_yield(vts_watch *w, const char *name);

/* A worker measured @name (vts_watch_measure's @res) at @now (monotonic)
 * and @wall_ns (CLOCK_REALTIME). Returns what it leads to; @moved_ns gets
 * the offset when it is VTS_WATCH_HELD and is the first held since the
 * domain was fixed (to report once), else 0. */
vts_watch_verdict vts_watch_finish(vts_watch *w, const char *name,
                                   const vts_sync_result *res, int64_t now,
                                   int64_t wall_ns, int64_t *moved_ns);

/* The earliest time at which vts_watch_begin_next may have work, or -1
 * (off, nothing watched, or as many measurements as allowed running:
 * call again when one ends). */
int64_t vts_watch_next_due(const vts_watch *w);

/* The entry of @name, or NULL. Borrowed; valid until the next call. */
const vts_watch_entry *vts_watch_get(const vts_watch *w, const char *name);

/* Call @fn for every watched domain, in the order they were added. */
void vts_watch_foreach(const vts_watch *w,
                       void (*fn)(const vts_watch_entry *e, void *opaque), void *opaque);

/* How many domains are watched. */
size_t vts_watch_count(const vts_watch *w);

/* "ok", "fixed", "held", "failed", "skipped", "gone". */
const char *vts_watch_verdict_name(vts_watch_verdict v);

/* Worker thread: measure @domain over @conn with guest-get-time only
 * (vts_sync_domain with check_only and check_quick against @conf's
 * fix_above, or @opts' threshold when never): lookup, state and XML as a
 * sync reads them (opt-out honoured), then mostly one sample. @opts gives
 * the timeout, samples and log. Fills @res; returns 0 or -1 as
 * vts_sync_domain. */
int vts_watch_measure(const vts_hv_ops *ops, vts_hv_conn *conn, const char *domain,
                      const vts_watch_conf *conf, const vts_sync_opts *opts,
                      vts_sync_result *res);

#endif /* VTS_WATCH_H */
