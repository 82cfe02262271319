/* test_daemon_loop.c: lib/vts_daemon_loop.c, where a hypervisor event
 * becomes a scheduled sync: vmtimesyncd over the fake hypervisor
 * (daemon_fixture.h), events injected on its loop thread, the outcome read
 * as a user reads it (the metrics file) and in the scheduler. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "daemon_fixture.h"
#include "vts_sync.h"

#define SWEEP_NONE "vmtimesync_syncs_total{trigger=\"sweep\",result=\"none\"}"
#define SWEEP_STEPPED "vmtimesync_syncs_total{trigger=\"sweep\",result=\"stepped\"}"

/* The start-up sweep found web-1 in sync (the guest starts at offset 0),
 * and nothing more is planned for it. */
static bool
settled(daemon_run *r)
{
    return daemon_run_wait_metric(r, SWEEP_NONE, 1, 5000) &&
           daemon_run_idle(r, FAKE_HV_DOMAIN);
}

/* The guest is 2 s behind, as after a pause: one sync steps it once. */
static bool
stepped_once_by(daemon_run *r, const char *label)
{
    char series[128];
    int steps;

    snprintf(series, sizeof(series),
             "vmtimesync_syncs_total{trigger=\"%s\",result=\"stepped\"}", label);
    if (!daemon_run_wait_metric(r, series, 1, 5000) ||
        !daemon_run_idle(r, FAKE_HV_DOMAIN))
        return false;
    /* Idle: nothing queued or planned, so no second sync is on its way. */
    if (metrics_value(r, series) != 1)
        return daemon_run_fail(r, "%s: %lld syncs", series, metrics_value(r, series));
    steps = __atomic_load_n(&set_time_calls, __ATOMIC_SEQ_CST);
    if (steps != 1)
        return daemon_run_fail(r, "%d guest-set-time calls, want 1", steps);
    if (llabs(fake_hv_guest_offset()) >= VTS_SYNC_DEFAULT_THRESHOLD_NS)
        return daemon_run_fail(r, "the guest is still %lld ns off",
                               (long long)fake_hv_guest_offset());
    return true;
}

typedef struct {
    vts_ev_kind kind;
    vts_ev_detail detail;
    const char *label; /* the metrics' trigger label */
} event_case;

static bool
one_event_schedules_one_sync(daemon_run *r)
{
    const event_case *c = r->arg;

    if (!settled(r))
        return false;
    fake_hv_set_guest_offset(-2 * VTS_NS_PER_SEC); /* the worker is idle */
    if (!daemon_run_event(r, FAKE_HV_DOMAIN, c->kind, c->detail))
        return daemon_run_fail(r, "nobody registered for events");
    return stepped_once_by(r, c->label);
}

static void
run_event_case(const event_case *c)
{
    fake_hv_reset();
    daemon_run_script(one_event_schedules_one_sync, c, NULL);
    fake_hv_cleanup();
}

/* virsh resume, a live migration's arrival, a restore: each schedules
 * exactly one sync of the domain. */
static void
test_resume_schedules_one_sync(void **state)
{
    static const event_case c = {VTS_EV_RESUMED, VTS_EVD_UNPAUSED, "resumed"};

    (void)state;
    run_event_case(&c);
}

static void
test_migration_schedules_one_sync(void **state)
{
    static const event_case c = {VTS_EV_RESUMED, VTS_EVD_MIGRATED, "resumed"};

    (void)state;
    run_event_case(&c);
}

static void
test_restore_schedules_one_sync(void **state)
{
    static const event_case c = {VTS_EV_STARTED, VTS_EVD_RESTORED, "started"};

    (void)state;
    run_event_case(&c);
}

/* A fresh boot reads the host's time from its RTC: no sync. */
static bool
boot_schedules_nothing(daemon_run *r)
{
    int calls;

    if (!settled(r))
        return false;
    calls = __atomic_load_n(&agent_calls, __ATOMIC_SEQ_CST);
    if (!daemon_run_event(r, FAKE_HV_DOMAIN, VTS_EV_STARTED, VTS_EVD_BOOTED))
        return daemon_run_fail(r, "nobody registered for events");
    /* The event was handled on the loop thread already: was anything
     * queued? */
    if (!daemon_run_idle(r, FAKE_HV_DOMAIN))
        return false;
    if (__atomic_load_n(&agent_calls, __ATOMIC_SEQ_CST) != calls)
        return daemon_run_fail(r, "a boot made agent calls");
    return true;
}

static void
test_boot_schedules_no_sync(void **state)
{
    (void)state;
    fake_hv_reset();
    daemon_run_script(boot_schedules_nothing, NULL, NULL);
    fake_hv_cleanup();
}

/* A guest restored (or reverted) paused and left paused beyond agent_wait
 * is no failure: its agent cannot connect while it is paused, and its
 * resume syncs it. Neither a "giving up" warning nor a failure in the
 * metrics, which would page an operator for a guest that is only paused. */
static bool
paused_beyond_agent_wait(daemon_run *r)
{
    long long failed;

    if (!settled(r))
        return false;
    fake_hv_set_state(VTS_DOM_PAUSED);
    fake_hv_set_guest_offset(-2 * VTS_NS_PER_SEC);
    if (!daemon_run_event(r, FAKE_HV_DOMAIN, VTS_EV_STARTED, VTS_EVD_RESTORED) ||
        !daemon_run_event(r, FAKE_HV_DOMAIN, VTS_EV_SUSPENDED, VTS_EVD_RESTORED))
        return daemon_run_fail(r, "nobody registered for events");
    /* The restore's sync finds the guest paused and waits for its agent;
     * agent_wait (1 s) later the wait is over. */
    for (int i = 0; i < 500 && daemon_run_phase(r, FAKE_HV_DOMAIN) != VTS_PHASE_WAITING;
         i++)
        usleep(10000);
    if (!daemon_run_idle(r, FAKE_HV_DOMAIN))
        return daemon_run_fail(r, "the wait for the agent did not end");
    if (daemon_run_log_has(r, "giving up"))
        return daemon_run_fail(r, "a paused guest's wait was logged as giving up");
    failed = metrics_value(r, "vmtimesync_failures_total{kind=\"paused\"}");
    if (failed > 0)
        return daemon_run_fail(r, "a paused guest's wait counted as %lld failure(s)",
                               failed);
    /* The resume syncs it. */
    fake_hv_set_state(VTS_DOM_RUNNING);
    if (!daemon_run_event(r, FAKE_HV_DOMAIN, VTS_EV_RESUMED, VTS_EVD_UNPAUSED))
        return daemon_run_fail(r, "nobody registered for events");
    return stepped_once_by(r, "resumed");
}

static void
test_paused_beyond_agent_wait_is_no_failure(void **state)
{
    (void)state;
    fake_hv_reset();
    daemon_run_script(paused_beyond_agent_wait, NULL,
                      "agent_wait = 1s\nlog_level = info\n");
    fake_hv_cleanup();
}

/* An event for another domain (gone before the worker looks) has its own
 * outcome and leaves web-1 alone: no agent call, web-1 stays idle, and
 * web-1's own resume is served as usual. */
static bool
other_domain_does_not_disturb(daemon_run *r)
{
    int calls;

    if (!settled(r))
        return false;
    calls = __atomic_load_n(&agent_calls, __ATOMIC_SEQ_CST);
    if (!daemon_run_event(r, "db-2", VTS_EV_RESUMED, VTS_EVD_UNPAUSED))
        return daemon_run_fail(r, "nobody registered for events");
    if (!daemon_run_wait_metric(
            r, "vmtimesync_syncs_total{trigger=\"resumed\",result=\"not-found\"}", 1,
            5000) ||
        !daemon_run_idle(r, FAKE_HV_DOMAIN))
        return false;
    if (__atomic_load_n(&agent_calls, __ATOMIC_SEQ_CST) != calls)
        return daemon_run_fail(r, "db-2's event made agent calls to web-1's guest");
    fake_hv_set_guest_offset(-2 * VTS_NS_PER_SEC);
    if (!daemon_run_event(r, FAKE_HV_DOMAIN, VTS_EV_RESUMED, VTS_EVD_UNPAUSED))
        return daemon_run_fail(r, "nobody registered for events");
    return stepped_once_by(r, "resumed");
}

static void
test_event_for_another_domain_does_not_disturb(void **state)
{
    (void)state;
    fake_hv_reset();
    daemon_run_script(other_domain_does_not_disturb, NULL, NULL);
    fake_hv_cleanup();
}

/* A burst of events for one domain while the only worker is busy (the
 * start-up sweep, held in list_running): one sync, not one per event; the
 * sweep that finds the domain queued adds none either. */
static bool
burst_gives_one_sync(daemon_run *r)
{
    static const vts_ev_detail details[] = {VTS_EVD_UNPAUSED, VTS_EVD_UNPAUSED,
                                            VTS_EVD_MIGRATED, VTS_EVD_UNPAUSED,
                                            VTS_EVD_POSTCOPY};

    /* Connected, the sweep queued (same loop round) and the worker on it. */
    if (!daemon_run_wait_metric(r, "vmtimesync_connected", 1, 5000))
        return false;
    for (size_t i = 0; i < sizeof(details) / sizeof(details[0]); i++) {
        if (!daemon_run_event(r, FAKE_HV_DOMAIN, VTS_EV_RESUMED, details[i]))
            return daemon_run_fail(r, "nobody registered for events");
    }
    daemon_fx_hold_lists(false);
    if (!stepped_once_by(r, "resumed"))
        return false;
    if (metrics_value(r, SWEEP_STEPPED) > 0 || metrics_value(r, SWEEP_NONE) > 0)
        return daemon_run_fail(r, "the sweep synced web-1 too");
    return true;
}

static void
test_burst_of_events_gives_one_sync(void **state)
{
    (void)state;
    fake_hv_reset();
    fake_hv_set_guest_offset(-2 * VTS_NS_PER_SEC);
    daemon_fx_hold_lists(true);
    daemon_run_script(burst_gives_one_sync, NULL, NULL);
    fake_hv_cleanup();
}

/* The loop's timer re-arms itself at the end of each pass for the next
 * thing due; a wake from another thread (here: the connect finishing on
 * its own thread) that lands while the pass runs must not be overwritten
 * by that re-arming, or the connect's result waits for the next due time
 * (10 s, when a slow connect would be reported). */
static bool
connected_soon(daemon_run *r)
{
    return daemon_run_wait_metric(r, "vmtimesync_connected", 1, 3000) &&
           daemon_run_wait_metric(r, SWEEP_NONE, 1, 3000);
}

static void
test_wake_during_the_timers_pass_is_not_lost(void **state)
{
    (void)state;
    fake_hv_reset();
    daemon_fx_race_wake(true);
    daemon_run_script(connected_soon, NULL, NULL);
    fake_hv_cleanup();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume_schedules_one_sync),
        cmocka_unit_test(test_migration_schedules_one_sync),
        cmocka_unit_test(test_restore_schedules_one_sync),
        cmocka_unit_test(test_boot_schedules_no_sync),
        cmocka_unit_test(test_paused_beyond_agent_wait_is_no_failure),
        cmocka_unit_test(test_event_for_another_domain_does_not_disturb),
        cmocka_unit_test(test_burst_of_events_gives_one_sync),
        cmocka_unit_test(test_wake_during_the_timers_pass_is_not_lost),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
