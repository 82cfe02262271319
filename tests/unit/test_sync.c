/* test_sync.c: unit tests for lib/vts_sync.c, measuring, stepping and
 * verifying a guest's clock, against the scripted hypervisor of fake_hv.c.
 * All times are the fake's: exact and independent of the real clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_hv.h"
#include "vts_sync.h"

#include "sync_fixture.h"

/* --- defaults and names ----------------------------------------------- */

static void
test_sync_opts_init_sets_documented_defaults(void **state)
{
    vts_sync_opts opts;

    (void)state;
    memset(&opts, 0x5a, sizeof(opts));
    vts_sync_opts_init(&opts);
    assert_true(opts.threshold_ns == 5 * MS);
    assert_true(opts.tolerance_ns == 1 * MS);
    assert_int_equal(opts.samples, 5);
    assert_int_equal(opts.timeout_s, 5);
    assert_false(opts.check_only);
    assert_false(opts.allow_unsynced_host);
    assert_false(opts.force);
    assert_true(opts.max_step_ns == 86400 * S);
    assert_true(opts.max_backward_ns == 1 * S);
    assert_null(opts.log);
    assert_null(opts.log_opaque);
}

static void
test_sync_action_names_are_stable(void **state)
{
    (void)state;
    assert_string_equal(vts_action_name(VTS_ACTION_NONE), "none");
    assert_string_equal(vts_action_name(VTS_ACTION_CHECKED), "checked");
    assert_string_equal(vts_action_name(VTS_ACTION_STEPPED), "stepped");
    assert_string_equal(vts_action_name(VTS_ACTION_ERROR), "error");
    assert_string_equal(vts_action_name((vts_action)99), "error");
}

/* --- measuring -------------------------------------------------------- */

static void
test_sync_keeps_sample_with_smallest_rtt(void **state)
{
    sync_fixture *f = *state;

    fake_hv_set_guest_offset(2 * S);
    /* rtt 6, 4, 2, 8 and 3 ms; the 2 ms one is lopsided, so its offset
     * (off by (out - back) / 2 = -0.5 ms) tells it apart from the others. */
    fake_hv_set_call_delay(0, 3 * MS, 3 * MS);
    fake_hv_set_call_delay(1, 2 * MS, 2 * MS);
    fake_hv_set_call_delay(2, 500 * US, 1500 * US);
    fake_hv_set_call_delay(3, 4 * MS, 4 * MS);
    fake_hv_set_call_delay(4, 1500 * US, 1500 * US);
    f->opts.check_only = true;
    sync_domain(f);
    expect_ok(f, VTS_ACTION_CHECKED);
    assert_int_equal(fake_hv_count("guest-get-time"), 5);
    assert_true(f->res.rtt_ns == 2 * MS);
    assert_true(f->res.offset_ns == 2 * S - 500 * US);
}

static void
test_sync_measure_offset_is_guest_minus_bracket_midpoint(void **state)
{
    sync_fixture *f = *state;
    vts_hv_dom *dom = NULL;
    vts_sample best = {0, -1};
    vts_error err;

    fake_hv_set_guest_offset(-7 * MS);
    fake_hv_set_delay(1 * MS, 2 * MS + 1);
    f->opts.samples = 1;
    assert_int_equal(fake_hv_ops.lookup(f->conn, FAKE_HV_DOMAIN, &dom, &err), 0);
    assert_int_equal(
        vts_sync_measure(&fake_hv_ops, dom, FAKE_HV_DOMAIN, &f->opts, &best, &err), 0);
    fake_hv_ops.dom_free(dom);
    /* Guest read at before + 1 ms; midpoint before + (3 ms + 1) / 2. */
    assert_true(best.rtt_ns == 3 * MS + 1);
    assert_true(best.offset_ns == -7 * MS + 1 * MS - (3 * MS + 1) / 2);
}

static void
test_sync_offset_sign_is_guest_minus_host(void **state)
{
    sync_fixture *f = *state;

    f->opts.check_only = true;
    fake_hv_set_delay(1 * MS, 1 * MS);
    fake_hv_set_guest_offset(-5 * S); /* guest behind */
    sync_domain(f);
    expect_ok(f, VTS_ACTION_CHECKED);
    assert_true(f->res.offset_ns == -5 * S);

    fake_hv_set_guest_offset(+5 * S); /* guest ahead */
    sync_domain(f);
    expect_ok(f, VTS_ACTION_CHECKED);
    assert_true(f->res.offset_ns == 5 * S);
}

static void
test_sync_samples_are_clamped_to_1_and_64(void **state)
{
    sync_fixture *f = *state;

    f->opts.check_only = true;
    f->opts.samples = 0;
    sync_domain(f);
    expect_ok(f, VTS_ACTION_CHECKED);
    assert_int_equal(fake_hv_ncalls(), 1);

    fake_hv_reset();
    f->opts.samples = -3;
    sync_domain(f);
    expect_ok(f, VTS_ACTION_CHECKED);
    assert_int_equal(fake_hv_ncalls(), 1);

    fake_hv_reset();
    f->opts.samples = 1000;
    sync_domain(f);
    expect_ok(f, VTS_ACTION_CHECKED);
    assert_int_equal(fake_hv_ncalls(), VTS_SYNC_MAX_SAMPLES);
}

static void
test_sync_passes_timeout_to_every_agent_call(void **state)
{
    sync_fixture *f = *state;
    int i;

    f->opts.timeout_s = 17;
    fake_hv_set_guest_offset(-5 * S);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
    assert_true(fake_hv_ncalls() > 0);
    for (i = 0; i < fake_hv_ncalls(); i++)
        assert_int_equal(fake_hv_call_at(i)->timeout_s, 17);
}

/* --- stepping and verifying ------------------------------------------- */

static void
test_sync_symmetric_delay_lands_guest_on_host_time(void **state)
{
    sync_fixture *f = *state;
    const fake_hv_call *set;
    const int64_t d = 1350 * US + 1;

    fake_hv_set_guest_offset(-5003 * MS);
    fake_hv_set_delay(d, d);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
    assert_int_equal(f->res.steps, 1);
    assert_true(f->res.offset_ns == -5003 * MS);
    assert_true(f->res.rtt_ns == 2 * d);
    assert_true(f->res.have_residual);
    assert_near(f->res.residual_ns, 0, 2);
    assert_near(fake_hv_guest_offset(), 0, 2);
    /* The command carries the host's time at sending plus the one-way
     * delay: the guest executes it exactly when its clock should say so. */
    set = set_time_call(0);
    assert_true(set->has_time);
    assert_true(set->time_ns - set->sent_ns == d);
    assert_near(set->time_ns, set->executed_ns, 2);
}

static void
test_sync_step_is_verified_with_a_fresh_measurement(void **state)
{
    sync_fixture *f = *state;
    int i;

    fake_hv_set_guest_offset(3 * S);
    fake_hv_set_delay(1 * MS, 1 * MS);
    f->opts.max_backward_ns = -1; /* about verifying, not the backward policy */
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
    /* One sample decides (3 s is far beyond the threshold), a second one
     * for the delay estimate, the step, one sample verifies: four round
     * trips in all, not 11 as five samples a measurement took. */
    assert_int_equal(fake_hv_ncalls(), 4);
    assert_int_equal(f->res.round_trips, 4);
    for (i = 0; i < 4; i++)
        assert_string_equal(fake_hv_call_at(i)->execute,
                            i == 2 ? "guest-set-time" : "guest-get-time");
}

static void
test_sync_with_clock_read_cost_still_lands_within_tolerance(void **state)
{
    sync_fixture *f = *state;

    fake_hv_set_tick(10 * US); /* each clock read costs 10 us */
    fake_hv_set_guest_offset(-2 * S);
    fake_hv_set_delay(1 * MS, 1 * MS);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
    assert_int_equal(f->res.steps, 1);
    assert_near(fake_hv_guest_offset(), 0, 10 * US);
}

static void
test_sync_asymmetric_set_time_delay_needs_one_corrective_step(void **state)
{
    sync_fixture *f = *state;

    /* guest-get-time is symmetric, so measurements are exact; but
     * guest-set-time reaches the guest 4 ms after it leaves, not 1 ms: the
     * first step leaves the guest 3 ms behind (clearly beyond the 1 ms
     * tolerance, as the verify's uncertainty is 1 ms), the second one
     * fixes it. */
    fake_hv_set_guest_offset(-5 * S);
    fake_hv_set_delay(1 * MS, 1 * MS);
    fake_hv_set_command_delay("guest-set-time", 4 * MS, 1 * MS);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
    assert_int_equal(f->res.steps, 2);
    assert_int_equal(fake_hv_count("guest-set-time"), 2);
    assert_true(f->res.have_residual);
    assert_near(f->res.residual_ns, 0, 2);
    assert_near(fake_hv_guest_offset(), 0, 2);
    assert_true(set_time_call(0)->time_ns - set_time_call(0)->sent_ns == 1 * MS);
    assert_true(set_time_call(1)->time_ns - set_time_call(1)->sent_ns == 4 * MS);
    /* It reports the delay it met, for the daemon to start from. */
    assert_true(f->res.have_landed_delay);
    assert_true(f->res.landed_delay_ns == 4 * MS);
}

static void
test_sync_residual_within_its_uncertainty_is_not_stepped_again(void **state)
{
    sync_fixture *f = *state;

    /* guest-set-time reaches the guest 2.5 ms after it leaves: the step
     * lands 1.5 ms behind, beyond the 1 ms tolerance but not by more than
     * the verifying sample's uncertainty (1 ms): another step would be a
     * step on noise. The verify samples until it knows, then stops. */
    fake_hv_set_guest_offset(-5 * S);
    fake_hv_set_delay(1 * MS, 1 * MS);
    fake_hv_set_command_delay("guest-set-time", 2500 * US, 1 * MS);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
    assert_int_equal(f->res.steps, 1);
    assert_near(f->res.residual_ns, -1500 * US, 2);
}

static void
test_sync_learned_delay_lands_the_first_step(void **state)
{
    sync_fixture *f = *state;

    /* The same asymmetric agent, with the delay its earlier steps met:
     * one sample decides, one step lands on the host's time, one sample
     * verifies. */
    fake_hv_set_guest_offset(-5 * S);
    fake_hv_set_delay(1 * MS, 1 * MS);
    fake_hv_set_command_delay("guest-set-time", 4 * MS, 1 * MS);
    f->opts.delay_hint_ns = 4 * MS;
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
    assert_int_equal(f->res.steps, 1);
    assert_int_equal(f->res.round_trips, 3);
    assert_near(fake_hv_guest_offset(), 0, 2);
    assert_true(set_time_call(0)->time_ns - set_time_call(0)->sent_ns == 4 * MS);
}

static void
test_sync_one_sample_decides_within_the_threshold(void **state)
{
    sync_fixture *f = *state;

    /* 1 ms off with a 2 ms round trip: within 5 ms even at the far end of
     * its uncertainty; nothing more to ask. */
    fake_hv_set_guest_offset(1 * MS);
    fake_hv_set_delay(1 * MS, 1 * MS);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_NONE);
    assert_int_equal(fake_hv_ncalls(), 1);
}

static void
test_sync_sample_too_close_to_call_is_followed_by_more(void **state)
{
    sync_fixture *f = *state;

    /* 5.5 ms off with a 2 ms round trip (+-1 ms): the first sample cannot
     * tell it from the 5 ms threshold. Every sample says the same, so all
     * five are taken, and the best one decides: beyond, stepped. */
    fake_hv_set_guest_offset(5500 * US);
    fake_hv_set_delay(1 * MS, 1 * MS);
    f->opts.max_backward_ns = -1;
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
    assert_int_equal(nth_call("guest-set-time", 0) - fake_hv_call_at(0), 5);
}

static void
test_sync_path_asymmetry_error_stays_within_half_the_rtt(void **state)
{
    sync_fixture *f = *state;

    /* The same asymmetry on every command cannot be seen from the host
     * (no method can): the promise is an error of at most rtt / 2. */
    fake_hv_set_guest_offset(-5 * S);
    fake_hv_set_delay(500 * US, 2500 * US);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
    assert_int_equal(f->res.steps, 1);
    assert_near(fake_hv_guest_offset(), 0, f->res.rtt_ns / 2);
}

static void
test_sync_offset_within_threshold_is_left_alone(void **state)
{
    sync_fixture *f = *state;

    fake_hv_set_delay(1 * MS, 1 * MS);
    fake_hv_set_guest_offset(4 * MS);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_NONE);
    assert_true(f->res.offset_ns == 4 * MS);
    assert_int_equal(f->res.steps, 0);
    assert_false(f->res.have_residual);
    assert_int_equal(fake_hv_count("guest-set-time"), 0);
    assert_true(fake_hv_guest_offset() == 4 * MS);

    fake_hv_reset();
    fake_hv_set_guest_offset(-4 * MS);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_NONE);
    assert_int_equal(fake_hv_count("guest-set-time"), 0);
}

static void script_stuck_guest(int64_t offset_ns);

static void
test_sync_recheck_steps_past_the_tolerance(void **state)
{
    sync_fixture *f = *state;

    /* The daemon's re-check of its own step: 4 ms is within the 5 ms
     * threshold but over the 1 ms tolerance, so it is stepped... */
    f->opts.recheck = true;
    fake_hv_set_delay(1 * MS, 1 * MS);
    fake_hv_set_guest_offset(4 * MS);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
    assert_near(fake_hv_guest_offset(), 0, 2);

    /* ...0.8 ms is left alone... */
    fake_hv_reset();
    fake_hv_set_guest_offset(800 * US);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_NONE);
    assert_int_equal(fake_hv_count("guest-set-time"), 0);

    /* ...and the verify still fails only past the threshold plus the
     * round trip, not past the tolerance. */
    fake_hv_reset();
    script_stuck_guest(6 * MS);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
}

static void
test_sync_offset_beyond_threshold_is_stepped(void **state)
{
    sync_fixture *f = *state;

    fake_hv_set_delay(1 * MS, 1 * MS);
    fake_hv_set_guest_offset(6 * MS);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
    assert_int_equal(fake_hv_count("guest-set-time"), 1);
    assert_near(fake_hv_guest_offset(), 0, 2);

    fake_hv_reset();
    fake_hv_set_guest_offset(-6 * MS);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
    assert_near(fake_hv_guest_offset(), 0, 2);

    /* A threshold of zero steps any offset at all. */
    fake_hv_reset();
    f->opts.threshold_ns = 0;
    fake_hv_set_guest_offset(1 * US);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
}

static void
test_sync_check_only_never_sets_time(void **state)
{
    sync_fixture *f = *state;

    f->opts.check_only = true;
    fake_hv_set_delay(1 * MS, 1 * MS);
    fake_hv_set_guest_offset(-5 * S);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_CHECKED);
    assert_true(f->res.offset_ns == -5 * S);
    assert_int_equal(f->res.steps, 0);
    assert_false(f->res.have_residual);
    assert_int_equal(fake_hv_count("guest-set-time"), 0);
    assert_true(fake_hv_guest_offset() == -5 * S);
}

static void
test_sync_guest_that_ignores_set_time_fails_verify_after_two_steps(void **state)
{
    sync_fixture *f = *state;

    fake_hv_ignore_set_time(true);
    fake_hv_set_delay(1 * MS, 1 * MS);
    fake_hv_set_guest_offset(-5 * S);
    sync_domain(f);
    expect_error(f, VTS_ERR_VERIFY_FAILED, "does not hold what it is given");
    assert_non_null(strstr(f->res.err.message, "NTP"));
    /* The correction landed no better than the step: it stops there. */
    assert_int_equal(f->res.steps, 2);
    assert_int_equal(fake_hv_count("guest-set-time"), 2);
    assert_true(f->res.have_offset);
    assert_true(f->res.offset_ns == -5 * S);
    assert_true(f->res.have_residual);
    assert_true(f->res.residual_ns == -5 * S);
}

/* A guest that stays @offset_ns off whatever it is told (it ignores
 * guest-set-time), measured with a 2 ms round trip: after the last step
 * the residual is @offset_ns, and the verify rule alone decides. */
static void
script_stuck_guest(int64_t offset_ns)
{
    fake_hv_ignore_set_time(true);
    fake_hv_set_delay(1 * MS, 1 * MS);
    fake_hv_set_guest_offset(offset_ns);
}

static void
test_sync_residual_within_threshold_plus_rtt_is_stepped(void **state)
{
    sync_fixture *f = *state;

    /* +6 ms: beyond the 5 ms threshold, within threshold + rtt (7 ms): the
     * measurement cannot tell it from the host's time. */
    script_stuck_guest(6 * MS);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
    assert_true(f->res.residual_ns == 6 * MS);
}

static void
test_sync_residual_beyond_threshold_plus_rtt_fails_verify(void **state)
{
    sync_fixture *f = *state;

    script_stuck_guest(8 * MS);
    sync_domain(f);
    expect_error(f, VTS_ERR_VERIFY_FAILED, "+8.000 ms");
    assert_true(f->res.residual_ns == 8 * MS);
}

static void
test_sync_stale_learned_delay_costs_one_correction(void **state)
{
    sync_fixture *f = *state;

    /* The delay learned from earlier steps is 1 ms, but the agent now
     * takes 4 ms (the guest moved to a busier host): the step lands 3 ms
     * behind, the correction with the delay it met lands on the host's
     * time, and the new delay is reported for the daemon to learn. */
    fake_hv_set_guest_offset(-5 * S);
    fake_hv_set_delay(1 * MS, 1 * MS);
    fake_hv_set_command_delay("guest-set-time", 4 * MS, 1 * MS);
    f->opts.delay_hint_ns = 1 * MS;
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
    assert_int_equal(f->res.steps, 2);
    assert_near(fake_hv_guest_offset(), 0, 2);
    assert_true(f->res.landed_delay_ns == 4 * MS);
}

static void
test_sync_delay_spike_on_first_step_does_not_make_the_correction_overshoot(void **state)
{
    sync_fixture *f = *state;

    /* The first guest-set-time (call 2) is held up 9 ms (a descheduled
     * vCPU); the correction assumes 10 ms, but the second step is quick
     * again and lands 9 ms ahead: no better, on the other side. It stops
     * there (two steps at most) and says the delay varied; the guest is
     * 9 ms ahead, beyond the threshold, so the sync failed and the daemon
     * will try again (the delay the last step met, 1 ms, is reported). */
    fake_hv_set_guest_offset(-5 * S);
    fake_hv_set_delay(1 * MS, 1 * MS);
    fake_hv_set_call_delay(2, 10 * MS, 1 * MS);
    sync_domain(f);
    expect_error(f, VTS_ERR_VERIFY_FAILED, "delay varied");
    assert_int_equal(f->res.steps, 2);
    assert_near(f->res.residual_ns, 9 * MS, 2);
    assert_true(set_time_call(1)->time_ns - set_time_call(1)->sent_ns == 10 * MS);
    assert_true(f->res.have_landed_delay);
    assert_near(f->res.landed_delay_ns, 1 * MS, 2);
}

#define RTC_CATCHUP_XML                                                                  \
    "<domain type='kvm'><name>web-1</name><clock offset='localtime'>"                    \
    "<timer name='rtc' tickpolicy='catchup'/></clock><devices><channel type='unix'>"     \
    "<target type='virtio' name='org.qemu.guest_agent.0' state='connected'/>"            \
    "</channel></devices></domain>"

static void
test_sync_resets_rtc_reinjection_for_catchup_guests(void **state)
{
    sync_fixture *f = *state;

    fake_hv_set_xml(RTC_CATCHUP_XML);
    fake_hv_set_guest_offset(-5 * S);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
    assert_int_equal(fake_hv_rtc_resets(), 1);
}

static void
test_sync_no_rtc_reset_without_catchup_or_step(void **state)
{
    sync_fixture *f = *state;

    fake_hv_set_guest_offset(-5 * S);
    sync_domain(f); /* the default XML has no catch-up RTC */
    expect_ok(f, VTS_ACTION_STEPPED);
    assert_int_equal(fake_hv_rtc_resets(), 0);

    fake_hv_set_xml(RTC_CATCHUP_XML);
    fake_hv_set_guest_offset(1 * MS);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_NONE);
    assert_int_equal(fake_hv_rtc_resets(), 0);
}

static void
test_sync_failed_rtc_reset_does_not_fail_the_sync(void **state)
{
    sync_fixture *f = *state;

    fake_hv_set_xml(RTC_CATCHUP_XML);
    fake_hv_fail_rtc_reset(true);
    fake_hv_set_guest_offset(-5 * S);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
    assert_int_equal(fake_hv_rtc_resets(), 1);
}

static void
test_sync_rtc_reset_after_a_step_that_failed_its_verify(void **state)
{
    sync_fixture *f = *state;

    /* The steps were made even though the guest did not keep them: the RTC
     * ticks QEMU would replay go all the same, once. */
    fake_hv_set_xml(RTC_CATCHUP_XML);
    fake_hv_ignore_set_time(true);
    fake_hv_set_delay(1 * MS, 1 * MS);
    fake_hv_set_guest_offset(-5 * S);
    sync_domain(f);
    expect_error(f, VTS_ERR_VERIFY_FAILED, NULL);
    assert_int_equal(f->res.steps, 2);
    assert_int_equal(fake_hv_rtc_resets(), 1);
}

static void
test_sync_residual_of_seconds_is_not_taken_for_a_delay(void **state)
{
    sync_fixture *f = *state;
    const fake_hv_call *second;

    /* The guest stays 5 s behind: "the step met a delay 5 s longer" is
     * garbage (it moved the guest 1 s ahead when the clamp was 1 s). The
     * correction steps again with the delay it had. */
    fake_hv_ignore_set_time(true);
    fake_hv_set_delay(1 * MS, 1 * MS);
    fake_hv_set_guest_offset(-5 * S);
    sync_domain(f);
    second = set_time_call(1);
    assert_true(second->time_ns - second->sent_ns == 1 * MS);
    assert_false(f->res.have_landed_delay);
}

static void
test_sync_paused_during_the_step_is_stepped_again_not_overshot(void **state)
{
    sync_fixture *f = *state;

    /* The domain was paused for 2 s while the step's hwclock ran (seen on
     * the test host): the verify finds the guest 2 s behind. The old
     * correction took that for the step's delay and put the guest 1 s
     * ahead; now it steps again with the same delay and lands right. The
     * host clock's reads 0-3 bracket the two samples, 4 is the step's; the
     * jump before read 5 makes the guest 2 s behind at the verify. */
    fake_hv_set_delay(1 * MS, 1 * MS);
    fake_hv_set_guest_offset(-5 * S);
    fake_hv_jump_at_read(5, 2 * S);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
    assert_int_equal(f->res.steps, 2);
    assert_true(set_time_call(1)->time_ns - set_time_call(1)->sent_ns == 1 * MS);
    assert_near(fake_hv_guest_offset(), 0, 2);
}

static void
test_sync_corrective_delay_is_clamped_to_zero(void **state)
{
    sync_fixture *f = *state;
    const fake_hv_call *second;

    /* The guest stays 50 ms ahead whatever it is told: "the delay was
     * -49 ms" is clamped to none. */
    fake_hv_ignore_set_time(true);
    fake_hv_set_delay(1 * MS, 1 * MS);
    fake_hv_set_guest_offset(50 * MS);
    sync_domain(f);
    second = set_time_call(1);
    assert_true(second->time_ns == second->sent_ns);
}

/* --- the host's clock stepping while measuring ------------------------ */

static void
test_sync_host_clock_stepping_back_in_first_sample_drops_only_that_sample(void **state)
{
    sync_fixture *f = *state;

    /* Reads 0 and 1 bracket the first sample: read 1 comes after the host's
     * clock was stepped back 1 s, so that sample's rtt is negative. The
     * four samples after it are good and must be used. */
    fake_hv_set_delay(1 * MS, 1 * MS);
    fake_hv_set_guest_offset(-5 * S);
    fake_hv_jump_at_read(1, -1 * S);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
    /* The guest's clock did not step with the host's: it is now 4 s behind. */
    assert_true(f->res.offset_ns == -4 * S);
    assert_true(f->res.rtt_ns == 2 * MS);
    assert_near(fake_hv_guest_offset(), 0, 2);
}

static void
test_sync_host_clock_stepping_back_in_later_sample_drops_only_that_sample(void **state)
{
    sync_fixture *f = *state;

    fake_hv_set_delay(1 * MS, 1 * MS);
    fake_hv_set_guest_offset(-5 * S);
    /* Reads 2 and 3 bracket the second sample (the one for the step's
     * delay estimate): it is dropped, the first one serves. */
    fake_hv_jump_at_read(3, -1 * S);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
    assert_true(f->res.rtt_ns == 2 * MS);
    assert_true(f->res.offset_ns == -5 * S);
    assert_near(fake_hv_guest_offset(), 0, 2);
}

static void
test_sync_host_clock_stepping_back_in_every_sample_is_an_error(void **state)
{
    sync_fixture *f = *state;

    f->opts.samples = 3;
    fake_hv_set_delay(1 * MS, 1 * MS);
    fake_hv_set_guest_offset(-5 * S);
    fake_hv_jump_at_read(1, -1 * S);
    fake_hv_jump_at_read(3, -1 * S);
    fake_hv_jump_at_read(5, -1 * S);
    sync_domain(f);
    expect_error(f, VTS_ERR_INTERNAL, "clock");
    assert_int_equal(fake_hv_count("guest-get-time"), 3);
    assert_int_equal(fake_hv_count("guest-set-time"), 0);
}

/* --- errors, through vts_sync_domain ---------------------------------- */

static void
test_sync_domain_not_found(void **state)
{
    sync_fixture *f = *state;

    fake_hv_set_domain("db");
    sync_domain(f);
    expect_error(f, VTS_ERR_NOT_FOUND, "virsh list --all");
    assert_false(f->res.have_offset);
    assert_int_equal(fake_hv_ncalls(), 0);
}

static void
test_sync_domain_lookup_connection_error_is_passed_on(void **state)
{
    sync_fixture *f = *state;

    fake_hv_fail_lookup(VTS_ERR_CONNECT, "Cannot write data: Broken pipe");
    sync_domain(f);
    expect_error(f, VTS_ERR_CONNECT, "Broken pipe");
    assert_int_equal(fake_hv_ncalls(), 0);
}

static void
test_sync_domain_state_error_is_passed_on(void **state)
{
    sync_fixture *f = *state;

    fake_hv_fail_state(VTS_ERR_CONNECT,
                       "End of file while reading data: Input/output error");
    sync_domain(f);
    expect_error(f, VTS_ERR_CONNECT, "End of file");
    assert_int_equal(fake_hv_ncalls(), 0);
}

static void
test_sync_domain_paused_is_refused_before_any_agent_call(void **state)
{
    sync_fixture *f = *state;

    fake_hv_set_state(VTS_DOM_PAUSED);
    sync_domain(f);
    expect_error(f, VTS_ERR_PAUSED, "virsh resume");
    assert_false(f->res.have_offset);
    assert_int_equal(fake_hv_ncalls(), 0);
}

static void
test_sync_domain_paused_after_state_check_is_reported_as_paused(void **state)
{
    sync_fixture *f = *state;

    /* The agent call fails with libvirt's "domain is not running"; the
     * domain is paused, and that is what the user must hear. */
    fake_hv_set_state_at_call(0, VTS_DOM_PAUSED);
    sync_domain(f);
    expect_error(f, VTS_ERR_PAUSED, "virsh resume");
    assert_int_equal(fake_hv_ncalls(), 1);
}

static void
test_sync_domain_paused_before_the_step_is_reported_as_paused(void **state)
{
    sync_fixture *f = *state;

    fake_hv_set_guest_offset(-5 * S);
    fake_hv_set_state_at_call(2, VTS_DOM_PAUSED); /* the guest-set-time */
    sync_domain(f);
    expect_error(f, VTS_ERR_PAUSED, "virsh resume");
    assert_true(f->res.have_offset);
    assert_true(f->res.offset_ns == -5 * S);
    assert_int_equal(f->res.steps, 0);
}

static void
test_sync_domain_shut_off_is_not_running(void **state)
{
    sync_fixture *f = *state;

    fake_hv_set_state(VTS_DOM_OTHER);
    sync_domain(f);
    expect_error(f, VTS_ERR_NOT_RUNNING, "start it");
    assert_int_equal(fake_hv_ncalls(), 0);
}

static void
test_sync_domain_shut_off_after_state_check_is_not_running(void **state)
{
    sync_fixture *f = *state;

    fake_hv_set_state_at_call(0, VTS_DOM_OTHER);
    sync_domain(f);
    expect_error(f, VTS_ERR_NOT_RUNNING, "start it");
    assert_int_equal(fake_hv_ncalls(), 1);
}

static void
test_sync_domain_without_agent_channel(void **state)
{
    sync_fixture *f = *state;

    fake_hv_fail_command(NULL, VTS_ERR_NO_AGENT_CHANNEL, LV_NOT_CONFIGURED);
    sync_domain(f);
    expect_error(f, VTS_ERR_NO_AGENT_CHANNEL, "org.qemu.guest_agent.0");
    assert_non_null(strstr(f->res.err.message, "virsh edit"));
    assert_int_equal(fake_hv_ncalls(), 1);
}

static void
test_sync_domain_agent_not_connected(void **state)
{
    sync_fixture *f = *state;

    fake_hv_fail_command(NULL, VTS_ERR_AGENT_NOT_CONNECTED, LV_NOT_CONNECTED);
    sync_domain(f);
    expect_error(f, VTS_ERR_AGENT_NOT_CONNECTED, "qemu-guest-agent");
    assert_int_equal(fake_hv_ncalls(), 1);
}

static void
test_sync_domain_agent_timeout_on_first_sample_makes_one_call_only(void **state)
{
    sync_fixture *f = *state;

    fake_hv_fail_command(NULL, VTS_ERR_AGENT_TIMEOUT, LV_NOT_AVAILABLE);
    sync_domain(f);
    expect_error(f, VTS_ERR_AGENT_TIMEOUT, "qemu-guest-agent");
    assert_non_null(strstr(f->res.err.message, "5 s"));
    assert_non_null(strstr(f->res.err.message, "not available for now")); /* detail */
    assert_int_equal(fake_hv_ncalls(), 1);
    assert_false(f->res.have_offset);
}

static void
test_sync_domain_agent_timeout_mid_measurement_stops_there(void **state)
{
    sync_fixture *f = *state;

    f->opts.timeout_s = 9;
    /* Too close to the threshold for one sample: the third one hangs. */
    fake_hv_set_guest_offset(5 * MS);
    fake_hv_set_delay(1 * MS, 1 * MS);
    fake_hv_fail_call(2, VTS_ERR_AGENT_TIMEOUT, LV_NOT_AVAILABLE);
    sync_domain(f);
    expect_error(f, VTS_ERR_AGENT_TIMEOUT, "9 s");
    assert_int_equal(fake_hv_ncalls(), 3);
}

static void
test_sync_set_time_answering_late_is_verified_not_repeated(void **state)
{
    sync_fixture *f = *state;

    /* qemu-ga set the clock, then its /sbin/hwclock -w took longer than
     * the timeout: the call timed out, the step had landed. The verify
     * says so: one step, stepped, not an agent failure. */
    fake_hv_set_guest_offset(-5 * S);
    fake_hv_set_delay(1 * MS, 1 * MS);
    fake_hv_answer_late(2);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
    assert_int_equal(f->res.steps, 1);
    assert_int_equal(fake_hv_count("guest-set-time"), 1);
    assert_near(fake_hv_guest_offset(), 0, 2);
}

static void
test_sync_agent_stuck_in_hwclock_is_a_bounded_timeout(void **state)
{
    sync_fixture *f = *state;

    /* The set-time lands but never answers, and the agent answers nothing
     * after it: a timeout that says where the agent is stuck; no second
     * step. */
    fake_hv_set_guest_offset(-5 * S);
    fake_hv_set_delay(1 * MS, 1 * MS);
    fake_hv_answer_late(2);
    fake_hv_fail_call(3, VTS_ERR_AGENT_TIMEOUT, LV_NOT_AVAILABLE);
    sync_domain(f);
    expect_error(f, VTS_ERR_AGENT_TIMEOUT, "hwclock");
    assert_int_equal(fake_hv_count("guest-set-time"), 1);
    assert_int_equal(fake_hv_ncalls(), 4);
}

static void
test_sync_domain_agent_timeout_while_verifying(void **state)
{
    sync_fixture *f = *state;

    fake_hv_set_guest_offset(-5 * S);
    fake_hv_fail_call(3, VTS_ERR_AGENT_TIMEOUT, LV_NOT_AVAILABLE); /* after the step */
    sync_domain(f);
    expect_error(f, VTS_ERR_AGENT_TIMEOUT, "qemu-guest-agent");
    assert_int_equal(f->res.steps, 1);
    assert_true(f->res.have_offset);
    assert_false(f->res.have_residual);
    assert_int_equal(fake_hv_ncalls(), 4);
}

static void
test_sync_domain_set_time_unsupported(void **state)
{
    sync_fixture *f = *state;

    fake_hv_set_guest_offset(-5 * S);
    fake_hv_fail_command("guest-set-time", VTS_ERR_AGENT_ERROR, LV_UNSUPPORTED);
    sync_domain(f);
    expect_error(f, VTS_ERR_SET_TIME_UNSUPPORTED, "util-linux-extra");
    assert_non_null(strstr(f->res.err.message, "hwclock"));
    assert_true(f->res.have_offset);
    assert_int_equal(f->res.steps, 0);
    assert_int_equal(fake_hv_count("guest-set-time"), 1);
}

static void
test_sync_domain_set_time_disabled_in_qga_config(void **state)
{
    sync_fixture *f = *state;

    fake_hv_set_guest_offset(-5 * S);
    fake_hv_fail_command("guest-set-time", VTS_ERR_AGENT_ERROR, LV_DISABLED);
    sync_domain(f);
    expect_error(f, VTS_ERR_SET_TIME_UNSUPPORTED, "configuration");
    assert_non_null(strstr(f->res.err.message, "has been disabled"));
    assert_int_equal(f->res.steps, 0);
}

static void
test_sync_domain_set_time_unsupported_in_agent_reply(void **state)
{
    sync_fixture *f = *state;

    fake_hv_set_guest_offset(-5 * S);
    fake_hv_reply_command(
        "guest-set-time",
        "{\"error\":{\"class\":\"GenericError\",\"desc\":\"this feature or "
        "command is not currently supported\"}}");
    sync_domain(f);
    expect_error(f, VTS_ERR_SET_TIME_UNSUPPORTED, "util-linux-extra");
}

static void
test_sync_domain_get_time_unsupported_stays_agent_error(void **state)
{
    sync_fixture *f = *state;

    /* Only guest-set-time needs hwclock: the util-linux-extra hint would
     * be wrong here. */
    fake_hv_fail_command("guest-get-time", VTS_ERR_AGENT_ERROR,
                         "internal error: unable to execute QEMU agent command "
                         "'guest-get-time': this feature or command is not currently "
                         "supported");
    sync_domain(f);
    expect_error(f, VTS_ERR_AGENT_ERROR, "guest-get-time");
    assert_null(strstr(f->res.err.message, "util-linux-extra"));
}

static void
test_sync_domain_agent_error_keeps_the_agent_text(void **state)
{
    sync_fixture *f = *state;

    fake_hv_reply_call(0, "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Failed to "
                          "get time: clock_gettime: Invalid argument\"}}");
    sync_domain(f);
    expect_error(f, VTS_ERR_AGENT_ERROR, "clock_gettime: Invalid argument");
    assert_int_equal(fake_hv_ncalls(), 1);
}

static void
test_sync_domain_malformed_reply_is_bad_reply(void **state)
{
    sync_fixture *f = *state;

    fake_hv_reply_call(0, "not json at all");
    sync_domain(f);
    expect_error(f, VTS_ERR_BAD_REPLY, "genuine qemu-guest-agent");
    assert_non_null(strstr(f->res.err.message, "not json at all"));
    assert_int_equal(fake_hv_ncalls(), 1);
}

static void
test_sync_domain_reply_without_return_is_bad_reply(void **state)
{
    sync_fixture *f = *state;

    fake_hv_reply_call(0, "{\"id\":\"1\"}");
    sync_domain(f);
    expect_error(f, VTS_ERR_BAD_REPLY, "\"return\"");
    assert_int_equal(fake_hv_ncalls(), 1);
}

static void
test_sync_domain_malformed_set_time_reply_is_bad_reply(void **state)
{
    sync_fixture *f = *state;

    fake_hv_set_guest_offset(-5 * S);
    fake_hv_reply_command("guest-set-time", "{\"return\":");
    sync_domain(f);
    expect_error(f, VTS_ERR_BAD_REPLY, "genuine qemu-guest-agent");
    assert_int_equal(f->res.steps, 0);
    assert_true(f->res.have_offset);
}

/* --- logging ---------------------------------------------------------- */

static void
capture_log(void *opaque, vts_log_level level, const char *domain, const char *msg)
{
    sync_fixture *f = opaque;
    int n = snprintf(f->log + f->log_len, sizeof(f->log) - f->log_len, "%d %s: %s\n",
                     (int)level, domain, msg);

    if (n > 0 && (size_t)n < sizeof(f->log) - f->log_len)
        f->log_len += (size_t)n;
}

static void
test_sync_logs_samples_and_steps_with_the_domain_name(void **state)
{
    sync_fixture *f = *state;
    char want[64];

    f->opts.log = capture_log;
    f->opts.log_opaque = f;
    fake_hv_set_delay(1 * MS, 1 * MS);
    fake_hv_set_guest_offset(-5 * S);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
    snprintf(want, sizeof(want), "%d " FAKE_HV_DOMAIN ": sample 1: offset -5000000000 ns",
             (int)VTS_LOG_DEBUG);
    assert_non_null(strstr(f->log, want));
    assert_non_null(strstr(f->log, FAKE_HV_DOMAIN ": step 1: one-way delay 1000000 ns"));
}

#define T(fn)                                                                            \
    cmocka_unit_test_setup_teardown(fn, sync_fixture_setup, sync_fixture_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_sync_opts_init_sets_documented_defaults),
        T(test_sync_action_names_are_stable),
        T(test_sync_keeps_sample_with_smallest_rtt),
        T(test_sync_measure_offset_is_guest_minus_bracket_midpoint),
        T(test_sync_offset_sign_is_guest_minus_host),
        T(test_sync_samples_are_clamped_to_1_and_64),
        T(test_sync_passes_timeout_to_every_agent_call),
        T(test_sync_symmetric_delay_lands_guest_on_host_time),
        T(test_sync_step_is_verified_with_a_fresh_measurement),
        T(test_sync_with_clock_read_cost_still_lands_within_tolerance),
        T(test_sync_asymmetric_set_time_delay_needs_one_corrective_step),
        T(test_sync_path_asymmetry_error_stays_within_half_the_rtt),
        T(test_sync_offset_within_threshold_is_left_alone),
        T(test_sync_offset_beyond_threshold_is_stepped),
        T(test_sync_recheck_steps_past_the_tolerance),
        T(test_sync_check_only_never_sets_time),
        T(test_sync_guest_that_ignores_set_time_fails_verify_after_two_steps),
        T(test_sync_residual_within_its_uncertainty_is_not_stepped_again),
        T(test_sync_learned_delay_lands_the_first_step),
        T(test_sync_one_sample_decides_within_the_threshold),
        T(test_sync_sample_too_close_to_call_is_followed_by_more),
        T(test_sync_delay_spike_on_first_step_does_not_make_the_correction_overshoot),
        T(test_sync_resets_rtc_reinjection_for_catchup_guests),
        T(test_sync_rtc_reset_after_a_step_that_failed_its_verify),
        T(test_sync_no_rtc_reset_without_catchup_or_step),
        T(test_sync_failed_rtc_reset_does_not_fail_the_sync),
        T(test_sync_residual_within_threshold_plus_rtt_is_stepped),
        T(test_sync_residual_beyond_threshold_plus_rtt_fails_verify),
        T(test_sync_stale_learned_delay_costs_one_correction),
        T(test_sync_residual_of_seconds_is_not_taken_for_a_delay),
        T(test_sync_paused_during_the_step_is_stepped_again_not_overshot),
        T(test_sync_corrective_delay_is_clamped_to_zero),
        T(test_sync_host_clock_stepping_back_in_first_sample_drops_only_that_sample),
        T(test_sync_host_clock_stepping_back_in_later_sample_drops_only_that_sample),
        T(test_sync_host_clock_stepping_back_in_every_sample_is_an_error),
        T(test_sync_domain_not_found),
        T(test_sync_domain_lookup_connection_error_is_passed_on),
        T(test_sync_domain_state_error_is_passed_on),
        T(test_sync_domain_paused_is_refused_before_any_agent_call),
        T(test_sync_domain_paused_after_state_check_is_reported_as_paused),
        T(test_sync_domain_paused_before_the_step_is_reported_as_paused),
        T(test_sync_domain_shut_off_is_not_running),
        T(test_sync_domain_shut_off_after_state_check_is_not_running),
        T(test_sync_domain_without_agent_channel),
        T(test_sync_domain_agent_not_connected),
        T(test_sync_domain_agent_timeout_on_first_sample_makes_one_call_only),
        T(test_sync_domain_agent_timeout_mid_measurement_stops_there),
        T(test_sync_domain_agent_timeout_while_verifying),
        T(test_sync_set_time_answering_late_is_verified_not_repeated),
        T(test_sync_agent_stuck_in_hwclock_is_a_bounded_timeout),
        T(test_sync_domain_set_time_unsupported),
        T(test_sync_domain_set_time_disabled_in_qga_config),
        T(test_sync_domain_set_time_unsupported_in_agent_reply),
        T(test_sync_domain_get_time_unsupported_stays_agent_error),
        T(test_sync_domain_agent_error_keeps_the_agent_text),
        T(test_sync_domain_malformed_reply_is_bad_reply),
        T(test_sync_domain_reply_without_return_is_bad_reply),
        T(test_sync_domain_malformed_set_time_reply_is_bad_reply),
        T(test_sync_logs_samples_and_steps_with_the_domain_name),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
