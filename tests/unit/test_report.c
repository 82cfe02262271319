/* test_report.c: unit tests for lib/vts_report.c, sync results as text
 * lines and JSON objects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "vts_report.h"

#define CANARY '#'

typedef struct {
    vts_sync_result res;
    char line[1024];
    char *json;
    json_object *root;
} report_fixture;

static int
setup(void **state)
{
    report_fixture *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    memset(f->line, CANARY, sizeof(f->line));
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    report_fixture *f = *state;

    json_object_put(f->root);
    free(f->json);
    free(f);
    return 0;
}

static void
result_stepped(vts_sync_result *res)
{
    memset(res, 0, sizeof(*res));
    res->action = VTS_ACTION_STEPPED;
    res->have_offset = true;
    res->offset_ns = -5003000000LL;
    res->rtt_ns = 2700000;
    res->have_residual = true;
    res->residual_ns = 200000;
    res->steps = 1;
    res->round_trips = 3;
}

static void
result_error(vts_sync_result *res, vts_err_code code, const char *message)
{
    memset(res, 0, sizeof(*res));
    res->action = VTS_ACTION_ERROR;
    vts_error_set(&res->err, code, "%s", message);
}

/* True when @s has a byte below 0x20 or DEL. */
static bool
has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

/* --- vts_report_escape ------------------------------------------------ */

static void
test_report_escape_control_characters_and_backslash(void **state)
{
    static const struct {
        const char *in;
        const char *want;
    } cases[] = {
        {"web-1", "web-1"},
        {"a\nb", "a\\x0ab"},
        {"back\\slash", "back\\x5cslash"},
        {"\t\r\x1b[31mred\x7f", "\\x09\\x0d\\x1b[31mred\\x7f"},
        {"\x01\x1f ", "\\x01\\x1f "},
        {"quote\"'<>&", "quote\"'<>&"},
        {"caf\xc3\xa9 \xe6\x97\xa5", "caf\xc3\xa9 \xe6\x97\xa5"},
        {"", ""},
    };
    char buf[64];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vts_report_escape(buf, sizeof(buf), cases[i].in);
        assert_string_equal(buf, cases[i].want);
    }
    vts_report_escape(buf, sizeof(buf), NULL);
    assert_string_equal(buf, "");
}

static void
test_report_escape_never_splits_an_escape_when_truncating(void **state)
{
    char buf[16];

    (void)state;
    memset(buf, CANARY, sizeof(buf));
    vts_report_escape(buf, 5, "\n");
    assert_string_equal(buf, "\\x0a");
    memset(buf, CANARY, sizeof(buf));
    vts_report_escape(buf, 4, "\n");
    assert_string_equal(buf, "");
    assert_int_equal(buf[4], CANARY);
    memset(buf, CANARY, sizeof(buf));
    vts_report_escape(buf, 6, "ab\nc");
    assert_string_equal(buf, "ab");
    assert_int_equal(buf[6], CANARY);
    vts_report_escape(buf, 7, "ab\nc");
    assert_string_equal(buf, "ab\\x0a");
}

static void
test_report_escape_truncates_plain_text_and_respects_len(void **state)
{
    char buf[16];

    (void)state;
    memset(buf, CANARY, sizeof(buf));
    vts_report_escape(buf, 3, "abcdef");
    assert_string_equal(buf, "ab");
    assert_int_equal(buf[3], CANARY);
    memset(buf, CANARY, sizeof(buf));
    vts_report_escape(buf, 1, "abcdef");
    assert_string_equal(buf, "");
    assert_int_equal(buf[1], CANARY);
    memset(buf, CANARY, sizeof(buf));
    vts_report_escape(buf, 0, "abcdef");
    assert_int_equal(buf[0], CANARY);
}

/* --- vts_report_text -------------------------------------------------- */

static void
test_report_text_stepped_line(void **state)
{
    report_fixture *f = *state;

    result_stepped(&f->res);
    vts_report_text(f->line, sizeof(f->line), "web-1", &f->res);
    assert_string_equal(
        f->line, "web-1: offset -5.003 s -> stepped -> residual +0.20 ms (rtt 2.70 ms)");
}

static void
test_report_text_checked_line(void **state)
{
    report_fixture *f = *state;

    f->res.action = VTS_ACTION_CHECKED;
    f->res.have_offset = true;
    f->res.offset_ns = 12400000;
    f->res.rtt_ns = 500000;
    vts_report_text(f->line, sizeof(f->line), "db", &f->res);
    assert_string_equal(f->line,
                        "db: offset +12.4 ms -> checked, not changed (rtt 0.50 ms)");
}

static void
test_report_text_within_threshold_line(void **state)
{
    report_fixture *f = *state;

    f->res.action = VTS_ACTION_NONE;
    f->res.have_offset = true;
    f->res.offset_ns = -1230000;
    f->res.rtt_ns = 1000000;
    vts_report_text(f->line, sizeof(f->line), "db", &f->res);
    assert_string_equal(
        f->line, "db: offset -1.23 ms -> within threshold, not stepped (rtt 1.00 ms)");
}

static void
test_report_text_error_after_measuring_shows_offset(void **state)
{
    report_fixture *f = *state;

    result_stepped(&f->res);
    f->res.action = VTS_ACTION_ERROR;
    f->res.steps = 2;
    f->res.residual_ns = -5003000000LL;
    vts_error_set(&f->res.err, VTS_ERR_VERIFY_FAILED, "still off");
    vts_report_text(f->line, sizeof(f->line), "web-1", &f->res);
    assert_string_equal(f->line, "web-1: offset -5.003 s -> still off");
}

static void
test_report_text_error_before_measuring_is_name_and_message(void **state)
{
    report_fixture *f = *state;

    result_error(&f->res, VTS_ERR_AGENT_TIMEOUT, "guest agent did not answer within 5 s");
    vts_report_text(f->line, sizeof(f->line), "web-1", &f->res);
    assert_string_equal(f->line, "web-1: guest agent did not answer within 5 s");
}

static void
test_report_text_escapes_the_domain_name(void **state)
{
    report_fixture *f = *state;

    result_stepped(&f->res);
    vts_report_text(f->line, sizeof(f->line), "evil\nweb-2: offset +0.00 ms\\", &f->res);
    assert_false(has_control(f->line));
    assert_non_null(
        strstr(f->line, "evil\\x0aweb-2: offset +0.00 ms\\x5c: offset -5.003 s"));
}

/* An error message can carry text from the guest (the agent's "desc",
 * json-c decodes "\n" in it to a newline): it must not forge a second log
 * line either. */
static void
test_report_text_escapes_control_characters_in_error_message(void **state)
{
    report_fixture *f = *state;

    result_error(
        &f->res, VTS_ERR_AGENT_ERROR,
        "the guest agent reported: boom\n"
        "web-2: offset +0.00 ms -> stepped -> residual +0.00 ms (rtt 0.10 ms)\x1b[2K");
    vts_report_text(f->line, sizeof(f->line), "web-1", &f->res);
    assert_false(has_control(f->line));
    assert_non_null(strstr(f->line, "web-1: the guest agent reported: boom"));
}

static void
test_report_text_truncates_safely_in_small_buffers(void **state)
{
    report_fixture *f = *state;
    char full[256];
    size_t len;

    result_stepped(&f->res);
    vts_report_text(full, sizeof(full), "web-1", &f->res);
    for (len = 0; len <= strlen(full) + 1; len++) {
        memset(f->line, CANARY, sizeof(f->line));
        vts_report_text(len ? f->line : NULL, len, "web-1", &f->res);
        if (len) {
            /* The first len - 1 bytes of the full line, terminated. */
            assert_int_equal(strlen(f->line),
                             len - 1 < strlen(full) ? len - 1 : strlen(full));
            assert_memory_equal(f->line, full, strlen(f->line));
        }
        assert_int_equal(f->line[len], CANARY);
    }
}

static void
test_report_text_long_domain_name_does_not_overflow(void **state)
{
    report_fixture *f = *state;
    char name[2000];

    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    result_stepped(&f->res);
    vts_report_text(f->line, sizeof(f->line) - 1, name, &f->res);
    assert_true(strlen(f->line) < sizeof(f->line) - 1);
    assert_int_equal(f->line[sizeof(f->line) - 1], CANARY);
    assert_true(strncmp(f->line, name, 200) == 0);
    /* Escapes make the name four times longer: still bounded. */
    memset(name, '\n', sizeof(name) - 1);
    vts_report_text(f->line, sizeof(f->line) - 1, name, &f->res);
    assert_false(has_control(f->line));
    assert_int_equal(f->line[sizeof(f->line) - 1], CANARY);
}

/* --- vts_report_json -------------------------------------------------- */

/* Produce the JSON of @res, check it is one line, parse it back. */
static json_object *
json_of(report_fixture *f, const char *domain)
{
    f->json = vts_report_json(domain, &f->res);
    assert_non_null(f->json);
    assert_null(strchr(f->json, '\n'));
    f->root = json_tokener_parse(f->json);
    if (!f->root)
        fail_msg("not JSON: %s", f->json);
    assert_true(json_object_is_type(f->root, json_type_object));
    return f->root;
}

static json_object *
member(json_object *obj, const char *key)
{
    json_object *v = NULL;

    if (!json_object_object_get_ex(obj, key, &v))
        fail_msg("no \"%s\"", key);
    return v;
}

static void
json_expect_int(json_object *obj, const char *key, int64_t want)
{
    json_object *v = member(obj, key);

    if (!json_object_is_type(v, json_type_int))
        fail_msg("\"%s\" is %s, not an integer", key,
                 json_type_to_name(json_object_get_type(v)));
    if (json_object_get_int64(v) != want)
        fail_msg("\"%s\" is %lld, want %lld", key, (long long)json_object_get_int64(v),
                 (long long)want);
}

static void
json_expect_null(json_object *obj, const char *key)
{
    json_object *v = member(obj, key);

    if (v != NULL)
        fail_msg("\"%s\" is %s, want null", key, json_object_to_json_string(v));
}

static void
json_expect_string(json_object *obj, const char *key, const char *want)
{
    json_object *v = member(obj, key);

    assert_true(json_object_is_type(v, json_type_string));
    assert_string_equal(json_object_get_string(v), want);
}

static void
test_report_json_stepped_has_every_key(void **state)
{
    report_fixture *f = *state;
    json_object *o;

    result_stepped(&f->res);
    o = json_of(f, "web-1");
    assert_int_equal(json_object_object_length(o), 9);
    json_expect_string(o, "domain", "web-1");
    json_expect_string(o, "action", "stepped");
    json_expect_int(o, "offset_ns", -5003000000LL);
    json_expect_int(o, "residual_ns", 200000);
    json_expect_int(o, "rtt_ns", 2700000);
    json_expect_int(o, "steps", 1);
    json_expect_int(o, "round_trips", 3);
    json_expect_string(o, "via", "guest-set-time");
    json_expect_null(o, "error");
}

static void
test_report_stepped_via_guest_exec_says_so(void **state)
{
    report_fixture *f = *state;
    char line[1024];
    json_object *o;

    result_stepped(&f->res);
    f->res.via_exec = true;
    vts_report_text(line, sizeof(line), "web-1", &f->res);
    assert_string_equal(line,
                        "web-1: offset -5.003 s -> stepped via guest-exec -> residual "
                        "+0.20 ms (rtt 2.70 ms)");
    o = json_of(f, "web-1");
    json_expect_string(o, "via", "guest-exec");
    json_expect_string(o, "action", "stepped");
}

static void
test_report_json_checked_and_none_have_null_residual(void **state)
{
    report_fixture *f = *state;
    json_object *o;

    f->res.action = VTS_ACTION_CHECKED;
    f->res.have_offset = true;
    f->res.offset_ns = 12400000;
    f->res.rtt_ns = 500000;
    f->res.residual_ns = 777; /* not valid: have_residual is false */
    o = json_of(f, "db");
    json_expect_string(o, "action", "checked");
    json_expect_int(o, "offset_ns", 12400000);
    json_expect_int(o, "rtt_ns", 500000);
    json_expect_null(o, "residual_ns");
    json_expect_int(o, "steps", 0);
    json_expect_null(o, "error");

    json_object_put(f->root);
    free(f->json);
    f->res.action = VTS_ACTION_NONE;
    o = json_of(f, "db");
    json_expect_string(o, "action", "none");
    json_expect_null(o, "residual_ns");
}

static void
test_report_json_error_without_offset_has_nulls_and_error_object(void **state)
{
    report_fixture *f = *state;
    json_object *o, *e;

    result_error(&f->res, VTS_ERR_AGENT_TIMEOUT, "guest agent did not answer within 5 s");
    f->res.offset_ns = 123; /* not valid: have_offset is false */
    f->res.rtt_ns = 456;
    o = json_of(f, "web-1");
    assert_int_equal(json_object_object_length(o), 9);
    json_expect_string(o, "action", "error");
    json_expect_null(o, "via");
    json_expect_null(o, "offset_ns");
    json_expect_null(o, "rtt_ns");
    json_expect_null(o, "residual_ns");
    json_expect_int(o, "steps", 0);
    e = member(o, "error");
    assert_true(json_object_is_type(e, json_type_object));
    assert_int_equal(json_object_object_length(e), 2);
    json_expect_string(e, "code", "agent-timeout");
    json_expect_string(e, "message", "guest agent did not answer within 5 s");
}

static void
test_report_json_verify_failure_keeps_numbers_and_error(void **state)
{
    report_fixture *f = *state;
    json_object *o, *e;

    result_stepped(&f->res);
    f->res.action = VTS_ACTION_ERROR;
    f->res.steps = 2;
    f->res.residual_ns = INT64_MIN;
    f->res.offset_ns = INT64_MAX;
    vts_error_set(&f->res.err, VTS_ERR_VERIFY_FAILED, "still off");
    o = json_of(f, "web-1");
    json_expect_int(o, "offset_ns", INT64_MAX);
    json_expect_int(o, "residual_ns", INT64_MIN);
    json_expect_int(o, "steps", 2);
    e = member(o, "error");
    json_expect_string(e, "code", "verify-failed");
    json_expect_string(e, "message", "still off");
}

static void
test_report_json_domain_name_round_trips(void **state)
{
    static const char name[] = "we\"b\n-1\\ \t/caf\xc3\xa9 \xe6\x97\xa5\x01\x7f</script>";
    report_fixture *f = *state;
    json_object *o;

    result_stepped(&f->res);
    o = json_of(f, name);
    json_expect_string(o, "domain", name);
    /* Plain output: '/' is not escaped. */
    assert_non_null(strstr(f->json, "</script>"));
}

static void
test_report_json_error_message_round_trips(void **state)
{
    static const char msg[] = "the guest agent reported: \"bad\"\nline\\two\x1b";
    report_fixture *f = *state;
    json_object *o;

    result_error(&f->res, VTS_ERR_AGENT_ERROR, msg);
    o = json_of(f, "web-1");
    json_expect_string(member(o, "error"), "message", msg);
    json_expect_string(member(o, "error"), "code", "agent-error");
}

static void
test_report_json_null_domain_is_empty_string(void **state)
{
    report_fixture *f = *state;

    result_stepped(&f->res);
    json_expect_string(json_of(f, NULL), "domain", "");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_report_escape_control_characters_and_backslash),
        T(test_report_escape_never_splits_an_escape_when_truncating),
        T(test_report_escape_truncates_plain_text_and_respects_len),
        T(test_report_text_stepped_line),
        T(test_report_text_checked_line),
        T(test_report_text_within_threshold_line),
        T(test_report_text_error_after_measuring_shows_offset),
        T(test_report_text_error_before_measuring_is_name_and_message),
        T(test_report_text_escapes_the_domain_name),
        T(test_report_text_escapes_control_characters_in_error_message),
        T(test_report_text_truncates_safely_in_small_buffers),
        T(test_report_text_long_domain_name_does_not_overflow),
        T(test_report_json_stepped_has_every_key),
        T(test_report_json_checked_and_none_have_null_residual),
        T(test_report_json_error_without_offset_has_nulls_and_error_object),
        T(test_report_json_verify_failure_keeps_numbers_and_error),
        T(test_report_stepped_via_guest_exec_says_so),
        T(test_report_json_domain_name_round_trips),
        T(test_report_json_error_message_round_trips),
        T(test_report_json_null_domain_is_empty_string),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
