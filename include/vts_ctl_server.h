/* vts_ctl_server.h: the control socket's server side, on the event loop.
 *
 * Accepts root's connections on the socket, reads each client's one
 * request (vts_ctl.h holds the protocol), has the owner answer it, and
 * writes the reply as the client reads it. Every call here runs on the
 * event loop thread and never blocks: a client that is slow to ask or to
 * read is dropped by vts_ctl_server_expire().
 */
#ifndef VTS_CTL_SERVER_H
#define VTS_CTL_SERVER_H

#include <stdint.h>

#include "vts_ctl.h"
#include "vts_error.h"
#include "vts_hv.h"

typedef struct vts_ctl_server vts_ctl_server;

/* The answer to one complete request @req, on the loop thread: one line
 * of JSON without its "\n" (the server adds it), allocated with malloc and
 * taken over by the server; NULL closes the client without a reply. */
typedef char *(*vts_ctl_answer_fn)(const vts_ctl_request *req, void *opaque);

/* Asks the owner's loop timer to run soon, where it calls
 * vts_ctl_server_expire() (a new client's time limit to arm). */
typedef void (*vts_ctl_wake_fn)(void *opaque);

/* Listen on @path (vts_ctl_listen) and watch it with @ops's event loop,
 * whose loop_init must have run. @answer and @wake get @opaque. Returns
 * the server, freed with vts_ctl_server_free(), or NULL with @err filled
 * as vts_ctl_listen() does, or VTS_ERR_INTERNAL. */
vts_ctl_server *vts_ctl_server_new(const vts_hv_ops *ops, const char *path,
                                   vts_ctl_answer_fn answer, vts_ctl_wake_fn wake,
                                   void *opaque, vts_error *err);

/* Drop the clients that sent no request, or read no reply, in time at
 * monotonic time @now (ns). Returns when the next client's time runs out
 * (monotonic ns), or -1 when no client is connected. */
int64_t vts_ctl_server_expire(vts_ctl_server *s, int64_t now);

/* Stop listening and remove the socket file; the clients connected go on
 * being served. @s may be NULL. Safe to call twice. */
void vts_ctl_server_close(vts_ctl_server *s);

/* Close every client, stop listening (vts_ctl_server_close) and free @s,
 * which may be NULL. */
void vts_ctl_server_free(vts_ctl_server *s);

#endif /* VTS_CTL_SERVER_H */
