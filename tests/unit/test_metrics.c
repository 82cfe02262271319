/* test_metrics.c: the Prometheus textfile (lib/vts_metrics.c). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "vts_metrics.h"

static vts_sync_result
stepped(int64_t offset_ns, int64_t residual_ns)
{
    vts_sync_result r;

    memset(&r, 0, sizeof(r));
    r.action = VTS_ACTION_STEPPED;
    r.have_offset = r.have_residual = true;
    r.offset_ns = offset_ns;
    r.residual_ns = residual_ns;
    return r;
}

static vts_sync_result
failed(vts_err_code code)
{
    vts_sync_result r;

    memset(&r, 0, sizeof(r));
    r.action = VTS_ACTION_ERROR;
    r.err.code = code;
    return r;
}

static void
assert_has_line(const char *text, const char *line)
{
    const char *p = text;
    size_t n = strlen(line);

    while ((p = strstr(p, line)) != NULL) {
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return;
        p++;
    }
    fail_msg("no line '%s' in:\n%s", line, text);
}

static void
test_metrics_counts_syncs_by_trigger_and_result(void **state)
{
    vts_metrics *m = vts_metrics_new();
    vts_sync_result r;
    char *text;

    (void)state;
    assert_non_null(m);
    r = stepped(-3000000000LL, 200000);
    vts_metrics_record(m, "a", "resumed/unpaused", &r, 1700000000LL * 1000000000LL);
    vts_metrics_record(m, "b", "resumed/migrated", &r, 1700000001LL * 1000000000LL);
    r = failed(VTS_ERR_AGENT_TIMEOUT);
    vts_metrics_record(m, "c", "sweep", &r, 1700000002LL * 1000000000LL);
    vts_metrics_set_connected(m, true);
    text = vts_metrics_render(m);
    assert_non_null(text);
    assert_has_line(text, "vmtimesync_connected 1");
    assert_has_line(text,
                    "vmtimesync_syncs_total{trigger=\"resumed\",result=\"stepped\"} 2");
    assert_has_line(
        text, "vmtimesync_syncs_total{trigger=\"sweep\",result=\"agent-timeout\"} 1");
    assert_has_line(text, "vmtimesync_failures_total{kind=\"agent-timeout\"} 1");
    /* 3 s falls in le=10, cumulative from there on. */
    assert_has_line(text, "vmtimesync_offset_seconds_bucket{le=\"1\"} 0");
    assert_has_line(text, "vmtimesync_offset_seconds_bucket{le=\"10\"} 2");
    assert_has_line(text, "vmtimesync_offset_seconds_bucket{le=\"+Inf\"} 2");
    assert_has_line(text, "vmtimesync_offset_seconds_count 2");
    assert_has_line(text, "vmtimesync_residual_seconds_bucket{le=\"0.0001\"} 0");
    assert_has_line(text, "vmtimesync_residual_seconds_bucket{le=\"0.0005\"} 2");
    assert_has_line(
        text, "vmtimesync_last_sync_timestamp_seconds{domain=\"a\"} 1700000000.000");
    /* A failed domain has no "last fine sync". */
    assert_null(strstr(text, "domain=\"c\""));
    assert_has_line(text, "# TYPE vmtimesync_residual_seconds histogram");
    free(text);
    vts_metrics_free(m);
}

static void
test_metrics_escapes_domain_labels(void **state)
{
    vts_metrics *m = vts_metrics_new();
    vts_sync_result r = stepped(-1000000000LL, 0);
    char *text;

    (void)state;
    vts_metrics_record(m, "we\"ird\\na\nme", "resumed/unpaused", &r, 0);
    text = vts_metrics_render(m);
    assert_non_null(strstr(text, "{domain=\"we\\\"ird\\\\na\\nme\"}"));
    free(text);
    vts_metrics_free(m);
}

static void
test_metrics_forget_drops_only_the_domains_series(void **state)
{
    vts_metrics *m = vts_metrics_new();
    vts_sync_result r = stepped(-1000000000LL, 0);
    char *text;

    (void)state;
    assert_non_null(m);
    vts_metrics_record(m, "a", "resumed/unpaused", &r, 0);
    vts_metrics_record(m, "b", "resumed/unpaused", &r, 0);
    vts_metrics_record(m, "c", "resumed/unpaused", &r, 0);
    vts_metrics_forget(m, "a");
    vts_metrics_forget(m, "nobody");
    /* A domain that left while it synced: counted, no series of its own. */
    vts_metrics_record(m, NULL, "recheck", &r, 0);
    text = vts_metrics_render(m);
    assert_non_null(text);
    assert_null(strstr(text, "domain=\"a\""));
    assert_has_line(text, "vmtimesync_last_sync_timestamp_seconds{domain=\"b\"} 0.000");
    assert_has_line(text, "vmtimesync_last_sync_timestamp_seconds{domain=\"c\"} 0.000");
    assert_has_line(text,
                    "vmtimesync_syncs_total{trigger=\"resumed\",result=\"stepped\"} 3");
    assert_has_line(text,
                    "vmtimesync_syncs_total{trigger=\"recheck\",result=\"stepped\"} 1");
    free(text);
    vts_metrics_free(m);
}

/* Watch mode: each domain's latest offset (signed) and when it was
 * measured; measurements by result, every result listed from the start;
 * a domain's series go with it. */
static void
test_metrics_watch_offsets_and_results(void **state)
{
    vts_metrics *m = vts_metrics_new();
    vts_sync_result r = stepped(-1000000000LL, 0);
    char *text;

    (void)state;
    assert_non_null(m);
    text = vts_metrics_render(m);
    assert_has_line(text, "# TYPE vmtimesync_guest_offset_seconds gauge");
    assert_has_line(text, "# TYPE vmtimesync_guest_offset_timestamp_seconds gauge");
    assert_has_line(text, "# TYPE vmtimesync_watch_measurements_total counter");
    assert_has_line(text, "vmtimesync_watch_measurements_total{result=\"ok\"} 0");
    assert_has_line(text, "vmtimesync_watch_measurements_total{result=\"skipped\"} 0");
    free(text);

    vts_metrics_guest_offset(m, "a", -50123456LL, 1700000000250000000LL);
    vts_metrics_guest_offset(m, "b", 3000000000LL, 1700000001000000000LL);
    vts_metrics_guest_offset(m, "a", -49000000LL, 1700000060500000000LL);
    vts_metrics_record(m, "b", "watch", &r, 1700000002LL * 1000000000LL);
    vts_metrics_watch_measured(m, "ok");
    vts_metrics_watch_measured(m, "ok");
    vts_metrics_watch_measured(m, "fixed");
    vts_metrics_watch_measured(m, "held");
    vts_metrics_watch_measured(m, "failed");
    text = vts_metrics_render(m);
    assert_has_line(text, "vmtimesync_guest_offset_seconds{domain=\"a\"} -0.049000000");
    assert_has_line(text, "vmtimesync_guest_offset_seconds{domain=\"b\"} 3.000000000");
    assert_has_line(
        text, "vmtimesync_guest_offset_timestamp_seconds{domain=\"a\"} 1700000060.500");
    assert_has_line(
        text, "vmtimesync_guest_offset_timestamp_seconds{domain=\"b\"} 1700000001.000");
    assert_has_line(text, "vmtimesync_watch_measurements_total{result=\"ok\"} 2");
    assert_has_line(text, "vmtimesync_watch_measurements_total{result=\"fixed\"} 1");
    assert_has_line(text, "vmtimesync_watch_measurements_total{result=\"held\"} 1");
    assert_has_line(text, "vmtimesync_watch_measurements_total{result=\"failed\"} 1");
    assert_has_line(text, "vmtimesync_watch_measurements_total{result=\"skipped\"} 0");
    assert_has_line(text,
                    "vmtimesync_syncs_total{trigger=\"watch\",result=\"stepped\"} 1");
    /* Only synced domains have a last sync. */
    assert_null(strstr(text, "vmtimesync_last_sync_timestamp_seconds{domain=\"a\"}"));
    free(text);

    vts_metrics_forget(m, "b");
    text = vts_metrics_render(m);
    assert_null(strstr(text, "domain=\"b\""));
    assert_has_line(text, "vmtimesync_guest_offset_seconds{domain=\"a\"} -0.049000000");
    free(text);
    vts_metrics_free(m);
}

static void
test_metrics_write_is_atomic(void **state)
{
    char dir[] = "/tmp/vts-metrics.XXXXXX";
    char path[128], tmp[140], buf[8192];
    vts_metrics *m = vts_metrics_new();
    vts_sync_result r = stepped(-1000000000LL, 100000);
    vts_error err;
    FILE *f;
    size_t n;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/vmtimesync.prom", dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    vts_metrics_record(m, "a", "sweep", &r, 0);
    assert_int_equal(vts_metrics_write(m, path, &err), 0);
    assert_int_equal(access(tmp, F_OK), -1);
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    assert_has_line(buf,
                    "vmtimesync_syncs_total{trigger=\"sweep\",result=\"stepped\"} 1");
    /* A directory that does not exist: a clear error, nothing left. */
    assert_int_equal(vts_metrics_write(m, "/nonexistent-dir/x.prom", &err), -1);
    assert_non_null(strstr(err.message, "/nonexistent-dir/x.prom.tmp"));
    unlink(path);
    rmdir(dir);
    vts_metrics_free(m);
}

/* Several workers and the loop thread write the same file at once, while
 * node_exporter reads it: every read must see one whole rendering. */
#define CONC_WRITERS 4
#define CONC_WRITES 400

typedef struct {
    vts_metrics *m;
    const char *path;
    int id;
    atomic_int *failures;
    atomic_int *writers_left;
} conc_writer;

static void *
conc_write(void *opaque)
{
    conc_writer *w = opaque;
    vts_sync_result r = stepped(-1000000000LL, 100000);
    char domain[32];
    vts_error err;

    for (int i = 0; i < CONC_WRITES; i++) {
        /* A new series now and then: renderings of different lengths. */
        snprintf(domain, sizeof(domain), "w%d-%d", w->id, i % 50);
        vts_metrics_record(w->m, domain, "resumed/unpaused", &r, 0);
        if (vts_metrics_write(w->m, w->path, &err) < 0)
            atomic_fetch_add(w->failures, 1);
    }
    atomic_fetch_sub(w->writers_left, 1);
    return NULL;
}

/* Whether @text is one whole rendering: the first family first, every
 * family once, nothing cut off after the last one. */
static bool
conc_whole(const char *text, size_t len)
{
    const char *last = "# TYPE vmtimesync_watch_measurements_total counter\n";
    const char *series = "vmtimesync_watch_measurements_total{result=\"";
    const char *tail;
    int helps = 0, lines = 0;

    if (len == 0 || text[len - 1] != '\n')
        return false;
    if (strncmp(text, "# HELP vmtimesync_connected ",
                strlen("# HELP vmtimesync_connected ")))
        return false;
    for (const char *p = text; (p = strstr(p, "# HELP ")) != NULL; p++)
        helps++;
    if (helps != 9 || (tail = strstr(text, last)) == NULL)
        return false;
    /* After the last family's header only its own series, all five. */
    for (tail += strlen(last); *tail; tail = strchr(tail, '\n') + 1, lines++) {
        if (strncmp(tail, series, strlen(series)) != 0)
            return false;
    }
    return lines == 5;
}

static void
test_metrics_concurrent_writes_never_tear(void **state)
{
    char dir[] = "/tmp/vts-metrics.XXXXXX";
    char path[128];
    static char buf[1 << 16];
    vts_metrics *m = vts_metrics_new();
    pthread_t th[CONC_WRITERS];
    conc_writer w[CONC_WRITERS];
    atomic_int failures = 0, writers_left = CONC_WRITERS;
    int reads = 0, torn = 0;

    (void)state;
    assert_non_null(m);
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/vmtimesync.prom", dir);
    for (int i = 0; i < CONC_WRITERS; i++) {
        w[i] = (conc_writer){m, path, i, &failures, &writers_left};
        assert_int_equal(pthread_create(&th[i], NULL, conc_write, &w[i]), 0);
    }
    while (atomic_load(&writers_left) > 0) {
        FILE *f = fopen(path, "r");
        size_t n;

        if (!f)
            continue; /* not written yet */
        n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
        reads++;
        if (!conc_whole(buf, n))
            torn++;
    }
    for (int i = 0; i < CONC_WRITERS; i++)
        pthread_join(th[i], NULL);
    if (atomic_load(&failures) || torn || !reads)
        fail_msg("%d of %d writes failed, %d of %d reads torn", atomic_load(&failures),
                 CONC_WRITERS * CONC_WRITES, torn, reads);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0); /* no PATH.tmp left behind */
    vts_metrics_free(m);
}

/* node_exporter runs as its own user: the file is world-readable even
 * under the unit's UMask=0077, and the temporary file is never looser. */
static void
test_metrics_file_is_world_readable_whatever_the_umask(void **state)
{
    char dir[] = "/tmp/vts-metrics.XXXXXX";
    char path[128];
    vts_metrics *m = vts_metrics_new();
    vts_error err;
    struct stat st;
    mode_t old = umask(0077);

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/vmtimesync.prom", dir);
    assert_int_equal(vts_metrics_write(m, path, &err), 0);
    /* Twice: rewriting keeps the mode too. */
    assert_int_equal(vts_metrics_write(m, path, &err), 0);
    umask(old);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    unlink(path);
    rmdir(dir);
    vts_metrics_free(m);
}

static void
test_metrics_empty_renders_every_family(void **state)
{
    vts_metrics *m = vts_metrics_new();
    char *text = vts_metrics_render(m);

    (void)state;
    assert_has_line(text, "vmtimesync_connected 0");
    assert_has_line(text, "vmtimesync_offset_seconds_count 0");
    assert_has_line(text, "# TYPE vmtimesync_syncs_total counter");
    free(text);
    vts_metrics_free(m);
    vts_metrics_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_counts_syncs_by_trigger_and_result),
        cmocka_unit_test(test_metrics_escapes_domain_labels),
        cmocka_unit_test(test_metrics_forget_drops_only_the_domains_series),
        cmocka_unit_test(test_metrics_watch_offsets_and_results),
        cmocka_unit_test(test_metrics_write_is_atomic),
        cmocka_unit_test(test_metrics_concurrent_writes_never_tear),
        cmocka_unit_test(test_metrics_file_is_world_readable_whatever_the_umask),
        cmocka_unit_test(test_metrics_empty_renders_every_family),
    };

    return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
