/* test_safety.c: unit tests for lib/vts_safety.c, time safety: a sync
 * copies only a synchronized host clock, and refuses steps beyond max_step
 * or back beyond max_backward unless forced, before any guest-set-time;
 * through vts_sync_domain against the scripted hypervisor of fake_hv.c
 * (lib/vts_sync.c asks these rules; this is what they decide). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sync_fixture.h"

static void
test_sync_refuses_when_the_host_clock_is_unsynchronized(void **state)
{
    sync_fixture *f = *state;

    fake_hv_set_host_clock(false, 16 * S);
    fake_hv_set_guest_offset(-5 * S);
    sync_domain(f);
    expect_error(f, VTS_ERR_HOST_UNSYNCED, "chronyc");
    assert_int_equal(fake_hv_count("guest-set-time"), 0);
    /* Measured all the same: the offset is reported. */
    assert_true(f->res.have_offset);
    assert_true(fake_hv_guest_offset() == -5 * S);
}

static void
test_sync_refuses_when_the_host_clock_error_is_large(void **state)
{
    sync_fixture *f = *state;

    fake_hv_set_host_clock(true, 2 * S);
    fake_hv_set_guest_offset(-5 * S);
    sync_domain(f);
    expect_error(f, VTS_ERR_HOST_UNSYNCED, "maximum error 2.000 s");
    assert_int_equal(fake_hv_count("guest-set-time"), 0);
}

static void
test_sync_unsynchronized_host_can_be_allowed(void **state)
{
    sync_fixture *f = *state;

    fake_hv_set_host_clock(false, 16 * S);
    fake_hv_set_guest_offset(-5 * S);
    f->opts.allow_unsynced_host = true;
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
}

static void
test_sync_unsynchronized_host_does_not_matter_within_threshold(void **state)
{
    sync_fixture *f = *state;

    fake_hv_set_host_clock(false, 16 * S);
    fake_hv_set_guest_offset(1 * MS);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_NONE);
}

static void
test_sync_step_beyond_max_step_is_refused_unless_forced(void **state)
{
    sync_fixture *f = *state;

    fake_hv_set_guest_offset(-2LL * 86400 * S);
    sync_domain(f);
    expect_error(f, VTS_ERR_STEP_TOO_LARGE, "--force");
    assert_int_equal(fake_hv_count("guest-set-time"), 0);

    f->opts.force = true;
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
}

static void
test_sync_max_step_zero_means_no_limit(void **state)
{
    sync_fixture *f = *state;

    f->opts.max_step_ns = 0;
    fake_hv_set_guest_offset(-3LL * 86400 * S);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
}

static void
test_sync_backward_step_within_bound_is_made(void **state)
{
    sync_fixture *f = *state;

    fake_hv_set_guest_offset(500 * MS); /* guest ahead */
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
    assert_near(fake_hv_guest_offset(), 0, 2);
}

static void
test_sync_backward_step_beyond_bound_is_refused_unless_forced(void **state)
{
    sync_fixture *f = *state;

    fake_hv_set_guest_offset(5 * S);
    sync_domain(f);
    expect_error(f, VTS_ERR_BACKWARD_REFUSED, "ahead of the host");
    assert_int_equal(fake_hv_count("guest-set-time"), 0);

    f->opts.max_backward_ns = 10 * S;
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
}

static void
test_sync_forward_step_ignores_backward_bound(void **state)
{
    sync_fixture *f = *state;

    f->opts.max_backward_ns = 0; /* never step back */
    fake_hv_set_guest_offset(-5 * S);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
}

#define T(fn)                                                                            \
    cmocka_unit_test_setup_teardown(fn, sync_fixture_setup, sync_fixture_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_sync_refuses_when_the_host_clock_is_unsynchronized),
        T(test_sync_refuses_when_the_host_clock_error_is_large),
        T(test_sync_unsynchronized_host_can_be_allowed),
        T(test_sync_unsynchronized_host_does_not_matter_within_threshold),
        T(test_sync_step_beyond_max_step_is_refused_unless_forced),
        T(test_sync_max_step_zero_means_no_limit),
        T(test_sync_backward_step_within_bound_is_made),
        T(test_sync_backward_step_beyond_bound_is_refused_unless_forced),
        T(test_sync_forward_step_ignores_backward_bound),
    };

    return cmocka_run_group_tests_name("safety", tests, NULL, NULL);
}
