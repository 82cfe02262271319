/* vts_safety.c: time safety. Whether the host's clock may be copied into a
 * guest, and whether a step is within the bounds an operator set. */
#define VTS_SAFETY_ALLOW_PRIV
#include "vts_safety_priv.h"

#include <stdbool.h>
#include <stdlib.h>

#include "vts_clock.h"

int
vts_safety_check_host(const vts_hv_ops *ops, const vts_sync_opts *opts, vts_error *err)
{
    bool synced = false;
    int64_t maxerror = -1;

    if (opts->allow_unsynced_host || !ops->host_clock)
        return 0;
    if (ops->host_clock(&synced, &maxerror, err) < 0)
        return -1;
    if (!synced)
        return vts_error_set(err, VTS_ERR_HOST_UNSYNCED, "adjtimex reports STA_UNSYNC");
    if (maxerror > VTS_SYNC_HOST_MAXERROR_NS)
        return vts_error_set(err, VTS_ERR_HOST_UNSYNCED, "maximum error %.3f s",
                             (double)maxerror / VTS_NS_PER_SEC);
    return 0;
}

int
vts_safety_check_step(const vts_sync_opts *opts, int64_t offset_ns, vts_error *err)
{
    char off[32], bound[32];
    int64_t size = offset_ns < 0 ? -offset_ns : offset_ns;

    if (opts->force)
        return 0;
    vts_clock_format_offset(off, sizeof(off), offset_ns);
    if (opts->max_step_ns > 0 && size > opts->max_step_ns) {
        vts_clock_format_offset(bound, sizeof(bound), opts->max_step_ns);
        return vts_error_set(err, VTS_ERR_STEP_TOO_LARGE,
                             "the guest is %s off, beyond max_step (%s)", off, bound + 1);
    }
    if (opts->max_backward_ns >= 0 && offset_ns > opts->max_backward_ns) {
        vts_clock_format_offset(bound, sizeof(bound), opts->max_backward_ns);
        return vts_error_set(
            err, VTS_ERR_BACKWARD_REFUSED,
            "the guest is %s ahead of the host, beyond max_backward (%s)", off,
            bound + 1);
    }
    return 0;
}
