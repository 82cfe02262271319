/*
 * blindset: the blind explicit-time set that Nova, KubeVirt and oVirt do,
 * for the benchmarks to compare vmtimesync with.
 *
 *   blindset -c URI DOMAIN
 *
 * Connects, looks the domain up, then reads the host's CLOCK_REALTIME and
 * passes its seconds and nanoseconds to virDomainSetTime(dom, sec, nsec, 0)
 * (libvirt sends them to the guest agent's guest-set-time). No measurement
 * of the guest before or after, no compensation for the agent's delay: the
 * guest lands one delay behind the host. `virsh domtime DOM --time SEC` is
 * the same call with whole seconds only, hence this helper.
 *
 * Prints nothing on success. Exit status 0 on success, 1 on any failure
 * (message on stderr), 2 on a usage error.
 *
 * Uses libvirt only, no project code (like tests/e2e/vts-probe.c).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

static void
blindset_silent_error(void *opaque, virErrorPtr err)
{
    (void)opaque;
    (void)err;
}

static int
blindset_usage(void)
{
    fputs("usage: blindset -c URI DOMAIN\n"
          "sets DOMAIN's clock to the host's CLOCK_REALTIME with\n"
          "virDomainSetTime(dom, sec, nsec, 0), without measuring anything\n",
          stderr);
    return 2;
}

int
main(int argc, char **argv)
{
    const char *uri;
    const char *name;
    virConnectPtr conn = NULL;
    virDomainPtr dom = NULL;
    struct timespec now;
    int ret = 1;

    if (argc != 4 || strcmp(argv[1], "-c") != 0)
        return blindset_usage();
    uri = argv[2];
    name = argv[3];

    virSetErrorFunc(NULL, blindset_silent_error);
    if (virInitialize() < 0) {
        fputs("blindset: virInitialize failed\n", stderr);
        return 1;
    }
    conn = virConnectOpen(uri);
    if (!conn) {
        fprintf(stderr, "blindset: cannot connect to %s: %s\n", uri,
                virGetLastErrorMessage());
        goto cleanup;
    }
    dom = virDomainLookupByName(conn, name);
    if (!dom) {
        fprintf(stderr, "blindset: %s: %s\n", name, virGetLastErrorMessage());
        goto cleanup;
    }
    /* The host's time, taken as late as possible: what the others do. */
    clock_gettime(CLOCK_REALTIME, &now);
    if (virDomainSetTime(dom, (long long)now.tv_sec, (unsigned int)now.tv_nsec, 0) < 0) {
        fprintf(stderr, "blindset: %s: virDomainSetTime failed: %s\n", name,
                virGetLastErrorMessage());
        goto cleanup;
    }
    ret = 0;

cleanup:
    if (dom)
        virDomainFree(dom);
    if (conn)
        virConnectClose(conn);
    return ret;
}
