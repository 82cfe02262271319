/* vts_agent.h: the QEMU guest agent's commands we use, as JSON text: the
 * time commands, and guest-info, guest-exec and guest-exec-status for the
 * optional fallback that steps a guest with its own date(1).
 *
 * The hypervisor seam carries JSON strings; this module builds the commands
 * and checks the replies with json-c, so that a malformed or hostile reply
 * becomes a VTS_ERR_BAD_REPLY and never a crash or a wrong clock.
 */
#ifndef VTS_AGENT_H
#define VTS_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vts_error.h"

#define VTS_AGENT_CMD_GET_TIME "{\"execute\":\"guest-get-time\"}"
#define VTS_AGENT_CMD_INFO "{\"execute\":\"guest-info\"}"

/* Bytes of a guest-exec'd program's stderr kept for error messages. */
#define VTS_AGENT_EXEC_ERR_MAX 128
/* Arguments vts_agent_build_exec() takes at most. */
#define VTS_AGENT_EXEC_MAX_ARGS 16

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

/* Parse the reply to guest-info and tell whether every command named in
 * @names (@count of them) is listed in its "supported_commands" with
 * "enabled": true. *@disabled is set to the first name that is not (a
 * pointer into @names), or NULL when all are. A command missing from the
 * list counts as not enabled. Same error rules as vts_agent_parse_time;
 * "supported_commands" must be an array (at most 4096 entries are read);
 * entries that are not objects with a string "name" are skipped. */
int vts_agent_parse_info(const char *reply, const char *const *names, size_t count,
                         const char **disabled, vts_error *err);

/* Build the guest-exec command that runs @path with the @argc arguments
 * @argv (no shell; at most VTS_AGENT_EXEC_MAX_ARGS) and captures its output.
 * Returns a string the caller frees with free(), or NULL with @err filled
 * (VTS_ERR_INTERNAL) when out of memory or given too many arguments. */
char *vts_agent_build_exec(const char *path, const char *const *argv, size_t argc,
                           vts_error *err);

/* Parse the reply to guest-exec: {"return": {"pid": N}}. On success stores
 * the guest's process id (1..INT32_MAX) in @pid. Same error rules as
 * vts_agent_parse_time. */
int vts_agent_parse_exec(const char *reply, int64_t *pid, vts_error *err);

/* Build the guest-exec-status command for @pid (1..INT32_MAX). Returns a
 * string the caller frees with free(), or NULL with @err filled. */
char *vts_agent_build_exec_status(int64_t pid, vts_error *err);

/* What guest-exec-status said about a process. */
typedef struct {
    bool exited;
    bool has_exitcode; /* exited normally: exitcode is set */
    int exitcode;
    bool has_signal; /* killed: signal is set */
    int signal;
    /* The start of its stderr ("err-data", base64-decoded), NUL-terminated
     * and cut at VTS_AGENT_EXEC_ERR_MAX - 1 bytes or at a NUL byte; "" when
     * absent or not valid base64. Guest data: escape it before printing. */
    char err_data[VTS_AGENT_EXEC_ERR_MAX];
} vts_agent_exec_status;

/* Parse the reply to guest-exec-status into @st. "exited" must be a
 * boolean; an exited process must carry an integer "exitcode" or "signal".
 * Same error rules as vts_agent_parse_time; @st is filled only on success. */
int vts_agent_parse_exec_status(const char *reply, vts_agent_exec_status *st,
                                vts_error *err);

#endif /* VTS_AGENT_H */
