/* vts_daemon.h: vmtimesyncd, the event-driven daemon, as a library.
 *
 * One libvirt connection with libvirt's default event loop. Lifecycle and
 * agent events feed the per-domain state machine (vts_sched.h); a pool of
 * worker threads (vts_pool.h) does the guest agent calls, each on a
 * connection of its own; a control socket serves `vmtimesync --status` and
 * the libvirt hook. src/vmtimesyncd.c is a thin main over this. Written in
 * lib/vts_daemon*.c: lib/vts_daemon.c says which file holds what.
 */
#ifndef VTS_DAEMON_H
#define VTS_DAEMON_H

#include <stdint.h>

#include "vts_conf.h"
#include "vts_error.h"
#include "vts_hv.h"

typedef struct vts_daemon vts_daemon;

/* Load the configuration from @conf_path (a missing file is fine only when
 * @conf_path is the default path) and prepare a daemon over @ops. @uri, when
 * not NULL, overrides the configuration's URI. Returns NULL with @err
 * filled. Free with vts_daemon_free(). */
vts_daemon *vts_daemon_new(const vts_hv_ops *ops, const char *conf_path, const char *uri,
                           vts_error *err);

/* Run until SIGTERM or SIGINT: connect (and reconnect), sweep, serve
 * events and the control socket. SIGHUP reloads the configuration. Tells
 * systemd when ready if $NOTIFY_SOCKET is set. Returns 0 after a clean
 * stop, -1 with @err filled when it cannot start. */
int vts_daemon_run(vts_daemon *d, vts_error *err);

/* How long SIGTERM waits for the syncs under way with @conf: a whole
 * sync's agent calls (VTS_SYNC_MAX_AGENT_CALLS with @conf's samples and
 * fallback), each at @conf's agent_timeout, and 2 s. 72 s by default. */
int64_t vts_daemon_stop_grace_ns(const vts_conf *conf);

/* Log at debug level whatever the configuration says (-d). */
void vts_daemon_force_debug(vts_daemon *d);

/* Free @d; NULL is allowed. */
void vts_daemon_free(vts_daemon *d);

#endif /* VTS_DAEMON_H */
