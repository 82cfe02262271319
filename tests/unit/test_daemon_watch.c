/* test_daemon_watch.c: lib/vts_daemon_watch.c, watch mode in vmtimesyncd:
 * the measurements handed to the workers between events, what they export,
 * the sync a large offset asks for, and the guests left alone (paused).
 * vmtimesyncd over the fake hypervisor (daemon_fixture.h) with a watch
 * every second; outcomes read as a user reads them, in the metrics file.
 * (The watch's bookkeeping alone, lib/vts_watch.c, is test_watch.c's.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon_fixture.h"
#include "vts_sync.h"

#define S VTS_NS_PER_SEC
#define MS VTS_NS_PER_MS

#define SWEEP_NONE "vmtimesync_syncs_total{trigger=\"sweep\",result=\"none\"}"
#define WATCH_STEPPED "vmtimesync_syncs_total{trigger=\"watch\",result=\"stepped\"}"
#define OFFSET_GAUGE "vmtimesync_guest_offset_seconds{domain=\"" FAKE_HV_DOMAIN "\"}"
#define MEASURED(result) "vmtimesync_watch_measurements_total{result=\"" result "\"}"

/* The start-up sweep found web-1 in sync, and nothing is planned for it. */
static bool
settled(daemon_run *r)
{
    if (!daemon_run_wait_metric(r, SWEEP_NONE, 1, 5000) ||
        !daemon_run_idle(r, FAKE_HV_DOMAIN))
        return daemon_run_fail(r, "the start-up sweep did not settle");
    return true;
}

/* A few watch intervals on a busy machine. */
#define WATCH_WAIT_MS 10000

/* With correction off (watch_fix_above = never), a guest 300 ms behind is
 * measured, exported, and left alone. */
static bool
exported_not_fixed(daemon_run *r)
{
    double g;

    if (!settled(r))
        return false;
    fake_hv_set_guest_offset(-300 * MS); /* the worker is idle */
    if (!daemon_run_wait_metric_at_least(r, MEASURED("ok"), 1, WATCH_WAIT_MS))
        return false;
    /* The gauge is written with the measurement's count. */
    g = metrics_gauge(r, OFFSET_GAUGE);
    if (isnan(g) || fabs(g - -0.300) > 0.001)
        return daemon_run_fail(r, "%s is %f, want -0.300", OFFSET_GAUGE, g);
    if (__atomic_load_n(&set_time_calls, __ATOMIC_SEQ_CST) != 0)
        return daemon_run_fail(r, "the watch stepped a guest with correction off");
    return true;
}

static void
test_watch_exports_the_offset_and_never_fixes_when_told(void **state)
{
    (void)state;
    fake_hv_reset();
    daemon_run_script(exported_not_fixed, NULL,
                      "watch_interval = 1s\nwatch_fix_above = never\n");
    assert_int_equal(set_time_calls, 0);
    fake_hv_cleanup();
}

/* A guest found 2 s behind (beyond watch_fix_above, 1 s) is synced once
 * with trigger "watch"; found off again with no event since (its NTP, or
 * whatever moved it, is not fought), it is held, not stepped again. */
static bool
fixed_once_then_held(daemon_run *r)
{
    if (!settled(r))
        return false;
    fake_hv_set_guest_offset(-2 * S);
    if (!daemon_run_wait_metric(r, WATCH_STEPPED, 1, 5000) ||
        !daemon_run_idle(r, FAKE_HV_DOMAIN))
        return daemon_run_fail(r, "no watch sync of a guest 2 s behind");
    if (llabs(fake_hv_guest_offset()) >= VTS_SYNC_DEFAULT_THRESHOLD_NS)
        return daemon_run_fail(r, "the watch's sync left the guest %lld ns off",
                               (long long)fake_hv_guest_offset());
    fake_hv_set_guest_offset(-2 * S);
    if (!daemon_run_wait_metric_at_least(r, MEASURED("held"), 1, WATCH_WAIT_MS))
        return false;
    if (metrics_value(r, WATCH_STEPPED) != 1)
        return daemon_run_fail(r, "%s: %lld, want 1", WATCH_STEPPED,
                               metrics_value(r, WATCH_STEPPED));
    return true;
}

static void
test_watch_fixes_beyond_fix_above_once_then_holds(void **state)
{
    (void)state;
    fake_hv_reset();
    daemon_run_script(fixed_once_then_held, NULL,
                      "watch_interval = 1s\nwatch_fix_above = 1s\n");
    assert_int_equal(set_time_calls, 1);
    assert_true(fake_hv_guest_offset() == -2 * S);
    fake_hv_cleanup();
}

/* A paused guest's agent cannot answer: the watch skips it, and asks its
 * agent nothing, interval after interval, whatever its clock says. */
static bool
paused_is_skipped(daemon_run *r)
{
    int calls;

    if (!settled(r))
        return false;
    fake_hv_set_state(VTS_DOM_PAUSED);
    fake_hv_set_guest_offset(-2 * S);
    if (!daemon_run_event(r, FAKE_HV_DOMAIN, VTS_EV_SUSPENDED, VTS_EVD_PAUSED))
        return daemon_run_fail(r, "nobody registered for events");
    /* The pause is the scheduler's before the next interval begins. */
    if (!daemon_run_wait_metric_at_least(r, MEASURED("skipped"), 1, WATCH_WAIT_MS))
        return false;
    calls = __atomic_load_n(&agent_calls, __ATOMIC_SEQ_CST);
    if (!daemon_run_wait_metric_at_least(r, MEASURED("skipped"), 3, WATCH_WAIT_MS))
        return false;
    if (__atomic_load_n(&agent_calls, __ATOMIC_SEQ_CST) != calls)
        return daemon_run_fail(r, "the watch asked a paused guest's agent");
    return true;
}

static void
test_watch_skips_a_paused_guest(void **state)
{
    (void)state;
    fake_hv_reset();
    daemon_run_script(paused_is_skipped, NULL,
                      "watch_interval = 1s\nwatch_fix_above = 1s\n");
    assert_int_equal(set_time_calls, 0);
    fake_hv_cleanup();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_watch_exports_the_offset_and_never_fixes_when_told),
        cmocka_unit_test(test_watch_fixes_beyond_fix_above_once_then_holds),
        cmocka_unit_test(test_watch_skips_a_paused_guest),
    };

    return cmocka_run_group_tests_name("daemon_watch", tests, NULL, NULL);
}
