/* vts_fallback.c: the guest-exec fallback, stepping a guest's clock with its
 * own GNU date when its agent refuses guest-set-time (no /sbin/hwclock). */
#include "vts_fallback.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vts_agent.h"

#define VTS_FALLBACK_ALLOW_PRIV
#include "vts_fallback_priv.h"

/* Polling a date run through guest-exec: the first pause, doubling up to
 * the last. GNU date exits within milliseconds even on an emulated guest,
 * so most steps take one or two polls. */
#define VTS_FALLBACK_POLL_MIN_NS (10 * VTS_NS_PER_MS)
#define VTS_FALLBACK_POLL_MAX_NS (50 * VTS_NS_PER_MS)

/* Where a Debian guest has GNU date: /bin/date (merged /usr or not), else
 * /usr/bin/date. Run without a shell, so no PATH lookup is relied on. */
static const char *const vts_fallback_date_paths[] = {"/bin/date", "/usr/bin/date"};
#define VTS_FALLBACK_DATE_PATHS                                                          \
    (sizeof(vts_fallback_date_paths) / sizeof(vts_fallback_date_paths[0]))

const char *
vts_fallback_name(vts_fallback fallback)
{
    return fallback == VTS_FALLBACK_GUEST_EXEC ? "guest-exec" : "none";
}

int
vts_fallback_parse(const char *name, vts_fallback *out)
{
    if (strcmp(name, "none") == 0)
        *out = VTS_FALLBACK_NONE;
    else if (strcmp(name, "guest-exec") == 0)
        *out = VTS_FALLBACK_GUEST_EXEC;
    else
        return -1;
    return 0;
}

static void
vts_fallback_sleep(const vts_hv_ops *ops, int64_t ns)
{
    struct timespec ts = {ns / VTS_NS_PER_SEC, ns % VTS_NS_PER_SEC};

    if (ops->sleep_ns)
        ops->sleep_ns(ns);
    else
        nanosleep(&ts, NULL);
}

int
vts_fallback_allowed(const vts_hv_ops *ops, vts_hv_dom *dom, const vts_sync_opts *opts,
                     int *calls, vts_error *err)
{
    static const char *const needed[] = {"guest-exec", "guest-exec-status"};
    const char *disabled = NULL;
    char *reply = NULL;
    int rc;

    rc = ops->agent_command(dom, VTS_AGENT_CMD_INFO, opts->timeout_s, &reply, err);
    ++*calls;
    if (rc == 0)
        rc = vts_agent_parse_info(reply, needed, 2, &disabled, err);
    free(reply);
    if (rc < 0)
        return -1;
    if (disabled)
        return vts_error_set(
            err, VTS_ERR_SET_TIME_UNSUPPORTED,
            "the guest agent does not allow %s; install util-linux-extra "
            "in the guest (Debian 12), or enable guest-exec and "
            "guest-exec-status in qemu-ga's configuration (remove them "
            "from block-rpcs/--block-rpcs, or add them to "
            "allow-rpcs/--allow-rpcs)",
            disabled);
    return 0;
}

/* Poll guest-exec-status for @pid until the process exited, for at most
 * the agent timeout (and a bounded number of polls, should the host's clock
 * stand still), the pause between polls doubling from 10 to 50 ms. */
static int
vts_fallback_wait(const vts_hv_ops *ops, vts_hv_dom *dom, const vts_sync_opts *opts,
                  const char *path, int64_t pid, vts_agent_exec_status *st, int *calls,
                  vts_error *err)
{
    int64_t start = ops->now_ns();
    int64_t pause = VTS_FALLBACK_POLL_MIN_NS;
    int64_t polls =
        (int64_t)opts->timeout_s * VTS_NS_PER_SEC / VTS_FALLBACK_POLL_MAX_NS + 16;
    char *cmd = NULL;
    int rc = -1;

    if (!(cmd = vts_agent_build_exec_status(pid, err)))
        return -1;
    vts_fallback_sleep(ops, pause);
    for (; polls > 0; polls--) {
        char *reply = NULL;
        int r = ops->agent_command(dom, cmd, opts->timeout_s, &reply, err);

        ++*calls;

        if (r == 0)
            r = vts_agent_parse_exec_status(reply, st, err);
        free(reply);
        if (r < 0)
            goto cleanup;
        if (st->exited) {
            rc = 0;
            goto cleanup;
        }
        if (ops->now_ns() - start > (int64_t)opts->timeout_s * VTS_NS_PER_SEC)
            break;
        vts_fallback_sleep(ops, pause);
        pause =
            pause * 2 < VTS_FALLBACK_POLL_MAX_NS ? pause * 2 : VTS_FALLBACK_POLL_MAX_NS;
    }
    vts_error_set(err, VTS_ERR_SET_TIME_UNSUPPORTED,
                  "the guest's %s (pid %" PRId64 ") did not exit within %d s", path, pid,
                  opts->timeout_s);
cleanup:
    free(cmd);
    return rc;
}

int
vts_fallback_step(const vts_hv_ops *ops, vts_hv_dom *dom, const vts_sync_opts *opts,
                  int64_t by_ns, size_t *path, vts_sync_result *res)
{
    char when[64], why[VTS_AGENT_EXEC_ERR_MAX + 8];
    const char *argv[] = {"-u", "-s", when};
    vts_agent_exec_status st;
    char *cmd = NULL, *reply = NULL;
    int64_t pid = 0, mag = by_ns < 0 ? -by_ns : by_ns;
    size_t n;
    int rc;

    snprintf(when, sizeof(when), "now %c%" PRId64 ".%09" PRId64 " seconds",
             by_ns < 0 ? '-' : '+', (int64_t)(mag / VTS_NS_PER_SEC),
             (int64_t)(mag % VTS_NS_PER_SEC));
    for (;;) {
        if (!(cmd = vts_agent_build_exec(vts_fallback_date_paths[*path], argv, 3,
                                         &res->err)))
            return -1;
        rc = ops->agent_command(dom, cmd, opts->timeout_s, &reply, &res->err);
        res->round_trips++;
        if (rc == 0)
            rc = vts_agent_parse_exec(reply, &pid, &res->err);
        free(cmd);
        free(reply);
        reply = NULL;
        if (rc == 0)
            break;
        /* The agent could not start it (no such file): the next path. */
        if (res->err.code != VTS_ERR_AGENT_ERROR)
            return -1;
        if (*path + 1 >= VTS_FALLBACK_DATE_PATHS)
            return vts_error_set(
                &res->err, VTS_ERR_SET_TIME_UNSUPPORTED,
                "cannot run /bin/date or /usr/bin/date in the guest (%s)",
                res->err.message);
        ++*path;
    }
    if (vts_fallback_wait(ops, dom, opts, vts_fallback_date_paths[*path], pid, &st,
                          &res->round_trips, &res->err) < 0)
        return -1;
    if (st.has_exitcode && st.exitcode == 0) {
        res->steps++;
        return 0;
    }
    /* Quote the start of its stderr, without the newline. */
    n = strcspn(st.err_data, "\n");
    snprintf(why, sizeof(why), "%s%.*s", n ? ": " : "", (int)n, st.err_data);
    if (st.has_signal)
        return vts_error_set(&res->err, VTS_ERR_SET_TIME_UNSUPPORTED,
                             "the guest's %s was killed by signal %d%s",
                             vts_fallback_date_paths[*path], st.signal, why);
    return vts_error_set(
        &res->err, VTS_ERR_SET_TIME_UNSUPPORTED,
        "the guest's %s -u -s '%s' exited with %d%s; it may be busybox's "
        "date, which does not take a relative time, or not GNU date: install "
        "util-linux-extra in the guest (Debian 12) so that guest-set-time "
        "works",
        vts_fallback_date_paths[*path], when, st.exitcode, why);
}
