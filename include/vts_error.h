/* vts_error.h: the error every vmtimesync function fills in.
 *
 * Functions return 0 on success and -1 on failure; on failure they fill a
 * caller-owned vts_error with a code (for programs and JSON) and a message a
 * person can act on (what failed and what to do). Messages never contain the
 * domain name: whoever prints one puts the name in front.
 */
#ifndef VTS_ERROR_H
#define VTS_ERROR_H

#include <stddef.h>

typedef enum {
    VTS_OK = 0,
    VTS_ERR_INTERNAL,             /* a bug or out of memory */
    VTS_ERR_CONNECT,              /* cannot reach libvirt */
    VTS_ERR_NOT_FOUND,            /* no such domain */
    VTS_ERR_NOT_RUNNING,          /* shut off, crashed, ... */
    VTS_ERR_PAUSED,               /* vCPUs stopped: the agent cannot answer */
    VTS_ERR_NO_AGENT_CHANNEL,     /* no org.qemu.guest_agent.0 channel */
    VTS_ERR_AGENT_NOT_CONNECTED,  /* channel present, nobody listening */
    VTS_ERR_AGENT_TIMEOUT,        /* the agent did not answer in time */
    VTS_ERR_SET_TIME_UNSUPPORTED, /* guest-set-time refused as unsupported */
    VTS_ERR_AGENT_ERROR,          /* the agent answered with an error */
    VTS_ERR_BAD_REPLY,            /* the agent's reply made no sense */
    VTS_ERR_VERIFY_FAILED,        /* stepped, but the guest is still off */
    VTS_ERR_CONFIG,               /* a configuration file or option is wrong */
    VTS_ERR_OPTED_OUT,            /* excluded by configuration or metadata */
    VTS_ERR_HOST_UNSYNCED,        /* the host's own clock is not synchronized */
    VTS_ERR_STEP_TOO_LARGE,       /* beyond max_step: not applied unless forced */
    VTS_ERR_BACKWARD_REFUSED,     /* a backward step beyond the policy's bound */
    VTS_ERR__COUNT
} vts_err_code;

#define VTS_ERROR_MSG_MAX 512

typedef struct {
    vts_err_code code;
    char message[VTS_ERROR_MSG_MAX];
} vts_error;

/* Reset @err to "no error". @err may be NULL. */
void vts_error_clear(vts_error *err);

/* Record @code and a printf-style message in @err (may be NULL). The
 * message is truncated to VTS_ERROR_MSG_MAX - 1 bytes. Always returns -1 so
 * that callers can write `return vts_error_set(err, ...)`. An argument may
 * be err->message itself. */
int vts_error_set(vts_error *err, vts_err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The stable, machine-readable name of @code, e.g. "agent-timeout", as used
 * in JSON output and metrics. Never NULL. */
const char *vts_error_code_name(vts_err_code code);

#endif /* VTS_ERROR_H */
