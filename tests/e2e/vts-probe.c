/*
 * vts-probe: the e2e tests' independent measure of a guest's clock.
 *
 * It talks to libvirt and the QEMU guest agent directly (libvirt,
 * libvirt-qemu, json-c) and shares no code with vmtimesync, so a bug in the
 * project's library cannot hide itself from the tests.
 *
 *   vts-probe -c URI DOM offset [-n SAMPLES] [-t TIMEOUT_S]
 *       prints "OFFSET_NS RTT_NS": guest clock minus host clock, and the
 *       round trip of the sample kept. Of SAMPLES guest-get-time calls over
 *       one connection, each bracketed by CLOCK_REALTIME readings, the one
 *       with the smallest round trip is kept; its offset is measured
 *       against the midpoint of the bracket.
 *
 *   vts-probe -c URI DOM shift SECONDS [-t TIMEOUT_S]
 *       sets the guest clock to host now + SECONDS (may be fractional or
 *       negative) with guest-set-time, to put a guest off by a known
 *       amount. The one-way delay leaves it about half a round trip behind
 *       that. (libvirt syncs with the agent once per connection, not per
 *       command, so each call here is one round trip to qemu-ga.)
 *
 * Exit status 0 on success, 1 on any failure (message on stderr), 2 on a
 * usage error.
 *
 * Build: cc -O2 -Wall -Wextra -o build/vts-probe tests/e2e/vts-probe.c \
 *          $(pkg-config --cflags --libs libvirt libvirt-qemu json-c)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timex.h>
#include <time.h>

#include <json-c/json.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#define PROBE_NS_PER_S 1000000000LL
#define PROBE_MAX_SAMPLES 1000

static void
probe_usage(FILE *out)
{
    fputs("usage: vts-probe -c URI DOMAIN offset [-n SAMPLES] [-t TIMEOUT_S]\n"
          "       vts-probe hostclock\n"
          "       vts-probe -c URI DOMAIN shift SECONDS [-t TIMEOUT_S]\n"
          "offset prints \"OFFSET_NS RTT_NS\" (guest minus host);\n"
          "shift sets the guest clock to host now + SECONDS.\n",
          out);
}

static void probe_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
probe_error(const char *fmt, ...)
{
    va_list ap;

    fputs("vts-probe: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Keep libvirt from printing errors itself: we report them once, below. */
static void
probe_silent_error(void *opaque, virErrorPtr err)
{
    (void)opaque;
    (void)err;
}

static int64_t
probe_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * PROBE_NS_PER_S + ts.tv_nsec;
}

/*
 * Sends one agent command; on success stores the reply's "return" member
 * in *ret (a new reference the caller puts) and returns 0.
 */
static int
probe_agent(virDomainPtr dom, const char *cmd, int timeout_s, json_object **ret)
{
    char *reply = NULL;
    json_object *root = NULL;
    json_object *member = NULL;
    int rc = -1;

    reply = virDomainQemuAgentCommand(dom, cmd, timeout_s, 0);
    if (!reply) {
        /* Copy first: virDomainGetName() resets the last error. */
        char *msg = strdup(virGetLastErrorMessage());

        probe_error("%s: agent command failed: %s", virDomainGetName(dom),
                    msg ? msg : "(out of memory)");
        free(msg);
        goto cleanup;
    }
    root = json_tokener_parse(reply);
    if (!root || !json_object_is_type(root, json_type_object)) {
        probe_error("%s: agent reply is not a JSON object: %s", virDomainGetName(dom),
                    reply);
        goto cleanup;
    }
    if (!json_object_object_get_ex(root, "return", &member)) {
        probe_error("%s: agent reply has no \"return\": %s", virDomainGetName(dom),
                    reply);
        goto cleanup;
    }
    *ret = json_object_get(member);
    rc = 0;

cleanup:
    json_object_put(root);
    free(reply);
    return rc;
}

static int
probe_offset(virDomainPtr dom, long samples, int timeout_s)
{
    int64_t best_rtt = INT64_MAX;
    int64_t best_offset = 0;
    long i;

    for (i = 0; i < samples; i++) {
        json_object *ret = NULL;
        int64_t before, after, guest, rtt;

        before = probe_now_ns();
        if (probe_agent(dom, "{\"execute\":\"guest-get-time\"}", timeout_s, &ret) < 0)
            return -1;
        after = probe_now_ns();
        if (!json_object_is_type(ret, json_type_int)) {
            probe_error("%s: guest-get-time returned %s, not an integer",
                        virDomainGetName(dom), json_object_to_json_string(ret));
            json_object_put(ret);
            return -1;
        }
        errno = 0;
        guest = json_object_get_int64(ret);
        json_object_put(ret);
        if (errno != 0) {
            probe_error("%s: guest-get-time value out of range", virDomainGetName(dom));
            return -1;
        }
        rtt = after - before;
        if (rtt < best_rtt) {
            best_rtt = rtt;
            best_offset = guest - (before + rtt / 2);
        }
    }
    printf("%" PRId64 " %" PRId64 "\n", best_offset, best_rtt);
    return 0;
}

static int
probe_shift(virDomainPtr dom, double seconds, int timeout_s)
{
    json_object *ret = NULL;
    char cmd[128];
    int64_t target;

    /* Rounded by hand: no libm in the documented build line. */
    target = probe_now_ns() + (int64_t)(seconds * 1e9 + (seconds < 0 ? -0.5 : 0.5));
    snprintf(cmd, sizeof(cmd),
             "{\"execute\":\"guest-set-time\",\"arguments\":{\"time\":%" PRId64 "}}",
             target);
    if (probe_agent(dom, cmd, timeout_s, &ret) < 0)
        return -1;
    json_object_put(ret);
    return 0;
}

/* Returns the option letter for -c/--connect etc., 0 if unknown. */
static int
probe_option(const char *arg)
{
    if (strncmp(arg, "--", 2) == 0) {
        if (strcmp(arg, "--connect") == 0)
            return 'c';
        if (strcmp(arg, "--samples") == 0)
            return 'n';
        if (strcmp(arg, "--timeout") == 0)
            return 't';
        return 0;
    }
    if (arg[1] == 'c' || arg[1] == 'n' || arg[1] == 't')
        return arg[1];
    return 0;
}

static int
probe_parse_long(const char *s, long min, long max, long *out)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int
main(int argc, char **argv)
{
    const char *uri = NULL;
    const char *domname;
    const char *verb;
    long samples = 9;
    long timeout_s = 10;
    double seconds = 0;
    virConnectPtr conn = NULL;
    virDomainPtr dom = NULL;
    int state = 0;
    int reason = 0;
    const char *args[3] = {NULL, NULL, NULL};
    int nargs = 0;
    int ret = 1;
    int opt;
    int i;

    /* "vts-probe hostclock": is this host's clock synchronized (adjtimex)?
     * Prints "synced" or "unsynced", independently of vmtimesync. */
    if (argc == 2 && strcmp(argv[1], "hostclock") == 0) {
        struct timex tx;
        int clock_state;

        memset(&tx, 0, sizeof(tx));
        clock_state = adjtimex(&tx);
        if (clock_state < 0) {
            perror("vts-probe: adjtimex");
            return 1;
        }
        puts(clock_state == TIME_ERROR || (tx.status & STA_UNSYNC) ? "unsynced"
                                                                   : "synced");
        return 0;
    }

    /*
     * Options may follow the operands ("DOM offset -n 5"), and a negative
     * number is an operand ("shift -2.5"): getopt's permutation would take
     * it for an option, so parse by hand.
     */
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = NULL;

        if (strcmp(arg, "--") == 0) {
            while (++i < argc) {
                if (nargs == 3)
                    goto usage;
                args[nargs++] = argv[i];
            }
            break;
        }
        if (arg[0] != '-' || arg[1] == '.' || (arg[1] >= '0' && arg[1] <= '9')) {
            if (nargs == 3)
                goto usage;
            args[nargs++] = arg;
            continue;
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            probe_usage(stdout);
            return 0;
        }
        opt = probe_option(arg);
        if (opt == 0) {
            probe_error("unknown option '%s'", arg);
            goto usage;
        }
        if (arg[1] != '-' && arg[2] != '\0') {
            val = arg + 2; /* -cURI */
        } else {
            if (i + 1 >= argc) {
                probe_error("option '%s' needs a value", arg);
                goto usage;
            }
            val = argv[++i];
        }
        switch (opt) {
        case 'c':
            uri = val;
            break;
        case 'n':
            if (probe_parse_long(val, 1, PROBE_MAX_SAMPLES, &samples) < 0) {
                probe_error("-n wants 1..%d, not '%s'", PROBE_MAX_SAMPLES, val);
                return 2;
            }
            break;
        case 't':
            if (probe_parse_long(val, 1, 3600, &timeout_s) < 0) {
                probe_error("-t wants 1..3600 seconds, not '%s'", val);
                return 2;
            }
            break;
        }
    }
    if (nargs < 2)
        goto usage;
    domname = args[0];
    verb = args[1];
    if (strcmp(verb, "offset") == 0) {
        if (nargs != 2)
            goto usage;
    } else if (strcmp(verb, "shift") == 0) {
        char *end = NULL;

        if (nargs != 3)
            goto usage;
        errno = 0;
        seconds = strtod(args[2], &end);
        /* The range test also rejects NaN and infinities. */
        if (errno != 0 || end == args[2] || *end != '\0' ||
            !(seconds > -1e8 && seconds < 1e8)) {
            probe_error("shift wants seconds, not '%s'", args[2]);
            return 2;
        }
    } else {
        probe_error("unknown verb '%s'", verb);
        goto usage;
    }

    virSetErrorFunc(NULL, probe_silent_error);
    if (virInitialize() < 0) {
        probe_error("virInitialize failed");
        goto cleanup;
    }
    conn = virConnectOpen(uri);
    if (!conn) {
        probe_error("cannot connect to %s: %s", uri ? uri : "(default)",
                    virGetLastErrorMessage());
        goto cleanup;
    }
    dom = virDomainLookupByName(conn, domname);
    if (!dom) {
        probe_error("%s: %s", domname, virGetLastErrorMessage());
        goto cleanup;
    }
    if (virDomainGetState(dom, &state, &reason, 0) < 0) {
        probe_error("%s: %s", domname, virGetLastErrorMessage());
        goto cleanup;
    }
    if (state != VIR_DOMAIN_RUNNING) {
        probe_error("%s: not running (state %d, reason %d)", domname, state, reason);
        goto cleanup;
    }

    if (strcmp(verb, "offset") == 0)
        ret = probe_offset(dom, samples, (int)timeout_s) < 0 ? 1 : 0;
    else
        ret = probe_shift(dom, seconds, (int)timeout_s) < 0 ? 1 : 0;

cleanup:
    if (dom)
        virDomainFree(dom);
    if (conn)
        virConnectClose(conn);
    if (fflush(stdout) != 0 && ret == 0) {
        probe_error("writing to stdout: %s", strerror(errno));
        ret = 1;
    }
    return ret;

usage:
    probe_usage(stderr);
    return 2;
}
