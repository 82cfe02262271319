/* vmtimesyncd: fix every guest's clock the moment it resumes.
 *
 * A thin main over lib/vts_daemon.c: parse the options, daemonise unless
 * told not to, run, pick the exit code.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vts_conf.h"
#include "vts_daemon.h"
#include "vts_log.h"
#include "vts_version.h"

enum {
    VTSD_EXIT_OK = 0,
    VTSD_EXIT_FAILURE = 1, /* could not start: socket, event loop... */
    VTSD_EXIT_USAGE = 2,
    VTSD_EXIT_CONFIG = 3, /* the configuration file is wrong */
};

static void
vtsd_usage(FILE *out)
{
    fprintf(
        out,
        "Usage: vmtimesyncd [-c URI] [-f CONFIG] [--foreground] [-d]\n"
        "Watch libvirt for guests that resume (after a pause, a migration, a restore)\n"
        "and step their clocks to the host's time through the QEMU guest agent.\n"
        "\n"
        "  -c, --connect URI   libvirt URI (overrides 'uri' in the configuration)\n"
        "  -f, --config FILE   configuration file (default %s)\n"
        "  -F, --foreground    stay in the foreground and log to stderr\n"
        "  -d, --debug         log at debug level\n"
        "  -h, --help          show this help and exit\n"
        "  -V, --version       show the version and exit\n"
        "\n"
        "Signals: SIGHUP reloads the configuration (a bad file keeps the running one);\n"
        "SIGTERM and SIGINT finish the syncs under way and exit 0.\n"
        "Exit status: 0 stopped cleanly, 1 could not start, 2 usage error,\n"
        "3 configuration error.\n",
        VTS_CONF_DEFAULT_PATH);
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"connect", required_argument, NULL, 'c'},
        {"config", required_argument, NULL, 'f'},
        {"foreground", no_argument, NULL, 'F'},
        {"debug", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *uri = NULL;
    const char *config = NULL;
    bool foreground = false;
    bool debug = false;
    vts_daemon *d = NULL;
    vts_error err;
    int c;
    int status = VTSD_EXIT_OK;

    while ((c = getopt_long(argc, argv, "c:f:FdhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            uri = optarg;
            break;
        case 'f':
            config = optarg;
            break;
        case 'F':
            foreground = true;
            break;
        case 'd':
            debug = true;
            break;
        case 'h':
            vtsd_usage(stdout);
            return VTSD_EXIT_OK;
        case 'V':
            printf("vmtimesyncd %s\n", VTS_VERSION);
            return VTSD_EXIT_OK;
        default:
            fprintf(stderr, "Try 'vmtimesyncd --help'.\n");
            return VTSD_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "vmtimesyncd: unexpected argument '%s'\n", argv[optind]);
        return VTSD_EXIT_USAGE;
    }

    vts_log_open("vmtimesyncd", foreground, debug ? VTS_LOG_DEBUG : VTS_LOG_INFO);
    d = vts_daemon_new(&vts_hv_libvirt_ops, config, uri, &err);
    if (!d) {
        /* Under systemd this is the line the journal shows for a start
         * that failed: an error, not the stream's default info. */
        fprintf(stderr, "%svmtimesyncd: %s\n", vts_log_stderr_prefix(VTS_LOG_ERR),
                err.message);
        if (!foreground)
            vts_log(VTS_LOG_ERR, "%s", err.message);
        return err.code == VTS_ERR_CONFIG ? VTSD_EXIT_CONFIG : VTSD_EXIT_FAILURE;
    }
    if (debug)
        vts_daemon_force_debug(d);
    if (!foreground && daemon(0, 0) < 0) {
        perror("vmtimesyncd: daemon");
        vts_daemon_free(d);
        return VTSD_EXIT_FAILURE;
    }
    if (vts_daemon_run(d, &err) < 0) {
        vts_log(VTS_LOG_ERR, "%s", err.message);
        status = VTSD_EXIT_FAILURE;
    }
    vts_daemon_free(d);
    return status;
}
