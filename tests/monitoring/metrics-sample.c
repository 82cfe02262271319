/* metrics-sample.c: one of every series vmtimesyncd exports, written as the
 * daemon writes its metrics file, so that the monitoring checks compare the
 * alert rules and the dashboard against the names the library really
 * renders rather than a list kept by hand.
 *
 * Usage: metrics-sample FILE
 */
#include <stdio.h>
#include <string.h>

#include "vts_error.h"
#include "vts_metrics.h"
#include "vts_sync.h"

int
main(int argc, char **argv)
{
    vts_metrics *m = NULL;
    vts_sync_result stepped;
    vts_sync_result failed;
    vts_error err;
    int ret = 1;

    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    m = vts_metrics_new();
    if (!m) {
        fprintf(stderr, "metrics-sample: out of memory\n");
        goto cleanup;
    }

    /* A sync that measured, stepped and verified: a syncs_total series, both
     * histograms and the domain's last sync. */
    memset(&stepped, 0, sizeof(stepped));
    stepped.action = VTS_ACTION_STEPPED;
    stepped.have_offset = true;
    stepped.offset_ns = -3000000000;
    stepped.have_residual = true;
    stepped.residual_ns = 400000;
    vts_metrics_record(m, "guest-1", "resumed/unpaused", &stepped, 1700000000000000000);

    /* A failed one: a failures_total series. */
    memset(&failed, 0, sizeof(failed));
    failed.action = VTS_ACTION_ERROR;
    vts_error_set(&failed.err, VTS_ERR_AGENT_TIMEOUT, "sample");
    vts_metrics_record(m, "guest-2", "sweep", &failed, 1700000000000000000);

    /* The watch: a guest's offset, and one measurement counted. */
    vts_metrics_guest_offset(m, "guest-1", -50000000, 1700000000000000000);
    vts_metrics_watch_measured(m, "ok");
    vts_metrics_set_connected(m, true);

    if (vts_metrics_write(m, argv[1], &err) < 0) {
        fprintf(stderr, "metrics-sample: %s\n", err.message);
        goto cleanup;
    }
    ret = 0;

cleanup:
    vts_metrics_free(m);
    return ret;
}
