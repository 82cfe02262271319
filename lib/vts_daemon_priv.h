/* vts_daemon_priv.h: what the files of vmtimesyncd's daemon share: the
 * daemon's state, the pool's items, and the functions one file calls in
 * another. For lib/vts_daemon*.c only.
 *
 * Threads: the event loop thread runs libvirt's default event loop and
 * every function marked "loop thread"; worker threads run vts_daemon_job().
 * d->lock guards the scheduler, the watch, the configuration and the
 * connection; the fields below say which thread owns the others.
 */
#ifndef VTS_DAEMON_ALLOW_PRIV
#error "vts_daemon_priv.h is for lib/vts_daemon*.c only"
#endif
#ifndef VTS_DAEMON_PRIV_H
#define VTS_DAEMON_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vts_conf.h"
#include "vts_connect.h"
#include "vts_ctl_server.h"
#include "vts_daemon.h"
#include "vts_hv.h"
#include "vts_metrics.h"
#include "vts_pool.h"
#include "vts_sched.h"
#include "vts_watch.h"

/* Worker connections kept open for reuse: one per worker at most. */
#define VTS_DAEMON_MAX_IDLE 64
/* A pool item is a domain's name (sync it) or starts with a newline,
 * which libvirt refuses in a domain's name: "sweep every running domain",
 * or "measure this domain for the watch" followed by its name. */
#define VTS_DAEMON_ITEM_SWEEP "\nsweep"
#define VTS_DAEMON_ITEM_WATCH "\nwatch "
#define VTS_DAEMON_ITEM_WATCH_LEN (sizeof(VTS_DAEMON_ITEM_WATCH) - 1)

struct vts_daemon {
    const vts_hv_ops *ops;
    char *conf_path;
    bool conf_missing_ok;
    char *uri_override;

    pthread_mutex_t lock;
    vts_conf conf;
    vts_sched *sched;
    vts_watch *watch;
    /* The loop's connection: events, close callback. Set and cleared by
     * the loop thread under lock; workers only test it and have their own
     * (vts_daemon_worker_conn_get). */
    vts_hv_conn *conn;
    /* The loop's connection once libvirt closed it, until the next connect
     * closes it (not from libvirt's close callback, which runs inside
     * libvirt). Loop thread only. */
    vts_hv_conn *conn_closed;
    /* The loop's connect under way on a thread of its own (NULL: none),
     * when it started, whether it was reported slow, and whether a close
     * came for it before the loop took it. Loop thread only. */
    vts_connect *connecting;
    int64_t connect_started;
    bool connect_warned;
    bool connect_closed;
    /* Workers' connections not in use, all of generation conn_gen (bumped
     * at every reconnect; older ones are closed, not reused). */
    vts_hv_conn *idle[VTS_DAEMON_MAX_IDLE];
    size_t nidle;
    unsigned conn_gen;
    const char *uri; /* in conf or uri_override */

    vts_pool *pool;
    int pool_workers; /* its threads: conf.workers at start */
    vts_metrics *metrics;
    int timer;
    /* A wake asked since the timer's pass began (atomic: any thread sets
     * it, the pass clears it), so that the pass's re-arming for later does
     * not undo it. */
    bool wake_pending;
    bool conn_lost;
    int64_t reconnect_at; /* monotonic; 0: none planned */
    int64_t reconnect_delay;
    vts_ctl_server *ctl; /* loop thread only */
    int sig_pipe[2];
    int sig_watch;
    bool quit;
    bool force_debug;
};

/* vts_daemon_conn.c */

/* The URI the daemon connects to: the override given to vts_daemon_new(),
 * else the configuration's. With d->lock held, or on the loop thread. */
const char *vts_daemon_uri(const vts_daemon *d);

/* Worker thread: a libvirt connection of its own for one job, and its
 * generation in *@gen for vts_daemon_worker_conn_put(). NULL with @err set
 * when the daemon is not connected or the open fails. */
vts_hv_conn *vts_daemon_worker_conn_get(vts_daemon *d, unsigned *gen, vts_error *err);

/* Worker thread: done with @hv (may be NULL) of generation @gen; kept for
 * the next job unless the daemon reconnected since or the job saw it
 * @broken. */
void vts_daemon_worker_conn_put(vts_daemon *d, vts_hv_conn *hv, unsigned gen,
                                bool broken);

/* Loop thread: close the idle worker connections and make those in use
 * close when they come back (a reconnect, or the end). */
void vts_daemon_worker_conns_drop(vts_daemon *d);

/* Loop thread, from the timer at monotonic @now: start the connect that is
 * due, take the result of the one under way, report it when slow, abandon
 * it when hung. */
void vts_daemon_connect_on_timer(vts_daemon *d, int64_t now);

/* Loop thread: when the timer must next run for the connection
 * (monotonic ns), or -1 when it need not. */
int64_t vts_daemon_connect_next_due(const vts_daemon *d);

/* Loop thread: drop any connect under way and connect again at once, from
 * the timer (at start, and when a reload changed the URI). */
void vts_daemon_reconnect_now(vts_daemon *d);

/* vts_daemon_jobs.c */

/* Worker thread: run the pool item @item (vts_pool_fn; @opaque is the
 * daemon): sync the domain that should go first, or sweep, or measure for
 * the watch (VTS_DAEMON_ITEM_*). */
void vts_daemon_job(const char *item, void *opaque);

/* Queue @name (or a VTS_DAEMON_ITEM_*) for a worker; with d->lock held. */
void vts_daemon_push(vts_daemon *d, const char *name);

/* Write the metrics file, if one is configured (any thread). */
void vts_daemon_write_metrics(vts_daemon *d);

/* vts_daemon_watch.c */

/* The watch's settings from d->conf (half the pool's workers measure at
 * once at most). With d->lock held, or before the loop runs. */
void vts_daemon_watch_conf(const vts_daemon *d, vts_watch_conf *wc);

/* With d->lock held: watch @name from now on, if we look after it. An
 * event that syncs it (@event) makes a later drift the watch's to fix
 * again. */
void vts_daemon_watch_add(vts_daemon *d, const char *name, bool event);

/* Worker thread: measure @name for the watch. */
void vts_daemon_watch_job(vts_daemon *d, const char *name);

/* Loop thread: hand the watch measurements that are due to the workers,
 * unless a sync waits for one. Returns when the next one is due
 * (monotonic ns), or -1. */
int64_t vts_daemon_watch_dispatch(vts_daemon *d, int64_t now);

/* vts_daemon_ctl.c */

/* vts_ctl_answer_fn (@opaque is the daemon): the reply to a control
 * request, or NULL. Loop thread. */
char *vts_daemon_answer(const vts_ctl_request *req, void *opaque);

/* vts_ctl_wake_fn (@opaque is the daemon): a control client's time limit
 * to arm. */
void vts_daemon_ctl_wake(void *opaque);

/* vts_daemon_loop.c */

/* Make the loop's timer fire as soon as possible (any thread). */
void vts_daemon_wake_loop(vts_daemon *d);

/* Loop thread: a domain event (vts_hv_event_fn; @opaque is the daemon). */
void vts_daemon_on_event(const vts_hv_event *ev, void *opaque);

/* Loop thread: the one timer (vts_hv_timer_fn; @opaque is the daemon). */
void vts_daemon_on_timer(int timer, void *opaque);

/* vts_daemon.c */

/* The daemon's operations for the workers' syncs: those given to
 * vts_daemon_new(), counting the agent calls that returned (SIGTERM's wait
 * tells syncs that go on from syncs stuck on libvirtd). */
const vts_hv_ops *vts_daemon_counted_ops(void);

#endif /* VTS_DAEMON_PRIV_H */
