/* vts_error.c: filling and naming errors. */
#include "vts_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const vts_error_names[VTS_ERR__COUNT] = {
    [VTS_OK] = "ok",
    [VTS_ERR_INTERNAL] = "internal",
    [VTS_ERR_CONNECT] = "connect",
    [VTS_ERR_NOT_FOUND] = "not-found",
    [VTS_ERR_NOT_RUNNING] = "not-running",
    [VTS_ERR_PAUSED] = "paused",
    [VTS_ERR_NO_AGENT_CHANNEL] = "no-agent-channel",
    [VTS_ERR_AGENT_NOT_CONNECTED] = "agent-not-connected",
    [VTS_ERR_AGENT_TIMEOUT] = "agent-timeout",
    [VTS_ERR_SET_TIME_UNSUPPORTED] = "set-time-unsupported",
    [VTS_ERR_AGENT_ERROR] = "agent-error",
    [VTS_ERR_BAD_REPLY] = "bad-reply",
    [VTS_ERR_VERIFY_FAILED] = "verify-failed",
    [VTS_ERR_CONFIG] = "config",
    [VTS_ERR_OPTED_OUT] = "opted-out",
    [VTS_ERR_HOST_UNSYNCED] = "host-unsynced",
    [VTS_ERR_STEP_TOO_LARGE] = "step-too-large",
    [VTS_ERR_BACKWARD_REFUSED] = "backward-refused",
};

void
vts_error_clear(vts_error *err)
{
    if (!err)
        return;
    err->code = VTS_OK;
    err->message[0] = '\0';
}

int
vts_error_set(vts_error *err, vts_err_code code, const char *fmt, ...)
{
    char message[sizeof(err->message)];
    va_list ap;

    if (!err)
        return -1;
    /* Format aside first: an argument may be err->message itself (a
     * message that wraps the previous one). */
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    err->code = code;
    memcpy(err->message, message, sizeof(message));
    return -1;
}

const char *
vts_error_code_name(vts_err_code code)
{
    if ((int)code < 0 || code >= VTS_ERR__COUNT || !vts_error_names[code])
        return "internal";
    return vts_error_names[code];
}
