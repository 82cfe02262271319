/* sim_run.h: one simulated run of the daemon's scheduler, worker pool and
 * sync over the fake hypervisor: N guests resumed at once, once or twice.
 */
#ifndef SIM_RUN_H
#define SIM_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "sim_hv.h"
#include "vts_error.h"

#define SIM_WAVES_MAX 2

typedef struct {
    int n;          /* guests */
    int hung_every; /* every that-many-th guest's agent is hung; 0: none */
    int workers;    /* the daemon's concurrent agent calls */
    bool busybox;   /* busybox's hwclock in the guests, not util-linux's */
    bool idle;      /* get-time round trips of an idle machine (0.9-1.3 ms) */
    int bg_clients; /* other libvirtd clients holding workers */
    bool fifo;      /* pool order (vts_sched_begin), not vts_sched_begin_next */
    bool no_cap;    /* no limit on syncs of hung agents at once */
    int waves;      /* mass resumes, one after the other finished: 1 or 2 */
    bool trickle;   /* the second wave: one healthy guest resumed a second
                     * for 60 s, from when the first's healthy guests are
                     * done (while hung agents are still retried) */
    uint64_t seed;
} sim_conf;

/* One wave: every guest paused 1-10 s, then all triggered at once. Times
 * are from the wave's start; for a trickle, done times are each sync's
 * latency from its own trigger. */
typedef struct {
    int healthy, hung;
    int64_t stepped_ns; /* every healthy guest's clock within 2 ms */
    int64_t done_ns;    /* every healthy guest's sync finished and verified */
    int64_t median_done_ns;
    int64_t idle_ns;     /* ... and the hung ones given up on */
    int not_done;        /* healthy guests whose sync failed */
    int off;             /* healthy guests left more than 2 ms off */
    int64_t worst_ns;    /* largest |offset| of a healthy guest at the end */
    int syncs;           /* of healthy guests, re-checks included */
    int round_trips;     /* agent calls in those syncs */
    int round_trips_max; /* in one sync */
    int steps;
    int64_t hold_ns; /* mean guest-set-time hold of the hv conf */
} sim_wave;

typedef struct {
    sim_wave wave[SIM_WAVES_MAX];
    sim_hv_stats hv;
} sim_result;

/* Run @conf; fills @res. Returns 0, or -1 with @err set. */
int sim_run(const sim_conf *conf, sim_result *res, vts_error *err);

#endif /* SIM_RUN_H */
