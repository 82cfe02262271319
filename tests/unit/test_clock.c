/* test_clock.c: unit tests for lib/vts_clock.c, offsets written for
 * people and durations as the configuration writes them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vts_clock.h"

#define CANARY '#'

/* --- vts_clock_format_offset ------------------------------------------------ */

static void
test_clock_offset_units_at_the_boundaries(void **state)
{
    static const struct {
        int64_t ns;
        const char *want;
    } cases[] = {
        {0, "+0.00 ms"},
        {210000, "+0.21 ms"},
        {-210000, "-0.21 ms"},
        {9990000, "+9.99 ms"},
        {-9990000, "-9.99 ms"},
        {10000000, "+10.0 ms"},
        {-10000000, "-10.0 ms"},
        {12400000, "+12.4 ms"},
        {-12400000, "-12.4 ms"},
        {999900000, "+999.9 ms"},
        {1000000000, "+1.000 s"},
        {-1000000000, "-1.000 s"},
        {5003000000LL, "+5.003 s"},
        {-5003000000LL, "-5.003 s"},
        {86400LL * 1000000000LL, "+86400.000 s"},
        {INT64_MAX, "+9223372036.855 s"},
    };
    char buf[64];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vts_clock_format_offset(buf, sizeof(buf), cases[i].ns);
        if (strcmp(buf, cases[i].want) != 0)
            fail_msg("%lld ns: \"%s\", want \"%s\"", (long long)cases[i].ns, buf,
                     cases[i].want);
    }
}

/* The most negative offset must not overflow when its magnitude is taken
 * (-INT64_MIN is undefined behaviour; UBSan reports it). */
static void
test_clock_offset_of_int64_min_is_in_seconds(void **state)
{
    char buf[64];

    (void)state;
    vts_clock_format_offset(buf, sizeof(buf), INT64_MIN);
    assert_string_equal(buf, "-9223372036.855 s");
}

static void
test_clock_offset_truncates_to_small_buffers(void **state)
{
    char buf[16];

    (void)state;
    memset(buf, CANARY, sizeof(buf));
    vts_clock_format_offset(buf, 4, -5003000000LL);
    assert_string_equal(buf, "-5.");
    assert_int_equal(buf[4], CANARY);
    memset(buf, CANARY, sizeof(buf));
    vts_clock_format_offset(buf, 1, 1);
    assert_string_equal(buf, "");
    assert_int_equal(buf[1], CANARY);
    memset(buf, CANARY, sizeof(buf));
    vts_clock_format_offset(buf, 0, 1);
    assert_int_equal(buf[0], CANARY);
}

/* Durations as the configuration writes them: any unit, fractions exact
 * to the nanosecond, nothing strtod would take besides. */
static void
test_clock_parse_duration_units_and_fractions(void **state)
{
    int64_t v = -1;

    (void)state;
    assert_int_equal(vts_clock_parse_duration("5ms", &v), 0);
    assert_true(v == 5 * VTS_NS_PER_MS);
    assert_int_equal(vts_clock_parse_duration("2", &v), 0);
    assert_true(v == 2 * VTS_NS_PER_SEC);
    assert_int_equal(vts_clock_parse_duration("1.5 min", &v), 0);
    assert_true(v == 90 * VTS_NS_PER_SEC);
    assert_int_equal(vts_clock_parse_duration("0.000000001", &v), 0);
    assert_true(v == 1);
    assert_int_equal(vts_clock_parse_duration("1.5ns", &v), 0);
    assert_true(v == 2); /* rounded to the nearest ns */
    assert_int_equal(vts_clock_parse_duration("250us", &v), 0);
    assert_true(v == 250000);
    assert_int_equal(vts_clock_parse_duration("24h", &v), 0);
    assert_true(v == 24 * VTS_NS_PER_HOUR);
    v = 7;
    assert_int_equal(vts_clock_parse_duration("", &v), -1);
    assert_int_equal(vts_clock_parse_duration("-1s", &v), -1);
    assert_int_equal(vts_clock_parse_duration("inf", &v), -1);
    assert_int_equal(vts_clock_parse_duration("0x10", &v), -1);
    assert_int_equal(vts_clock_parse_duration("1e3", &v), -1);
    assert_int_equal(vts_clock_parse_duration("5 days", &v), -1);
    assert_int_equal(vts_clock_parse_duration("3000000h", &v), -2);
    assert_int_equal(vts_clock_parse_duration("99999999999999999999", &v), -2);
    assert_true(v == 7); /* untouched on failure */
}

/* A duration is written in the largest unit that holds it exactly, so it
 * reads back to the same value. */
static void
test_clock_format_duration_largest_exact_unit(void **state)
{
    char buf[32];
    int64_t v = 0;
    static const int64_t values[] = {0,
                                     1,
                                     1500,
                                     5 * VTS_NS_PER_MS,
                                     1500 * VTS_NS_PER_MS,
                                     60 * VTS_NS_PER_SEC,
                                     10 * VTS_NS_PER_MIN,
                                     VTS_NS_PER_HOUR};
    static const char *const texts[] = {"0",      "1ns",  "1500ns", "5ms",
                                        "1500ms", "1min", "10min",  "1h"};

    (void)state;
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        vts_clock_format_duration(buf, sizeof(buf), values[i]);
        assert_string_equal(buf, texts[i]);
        assert_int_equal(vts_clock_parse_duration(buf, &v), 0);
        assert_true(v == values[i]);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clock_offset_units_at_the_boundaries),
        cmocka_unit_test(test_clock_offset_of_int64_min_is_in_seconds),
        cmocka_unit_test(test_clock_offset_truncates_to_small_buffers),
        cmocka_unit_test(test_clock_parse_duration_units_and_fractions),
        cmocka_unit_test(test_clock_format_duration_largest_exact_unit),
    };

    return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
