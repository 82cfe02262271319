/* stats.h: order statistics and the benchmark report's number formats. */
#ifndef VTS_BENCH_STATS_H
#define VTS_BENCH_STATS_H

#include <stddef.h>

/* The longest string the formatting functions write, '\0' included. */
#define VTS_STATS_FMT_LEN 64

/* Sorts v[0..n-1] into ascending order, in place. */
void vts_stats_sort(double *v, size_t n);

/* The median of sorted[0..n-1]: the middle value, or the mean of the two
 * middle ones when n is even. NAN when n is 0. */
double vts_stats_median(const double *sorted, size_t n);

/* The p-th percentile (0 < p <= 100) of sorted[0..n-1] by nearest rank: the
 * ceil(p/100 n)-th smallest value (at least the first). NAN when n is 0. */
double vts_stats_percentile(const double *sorted, size_t n, double p);

/* The smallest, largest, sum and mean of v[0..n-1] (any order). NAN when n
 * is 0, except the sum (0). */
double vts_stats_min(const double *v, size_t n);
double vts_stats_max(const double *v, size_t n);
double vts_stats_sum(const double *v, size_t n);
double vts_stats_mean(const double *v, size_t n);

/* Writes v, a time in ms, into buf (VTS_STATS_FMT_LEN bytes) with the
 * digits the report gives: 3 decimals below 1, 2 below 10, 1 below 100,
 * none from 100; negative values as "-" and their magnitude. "n/a" for
 * NAN. Returns buf. */
char *vts_stats_fms(char *buf, double v);

/* vts_stats_fms with a sign: "+" before a value >= 0. "n/a" for NAN. */
char *vts_stats_fsms(char *buf, double v);

/* Writes v / base into buf (VTS_STATS_FMT_LEN bytes): 1 decimal below 10,
 * none from 10; "n/a" when base <= 0 or either is NAN. Returns buf. */
char *vts_stats_ratio(char *buf, double v, double base);

/* Writes v as awk prints a number: an integral value as an integer, any
 * other with "%.6g"; "n/a" for NAN. Returns buf. */
char *vts_stats_fawk(char *buf, double v);

#endif
