/* test_stats.c: unit tests for bench/stats.c (the benchmark report's
 * statistics and number formats). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../bench/stats.h"

static void
test_sort_orders_negatives_first(void **state)
{
    double v[] = {3, -1.5, 0, -7, 2};

    (void)state;
    vts_stats_sort(v, 5);
    assert_true(v[0] == -7 && v[1] == -1.5 && v[2] == 0 && v[3] == 2 && v[4] == 3);
}

static void
test_median_odd_is_the_middle_value(void **state)
{
    double v[] = {1, 2, 10};

    (void)state;
    assert_true(vts_stats_median(v, 3) == 2);
    assert_true(vts_stats_median(v, 1) == 1);
}

static void
test_median_even_is_the_mean_of_the_middle_two(void **state)
{
    double v[] = {1, 2, 5, 100};
    double neg[] = {-4, -3};

    (void)state;
    assert_true(vts_stats_median(v, 4) == 3.5);
    assert_true(vts_stats_median(neg, 2) == -3.5);
}

/* p95 by nearest rank is the ceil(0.95 n)-th smallest value: with the
 * values 1..n that is ceil(0.95 n) itself. */
static void
test_p95_is_nearest_rank(void **state)
{
    static const struct {
        size_t n;
        double want;
    } cases[] = {{1, 1}, {19, 19}, {20, 19}, {21, 20}, {100, 95}};
    double v[100];

    (void)state;
    for (size_t i = 0; i < 100; i++)
        v[i] = (double)(i + 1);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double got = vts_stats_percentile(v, cases[i].n, 95);

        if (got != cases[i].want)
            fail_msg("p95 of 1..%zu: %g, not %g", cases[i].n, got, cases[i].want);
    }
    assert_true(vts_stats_percentile(v, 100, 100) == 100);
    assert_true(vts_stats_percentile(v, 100, 50) == 50);
    assert_true(vts_stats_percentile(v, 3, 1) == 1);
}

static void
test_empty_input_has_no_statistics(void **state)
{
    double v[1] = {0};

    (void)state;
    assert_true(isnan(vts_stats_median(v, 0)));
    assert_true(isnan(vts_stats_percentile(v, 0, 95)));
    assert_true(isnan(vts_stats_min(v, 0)));
    assert_true(isnan(vts_stats_max(v, 0)));
    assert_true(isnan(vts_stats_mean(v, 0)));
    assert_true(vts_stats_sum(v, 0) == 0);
}

static void
test_min_max_mean_with_negatives(void **state)
{
    double v[] = {-2, 5, -8, 1};

    (void)state;
    assert_true(vts_stats_min(v, 4) == -8);
    assert_true(vts_stats_max(v, 4) == 5);
    assert_true(vts_stats_sum(v, 4) == -4);
    assert_true(vts_stats_mean(v, 4) == -1);
}

static void
test_fms_digits_at_each_boundary(void **state)
{
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        {0, "0.000"},     {0.999, "0.999"}, {1, "1.00"},       {9.999, "10.00"},
        {9.99, "9.99"},   {10, "10.0"},     {99.9, "99.9"},    {99.96, "100.0"},
        {100, "100"},     {1234.5, "1234"}, {-0.25, "-0.250"}, {-10, "-10.0"},
        {-100.4, "-100"}, {NAN, "n/a"},
    };
    char buf[VTS_STATS_FMT_LEN];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(vts_stats_fms(buf, cases[i].v), cases[i].want);
}

static void
test_fsms_signs_zero_as_positive(void **state)
{
    char buf[VTS_STATS_FMT_LEN];

    (void)state;
    assert_string_equal(vts_stats_fsms(buf, 0), "+0.000");
    assert_string_equal(vts_stats_fsms(buf, 12.34), "+12.3");
    assert_string_equal(vts_stats_fsms(buf, -0.5), "-0.500");
    assert_string_equal(vts_stats_fsms(buf, NAN), "n/a");
}

static void
test_ratio_by_zero_or_negative_base_is_na(void **state)
{
    char buf[VTS_STATS_FMT_LEN];

    (void)state;
    assert_string_equal(vts_stats_ratio(buf, 5, 0), "n/a");
    assert_string_equal(vts_stats_ratio(buf, 5, -1), "n/a");
    assert_string_equal(vts_stats_ratio(buf, NAN, 1), "n/a");
    assert_string_equal(vts_stats_ratio(buf, 5, NAN), "n/a");
    assert_string_equal(vts_stats_ratio(buf, 1, 1), "1.0");
    assert_string_equal(vts_stats_ratio(buf, 9.94, 1), "9.9");
    assert_string_equal(vts_stats_ratio(buf, 10, 1), "10");
    assert_string_equal(vts_stats_ratio(buf, 1234.4, 2), "617");
}

static void
test_fawk_prints_integers_as_integers(void **state)
{
    char buf[VTS_STATS_FMT_LEN];

    (void)state;
    assert_string_equal(vts_stats_fawk(buf, 4), "4");
    assert_string_equal(vts_stats_fawk(buf, -3), "-3");
    assert_string_equal(vts_stats_fawk(buf, 3.5), "3.5");
    assert_string_equal(vts_stats_fawk(buf, 1.0 / 3), "0.333333");
    assert_string_equal(vts_stats_fawk(buf, NAN), "n/a");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sort_orders_negatives_first),
        cmocka_unit_test(test_median_odd_is_the_middle_value),
        cmocka_unit_test(test_median_even_is_the_mean_of_the_middle_two),
        cmocka_unit_test(test_p95_is_nearest_rank),
        cmocka_unit_test(test_empty_input_has_no_statistics),
        cmocka_unit_test(test_min_max_mean_with_negatives),
        cmocka_unit_test(test_fms_digits_at_each_boundary),
        cmocka_unit_test(test_fsms_signs_zero_as_positive),
        cmocka_unit_test(test_ratio_by_zero_or_negative_base_is_na),
        cmocka_unit_test(test_fawk_prints_integers_as_integers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
