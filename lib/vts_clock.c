/* vts_clock.c: clock helpers that are more than one line: offsets written
 * for people, and durations as the configuration and the command line
 * write them. */
#include "vts_clock.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Fractional digits kept in a duration: below a nanosecond for seconds. */
#define VTS_CLOCK_FRAC_DIGITS 9

static const struct {
    const char *name;
    int64_t ns;
} vts_clock_units[] = {
    {"ns", 1},
    {"us", VTS_NS_PER_US},
    {"ms", VTS_NS_PER_MS},
    {"s", VTS_NS_PER_SEC},
    {"min", VTS_NS_PER_MIN},
    {"h", VTS_NS_PER_HOUR},
};

void
vts_clock_format_offset(char *buf, size_t len, int64_t ns)
{
    uint64_t mag = ns < 0 ? -(uint64_t)ns : (uint64_t)ns;

    if (mag >= (uint64_t)VTS_NS_PER_SEC)
        snprintf(buf, len, "%+.3f s", (double)ns / VTS_NS_PER_SEC);
    else if (mag >= (uint64_t)(10 * VTS_NS_PER_MS))
        snprintf(buf, len, "%+.1f ms", (double)ns / VTS_NS_PER_MS);
    else
        snprintf(buf, len, "%+.2f ms", (double)ns / VTS_NS_PER_MS);
}

void
vts_clock_format_duration(char *buf, size_t len, int64_t ns)
{
    size_t i = sizeof(vts_clock_units) / sizeof(vts_clock_units[0]);

    if (ns == 0) {
        snprintf(buf, len, "0");
        return;
    }
    while (--i > 0 && ns % vts_clock_units[i].ns != 0)
        ;
    snprintf(buf, len, "%lld%s", (long long)(ns / vts_clock_units[i].ns),
             vts_clock_units[i].name);
}

int
vts_clock_parse_duration(const char *s, int64_t *out)
{
    const char *p = s;
    int64_t whole = 0, frac = 0, pow10 = 1, unit = VTS_NS_PER_SEC, ns, part;
    bool digits = false, overflow = false;
    size_t i;
    int fdigits = 0;

    for (; *p >= '0' && *p <= '9'; p++) {
        digits = true;
        if (whole > (INT64_MAX - 9) / 10)
            overflow = true;
        else
            whole = whole * 10 + (*p - '0');
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++) {
            digits = true;
            if (fdigits < VTS_CLOCK_FRAC_DIGITS) {
                frac = frac * 10 + (*p - '0');
                pow10 *= 10;
                fdigits++;
            }
        }
    }
    if (!digits)
        return -1;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p) {
        for (i = 0; i < sizeof(vts_clock_units) / sizeof(vts_clock_units[0]); i++)
            if (strcmp(p, vts_clock_units[i].name) == 0)
                break;
        if (i == sizeof(vts_clock_units) / sizeof(vts_clock_units[0]))
            return -1;
        unit = vts_clock_units[i].ns;
    }
    if (overflow || whole > INT64_MAX / unit)
        return -2;
    ns = whole * unit;
    /* Units from 1 s up are multiples of 10^9, so the division is exact;
     * below that, frac * unit < 10^15 fits and is rounded to the nearest ns. */
    if (unit % pow10 == 0)
        part = frac * (unit / pow10);
    else
        part = (frac * unit + pow10 / 2) / pow10;
    if (ns > INT64_MAX - part)
        return -2;
    *out = ns + part;
    return 0;
}
