/* test_agent.c: unit tests for lib/vts_agent.c, the guest agent's time
 * commands and the checking of their replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "vts_agent.h"

/* A time_ns value the parser must not write on failure. */
#define UNTOUCHED ((int64_t)0x5a5a5a5a5a5a5a5aLL)
#define T_NS 1700000000123456789LL

typedef struct {
    vts_error err;
    int64_t time_ns;
    char *big; /* a large input built by a test, freed in teardown */
} agent_fixture;

static int
setup(void **state)
{
    agent_fixture *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    vts_error_clear(&f->err);
    f->time_ns = UNTOUCHED;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    agent_fixture *f = *state;

    free(f->big);
    free(f);
    return 0;
}

/* Parse @reply, expect failure with @code and time_ns left alone. */
static void
expect_time_refused(agent_fixture *f, const char *reply, vts_err_code code)
{
    f->time_ns = UNTOUCHED;
    vts_error_clear(&f->err);
    if (vts_agent_parse_time(reply, &f->time_ns, &f->err) != -1)
        fail_msg("accepted %s as %lld", reply ? reply : "(null)", (long long)f->time_ns);
    if (f->err.code != code)
        fail_msg("%s: code %s, want %s (%s)", reply ? reply : "(null)",
                 vts_error_code_name(f->err.code), vts_error_code_name(code),
                 f->err.message);
    assert_true(f->err.message[0] != '\0');
    assert_true(strlen(f->err.message) < VTS_ERROR_MSG_MAX);
    assert_true(f->time_ns == UNTOUCHED);
}

static void
expect_time(agent_fixture *f, const char *reply, int64_t want)
{
    f->time_ns = UNTOUCHED;
    vts_error_clear(&f->err);
    if (vts_agent_parse_time(reply, &f->time_ns, &f->err) != 0)
        fail_msg("refused %s: %s", reply, f->err.message);
    assert_true(f->time_ns == want);
}

/* --- vts_agent_format_set_time ---------------------------------------- */

static void
test_format_set_time_writes_the_qga_command(void **state)
{
    agent_fixture *f = *state;
    char buf[VTS_AGENT_SET_TIME_MAX];
    json_object *root, *args = NULL, *v = NULL;

    assert_int_equal(vts_agent_format_set_time(buf, sizeof(buf), T_NS, &f->err), 0);
    assert_string_equal(buf, "{\"execute\":\"guest-set-time\",\"arguments\":{\"time\":"
                             "1700000000123456789}}");
    /* And it is JSON that says the same thing. */
    root = json_tokener_parse(buf);
    assert_non_null(root);
    assert_true(json_object_object_get_ex(root, "execute", &v));
    assert_string_equal(json_object_get_string(v), "guest-set-time");
    assert_true(json_object_object_get_ex(root, "arguments", &args));
    assert_true(json_object_object_get_ex(args, "time", &v));
    assert_true(json_object_get_int64(v) == T_NS);
    json_object_put(root);
}

static void
test_format_set_time_largest_time_fits_the_max_buffer(void **state)
{
    agent_fixture *f = *state;
    char buf[VTS_AGENT_SET_TIME_MAX];

    assert_int_equal(vts_agent_format_set_time(buf, sizeof(buf), INT64_MAX, &f->err), 0);
    assert_non_null(strstr(buf, "9223372036854775807}}"));
    assert_int_equal(vts_agent_format_set_time(buf, sizeof(buf), 1, &f->err), 0);
    assert_non_null(strstr(buf, "{\"time\":1}}"));
}

static void
test_format_set_time_refuses_zero_and_negative_times(void **state)
{
    agent_fixture *f = *state;
    static const int64_t bad[] = {0, -1, -T_NS, INT64_MIN};
    char buf[VTS_AGENT_SET_TIME_MAX];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        vts_error_clear(&f->err);
        assert_int_equal(vts_agent_format_set_time(buf, sizeof(buf), bad[i], &f->err),
                         -1);
        assert_int_equal(f->err.code, VTS_ERR_INTERNAL);
        assert_true(f->err.message[0] != '\0');
    }
}

static void
test_format_set_time_refuses_a_buffer_one_byte_short(void **state)
{
    agent_fixture *f = *state;
    static const char want[] =
        "{\"execute\":\"guest-set-time\",\"arguments\":{\"time\":1700000000123456789}}";
    char buf[sizeof(want) + 8];

    /* strlen + 1 is enough, strlen is not; nothing is written past len. */
    assert_int_equal(vts_agent_format_set_time(buf, sizeof(want), T_NS, &f->err), 0);
    assert_string_equal(buf, want);
    memset(buf, '#', sizeof(buf));
    assert_int_equal(vts_agent_format_set_time(buf, sizeof(want) - 1, T_NS, &f->err), -1);
    assert_int_equal(f->err.code, VTS_ERR_INTERNAL);
    assert_int_equal(buf[sizeof(want) - 1], '#');
    memset(buf, '#', sizeof(buf));
    assert_int_equal(vts_agent_format_set_time(buf, 1, T_NS, &f->err), -1);
    assert_int_equal(buf[1], '#');
}

/* --- vts_agent_parse_time: good replies ------------------------------- */

static void
test_parse_time_accepts_a_good_reply(void **state)
{
    expect_time(*state, "{\"return\":1700000000123456789}", T_NS);
}

static void
test_parse_time_accepts_whitespace_around_tokens(void **state)
{
    expect_time(*state, " \r\n\t{ \"return\" :\n 1700000000123456789 \t}\r\n", T_NS);
}

static void
test_parse_time_ignores_extra_members(void **state)
{
    expect_time(*state,
                "{\"id\":\"fd42\",\"return\":1700000000123456789,"
                "\"extra\":{\"a\":[1,2,{\"b\":null}]}}",
                T_NS);
}

static void
test_parse_time_accepts_smallest_and_largest_positive_int64(void **state)
{
    expect_time(*state, "{\"return\":1}", 1);
    expect_time(*state, "{\"return\":9223372036854775807}", INT64_MAX);
}

/* --- vts_agent_parse_time: errors from the agent ---------------------- */

static void
test_parse_time_error_with_desc_is_agent_error_quoting_desc(void **state)
{
    agent_fixture *f = *state;

    expect_time_refused(f,
                        "{\"error\":{\"class\":\"GenericError\","
                        "\"desc\":\"Invalid parameter 'time'\"}}",
                        VTS_ERR_AGENT_ERROR);
    assert_non_null(strstr(f->err.message, "Invalid parameter 'time'"));
}

static void
test_parse_time_error_without_desc_is_agent_error(void **state)
{
    agent_fixture *f = *state;

    expect_time_refused(f, "{\"error\":{\"class\":\"GenericError\"}}",
                        VTS_ERR_AGENT_ERROR);
    expect_time_refused(f, "{\"error\":{\"desc\":42}}", VTS_ERR_AGENT_ERROR);
    expect_time_refused(f, "{\"error\":\"boom\"}", VTS_ERR_AGENT_ERROR);
    expect_time_refused(f, "{\"error\":null}", VTS_ERR_AGENT_ERROR);
}

static void
test_parse_time_error_wins_over_return(void **state)
{
    expect_time_refused(*state,
                        "{\"return\":1700000000123456789,\"error\":{\"desc\":\"x\"}}",
                        VTS_ERR_AGENT_ERROR);
}

static void
test_parse_time_huge_error_desc_is_truncated(void **state)
{
    agent_fixture *f = *state;
    size_t n = 64 * 1024;

    f->big = malloc(n + 64);
    assert_non_null(f->big);
    strcpy(f->big, "{\"error\":{\"desc\":\"");
    memset(f->big + strlen(f->big), 'd', n);
    strcpy(f->big + strlen("{\"error\":{\"desc\":\"") + n, "\"}}");
    expect_time_refused(f, f->big, VTS_ERR_AGENT_ERROR);
    assert_int_equal(strlen(f->err.message), VTS_ERROR_MSG_MAX - 1);
}

/* --- vts_agent_parse_time: not a time --------------------------------- */

static void
test_parse_time_refuses_null_and_empty_replies(void **state)
{
    expect_time_refused(*state, NULL, VTS_ERR_BAD_REPLY);
    expect_time_refused(*state, "", VTS_ERR_BAD_REPLY);
    expect_time_refused(*state, " \n", VTS_ERR_BAD_REPLY);
}

static void
test_parse_time_refuses_text_that_is_not_json(void **state)
{
    agent_fixture *f = *state;

    expect_time_refused(f, "hello", VTS_ERR_BAD_REPLY);
    assert_non_null(strstr(f->err.message, "hello")); /* quoted for the reader */
    expect_time_refused(f, "{return:1700000000123456789}", VTS_ERR_BAD_REPLY);
    expect_time_refused(f, "{\"return\":0x10}", VTS_ERR_BAD_REPLY);
}

static void
test_parse_time_refuses_truncated_json(void **state)
{
    static const char full[] = "{\"return\":1700000000123456789}";
    agent_fixture *f = *state;
    char cut[sizeof(full)];
    size_t len;

    /* Every proper prefix of a good reply. */
    for (len = 0; len < sizeof(full) - 1; len++) {
        memcpy(cut, full, len);
        cut[len] = '\0';
        expect_time_refused(f, cut, VTS_ERR_BAD_REPLY);
    }
}

static void
test_parse_time_refuses_json_that_is_not_an_object(void **state)
{
    agent_fixture *f = *state;

    expect_time_refused(f, "[1700000000123456789]", VTS_ERR_BAD_REPLY);
    expect_time_refused(f, "[{\"return\":1700000000123456789}]", VTS_ERR_BAD_REPLY);
    expect_time_refused(f, "1700000000123456789", VTS_ERR_BAD_REPLY);
    expect_time_refused(f, "\"1700000000123456789\"", VTS_ERR_BAD_REPLY);
    expect_time_refused(f, "null", VTS_ERR_BAD_REPLY);
    expect_time_refused(f, "true", VTS_ERR_BAD_REPLY);
}

static void
test_parse_time_refuses_object_without_return(void **state)
{
    agent_fixture *f = *state;

    expect_time_refused(f, "{}", VTS_ERR_BAD_REPLY);
    expect_time_refused(f, "{\"Return\":1700000000123456789}", VTS_ERR_BAD_REPLY);
    expect_time_refused(f, "{\"result\":1700000000123456789}", VTS_ERR_BAD_REPLY);
    assert_non_null(strstr(f->err.message, "return"));
}

static void
test_parse_time_refuses_return_that_is_not_an_integer(void **state)
{
    agent_fixture *f = *state;

    expect_time_refused(f, "{\"return\":\"1700000000123456789\"}", VTS_ERR_BAD_REPLY);
    expect_time_refused(f, "{\"return\":1.7e18}", VTS_ERR_BAD_REPLY);
    expect_time_refused(f, "{\"return\":1700000000123456789.0}", VTS_ERR_BAD_REPLY);
    expect_time_refused(f, "{\"return\":1700000000.5}", VTS_ERR_BAD_REPLY);
    expect_time_refused(f, "{\"return\":{}}", VTS_ERR_BAD_REPLY);
    expect_time_refused(f, "{\"return\":{\"time\":1700000000123456789}}",
                        VTS_ERR_BAD_REPLY);
    expect_time_refused(f, "{\"return\":[1700000000123456789]}", VTS_ERR_BAD_REPLY);
    expect_time_refused(f, "{\"return\":true}", VTS_ERR_BAD_REPLY);
    expect_time_refused(f, "{\"return\":null}", VTS_ERR_BAD_REPLY);
}

static void
test_parse_time_refuses_zero_and_negative_times(void **state)
{
    agent_fixture *f = *state;

    expect_time_refused(f, "{\"return\":0}", VTS_ERR_BAD_REPLY);
    expect_time_refused(f, "{\"return\":-0}", VTS_ERR_BAD_REPLY);
    expect_time_refused(f, "{\"return\":-1}", VTS_ERR_BAD_REPLY);
    expect_time_refused(f, "{\"return\":-1700000000123456789}", VTS_ERR_BAD_REPLY);
    expect_time_refused(f, "{\"return\":-9223372036854775808}", VTS_ERR_BAD_REPLY);
}

/* json-c 0.16 does not turn integers beyond int64 into doubles: it keeps
 * them as json_type_int, holding UINT64 values up to 2^64-1 and clamping
 * anything larger, and json_object_get_int64() then returns INT64_MAX
 * without setting errno. None of these is a time the guest can have. */
static void
test_parse_time_refuses_integers_beyond_int64(void **state)
{
    agent_fixture *f = *state;

    expect_time_refused(f, "{\"return\":9223372036854775808}", VTS_ERR_BAD_REPLY);
    expect_time_refused(f, "{\"return\":18446744073709551615}", VTS_ERR_BAD_REPLY);
    expect_time_refused(f, "{\"return\":18446744073709551616}", VTS_ERR_BAD_REPLY);
    expect_time_refused(f, "{\"return\":99999999999999999999999999999999}",
                        VTS_ERR_BAD_REPLY);
}

static void
test_parse_time_refuses_negative_integers_beyond_int64(void **state)
{
    agent_fixture *f = *state;

    expect_time_refused(f, "{\"return\":-9223372036854775809}", VTS_ERR_BAD_REPLY);
    expect_time_refused(f, "{\"return\":-99999999999999999999999999999999}",
                        VTS_ERR_BAD_REPLY);
    expect_time_refused(f, "{\"return\":1e400}", VTS_ERR_BAD_REPLY);
}

static void
test_parse_time_huge_reply_is_parsed_and_quoted_briefly(void **state)
{
    agent_fixture *f = *state;
    size_t n = 4 * 1024 * 1024;
    static const char tail[] = "{\"return\":1700000000123456789}";

    /* 4 MiB of whitespace before a good reply. */
    f->big = malloc(n + sizeof(tail));
    assert_non_null(f->big);
    memset(f->big, ' ', n);
    memcpy(f->big + n, tail, sizeof(tail));
    expect_time(f, f->big, T_NS);

    /* 4 MiB of garbage: refused, and the message stays short. */
    memset(f->big, 'g', n + sizeof(tail) - 1);
    expect_time_refused(f, f->big, VTS_ERR_BAD_REPLY);
    assert_true(strlen(f->err.message) < 200);
}

static void
test_parse_time_deep_nesting_is_refused_without_crashing(void **state)
{
    agent_fixture *f = *state;
    size_t depth = 100000, i;
    char *p;

    f->big = malloc(2 * depth + 32);
    assert_non_null(f->big);

    /* A deep array as the return value. */
    p = f->big + sprintf(f->big, "{\"return\":");
    for (i = 0; i < depth; i++)
        *p++ = '[';
    for (i = 0; i < depth; i++)
        *p++ = ']';
    strcpy(p, "}");
    expect_time_refused(f, f->big, VTS_ERR_BAD_REPLY);

    /* Deep objects from the top. */
    p = f->big;
    for (i = 0; i < depth / 8; i++) {
        memcpy(p, "{\"a\":", 5);
        p += 5;
    }
    *p = '\0';
    expect_time_refused(f, f->big, VTS_ERR_BAD_REPLY);
}

/* --- vts_agent_parse_empty -------------------------------------------- */

static void
test_parse_empty_accepts_empty_return(void **state)
{
    agent_fixture *f = *state;

    assert_int_equal(vts_agent_parse_empty("{\"return\":{}}", &f->err), 0);
    assert_int_equal(
        vts_agent_parse_empty(" { \"return\" : { } , \"id\" : 1 }\n", &f->err), 0);
}

static void
test_parse_empty_refuses_bad_replies(void **state)
{
    static const struct {
        const char *reply;
        vts_err_code code;
    } cases[] = {
        {NULL, VTS_ERR_BAD_REPLY},
        {"", VTS_ERR_BAD_REPLY},
        {"not json", VTS_ERR_BAD_REPLY},
        {"{\"return\":{}", VTS_ERR_BAD_REPLY},
        {"[]", VTS_ERR_BAD_REPLY},
        {"\"return\"", VTS_ERR_BAD_REPLY},
        {"{}", VTS_ERR_BAD_REPLY},
        {"{\"error\":{\"class\":\"GenericError\",\"desc\":\"hwclock failed\"}}",
         VTS_ERR_AGENT_ERROR},
        {"{\"error\":{}}", VTS_ERR_AGENT_ERROR},
    };
    agent_fixture *f = *state;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vts_error_clear(&f->err);
        if (vts_agent_parse_empty(cases[i].reply, &f->err) != -1)
            fail_msg("accepted %s", cases[i].reply ? cases[i].reply : "(null)");
        if (f->err.code != cases[i].code)
            fail_msg("%s: code %s", cases[i].reply ? cases[i].reply : "(null)",
                     vts_error_code_name(f->err.code));
        assert_true(f->err.message[0] != '\0');
    }
}

static void
test_parse_empty_error_message_carries_the_agent_desc(void **state)
{
    agent_fixture *f = *state;

    assert_int_equal(
        vts_agent_parse_empty("{\"error\":{\"class\":\"GenericError\",\"desc\":"
                              "\"this feature or command is not currently "
                              "supported\"}}",
                              &f->err),
        -1);
    assert_int_equal(f->err.code, VTS_ERR_AGENT_ERROR);
    assert_non_null(
        strstr(f->err.message, "this feature or command is not currently supported"));
}

/* --- guest-info, guest-exec, guest-exec-status --------------------------- */

static const char *const exec_cmds[] = {"guest-exec", "guest-exec-status"};

/* A guest-info reply as qemu-ga 7.2 sends it, with @exec_on and
 * @status_on as the two commands' "enabled". */
static char *
info_reply(const char *exec_on, const char *status_on)
{
    char *s = NULL;

    if (asprintf(
            &s,
            "{\"return\":{\"version\":\"7.2.0\",\"supported_commands\":["
            "{\"enabled\":true,\"name\":\"guest-get-time\",\"success-response\":true},"
            "{\"enabled\":%s,\"name\":\"guest-exec\",\"success-response\":true},"
            "{\"enabled\":%s,\"name\":\"guest-exec-status\",\"success-response\":true}"
            "]}}",
            exec_on, status_on) < 0)
        abort();
    return s;
}

static void
test_parse_info_both_enabled(void **state)
{
    agent_fixture *f = *state;
    const char *disabled = "untouched";

    f->big = info_reply("true", "true");
    assert_int_equal(vts_agent_parse_info(f->big, exec_cmds, 2, &disabled, &f->err), 0);
    assert_null(disabled);
}

static void
test_parse_info_names_the_first_disabled_command(void **state)
{
    agent_fixture *f = *state;
    const char *disabled = NULL;

    f->big = info_reply("true", "false");
    assert_int_equal(vts_agent_parse_info(f->big, exec_cmds, 2, &disabled, &f->err), 0);
    assert_string_equal(disabled, "guest-exec-status");
    free(f->big);
    f->big = info_reply("false", "true");
    assert_int_equal(vts_agent_parse_info(f->big, exec_cmds, 2, &disabled, &f->err), 0);
    assert_string_equal(disabled, "guest-exec");
}

static void
test_parse_info_missing_or_odd_entries_count_as_disabled(void **state)
{
    agent_fixture *f = *state;
    const char *disabled = NULL;
    static const char *const replies[] = {
        "{\"return\":{\"supported_commands\":[]}}",
        /* "enabled" must be the boolean true, not 1 or "true" */
        "{\"return\":{\"supported_commands\":[{\"name\":\"guest-exec\",\"enabled\":1}]}}",
        "{\"return\":{\"supported_commands\":[{\"name\":\"guest-exec\",\"enabled\":"
        "\"true\"}]}}",
        "{\"return\":{\"supported_commands\":[{\"name\":\"guest-exec\"}]}}",
        "{\"return\":{\"supported_commands\":[1,null,\"guest-exec\",[],{\"name\":7,"
        "\"enabled\":true}]}}",
    };
    size_t i;

    for (i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
        disabled = NULL;
        if (vts_agent_parse_info(replies[i], exec_cmds, 2, &disabled, &f->err) != 0)
            fail_msg("%s: %s", replies[i], f->err.message);
        assert_string_equal(disabled, "guest-exec");
    }
}

static void
test_parse_info_refuses_malformed_replies(void **state)
{
    agent_fixture *f = *state;
    const char *disabled = NULL;
    static const char *const replies[] = {
        NULL,
        "",
        "{",
        "[]",
        "{\"return\":[]}",
        "{\"return\":{}}",
        "{\"return\":{\"supported_commands\":{}}}",
        "{\"return\":{\"supported_commands\":\"guest-exec\"}}",
    };
    size_t i;

    for (i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
        vts_error_clear(&f->err);
        assert_int_equal(
            vts_agent_parse_info(replies[i], exec_cmds, 2, &disabled, &f->err), -1);
        assert_int_equal(f->err.code, VTS_ERR_BAD_REPLY);
    }
    assert_int_equal(
        vts_agent_parse_info("{\"error\":{\"desc\":\"The command guest-info has been "
                             "disabled for this instance\"}}",
                             exec_cmds, 2, &disabled, &f->err),
        -1);
    assert_int_equal(f->err.code, VTS_ERR_AGENT_ERROR);
}

static void
test_build_exec_runs_the_path_with_its_arguments_and_no_shell(void **state)
{
    agent_fixture *f = *state;
    static const char *const argv[] = {"-u", "-s", "@1700000000.123456789"};
    char *cmd = vts_agent_build_exec("/bin/date", argv, 3, &f->err);

    assert_non_null(cmd);
    assert_string_equal(
        cmd, "{\"execute\":\"guest-exec\",\"arguments\":{\"path\":\"/bin/date\","
             "\"arg\":[\"-u\",\"-s\",\"@1700000000.123456789\"],"
             "\"capture-output\":true}}");
    free(cmd);
    cmd = vts_agent_build_exec("/bin/\"x\"", argv, VTS_AGENT_EXEC_MAX_ARGS + 1, &f->err);
    assert_null(cmd);
    assert_int_equal(f->err.code, VTS_ERR_INTERNAL);
}

static void
test_parse_exec_takes_the_pid(void **state)
{
    agent_fixture *f = *state;
    int64_t pid = 0;

    assert_int_equal(vts_agent_parse_exec("{\"return\":{\"pid\":1234}}", &pid, &f->err),
                     0);
    assert_true(pid == 1234);
}

static void
test_parse_exec_refuses_malformed_replies(void **state)
{
    agent_fixture *f = *state;
    static const char *const replies[] = {
        NULL,
        "x",
        "{\"return\":{}}",
        "{\"return\":1234}",
        "{\"return\":{\"pid\":0}}",
        "{\"return\":{\"pid\":-5}}",
        "{\"return\":{\"pid\":\"12\"}}",
        "{\"return\":{\"pid\":1.5}}",
        "{\"return\":{\"pid\":2147483648}}",
        "{\"return\":{\"pid\":18446744073709551615}}",
    };
    int64_t pid = 77;
    size_t i;

    for (i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
        vts_error_clear(&f->err);
        if (vts_agent_parse_exec(replies[i], &pid, &f->err) != -1)
            fail_msg("accepted %s", replies[i]);
        assert_int_equal(f->err.code, VTS_ERR_BAD_REPLY);
        assert_true(pid == 77);
    }
}

static void
test_build_exec_status_names_the_pid(void **state)
{
    agent_fixture *f = *state;
    char *cmd = vts_agent_build_exec_status(1234, &f->err);

    assert_non_null(cmd);
    assert_string_equal(
        cmd, "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":1234}}");
    free(cmd);
    assert_null(vts_agent_build_exec_status(0, &f->err));
    assert_null(vts_agent_build_exec_status((int64_t)INT32_MAX + 1, &f->err));
}

static void
test_parse_exec_status_running_and_exited(void **state)
{
    agent_fixture *f = *state;
    vts_agent_exec_status st;

    assert_int_equal(
        vts_agent_parse_exec_status("{\"return\":{\"exited\":false}}", &st, &f->err), 0);
    assert_false(st.exited);
    /* base64 of "date: invalid date '@1.5'\n" */
    assert_int_equal(vts_agent_parse_exec_status(
                         "{\"return\":{\"exited\":true,\"exitcode\":1,\"err-data\":"
                         "\"ZGF0ZTogaW52YWxpZCBkYXRlICdAMS41Jwo=\"}}",
                         &st, &f->err),
                     0);
    assert_true(st.exited);
    assert_true(st.has_exitcode);
    assert_int_equal(st.exitcode, 1);
    assert_false(st.has_signal);
    assert_string_equal(st.err_data, "date: invalid date '@1.5'\n");
    assert_int_equal(vts_agent_parse_exec_status(
                         "{\"return\":{\"exited\":true,\"signal\":9}}", &st, &f->err),
                     0);
    assert_true(st.has_signal);
    assert_int_equal(st.signal, 9);
    assert_string_equal(st.err_data, "");
}

static void
test_parse_exec_status_err_data_is_bounded_and_never_garbage(void **state)
{
    agent_fixture *f = *state;
    vts_agent_exec_status st;
    size_t i, n = 4096;
    char *reply = malloc(n + 100);

    assert_non_null(reply);
    f->big = reply;
    i = (size_t)sprintf(reply,
                        "{\"return\":{\"exited\":true,\"exitcode\":1,\"err-data\":\"");
    for (; i < n; i++)
        reply[i] = 'Q';
    strcpy(reply + n, "\"}}");
    assert_int_equal(vts_agent_parse_exec_status(reply, &st, &f->err), 0);
    assert_int_equal(strlen(st.err_data), VTS_AGENT_EXEC_ERR_MAX - 1);
    /* Not base64: no message rather than garbage. A NUL ends it. */
    assert_int_equal(
        vts_agent_parse_exec_status(
            "{\"return\":{\"exited\":true,\"exitcode\":1,\"err-data\":\"*?\"}}", &st,
            &f->err),
        0);
    assert_string_equal(st.err_data, "");
    assert_int_equal(
        vts_agent_parse_exec_status(
            "{\"return\":{\"exited\":true,\"exitcode\":1,\"err-data\":\"YQBi\"}}", &st,
            &f->err),
        0);
    assert_string_equal(st.err_data, "a");
}

static void
test_parse_exec_status_refuses_malformed_replies(void **state)
{
    agent_fixture *f = *state;
    vts_agent_exec_status st;
    static const char *const replies[] = {
        NULL,
        "{\"return\":{}}",
        "{\"return\":{\"exited\":1}}",
        "{\"return\":{\"exited\":\"true\"}}",
        "{\"return\":{\"exited\":true}}",
        "{\"return\":{\"exited\":true,\"exitcode\":\"0\"}}",
        "{\"return\":{\"exited\":true,\"exitcode\":99999999999}}",
        "{\"return\":{\"exited\":true,\"signal\":-1}}",
        "{\"return\":[true]}",
    };
    size_t i;

    memset(&st, 0x5a, sizeof(st));
    for (i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
        vts_error_clear(&f->err);
        if (vts_agent_parse_exec_status(replies[i], &st, &f->err) != -1)
            fail_msg("accepted %s", replies[i]);
        assert_int_equal(f->err.code, VTS_ERR_BAD_REPLY);
    }
    assert_int_equal(st.exitcode, 0x5a5a5a5a);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_format_set_time_writes_the_qga_command),
        T(test_format_set_time_largest_time_fits_the_max_buffer),
        T(test_format_set_time_refuses_zero_and_negative_times),
        T(test_format_set_time_refuses_a_buffer_one_byte_short),
        T(test_parse_time_accepts_a_good_reply),
        T(test_parse_time_accepts_whitespace_around_tokens),
        T(test_parse_time_ignores_extra_members),
        T(test_parse_time_accepts_smallest_and_largest_positive_int64),
        T(test_parse_time_error_with_desc_is_agent_error_quoting_desc),
        T(test_parse_time_error_without_desc_is_agent_error),
        T(test_parse_time_error_wins_over_return),
        T(test_parse_time_huge_error_desc_is_truncated),
        T(test_parse_time_refuses_null_and_empty_replies),
        T(test_parse_time_refuses_text_that_is_not_json),
        T(test_parse_time_refuses_truncated_json),
        T(test_parse_time_refuses_json_that_is_not_an_object),
        T(test_parse_time_refuses_object_without_return),
        T(test_parse_time_refuses_return_that_is_not_an_integer),
        T(test_parse_time_refuses_zero_and_negative_times),
        T(test_parse_time_refuses_integers_beyond_int64),
        T(test_parse_time_refuses_negative_integers_beyond_int64),
        T(test_parse_time_huge_reply_is_parsed_and_quoted_briefly),
        T(test_parse_time_deep_nesting_is_refused_without_crashing),
        T(test_parse_empty_accepts_empty_return),
        T(test_parse_empty_refuses_bad_replies),
        T(test_parse_empty_error_message_carries_the_agent_desc),
        T(test_parse_info_both_enabled),
        T(test_parse_info_names_the_first_disabled_command),
        T(test_parse_info_missing_or_odd_entries_count_as_disabled),
        T(test_parse_info_refuses_malformed_replies),
        T(test_build_exec_runs_the_path_with_its_arguments_and_no_shell),
        T(test_parse_exec_takes_the_pid),
        T(test_parse_exec_refuses_malformed_replies),
        T(test_build_exec_status_names_the_pid),
        T(test_parse_exec_status_running_and_exited),
        T(test_parse_exec_status_err_data_is_bounded_and_never_garbage),
        T(test_parse_exec_status_refuses_malformed_replies),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
