/* test_error.c: unit tests for lib/vts_error.c (codes, names, messages). */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vts_error.h"

static int
setup(void **state)
{
    static vts_error err;

    memset(&err, 0x5a, sizeof(err));
    *state = &err;
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    return 0;
}

/* The names are an interface (JSON output, metrics): they must not change. */
static void
test_error_code_names_are_stable(void **state)
{
    static const char *const expected[VTS_ERR__COUNT] = {
        [VTS_OK] = "ok",
        [VTS_ERR_INTERNAL] = "internal",
        [VTS_ERR_CONNECT] = "connect",
        [VTS_ERR_NOT_FOUND] = "not-found",
        [VTS_ERR_NOT_RUNNING] = "not-running",
        [VTS_ERR_PAUSED] = "paused",
        [VTS_ERR_NO_AGENT_CHANNEL] = "no-agent-channel",
        [VTS_ERR_AGENT_NOT_CONNECTED] = "agent-not-connected",
        [VTS_ERR_AGENT_TIMEOUT] = "agent-timeout",
        [VTS_ERR_SET_TIME_UNSUPPORTED] = "set-time-unsupported",
        [VTS_ERR_AGENT_ERROR] = "agent-error",
        [VTS_ERR_BAD_REPLY] = "bad-reply",
        [VTS_ERR_VERIFY_FAILED] = "verify-failed",
        [VTS_ERR_CONFIG] = "config",
        [VTS_ERR_OPTED_OUT] = "opted-out",
        [VTS_ERR_HOST_UNSYNCED] = "host-unsynced",
        [VTS_ERR_STEP_TOO_LARGE] = "step-too-large",
        [VTS_ERR_BACKWARD_REFUSED] = "backward-refused",
    };
    int code;

    (void)state;
    for (code = 0; code < VTS_ERR__COUNT; code++) {
        assert_non_null(expected[code]); /* a new code needs a name here too */
        assert_string_equal(vts_error_code_name((vts_err_code)code), expected[code]);
    }
}

static void
test_error_code_names_are_unique_and_machine_readable(void **state)
{
    int a, b;

    (void)state;
    for (a = 0; a < VTS_ERR__COUNT; a++) {
        const char *name = vts_error_code_name((vts_err_code)a);
        const char *p;

        assert_non_null(name);
        assert_true(name[0] != '\0');
        for (p = name; *p; p++)
            assert_true((*p >= 'a' && *p <= 'z') || *p == '-');
        for (b = a + 1; b < VTS_ERR__COUNT; b++)
            assert_string_not_equal(name, vts_error_code_name((vts_err_code)b));
    }
}

static void
test_error_code_name_out_of_range_is_internal(void **state)
{
    (void)state;
    assert_string_equal(vts_error_code_name(VTS_ERR__COUNT), "internal");
    assert_string_equal(vts_error_code_name((vts_err_code)(VTS_ERR__COUNT + 1)),
                        "internal");
    assert_string_equal(vts_error_code_name((vts_err_code)-1), "internal");
    assert_string_equal(vts_error_code_name((vts_err_code)INT_MAX), "internal");
    assert_string_equal(vts_error_code_name((vts_err_code)INT_MIN), "internal");
}

static void
test_error_set_records_code_and_formatted_message(void **state)
{
    vts_error *err = *state;

    assert_int_equal(
        vts_error_set(err, VTS_ERR_AGENT_TIMEOUT, "waited %d s for %s", 5, "web-1"), -1);
    assert_int_equal(err->code, VTS_ERR_AGENT_TIMEOUT);
    assert_string_equal(err->message, "waited 5 s for web-1");
}

static void
test_error_set_truncates_long_message_to_max_minus_one(void **state)
{
    vts_error *err = *state;
    char longmsg[3 * VTS_ERROR_MSG_MAX];

    memset(longmsg, 'x', sizeof(longmsg) - 1);
    longmsg[sizeof(longmsg) - 1] = '\0';
    longmsg[0] = 'A';
    assert_int_equal(vts_error_set(err, VTS_ERR_BAD_REPLY, "%s", longmsg), -1);
    assert_int_equal(err->code, VTS_ERR_BAD_REPLY);
    assert_int_equal(strlen(err->message), VTS_ERROR_MSG_MAX - 1);
    assert_int_equal(err->message[0], 'A');
    assert_int_equal(err->message[VTS_ERROR_MSG_MAX - 1], '\0');
}

static void
test_error_set_message_of_exactly_max_minus_one_fits(void **state)
{
    vts_error *err = *state;
    char msg[VTS_ERROR_MSG_MAX];

    memset(msg, 'y', sizeof(msg) - 1);
    msg[sizeof(msg) - 1] = '\0';
    msg[sizeof(msg) - 2] = 'Z';
    vts_error_set(err, VTS_ERR_INTERNAL, "%s", msg);
    assert_string_equal(err->message, msg);
}

static void
test_error_set_null_error_only_returns_minus_one(void **state)
{
    (void)state;
    assert_int_equal(vts_error_set(NULL, VTS_ERR_INTERNAL, "ignored %d", 1), -1);
}

static void
test_error_set_may_wrap_its_own_message(void **state)
{
    vts_error err;

    (void)state;
    vts_error_set(&err, VTS_ERR_AGENT_ERROR, "No such file or directory");
    vts_error_set(&err, VTS_ERR_SET_TIME_UNSUPPORTED, "cannot run date (%s)",
                  err.message);
    assert_int_equal(err.code, VTS_ERR_SET_TIME_UNSUPPORTED);
    assert_string_equal(err.message, "cannot run date (No such file or directory)");
}

static void
test_error_clear_resets_code_and_message(void **state)
{
    vts_error *err = *state;

    vts_error_set(err, VTS_ERR_PAUSED, "paused");
    vts_error_clear(err);
    assert_int_equal(err->code, VTS_OK);
    assert_string_equal(err->message, "");
    vts_error_clear(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_error_code_names_are_stable, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_error_code_names_are_unique_and_machine_readable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_code_name_out_of_range_is_internal,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_set_records_code_and_formatted_message,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_error_set_truncates_long_message_to_max_minus_one, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_error_set_message_of_exactly_max_minus_one_fits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_set_null_error_only_returns_minus_one,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_set_may_wrap_its_own_message, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_error_clear_resets_code_and_message, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
