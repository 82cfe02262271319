/* vts_sync.c: measure, step and verify one guest's clock. */
#include "vmtimesync/vts_sync.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmtimesync/vts_agent.h"
#include "vmtimesync/vts_domxml.h"
#include "vmtimesync/vts_report.h"

/* The corrected one-way delay never leaves [0, 1 s]: a larger correction
 * means the measurement was garbage, not that the agent is that slow. */
#define VTS_SYNC_MAX_DELAY_NS VTS_NS_PER_SEC
/* Steps per sync: the first one and up to four corrections; it stops as
 * soon as the guest is within the tolerance (usually after one or two). */
#define VTS_SYNC_MAX_STEPS 5

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

static void vts_sync_log(const vts_sync_opts *opts, vts_log_level level, const char *domain,
                         const char *fmt, ...) __attribute__((format(printf, 4, 5)));

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

/* Replace the bare message of a failed step with one that says what went
 * wrong and what to do about it. The original text is kept as detail. */
static void
vts_sync_explain(vts_error *err, const vts_sync_opts *opts)
{
    char detail[VTS_ERROR_MSG_MAX];

    memcpy(detail, err->message, sizeof(detail));
    switch (err->code) {
    case VTS_ERR_NOT_FOUND:
        vts_error_set(err, err->code, "domain not found: check the name with 'virsh list --all'");
        break;
    case VTS_ERR_NOT_RUNNING:
        vts_error_set(err, err->code, "domain is not running: start it first");
        break;
    case VTS_ERR_PAUSED:
        vts_error_set(err, err->code,
                      "domain is paused, so its guest agent cannot answer: resume it "
                      "('virsh resume') and sync again (vmtimesyncd does this on resume)");
        break;
    case VTS_ERR_NO_AGENT_CHANNEL:
        vts_error_set(err, err->code,
                      "no guest agent channel: add <channel type='unix'><target "
                      "type='virtio' name='org.qemu.guest_agent.0'/></channel> to the "
                      "domain's <devices> ('virsh edit'), restart it, and run "
                      "qemu-guest-agent in the guest");
        break;
    case VTS_ERR_AGENT_NOT_CONNECTED:
        vts_error_set(err, err->code,
                      "guest agent is not connected: install and start qemu-guest-agent "
                      "in the guest (or wait until the guest has booted)");
        break;
    case VTS_ERR_AGENT_TIMEOUT:
        vts_error_set(err, err->code,
                      "guest agent did not answer within %d s: the guest may be overloaded "
                      "or its agent hung; restart qemu-guest-agent in the guest (%s)",
                      opts->timeout_s, detail);
        break;
    case VTS_ERR_SET_TIME_UNSUPPORTED:
        vts_error_set(err, err->code,
                      "guest agent refuses guest-set-time: the guest lacks /sbin/hwclock "
                      "(Debian 12: install util-linux-extra in the guest) or the command "
                      "is blocked in qemu-ga's configuration (%s)",
                      detail);
        break;
    case VTS_ERR_BAD_REPLY:
        vts_error_set(err, err->code, "%s: is a genuine qemu-guest-agent answering?", detail);
        break;
    case VTS_ERR_HOST_UNSYNCED:
        vts_error_set(err, err->code,
                      "the host's own clock is not synchronized (%s): not copying it into "
                      "the guest; fix the host's NTP ('chronyc tracking'), or allow it "
                      "(--allow-unsynced-host, host_unsynced = allow)",
                      detail);
        break;
    case VTS_ERR_STEP_TOO_LARGE:
        vts_error_set(err, err->code,
                      "%s: not applied; check the host's and the guest's clocks, then "
                      "'vmtimesync --force' (or raise max_step)",
                      detail);
        break;
    case VTS_ERR_BACKWARD_REFUSED:
        vts_error_set(err, err->code,
                      "%s: stepping a guest back that far can break software that expects "
                      "time to go forward; not applied ('vmtimesync --force', or raise "
                      "max_backward)",
                      detail);
        break;
    default:
        break;
    }
}

int
vts_sync_measure(const vts_hv_ops *ops, vts_hv_dom *dom, const char *domain,
                 const vts_sync_opts *opts, vts_sample *best, vts_error *err)
{
    int samples = opts->samples;
    bool have = false;
    int i;

    if (samples < 1)
        samples = 1;
    if (samples > VTS_SYNC_MAX_SAMPLES)
        samples = VTS_SYNC_MAX_SAMPLES;

    for (i = 0; i < samples; i++) {
        char *reply = NULL;
        int64_t before, after, guest;
        vts_sample s;
        int rc;

        before = ops->now_ns();
        rc = ops->agent_command(dom, VTS_AGENT_CMD_GET_TIME, opts->timeout_s, &reply, err);
        after = ops->now_ns();
        if (rc == 0)
            rc = vts_agent_parse_time(reply, &guest, err);
        free(reply);
        if (rc < 0)
            return -1;

        s.rtt_ns = after - before;
        if (s.rtt_ns < 0) {
            /* The host's clock stepped under us: this sample is garbage. */
            vts_sync_log(opts, VTS_LOG_DEBUG, domain, "sample %d: host clock stepped, dropped",
                         i);
            continue;
        }
        s.offset_ns = guest - (before + s.rtt_ns / 2);
        vts_sync_log(opts, VTS_LOG_DEBUG, domain,
                     "sample %d: offset %+" PRId64 " ns, rtt %" PRId64 " ns", i, s.offset_ns,
                     s.rtt_ns);
        if (!have || s.rtt_ns < best->rtt_ns)
            *best = s;
        have = true;
    }
    if (!have)
        return vts_error_set(err, VTS_ERR_INTERNAL,
                             "the host's clock kept stepping while measuring");
    return 0;
}

/* The lower median of @n values (n >= 1); sorts a copy. */
static int64_t
vts_sync_median(const int64_t *v, size_t n)
{
    int64_t s[VTS_SYNC_MAX_STEPS];

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

/* May a step of -@offset_ns be made? The host's clock must be synchronized
 * (we copy it into the guest), and the step within the safety bounds. */
static int
vts_sync_check_step(const vts_hv_ops *ops, const vts_sync_opts *opts, int64_t offset_ns,
                    vts_error *err)
{
    char off[32], bound[32];

    if (!opts->allow_unsynced_host && ops->host_clock) {
        bool synced = false;
        int64_t maxerror = -1;

        if (ops->host_clock(&synced, &maxerror, err) < 0)
            return -1;
        if (!synced)
            return vts_error_set(err, VTS_ERR_HOST_UNSYNCED, "adjtimex reports STA_UNSYNC");
        if (maxerror > VTS_SYNC_HOST_MAXERROR_NS)
            return vts_error_set(err, VTS_ERR_HOST_UNSYNCED, "maximum error %.3f s",
                                 (double)maxerror / VTS_NS_PER_SEC);
    }
    if (opts->force)
        return 0;
    vts_report_offset(off, sizeof(off), offset_ns);
    if (opts->max_step_ns > 0 && vts_abs64(offset_ns) > opts->max_step_ns) {
        vts_report_offset(bound, sizeof(bound), opts->max_step_ns);
        return vts_error_set(err, VTS_ERR_STEP_TOO_LARGE,
                             "the guest is %s off, beyond max_step (%s)", off, bound + 1);
    }
    if (opts->max_backward_ns >= 0 && offset_ns > opts->max_backward_ns) {
        vts_report_offset(bound, sizeof(bound), opts->max_backward_ns);
        return vts_error_set(err, VTS_ERR_BACKWARD_REFUSED,
                             "the guest is %s ahead of the host, beyond max_backward (%s)",
                             off, bound + 1);
    }
    return 0;
}

/* After a step, drop the RTC ticks QEMU would otherwise replay into a guest
 * whose RTC uses tickpolicy='catchup' (Windows, usually): they would make
 * its clock run fast. libvirt's virDomainSetTime does the same. */
static void
vts_sync_rtc_reset(const vts_hv_ops *ops, vts_hv_dom *dom, const char *domain,
                   const vts_sync_opts *opts)
{
    vts_domxml_info info;
    vts_error err;
    char *xml = NULL;

    if (!ops->rtc_reset_reinjection || !ops->dom_xml || ops->dom_xml(dom, &xml, &err) < 0)
        goto cleanup;
    if (vts_domxml_scan(xml, strlen(xml), &info, &err) < 0 || !info.rtc_catchup)
        goto cleanup;
    if (ops->rtc_reset_reinjection(dom, &err) < 0)
        vts_sync_log(opts, VTS_LOG_WARNING, domain,
                     "stepped, but could not reset the RTC's catch-up ticks: %s", err.message);
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

    if (vts_agent_format_set_time(cmd, sizeof(cmd), ops->now_ns() + delay_ns, &res->err) < 0)
        return -1;
    rc = ops->agent_command(dom, cmd, opts->timeout_s, &reply, &res->err);
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

int
vts_sync_dom(const vts_hv_ops *ops, vts_hv_dom *dom, const char *domain,
             const vts_sync_opts *opts, vts_sync_result *res)
{
    vts_sample first = {0, -1};
    vts_sample after = {0, -1};
    int64_t delay;
    int64_t met[VTS_SYNC_MAX_STEPS];
    int i;

    memset(res, 0, sizeof(*res));
    vts_error_clear(&res->err);

    if (vts_sync_measure(ops, dom, domain, opts, &first, &res->err) < 0)
        goto error;
    res->have_offset = true;
    res->offset_ns = first.offset_ns;
    res->rtt_ns = first.rtt_ns;

    if (opts->check_only) {
        res->action = VTS_ACTION_CHECKED;
        return 0;
    }
    if (vts_abs64(first.offset_ns) <= (opts->recheck ? opts->tolerance_ns : opts->threshold_ns)) {
        res->action = VTS_ACTION_NONE;
        return 0;
    }
    if (vts_sync_check_step(ops, opts, first.offset_ns, &res->err) < 0)
        goto error;

    /* Step and verify. A step that lands r off the host tells the delay
     * it really met: the estimate used minus r. One step's delay can spike
     * on a loaded host (the agent or the vCPU thread not scheduled), so the
     * next step uses the median of the delays met so far, not the last one:
     * a spike is outvoted instead of followed. */
    delay = first.rtt_ns / 2;
    for (i = 0; i < VTS_SYNC_MAX_STEPS; i++) {
        vts_sync_log(opts, VTS_LOG_DEBUG, domain, "step %d: one-way delay %" PRId64 " ns",
                     i + 1, delay);
        if (vts_sync_step(ops, dom, opts, delay, res) < 0)
            goto error;
        if (vts_sync_measure(ops, dom, domain, opts, &after, &res->err) < 0)
            goto error;
        res->have_residual = true;
        res->residual_ns = after.offset_ns;
        if (vts_abs64(after.offset_ns) <= opts->tolerance_ns)
            break;
        met[i] = delay - after.offset_ns;
        delay = vts_sync_median(met, (size_t)i + 1);
        if (delay < 0)
            delay = 0;
        if (delay > VTS_SYNC_MAX_DELAY_NS)
            delay = VTS_SYNC_MAX_DELAY_NS;
    }
    /* Failed only when the residual is beyond the threshold by more than
     * the verifying measurement's own uncertainty: a loaded host's noise is
     * not a failure, a guest that jumps back (NTP fighting us) is. */
    if (vts_abs64(res->residual_ns) > opts->threshold_ns + after.rtt_ns) {
        vts_error_set(&res->err, VTS_ERR_VERIFY_FAILED,
                      "stepped %d times but the guest is still %+.3f ms off (round trip "
                      "%.2f ms): the host may be overloaded, or something in the guest "
                      "(NTP, another agent) moves its clock back",
                      res->steps, (double)res->residual_ns / VTS_NS_PER_MS,
                      (double)after.rtt_ns / VTS_NS_PER_MS);
        goto error;
    }
    res->action = VTS_ACTION_STEPPED;
    vts_sync_rtc_reset(ops, dom, domain, opts);
    return 0;

error:
    vts_sync_explain(&res->err, opts);
    res->action = VTS_ACTION_ERROR;
    return -1;
}

int
vts_sync_domain(const vts_hv_ops *ops, vts_hv_conn *conn, const char *domain,
                const vts_sync_opts *opts, vts_sync_result *res)
{
    vts_hv_dom *dom = NULL;
    vts_dom_state state;
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
    ret = vts_sync_dom(ops, dom, domain, opts, res);
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
    ops->dom_free(dom);
    return ret;
}
