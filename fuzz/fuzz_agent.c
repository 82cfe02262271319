/* fuzz_agent.c: the guest agent's replies (vts_agent_parse_time,
 * vts_agent_parse_empty). A reply is whatever the guest's qemu-ga, or
 * anything in the guest that holds its channel, wrote: hostile input.
 * libvirt hands it over as a C string, so the input is cut at its first
 * NUL. */
#include "fuzz.h"

#include "vmtimesync/vts_agent.h"

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
        FUZZ_CHECK(err_time.code == VTS_ERR_BAD_REPLY || err_time.code == VTS_ERR_AGENT_ERROR);
    }
    if (rc_empty < 0) {
        fuzz_check_error(&err_empty);
        FUZZ_CHECK(err_empty.code == VTS_ERR_BAD_REPLY ||
                   err_empty.code == VTS_ERR_AGENT_ERROR);
        /* What the empty reply refuses, the time reply refuses the same way. */
        FUZZ_CHECK(rc_time < 0 && err_time.code == err_empty.code);
        FUZZ_CHECK(strcmp(err_time.message, err_empty.message) == 0);
    }
    free(reply);
    return 0;
}
