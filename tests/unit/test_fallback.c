/* test_fallback.c: unit tests for lib/vts_fallback.c, the guest-exec
 * fallback, through vts_sync_domain against the scripted hypervisor of
 * fake_hv.c (lib/vts_sync.c chooses the fallback; this is what it does). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sync_fixture.h"

/* --- the guest-exec fallback -------------------------------------------- */

/* A guest without /sbin/hwclock, 5 s behind, agent delays 1 ms each way,
 * and the fallback on. */
static void
fallback_guest(sync_fixture *f)
{
    fake_hv_set_guest_offset(-5 * S);
    fake_hv_set_delay(1 * MS, 1 * MS);
    fake_hv_fail_command("guest-set-time", VTS_ERR_AGENT_ERROR, LV_UNSUPPORTED);
    f->opts.set_time_fallback = VTS_FALLBACK_GUEST_EXEC;
}

/* The @n-th call of guest-exec in the fake's log. */
static const fake_hv_call *
exec_call(int n)
{
    return nth_call("guest-exec", n);
}

static void
test_sync_fallback_names_are_stable(void **state)
{
    vts_fallback fb = VTS_FALLBACK_GUEST_EXEC;

    (void)state;
    assert_string_equal(vts_fallback_name(VTS_FALLBACK_NONE), "none");
    assert_string_equal(vts_fallback_name(VTS_FALLBACK_GUEST_EXEC), "guest-exec");
    assert_int_equal(vts_fallback_parse("none", &fb), 0);
    assert_int_equal(fb, VTS_FALLBACK_NONE);
    assert_int_equal(vts_fallback_parse("guest-exec", &fb), 0);
    assert_int_equal(fb, VTS_FALLBACK_GUEST_EXEC);
    assert_int_equal(vts_fallback_parse("guest_exec", &fb), -1);
    assert_int_equal(vts_fallback_parse("", &fb), -1);
    assert_int_equal(fb, VTS_FALLBACK_GUEST_EXEC);
}

static void
test_sync_fallback_off_by_default_fails_as_before(void **state)
{
    sync_fixture *f = *state;

    fallback_guest(f);
    vts_sync_opts_init(&f->opts);
    assert_int_equal(f->opts.set_time_fallback, VTS_FALLBACK_NONE);
    sync_domain(f);
    expect_error(f, VTS_ERR_SET_TIME_UNSUPPORTED, "util-linux-extra");
    assert_non_null(strstr(f->res.err.message, "hwclock"));
    assert_false(f->res.via_exec);
    assert_int_equal(f->res.steps, 0);
    assert_int_equal(fake_hv_count("guest-info"), 0);
    assert_int_equal(fake_hv_count("guest-exec"), 0);
    assert_near(fake_hv_guest_offset(), -5 * S, 0);
}

static void
test_sync_fallback_moves_the_clock_relative_to_the_guests_own_reading(void **state)
{
    sync_fixture *f = *state;

    /* The date reads the guest's clock and sets it 20 ms later: the first
     * step, which allows 1 ms (the agent's delay), lands 19 ms behind; the
     * correction allows the 20 ms it met and lands on the host's time. How
     * long the agent took to start the date does not count. */
    fallback_guest(f);
    fake_hv_set_exec_date("/bin/date", 20 * MS, 0, NULL, false);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
    assert_true(f->res.via_exec);
    assert_int_equal(f->res.steps, 2);
    assert_near(f->res.residual_ns, 0, 2);
    assert_near(fake_hv_guest_offset(), 0, 2);
    assert_int_equal(fake_hv_count("guest-set-time"), 1);
    assert_int_equal(fake_hv_count("guest-info"), 1);
    assert_int_equal(fake_hv_count("guest-exec"), 2);
    assert_string_equal(exec_call(0)->exec_path, "/bin/date");
    assert_string_equal(exec_call(0)->exec_args, "-u -s now +5.001000000 seconds");
    assert_string_equal(exec_call(1)->exec_args, "-u -s now +0.039000000 seconds");
    /* Each date polled at 10 ms (still running), then 20 ms later. */
    assert_int_equal(fake_hv_count("guest-exec-status"), 4);
    /* Every poll waits for the date with the agent timeout. */
    for (int i = 0; i < fake_hv_ncalls(); i++)
        assert_int_equal(fake_hv_call_at(i)->timeout_s, f->opts.timeout_s);
}

static void
test_sync_fallback_steps_a_guest_ahead_back(void **state)
{
    sync_fixture *f = *state;

    /* 250 ms ahead, a date that takes as long as the agent's delay: one
     * step back lands on the host's time. */
    fallback_guest(f);
    fake_hv_set_guest_offset(250 * MS);
    fake_hv_set_exec_date("/bin/date", 1 * MS, 0, NULL, false);
    sync_domain(f);
    expect_ok(f, VTS_ACTION_STEPPED);
    assert_int_equal(f->res.steps, 1);
    assert_string_equal(exec_call(0)->exec_args, "-u -s now -0.249000000 seconds");
    assert_near(fake_hv_guest_offset(), 0, 2);
}

static void
test_sync_fallback_tries_usr_bin_date_and_keeps_it(void **state)
{
    sync_fixture *f = *state;

    /* A guest whose clock ignores the date: two steps are tried, the
     * second with the path that worked for the first. */
    fallback_guest(f);
    fake_hv_set_exec_date("/usr/bin/date", 10 * MS, 0, NULL, false);
    fake_hv_ignore_set_time(true);
    sync_domain(f);
    expect_error(f, VTS_ERR_VERIFY_FAILED, "does not hold what it is given");
    assert_int_equal(f->res.steps, 2);
    assert_string_equal(exec_call(0)->exec_path, "/bin/date");
    assert_string_equal(exec_call(1)->exec_path, "/usr/bin/date");
    assert_string_equal(exec_call(2)->exec_path, "/usr/bin/date");
    assert_int_equal(fake_hv_count("guest-exec"), 3);
}

static void
test_sync_fallback_without_any_date_fails_clearly(void **state)
{
    sync_fixture *f = *state;

    fallback_guest(f);
    fake_hv_set_exec_date("/opt/date", 0, 0, NULL, false);
    sync_domain(f);
    expect_error(f, VTS_ERR_SET_TIME_UNSUPPORTED,
                 "cannot run /bin/date or /usr/bin/date");
    assert_non_null(strstr(f->res.err.message, "No such file"));
    assert_true(f->res.via_exec);
    assert_int_equal(f->res.steps, 0);
}

static void
test_sync_fallback_refused_when_the_agent_blocks_guest_exec(void **state)
{
    sync_fixture *f = *state;

    fallback_guest(f);
    fake_hv_set_exec_allowed(false);
    sync_domain(f);
    expect_error(f, VTS_ERR_SET_TIME_UNSUPPORTED, "does not allow guest-exec");
    assert_non_null(strstr(f->res.err.message, "util-linux-extra"));
    assert_non_null(strstr(f->res.err.message, "block-rpcs"));
    assert_non_null(strstr(f->res.err.message, "allow-rpcs"));
    assert_non_null(strstr(f->res.err.message, "guest-exec fallback failed"));
    assert_int_equal(fake_hv_count("guest-exec"), 0);
    assert_int_equal(f->res.steps, 0);
    assert_near(fake_hv_guest_offset(), -5 * S, 0);
}

static void
test_sync_fallback_date_exiting_non_zero_fails_clearly(void **state)
{
    sync_fixture *f = *state;

    fallback_guest(f);
    fake_hv_set_exec_date("/bin/date", 1 * MS, 1, "date: invalid date '@1700000000.5'\n",
                          false);
    sync_domain(f);
    expect_error(f, VTS_ERR_SET_TIME_UNSUPPORTED, "exited with 1");
    assert_non_null(strstr(f->res.err.message, "busybox"));
    assert_non_null(strstr(f->res.err.message, "GNU date"));
    assert_non_null(strstr(f->res.err.message, "invalid date"));
    assert_null(strchr(f->res.err.message, '\n'));
    assert_int_equal(f->res.steps, 0);
    assert_int_equal(fake_hv_count("guest-exec"), 1);
}

static void
test_sync_fallback_busybox_date_fails_with_a_hint(void **state)
{
    sync_fixture *f = *state;

    /* busybox's date does not take a relative time: it says so, and the
     * message names the cure. */
    fallback_guest(f);
    fake_hv_set_exec_date("/bin/date", 1 * MS, 0, NULL, true);
    sync_domain(f);
    expect_error(f, VTS_ERR_SET_TIME_UNSUPPORTED, "busybox");
    assert_non_null(strstr(f->res.err.message, "invalid date"));
    assert_non_null(strstr(f->res.err.message, "util-linux-extra"));
    assert_int_equal(f->res.steps, 0);
    assert_int_equal(fake_hv_count("guest-exec"), 1);
    assert_true(fake_hv_guest_offset() == -5 * S);
}

static void
test_sync_fallback_date_that_never_exits_is_bounded(void **state)
{
    sync_fixture *f = *state;

    fallback_guest(f);
    fake_hv_set_exec_date("/bin/date", 3600 * S, 0, NULL, false);
    f->opts.timeout_s = 2;
    sync_domain(f);
    expect_error(f, VTS_ERR_SET_TIME_UNSUPPORTED, "did not exit within 2 s");
    /* Polls pause from 1 ms up to 20 ms: about 100 polls in 2 s. */
    assert_true(fake_hv_count("guest-exec-status") < 150);
    assert_true(fake_hv_count("guest-exec-status") > 10);
}

static void
test_sync_fallback_malformed_replies_are_bad_replies(void **state)
{
    sync_fixture *f = *state;
    static const struct {
        const char *execute;
        const char *reply;
    } cases[] = {
        {"guest-info", "{\"return\":{\"supported_commands\":7}}"},
        {"guest-info", "not json"},
        {"guest-exec", "{\"return\":{\"pid\":-1}}"},
        {"guest-exec-status", "{\"return\":{\"exited\":\"yes\"}}"},
        {"guest-exec-status", "{\"return\":{\"exited\":true}}"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fake_hv_reset();
        fallback_guest(f);
        fake_hv_reply_command(cases[i].execute, cases[i].reply);
        sync_domain(f);
        expect_error(f, VTS_ERR_BAD_REPLY, "genuine qemu-guest-agent");
        assert_true(f->res.via_exec);
        assert_int_equal(f->res.steps, 0);
    }
}

static void
test_sync_fallback_is_not_used_for_other_set_time_errors(void **state)
{
    sync_fixture *f = *state;

    fallback_guest(f);
    fake_hv_fail_command("guest-set-time", VTS_ERR_AGENT_TIMEOUT, "timed out");
    sync_domain(f);
    expect_error(f, VTS_ERR_AGENT_TIMEOUT, NULL);
    assert_false(f->res.via_exec);
    assert_int_equal(fake_hv_count("guest-info"), 0);
}

#define T(fn)                                                                            \
    cmocka_unit_test_setup_teardown(fn, sync_fixture_setup, sync_fixture_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_sync_fallback_names_are_stable),
        T(test_sync_fallback_off_by_default_fails_as_before),
        T(test_sync_fallback_moves_the_clock_relative_to_the_guests_own_reading),
        T(test_sync_fallback_steps_a_guest_ahead_back),
        T(test_sync_fallback_tries_usr_bin_date_and_keeps_it),
        T(test_sync_fallback_without_any_date_fails_clearly),
        T(test_sync_fallback_refused_when_the_agent_blocks_guest_exec),
        T(test_sync_fallback_date_exiting_non_zero_fails_clearly),
        T(test_sync_fallback_busybox_date_fails_with_a_hint),
        T(test_sync_fallback_date_that_never_exits_is_bounded),
        T(test_sync_fallback_malformed_replies_are_bad_replies),
        T(test_sync_fallback_is_not_used_for_other_set_time_errors),
    };

    return cmocka_run_group_tests_name("fallback", tests, NULL, NULL);
}
