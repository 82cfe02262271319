/* vts_fallback.h: the guest-exec fallback, and the names of the fallbacks.
 *
 * Optional, off by default: when the agent refuses guest-set-time as
 * unsupported (no /sbin/hwclock in the guest), step with the guest's own
 * GNU date through guest-exec ("date -u -s 'now +S.N seconds'", no shell),
 * if the agent allows guest-exec: date moves the clock relative to its own
 * reading, so starting the process does not count and the step is as
 * precise as the measurement. vts_sync.c verifies it as any step, with at
 * most two steps. The steps themselves are internal (vts_fallback_priv.h).
 */
#ifndef VTS_FALLBACK_H
#define VTS_FALLBACK_H

/* What to do when the guest agent refuses guest-set-time as unsupported. */
typedef enum {
    VTS_FALLBACK_NONE,       /* fail with set-time-unsupported */
    VTS_FALLBACK_GUEST_EXEC, /* step with the guest's date via guest-exec */
} vts_fallback;

/* The name of @fallback as used in the configuration and on the command
 * line: "none", "guest-exec". */
const char *vts_fallback_name(vts_fallback fallback);

/* Parse a fallback name ("none" or "guest-exec") into @out. Returns 0, or
 * -1 for anything else (@out untouched). */
int vts_fallback_parse(const char *name, vts_fallback *out);

#endif /* VTS_FALLBACK_H */
