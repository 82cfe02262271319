/* vts_metrics.c: Prometheus text exposition of the daemon's syncs. */
#include "vts_metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vts_clock.h"

/* Buckets of |offset before| in seconds: from noise to a long save. */
static const double vts_metrics_offset_le[] = {0.001, 0.005, 0.01, 0.1, 1, 10, 60, 3600};
/* Buckets of |residual after| in seconds: the precision. */
static const double vts_metrics_residual_le[] = {0.0001, 0.0005, 0.001, 0.002,
                                                 0.005,  0.01,   0.1};

#define VTS_METRICS_NOFF (sizeof(vts_metrics_offset_le) / sizeof(double))
#define VTS_METRICS_NRES (sizeof(vts_metrics_residual_le) / sizeof(double))
#define VTS_METRICS_LABEL_MAX 48

typedef struct {
    uint64_t buckets[16]; /* cumulative at render time; raw counts here */
    uint64_t count;
    double sum;
} vts_histogram;

typedef struct {
    char trigger[VTS_METRICS_LABEL_MAX];
    char result[VTS_METRICS_LABEL_MAX];
    uint64_t count;
} vts_sync_count;

/* A domain's own series. */
typedef struct {
    char *domain;
    bool have_sync;
    int64_t last_ns; /* last fine sync */
    bool have_watch;
    int64_t offset_ns; /* the watch's latest measurement ... */
    int64_t watch_ns;  /* ... and when it was made */
} vts_domain_time;

/* vmtimesync_watch_measurements_total's results, all listed from the start
 * (vts_watch_verdict_name; an unknown one is counted as failed). */
static const char *const vts_metrics_watch_results[] = {"ok", "fixed", "held", "failed",
                                                        "skipped"};
#define VTS_METRICS_NWATCH (sizeof(vts_metrics_watch_results) / sizeof(char *))

struct vts_metrics {
    pthread_mutex_t lock; /* guards every field below */
    /* Held for a whole vts_metrics_write, so writers (any worker, the loop)
     * take turns on PATH.tmp and each rename publishes a whole file, the
     * newest last. Taken before lock, never inside it. */
    pthread_mutex_t write_lock;
    vts_sync_count *syncs;
    size_t nsyncs;
    uint64_t failures[VTS_ERR__COUNT];
    vts_histogram offset;
    vts_histogram residual;
    vts_domain_time *domains;
    size_t ndomains;
    bool connected;
    uint64_t watched[VTS_METRICS_NWATCH];
};

vts_metrics *
vts_metrics_new(void)
{
    vts_metrics *m = calloc(1, sizeof(*m));

    if (m) {
        pthread_mutex_init(&m->lock, NULL);
        pthread_mutex_init(&m->write_lock, NULL);
    }
    return m;
}

void
vts_metrics_free(vts_metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->ndomains; i++)
        free(m->domains[i].domain);
    free(m->domains);
    free(m->syncs);
    pthread_mutex_destroy(&m->lock);
    pthread_mutex_destroy(&m->write_lock);
    free(m);
}

static void
vts_histogram_add(vts_histogram *h, const double *le, size_t n, double v)
{
    for (size_t i = 0; i < n; i++) {
        if (v <= le[i]) {
            h->buckets[i]++;
            break;
        }
    }
    h->count++;
    h->sum += v;
}

/* @domain's series, added when new; NULL when out of memory. With m->lock
 * held. */
static vts_domain_time *
vts_metrics_domain(vts_metrics *m, const char *domain)
{
    vts_domain_time *grown = NULL;
    char *copy = NULL;

    for (size_t i = 0; i < m->ndomains; i++) {
        if (strcmp(m->domains[i].domain, domain) == 0)
            return &m->domains[i];
    }
    grown = realloc(m->domains, (m->ndomains + 1) * sizeof(*grown));
    if (grown)
        m->domains = grown;
    if (!grown || !(copy = strdup(domain)))
        return NULL;
    memset(&m->domains[m->ndomains], 0, sizeof(m->domains[0]));
    m->domains[m->ndomains].domain = copy;
    return &m->domains[m->ndomains++];
}

void
vts_metrics_record(vts_metrics *m, const char *domain, const char *trigger,
                   const vts_sync_result *res, int64_t when_ns)
{
    const char *result = res->action == VTS_ACTION_ERROR
                             ? vts_error_code_name(res->err.code)
                             : vts_action_name(res->action);
    char kind[VTS_METRICS_LABEL_MAX];
    size_t klen = strcspn(trigger, "/");
    vts_domain_time *d = NULL;
    size_t i;

    snprintf(kind, sizeof(kind), "%.*s",
             (int)(klen < sizeof(kind) ? klen : sizeof(kind) - 1), trigger);
    pthread_mutex_lock(&m->lock);
    for (i = 0; i < m->nsyncs; i++) {
        if (strcmp(m->syncs[i].trigger, kind) == 0 &&
            strcmp(m->syncs[i].result, result) == 0)
            break;
    }
    if (i == m->nsyncs) {
        vts_sync_count *grown = realloc(m->syncs, (m->nsyncs + 1) * sizeof(*grown));

        if (grown) {
            m->syncs = grown;
            memset(&m->syncs[i], 0, sizeof(m->syncs[i]));
            snprintf(m->syncs[i].trigger, sizeof(m->syncs[i].trigger), "%s", kind);
            snprintf(m->syncs[i].result, sizeof(m->syncs[i].result), "%s", result);
            m->nsyncs++;
        }
    }
    if (i < m->nsyncs)
        m->syncs[i].count++;
    if (res->action == VTS_ACTION_ERROR && res->err.code < VTS_ERR__COUNT)
        m->failures[res->err.code]++;
    if (res->have_offset)
        vts_histogram_add(&m->offset, vts_metrics_offset_le, VTS_METRICS_NOFF,
                          llabs(res->offset_ns) / (double)VTS_NS_PER_SEC);
    if (res->have_residual)
        vts_histogram_add(&m->residual, vts_metrics_residual_le, VTS_METRICS_NRES,
                          llabs(res->residual_ns) / (double)VTS_NS_PER_SEC);
    if (domain && res->action != VTS_ACTION_ERROR &&
        (d = vts_metrics_domain(m, domain)) != NULL) {
        d->have_sync = true;
        d->last_ns = when_ns;
    }
    pthread_mutex_unlock(&m->lock);
}

void
vts_metrics_forget(vts_metrics *m, const char *domain)
{
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->ndomains; i++) {
        if (strcmp(m->domains[i].domain, domain) == 0) {
            free(m->domains[i].domain);
            m->domains[i] = m->domains[m->ndomains - 1];
            m->ndomains--;
            break;
        }
    }
    pthread_mutex_unlock(&m->lock);
}

void
vts_metrics_guest_offset(vts_metrics *m, const char *domain, int64_t offset_ns,
                         int64_t wall_ns)
{
    vts_domain_time *d = NULL;

    pthread_mutex_lock(&m->lock);
    if ((d = vts_metrics_domain(m, domain)) != NULL) {
        d->have_watch = true;
        d->offset_ns = offset_ns;
        d->watch_ns = wall_ns;
    }
    pthread_mutex_unlock(&m->lock);
}

void
vts_metrics_watch_measured(vts_metrics *m, const char *result)
{
    size_t i;

    for (i = 0; i < VTS_METRICS_NWATCH - 1; i++) {
        if (strcmp(result, vts_metrics_watch_results[i]) == 0)
            break;
    }
    if (i == VTS_METRICS_NWATCH - 1 && strcmp(result, "skipped") != 0)
        i = 3; /* failed */
    pthread_mutex_lock(&m->lock);
    m->watched[i]++;
    pthread_mutex_unlock(&m->lock);
}

void
vts_metrics_set_connected(vts_metrics *m, bool connected)
{
    pthread_mutex_lock(&m->lock);
    m->connected = connected;
    pthread_mutex_unlock(&m->lock);
}

/* A growing string. */
typedef struct {
    char *s;
    size_t len, cap;
    bool oom;
} vts_buf;

static void vts_buf_printf(vts_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
vts_buf_printf(vts_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->oom)
        return;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if (b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        {
            size_t cap = (b->cap ? b->cap : 1024) * 2 + (size_t)n;
            char *grown = realloc(b->s, cap);

            if (!grown) {
                b->oom = true;
                return;
            }
            b->s = grown;
            b->cap = cap;
        }
    }
}

/* A label value with \, " and newline escaped, as the format requires. */
static void
vts_buf_label(vts_buf *b, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\')
            vts_buf_printf(b, "\\\\");
        else if (*v == '"')
            vts_buf_printf(b, "\\\"");
        else if (*v == '\n')
            vts_buf_printf(b, "\\n");
        else
            vts_buf_printf(b, "%c", *v);
    }
}

static void
vts_buf_histogram(vts_buf *b, const char *name, const char *help, const vts_histogram *h,
                  const double *le, size_t n)
{
    uint64_t cum = 0;

    vts_buf_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    for (size_t i = 0; i < n; i++) {
        cum += h->buckets[i];
        vts_buf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, le[i],
                       (unsigned long long)cum);
    }
    vts_buf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name,
                   (unsigned long long)h->count);
    vts_buf_printf(b, "%s_sum %.9f\n%s_count %llu\n", name, h->sum, name,
                   (unsigned long long)h->count);
}

/* The per-domain gauges. */
typedef enum {
    VTS_SERIES_LAST_SYNC,
    VTS_SERIES_OFFSET,
    VTS_SERIES_OFFSET_TIME,
} vts_series;

/* The gauge @name of every domain that has a value for @which. */
static void
vts_buf_domains(vts_buf *b, const vts_metrics *m, vts_series which, const char *name,
                const char *help)
{
    vts_buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
    for (size_t i = 0; i < m->ndomains; i++) {
        const vts_domain_time *d = &m->domains[i];

        if (which == VTS_SERIES_LAST_SYNC ? !d->have_sync : !d->have_watch)
            continue;
        vts_buf_printf(b, "%s{domain=\"", name);
        vts_buf_label(b, d->domain);
        if (which == VTS_SERIES_OFFSET)
            vts_buf_printf(b, "\"} %.9f\n", d->offset_ns / (double)VTS_NS_PER_SEC);
        else
            vts_buf_printf(b, "\"} %.3f\n",
                           (which == VTS_SERIES_LAST_SYNC ? d->last_ns : d->watch_ns) /
                               (double)VTS_NS_PER_SEC);
    }
}

char *
vts_metrics_render(vts_metrics *m)
{
    vts_buf b = {0};

    pthread_mutex_lock(&m->lock);
    vts_buf_printf(
        &b,
        "# HELP vmtimesync_connected Whether vmtimesyncd is connected to "
        "libvirt.\n# TYPE vmtimesync_connected gauge\nvmtimesync_connected %d\n",
        m->connected ? 1 : 0);
    vts_buf_printf(
        &b, "# HELP vmtimesync_syncs_total Syncs finished, by trigger and result.\n"
            "# TYPE vmtimesync_syncs_total counter\n");
    for (size_t i = 0; i < m->nsyncs; i++)
        vts_buf_printf(&b, "vmtimesync_syncs_total{trigger=\"%s\",result=\"%s\"} %llu\n",
                       m->syncs[i].trigger, m->syncs[i].result,
                       (unsigned long long)m->syncs[i].count);
    vts_buf_printf(&b, "# HELP vmtimesync_failures_total Failed syncs, by kind.\n"
                       "# TYPE vmtimesync_failures_total counter\n");
    for (int c = 1; c < VTS_ERR__COUNT; c++) {
        if (m->failures[c])
            vts_buf_printf(&b, "vmtimesync_failures_total{kind=\"%s\"} %llu\n",
                           vts_error_code_name((vts_err_code)c),
                           (unsigned long long)m->failures[c]);
    }
    vts_buf_histogram(&b, "vmtimesync_offset_seconds",
                      "The guest's offset from the host before a sync, absolute.",
                      &m->offset, vts_metrics_offset_le, VTS_METRICS_NOFF);
    vts_buf_histogram(&b, "vmtimesync_residual_seconds",
                      "The guest's offset from the host after a step, absolute.",
                      &m->residual, vts_metrics_residual_le, VTS_METRICS_NRES);
    vts_buf_domains(&b, m, VTS_SERIES_LAST_SYNC, "vmtimesync_last_sync_timestamp_seconds",
                    "When a domain last synced fine (Unix time).");
    vts_buf_domains(&b, m, VTS_SERIES_OFFSET, "vmtimesync_guest_offset_seconds",
                    "A domain's clock minus the host's, as the watch last measured it "
                    "(signed).");
    vts_buf_domains(&b, m, VTS_SERIES_OFFSET_TIME,
                    "vmtimesync_guest_offset_timestamp_seconds",
                    "When the watch last measured a domain's offset (Unix time).");
    vts_buf_printf(&b,
                   "# HELP vmtimesync_watch_measurements_total Watch measurements, by "
                   "result (ok, fixed, held, failed, skipped).\n"
                   "# TYPE vmtimesync_watch_measurements_total counter\n");
    for (size_t i = 0; i < VTS_METRICS_NWATCH; i++)
        vts_buf_printf(&b, "vmtimesync_watch_measurements_total{result=\"%s\"} %llu\n",
                       vts_metrics_watch_results[i], (unsigned long long)m->watched[i]);
    pthread_mutex_unlock(&m->lock);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

int
vts_metrics_write(vts_metrics *m, const char *path, vts_error *err)
{
    char tmp[4096 + 8] = "";
    char *text = NULL;
    size_t len, off = 0;
    int fd = -1;
    int ret = -1;

    pthread_mutex_lock(&m->write_lock);
    /* Rendered under the write lock: a later rename never publishes an
     * older rendering. */
    text = vts_metrics_render(m);
    if (!text) {
        vts_error_set(err, VTS_ERR_INTERNAL, "out of memory rendering metrics");
        goto cleanup;
    }
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
        tmp[0] = '\0'; /* not a name to unlink */
        vts_error_set(err, VTS_ERR_CONFIG, "metrics_file path too long");
        goto cleanup;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    /* The unit's UMask=0077 would make it 0600, and node_exporter runs as
     * another user: the counters are no secret. */
    if (fd < 0 || fchmod(fd, 0644) < 0) {
        vts_error_set(err, VTS_ERR_CONFIG, "cannot write %s: %s", tmp, strerror(errno));
        goto cleanup;
    }
    len = strlen(text);
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            vts_error_set(err, VTS_ERR_CONFIG, "cannot write %s: %s", tmp,
                          strerror(errno));
            goto cleanup;
        }
        off += (size_t)w;
    }
    if (close(fd) < 0) {
        fd = -1;
        vts_error_set(err, VTS_ERR_CONFIG, "cannot write %s: %s", tmp, strerror(errno));
        goto cleanup;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        vts_error_set(err, VTS_ERR_CONFIG, "cannot rename %s to %s: %s", tmp, path,
                      strerror(errno));
        goto cleanup;
    }
    ret = 0;

cleanup:
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    } else if (ret < 0 && tmp[0]) {
        unlink(tmp);
    }
    pthread_mutex_unlock(&m->write_lock);
    free(text);
    return ret;
}
