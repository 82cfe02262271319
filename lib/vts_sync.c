/* vts_sync.c: measure, step and verify one guest's clock. */
#include "vts_sync.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vts_agent.h"
#include "vts_domxml.h"

#define VTS_FALLBACK_ALLOW_PRIV
#include "vts_fallback_priv.h"
#define VTS_SAFETY_ALLOW_PRIV
#include "vts_safety_priv.h"
#define VTS_SYNC_MSG_ALLOW_PRIV
#include "vts_sync_msg_priv.h"

/* A measurement under way: the best sample so far and how many were taken. */
typedef struct {
    vts_sample best;
    bool have;
    int taken;
} vts_sync_meas;

/* The one-way delay a step allows for never leaves [0, 100 ms]: it is a few
 * ms, tens on a loaded host. A step that lands farther off than this did
 * not meet a long delay: the guest's clock moved meanwhile (the domain was
 * paused while its hwclock ran, something in the guest stepped it), and the
 * correction steps again with the delay it had, instead of "learning" a
 * delay of seconds and landing that far ahead. */
#define VTS_SYNC_MAX_DELAY_NS (100 * VTS_NS_PER_MS)
/* VTS_SYNC_MAX_STEPS (vts_sync.h): each step is an RTC write in the guest
 * (util-linux's hwclock -w, 0.5-2 s of agent time); a step that lands beyond
 * the tolerance tells the delay it really met, so one correction is enough
 * unless something in the guest moves its clock, which a third step would
 * not cure either. */
/* VTS_SYNC_VERIFY_SAMPLES (vts_sync.h): a verify takes one sample, or more
 * while the residual is beyond the tolerance as measured but not by more
 * than its uncertainty (a better round trip may tell). */
/* The delays a sync's steps landed with, kept for the median. */
#define VTS_SYNC_MAX_LANDED VTS_SYNC_MAX_STEPS
void
vts_sync_opts_init(vts_sync_opts *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->threshold_ns = VTS_SYNC_DEFAULT_THRESHOLD_NS;
    opts->tolerance_ns = VTS_SYNC_DEFAULT_TOLERANCE_NS;
    opts->samples = VTS_SYNC_DEFAULT_SAMPLES;
    opts->timeout_s = VTS_SYNC_DEFAULT_TIMEOUT_S;
    opts->max_step_ns = VTS_SYNC_DEFAULT_MAX_STEP_NS;
    opts->max_backward_ns = VTS_SYNC_DEFAULT_MAX_BACKWARD_NS;
    opts->delay_hint_ns = -1;
}

const char *
vts_action_name(vts_action action)
{
    switch (action) {
    case VTS_ACTION_NONE:
        return "none";
    case VTS_ACTION_CHECKED:
        return "checked";
    case VTS_ACTION_STEPPED:
        return "stepped";
    case VTS_ACTION_ERROR:
        break;
    }
    return "error";
}

static void vts_sync_log(const vts_sync_opts *opts, vts_log_level level,
                         const char *domain, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
vts_sync_log(const vts_sync_opts *opts, vts_log_level level, const char *domain,
             const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (!opts->log)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    opts->log(opts->log_opaque, level, domain, msg);
}

static int64_t
vts_abs64(int64_t v)
{
    return v < 0 ? -v : v;
}

/* One bracketed guest-get-time into @m (kept when its round trip is the
 * smallest so far). A sample whose bracket went backwards (the host's clock
 * stepped under us) is dropped: 0 with @m unchanged. */
static int
vts_sync_sample(const vts_hv_ops *ops, vts_hv_dom *dom, const char *domain,
                const vts_sync_opts *opts, vts_sync_meas *m, int *round_trips,
                vts_error *err)
{
    char *reply = NULL;
    int64_t before, after, guest;
    vts_sample s;
    int rc;

    before = ops->now_ns();
    rc = ops->agent_command(dom, VTS_AGENT_CMD_GET_TIME, opts->timeout_s, &reply, err);
    after = ops->now_ns();
    if (round_trips)
        ++*round_trips;
    if (rc == 0)
        rc = vts_agent_parse_time(reply, &guest, err);
    free(reply);
    if (rc < 0)
        return -1;
    m->taken++;
    s.rtt_ns = after - before;
    if (s.rtt_ns < 0) {
        vts_sync_log(opts, VTS_LOG_DEBUG, domain,
                     "sample %d: host clock stepped, dropped", m->taken);
        return 0;
    }
    s.offset_ns = guest - (before + s.rtt_ns / 2);
    vts_sync_log(opts, VTS_LOG_DEBUG, domain,
                 "sample %d: offset %+" PRId64 " ns, rtt %" PRId64 " ns", m->taken,
                 s.offset_ns, s.rtt_ns);
    if (!m->have || s.rtt_ns < m->best.rtt_ns)
        m->best = s;
    m->have = true;
    return 0;
}

/* Is @s's offset beyond @bound by more than its own uncertainty (half its
 * round trip)? Then no further sample can bring it within. */
static bool
vts_sync_clearly_beyond(const vts_sample *s, int64_t bound)
{
    return vts_abs64(s->offset_ns) - s->rtt_ns / 2 > bound;
}

/* Is @s's offset within @bound even at the far end of its uncertainty? */
static bool
vts_sync_clearly_within(const vts_sample *s, int64_t bound)
{
    return vts_abs64(s->offset_ns) + s->rtt_ns / 2 <= bound;
}

/* Does the comparison of @s with @bound need a better sample? */
static bool
vts_sync_unclear(const vts_sample *s, int64_t bound)
{
    return !vts_sync_clearly_beyond(s, bound) && !vts_sync_clearly_within(s, bound);
}

/* Clamp the samples per measurement to [1, VTS_SYNC_MAX_SAMPLES]. */
static int
vts_sync_max_samples(const vts_sync_opts *opts)
{
    if (opts->samples < 1)
        return 1;
    return opts->samples > VTS_SYNC_MAX_SAMPLES ? VTS_SYNC_MAX_SAMPLES : opts->samples;
}

int
vts_sync_measure(const vts_hv_ops *ops, vts_hv_dom *dom, const char *domain,
                 const vts_sync_opts *opts, vts_sample *best, vts_error *err)
{
    vts_sync_meas m = {{0, -1}, false, 0};
    int samples = vts_sync_max_samples(opts);

    while (m.taken < samples) {
        if (vts_sync_sample(ops, dom, domain, opts, &m, NULL, err) < 0)
            return -1;
    }
    if (!m.have)
        return vts_error_set(err, VTS_ERR_INTERNAL,
                             "the host's clock kept stepping while measuring");
    *best = m.best;
    return 0;
}

int64_t
vts_sync_median(const int64_t *v, size_t n)
{
    int64_t s[VTS_SYNC_MEDIAN_MAX];

    if (n > VTS_SYNC_MEDIAN_MAX)
        n = VTS_SYNC_MEDIAN_MAX;
    memcpy(s, v, n * sizeof(*s));
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0 && s[j - 1] > s[j]; j--) {
            int64_t t = s[j];

            s[j] = s[j - 1];
            s[j - 1] = t;
        }
    }
    return s[(n - 1) / 2];
}

/* After a step, drop the RTC ticks QEMU would otherwise replay into a guest
 * whose RTC uses tickpolicy='catchup' (Windows, usually): they would make
 * its clock run fast. libvirt's virDomainSetTime does the same. */
static void
vts_sync_rtc_reset(const vts_hv_ops *ops, vts_hv_dom *dom, const char *domain,
                   const vts_sync_opts *opts, const vts_domxml_info *known)
{
    vts_domxml_info info;
    vts_error err;
    char *xml = NULL;

    if (!ops->rtc_reset_reinjection)
        return;
    if (known) {
        info = *known;
    } else if (!ops->dom_xml || ops->dom_xml(dom, &xml, &err) < 0 ||
               vts_domxml_scan(xml, strlen(xml), &info, &err) < 0) {
        goto cleanup;
    }
    if (!info.rtc_catchup)
        goto cleanup;
    if (ops->rtc_reset_reinjection(dom, &err) < 0)
        vts_sync_log(opts, VTS_LOG_WARNING, domain,
                     "stepped, but could not reset the RTC's catch-up ticks: %s",
                     err.message);
    else
        vts_sync_log(opts, VTS_LOG_DEBUG, domain, "reset the RTC's catch-up ticks");
cleanup:
    free(xml);
}

/* Step the guest to the host's time plus @delay_ns and count the step. */
static int
vts_sync_step(const vts_hv_ops *ops, vts_hv_dom *dom, const vts_sync_opts *opts,
              int64_t delay_ns, vts_sync_result *res)
{
    char cmd[VTS_AGENT_SET_TIME_MAX];
    char *reply = NULL;
    int rc;

    if (vts_agent_format_set_time(cmd, sizeof(cmd), ops->now_ns() + delay_ns, &res->err) <
        0)
        return -1;
    rc = ops->agent_command(dom, cmd, opts->timeout_s, &reply, &res->err);
    res->round_trips++;
    if (rc == 0)
        rc = vts_agent_parse_empty(reply, &res->err);
    free(reply);
    if (rc < 0) {
        /* qemu-ga answers "Unsupported" when /sbin/hwclock is missing, and
         * "disabled" when the command is blocked by its configuration. */
        if (res->err.code == VTS_ERR_AGENT_ERROR &&
            (strstr(res->err.message, "not currently supported") ||
             strstr(res->err.message, "has been disabled")))
            res->err.code = VTS_ERR_SET_TIME_UNSUPPORTED;
        return -1;
    }
    res->steps++;
    return 0;
}

/* One step: guest-set-time to the host's time plus @delay_ns; once that is
 * refused as unsupported and the fallback is on, the guest's date through
 * guest-exec moving its clock by -@offset_ns, the offset just measured,
 * plus @delay_ns (for this and every later step of the sync). */
static int
vts_sync_step_any(const vts_hv_ops *ops, vts_hv_dom *dom, const char *domain,
                  const vts_sync_opts *opts, int64_t delay_ns, int64_t offset_ns,
                  size_t *path, vts_sync_result *res)
{
    if (res->via_exec)
        return vts_fallback_step(ops, dom, opts, delay_ns - offset_ns, path, res);
    if (vts_sync_step(ops, dom, opts, delay_ns, res) == 0)
        return 0;
    if (res->err.code != VTS_ERR_SET_TIME_UNSUPPORTED ||
        opts->set_time_fallback != VTS_FALLBACK_GUEST_EXEC)
        return -1;
    vts_sync_log(
        opts, VTS_LOG_DEBUG, domain,
        "guest-set-time refused (%s): trying the guest's date through guest-exec",
        res->err.message);
    res->via_exec = true;
    vts_error_clear(&res->err);
    if (vts_fallback_allowed(ops, dom, opts, &res->round_trips, &res->err) < 0)
        return -1;
    return vts_fallback_step(ops, dom, opts, delay_ns - offset_ns, path, res);
}

/* Sample @dom into @m (which may hold samples already) until its best
 * sample tells clearly whether the guest is beyond @bound, or @m holds
 * opts->samples samples. With @min, take at least that many (a delay
 * estimate wants the better of two round trips). A @verify only asks
 * whether to correct a step, which only a residual clearly beyond @bound
 * calls for: it stops as soon as the residual is within @bound as
 * measured, and after VTS_SYNC_VERIFY_SAMPLES samples. */
static int
vts_sync_decide(const vts_hv_ops *ops, vts_hv_dom *dom, const char *domain,
                const vts_sync_opts *opts, int64_t bound, int min, bool verify,
                vts_sync_meas *m, vts_sync_result *res)
{
    int samples = vts_sync_max_samples(opts);

    if (verify && samples > VTS_SYNC_VERIFY_SAMPLES)
        samples = VTS_SYNC_VERIFY_SAMPLES;
    while (m->taken < samples) {
        if (vts_sync_sample(ops, dom, domain, opts, m, &res->round_trips, &res->err) < 0)
            return -1;
        if (!m->have || m->taken < min)
            continue;
        if (!vts_sync_unclear(&m->best, bound) ||
            (verify && vts_abs64(m->best.offset_ns) <= bound))
            break;
    }
    if (!m->have)
        return vts_error_set(&res->err, VTS_ERR_INTERNAL,
                             "the host's clock kept stepping while measuring");
    return 0;
}

/* The guest-set-time delay to use next: @landed holds the delays the steps
 * of this sync landed with (@n of them), @hint the one learned from earlier
 * syncs (< 0: none), @first the estimate from the first measurement. */
static int64_t
vts_sync_next_delay(const int64_t *landed, size_t n, int64_t hint, int64_t first)
{
    int64_t delay = n > 0 ? vts_sync_median(landed, n) : hint >= 0 ? hint : first;

    if (delay < 0)
        delay = 0;
    return delay > VTS_SYNC_MAX_DELAY_NS ? VTS_SYNC_MAX_DELAY_NS : delay;
}

/* The sync proper, with what the caller read of the domain's XML (@info may
 * be NULL: then the XML is read only if an RTC reset may be needed). */
static int
vts_sync_run(const vts_hv_ops *ops, vts_hv_dom *dom, const char *domain,
             const vts_sync_opts *opts, const vts_domxml_info *info, vts_sync_result *res)
{
    vts_sync_meas first = {{0, -1}, false, 0};
    vts_sync_meas after = {{0, -1}, false, 0};
    int64_t bound = opts->recheck ? opts->tolerance_ns : opts->threshold_ns;
    int64_t delay, prev_residual = 0;
    int64_t landed[VTS_SYNC_MAX_LANDED];
    int64_t offset = 0;
    size_t date_path = 0;
    bool worse = false, host_ok = true, late = false, moved = false;
    size_t nlanded = 0;
    vts_error host_err;
    int i;

    memset(res, 0, sizeof(*res));
    vts_error_clear(&res->err);

    if (opts->check_only) {
        /* A report, not a decision: every sample asked for, unless the
         * caller only needs the side of a bound (the watch). */
        if (vts_sync_decide(ops, dom, domain, opts,
                            opts->check_quick ? opts->check_bound_ns : -1,
                            opts->check_quick ? 1 : vts_sync_max_samples(opts), false,
                            &first, res) < 0)
            goto error;
    } else {
        /* The host's clock first: a refusal is known before the guest is
         * asked anything, and then one sample serves the report. */
        host_ok = vts_safety_check_host(ops, opts, &host_err) == 0;
        /* One sample decides unless it is too close to call. */
        if (vts_sync_decide(ops, dom, domain, opts, host_ok ? bound : -1, 1, false,
                            &first, res) < 0)
            goto error;
    }
    res->have_offset = true;
    res->offset_ns = first.best.offset_ns;
    res->rtt_ns = first.best.rtt_ns;

    if (opts->check_only) {
        res->action = VTS_ACTION_CHECKED;
        goto done;
    }
    if (vts_abs64(first.best.offset_ns) <= bound) {
        res->action = VTS_ACTION_NONE;
        goto done;
    }
    if (!host_ok) {
        res->err = host_err;
        goto error;
    }
    if (vts_safety_check_step(opts, first.best.offset_ns, &res->err) < 0)
        goto error;
    /* Without a delay learned from earlier steps, the step's delay is
     * estimated from the measurement: take the better of two round trips
     * (the first call after a resume is often slow). */
    if (opts->delay_hint_ns < 0 && first.taken < 2 &&
        vts_sync_decide(ops, dom, domain, opts, bound, 2, false, &first, res) < 0)
        goto error;

    /* Step and verify. A step that lands r off tells the delay it really
     * met: the estimate used minus r. The correction uses it (the median,
     * with the fallback's several steps, so a spike is outvoted rather than
     * followed). A verify that cannot tell the residual from the tolerance
     * counts as within: stepping again would step on noise. */
    delay = vts_sync_next_delay(landed, 0, opts->delay_hint_ns, first.best.rtt_ns / 2);
    for (i = 0;; i++) {
        vts_sync_log(opts, VTS_LOG_DEBUG, domain, "step %d: one-way delay %" PRId64 " ns",
                     i + 1, delay);
        offset = i == 0 ? first.best.offset_ns : after.best.offset_ns;
        if (vts_sync_step_any(ops, dom, domain, opts, delay, offset, &date_path, res) <
            0) {
            /* qemu-ga sets the clock first, then runs /sbin/hwclock -w and
             * answers after it: a guest-set-time that timed out has most
             * likely landed. The verify tells (libvirt's next call waits
             * for the agent first); no blind second step. */
            if (res->via_exec || res->err.code != VTS_ERR_AGENT_TIMEOUT)
                goto error;
            vts_sync_log(opts, VTS_LOG_INFO, domain,
                         "guest-set-time did not return within %d s (the guest's "
                         "/sbin/hwclock -w is slow or hangs): verifying whether the step "
                         "landed",
                         opts->timeout_s);
            vts_error_clear(&res->err);
            res->steps++;
            late = true;
        }
        after.have = false;
        after.taken = 0;
        if (vts_sync_decide(ops, dom, domain, opts, opts->tolerance_ns, 1, true, &after,
                            res) < 0) {
            if (late && res->err.code == VTS_ERR_AGENT_TIMEOUT)
                vts_error_set(
                    &res->err, VTS_ERR_AGENT_TIMEOUT,
                    "neither guest-set-time nor the guest-get-time after it "
                    "returned: the agent is stuck, most likely in /sbin/hwclock "
                    "-w (check the guest's RTC with 'hwclock -r' in the guest)");
            goto error;
        }
        res->have_residual = true;
        res->residual_ns = after.best.offset_ns;
        if (late && vts_sync_clearly_beyond(&after.best, opts->threshold_ns)) {
            vts_error_set(&res->err, VTS_ERR_AGENT_TIMEOUT,
                          "guest-set-time did not return, and the guest's clock is still "
                          "%+.3f ms off: the agent did not carry it out",
                          (double)after.best.offset_ns / VTS_NS_PER_MS);
            goto error;
        }
        moved = vts_abs64(after.best.offset_ns) > VTS_SYNC_MAX_DELAY_NS;
        if (!moved) {
            landed[nlanded] = delay - after.best.offset_ns;
            if (!res->via_exec) {
                res->have_landed_delay = true;
                res->landed_delay_ns = landed[nlanded];
            }
            nlanded++;
        }
        if (!vts_sync_clearly_beyond(&after.best, opts->tolerance_ns))
            break;
        /* A correction that lands no better than the step before it: the
         * guest's clock does not hold what it is given. */
        if (i > 0 && vts_abs64(after.best.offset_ns) >= vts_abs64(prev_residual)) {
            worse = true;
            break;
        }
        if (i + 1 >= VTS_SYNC_MAX_STEPS)
            break;
        if (moved) {
            /* A new offset, with the same time safety as the first. */
            if (vts_safety_check_step(opts, after.best.offset_ns, &res->err) < 0)
                goto error;
            vts_sync_log(
                opts, VTS_LOG_INFO, domain,
                "the guest's clock moved %+.3f ms after the step (was the domain "
                "paused meanwhile?): stepping again with the same delay",
                (double)after.best.offset_ns / VTS_NS_PER_MS);
        } else {
            delay = vts_sync_next_delay(landed, nlanded, -1, 0);
        }
        prev_residual = after.best.offset_ns;
    }
    /* Failed only when the residual is beyond the threshold by more than
     * the verifying measurement's own uncertainty: a loaded host's noise is
     * not a failure, a guest that jumps back (NTP fighting us) is. */
    if (vts_sync_clearly_beyond(&after.best,
                                opts->threshold_ns + after.best.rtt_ns / 2)) {
        vts_error_set(
            &res->err, VTS_ERR_VERIFY_FAILED,
            "stepped %d times%s but the guest is still %+.3f ms off (round trip "
            "%.2f ms): %s",
            res->steps, res->via_exec ? " via guest-exec" : "",
            (double)res->residual_ns / VTS_NS_PER_MS,
            (double)after.best.rtt_ns / VTS_NS_PER_MS,
            worse && (prev_residual < 0) != (res->residual_ns < 0)
                ? "the correction landed no better than the step before it, on the "
                  "other side: the agent's delay varied between the steps (an "
                  "overloaded host or guest); not stepping again"
            : worse ? "the correction landed no better than the step before it: the "
                      "guest's clock does not hold what it is given; its clock is "
                      "unstable (check its clocksource) or something in the guest "
                      "(NTP, another agent) moves it"
                    : "the host may be overloaded, or something in the guest "
                      "(NTP, another agent) moves its clock back");
        goto error;
    }
    if (worse)
        vts_sync_log(
            opts, VTS_LOG_INFO, domain,
            "the correction landed no better (%+.3f ms, then %+.3f ms): the guest's "
            "clock is unstable, or something in it moves it; not stepping again",
            (double)prev_residual / VTS_NS_PER_MS,
            (double)after.best.offset_ns / VTS_NS_PER_MS);
    res->action = VTS_ACTION_STEPPED;
    vts_sync_rtc_reset(ops, dom, domain, opts, info);
done:
    vts_sync_log(opts, VTS_LOG_DEBUG, domain, "%d steps, %d agent round trips",
                 res->steps, res->round_trips);
    return 0;

error:
    /* A step that was made stays made: its RTC catch-up ticks go too. */
    if (res->steps > 0)
        vts_sync_rtc_reset(ops, dom, domain, opts, info);
    vts_sync_explain(&res->err, opts);
    res->action = VTS_ACTION_ERROR;
    vts_sync_log(opts, VTS_LOG_DEBUG, domain, "%d steps, %d agent round trips",
                 res->steps, res->round_trips);
    return -1;
}

int
vts_sync_dom(const vts_hv_ops *ops, vts_hv_dom *dom, const char *domain,
             const vts_sync_opts *opts, vts_sync_result *res)
{
    return vts_sync_run(ops, dom, domain, opts, NULL, res);
}

int
vts_sync_domain(const vts_hv_ops *ops, vts_hv_conn *conn, const char *domain,
                const vts_sync_opts *opts, vts_sync_result *res)
{
    vts_hv_dom *dom = NULL;
    vts_dom_state state;
    vts_domxml_info info;
    char *xml = NULL;
    int ret = -1;

    memset(res, 0, sizeof(*res));
    if (ops->lookup(conn, domain, &dom, &res->err) < 0 ||
        ops->dom_state(dom, &state, &res->err) < 0)
        goto error;
    if (state == VTS_DOM_PAUSED) {
        vts_error_set(&res->err, VTS_ERR_PAUSED, "paused");
        goto error;
    }
    if (state != VTS_DOM_RUNNING) {
        vts_error_set(&res->err, VTS_ERR_NOT_RUNNING, "not running");
        goto error;
    }
    /* One read of the XML serves every question about the domain: its
     * agent channel and that channel's state, the opt-out, the RTC. */
    if (ops->dom_xml(dom, &xml, &res->err) < 0 ||
        vts_domxml_scan(xml, strlen(xml), &info, &res->err) < 0)
        goto error;
    if (!info.has_agent_channel) {
        vts_error_set(&res->err, VTS_ERR_NO_AGENT_CHANNEL, "no guest agent channel");
        goto error;
    }
    if (opts->honour_opt_out && info.opted_out) {
        vts_error_set(&res->err, VTS_ERR_OPTED_OUT,
                      "opted out in its metadata (<sync enabled='no'/> in namespace %s)",
                      VTS_DOMXML_NS);
        goto error;
    }
    /* libvirt tracks the agent's channel: when it says disconnected, no
     * call is made (it would fail at once, in libvirtd's language). */
    if (info.agent_state == VTS_AGENT_STATE_DISCONNECTED) {
        vts_error_set(&res->err, VTS_ERR_AGENT_NOT_CONNECTED,
                      "the guest agent's channel is disconnected");
        goto error;
    }
    ret = vts_sync_run(ops, dom, domain, opts, &info, res);
    /* Paused between our look and the agent call: say so, not "not
     * running". */
    if (ret < 0 && res->err.code == VTS_ERR_NOT_RUNNING &&
        ops->dom_state(dom, &state, NULL) == 0 && state == VTS_DOM_PAUSED) {
        vts_error_set(&res->err, VTS_ERR_PAUSED, "paused");
        vts_sync_explain(&res->err, opts);
    }
    goto cleanup;

error:
    vts_sync_explain(&res->err, opts);
    res->action = VTS_ACTION_ERROR;
cleanup:
    free(xml);
    ops->dom_free(dom);
    return ret;
}
