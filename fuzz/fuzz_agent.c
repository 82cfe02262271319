/* fuzz_agent.c: the guest agent's replies (vts_agent_parse_time,
 * vts_agent_parse_empty, and for the guest-exec fallback
 * vts_agent_parse_info, vts_agent_parse_exec, vts_agent_parse_exec_status). A reply is
 * whatever the guest's qemu-ga, or anything in the guest that holds its channel, wrote:
 * hostile input. libvirt hands it over as a C string, so the input is cut at its first
 * NUL. */
#include "fuzz.h"

#include "vts_agent.h"

/* A failure fills the error in with a reply-shaped code. */
static void
fuzz_check_reply_error(int rc, const vts_error *err)
{
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc < 0) {
        fuzz_check_error(err);
        FUZZ_CHECK(err->code == VTS_ERR_BAD_REPLY || err->code == VTS_ERR_AGENT_ERROR);
    }
}

/* The guest-exec fallback's replies: guest-info, guest-exec,
 * guest-exec-status. */
static void
fuzz_exec_replies(const char *reply)
{
    static const char *const names[] = {"guest-exec", "guest-exec-status"};
    const char *disabled = (const char *)names; /* neither NULL nor a name */
    vts_agent_exec_status st;
    vts_error err;
    int64_t pid = -1;
    char *cmd = NULL;
    int rc;

    memset(&err, 0x55, sizeof(err));
    rc = vts_agent_parse_info(reply, names, 2, &disabled, &err);
    fuzz_check_reply_error(rc, &err);
    if (rc == 0)
        FUZZ_CHECK(disabled == NULL || disabled == names[0] || disabled == names[1]);

    memset(&err, 0x55, sizeof(err));
    rc = vts_agent_parse_exec(reply, &pid, &err);
    fuzz_check_reply_error(rc, &err);
    if (rc == 0) {
        /* A pid is positive, fits an int32, and can be asked about. */
        FUZZ_CHECK(pid > 0 && pid <= INT32_MAX);
        cmd = vts_agent_build_exec_status(pid, NULL);
        FUZZ_CHECK(cmd != NULL);
        free(cmd);
    }

    memset(&err, 0x55, sizeof(err));
    memset(&st, 0x55, sizeof(st));
    rc = vts_agent_parse_exec_status(reply, &st, &err);
    fuzz_check_reply_error(rc, &err);
    if (rc == 0) {
        FUZZ_CHECK(!st.exited || st.has_exitcode || st.has_signal);
        FUZZ_CHECK(memchr(st.err_data, '\0', sizeof(st.err_data)) != NULL);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *reply = fuzz_cstring(data, size);
    int64_t time_ns = -1;
    vts_error err_time, err_empty;
    char cmd[VTS_AGENT_SET_TIME_MAX];
    int rc_time, rc_empty;

    /* Not "no error": a failure must fill the error in. */
    memset(&err_time, 0x55, sizeof(err_time));
    memset(&err_empty, 0x55, sizeof(err_empty));

    rc_time = vts_agent_parse_time(reply, &time_ns, &err_time);
    rc_empty = vts_agent_parse_empty(reply, &err_empty);

    FUZZ_CHECK(rc_time == 0 || rc_time == -1);
    FUZZ_CHECK(rc_empty == 0 || rc_empty == -1);
    if (rc_time == 0) {
        /* A time is a positive int64, and ready to be sent back. */
        FUZZ_CHECK(time_ns > 0);
        FUZZ_CHECK(vts_agent_format_set_time(cmd, sizeof(cmd), time_ns, NULL) == 0);
        /* Same rules for "error" and "return": a time is a valid reply. */
        FUZZ_CHECK(rc_empty == 0);
    } else {
        fuzz_check_error(&err_time);
        FUZZ_CHECK(err_time.code == VTS_ERR_BAD_REPLY ||
                   err_time.code == VTS_ERR_AGENT_ERROR);
    }
    if (rc_empty < 0) {
        fuzz_check_error(&err_empty);
        FUZZ_CHECK(err_empty.code == VTS_ERR_BAD_REPLY ||
                   err_empty.code == VTS_ERR_AGENT_ERROR);
        /* What the empty reply refuses, the time reply refuses the same way. */
        FUZZ_CHECK(rc_time < 0 && err_time.code == err_empty.code);
        FUZZ_CHECK(strcmp(err_time.message, err_empty.message) == 0);
    }
    fuzz_exec_replies(reply);
    free(reply);
    return 0;
}
