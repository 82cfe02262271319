/* sim_hv.h: a fake hypervisor for the simulation: N guests behind a
 * libvirtd with a limited worker pool, on the virtual clock.
 *
 * Each guest has a clock (the host's plus an offset, read with noise) and
 * an agent that answers guest-get-time and guest-set-time with latencies
 * drawn from what was measured on the test host (sim/README.md). A
 * guest-set-time sets the guest's clock when it arrives (qemu-ga's
 * settimeofday), then holds the agent and its libvirtd worker while
 * hwclock runs. A hung agent answers nothing: each call holds its worker
 * until the call's timeout. Every call that reaches libvirtd (agent or
 * not) needs one of libvirtd's max_workers, shared with background
 * clients, and at most max_client_requests per connection.
 */
#ifndef SIM_HV_H
#define SIM_HV_H

#include <stdbool.h>
#include <stdint.h>

#include "vts_hv.h"

/* The host's CLOCK_REALTIME at virtual time 0 (2026-01-01). */
#define SIM_EPOCH_NS (1767225600LL * 1000000000LL)

typedef struct {
    int64_t rtt_min_ns, rtt_max_ns;   /* guest-get-time round trip */
    int64_t hold_min_ns, hold_max_ns; /* guest-set-time: hwclock's run */
    int64_t noise_ns;                 /* guest clock read noise, uniform +-noise_ns */
    int64_t libvirt_ns;               /* a non-agent libvirt call (lookup, state, XML) */
    int max_workers;                  /* libvirtd.conf max_workers */
    int max_client_requests;          /* libvirtd.conf, per connection */
} sim_hv_conf;

typedef struct {
    char name[32];
    bool hung;
    uint64_t rng;
    int64_t offset_ns; /* guest - host; guarded by the clock's lock */
    int calls;         /* agent calls so far */
    int sets;          /* guest-set-time calls that arrived */
    int64_t within_ns; /* time a step got the clock within 2 ms, kept
                        * while later steps leave it so; -1: not within */
} sim_guest;

/* The measured defaults: util-linux's hwclock (@busybox: busybox's). */
void sim_hv_conf_init(sim_hv_conf *conf, bool busybox);

/* Set up @n guests (@hung_every: every that-many-th guest is hung, 0 for
 * none), seeded with @seed. Returns 0, -1 when out of memory. */
int sim_hv_init(const sim_hv_conf *conf, int n, int hung_every, uint64_t seed);
void sim_hv_fini(void);

/* Guest @i, borrowed. Fields are read and written under sim_clock_lock. */
sim_guest *sim_hv_guest(int i);
int sim_hv_count(void);

/* Put guest @i @min_ns to @max_ns behind (an outage). */
void sim_hv_pause(int i, int64_t min_ns, int64_t max_ns);

/* Statistics since sim_hv_init, and resetting the maxima. */
typedef struct {
    int agent_inflight_max; /* our agent calls between call and return */
    int workers_ours_max;   /* libvirtd workers held by our calls */
    int workers_all_max;    /* ... and by background clients */
    int64_t worker_wait_ns; /* our calls' total wait for a libvirtd worker */
    int calls;              /* our calls that reached libvirtd */
} sim_hv_stats;
void sim_hv_stats_get(sim_hv_stats *st);

/* Background clients (nova-compute and the like): @clients threads that
 * each hold one libvirtd worker for a uniform 10-190 ms, then think for as
 * long, until sim_hv_background_stop(). */
int sim_hv_background_start(int clients);
void sim_hv_background_stop(void);

/* A draw from guest @g's generator, uniform in [lo, hi]. */
int64_t sim_hv_draw(uint64_t *rng, int64_t lo, int64_t hi);

extern const vts_hv_ops sim_hv_ops;

#endif /* SIM_HV_H */
