/* fuzz_ctl.c: control-socket requests (vts_ctl_parse_request), as
 * vmtimesyncd reads them from any local process allowed to connect. The
 * input is used as it is: the exact-sized buffer libFuzzer passes, not
 * NUL-terminated (the daemon passes its receive buffer and a length).
 *
 * Besides "no crash": a parsed request is well-formed, and a "pending"
 * request the hook would build for the same domain and reason
 * (vts_ctl_format_pending) parses back to the same request. */
#include "fuzz.h"

#include <errno.h>

#include "vts_ctl.h"

static void
check_reason(const char *reason)
{
    size_t n = strnlen(reason, VTS_CTL_REASON_MAX);

    FUZZ_CHECK(n > 0 && n < VTS_CTL_REASON_MAX);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK((reason[i] >= 'a' && reason[i] <= 'z') || reason[i] == '-');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vts_ctl_request req, again;
    vts_error err;
    char *line = NULL;
    int rc;

    memset(&req, 0x55, sizeof(req));
    memset(&err, 0x55, sizeof(err));
    rc = vts_ctl_parse_request((const char *)data, size, &req, &err);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc < 0) {
        fuzz_check_error(&err);
        FUZZ_CHECK(err.code == VTS_ERR_BAD_REPLY || err.code == VTS_ERR_INTERNAL);
        /* A refused request leaves nothing half-filled behind. */
        FUZZ_CHECK(req.domain[0] == '\0' && req.reason[0] == '\0');
        return 0;
    }
    FUZZ_CHECK(size <= VTS_CTL_MAX_REQUEST);
    if (req.cmd == VTS_CTL_STATUS) {
        FUZZ_CHECK(req.domain[0] == '\0' && req.reason[0] == '\0');
        return 0;
    }
    FUZZ_CHECK(req.cmd == VTS_CTL_PENDING);
    FUZZ_CHECK(memchr(req.domain, '\0', sizeof(req.domain)) != NULL);
    FUZZ_CHECK(req.domain[0] != '\0');
    check_reason(req.reason);

    /* The hook's side of the same hand-off. A name of control characters
     * grows six-fold when escaped, so the line may not fit: then EINVAL. */
    line = vts_ctl_format_pending(req.domain, req.reason);
    if (!line) {
        FUZZ_CHECK(errno == EINVAL);
        return 0;
    }
    FUZZ_CHECK(strlen(line) <= VTS_CTL_MAX_REQUEST);
    FUZZ_CHECK(line[strlen(line) - 1] == '\n');
    memset(&err, 0x55, sizeof(err));
    FUZZ_CHECK(vts_ctl_parse_request(line, strlen(line), &again, &err) == 0);
    FUZZ_CHECK(again.cmd == VTS_CTL_PENDING);
    FUZZ_CHECK(strcmp(again.domain, req.domain) == 0);
    FUZZ_CHECK(strcmp(again.reason, req.reason) == 0);
    free(line);
    return 0;
}
