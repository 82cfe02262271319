/* stats.c: order statistics and the benchmark report's number formats. */
#include "stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int
vts_stats_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

void
vts_stats_sort(double *v, size_t n)
{
    if (n > 1)
        qsort(v, n, sizeof(*v), vts_stats_cmp);
}

double
vts_stats_median(const double *sorted, size_t n)
{
    if (n == 0)
        return NAN;
    if (n % 2)
        return sorted[n / 2];
    return (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

double
vts_stats_percentile(const double *sorted, size_t n, double p)
{
    double rank = p / 100 * (double)n;
    size_t k;

    if (n == 0)
        return NAN;
    k = (size_t)rank;
    if ((double)k < rank)
        k++;
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return sorted[k - 1];
}

double
vts_stats_min(const double *v, size_t n)
{
    double m = NAN;

    for (size_t i = 0; i < n; i++)
        if (i == 0 || v[i] < m)
            m = v[i];
    return m;
}

double
vts_stats_max(const double *v, size_t n)
{
    double m = NAN;

    for (size_t i = 0; i < n; i++)
        if (i == 0 || v[i] > m)
            m = v[i];
    return m;
}

double
vts_stats_sum(const double *v, size_t n)
{
    double s = 0;

    for (size_t i = 0; i < n; i++)
        s += v[i];
    return s;
}

double
vts_stats_mean(const double *v, size_t n)
{
    if (n == 0)
        return NAN;
    return vts_stats_sum(v, n) / (double)n;
}

char *
vts_stats_fms(char *buf, double v)
{
    const char *sign = "";
    int digits = 0;

    if (isnan(v)) {
        snprintf(buf, VTS_STATS_FMT_LEN, "n/a");
        return buf;
    }
    if (v < 0) {
        sign = "-";
        v = -v;
    }
    if (v < 1)
        digits = 3;
    else if (v < 10)
        digits = 2;
    else if (v < 100)
        digits = 1;
    snprintf(buf, VTS_STATS_FMT_LEN, "%s%.*f", sign, digits, v);
    return buf;
}

char *
vts_stats_fsms(char *buf, double v)
{
    if (isnan(v) || v < 0)
        return vts_stats_fms(buf, v);
    buf[0] = '+';
    vts_stats_fms(buf + 1, v);
    return buf;
}

char *
vts_stats_ratio(char *buf, double v, double base)
{
    if (isnan(v) || isnan(base) || base <= 0) {
        snprintf(buf, VTS_STATS_FMT_LEN, "n/a");
        return buf;
    }
    v = v / base;
    snprintf(buf, VTS_STATS_FMT_LEN, "%.*f", v < 10 ? 1 : 0, v);
    return buf;
}

char *
vts_stats_fawk(char *buf, double v)
{
    if (isnan(v))
        snprintf(buf, VTS_STATS_FMT_LEN, "n/a");
    else if (v == (double)(long long)v && fabs(v) < 1e15)
        snprintf(buf, VTS_STATS_FMT_LEN, "%lld", (long long)v);
    else
        snprintf(buf, VTS_STATS_FMT_LEN, "%.6g", v);
    return buf;
}
