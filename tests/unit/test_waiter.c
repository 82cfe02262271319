/* test_waiter.c: the hook's detached waiter (lib/vts_waiter.c), over the
 * fake hypervisor with a small event loop of its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>

#include <cmocka.h>

#include "vts_clock.h"
#include "vts_conf.h"
#include "vts_waiter.h"
#include "fake_hv.h"

/* --- the waiter: woken by libvirt's events, no polling ------------------ */

/* A small event loop for the waiter over the fake hypervisor. It plays
 * the destination of a migration: the guest, paused at first, resumes at
 * resume_ms (monotonic) and libvirt sends its event then. */
static struct {
    vts_hv_event_fn fn;
    void *opaque;
    vts_hv_timer_fn tfn;
    void *topaque;
    int tms;
    int64_t tdue;
    int64_t resume_ms;
    int64_t resumed_ms;
} wl;

static int
wl_init(vts_error *err)
{
    (void)err;
    return 0;
}

static int
wl_add_timer(int ms, vts_hv_timer_fn fn, void *opaque)
{
    wl.tfn = fn;
    wl.topaque = opaque;
    wl.tms = ms;
    wl.tdue = vts_mono_ms() + (ms > 0 ? ms : 0);
    return 1;
}

static void
wl_update_timer(int timer, int ms)
{
    (void)timer;
    wl.tms = ms;
    wl.tdue = vts_mono_ms() + (ms > 0 ? ms : 0);
}

static void
wl_remove_timer(int timer)
{
    (void)timer;
    wl.tfn = NULL;
}

static int
wl_events_register(vts_hv_conn *conn, vts_hv_event_fn fn, vts_hv_close_fn close_fn,
                   void *opaque, vts_error *err)
{
    (void)conn;
    (void)close_fn;
    (void)err;
    wl.fn = fn;
    wl.opaque = opaque;
    return 0;
}

static int
wl_run_once(vts_error *err)
{
    (void)err;
    poll(NULL, 0, 5);
    if (wl.resume_ms && vts_mono_ms() >= wl.resume_ms) {
        vts_hv_event ev = {VTS_EV_RESUMED, VTS_EVD_MIGRATED, FAKE_HV_DOMAIN, -1};

        wl.resume_ms = 0;
        wl.resumed_ms = vts_mono_ms();
        fake_hv_set_state(VTS_DOM_RUNNING);
        if (wl.fn)
            wl.fn(&ev, wl.opaque);
    }
    if (wl.tfn && wl.tms >= 0 && vts_mono_ms() >= wl.tdue) {
        wl.tdue = vts_mono_ms() + wl.tms;
        wl.tfn(1, wl.topaque);
    }
    return 0;
}

/* @ops: the fake hypervisor with this loop; the fake domain paused. */
static void
wl_setup(vts_hv_ops *ops)
{
    *ops = fake_hv_ops;
    ops->loop_init = wl_init;
    ops->loop_run_once = wl_run_once;
    ops->loop_add_timer = wl_add_timer;
    ops->loop_update_timer = wl_update_timer;
    ops->loop_remove_timer = wl_remove_timer;
    ops->events_register = wl_events_register;
    memset(&wl, 0, sizeof(wl));
    fake_hv_reset();
    fake_hv_set_state(VTS_DOM_PAUSED);
}

/* The waiter re-read lookup, state and XML every 100 ms for up to 10 min.
 * It now looks once, then again only when libvirt says something happened
 * to its domain: here a guest that resumes after 1 s is synced at once,
 * with a lookup to start, one after the event, and the sync's own. */
static void
test_waiter_waits_for_events_not_polling(void **state)
{
    vts_hv_ops ops;
    vts_conf conf;
    int64_t done_ms;
    int rc;

    (void)state;
    wl_setup(&ops);
    fake_hv_set_guest_offset(-2 * VTS_NS_PER_SEC);
    vts_conf_init(&conf);
    conf.agent_wait_ns = 3 * VTS_NS_PER_SEC;
    conf.allow_unsynced_host = true;
    wl.resume_ms = vts_mono_ms() + 1000;
    rc = vts_waiter_run(&ops, &conf, FAKE_HV_DOMAIN, "migrate");
    done_ms = vts_mono_ms();
    assert_int_equal(rc, 0);
    assert_true(wl.resumed_ms > 0);
    assert_true(done_ms - wl.resumed_ms < 500);
    assert_true(llabs(fake_hv_guest_offset()) < VTS_SYNC_DEFAULT_THRESHOLD_NS);
    if (fake_hv_lookups() > 3)
        fail_msg("%d lookups in 1 s of waiting: polling", fake_hv_lookups());
    assert_int_equal(fake_hv_open_doms(), 0);
    fake_hv_cleanup();
}

/* Nothing happens: the waiter gives up at agent_wait, having looked once. */
static void
test_waiter_gives_up_at_agent_wait(void **state)
{
    vts_hv_ops ops;
    vts_conf conf;
    int64_t start_ms = vts_mono_ms();

    (void)state;
    wl_setup(&ops);
    vts_conf_init(&conf);
    conf.agent_wait_ns = 1 * VTS_NS_PER_SEC;
    assert_int_equal(vts_waiter_run(&ops, &conf, FAKE_HV_DOMAIN, "restore"), -1);
    assert_true(vts_mono_ms() - start_ms >= 1000);
    assert_true(vts_mono_ms() - start_ms < 1500);
    assert_true(fake_hv_lookups() <= 2);
    assert_int_equal(fake_hv_open_doms(), 0);
    fake_hv_cleanup();
}

/* Right after a migration or restore a step can land off (the guest's
 * vCPU starved, the agent's delay varying). The waiter then syncs again,
 * as vmtimesyncd would retry, instead of leaving the guest off: here the
 * first sync's step meets a 20 ms spike, its correction lands on the other
 * side and the verify fails; the second sync fixes the guest. */
static void
test_waiter_tries_again_after_a_failed_verify(void **state)
{
    vts_hv_ops ops;
    vts_conf conf;
    int rc;

    (void)state;
    wl_setup(&ops);
    fake_hv_set_state(VTS_DOM_RUNNING);
    fake_hv_set_guest_offset(-5LL * 1000000000LL);
    fake_hv_set_delay(1000000, 1000000);
    fake_hv_set_call_delay(2, 20000000, 1000000); /* the first guest-set-time */
    vts_conf_init(&conf);
    conf.allow_unsynced_host = true;
    rc = vts_waiter_run(&ops, &conf, FAKE_HV_DOMAIN, "migrate");
    assert_int_equal(rc, 0);
    assert_int_equal(fake_hv_count("guest-set-time"), 3);
    assert_true(llabs(fake_hv_guest_offset()) <= 2);
    vts_conf_clear(&conf);
    fake_hv_cleanup();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_waiter_tries_again_after_a_failed_verify),
        cmocka_unit_test(test_waiter_waits_for_events_not_polling),
        cmocka_unit_test(test_waiter_gives_up_at_agent_wait),
    };

    return cmocka_run_group_tests_name("waiter", tests, NULL, NULL);
}
