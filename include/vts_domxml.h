/* vts_domxml.h: what vmtimesync needs to know from a libvirt domain XML.
 *
 * A small, bounded scanner instead of a full XML library: it reads only
 * element tags and attributes, never allocates, and treats anything it does
 * not understand as "not there". It reads XML from libvirt and, in the hook,
 * from libvirtd's stdin, so every input must be safe to feed it.
 */
#ifndef VTS_DOMXML_H
#define VTS_DOMXML_H

#include <stdbool.h>
#include <stddef.h>

#include "vts_error.h"

/* The XML namespace of vmtimesync's element in a domain's <metadata>. */
#define VTS_DOMXML_NS "http://vmtimesync.org/xmlns/domain/1.0"
/* The name of that element, e.g. <vmtimesync:sync enabled='no'/>. */
#define VTS_DOMXML_ELEMENT "sync"

typedef enum {
    VTS_AGENT_STATE_UNKNOWN,      /* no state attribute (inactive XML) */
    VTS_AGENT_STATE_CONNECTED,    /* state='connected' */
    VTS_AGENT_STATE_DISCONNECTED, /* state='disconnected' */
} vts_agent_state;

typedef struct {
    bool has_agent_channel; /* a virtio channel org.qemu.guest_agent.0 */
    vts_agent_state agent_state;
    bool opted_out;   /* <sync enabled='no'/> in our namespace */
    bool rtc_catchup; /* <clock><timer name='rtc' tickpolicy='catchup'/> */
} vts_domxml_info;

/* Scan the domain XML @xml of @len bytes and fill @info. Returns 0, or -1
 * with VTS_ERR_BAD_REPLY when the text is not a <domain> document (empty,
 * truncated inside a tag, nested too deep). */
int vts_domxml_scan(const char *xml, size_t len, vts_domxml_info *info, vts_error *err);

#endif /* VTS_DOMXML_H */
