/* vts_waiter.h: the libvirt hook's detached waiter.
 *
 * The hook (vts_hook.h) must return to libvirtd within milliseconds and
 * never call libvirt, so when vmtimesyncd is not there to be told, it
 * starts the CLI as a waiter (vts_hook_waiter_cmd_fill) that outlives it:
 * the waiter connects to libvirt, waits for the migrated or restored guest
 * to run with its agent connected, and syncs it. Only the CLI runs it.
 */
#ifndef VTS_WAITER_H
#define VTS_WAITER_H

#include "vts_conf.h"
#include "vts_hv.h"

/* The waiter, run in a detached process after the hook returned: start
 * @ops' event loop, connect (retrying while libvirtd starts up), wait until
 * @domain runs with its guest agent connected (looking once, then again
 * only when libvirt sends an event about it: started, resumed, agent
 * connected...; at most conf->agent_wait; give up when the domain never
 * shows up, goes away, or the connection is lost), sync it once and log
 * the result. Returns 0 when the guest is fine, -1 otherwise (logged). */
int vts_waiter_run(const vts_hv_ops *ops, const vts_conf *conf, const char *domain,
                   const char *reason);

#endif /* VTS_WAITER_H */
