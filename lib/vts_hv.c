/* vts_hv.c: helpers shared by every hypervisor backend. */
#include "vts_hv.h"

#include <stdlib.h>

void
vts_hv_names_free(char **names, size_t count)
{
    size_t i;

    if (!names)
        return;
    for (i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

const char *
vts_ev_kind_name(vts_ev_kind kind)
{
    switch (kind) {
    case VTS_EV_STARTED:
        return "started";
    case VTS_EV_SUSPENDED:
        return "suspended";
    case VTS_EV_RESUMED:
        return "resumed";
    case VTS_EV_STOPPED:
        return "stopped";
    case VTS_EV_PMWAKEUP:
        return "pmwakeup";
    case VTS_EV_AGENT_CONNECTED:
        return "agent-connected";
    case VTS_EV_AGENT_DISCONNECTED:
        return "agent-disconnected";
    case VTS_EV_JOB_COMPLETED:
        return "job-completed";
    }
    return "unknown";
}

const char *
vts_ev_detail_name(vts_ev_detail detail)
{
    switch (detail) {
    case VTS_EVD_NONE:
        return "-";
    case VTS_EVD_BOOTED:
        return "booted";
    case VTS_EVD_PAUSED:
        return "paused";
    case VTS_EVD_UNPAUSED:
        return "unpaused";
    case VTS_EVD_MIGRATED:
        return "migrated";
    case VTS_EVD_RESTORED:
        return "restored";
    case VTS_EVD_FROM_SNAPSHOT:
        return "from-snapshot";
    case VTS_EVD_POSTCOPY:
        return "postcopy";
    case VTS_EVD_WAKEUP:
        return "wakeup";
    case VTS_EVD_SAVED:
        return "saved";
    case VTS_EVD_IOERROR:
        return "ioerror";
    case VTS_EVD_OTHER:
        break;
    }
    return "other";
}
