/* vts_sync_msg_priv.h: the wording of a sync's errors, for lib/vts_sync.c
 * and its unit tests only. */
#ifndef VTS_SYNC_MSG_ALLOW_PRIV
#error "vts_sync_msg_priv.h is for lib/vts_sync.c, lib/vts_sync_msg.c and its tests only"
#endif
#ifndef VTS_SYNC_MSG_PRIV_H
#define VTS_SYNC_MSG_PRIV_H

#include "vts_error.h"
#include "vts_sync.h"

/* Replace the bare message of a failed sync in @err with one that says
 * what went wrong and what to do about it, by its code; the original text
 * is kept as detail where it helps, and codes without a known remedy keep
 * theirs. Uses @opts' agent timeout and fallback setting. */
void vts_sync_explain(vts_error *err, const vts_sync_opts *opts);

#endif /* VTS_SYNC_MSG_PRIV_H */
