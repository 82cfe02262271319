/* vts_safety_priv.h: time safety, the rules that keep a sync from making a
 * guest's time worse, for lib/vts_sync.c only.
 *
 * The host's clock is what a step copies into the guest, so it must itself
 * be synchronized (adjtimex). A step is refused when it is larger than
 * max_step or moves the guest back by more than max_backward, unless forced:
 * those offsets tell of something an operator should look at (a guest set
 * far off on purpose, a wrong host clock) rather than of a pause. */
#ifndef VTS_SAFETY_ALLOW_PRIV
#error "vts_safety_priv.h is for lib/vts_sync.c and lib/vts_safety.c only"
#endif
#ifndef VTS_SAFETY_PRIV_H
#define VTS_SAFETY_PRIV_H

#include <stdint.h>

#include "vts_error.h"
#include "vts_hv.h"
#include "vts_sync.h"

/* Is the host's clock fit to be copied into a guest? It must be
 * synchronized (no STA_UNSYNC) with a maximum error within
 * VTS_SYNC_HOST_MAXERROR_NS, unless @opts allows an unsynchronized host or
 * @ops cannot tell. Returns 0, or -1 with VTS_ERR_HOST_UNSYNCED (or the
 * error of reading the host's clock) in @err. */
int vts_safety_check_host(const vts_hv_ops *ops, const vts_sync_opts *opts,
                          vts_error *err);

/* May a step of -@offset_ns be made (@offset_ns: the guest's offset, > 0
 * when ahead)? Within @opts' max_step (0: no limit) and max_backward (< 0:
 * no limit), unless @opts->force. Returns 0, or -1 with
 * VTS_ERR_STEP_TOO_LARGE or VTS_ERR_BACKWARD_REFUSED in @err, naming the
 * offset and the bound. */
int vts_safety_check_step(const vts_sync_opts *opts, int64_t offset_ns, vts_error *err);

#endif /* VTS_SAFETY_PRIV_H */
