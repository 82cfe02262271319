/* vts_clock.h: time units, the monotonic clock every deadline and timeout
 * is measured on (never the wall clock, which the product itself steps in
 * guests and NTP steps on the host), offsets written for people, and
 * durations as the configuration writes them. */
#ifndef VTS_CLOCK_H
#define VTS_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define VTS_NS_PER_SEC 1000000000LL
#define VTS_NS_PER_MS 1000000LL
#define VTS_NS_PER_US 1000LL
#define VTS_NS_PER_MIN (60 * VTS_NS_PER_SEC)
#define VTS_NS_PER_HOUR (3600 * VTS_NS_PER_SEC)

/* CLOCK_MONOTONIC in nanoseconds. */
static inline int64_t
vts_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * VTS_NS_PER_SEC + ts.tv_nsec;
}

/* CLOCK_MONOTONIC in milliseconds. */
static inline int64_t
vts_mono_ms(void)
{
    return vts_mono_ns() / VTS_NS_PER_MS;
}

/* Format a clock offset for people: "+5.003 s" from 1 s up, "-12.4 ms" from
 * 10 ms up, "+0.21 ms" below. Truncates to @len; NUL-terminates when
 * @len > 0. */
void vts_clock_format_offset(char *buf, size_t len, int64_t ns);

/* Write the duration @ns in the largest unit that holds it exactly, as the
 * configuration writes durations: "1h", "10min", "5ms", "0". */
void vts_clock_format_duration(char *buf, size_t len, int64_t ns);

/* Parse a duration as the configuration and the command line take it:
 * digits, optionally '.' and more digits, optional blanks, an optional
 * unit (ns, us, ms, s, min, h; seconds when absent). No sign, exponent,
 * hex or locale: strtod would take "inf", "0x1p3" and a locale's decimal
 * comma. Exact integer arithmetic; fractions below 1 ns are rounded to the
 * nearest. Returns 0 with *@out, -1 when @s is not a duration, -2 when it
 * does not fit in int64_t nanoseconds. */
int vts_clock_parse_duration(const char *s, int64_t *out);

#endif /* VTS_CLOCK_H */
