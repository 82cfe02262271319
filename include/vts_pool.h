/* vts_pool.h: a bounded pool of worker threads for guest agent calls.
 *
 * The event loop never talks to a guest: it pushes a domain name here and
 * goes on. A worker thread pops it and runs the job function, which may
 * block on the guest agent for as long as its timeout. With N workers, one
 * hung agent holds one worker, never the loop or the other domains.
 */
#ifndef VTS_POOL_H
#define VTS_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "vts_error.h"

typedef struct vts_pool vts_pool;

/* Runs in a worker thread. @name is valid for the call only. */
typedef void (*vts_pool_fn)(const char *name, void *opaque);

/* Start @workers threads (1..64) that run @fn on every pushed name. */
vts_pool *vts_pool_new(int workers, vts_pool_fn fn, void *opaque, vts_error *err);

/* Queue @name (copied). Returns 0, or -1 when out of memory or stopping. */
int vts_pool_push(vts_pool *pool, const char *name);

/* Stop taking work, drop what is queued, and wait up to @grace_ms for the
 * jobs under way. Returns how many were still running then. */
size_t vts_pool_stop(vts_pool *pool, int grace_ms);

/* Free a pool after vts_pool_stop returned 0 (threads joined). When jobs
 * were still running the pool is left to the exiting process. NULL is
 * allowed. */
void vts_pool_free(vts_pool *pool);

#endif /* VTS_POOL_H */
