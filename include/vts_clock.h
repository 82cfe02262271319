/* vts_clock.h: time units, the monotonic clock every deadline and timeout
 * is measured on (never the wall clock, which the product itself steps in
 * guests and NTP steps on the host), and offsets written for people. */
#ifndef VTS_CLOCK_H
#define VTS_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define VTS_NS_PER_SEC 1000000000LL
#define VTS_NS_PER_MS 1000000LL

/* CLOCK_MONOTONIC in nanoseconds. */
static inline int64_t
vts_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* CLOCK_MONOTONIC in milliseconds. */
static inline int64_t
vts_mono_ms(void)
{
    return vts_mono_ns() / 1000000;
}

/* Format a clock offset for people: "+5.003 s" from 1 s up, "-12.4 ms" from
 * 10 ms up, "+0.21 ms" below. Truncates to @len; NUL-terminates when
 * @len > 0. */
void vts_clock_format_offset(char *buf, size_t len, int64_t ns);

#endif /* VTS_CLOCK_H */
