/* test_daemon_conn.c: lib/vts_daemon_conn.c, the daemon's libvirt
 * connections: the loop's connect with backoff when libvirtd is away,
 * the reconnect after libvirt closed the connection and the sweep after
 * it, and the workers' connections, reused, and dropped on reconnect. Over
 * the fake hypervisor (daemon_fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon_fixture.h"
#include "vts_clock.h"
#include "vts_sync.h"

#define VTS_DAEMON_ALLOW_PRIV
#include "vts_daemon_priv.h"

#define SWEEP_NONE "vmtimesync_syncs_total{trigger=\"sweep\",result=\"none\"}"
#define MS VTS_NS_PER_MS
#define S VTS_NS_PER_SEC

static int
count(const int *counter)
{
    return __atomic_load_n(counter, __ATOMIC_SEQ_CST);
}

static bool
registered_once(const daemon_run *r)
{
    (void)r;
    return count(&daemon_fx_registrations) >= 1;
}

static bool
registered_twice(const daemon_run *r)
{
    (void)r;
    return count(&daemon_fx_registrations) >= 2;
}

/* libvirtd is not there at start: the first two connects fail, and the
 * daemon tries again after 1 s, then 2 s (doubling), never sooner; once
 * connected, it sweeps. */
static bool
connect_backs_off(daemon_run *r)
{
    int64_t t0, t1, t2;

    if (!daemon_run_wait(r, registered_once, 8000))
        return daemon_run_fail(r, "never connected");
    t0 = daemon_fx_connect_at(0);
    t1 = daemon_fx_connect_at(1);
    t2 = daemon_fx_connect_at(2);
    if (t2 < 0)
        return daemon_run_fail(r, "connected with fewer than 3 attempts");
    if (t1 - t0 < 1 * S || t1 - t0 > 1 * S + 800 * MS || t2 - t1 < 2 * S ||
        t2 - t1 > 2 * S + 800 * MS)
        return daemon_run_fail(r, "attempts %lld ms and %lld ms apart, want 1 s then 2 s",
                               (long long)((t1 - t0) / MS), (long long)((t2 - t1) / MS));
    if (count(&daemon_fx_registrations) != 1)
        return daemon_run_fail(r, "a failed connect registered for events");
    /* Connected: the gauge says so, and the sweep looks at the guests. */
    return daemon_run_wait_metric(r, "vmtimesync_connected", 1, 5000) &&
           daemon_run_wait_metric(r, SWEEP_NONE, 1, 5000);
}

static void
test_connect_retries_with_backoff_then_sweeps(void **state)
{
    (void)state;
    fake_hv_reset();
    daemon_fx_fail_connects(2);
    daemon_run_script(connect_backs_off, NULL, NULL);
    fake_hv_cleanup();
}

/* What the loop's connection state is, read on the loop thread. */
typedef struct {
    int64_t due_in; /* vts_daemon_connect_next_due - now, or -1 */
    bool connected;
    size_t nidle;
    unsigned gen;
} conn_state;

static void
read_conn_state(vts_daemon *d, void *arg)
{
    conn_state *st = arg;
    int64_t due = vts_daemon_connect_next_due(d);

    st->due_in = due < 0 ? -1 : due - vts_mono_ns();
    pthread_mutex_lock(&d->lock);
    st->connected = d->conn != NULL;
    st->nidle = d->nidle;
    st->gen = d->conn_gen;
    pthread_mutex_unlock(&d->lock);
}

/* After libvirt closed the connection: the gauge says not connected at
 * once, the idle worker connection is closed, the reconnect waits 5 s
 * (libvirtd.socket would start a stopped libvirtd again), then connects,
 * sweeps, and the workers open fresh connections. Before: syncs reuse the
 * worker's connection. */
static bool
reconnects_after_close(daemon_run *r)
{
    conn_state st, before;
    int64_t closed_at;
    int connects, disconnects;

    if (!daemon_run_wait_metric(r, SWEEP_NONE, 1, 5000) ||
        !daemon_run_idle(r, FAKE_HV_DOMAIN))
        return false;
    /* The loop's connection and the sweep's worker's, now idle. */
    if (!daemon_run_on_loop(r, read_conn_state, &before))
        return daemon_run_fail(r, "the loop did not answer");
    if (count(&daemon_fx_connects) != 2 || before.nidle != 1 || before.due_in != -1)
        return daemon_run_fail(r, "%d connects, %zu idle, next due in %lld ns",
                               count(&daemon_fx_connects), before.nidle,
                               (long long)before.due_in);
    /* Two syncs reuse the idle worker connection. */
    for (int i = 1; i <= 2; i++) {
        fake_hv_set_guest_offset(-2 * S);
        if (!daemon_run_event(r, FAKE_HV_DOMAIN, VTS_EV_RESUMED, VTS_EVD_UNPAUSED) ||
            !daemon_run_wait_metric(
                r, "vmtimesync_syncs_total{trigger=\"resumed\",result=\"stepped\"}", i,
                5000) ||
            !daemon_run_idle(r, FAKE_HV_DOMAIN))
            return daemon_run_fail(r, "resume %d was not synced: %s", i, r->why);
    }
    if (count(&daemon_fx_connects) != 2)
        return daemon_run_fail(r, "the syncs opened %d connections, want none",
                               count(&daemon_fx_connects) - 2);

    disconnects = count(&daemon_fx_disconnects);
    closed_at = vts_mono_ns();
    if (!daemon_run_close(r))
        return daemon_run_fail(r, "nobody registered for the close");
    if (!daemon_run_on_loop(r, read_conn_state, &st))
        return daemon_run_fail(r, "the loop did not answer");
    if (st.connected || st.nidle != 0 || st.gen == before.gen)
        return daemon_run_fail(r,
                               "after the close: connected %d, %zu idle, generation %u",
                               st.connected, st.nidle, st.gen);
    if (st.due_in <= 4500 * MS || st.due_in > 5 * S)
        return daemon_run_fail(r, "reconnect due in %lld ms, want 5 s",
                               (long long)(st.due_in / MS));
    if (count(&daemon_fx_disconnects) != disconnects + 1)
        return daemon_run_fail(r, "the idle worker connection was not closed");
    if (!file_has_line(r->metrics, "vmtimesync_connected 0"))
        return daemon_run_fail(r, "the metrics still say connected");

    connects = count(&daemon_fx_connects);
    if (!daemon_run_wait(r, registered_twice, 8000))
        return daemon_run_fail(r, "never reconnected");
    if (daemon_fx_connect_at(connects) - closed_at < 5 * S)
        return daemon_run_fail(
            r, "reconnected %lld ms after the close, want 5 s",
            (long long)((daemon_fx_connect_at(connects) - closed_at) / MS));
    /* The sweep after the reconnect, on a fresh worker connection. */
    if (!daemon_run_wait_metric(r, SWEEP_NONE, 2, 5000) ||
        !daemon_run_wait_metric(r, "vmtimesync_connected", 1, 5000))
        return false;
    if (count(&daemon_fx_connects) != connects + 2)
        return daemon_run_fail(r, "%d connects after the close, want 2 (loop, worker)",
                               count(&daemon_fx_connects) - connects);
    return true;
}

static void
test_reconnects_after_close_and_drops_worker_connections(void **state)
{
    (void)state;
    fake_hv_reset();
    daemon_run_script(reconnects_after_close, NULL, NULL);
    fake_hv_cleanup();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_retries_with_backoff_then_sweeps),
        cmocka_unit_test(test_reconnects_after_close_and_drops_worker_connections),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
