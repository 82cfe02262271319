/* fuzz_hook.c: the libvirt hook's inputs: its argv (vts_hook_decide_args)
 * and the domain XML libvirtd writes to its stdin (vts_hook_decide_xml).
 *
 * Input layout: the first byte's low three bits say how many arguments
 * follow argv[0] (0 to 7; libvirtd passes 4); then the arguments, each
 * ended by a NUL (the last one may end the input instead, and fewer
 * arguments come when the input ends); whatever is left is stdin, NULs and
 * all. argv[0] is the installed path.
 *
 * Besides "no crash": an announced domain is argv[1], fits the control
 * protocol, and its request line parses back in the daemon to the same
 * domain and reason; the name as the hook logs it has no control
 * characters; a domain the XML says to ignore is ignored. */
#include "fuzz.h"

#include <errno.h>

#include "vts_ctl.h"
#include "vts_domxml.h"
#include "vts_hook.h"
#include "vts_report.h"

#define MAX_ARGS 7

static void
check_announce(const vts_hook_decision *d, int argc, char **argv)
{
    vts_ctl_request req;
    vts_error err;
    char *line = NULL;

    FUZZ_CHECK(argc == 5);
    FUZZ_CHECK(d->domain == argv[1]);
    FUZZ_CHECK(d->domain[0] != '\0' && strlen(d->domain) < VTS_CTL_DOMAIN_MAX);
    FUZZ_CHECK(strcmp(d->reason, "migrate") == 0 || strcmp(d->reason, "restore") == 0 ||
               strcmp(d->reason, "reconnect") == 0);

    /* The hand-off to vmtimesyncd, as the hook's main builds it. A name
     * full of control characters may not fit once escaped: then the hook
     * leaves a waiter instead. */
    line = vts_ctl_format_pending(d->domain, d->reason);
    if (!line) {
        FUZZ_CHECK(errno == EINVAL);
        return;
    }
    memset(&err, 0x55, sizeof(err));
    FUZZ_CHECK(vts_ctl_parse_request(line, strlen(line), &req, &err) == 0);
    FUZZ_CHECK(req.cmd == VTS_CTL_PENDING);
    FUZZ_CHECK(strcmp(req.domain, d->domain) == 0);
    FUZZ_CHECK(strcmp(req.reason, d->reason) == 0);
    free(line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *argv[MAX_ARGS + 2] = {NULL};
    char *xml = NULL;
    size_t pos = 1, xml_len;
    int want, argc = 1;
    vts_hook_decision d;
    vts_domxml_info info;
    vts_error err;
    char name[256];

    if (size == 0)
        return 0;
    want = data[0] & 7;
    /* One allocation per argument, exactly sized, so that ASan sees a read
     * past one. */
    argv[0] = strdup("/etc/libvirt/hooks/qemu.d/vmtimesync");
    FUZZ_CHECK(argv[0] != NULL);
    while (argc <= want && pos < size) {
        const uint8_t *nul = memchr(data + pos, '\0', size - pos);
        size_t n = nul ? (size_t)(nul - (data + pos)) : size - pos;

        argv[argc] = malloc(n + 1);
        FUZZ_CHECK(argv[argc] != NULL);
        memcpy(argv[argc], data + pos, n);
        argv[argc][n] = '\0';
        argc++;
        pos += n + (nul ? 1 : 0);
    }
    /* stdin: exactly sized, not NUL-terminated, as the hook reads it. */
    xml_len = size - pos;
    xml = malloc(xml_len ? xml_len : 1);
    FUZZ_CHECK(xml != NULL);
    memcpy(xml, data + pos, xml_len);

    memset(&d, 0x55, sizeof(d));
    vts_hook_decide_args(argc, argv, &d);
    FUZZ_CHECK(memchr(d.why, '\0', sizeof(d.why)) != NULL);
    if (d.action == VTS_HOOK_ANNOUNCE) {
        FUZZ_CHECK(d.needs_xml);
        check_announce(&d, argc, argv);
        /* The name as the hook logs it. */
        vts_report_escape(name, sizeof(name), d.domain);
        FUZZ_CHECK(!fuzz_has_control(name, 0));
    } else {
        FUZZ_CHECK(d.action == VTS_HOOK_IGNORE && !d.needs_xml);
    }

    vts_hook_decide_xml(xml, xml_len, &d);
    FUZZ_CHECK(!d.needs_xml);
    FUZZ_CHECK(memchr(d.why, '\0', sizeof(d.why)) != NULL);
    if (d.action == VTS_HOOK_ANNOUNCE) {
        /* Still announced: the XML is a domain with an agent channel and
         * no opt-out. */
        FUZZ_CHECK(vts_domxml_scan(xml, xml_len, &info, &err) == 0);
        FUZZ_CHECK(info.has_agent_channel && !info.opted_out);
        check_announce(&d, argc, argv);
    } else {
        FUZZ_CHECK(d.action == VTS_HOOK_IGNORE);
        FUZZ_CHECK(!fuzz_has_control(d.why, 0));
    }

    for (int i = 0; i < argc; i++)
        free(argv[i]);
    free(xml);
    return 0;
}
