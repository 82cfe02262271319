/* vts_daemon_conn.c: the daemon's libvirt connections: the loop's own
 * (connect, lost, reconnect with backoff, never waiting on libvirtd) and
 * the workers' (one per job under way, idle ones kept for reuse).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define VTS_DAEMON_ALLOW_PRIV
#include "vts_daemon_priv.h"

#include "vts_clock.h"
#include "vts_log.h"
#include "vts_sync.h"

/* Reconnect delays when a connect fails: 1 s, doubling, up to 30 s. */
#define VTS_DAEMON_RECONNECT_MIN_NS (1 * VTS_NS_PER_SEC)
#define VTS_DAEMON_RECONNECT_MAX_NS (30 * VTS_NS_PER_SEC)
/* After libvirtd closed the connection, the first attempt waits this long
 * (then 10 s, 20 s, 30 s...): `systemctl stop libvirtd` leaves
 * libvirtd.socket listening, and connecting at once would start libvirtd
 * again under the operator's hands. */
#define VTS_DAEMON_RECONNECT_AFTER_CLOSE_NS (5 * VTS_NS_PER_SEC)
/* A connect that libvirtd has not answered for this long is reported ... */
#define VTS_DAEMON_CONNECT_SLOW_NS (10 * VTS_NS_PER_SEC)
/* ... and the loop's is abandoned after this long, then tried again. A
 * worker waits this long for its own connection. */
#define VTS_DAEMON_CONNECT_GIVE_UP_NS (60 * VTS_NS_PER_SEC)
#define VTS_DAEMON_WORKER_CONNECT_TIMEOUT_NS (10 * VTS_NS_PER_SEC)

const char *
vts_daemon_uri(const vts_daemon *d)
{
    if (d->uri_override && *d->uri_override)
        return d->uri_override;
    return vts_conf_uri(&d->conf);
}

/* Worker thread: a libvirt connection of its own for one job. Each sync
 * under way has its own connection: libvirtd serves at most
 * max_client_requests (5 by default) calls of one client at a time, so on
 * a shared one five hung agents would hold up every other call. Reuses an
 * idle one of the current generation, else opens one. NULL with @err set
 * when the daemon is not connected or the open fails. */
vts_hv_conn *
vts_daemon_worker_conn_get(vts_daemon *d, unsigned *gen, vts_error *err)
{
    vts_hv_conn *hv = NULL;
    char *uri = NULL;

    pthread_mutex_lock(&d->lock);
    *gen = d->conn_gen;
    if (d->conn && d->nidle > 0)
        hv = d->idle[--d->nidle];
    else if (d->conn)
        uri = strdup(vts_daemon_uri(d));
    pthread_mutex_unlock(&d->lock);
    if (hv)
        return hv;
    if (!uri) {
        vts_error_set(err, VTS_ERR_CONNECT, "not connected to libvirt");
        return NULL;
    }
    {
        vts_connect_spec spec = {.uri = uri};
        vts_connect *c = vts_connect_start(d->ops, &spec, err);

        /* libvirtd may accept and never answer: wait a bounded time. */
        if (!c || vts_connect_wait(c, VTS_DAEMON_WORKER_CONNECT_TIMEOUT_NS, &hv, err) < 0)
            hv = NULL;
    }
    free(uri);
    return hv;
}

/* Worker thread: done with @hv (may be NULL). Kept for the next job unless
 * the daemon reconnected since (@gen is old) or the job saw it @broken. */
void
vts_daemon_worker_conn_put(vts_daemon *d, vts_hv_conn *hv, unsigned gen, bool broken)
{
    pthread_mutex_lock(&d->lock);
    if (hv && !broken && d->conn && gen == d->conn_gen &&
        d->nidle < VTS_DAEMON_MAX_IDLE) {
        d->idle[d->nidle++] = hv;
        hv = NULL;
    }
    pthread_mutex_unlock(&d->lock);
    d->ops->disconnect(hv);
}

/* Loop thread: close the idle worker connections and make those in use
 * close when they come back (a reconnect, or the end). */
void
vts_daemon_worker_conns_drop(vts_daemon *d)
{
    vts_hv_conn *idle[VTS_DAEMON_MAX_IDLE];
    size_t n;

    pthread_mutex_lock(&d->lock);
    n = d->nidle;
    memcpy(idle, d->idle, n * sizeof(idle[0]));
    d->nidle = 0;
    d->conn_gen++;
    pthread_mutex_unlock(&d->lock);
    for (size_t i = 0; i < n; i++)
        d->ops->disconnect(idle[i]);
}

/* Loop thread: libvirtd went away. Reconnect from the timer, not here. */
static void
vts_daemon_on_close(void *opaque)
{
    vts_daemon *d = opaque;

    vts_log(VTS_LOG_WARNING,
            "lost the connection to libvirt at %s; reconnecting in %lld s",
            vts_daemon_uri(d),
            (long long)(VTS_DAEMON_RECONNECT_AFTER_CLOSE_NS / VTS_NS_PER_SEC));
    /* Workers see it gone and do not connect by themselves meanwhile. */
    pthread_mutex_lock(&d->lock);
    if (d->conn) {
        d->ops->disconnect(d->conn_closed);
        d->conn_closed = d->conn;
        d->conn = NULL;
    }
    pthread_mutex_unlock(&d->lock);
    if (d->connecting)
        d->connect_closed = true;
    d->conn_lost = true;
    d->reconnect_delay = 2 * VTS_DAEMON_RECONNECT_AFTER_CLOSE_NS;
    d->reconnect_at = vts_mono_ns() + VTS_DAEMON_RECONNECT_AFTER_CLOSE_NS;
    /* The workers' connections went with it, most likely. */
    vts_daemon_worker_conns_drop(d);
    vts_metrics_set_connected(d->metrics, false);
    vts_daemon_write_metrics(d);
    vts_daemon_wake_loop(d);
}

/* Loop thread: a connect failed; try again after the current delay. */
static void
vts_daemon_connect_failed(vts_daemon *d, const char *why)
{
    vts_log(VTS_LOG_ERR, "%s; retrying in %" PRId64 " s", why,
            (int64_t)(d->reconnect_delay / VTS_NS_PER_SEC));
    d->reconnect_at = vts_mono_ns() + d->reconnect_delay;
    d->reconnect_delay *= 2;
    if (d->reconnect_delay > VTS_DAEMON_RECONNECT_MAX_NS)
        d->reconnect_delay = VTS_DAEMON_RECONNECT_MAX_NS;
}

/* Any thread: the loop's connect is done; the timer takes the result. */
static void
vts_daemon_connect_done(void *opaque)
{
    vts_daemon_wake_loop(opaque);
}

/* Loop thread: (re)connect and register for events on a thread of its
 * own: libvirtd may accept and never answer, and the loop never waits. */
static void
vts_daemon_connect_start(vts_daemon *d)
{
    vts_connect_spec spec = {
        .uri = vts_daemon_uri(d),
        .event_fn = vts_daemon_on_event,
        .close_fn = vts_daemon_on_close,
        .event_opaque = d,
        .done_fn = vts_daemon_connect_done,
        .done_opaque = d,
    };
    vts_error err;

    /* Closing the old connection may wait on libvirtd too: the thread
     * does it. */
    pthread_mutex_lock(&d->lock);
    spec.to_close = d->conn;
    d->conn = NULL;
    pthread_mutex_unlock(&d->lock);
    if (!spec.to_close) {
        spec.to_close = d->conn_closed;
        d->conn_closed = NULL;
    }
    vts_daemon_worker_conns_drop(d);

    d->connecting = vts_connect_start(d->ops, &spec, &err);
    if (!d->connecting) {
        d->ops->disconnect(spec.to_close);
        vts_daemon_connect_failed(d, err.message);
        return;
    }
    d->connect_started = vts_mono_ns();
    d->connect_warned = false;
    d->connect_closed = false;
}

/* Loop thread: take the connect's result when it is done; report it when
 * slow, abandon it when hung. */
static void
vts_daemon_connect_check(vts_daemon *d, int64_t now)
{
    vts_hv_conn *hv = NULL;
    vts_error err;
    const char *uri = vts_daemon_uri(d);

    if (!d->connecting)
        return;
    if (vts_connect_poll(d->connecting, &hv, &err) == 0) {
        int64_t waited = now - d->connect_started;

        if (waited >= VTS_DAEMON_CONNECT_GIVE_UP_NS) {
            vts_connect_abandon(d->connecting);
            d->connecting = NULL;
            vts_error_set(&err, VTS_ERR_CONNECT,
                          "connecting to libvirt at %s: no answer for %" PRId64
                          " s, giving this attempt up",
                          uri, (int64_t)(waited / VTS_NS_PER_SEC));
            vts_daemon_connect_failed(d, err.message);
        } else if (waited >= VTS_DAEMON_CONNECT_SLOW_NS && !d->connect_warned) {
            d->connect_warned = true;
            vts_log(VTS_LOG_WARNING,
                    "connecting to libvirt at %s: no answer for %" PRId64
                    " s; is libvirtd hung? (still waiting; the control socket and "
                    "signals are served meanwhile)",
                    uri, (int64_t)(waited / VTS_NS_PER_SEC));
        }
        return;
    }
    d->connecting = NULL;
    if (hv && d->connect_closed) {
        d->ops->disconnect(hv);
        hv = NULL;
        vts_error_set(&err, VTS_ERR_CONNECT, "libvirt at %s closed the new connection",
                      uri);
    }
    if (!hv) {
        vts_daemon_connect_failed(d, err.message);
        return;
    }
    d->conn_lost = false;
    d->reconnect_at = 0;
    d->reconnect_delay = VTS_DAEMON_RECONNECT_MIN_NS;
    vts_log(VTS_LOG_INFO, "connected to libvirt at %s", uri);
    vts_metrics_set_connected(d->metrics, true);
    vts_daemon_write_metrics(d);
    pthread_mutex_lock(&d->lock);
    d->conn = hv;
    /* Catch what happened while we were not listening. */
    vts_daemon_push(d, VTS_DAEMON_ITEM_SWEEP);
    pthread_mutex_unlock(&d->lock);
}

void
vts_daemon_connect_on_timer(vts_daemon *d, int64_t now)
{
    if (d->conn_lost && !d->connecting && d->reconnect_at > 0 && now >= d->reconnect_at)
        vts_daemon_connect_start(d);
    vts_daemon_connect_check(d, now);
}

int64_t
vts_daemon_connect_next_due(const vts_daemon *d)
{
    int64_t due = -1;

    if (d->conn_lost && !d->connecting && d->reconnect_at > 0)
        due = d->reconnect_at;
    if (d->connecting) {
        int64_t check =
            d->connect_started + (d->connect_warned ? VTS_DAEMON_CONNECT_GIVE_UP_NS
                                                    : VTS_DAEMON_CONNECT_SLOW_NS);

        if (due < 0 || check < due)
            due = check;
    }
    return due;
}

void
vts_daemon_reconnect_now(vts_daemon *d)
{
    /* A connect under way goes to the old URI. */
    vts_connect_abandon(d->connecting);
    d->connecting = NULL;
    d->conn_lost = true;
    d->reconnect_delay = VTS_DAEMON_RECONNECT_MIN_NS;
    d->reconnect_at = vts_mono_ns();
    vts_daemon_wake_loop(d);
}
