/* vmtimesync: step guests' clocks to the host's time, by hand.
 *
 * A thin program over lib/: parse the options, sync each domain, print one
 * line (or one JSON object) per domain, pick the exit code.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "vts_conf.h"
#include "vts_ctl.h"
#include "vts_waiter.h"
#include "vts_log.h"
#include "vts_domxml.h"
#include "vts_hv.h"
#include "vts_report.h"
#include "vts_sync.h"
#include "vts_version.h"

enum {
    VTS_EXIT_OK = 0,
    VTS_EXIT_DOMAIN_FAILED = 1,
    VTS_EXIT_USAGE = 2,
    VTS_EXIT_CONNECT = 3,
};

enum {
    OPT_CHECK = 256,
    OPT_JSON,
    OPT_THRESHOLD,
    OPT_TIMEOUT,
    OPT_SAMPLES,
    OPT_STATUS,
    OPT_SOCKET,
    OPT_HOOK_WAITER,
    OPT_WAIT,
    OPT_ALLOW_UNSYNCED,
    OPT_MAX_STEP,
    OPT_MAX_BACKWARD,
    OPT_FORCE,
    OPT_SET_TIME_FALLBACK,
};

/* How long --status waits for the daemon. */
#define VTS_CLI_STATUS_TIMEOUT_MS 3000

typedef struct {
    const char *uri;
    bool all;
    bool json;
    bool status;
    const char *socket;
    const char *hook_waiter; /* the hook's reason: run as its waiter */
    int64_t wait_ns;
    int verbose;
    vts_sync_opts sync;
} vts_cli;

static void
vts_cli_usage(FILE *out)
{
    fprintf(
        out,
        "Usage: vmtimesync [OPTION]... DOMAIN...\n"
        "       vmtimesync [OPTION]... --all\n"
        "       vmtimesync --status [--json] [--socket PATH]\n"
        "Measure each guest's clock offset through the QEMU guest agent, step the\n"
        "guest to the host's time when it is off, and verify the result.\n"
        "\n"
        "  -a, --all            every running domain that has a guest agent channel\n"
        "                       (domains opted out in their metadata are skipped)\n"
        "      --check          measure and report only; change nothing\n"
        "      --json           one JSON object per domain and line\n"
        "  -c, --connect URI    libvirt URI (default: $LIBVIRT_DEFAULT_URI, else\n"
        "                       qemu:///system)\n"
        "      --threshold SEC  do not step when |offset| is below SEC seconds\n"
        "                       (default 0.005)\n"
        "      --timeout SEC    seconds to wait for each guest agent reply (default %d)\n"
        "      --samples N      guest-get-time calls per measurement, 1-%d (default %d)\n"
        "\n"
        "Time safety (a step copies the host's clock into the guest):\n"
        "      --allow-unsynced-host  step even when the host's own clock is not\n"
        "                       synchronized (adjtimex); refused by default\n"
        "      --max-step SEC   do not apply steps larger than SEC (default 86400;\n"
        "                       0: no limit)\n"
        "      --max-backward SEC  do not step a guest that is ahead back by more\n"
        "                       than SEC (default 1)\n"
        "      --force          apply steps beyond --max-step and --max-backward\n"
        "\n"
        "      --set-time-fallback=guest-exec  when the guest agent refuses\n"
        "                       guest-set-time (no /sbin/hwclock in the guest), step\n"
        "                       with the guest's GNU date through guest-exec, if the\n"
        "                       agent allows guest-exec (default: none)\n"
        "\n"
        "      --status         what vmtimesyncd did for each domain (needs the daemon)\n"
        "      --socket PATH    the daemon's control socket (default %s)\n"
        "      --hook-waiter OP wait (--wait SEC, default 600) for DOMAIN to run with\n"
        "                       its agent connected, sync it once, log to syslog: what\n"
        "                       the libvirt hook starts after OP when vmtimesyncd is\n"
        "                       not running\n"
        "  -v, --verbose        show every sample and step on stderr\n"
        "  -h, --help           show this help and exit\n"
        "  -V, --version        show the version and exit\n"
        "\n"
        "Exit status:\n"
        "  0  every domain is fine (stepped, checked, or within the threshold)\n"
        "  1  at least one domain failed (its message says why and what to do)\n"
        "  2  usage error\n"
        "  3  cannot connect to libvirt (or, with --status, to vmtimesyncd)\n",
        VTS_SYNC_DEFAULT_TIMEOUT_S, VTS_SYNC_MAX_SAMPLES, VTS_SYNC_DEFAULT_SAMPLES,
        VTS_CTL_DEFAULT_PATH);
}

static void
vts_cli_log(void *opaque, vts_log_level level, const char *domain, const char *msg)
{
    const vts_cli *cli = opaque;
    char name[256];

    if (level == VTS_LOG_DEBUG && cli->verbose == 0)
        return;
    vts_report_escape(name, sizeof(name), domain);
    fprintf(stderr, "vmtimesync: %s: %s\n", name, msg);
}

/* The value of the option for setting @n, within the bounds the
 * configuration file has (one table: the hook's waiter gets its file's
 * values on this command line). */
static int
vts_cli_number(vts_conf_number n, const char *arg, int64_t *out)
{
    vts_error err;

    if (vts_conf_parse_arg(n, arg, out, &err) == 0)
        return 0;
    fprintf(stderr, "vmtimesync: %s takes %s, not '%s'\n", vts_conf_bounds_of(n)->option,
            err.message, arg);
    return -1;
}

/* Returns the index of the first domain argument, or -1 on a usage error,
 * or -2 when the program should exit 0 (help, version). */
static int
vts_cli_parse(vts_cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"all", no_argument, NULL, 'a'},
        {"check", no_argument, NULL, OPT_CHECK},
        {"json", no_argument, NULL, OPT_JSON},
        {"connect", required_argument, NULL, 'c'},
        {"threshold", required_argument, NULL, OPT_THRESHOLD},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"samples", required_argument, NULL, OPT_SAMPLES},
        {"status", no_argument, NULL, OPT_STATUS},
        {"hook-waiter", required_argument, NULL, OPT_HOOK_WAITER},
        /* Its old name, undocumented: a hook of the previous version may
         * start this program during an upgrade. */
        {"after-hook", required_argument, NULL, OPT_HOOK_WAITER},
        {"wait", required_argument, NULL, OPT_WAIT},
        {"allow-unsynced-host", no_argument, NULL, OPT_ALLOW_UNSYNCED},
        {"max-step", required_argument, NULL, OPT_MAX_STEP},
        {"max-backward", required_argument, NULL, OPT_MAX_BACKWARD},
        {"force", no_argument, NULL, OPT_FORCE},
        {"set-time-fallback", required_argument, NULL, OPT_SET_TIME_FALLBACK},
        {"socket", required_argument, NULL, OPT_SOCKET},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int64_t n = 0;
    int c;

    while ((c = getopt_long(argc, argv, "ac:vhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'a':
            cli->all = true;
            break;
        case OPT_CHECK:
            cli->sync.check_only = true;
            break;
        case OPT_JSON:
            cli->json = true;
            break;
        case 'c':
            cli->uri = optarg;
            break;
        case OPT_THRESHOLD:
            if (vts_cli_number(VTS_CONF_THRESHOLD, optarg, &cli->sync.threshold_ns) < 0)
                return -1;
            break;
        case OPT_TIMEOUT:
            if (vts_cli_number(VTS_CONF_AGENT_TIMEOUT, optarg, &n) < 0)
                return -1;
            cli->sync.timeout_s = (int)(n / VTS_NS_PER_SEC);
            break;
        case OPT_SAMPLES:
            if (vts_cli_number(VTS_CONF_SAMPLES, optarg, &n) < 0)
                return -1;
            cli->sync.samples = (int)n;
            break;
        case OPT_STATUS:
            cli->status = true;
            break;
        case OPT_ALLOW_UNSYNCED:
            cli->sync.allow_unsynced_host = true;
            break;
        case OPT_FORCE:
            cli->sync.force = true;
            break;
        case OPT_MAX_STEP:
            if (vts_cli_number(VTS_CONF_MAX_STEP, optarg, &cli->sync.max_step_ns) < 0)
                return -1;
            break;
        case OPT_MAX_BACKWARD:
            if (vts_cli_number(VTS_CONF_MAX_BACKWARD, optarg,
                               &cli->sync.max_backward_ns) < 0)
                return -1;
            break;
        case OPT_SET_TIME_FALLBACK:
            if (vts_fallback_parse(optarg, &cli->sync.set_time_fallback) < 0) {
                fprintf(stderr,
                        "vmtimesync: --set-time-fallback takes 'none' or 'guest-exec', "
                        "not '%s'\n",
                        optarg);
                return -1;
            }
            break;
        case OPT_HOOK_WAITER:
            cli->hook_waiter = optarg;
            break;
        case OPT_WAIT:
            if (vts_cli_number(VTS_CONF_AGENT_WAIT, optarg, &cli->wait_ns) < 0)
                return -1;
            break;
        case OPT_SOCKET:
            cli->socket = optarg;
            break;
        case 'v':
            cli->verbose++;
            break;
        case 'h':
            vts_cli_usage(stdout);
            return -2;
        case 'V':
            printf("vmtimesync %s\n", VTS_VERSION);
            return -2;
        default:
            fprintf(stderr, "Try 'vmtimesync --help'.\n");
            return -1;
        }
    }
    if (cli->status) {
        if (cli->all || optind < argc) {
            fprintf(stderr, "vmtimesync: --status takes no domains\n");
            return -1;
        }
        return optind;
    }
    if (cli->hook_waiter && (cli->all || optind != argc - 1)) {
        fprintf(stderr, "vmtimesync: --hook-waiter takes exactly one domain\n");
        return -1;
    }
    if (cli->all && optind < argc) {
        fprintf(stderr, "vmtimesync: give domain names or --all, not both\n");
        return -1;
    }
    if (!cli->all && optind >= argc) {
        fprintf(stderr, "vmtimesync: no domain given: name one or more, or use --all\n"
                        "Try 'vmtimesync --help'.\n");
        return -1;
    }
    return optind;
}

/* Print one domain's result; returns true when the domain is fine. */
static bool
vts_cli_report(const vts_cli *cli, const char *domain, const vts_sync_result *res)
{
    char line[1024];
    char *json;

    if (cli->json) {
        json = vts_report_json(domain, res);
        if (!json) {
            fprintf(stderr, "vmtimesync: out of memory\n");
            return false;
        }
        printf("%s\n", json);
        free(json);
    } else {
        vts_report_text(line, sizeof(line), domain, res);
        if (res->action == VTS_ACTION_ERROR)
            fprintf(stderr, "vmtimesync: %s\n", line);
        else
            printf("%s\n", line);
    }
    fflush(stdout);
    return res->action != VTS_ACTION_ERROR;
}

/* Should --all sync @name? Only running domains with an agent channel that
 * have not opted out. */
static bool
vts_cli_wants(const vts_cli *cli, const vts_hv_ops *ops, vts_hv_conn *conn,
              const char *name)
{
    vts_hv_dom *dom = NULL;
    char *xml = NULL;
    vts_domxml_info info;
    vts_error err;
    bool want = false;
    const char *why = NULL;

    if (ops->lookup(conn, name, &dom, &err) < 0 || ops->dom_xml(dom, &xml, &err) < 0 ||
        vts_domxml_scan(xml, strlen(xml), &info, &err) < 0) {
        /* Let the sync itself report what is wrong with this domain. */
        want = true;
    } else if (!info.has_agent_channel) {
        why = "no guest agent channel";
    } else if (info.opted_out) {
        why = "opted out in its metadata";
    } else {
        want = true;
    }
    if (why)
        vts_cli_log((void *)cli, VTS_LOG_DEBUG, name, why);
    free(xml);
    ops->dom_free(dom);
    return want;
}

/* Print one domain of the daemon's status as a line for people. */
static void
vts_cli_status_line(json_object *dom)
{
    json_object *v = NULL, *last = NULL;
    const char *name = "?", *phase = "?";
    char esc[256];

    if (json_object_object_get_ex(dom, "domain", &v))
        name = json_object_get_string(v);
    if (json_object_object_get_ex(dom, "phase", &v))
        phase = json_object_get_string(v);
    vts_report_escape(esc, sizeof(esc), name);
    printf("%s: %s", esc, phase);
    if (json_object_object_get_ex(dom, "last", &last) && last) {
        char off[32], resid[32];

        printf("; last sync");
        if (json_object_object_get_ex(dom, "trigger", &v))
            printf(" on %s", json_object_get_string(v));
        if (json_object_object_get_ex(dom, "age_s", &v))
            printf(", %" PRId64 " s ago", json_object_get_int64(v));
        if (json_object_object_get_ex(last, "action", &v))
            printf(": %s", json_object_get_string(v));
        if (json_object_object_get_ex(last, "offset_ns", &v) && v) {
            vts_clock_format_offset(off, sizeof(off), json_object_get_int64(v));
            printf(", offset %s", off);
        }
        if (json_object_object_get_ex(last, "residual_ns", &v) && v) {
            vts_clock_format_offset(resid, sizeof(resid), json_object_get_int64(v));
            printf(", residual %s", resid);
        }
        if (json_object_object_get_ex(last, "error", &v) && v &&
            json_object_object_get_ex(v, "message", &v))
            printf(", %s", json_object_get_string(v));
    }
    if (json_object_object_get_ex(dom, "watch", &last) && last) {
        char off[32];

        vts_clock_format_offset(off, sizeof(off),
                                json_object_object_get_ex(last, "offset_ns", &v)
                                    ? json_object_get_int64(v)
                                    : 0);
        printf("; watched offset %s", off);
        if (json_object_object_get_ex(last, "age_s", &v))
            printf(", %" PRId64 " s ago", json_object_get_int64(v));
    }
    printf("\n");
}

/* --hook-waiter: the libvirt hook's detached waiter. Logs to syslog: its
 * stdout and stderr are /dev/null. */
static int
vts_cli_hook_waiter(const vts_cli *cli, const char *domain)
{
    vts_conf conf;
    int rc;

    vts_log_open("vmtimesync-hook", false, VTS_LOG_INFO);
    vts_conf_init(&conf);
    conf.uri = strdup(cli->uri);
    vts_conf_from_sync_opts(&conf, &cli->sync);
    if (cli->wait_ns > 0)
        conf.agent_wait_ns = cli->wait_ns;
    rc = vts_waiter_run(&vts_hv_libvirt_ops, &conf, domain, cli->hook_waiter);
    vts_conf_clear(&conf);
    return rc == 0 ? VTS_EXIT_OK : VTS_EXIT_DOMAIN_FAILED;
}

/* --status: ask vmtimesyncd what it did. */
static int
vts_cli_status(const vts_cli *cli)
{
    const char *path = cli->socket ? cli->socket : VTS_CTL_DEFAULT_PATH;
    json_object *root = NULL, *doms = NULL, *v = NULL;
    char *reply = NULL;
    vts_error err;
    int status = VTS_EXIT_OK;

    if (vts_ctl_call(path, "{\"cmd\":\"status\"}\n", VTS_CLI_STATUS_TIMEOUT_MS, &reply,
                     &err) < 0) {
        fprintf(stderr, "vmtimesync: %s\n", err.message);
        return VTS_EXIT_CONNECT;
    }
    root = json_tokener_parse(reply);
    if (!root || !json_object_object_get_ex(root, "domains", &doms) ||
        !json_object_is_type(doms, json_type_array)) {
        if (root && json_object_object_get_ex(root, "error", &v))
            fprintf(stderr, "vmtimesync: vmtimesyncd says: %s\n",
                    json_object_get_string(v));
        else
            fprintf(stderr,
                    "vmtimesync: vmtimesyncd sent a status that is not understood\n");
        status = VTS_EXIT_DOMAIN_FAILED;
        goto cleanup;
    }
    if (cli->json) {
        printf("%s\n", reply);
        goto cleanup;
    }
    if (json_object_object_get_ex(root, "uri", &v)) {
        json_object *conn = NULL;
        bool up = json_object_object_get_ex(root, "connected", &conn) &&
                  json_object_get_boolean(conn);

        printf("vmtimesyncd: %s, %s\n", json_object_get_string(v),
               up ? "connected" : "NOT connected");
    }
    for (size_t i = 0; i < json_object_array_length(doms); i++)
        vts_cli_status_line(json_object_array_get_idx(doms, i));

cleanup:
    json_object_put(root);
    free(reply);
    return status;
}

int
main(int argc, char **argv)
{
    const vts_hv_ops *ops = &vts_hv_libvirt_ops;
    vts_cli cli;
    vts_hv_conn *conn = NULL;
    char **names = NULL;
    size_t count = 0, i;
    vts_error err;
    int first;
    int status = VTS_EXIT_OK;

    memset(&cli, 0, sizeof(cli));
    vts_sync_opts_init(&cli.sync);
    cli.sync.log = vts_cli_log;
    cli.sync.log_opaque = &cli;

    first = vts_cli_parse(&cli, argc, argv);
    if (first == -2)
        return VTS_EXIT_OK;
    if (first < 0)
        return VTS_EXIT_USAGE;
    if (cli.status)
        return vts_cli_status(&cli);

    if (!cli.uri)
        cli.uri = getenv("LIBVIRT_DEFAULT_URI");
    if (!cli.uri || !*cli.uri)
        cli.uri = "qemu:///system";
    if (cli.hook_waiter)
        return vts_cli_hook_waiter(&cli, argv[first]);

    if (ops->connect(cli.uri, &conn, &err) < 0) {
        fprintf(stderr, "vmtimesync: %s\n", err.message);
        return VTS_EXIT_CONNECT;
    }

    if (cli.all) {
        if (ops->list_running(conn, &names, &count, &err) < 0) {
            fprintf(stderr, "vmtimesync: %s\n", err.message);
            status =
                err.code == VTS_ERR_CONNECT ? VTS_EXIT_CONNECT : VTS_EXIT_DOMAIN_FAILED;
            goto cleanup;
        }
        for (i = 0; i < count; i++) {
            vts_sync_result res;

            if (!vts_cli_wants(&cli, ops, conn, names[i]))
                continue;
            vts_sync_domain(ops, conn, names[i], &cli.sync, &res);
            if (!vts_cli_report(&cli, names[i], &res))
                status = VTS_EXIT_DOMAIN_FAILED;
        }
    } else {
        for (i = (size_t)first; i < (size_t)argc; i++) {
            vts_sync_result res;

            vts_sync_domain(ops, conn, argv[i], &cli.sync, &res);
            if (!vts_cli_report(&cli, argv[i], &res))
                status = VTS_EXIT_DOMAIN_FAILED;
        }
    }

cleanup:
    vts_hv_names_free(names, count);
    ops->disconnect(conn);
    return status;
}
