/* vts_connect.h: opening a hypervisor connection without waiting on it.
 *
 * libvirt's virConnectOpen has no timeout: a libvirtd that accepts the
 * connection and never answers holds the caller forever (keepalive starts
 * only once the connection is open). Each open here runs on a detached
 * thread of its own. The caller either polls for the result (the event
 * loop, which must never wait) or waits for it up to a deadline (a worker);
 * an attempt its owner gives up on is abandoned: the thread closes what it
 * opens, whenever libvirtd answers, and ends.
 */
#ifndef VTS_CONNECT_H
#define VTS_CONNECT_H

#include <stdint.h>

#include "vts_error.h"
#include "vts_hv.h"

/* At most this many attempts run at once, abandoned ones included: a
 * libvirtd that never answers costs a bounded number of threads. */
#define VTS_CONNECT_MAX_THREADS 16

typedef struct vts_connect vts_connect;

/* Called on the attempt's thread when it is done, unless abandoned first. */
typedef void (*vts_connect_done_fn)(void *opaque);

typedef struct {
    const char *uri;
    /* Close this connection first (taken over; NULL: none): closing may
     * wait on libvirtd too. */
    vts_hv_conn *to_close;
    /* Register for domain events when set (see vts_hv_ops.events_register). */
    vts_hv_event_fn event_fn;
    vts_hv_close_fn close_fn;
    void *event_opaque;
    /* Told when done (may be NULL). */
    vts_connect_done_fn done_fn;
    void *done_opaque;
} vts_connect_spec;

/* Start an attempt as @spec says (copied; @spec->uri too). Returns NULL
 * with @err set when no thread can be started, or when
 * VTS_CONNECT_MAX_THREADS attempts still hang. */
vts_connect *vts_connect_start(const vts_hv_ops *ops, const vts_connect_spec *spec,
                               vts_error *err);

/* Non-blocking: 0 while the attempt runs; 1 when it is done, with the
 * connection in *@conn (caller owns it) or NULL and @err set. @c is freed
 * once the result is taken. */
int vts_connect_poll(vts_connect *c, vts_hv_conn **conn, vts_error *err);

/* Wait for the result up to @timeout_ns: 0 with *@conn, or -1 with @err
 * set (the open failed, or it did not finish in time and was abandoned).
 * @c is freed either way. */
int vts_connect_wait(vts_connect *c, int64_t timeout_ns, vts_hv_conn **conn,
                     vts_error *err);

/* Give up on @c (NULL is allowed): its done_fn is not called any more,
 * and what it opens is closed by its thread. */
void vts_connect_abandon(vts_connect *c);

#endif /* VTS_CONNECT_H */
