/* vts_clock.c: clock helpers that are more than one line: offsets written
 * for people. */
#include "vts_clock.h"

#include <stdio.h>

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
