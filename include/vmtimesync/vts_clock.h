/* vts_clock.h: the monotonic clock every deadline and timeout is measured
 * on (never the wall clock, which the product itself steps in guests and
 * NTP steps on the host). */
#ifndef VTS_CLOCK_H
#define VTS_CLOCK_H

#include <stdint.h>
#include <time.h>

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

#endif /* VTS_CLOCK_H */
