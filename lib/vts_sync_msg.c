/* vts_sync_msg.c: the wording of every error a sync reports: what went
 * wrong and what to do about it, per error code. */
#define VTS_SYNC_MSG_ALLOW_PRIV
#include "vts_sync_msg_priv.h"

#include <string.h>

void
vts_sync_explain(vts_error *err, const vts_sync_opts *opts)
{
    char detail[VTS_ERROR_MSG_MAX];

    memcpy(detail, err->message, sizeof(detail));
    switch (err->code) {
    case VTS_ERR_NOT_FOUND:
        vts_error_set(err, err->code,
                      "domain not found: check the name with 'virsh list --all'");
        break;
    case VTS_ERR_NOT_RUNNING:
        vts_error_set(err, err->code, "domain is not running: start it first");
        break;
    case VTS_ERR_PAUSED:
        vts_error_set(
            err, err->code,
            "domain is paused, so its guest agent cannot answer: resume it "
            "('virsh resume') and sync again (vmtimesyncd does this on resume)");
        break;
    case VTS_ERR_NO_AGENT_CHANNEL:
        vts_error_set(err, err->code,
                      "no guest agent channel: add <channel type='unix'><target "
                      "type='virtio' name='org.qemu.guest_agent.0'/></channel> to the "
                      "domain's <devices> ('virsh edit'), restart it, and run "
                      "qemu-guest-agent in the guest");
        break;
    case VTS_ERR_AGENT_NOT_CONNECTED:
        vts_error_set(err, err->code,
                      "guest agent is not connected: install and start qemu-guest-agent "
                      "in the guest (or wait until the guest has booted)");
        break;
    case VTS_ERR_AGENT_TIMEOUT:
        vts_error_set(
            err, err->code,
            "guest agent did not answer within %d s: the guest may be overloaded "
            "or its agent hung; restart qemu-guest-agent in the guest (%s)",
            opts->timeout_s, detail);
        break;
    case VTS_ERR_SET_TIME_UNSUPPORTED:
        /* With the fallback on, this code means the fallback failed too;
         * its message says why and what to do. */
        if (opts->set_time_fallback == VTS_FALLBACK_GUEST_EXEC) {
            vts_error_set(err, err->code,
                          "guest agent refuses guest-set-time (no /sbin/hwclock in the "
                          "guest?) and the guest-exec fallback failed: %s",
                          detail);
            break;
        }
        vts_error_set(err, err->code,
                      "guest agent refuses guest-set-time: the guest lacks /sbin/hwclock "
                      "(Debian 12: install util-linux-extra in the guest) or the command "
                      "is blocked in qemu-ga's configuration (%s)",
                      detail);
        break;
    case VTS_ERR_BAD_REPLY:
        vts_error_set(err, err->code, "%s: is a genuine qemu-guest-agent answering?",
                      detail);
        break;
    case VTS_ERR_HOST_UNSYNCED:
        vts_error_set(
            err, err->code,
            "the host's own clock is not synchronized (%s): not copying it into "
            "the guest; fix the host's NTP ('chronyc tracking'), or allow it "
            "(--allow-unsynced-host, host_unsynced = allow)",
            detail);
        break;
    case VTS_ERR_STEP_TOO_LARGE:
        vts_error_set(err, err->code,
                      "%s: not applied; check the host's and the guest's clocks, then "
                      "'vmtimesync --force' (or raise max_step)",
                      detail);
        break;
    case VTS_ERR_BACKWARD_REFUSED:
        vts_error_set(
            err, err->code,
            "%s: stepping a guest back that far can break software that expects "
            "time to go forward; not applied ('vmtimesync --force', or raise "
            "max_backward)",
            detail);
        break;
    default:
        break;
    }
}
