/* vts_daemon.c: vmtimesyncd's lifecycle: new, run (the event loop's
 * setup and teardown, readiness for systemd), signals and reload, the
 * wait for the syncs under way at SIGTERM, free.
 *
 * The daemon's other files: vts_daemon_loop.c (events and the timer),
 * vts_daemon_conn.c (libvirt connections), vts_daemon_jobs.c (syncs and
 * the sweep), vts_daemon_watch.c (watch mode), vts_daemon_ctl.c (control
 * answers); they share vts_daemon_priv.h, which says which thread owns
 * what.
 */
#include "vts_daemon.h"

#define VTS_DAEMON_ALLOW_PRIV
#include "vts_daemon_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vts_clock.h"
#include "vts_log.h"
#include "vts_sync.h"

static int vts_daemon_sig_fd = -1;
/* The running daemon's agent calls (one daemon runs per process, as for
 * vts_daemon_sig_fd): workers sync through vts_daemon_sync_ops, which
 * counts each call that returned, so that SIGTERM's wait can tell syncs
 * that go on from syncs stuck on libvirtd. */
static const vts_hv_ops *vts_daemon_real_ops;
static vts_hv_ops vts_daemon_sync_ops;
static uint64_t vts_daemon_calls_done; /* atomic */

const vts_hv_ops *
vts_daemon_counted_ops(void)
{
    return &vts_daemon_sync_ops;
}

static int
vts_daemon_counted_agent_command(vts_hv_dom *dom, const char *cmd, int timeout_s,
                                 char **reply, vts_error *err)
{
    int rc = vts_daemon_real_ops->agent_command(dom, cmd, timeout_s, reply, err);

    __atomic_add_fetch(&vts_daemon_calls_done, 1, __ATOMIC_RELAXED);
    return rc;
}

static void
vts_daemon_on_signal_write(int signo)
{
    unsigned char b = (unsigned char)signo;
    int saved = errno;

    if (vts_daemon_sig_fd >= 0 && write(vts_daemon_sig_fd, &b, 1) < 0) {
        /* The pipe is full: a signal is pending anyway. */
    }
    errno = saved;
}

static vts_log_level vts_daemon_log_level(const vts_daemon *d);

static void
vts_daemon_reload(vts_daemon *d)
{
    vts_conf fresh;
    vts_sched_conf sc;
    vts_watch_conf wc;
    vts_error err;
    char *old_uri = NULL;
    char new_socket[sizeof(fresh.control_socket)];
    bool uri_changed;
    int old_workers;

    vts_conf_init(&fresh);
    if (vts_conf_load(&fresh, d->conf_path, d->conf_missing_ok, &err) < 0) {
        vts_log(VTS_LOG_ERR, "reload failed, keeping the running configuration: %s",
                err.message);
        vts_conf_clear(&fresh);
        return;
    }
    pthread_mutex_lock(&d->lock);
    old_uri = strdup(vts_daemon_uri(d));
    old_workers = d->conf.workers;
    /* The socket we listen on stays until restart: its path is what we
     * unlink at exit. */
    memcpy(new_socket, fresh.control_socket, sizeof(new_socket));
    memcpy(fresh.control_socket, d->conf.control_socket, sizeof(fresh.control_socket));
    vts_conf_clear(&d->conf);
    d->conf = fresh;
    vts_conf_to_sched_conf(&d->conf, &sc);
    vts_sched_set_conf(d->sched, &sc);
    vts_daemon_watch_conf(d, &wc);
    vts_watch_set_conf(d->watch, &wc, vts_mono_ns());
    uri_changed = !old_uri || strcmp(old_uri, vts_daemon_uri(d)) != 0;
    pthread_mutex_unlock(&d->lock);
    vts_log_set_level(vts_daemon_log_level(d));
    vts_log(VTS_LOG_INFO, "reloaded %s", d->conf_path);
    /* The watch may have been turned on or re-spaced: the timer dispatches. */
    vts_daemon_wake_loop(d);
    if (d->conf.workers != old_workers)
        vts_log(VTS_LOG_WARNING, "workers changed from %d to %d: takes effect at restart",
                old_workers, d->conf.workers);
    if (strcmp(new_socket, d->conf.control_socket) != 0)
        vts_log(VTS_LOG_WARNING,
                "control_socket changed from %s to %s: takes effect at restart",
                d->conf.control_socket, new_socket);
    if (uri_changed)
        vts_daemon_reconnect_now(d);
    free(old_uri);
}

/* Loop thread: a signal arrived through the self-pipe. */
static void
vts_daemon_on_signal(int watch, int fd, int events, void *opaque)
{
    vts_daemon *d = opaque;
    unsigned char b;

    (void)watch;
    (void)events;
    while (read(fd, &b, 1) == 1) {
        if (b == SIGHUP) {
            vts_daemon_reload(d);
        } else {
            vts_log(VTS_LOG_INFO, "signal %d: stopping", b);
            d->quit = true;
        }
    }
}

static void
vts_daemon_sd_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa;
    socklen_t len;
    int fd;

    if (!path || (path[0] != '/' && path[0] != '@') ||
        strlen(path) >= sizeof(sa.sun_path))
        return;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path));
    if (path[0] == '@')
        sa.sun_path[0] = '\0';
    len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0)
        vts_log(VTS_LOG_DEBUG, "sd_notify: %s", strerror(errno));
    close(fd);
}

vts_daemon *
vts_daemon_new(const vts_hv_ops *ops, const char *conf_path, const char *uri,
               vts_error *err)
{
    vts_daemon *d = calloc(1, sizeof(*d));
    vts_sched_conf sc;
    vts_watch_conf wc;

    if (!d) {
        vts_error_set(err, VTS_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    d->ops = ops;
    d->timer = -1;
    d->sig_watch = -1;
    d->sig_pipe[0] = d->sig_pipe[1] = -1;
    pthread_mutex_init(&d->lock, NULL);
    vts_conf_init(&d->conf);
    d->conf_missing_ok = !conf_path;
    d->conf_path = strdup(conf_path ? conf_path : VTS_CONF_DEFAULT_PATH);
    d->uri_override = uri ? strdup(uri) : NULL;
    if (!d->conf_path || (uri && !d->uri_override)) {
        vts_error_set(err, VTS_ERR_INTERNAL, "out of memory");
        goto error;
    }
    if (vts_conf_load(&d->conf, d->conf_path, d->conf_missing_ok, err) < 0)
        goto error;
    vts_conf_to_sched_conf(&d->conf, &sc);
    d->sched = vts_sched_new(&sc);
    vts_daemon_watch_conf(d, &wc);
    d->watch = vts_watch_new(&wc, vts_mono_ns());
    d->metrics = vts_metrics_new();
    if (!d->sched || !d->watch || !d->metrics) {
        vts_error_set(err, VTS_ERR_INTERNAL, "out of memory");
        goto error;
    }
    return d;

error:
    vts_daemon_free(d);
    return NULL;
}

/* Loop thread, on SIGTERM: let the syncs under way finish. A whole sync
 * may take vts_daemon_stop_grace_ns(); but when no agent call returned for
 * agent_timeout + 2 s, the calls under way wait on a libvirtd that does
 * not answer (each agent call is bounded by the agent timeout): stop
 * waiting then. Returns how many syncs are still running, and in @waited_ms
 * the bound that ran out. */
static size_t
vts_daemon_stop_workers(vts_daemon *d, int64_t *waited_ms)
{
    int64_t start = vts_mono_ns();
    int64_t whole = vts_daemon_stop_grace_ns(&d->conf);
    int64_t stall = ((int64_t)d->conf.agent_timeout_s + 2) * VTS_NS_PER_SEC;
    uint64_t seen = __atomic_load_n(&vts_daemon_calls_done, __ATOMIC_RELAXED);
    int64_t moved = start;
    int64_t bound = 0;
    size_t left;

    while ((left = vts_pool_stop(d->pool, 100)) > 0) {
        int64_t now = vts_mono_ns();
        uint64_t done = __atomic_load_n(&vts_daemon_calls_done, __ATOMIC_RELAXED);

        if (done != seen) {
            seen = done;
            moved = now;
        }
        if (now - start >= whole)
            bound = whole;
        else if (now - moved >= stall)
            bound = stall;
        if (bound)
            break;
    }
    *waited_ms = bound / VTS_NS_PER_MS;
    return left;
}

int
vts_daemon_run(vts_daemon *d, vts_error *err)
{
    struct sigaction sa;
    size_t left;
    int64_t grace_ms;

    vts_log_set_level(vts_daemon_log_level(d));
    if (d->ops->loop_init(err) < 0)
        return -1;
    if (pipe2(d->sig_pipe, O_NONBLOCK | O_CLOEXEC) < 0)
        return vts_error_set(err, VTS_ERR_INTERNAL, "pipe: %s", strerror(errno));
    vts_daemon_sig_fd = d->sig_pipe[1];
    vts_daemon_real_ops = d->ops;
    vts_daemon_sync_ops = *d->ops;
    vts_daemon_sync_ops.agent_command = vts_daemon_counted_agent_command;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = vts_daemon_on_signal_write;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    d->sig_watch =
        d->ops->loop_add_handle(d->sig_pipe[0], VTS_HV_READABLE, vts_daemon_on_signal, d);
    d->timer = d->ops->loop_add_timer(-1, vts_daemon_on_timer, d);
    if (d->sig_watch < 0 || d->timer < 0)
        return vts_error_set(err, VTS_ERR_INTERNAL, "cannot set up the event loop");

    d->ctl = vts_ctl_server_new(d->ops, d->conf.control_socket, vts_daemon_answer,
                                vts_daemon_ctl_wake, d, err);
    if (!d->ctl)
        return -1;

    d->pool = vts_pool_new(d->conf.workers, vts_daemon_job, d, err);
    if (!d->pool)
        return -1;
    pthread_mutex_lock(&d->lock);
    d->pool_workers = d->conf.workers;
    pthread_mutex_unlock(&d->lock);

    vts_log(VTS_LOG_INFO,
            "vmtimesyncd starting: uri %s, %d workers, threshold %.3f ms, "
            "control socket %s",
            vts_daemon_uri(d), d->conf.workers,
            (double)d->conf.threshold_ns / VTS_NS_PER_MS, d->conf.control_socket);
    vts_daemon_reconnect_now(d); /* the first timer connects */
    vts_daemon_sd_notify("READY=1");

    while (!d->quit) {
        if (d->ops->loop_run_once(err) < 0)
            return -1;
    }

    vts_daemon_sd_notify("STOPPING=1");
    /* No new clients, and no socket file left behind even if a hung sync
     * makes us exit without freeing. */
    vts_ctl_server_close(d->ctl);
    left = vts_daemon_stop_workers(d, &grace_ms);
    if (left > 0)
        vts_log(VTS_LOG_WARNING,
                "%zu syncs still running after %" PRId64 " ms; exiting anyway", left,
                grace_ms);
    /* The metrics file outlives us (node_exporter goes on reading it): its
     * last word is that nobody watches libvirt any more, so that an alert
     * on vmtimesync_connected == 0 fires. */
    vts_metrics_set_connected(d->metrics, false);
    vts_daemon_write_metrics(d);
    vts_log(VTS_LOG_INFO, "vmtimesyncd stopped");
    return 0;
}

int64_t
vts_daemon_stop_grace_ns(const vts_conf *conf)
{
    int64_t calls = VTS_SYNC_MAX_AGENT_CALLS(
        (int64_t)conf->samples, conf->set_time_fallback == VTS_FALLBACK_GUEST_EXEC);

    return calls * conf->agent_timeout_s * VTS_NS_PER_SEC + 2 * VTS_NS_PER_SEC;
}

void
vts_daemon_force_debug(vts_daemon *d)
{
    d->force_debug = true;
}

static vts_log_level
vts_daemon_log_level(const vts_daemon *d)
{
    return d->force_debug ? VTS_LOG_DEBUG : d->conf.log_level;
}

void
vts_daemon_free(vts_daemon *d)
{
    if (!d)
        return;
    if (d->pool && vts_pool_stop(d->pool, 0) == 0)
        vts_pool_free(d->pool);
    else if (d->pool)
        return; /* workers still use d: leave it to the exiting process */
    vts_ctl_server_free(d->ctl);
    if (d->sig_watch >= 0)
        d->ops->loop_remove_handle(d->sig_watch);
    if (d->timer >= 0)
        d->ops->loop_remove_timer(d->timer);
    vts_daemon_sig_fd = -1;
    if (d->sig_pipe[0] >= 0)
        close(d->sig_pipe[0]);
    if (d->sig_pipe[1] >= 0)
        close(d->sig_pipe[1]);
    /* A connect still under way is left to its thread, which closes what
     * it opens. */
    vts_connect_abandon(d->connecting);
    vts_daemon_worker_conns_drop(d);
    d->ops->disconnect(d->conn);
    d->ops->disconnect(d->conn_closed);
    vts_sched_free(d->sched);
    vts_watch_free(d->watch);
    vts_metrics_free(d->metrics);
    vts_conf_clear(&d->conf);
    free(d->conf_path);
    free(d->uri_override);
    pthread_mutex_destroy(&d->lock);
    free(d);
}
