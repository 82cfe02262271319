/* fuzz_domxml.c: the domain XML scanner (vts_domxml_scan). It reads
 * libvirt's XML, which holds the guest's metadata, and in the hook
 * whatever libvirtd writes to the hook's stdin. The input is used as it
 * is: the exact-sized buffer libFuzzer passes, no NUL after it, NULs
 * inside allowed. */
#include "fuzz.h"

#include "vts_domxml.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vts_domxml_info info;
    vts_error err;
    int rc;

    memset(&info, 0x55, sizeof(info));
    memset(&err, 0x55, sizeof(err));
    rc = vts_domxml_scan((const char *)data, size, &info, &err);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc < 0) {
        fuzz_check_error(&err);
        FUZZ_CHECK(err.code == VTS_ERR_BAD_REPLY);
        return 0;
    }
    /* Every field set to something it can be. */
    FUZZ_CHECK(info.agent_state == VTS_AGENT_STATE_UNKNOWN ||
               info.agent_state == VTS_AGENT_STATE_CONNECTED ||
               info.agent_state == VTS_AGENT_STATE_DISCONNECTED);
    /* A state belongs to an agent channel. */
    FUZZ_CHECK(info.agent_state == VTS_AGENT_STATE_UNKNOWN || info.has_agent_channel);
    /* An empty input is not a domain. */
    FUZZ_CHECK(size > 0);
    return 0;
}
