/* vts_fallback_priv.h: the guest-exec fallback's steps, for lib/vts_sync.c
 * (which chooses between guest-set-time and the fallback) only. */
#ifndef VTS_FALLBACK_ALLOW_PRIV
#error "vts_fallback_priv.h is for lib/vts_sync.c and lib/vts_fallback.c only"
#endif
#ifndef VTS_FALLBACK_PRIV_H
#define VTS_FALLBACK_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "vts_error.h"
#include "vts_hv.h"
#include "vts_sync.h"

/* Does the guest agent let us run the guest's date? Both guest-exec and
 * guest-exec-status must be enabled (qemu-ga's --block-rpcs or allow-rpcs
 * may leave out either). Counts the agent calls in *@calls. -1 with
 * VTS_ERR_SET_TIME_UNSUPPORTED and what to do when either is blocked. */
int vts_fallback_allowed(const vts_hv_ops *ops, vts_hv_dom *dom,
                         const vts_sync_opts *opts, int *calls, vts_error *err);

/* Move the guest's clock by @by_ns with its own date: guest-exec of "date
 * -u -s 'now +S.N seconds'". GNU date reads the guest's clock when it
 * parses that and sets it a little later (8-10 ms on an emulated guest:
 * the caller adds that delay to @by_ns, as it adds the agent's to
 * guest-set-time), so neither starting the process nor the agent's delay
 * counts. Tries each date path (/bin/date, /usr/bin/date) from *@path on
 * (start at 0), keeps the one that ran in *@path, then waits for it to
 * exit 0. Counts the agent calls in
 * @res->round_trips and a step that ran in @res->steps; -1 with @res->err
 * (VTS_ERR_SET_TIME_UNSUPPORTED when the guest's date cannot do it). */
int vts_fallback_step(const vts_hv_ops *ops, vts_hv_dom *dom, const vts_sync_opts *opts,
                      int64_t by_ns, size_t *path, vts_sync_result *res);

#endif /* VTS_FALLBACK_PRIV_H */
