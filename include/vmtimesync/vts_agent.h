/* vts_agent.h: the QEMU guest agent's time commands, as JSON text.
 *
 * The hypervisor seam carries JSON strings; this module builds the commands
 * and checks the replies with json-c, so that a malformed or hostile reply
 * becomes a VTS_ERR_BAD_REPLY and never a crash or a wrong clock.
 */
#ifndef VTS_AGENT_H
#define VTS_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "vmtimesync/vts_error.h"

#define VTS_AGENT_CMD_GET_TIME "{\"execute\":\"guest-get-time\"}"

/* Buffer size that always holds a guest-set-time command. */
#define VTS_AGENT_SET_TIME_MAX 96

/* Write the guest-set-time command for @time_ns (nanoseconds since the epoch,
 * must be positive) into @buf of @len bytes. Returns 0, or -1 with @err
 * filled when @time_ns is not positive or @buf is too small. */
int vts_agent_format_set_time(char *buf, size_t len, int64_t time_ns, vts_error *err);

/* Parse the reply to guest-get-time: {"return": <int nanoseconds>}. On
 * success stores the guest's time in @time_ns. A reply that is not JSON, not
 * an object, carries an "error", or whose "return" is not a positive integer
 * gives -1 with VTS_ERR_BAD_REPLY (or VTS_ERR_AGENT_ERROR for "error"). */
int vts_agent_parse_time(const char *reply, int64_t *time_ns, vts_error *err);

/* Parse the reply to a command that returns nothing, such as guest-set-time:
 * {"return": {}}. Same error rules as vts_agent_parse_time. */
int vts_agent_parse_empty(const char *reply, vts_error *err);

#endif /* VTS_AGENT_H */
