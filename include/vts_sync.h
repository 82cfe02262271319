/* vts_sync.h: measure a guest's clock offset, step it, verify it.
 *
 * The method, and why:
 *  - Measure: bracketed guest-get-time calls, each between two reads of the
 *    host's CLOCK_REALTIME: offset = guest time - midpoint of the bracket,
 *    known to within half the round trip. One sample decides when its
 *    offset is beyond (or within) the threshold by more than that
 *    uncertainty; only a sample too close to call is followed by more (up
 *    to opts->samples), and the one with the smallest round trip is kept.
 *  - Step: guest-set-time with the host's time at sending plus the one-way
 *    delay, so the guest lands on the host's time when it executes the
 *    command, not one delay behind. The delay is the one learned from this
 *    domain's earlier steps when the caller has it (the daemon), else half
 *    the better of two round trips. qemu-ga sets the clock at once, then
 *    runs /sbin/hwclock -w (util-linux's waits up to a second for the RTC's
 *    second boundary) and answers only after it: the step lands long before
 *    the call returns.
 *  - Verify: one more sample, more only when it cannot tell the residual
 *    from the tolerance. A residual clearly beyond the tolerance tells the
 *    delay the step really met (the estimate minus the residual): one
 *    correction with it. At most two steps; a correction that lands no
 *    better than the step before stops the sync with that diagnosis (the
 *    guest's clock does not hold what it is given). The host's own clock is
 *    checked (adjtimex) before any agent call.
 *  - Fallback (optional, off by default): see vts_fallback.h.
 */
#ifndef VTS_SYNC_H
#define VTS_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include "vts_clock.h"
#include "vts_error.h"
#include "vts_fallback.h"
#include "vts_hv.h"
#include "vts_log.h"

/* No step when the measured offset is smaller than this: 5 ms is twice the
 * worst measurement noise seen on an emulated (TCG) guest, far below the
 * offset any pause leaves, and what a guest's NTP slews away in 10 s. */
#define VTS_SYNC_DEFAULT_THRESHOLD_NS (5 * VTS_NS_PER_MS)
/* After a step, a residual beyond this by more than the verifying sample's
 * uncertainty triggers one correction. */
#define VTS_SYNC_DEFAULT_TOLERANCE_NS (1 * VTS_NS_PER_MS)
#define VTS_SYNC_DEFAULT_SAMPLES 5
#define VTS_SYNC_MAX_SAMPLES 64
/* Time safety. A step larger than this (either way) is reported and not
 * applied unless forced: a guest a day off points at a wrong clock
 * somewhere, not at a pause. */
#define VTS_SYNC_DEFAULT_MAX_STEP_NS (86400LL * VTS_NS_PER_SEC)
/* A guest ahead of the host is stepped back only by up to this much unless
 * forced: software in the guest may not expect time to go backwards. A
 * pause only ever puts guests behind; ahead means another clock was wrong. */
#define VTS_SYNC_DEFAULT_MAX_BACKWARD_NS (1 * VTS_NS_PER_SEC)
/* The host's clock counts as unsynchronized when adjtimex says so or its
 * maximum error is above this. */
#define VTS_SYNC_HOST_MAXERROR_NS (1 * VTS_NS_PER_SEC)
/* Seconds libvirt waits for each agent reply. */
#define VTS_SYNC_DEFAULT_TIMEOUT_S 5
/* Steps per sync: the step and at most one correction. */
#define VTS_SYNC_MAX_STEPS 2
/* Samples a verify takes at most. */
#define VTS_SYNC_VERIFY_SAMPLES 3
/* The most guest agent (and monitor) calls one vts_sync_dom() makes with
 * @samples samples per measurement, so that whoever waits for a whole sync
 * (vmtimesyncd on SIGTERM) can bound it by this times the agent timeout: a
 * measurement, then up to VTS_SYNC_MAX_STEPS steps each verified by up to
 * VTS_SYNC_VERIFY_SAMPLES samples, and the RTC reset. With the guest-exec
 * fallback (@exec): the refused guest-set-time and guest-info, then each
 * step is a guest-exec (each date path tried once), one timeout's worth of
 * guest-exec-status polls and the verify. Follows vts_sync.c's step loop:
 * change both. */
#define VTS_SYNC_VERIFY_MAX(samples)                                                     \
    ((samples) < VTS_SYNC_VERIFY_SAMPLES ? (samples) : VTS_SYNC_VERIFY_SAMPLES)
#define VTS_SYNC_MAX_AGENT_CALLS(samples, exec)                                          \
    ((exec) ? (samples) + 2 +                                                            \
                  VTS_SYNC_MAX_STEPS * (2 + 1 + VTS_SYNC_VERIFY_MAX(samples)) + 1        \
            : (samples) + VTS_SYNC_MAX_STEPS * (1 + VTS_SYNC_VERIFY_MAX(samples)) + 1)

typedef struct {
    int64_t threshold_ns;
    int64_t tolerance_ns;
    int samples;      /* guest-get-time calls per measurement */
    int timeout_s;    /* per agent call */
    bool check_only;  /* measure and report, never step */
    bool check_quick; /* with check_only: stop sampling as soon as the offset
                       * is clearly beyond or within check_bound_ns (mostly
                       * after one sample) instead of taking every sample:
                       * the daemon's watch, which only needs to know which
                       * side of its bound a guest is */
    int64_t check_bound_ns;
    bool allow_unsynced_host; /* step even when the host's clock is unsynced */
    int64_t max_step_ns;      /* 0: no limit */
    int64_t max_backward_ns;  /* < 0: no limit */
    bool force;               /* apply steps beyond max_step and max_backward */
    bool recheck;             /* re-checking our own step: step past the tolerance, not
                               * the threshold (the threshold still bounds the verify) */
    vts_fallback set_time_fallback; /* VTS_FALLBACK_NONE by default */
    int64_t delay_hint_ns;          /* guest-set-time's one-way delay learned from this
                                     * domain's earlier steps; < 0 (the default): none */
    bool honour_opt_out;            /* vts_sync_domain: refuse domains opted out in
                                     * their metadata (VTS_ERR_OPTED_OUT) */
    vts_log_fn log;                 /* may be NULL */
    void *log_opaque;
} vts_sync_opts;

/* One bracketed guest-get-time. */
typedef struct {
    int64_t offset_ns; /* guest - host midpoint */
    int64_t rtt_ns;    /* host time after - before */
} vts_sample;

typedef enum {
    VTS_ACTION_NONE,    /* measured, within the threshold, left alone */
    VTS_ACTION_CHECKED, /* measured only (check_only) */
    VTS_ACTION_STEPPED, /* stepped and verified */
    VTS_ACTION_ERROR,   /* see err */
} vts_action;

typedef struct {
    vts_action action;
    bool have_offset;
    int64_t offset_ns; /* before any step */
    int64_t rtt_ns;    /* round trip of the kept sample */
    bool have_residual;
    int64_t residual_ns; /* after the last step */
    int steps;           /* steps made (guest-set-time calls or dates run) */
    int round_trips;     /* agent calls made */
    bool have_landed_delay;
    int64_t landed_delay_ns; /* the one-way delay the last guest-set-time
                              * landed with (the estimate minus the residual):
                              * for the caller to learn (opts->delay_hint_ns) */
    bool via_exec;           /* guest-set-time was refused: stepped (or tried to)
                              * with the guest's date through guest-exec */
    vts_error err;
} vts_sync_result;

/* vts_sync_median() takes at most this many values. */
#define VTS_SYNC_MEDIAN_MAX 16

/* The lower median of the first @n (1 to VTS_SYNC_MEDIAN_MAX; more are
 * ignored) values of @v, which is left as it is: the delay a step should
 * allow for, from the delays earlier steps met. */
int64_t vts_sync_median(const int64_t *v, size_t n);

/* Fill @opts with the defaults above. */
void vts_sync_opts_init(vts_sync_opts *opts);

/* The name of @action as used in output and JSON: "none", "checked",
 * "stepped", "error". */
const char *vts_action_name(vts_action action);

/* Take opts->samples bracketed guest-get-time samples of @dom and keep the
 * one with the smallest round trip in @best. Stops at the first failing
 * call (an unresponsive agent is not asked again and again). @domain is
 * used in log lines only. */
int vts_sync_measure(const vts_hv_ops *ops, vts_hv_dom *dom, const char *domain,
                     const vts_sync_opts *opts, vts_sample *best, vts_error *err);

/* Measure @dom and, unless opts->check_only or the offset is within the
 * threshold, step and verify it. Fills @res completely; returns 0 when the
 * domain is fine (res->action != VTS_ACTION_ERROR), -1 otherwise. */
int vts_sync_dom(const vts_hv_ops *ops, vts_hv_dom *dom, const char *domain,
                 const vts_sync_opts *opts, vts_sync_result *res);

/* Look up @domain on @conn, check that it runs, read its XML once (agent
 * channel and its state, opt-out with opts->honour_opt_out, RTC policy) and
 * sync it as vts_sync_dom() does. No agent call is made when the domain has
 * no agent channel or libvirt reports the channel disconnected
 * (VTS_ERR_NO_AGENT_CHANNEL, VTS_ERR_AGENT_NOT_CONNECTED). */
int vts_sync_domain(const vts_hv_ops *ops, vts_hv_conn *conn, const char *domain,
                    const vts_sync_opts *opts, vts_sync_result *res);

#endif /* VTS_SYNC_H */
