/* test_daemon_jobs.c: lib/vts_daemon_jobs.c, what the daemon's workers
 * run: the start-up sweep, each domain's sync with its metrics. Over the
 * fake hypervisor (daemon_fixture.h), widened here to several running
 * guests: the fake's own (web-1), and others whose clocks this file keeps
 * (guest-get-time and guest-set-time; their other calls go to the fake). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_fixture.h"
#include "vts_sync.h"

#define S VTS_NS_PER_SEC
#define MAX_GUESTS 4

/* One running guest. Workers = 1: one sync at a time touches these. */
typedef struct {
    const char *name;
    int64_t offset;      /* guest clock - host clock (web-1: the fake's) */
    bool fail;           /* every agent call fails */
    int get_time, steps; /* agent calls seen */
} guest;

static guest guests[MAX_GUESTS];
static size_t nguests;
static vts_hv_ops inner; /* the fixture's operations */

/* What lookup hands out: the fake's domain, and which guest it stands
 * for. */
typedef struct {
    vts_hv_dom *dom;
    guest *g;
} guest_dom;

static guest *
guest_named(const char *name)
{
    for (size_t i = 0; i < nguests; i++)
        if (strcmp(guests[i].name, name) == 0)
            return &guests[i];
    return NULL;
}

static int
guests_list_running(vts_hv_conn *conn, char ***names, size_t *count, vts_error *err)
{
    char **fake_names = NULL;
    size_t n = 0;

    /* Through the fixture: counted, and held when the test says so. */
    if (inner.list_running(conn, &fake_names, &n, err) < 0)
        return -1;
    vts_hv_names_free(fake_names, n);
    *names = calloc(nguests, sizeof(**names));
    assert_non_null(*names);
    for (size_t i = 0; i < nguests; i++)
        assert_non_null((*names)[i] = strdup(guests[i].name));
    *count = nguests;
    return 0;
}

static int
guests_lookup(vts_hv_conn *conn, const char *name, vts_hv_dom **dom, vts_error *err)
{
    guest *g = guest_named(name);
    guest_dom *gd = NULL;
    vts_hv_dom *inner_dom = NULL;

    *dom = NULL;
    if (!g)
        return vts_error_set(err, VTS_ERR_NOT_FOUND,
                             "Domain not found: no domain with matching name '%s'", name);
    if (inner.lookup(conn, FAKE_HV_DOMAIN, &inner_dom, err) < 0)
        return -1;
    gd = calloc(1, sizeof(*gd));
    assert_non_null(gd);
    gd->dom = inner_dom;
    gd->g = g;
    *dom = (vts_hv_dom *)gd;
    return 0;
}

static void
guests_dom_free(vts_hv_dom *dom)
{
    guest_dom *gd = (guest_dom *)dom;

    if (!gd)
        return;
    inner.dom_free(gd->dom);
    free(gd);
}

static int
guests_dom_state(vts_hv_dom *dom, vts_dom_state *state, vts_error *err)
{
    return inner.dom_state(((guest_dom *)dom)->dom, state, err);
}

static int
guests_dom_xml(vts_hv_dom *dom, char **xml, vts_error *err)
{
    return inner.dom_xml(((guest_dom *)dom)->dom, xml, err);
}

static int
guests_rtc_reset(vts_hv_dom *dom, vts_error *err)
{
    return inner.rtc_reset_reinjection(((guest_dom *)dom)->dom, err);
}

/* web-1 is the fake's guest; the others answer guest-get-time and
 * guest-set-time from their own offsets at the fake's host time (no delay:
 * the fake's clock moves only when read). */
static int
guests_agent_command(vts_hv_dom *dom, const char *cmd, int timeout_s, char **reply,
                     vts_error *err)
{
    guest_dom *gd = (guest_dom *)dom;
    guest *g = gd->g;
    const char *t;
    int rc;

    *reply = NULL;
    if (g->fail)
        return vts_error_set(err, VTS_ERR_AGENT_ERROR,
                             "internal error: unable to execute QEMU agent command "
                             "'guest-get-time': Guest agent is broken");
    if (strcmp(g->name, FAKE_HV_DOMAIN) == 0 ||
        (!strstr(cmd, "\"guest-get-time\"") && !strstr(cmd, "\"guest-set-time\""))) {
        rc = inner.agent_command(gd->dom, cmd, timeout_s, reply, err);
        if (rc == 0 && strstr(cmd, "\"guest-get-time\""))
            g->get_time++;
        if (rc == 0 && strstr(cmd, "\"guest-set-time\""))
            g->steps++;
        return rc;
    }
    if (strstr(cmd, "\"guest-get-time\"")) {
        g->get_time++;
        assert_true(
            asprintf(reply, "{\"return\":%" PRId64 "}", fake_hv_now() + g->offset) > 0);
        return 0;
    }
    t = strstr(cmd, "\"time\":");
    assert_non_null(t);
    g->offset = strtoll(t + strlen("\"time\":"), NULL, 10) - fake_hv_now();
    g->steps++;
    assert_non_null(*reply = strdup("{\"return\":{}}"));
    return 0;
}

/* After daemon_run_start: the daemon sees these guests. */
static void
use_guests(daemon_run *r)
{
    inner = r->ops;
    r->ops.list_running = guests_list_running;
    r->ops.lookup = guests_lookup;
    r->ops.dom_free = guests_dom_free;
    r->ops.dom_state = guests_dom_state;
    r->ops.dom_xml = guests_dom_xml;
    r->ops.rtc_reset_reinjection = guests_rtc_reset;
    r->ops.agent_command = guests_agent_command;
}

static void
add_guest(const char *name, int64_t offset, bool fail)
{
    guests[nguests++] = (guest){.name = name, .offset = offset, .fail = fail};
    if (strcmp(name, FAKE_HV_DOMAIN) == 0)
        fake_hv_set_guest_offset(offset);
}

static int
setup(void **state)
{
    (void)state;
    fake_hv_reset();
    memset(guests, 0, sizeof(guests));
    nguests = 0;
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    /* Every domain the daemon looked up was released. */
    assert_int_equal(fake_hv_open_doms(), 0);
    fake_hv_cleanup();
    return 0;
}

static bool
swept(const daemon_run *r)
{
    const long long *want = r->arg;

    return metrics_value(
               r, "vmtimesync_syncs_total{trigger=\"sweep\",result=\"stepped\"}") ==
               want[0] &&
           metrics_value(
               r, "vmtimesync_syncs_total{trigger=\"sweep\",result=\"none\"}") == want[1];
}

/* Run the daemon until @done says the sweep's results are in (@arg for
 * it), and stop it. */
static void
run_sweep(bool (*done)(const daemon_run *r), const void *arg, const char *extra)
{
    daemon_run r;

    daemon_run_start(&r, done, arg, 10000, extra);
    use_guests(&r);
    daemon_run_finish(&r, NULL);
    assert_true(r.met);
}

/* Every running guest with an agent gets a sync at start-up: each one
 * behind is stepped (once), the one in sync is only measured. */
static void
test_startup_sweep_syncs_every_running_guest(void **state)
{
    static const long long want[] = {2, 1};

    (void)state;
    add_guest(FAKE_HV_DOMAIN, -3 * S, false);
    add_guest("app-3", -1 * S, false);
    add_guest("cache-4", 0, false);
    run_sweep(swept, want, NULL);
    for (size_t i = 0; i < nguests; i++) {
        int64_t off = i == 0 ? fake_hv_guest_offset() : guests[i].offset;

        assert_true(guests[i].get_time > 0);
        assert_true(llabs(off) < VTS_SYNC_DEFAULT_THRESHOLD_NS);
    }
    assert_int_equal(guests[0].steps, 1);
    assert_int_equal(guests[1].steps, 1);
    assert_int_equal(guests[2].steps, 0);
}

/* What a user reads in the metrics file after the sweep: the counters by
 * trigger and result, the failure by kind, the offsets measured, and each
 * synced domain's last sync time (the fake host's clock, 2023-11-14). */
static bool
metrics_after_sweep(const daemon_run *r)
{
    static const char *const lines[] = {
        "vmtimesync_connected 1",
        "vmtimesync_syncs_total{trigger=\"sweep\",result=\"stepped\"} 2",
        "vmtimesync_failures_total{kind=\"agent-error\"} 1",
        "vmtimesync_offset_seconds_count 2", NULL};

    for (const char *const *l = lines; *l; l++)
        if (!file_has_line(r->metrics, *l))
            return false;
    return metrics_value(r, "vmtimesync_last_sync_timestamp_seconds{domain=\"web-1\"}") ==
               FAKE_HV_START_NS / S &&
           metrics_value(r, "vmtimesync_last_sync_timestamp_seconds{domain=\"app-3\"}") ==
               FAKE_HV_START_NS / S &&
           metrics_value(r, "vmtimesync_last_sync_timestamp_seconds{domain=\"db-2\"}") ==
               -1;
}

/* A guest whose agent fails, listed first, does not stop the others: they
 * are stepped, and the failure is counted. */
static void
test_failing_guest_does_not_stop_the_others(void **state)
{
    (void)state;
    add_guest("db-2", -2 * S, true);
    add_guest(FAKE_HV_DOMAIN, -3 * S, false);
    add_guest("app-3", -1 * S, false);
    /* No retry: the failure is counted once. */
    run_sweep(metrics_after_sweep, NULL, "retry_max = 0\n");
    assert_int_equal(guests[0].steps, 0);
    assert_int_equal(guests[1].steps, 1);
    assert_int_equal(guests[2].steps, 1);
    assert_true(llabs(fake_hv_guest_offset()) < VTS_SYNC_DEFAULT_THRESHOLD_NS);
    assert_true(llabs(guests[2].offset) < VTS_SYNC_DEFAULT_THRESHOLD_NS);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_startup_sweep_syncs_every_running_guest),
        T(test_failing_guest_does_not_stop_the_others),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
