/* test_sync_msg.c: unit tests for lib/vts_sync_msg.c, the wording of a
 * sync's errors: each code a user can act on says what to do, keeps the
 * detail it came with where that helps, and the others are left alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vts_sync.h"
#define VTS_SYNC_MSG_ALLOW_PRIV
#include "vts_sync_msg_priv.h"

/* The message vts_sync_explain makes of @code with the bare @detail, the
 * default options but for @timeout_s and @fallback. */
static const char *
explain(vts_err_code code, const char *detail, int timeout_s, vts_fallback fallback)
{
    static vts_error err;
    vts_sync_opts opts;

    vts_sync_opts_init(&opts);
    opts.timeout_s = timeout_s;
    opts.set_time_fallback = fallback;
    vts_error_set(&err, code, "%s", detail);
    vts_sync_explain(&err, &opts);
    assert_int_equal(err.code, code);
    return err.message;
}

#define assert_says(msg, text) assert_non_null(strstr((msg), (text)))

static void
test_sync_msg_domain_states_say_what_to_do(void **state)
{
    (void)state;
    assert_says(explain(VTS_ERR_NOT_FOUND, "x", 5, VTS_FALLBACK_NONE),
                "virsh list --all");
    assert_says(explain(VTS_ERR_NOT_RUNNING, "x", 5, VTS_FALLBACK_NONE), "start it");
    assert_says(explain(VTS_ERR_PAUSED, "x", 5, VTS_FALLBACK_NONE), "virsh resume");
}

static void
test_sync_msg_agent_problems_say_what_to_install_or_restart(void **state)
{
    const char *m;

    (void)state;
    m = explain(VTS_ERR_NO_AGENT_CHANNEL, "x", 5, VTS_FALLBACK_NONE);
    assert_says(m, "org.qemu.guest_agent.0");
    assert_says(m, "virsh edit");
    m = explain(VTS_ERR_AGENT_NOT_CONNECTED, "x", 5, VTS_FALLBACK_NONE);
    assert_says(m, "qemu-guest-agent");
    /* The timeout the sync had, and the agent's own words. */
    m = explain(VTS_ERR_AGENT_TIMEOUT, "no reply to guest-get-time", 7,
                VTS_FALLBACK_NONE);
    assert_says(m, "within 7 s");
    assert_says(m, "(no reply to guest-get-time)");
}

static void
test_sync_msg_set_time_refused_depends_on_the_fallback(void **state)
{
    const char *m;

    (void)state;
    m = explain(VTS_ERR_SET_TIME_UNSUPPORTED,
                "The command guest-set-time has been disabled", 5, VTS_FALLBACK_NONE);
    assert_says(m, "util-linux-extra");
    assert_says(m, "has been disabled");
    m = explain(VTS_ERR_SET_TIME_UNSUPPORTED, "busybox date cannot step relatively", 5,
                VTS_FALLBACK_GUEST_EXEC);
    assert_says(m, "guest-exec fallback failed: busybox date cannot step relatively");
    assert_null(strstr(m, "util-linux-extra"));
}

static void
test_sync_msg_safety_refusals_say_how_to_override(void **state)
{
    const char *m;

    (void)state;
    m = explain(VTS_ERR_HOST_UNSYNCED, "adjtimex reports STA_UNSYNC", 5,
                VTS_FALLBACK_NONE);
    assert_says(m, "(adjtimex reports STA_UNSYNC)");
    assert_says(m, "chronyc tracking");
    assert_says(m, "host_unsynced = allow");
    m = explain(VTS_ERR_STEP_TOO_LARGE, "the guest is -2d off", 5, VTS_FALLBACK_NONE);
    assert_says(m, "the guest is -2d off: not applied");
    assert_says(m, "max_step");
    m = explain(VTS_ERR_BACKWARD_REFUSED, "the guest is +5 s ahead", 5,
                VTS_FALLBACK_NONE);
    assert_says(m, "the guest is +5 s ahead: ");
    assert_says(m, "max_backward");
    m = explain(VTS_ERR_BAD_REPLY, "guest-get-time: no \"return\"", 5, VTS_FALLBACK_NONE);
    assert_says(m, "genuine qemu-guest-agent");
}

/* Codes without a remedy to add keep their message as it was. */
static void
test_sync_msg_other_codes_are_left_alone(void **state)
{
    (void)state;
    assert_string_equal(explain(VTS_ERR_VERIFY_FAILED, "still 9 ms off after 2 steps", 5,
                                VTS_FALLBACK_NONE),
                        "still 9 ms off after 2 steps");
    assert_string_equal(explain(VTS_ERR_INTERNAL, "out of memory", 5, VTS_FALLBACK_NONE),
                        "out of memory");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sync_msg_domain_states_say_what_to_do),
        cmocka_unit_test(test_sync_msg_agent_problems_say_what_to_install_or_restart),
        cmocka_unit_test(test_sync_msg_set_time_refused_depends_on_the_fallback),
        cmocka_unit_test(test_sync_msg_safety_refusals_say_how_to_override),
        cmocka_unit_test(test_sync_msg_other_codes_are_left_alone),
    };

    return cmocka_run_group_tests_name("sync_msg", tests, NULL, NULL);
}
