/* vts_conf.c: reading vmtimesync.conf, one directive per branch.
 *
 * The parser works on a string (vts_conf_parse_string), so tests need no
 * files; vts_conf_load only reads the file and hands its bytes over.
 */
#include "vts_conf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vts_ctl.h"

#define VTS_CONF_ALLOW_PRIV
#include "vts_conf_priv.h"

_Static_assert(VTS_CONF_SOCKET_PATH_MAX <= sizeof(((struct sockaddr_un *)0)->sun_path),
               "control_socket must fit in sun_path");
_Static_assert(sizeof(VTS_CTL_DEFAULT_PATH) <= VTS_CONF_SOCKET_PATH_MAX,
               "the default control socket path must fit");

#define VTS_CONF_DEFAULT_AGENT_WAIT_NS (10 * VTS_NS_PER_MIN)
#define VTS_CONF_DEFAULT_RETRY_MAX 8
#define VTS_CONF_DEFAULT_BACKOFF_INITIAL_NS (1 * VTS_NS_PER_SEC)
#define VTS_CONF_DEFAULT_BACKOFF_MAX_NS (60 * VTS_NS_PER_SEC)
/* Eight agent calls at once: libvirtd serves every client's calls with 20
 * workers (max_workers), shared with nova-compute and the like, and each of
 * our calls holds one until the guest answers (0.5-2 s for a step on a
 * util-linux guest). The simulation (make sim, docs/benchmarks.md): 200
 * guests resumed at once are all within 2 ms after 42 s with 8, 83 s with
 * 4; 16 make steps land late (161 of 180 guests left beyond 2 ms) once
 * other clients hold half of libvirtd's workers, 8 do not (worst 1.8 ms),
 * and 8 leave 12 workers to the others. */
#define VTS_CONF_DEFAULT_WORKERS 8
#define VTS_CONF_DEFAULT_RECHECK_MAX 3
#define VTS_CONF_DEFAULT_RECHECK_DELAY_NS (1 * VTS_NS_PER_SEC)
/* Watch mode. Every 60 s, as VMware Tools: drift (a broken or fighting
 * NTP, a missed event) moves a clock by at most tens of ms a minute, so a
 * shorter interval finds nothing sooner that matters, while it costs 60
 * guest-get-time calls per guest and hour; 500 guests make 8 measurements
 * a second, each holding one libvirtd worker for a few ms. */
#define VTS_CONF_DEFAULT_WATCH_INTERVAL_NS (60 * VTS_NS_PER_SEC)
#define VTS_CONF_WATCH_INTERVAL_MIN_NS (1 * VTS_NS_PER_SEC)
#define VTS_CONF_WATCH_INTERVAL_MAX_NS (24 * VTS_NS_PER_HOUR)
/* Correct only beyond 1 s: a guest's NTP slews smaller offsets away itself
 * (chrony at up to 83 ms/s), and 1 s is also max_backward: the watch never
 * steps a guest back that a sync would refuse to. */
#define VTS_CONF_DEFAULT_WATCH_FIX_ABOVE_NS (1 * VTS_NS_PER_SEC)

/* Longest piece of a value quoted back in an error message: enough to
 * recognise it, short enough that the message still fits. */
#define VTS_CONF_QUOTE_MAX 64

/* Room for the list of known keys in the unknown-key message. */
#define VTS_CONF_KNOWN_MAX 400

/* Where the parser is, for error messages. */
typedef struct {
    const char *source;
    unsigned line;
    const char *key;
    vts_error *err;
} vts_conf_ctx;

struct vts_conf_key;

/* Read @value, the value of the key @k, into its field of @conf. */
typedef int (*vts_conf_parse_fn)(const vts_conf_ctx *ctx, const struct vts_conf_key *k,
                                 const char *value, vts_conf *conf);

/* One key of the file: everything about it is said here, once (the table
 * is vts_conf_keys below). */
typedef struct vts_conf_key {
    /* The name; for numbers (and the watch keys' durations) also
     * vmtimesync's option, kind and bounds. Other keys have kind COUNT and
     * no bounds: their parse function says what they take. */
    vts_conf_bounds b;
    int number;              /* its vts_conf_number, or -1 */
    vts_conf_parse_fn parse; /* reads a value from the file */
    /* The default: @def_text, in the file's syntax, read with @parse; else,
     * for a key without @unset, @def, as vts_conf_parse_arg gives it; else
     * none (the field stays zero) and @unset is the word the documentation
     * uses for that ("none"). */
    int64_t def;
    const char *def_text;
    const char *unset;
    const char *word;      /* watch keys: the word besides durations ("off") */
    int64_t word_value;    /* ... and the value it stands for */
    const char *examples;  /* ... and what error messages suggest */
    const char *doc;       /* what it does, in one line */
    size_t offset;         /* its field in vts_conf */
    size_t size;           /* ... of this size */
    ptrdiff_t opts_offset; /* its field in vts_sync_opts (same size), or -1 */
} vts_conf_key;

static const vts_conf_key *vts_conf_number_key(vts_conf_number n);
static void
vts_conf_free_list(char **list, size_t count)
{
    size_t i;

    for (i = 0; i < count; i++)
        free(list[i]);
    free(list);
}

void
vts_conf_clear(vts_conf *conf)
{
    free(conf->uri);
    free(conf->metrics_file);
    vts_conf_free_list(conf->include, conf->include_count);
    vts_conf_free_list(conf->exclude, conf->exclude_count);
    vts_conf_init(conf);
}

/* Copy @value into @buf for quoting in a message, shortened with "..." at a
 * UTF-8 character boundary when long. Values never hold control
 * characters here (the line was checked first), so they cannot forge a log
 * line. */
static const char *
vts_conf_quote(char *buf, size_t len, const char *value)
{
    size_t n = strlen(value);

    if (n <= VTS_CONF_QUOTE_MAX && n < len) {
        memcpy(buf, value, n + 1);
        return buf;
    }
    n = VTS_CONF_QUOTE_MAX - 3 < len - 4 ? VTS_CONF_QUOTE_MAX - 3 : len - 4;
    while (n > 0 && ((unsigned char)value[n] & 0xc0) == 0x80)
        n--;
    memcpy(buf, value, n);
    memcpy(buf + n, "...", 4);
    return buf;
}

static int vts_conf_fail(const vts_conf_ctx *ctx, vts_err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fill the error with "SOURCE:LINE: KEY: message" (no "KEY: " when the
 * line has no key yet). Always returns -1. */
static int
vts_conf_fail(const vts_conf_ctx *ctx, vts_err_code code, const char *fmt, ...)
{
    char msg[VTS_ERROR_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (ctx->key)
        return vts_error_set(ctx->err, code, "%s:%u: %s: %s", ctx->source, ctx->line,
                             ctx->key, msg);
    return vts_error_set(ctx->err, code, "%s:%u: %s", ctx->source, ctx->line, msg);
}

static int
vts_conf_oom(const vts_conf_ctx *ctx)
{
    return vts_conf_fail(ctx, VTS_ERR_INTERNAL, "out of memory");
}

static int
vts_conf_duration(const vts_conf_ctx *ctx, const char *value, int64_t min, int64_t max,
                  int64_t *out)
{
    char q[VTS_CONF_QUOTE_MAX + 4], lo[32], hi[32];
    int64_t ns = 0;
    int rc;

    if (!*value)
        return vts_conf_fail(ctx, VTS_ERR_CONFIG, "missing value (use e.g. 5ms, 2s)");
    rc = vts_clock_parse_duration(value, &ns);
    if (rc == -1)
        return vts_conf_fail(ctx, VTS_ERR_CONFIG,
                             "'%s' is not a duration (use e.g. 5ms, 2s)",
                             vts_conf_quote(q, sizeof(q), value));
    vts_clock_format_duration(lo, sizeof(lo), min);
    vts_clock_format_duration(hi, sizeof(hi), max);
    if (rc == -2 || ns < min || ns > max)
        return vts_conf_fail(ctx, VTS_ERR_CONFIG, "'%s' is out of range (%s to %s)",
                             vts_conf_quote(q, sizeof(q), value), lo, hi);
    *out = ns;
    return 0;
}

/* A duration in whole seconds, for the agent timeout that libvirt takes in
 * seconds. */
static int
vts_conf_seconds(const vts_conf_ctx *ctx, const char *value, int min_s, int max_s,
                 int *out)
{
    char q[VTS_CONF_QUOTE_MAX + 4];
    int64_t ns = 0;

    if (vts_conf_duration(ctx, value, min_s * VTS_NS_PER_SEC, max_s * VTS_NS_PER_SEC,
                          &ns) < 0)
        return -1;
    if (ns % VTS_NS_PER_SEC != 0)
        return vts_conf_fail(ctx, VTS_ERR_CONFIG,
                             "'%s' is not a whole number of seconds (use e.g. 5s, 1min)",
                             vts_conf_quote(q, sizeof(q), value));
    *out = (int)(ns / VTS_NS_PER_SEC);
    return 0;
}

static int
vts_conf_int(const vts_conf_ctx *ctx, const char *value, int min, int max, int *out)
{
    char q[VTS_CONF_QUOTE_MAX + 4];
    const char *p = NULL;
    long long v = 0;

    if (!*value)
        return vts_conf_fail(ctx, VTS_ERR_CONFIG,
                             "missing value (a whole number from %d to %d)", min, max);
    for (p = value; *p >= '0' && *p <= '9'; p++)
        if (v <= max) /* stop growing once out of range: no overflow */
            v = v * 10 + (*p - '0');
    if (*p)
        return vts_conf_fail(ctx, VTS_ERR_CONFIG,
                             "'%s' is not a whole number from %d to %d",
                             vts_conf_quote(q, sizeof(q), value), min, max);
    if (v < min || v > max)
        return vts_conf_fail(ctx, VTS_ERR_CONFIG, "'%s' is out of range (%d to %d)",
                             vts_conf_quote(q, sizeof(q), value), min, max);
    *out = (int)v;
    return 0;
}

/* The value of the numeric key @k, into its field of @conf. */
static int
vts_conf_number_value(const vts_conf_ctx *ctx, const vts_conf_key *k, const char *value,
                      vts_conf *conf)
{
    const vts_conf_bounds *b = &k->b;
    char *field = (char *)conf + k->offset;

    switch (b->kind) {
    case VTS_CONF_DURATION:
        return vts_conf_duration(ctx, value, b->min, b->max, (int64_t *)(void *)field);
    case VTS_CONF_WHOLE_SECONDS:
        return vts_conf_seconds(ctx, value, (int)(b->min / VTS_NS_PER_SEC),
                                (int)(b->max / VTS_NS_PER_SEC), (int *)(void *)field);
    case VTS_CONF_COUNT:
        break;
    }
    return vts_conf_int(ctx, value, (int)b->min, (int)b->max, (int *)(void *)field);
}

int
vts_conf_parse_arg(vts_conf_number n, const char *arg, int64_t *out, vts_error *err)
{
    const vts_conf_bounds *b = &vts_conf_number_key(n)->b;
    char lo[32], hi[32];
    int64_t v = 0;
    const char *p = NULL;

    if (b->kind == VTS_CONF_COUNT) {
        for (p = arg; *p >= '0' && *p <= '9'; p++)
            if (v <= b->max) /* stop growing once out of range: no overflow */
                v = v * 10 + (*p - '0');
        if (p == arg || *p || v < b->min || v > b->max)
            return vts_error_set(err, VTS_ERR_CONFIG, "a whole number from %lld to %lld",
                                 (long long)b->min, (long long)b->max);
        *out = v;
        return 0;
    }
    if (vts_clock_parse_duration(arg, &v) < 0 || v < b->min || v > b->max ||
        (b->kind == VTS_CONF_WHOLE_SECONDS && v % VTS_NS_PER_SEC != 0)) {
        if (b->kind == VTS_CONF_WHOLE_SECONDS)
            return vts_error_set(err, VTS_ERR_CONFIG, "whole seconds from %lld to %lld",
                                 (long long)(b->min / VTS_NS_PER_SEC),
                                 (long long)(b->max / VTS_NS_PER_SEC));
        vts_clock_format_duration(lo, sizeof(lo), b->min);
        vts_clock_format_duration(hi, sizeof(hi), b->max);
        return vts_error_set(err, VTS_ERR_CONFIG,
                             "a duration from %s to %s (e.g. 5ms, 2s; a bare number is "
                             "seconds)",
                             lo, hi);
    }
    *out = v;
    return 0;
}

int64_t
vts_conf_number_get(const vts_conf *conf, vts_conf_number n)
{
    const vts_conf_key *k = vts_conf_number_key(n);
    const char *field = (const char *)conf + k->offset;

    switch (k->b.kind) {
    case VTS_CONF_DURATION:
        return *(const int64_t *)(const void *)field;
    case VTS_CONF_WHOLE_SECONDS:
        return *(const int *)(const void *)field * VTS_NS_PER_SEC;
    case VTS_CONF_COUNT:
        break;
    }
    return *(const int *)(const void *)field;
}

void
vts_conf_format_arg(vts_conf_number n, int64_t value, char *buf, size_t len)
{
    if (vts_conf_number_key(n)->b.kind == VTS_CONF_COUNT)
        snprintf(buf, len, "%lld", (long long)value);
    else
        vts_clock_format_duration(buf, len, value);
}

/* Quotes would end up in the URI or the pattern and never match: say so
 * rather than fail later, far from the cause. */
static int
vts_conf_no_quotes(const vts_conf_ctx *ctx, const char *value, size_t n)
{
    if (n >= 2 && (value[0] == '"' || value[0] == '\'') && value[n - 1] == value[0])
        return vts_conf_fail(
            ctx, VTS_ERR_CONFIG, "values take no quotes: write %.*s without them",
            (int)(n - 2 < VTS_CONF_QUOTE_MAX ? n - 2 : VTS_CONF_QUOTE_MAX), value + 1);
    return 0;
}

/* Replace *@out with a copy of @value, or NULL when @value is empty. */
static int
vts_conf_string(const vts_conf_ctx *ctx, const char *value, char **out)
{
    char *copy = NULL;

    if (vts_conf_no_quotes(ctx, value, strlen(value)) < 0)
        return -1;

    if (*value && !(copy = strdup(value)))
        return vts_conf_oom(ctx);
    free(*out);
    *out = copy;
    return 0;
}

/* An absolute path that names a file, not a directory. */
static int
vts_conf_check_path(const vts_conf_ctx *ctx, const char *value)
{
    char q[VTS_CONF_QUOTE_MAX + 4];

    if (value[0] != '/')
        return vts_conf_fail(ctx, VTS_ERR_CONFIG, "'%s' is not an absolute path",
                             vts_conf_quote(q, sizeof(q), value));
    if (value[strlen(value) - 1] == '/')
        return vts_conf_fail(ctx, VTS_ERR_CONFIG, "'%s' names a directory, not a file",
                             vts_conf_quote(q, sizeof(q), value));
    return 0;
}

static int
vts_conf_socket_path(const vts_conf_ctx *ctx, const char *value, char *out, size_t len)
{
    size_t n = strlen(value);

    if (!*value)
        return vts_conf_fail(ctx, VTS_ERR_CONFIG, "missing value (an absolute path)");
    if (vts_conf_check_path(ctx, value) < 0)
        return -1;
    if (n >= len)
        return vts_conf_fail(ctx, VTS_ERR_CONFIG,
                             "the path is %zu bytes; a socket path can have at most %zu",
                             n, len - 1);
    memcpy(out, value, n + 1);
    return 0;
}

static int
vts_conf_log_level(const vts_conf_ctx *ctx, const char *value, vts_log_level *out)
{
    char q[VTS_CONF_QUOTE_MAX + 4];

    if (strcmp(value, "err") == 0)
        *out = VTS_LOG_ERR;
    else if (strcmp(value, "warning") == 0)
        *out = VTS_LOG_WARNING;
    else if (strcmp(value, "info") == 0)
        *out = VTS_LOG_INFO;
    else if (strcmp(value, "debug") == 0)
        *out = VTS_LOG_DEBUG;
    else
        return vts_conf_fail(ctx, VTS_ERR_CONFIG,
                             "'%s' is not a log level (use err, warning, info or debug)",
                             vts_conf_quote(q, sizeof(q), value));
    return 0;
}

/* Append the blank-separated patterns of @value to *@list. A backslash
 * keeps the next character (a blank too) in the pattern and stays in it,
 * so that fnmatch() sees the escape. */
static int
vts_conf_patterns(const vts_conf_ctx *ctx, const char *value, char ***list, size_t *count)
{
    const char *p = value, *start = NULL;
    char **grown = NULL;
    char *pattern = NULL;

    if (!*value)
        return vts_conf_fail(
            ctx, VTS_ERR_CONFIG,
            "missing value (one or more domain name patterns, e.g. web-*)");
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        for (start = p; *p && *p != ' ' && *p != '\t'; p++) {
            if (*p == '\\' && !*++p)
                return vts_conf_fail(ctx, VTS_ERR_CONFIG,
                                     "a pattern ends with a lone backslash");
        }
        if (vts_conf_no_quotes(ctx, start, (size_t)(p - start)) < 0)
            return -1;
        if (!(pattern = strndup(start, (size_t)(p - start))))
            return vts_conf_oom(ctx);
        if (!(grown = realloc(*list, (*count + 1) * sizeof(**list)))) {
            free(pattern);
            return vts_conf_oom(ctx);
        }
        *list = grown;
        (*list)[(*count)++] = pattern;
    }
    return 0;
}

/* The '#' that starts a comment: at the start of @line or after a blank. */
static char *
vts_conf_find_comment(char *line)
{
    char *p = NULL;

    for (p = line; (p = strchr(p, '#')); p++)
        if (p == line || p[-1] == ' ' || p[-1] == '\t')
            return p;
    return NULL;
}

static char *
vts_conf_trim(char *s)
{
    char *end = NULL;

    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

/* A duration from @min to @max, or the word @word (then @out gets
 * @word_ns): watch_interval (off) and watch_fix_above (never). @examples
 * ends the hint of every message. A leading '-' is "negative": durations
 * are not, and "not a duration" would not tell why. */
static int
vts_conf_duration_or(const vts_conf_ctx *ctx, const char *value, const char *word,
                     int64_t word_ns, int64_t min, int64_t max, const char *examples,
                     int64_t *out)
{
    char q[VTS_CONF_QUOTE_MAX + 4], lo[32], hi[32];
    int64_t ns = 0;
    int rc;

    if (strcmp(value, word) == 0) {
        *out = word_ns;
        return 0;
    }
    vts_conf_quote(q, sizeof(q), value);
    if (value[0] == '-')
        return vts_conf_fail(ctx, VTS_ERR_CONFIG, "'%s' is negative (use %s, or e.g. %s)",
                             q, word, examples);
    rc = vts_clock_parse_duration(value, &ns);
    if (rc == -1)
        return vts_conf_fail(ctx, VTS_ERR_CONFIG,
                             "'%s' is not a duration (use %s, or e.g. %s)", q, word,
                             examples);
    vts_clock_format_duration(lo, sizeof(lo), min);
    vts_clock_format_duration(hi, sizeof(hi), max);
    if (rc == -2 || ns < min || ns > max)
        return vts_conf_fail(ctx, VTS_ERR_CONFIG,
                             "'%s' is out of range (%s to %s; or %s)", q, lo, hi, word);
    *out = ns;
    return 0;
}

/* ---- the keys: how each is read ---- */

static int
vts_conf_key_uri(const vts_conf_ctx *ctx, const vts_conf_key *k, const char *value,
                 vts_conf *conf)
{
    (void)k;
    return vts_conf_string(ctx, value, &conf->uri);
}

static int
vts_conf_key_include(const vts_conf_ctx *ctx, const vts_conf_key *k, const char *value,
                     vts_conf *conf)
{
    (void)k;
    return vts_conf_patterns(ctx, value, &conf->include, &conf->include_count);
}

static int
vts_conf_key_exclude(const vts_conf_ctx *ctx, const vts_conf_key *k, const char *value,
                     vts_conf *conf)
{
    (void)k;
    return vts_conf_patterns(ctx, value, &conf->exclude, &conf->exclude_count);
}

static int
vts_conf_key_log_level(const vts_conf_ctx *ctx, const vts_conf_key *k, const char *value,
                       vts_conf *conf)
{
    (void)k;
    return vts_conf_log_level(ctx, value, &conf->log_level);
}

static int
vts_conf_key_socket(const vts_conf_ctx *ctx, const vts_conf_key *k, const char *value,
                    vts_conf *conf)
{
    (void)k;
    return vts_conf_socket_path(ctx, value, conf->control_socket,
                                sizeof(conf->control_socket));
}

static int
vts_conf_key_metrics(const vts_conf_ctx *ctx, const vts_conf_key *k, const char *value,
                     vts_conf *conf)
{
    (void)k;
    if (*value && vts_conf_check_path(ctx, value) < 0)
        return -1;
    return vts_conf_string(ctx, value, &conf->metrics_file);
}

static int
vts_conf_key_host_unsynced(const vts_conf_ctx *ctx, const vts_conf_key *k,
                           const char *value, vts_conf *conf)
{
    char q[VTS_CONF_QUOTE_MAX + 4];

    (void)k;
    if (strcmp(value, "refuse") == 0 || strcmp(value, "allow") == 0) {
        conf->allow_unsynced_host = strcmp(value, "allow") == 0;
        return 0;
    }
    return vts_conf_fail(ctx, VTS_ERR_CONFIG, "'%s' is neither 'refuse' nor 'allow'",
                         vts_conf_quote(q, sizeof(q), value));
}

static int
vts_conf_key_fallback(const vts_conf_ctx *ctx, const vts_conf_key *k, const char *value,
                      vts_conf *conf)
{
    char q[VTS_CONF_QUOTE_MAX + 4];

    (void)k;
    if (vts_fallback_parse(value, &conf->set_time_fallback) == 0)
        return 0;
    return vts_conf_fail(ctx, VTS_ERR_CONFIG, "'%s' is neither 'none' nor 'guest-exec'",
                         vts_conf_quote(q, sizeof(q), value));
}

/* watch_interval and watch_fix_above: a duration, or the key's word. */
static int
vts_conf_key_watch(const vts_conf_ctx *ctx, const vts_conf_key *k, const char *value,
                   vts_conf *conf)
{
    return vts_conf_duration_or(ctx, value, k->word, k->word_value, k->b.min, k->b.max,
                                k->examples,
                                (int64_t *)(void *)((char *)conf + k->offset));
}

/* ---- the table ---- */

#define VTS_CONF_FIELD(f)                                                                \
    .offset = offsetof(vts_conf, f), .size = sizeof(((vts_conf *)0)->f)
/* A field copied to and from vts_sync_opts: the sizes must match (else
 * the array size below is negative and the build fails). */
#define VTS_CONF_OPTS(f, o)                                                              \
    .opts_offset =                                                                       \
        (ptrdiff_t)offsetof(vts_sync_opts, o) +                                          \
        0 * (ptrdiff_t)sizeof(                                                           \
                char[sizeof(((vts_conf *)0)->f) == sizeof(((vts_sync_opts *)0)->o)       \
                         ? 1                                                             \
                         : -1])
#define VTS_CONF_NO_OPTS .opts_offset = -1
/* 100 years: any more is no bound at all (0 is "no limit"). */
#define VTS_CONF_CENTURY_NS (100 * 365 * 24 * VTS_NS_PER_HOUR)

/* Every key, in the order the unknown-key message lists them. The
 * defaults of the sync options are vts_sync.h's (VTS_SYNC_DEFAULT_*);
 * the others are defined above. man/vmtimesync.conf.5.scd and
 * packaging/vmtimesync.conf document each key with the same default
 * (tests/unit/test_conf.c checks). */
static const vts_conf_key vts_conf_keys[] = {
    {.b = {"uri", NULL, VTS_CONF_COUNT, 0, 0},
     .number = -1,
     .parse = vts_conf_key_uri,
     .unset = "$LIBVIRT_DEFAULT_URI",
     .doc = "libvirt URI [unset: $LIBVIRT_DEFAULT_URI, else qemu:///system]",
     VTS_CONF_FIELD(uri),
     VTS_CONF_NO_OPTS},
    {.b = {"threshold", "--threshold", VTS_CONF_DURATION, 0, VTS_NS_PER_HOUR},
     .number = VTS_CONF_THRESHOLD,
     .parse = vts_conf_number_value,
     .def = VTS_SYNC_DEFAULT_THRESHOLD_NS,
     .doc = "no step below this offset",
     VTS_CONF_FIELD(threshold_ns),
     VTS_CONF_OPTS(threshold_ns, threshold_ns)},
    {.b = {"tolerance", NULL, VTS_CONF_DURATION, 0, VTS_NS_PER_HOUR},
     .number = VTS_CONF_TOLERANCE,
     .parse = vts_conf_number_value,
     .def = VTS_SYNC_DEFAULT_TOLERANCE_NS,
     .doc = "residual that triggers a correction",
     VTS_CONF_FIELD(tolerance_ns),
     VTS_CONF_OPTS(tolerance_ns, tolerance_ns)},
    {.b = {"samples", "--samples", VTS_CONF_COUNT, 1, VTS_SYNC_MAX_SAMPLES},
     .number = VTS_CONF_SAMPLES,
     .parse = vts_conf_number_value,
     .def = VTS_SYNC_DEFAULT_SAMPLES,
     .doc = "guest-get-time calls per measurement",
     VTS_CONF_FIELD(samples),
     VTS_CONF_OPTS(samples, samples)},
    {.b = {"agent_timeout", "--timeout", VTS_CONF_WHOLE_SECONDS, VTS_NS_PER_SEC,
           VTS_NS_PER_HOUR},
     .number = VTS_CONF_AGENT_TIMEOUT,
     .parse = vts_conf_number_value,
     .def = VTS_SYNC_DEFAULT_TIMEOUT_S * VTS_NS_PER_SEC,
     .doc = "per guest agent call",
     VTS_CONF_FIELD(agent_timeout_s),
     VTS_CONF_OPTS(agent_timeout_s, timeout_s)},
    {.b = {"agent_wait", "--wait", VTS_CONF_DURATION, VTS_NS_PER_SEC,
           24 * VTS_NS_PER_HOUR},
     .number = VTS_CONF_AGENT_WAIT,
     .parse = vts_conf_number_value,
     .def = VTS_CONF_DEFAULT_AGENT_WAIT_NS,
     .doc = "how long a trigger waits for the guest agent to connect",
     VTS_CONF_FIELD(agent_wait_ns),
     VTS_CONF_NO_OPTS},
    {.b = {"retry_max", NULL, VTS_CONF_COUNT, 0, 100},
     .number = VTS_CONF_RETRY_MAX,
     .parse = vts_conf_number_value,
     .def = VTS_CONF_DEFAULT_RETRY_MAX,
     .doc = "attempts after an unresponsive agent",
     VTS_CONF_FIELD(retry_max),
     VTS_CONF_NO_OPTS},
    {.b = {"backoff_initial", NULL, VTS_CONF_DURATION, VTS_NS_PER_MS, VTS_NS_PER_HOUR},
     .number = VTS_CONF_BACKOFF_INITIAL,
     .parse = vts_conf_number_value,
     .def = VTS_CONF_DEFAULT_BACKOFF_INITIAL_NS,
     .doc = "first retry delay, then doubled",
     VTS_CONF_FIELD(backoff_initial_ns),
     VTS_CONF_NO_OPTS},
    {.b = {"backoff_max", NULL, VTS_CONF_DURATION, VTS_NS_PER_MS, 24 * VTS_NS_PER_HOUR},
     .number = VTS_CONF_BACKOFF_MAX,
     .parse = vts_conf_number_value,
     .def = VTS_CONF_DEFAULT_BACKOFF_MAX_NS,
     .doc = "longest retry delay, not below backoff_initial",
     VTS_CONF_FIELD(backoff_max_ns),
     VTS_CONF_NO_OPTS},
    {.b = {"recheck_max", NULL, VTS_CONF_COUNT, 0, 10},
     .number = VTS_CONF_RECHECK_MAX,
     .parse = vts_conf_number_value,
     .def = VTS_CONF_DEFAULT_RECHECK_MAX,
     .doc = "re-checks after a sync that left the guest beyond the tolerance",
     VTS_CONF_FIELD(recheck_max),
     VTS_CONF_NO_OPTS},
    {.b = {"recheck_delay", NULL, VTS_CONF_DURATION, 10 * VTS_NS_PER_MS,
           10 * VTS_NS_PER_MIN},
     .number = VTS_CONF_RECHECK_DELAY,
     .parse = vts_conf_number_value,
     .def = VTS_CONF_DEFAULT_RECHECK_DELAY_NS,
     .doc = "before the first re-check, then doubled",
     VTS_CONF_FIELD(recheck_delay_ns),
     VTS_CONF_NO_OPTS},
    {.b = {"workers", NULL, VTS_CONF_COUNT, 1, 64},
     .number = VTS_CONF_WORKERS,
     .parse = vts_conf_number_value,
     .def = VTS_CONF_DEFAULT_WORKERS,
     .doc = "domains synced at the same time",
     VTS_CONF_FIELD(workers),
     VTS_CONF_NO_OPTS},
    {.b = {"include", NULL, VTS_CONF_COUNT, 0, 0},
     .number = -1,
     .parse = vts_conf_key_include,
     .unset = "none",
     .doc = "domain name patterns [none: every domain]",
     VTS_CONF_FIELD(include),
     VTS_CONF_NO_OPTS},
    {.b = {"exclude", NULL, VTS_CONF_COUNT, 0, 0},
     .number = -1,
     .parse = vts_conf_key_exclude,
     .unset = "none",
     .doc = "domain name patterns left out",
     VTS_CONF_FIELD(exclude),
     VTS_CONF_NO_OPTS},
    {.b = {"log_level", NULL, VTS_CONF_COUNT, 0, 0},
     .number = -1,
     .parse = vts_conf_key_log_level,
     .def_text = "info",
     .doc = "err, warning, info or debug",
     VTS_CONF_FIELD(log_level),
     VTS_CONF_NO_OPTS},
    {.b = {"control_socket", NULL, VTS_CONF_COUNT, 0, 0},
     .number = -1,
     .parse = vts_conf_key_socket,
     .def_text = VTS_CTL_DEFAULT_PATH,
     .doc = "absolute path of the control socket",
     VTS_CONF_FIELD(control_socket),
     VTS_CONF_NO_OPTS},
    {.b = {"metrics_file", NULL, VTS_CONF_COUNT, 0, 0},
     .number = -1,
     .parse = vts_conf_key_metrics,
     .unset = "empty",
     .doc = "absolute path of the Prometheus textfile, or empty for none",
     VTS_CONF_FIELD(metrics_file),
     VTS_CONF_NO_OPTS},
    {.b = {"host_unsynced", NULL, VTS_CONF_COUNT, 0, 0},
     .number = -1,
     .parse = vts_conf_key_host_unsynced,
     .def_text = "refuse",
     .doc = "refuse or allow steps while the host's clock is not synchronized",
     VTS_CONF_FIELD(allow_unsynced_host),
     VTS_CONF_OPTS(allow_unsynced_host, allow_unsynced_host)},
    {.b = {"max_step", "--max-step", VTS_CONF_DURATION, 0, VTS_CONF_CENTURY_NS},
     .number = VTS_CONF_MAX_STEP,
     .parse = vts_conf_number_value,
     .def = VTS_SYNC_DEFAULT_MAX_STEP_NS,
     .doc = "larger steps are not applied (0: no limit)",
     VTS_CONF_FIELD(max_step_ns),
     VTS_CONF_OPTS(max_step_ns, max_step_ns)},
    {.b = {"max_backward", "--max-backward", VTS_CONF_DURATION, 0, VTS_CONF_CENTURY_NS},
     .number = VTS_CONF_MAX_BACKWARD,
     .parse = vts_conf_number_value,
     .def = VTS_SYNC_DEFAULT_MAX_BACKWARD_NS,
     .doc = "guests ahead by more are not stepped back",
     VTS_CONF_FIELD(max_backward_ns),
     VTS_CONF_OPTS(max_backward_ns, max_backward_ns)},
    {.b = {"set_time_fallback", NULL, VTS_CONF_COUNT, 0, 0},
     .number = -1,
     .parse = vts_conf_key_fallback,
     .def_text = "none",
     .doc = "none or guest-exec, when the agent refuses guest-set-time",
     VTS_CONF_FIELD(set_time_fallback),
     VTS_CONF_OPTS(set_time_fallback, set_time_fallback)},
    {.b = {"watch_interval", NULL, VTS_CONF_DURATION, VTS_CONF_WATCH_INTERVAL_MIN_NS,
           VTS_CONF_WATCH_INTERVAL_MAX_NS},
     .number = -1,
     .parse = vts_conf_key_watch,
     .def = VTS_CONF_DEFAULT_WATCH_INTERVAL_NS,
     .word = "off",
     .word_value = 0,
     .examples = "60s, 5min",
     .doc = "off, or how often each guest is measured (vts_watch.h)",
     VTS_CONF_FIELD(watch_interval_ns),
     VTS_CONF_NO_OPTS},
    {.b = {"watch_fix_above", NULL, VTS_CONF_DURATION, 0, VTS_CONF_WATCH_INTERVAL_MAX_NS},
     .number = -1,
     .parse = vts_conf_key_watch,
     .def = VTS_CONF_DEFAULT_WATCH_FIX_ABOVE_NS,
     .word = "never",
     .word_value = -1,
     .examples = "1s, 500ms",
     .doc = "never, or the watched offset beyond which a sync follows",
     VTS_CONF_FIELD(watch_fix_above_ns),
     VTS_CONF_NO_OPTS},
};

#define VTS_CONF_NKEYS (sizeof(vts_conf_keys) / sizeof(vts_conf_keys[0]))

/* The entry of the numeric key @n. */
static const vts_conf_key *
vts_conf_number_key(vts_conf_number n)
{
    size_t i;

    for (i = 0; i < VTS_CONF_NKEYS; i++)
        if (vts_conf_keys[i].number == (int)n)
            break;
    return &vts_conf_keys[i < VTS_CONF_NKEYS ? i : 0];
}

const vts_conf_bounds *
vts_conf_bounds_of(vts_conf_number n)
{
    return &vts_conf_number_key(n)->b;
}

/* Store @v, as vts_conf_parse_arg gives it, in @k's field of @conf. */
static void
vts_conf_store(vts_conf *conf, const vts_conf_key *k, int64_t v)
{
    char *field = (char *)conf + k->offset;

    switch (k->b.kind) {
    case VTS_CONF_DURATION:
        *(int64_t *)(void *)field = v;
        return;
    case VTS_CONF_WHOLE_SECONDS:
        *(int *)(void *)field = (int)(v / VTS_NS_PER_SEC);
        return;
    case VTS_CONF_COUNT:
        break;
    }
    *(int *)(void *)field = (int)v;
}

void
vts_conf_init(vts_conf *conf)
{
    vts_error err;
    vts_conf_ctx ctx = {.source = "<defaults>", .line = 0, .err = &err};
    const vts_conf_key *k = NULL;

    memset(conf, 0, sizeof(*conf));
    for (k = vts_conf_keys; k < vts_conf_keys + VTS_CONF_NKEYS; k++) {
        ctx.key = k->b.key;
        /* The default texts are constants of this table, none of which
         * allocates; test_conf checks that each reads back. */
        if (k->def_text)
            (void)k->parse(&ctx, k, k->def_text, conf);
        else if (!k->unset)
            vts_conf_store(conf, k, k->def);
    }
}

size_t
vts_conf_key_count(void)
{
    return VTS_CONF_NKEYS;
}

const char *
vts_conf_key_name(size_t i)
{
    return vts_conf_keys[i].b.key;
}

const char *
vts_conf_key_doc(size_t i)
{
    return vts_conf_keys[i].doc;
}

bool
vts_conf_key_default(size_t i, char *buf, size_t len)
{
    const vts_conf_key *k = &vts_conf_keys[i];

    if (k->def_text)
        snprintf(buf, len, "%s", k->def_text);
    else if (k->unset)
        snprintf(buf, len, "%s", k->unset);
    else if (k->word && k->def == k->word_value)
        snprintf(buf, len, "%s", k->word);
    else if (k->b.kind == VTS_CONF_COUNT)
        snprintf(buf, len, "%lld", (long long)k->def);
    else
        vts_clock_format_duration(buf, len, k->def);
    return !k->unset;
}

/* One `key = value` line (comment already cut, blanks trimmed). */
static int
vts_conf_directive(vts_conf *conf, vts_conf_ctx *ctx, char *line, unsigned *backoff_lines)
{
    char q[VTS_CONF_QUOTE_MAX + 4], known[VTS_CONF_KNOWN_MAX];
    const vts_conf_key *k = NULL;
    size_t used = 0;
    char *eq = strchr(line, '=');
    char *key = NULL;
    char *value = NULL;

    if (!eq)
        return vts_conf_fail(ctx, VTS_ERR_CONFIG, "'%s' is not 'key = value'",
                             vts_conf_quote(q, sizeof(q), line));
    *eq = '\0';
    key = vts_conf_trim(line);
    value = vts_conf_trim(eq + 1);
    if (!*key)
        return vts_conf_fail(ctx, VTS_ERR_CONFIG, "a key is missing before '='");
    ctx->key = key;

    for (k = vts_conf_keys; k < vts_conf_keys + VTS_CONF_NKEYS; k++) {
        if (strcmp(key, k->b.key) != 0)
            continue;
        if (k->number == VTS_CONF_BACKOFF_INITIAL)
            backoff_lines[0] = ctx->line;
        else if (k->number == VTS_CONF_BACKOFF_MAX)
            backoff_lines[1] = ctx->line;
        return k->parse(ctx, k, value, conf);
    }

    for (k = vts_conf_keys; k < vts_conf_keys + VTS_CONF_NKEYS; k++) {
        used += (size_t)snprintf(known + used, sizeof(known) - used, "%s%s",
                                 k == vts_conf_keys ? "" : ", ", k->b.key);
        if (used >= sizeof(known))
            break;
    }
    ctx->key = NULL;
    return vts_conf_fail(ctx, VTS_ERR_CONFIG, "unknown key '%s' (known keys: %s)",
                         vts_conf_quote(q, sizeof(q), key), known);
}

/* Checks that involve two keys, once the whole file is read. The error
 * names the line of the key set last. */
static int
vts_conf_check(const vts_conf *conf, vts_conf_ctx *ctx, const unsigned *backoff_lines)
{
    char init[32], max[32];

    if (conf->backoff_max_ns >= conf->backoff_initial_ns)
        return 0;
    vts_clock_format_duration(init, sizeof(init), conf->backoff_initial_ns);
    vts_clock_format_duration(max, sizeof(max), conf->backoff_max_ns);
    if (backoff_lines[1] > backoff_lines[0]) {
        ctx->line = backoff_lines[1];
        ctx->key = "backoff_max";
        return vts_conf_fail(ctx, VTS_ERR_CONFIG, "%s is less than backoff_initial (%s)",
                             max, init);
    }
    ctx->line = backoff_lines[0];
    ctx->key = "backoff_initial";
    return vts_conf_fail(ctx, VTS_ERR_CONFIG, "%s is more than backoff_max (%s%s)", init,
                         max, backoff_lines[1] ? "" : ", the default");
}

/* Parse @len bytes of @text, which may hold NUL bytes (an error). */
static int
vts_conf_parse(vts_conf *conf, const char *text, size_t len, const char *source,
               vts_error *err)
{
    vts_conf tmp;
    vts_conf_ctx ctx = {.source = source ? source : "<string>", .line = 0, .err = err};
    unsigned backoff_lines[2] = {0, 0};
    char *copy = NULL;
    char *line = NULL, *next = NULL, *eol = NULL, *end = NULL;
    char *comment = NULL, *p = NULL;
    int rc = -1;

    vts_conf_init(&tmp);
    vts_conf_init(conf);
    if (!(copy = malloc(len + 1))) {
        vts_conf_oom(&ctx);
        goto cleanup;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    end = copy + len;

    line = copy;
    /* A byte order mark, as some editors write. */
    if (len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0)
        line += 3;
    for (; line < end; line = next) {
        ctx.line++;
        ctx.key = NULL;
        eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol)
            eol = end;
        next = eol < end ? eol + 1 : end;
        if (memchr(line, '\0', (size_t)(eol - line))) {
            vts_conf_fail(&ctx, VTS_ERR_CONFIG, "a NUL byte: is this a text file?");
            goto cleanup;
        }
        *eol = '\0';
        if ((comment = vts_conf_find_comment(line)))
            *comment = '\0';
        line = vts_conf_trim(line);
        if (!*line)
            continue;
        for (p = line; *p; p++) {
            if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f) {
                vts_conf_fail(&ctx, VTS_ERR_CONFIG, "a control character (byte 0x%02x)",
                              (unsigned char)*p);
                goto cleanup;
            }
        }
        if (vts_conf_directive(&tmp, &ctx, line, backoff_lines) < 0)
            goto cleanup;
    }
    if (vts_conf_check(&tmp, &ctx, backoff_lines) < 0)
        goto cleanup;

    *conf = tmp;
    vts_conf_init(&tmp);
    rc = 0;

cleanup:
    vts_conf_clear(&tmp);
    free(copy);
    return rc;
}

int
vts_conf_parse_string(vts_conf *conf, const char *text, const char *source,
                      vts_error *err)
{
    if (!text)
        text = "";
    return vts_conf_parse(conf, text, strlen(text), source, err);
}

int
vts_conf_load(vts_conf *conf, const char *path, bool missing_ok, vts_error *err)
{
    struct stat st;
    char *buf = NULL, *grown = NULL;
    size_t len = 0, cap;
    ssize_t n;
    int fd = -1;
    int rc = -1;

    vts_conf_init(conf);
    /* O_NONBLOCK: opening a FIFO put there by mistake must not hang. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT && missing_ok) {
            rc = 0;
            goto cleanup;
        }
        vts_error_set(err, VTS_ERR_CONFIG, "cannot read the configuration %s: %s", path,
                      strerror(errno));
        goto cleanup;
    }
    if (fstat(fd, &st) < 0) {
        vts_error_set(err, VTS_ERR_CONFIG, "cannot read the configuration %s: %s", path,
                      strerror(errno));
        goto cleanup;
    }
    if (!S_ISREG(st.st_mode)) {
        vts_error_set(err, VTS_ERR_CONFIG, "the configuration %s is not a regular file",
                      path);
        goto cleanup;
    }
    /* Room for the whole file and one byte more, to see it end; the file
     * may change size while we read, so the loop does not trust st_size. */
    cap = st.st_size < VTS_CONF_MAX_SIZE ? (size_t)st.st_size + 1 : VTS_CONF_MAX_SIZE + 1;
    if (!(buf = malloc(cap + 1))) {
        vts_error_set(err, VTS_ERR_INTERNAL, "out of memory reading %s", path);
        goto cleanup;
    }
    for (;;) {
        if (len == cap) {
            if (cap > VTS_CONF_MAX_SIZE)
                break;
            cap = cap * 2 < VTS_CONF_MAX_SIZE + 1 ? cap * 2 : VTS_CONF_MAX_SIZE + 1;
            if (!(grown = realloc(buf, cap + 1))) {
                vts_error_set(err, VTS_ERR_INTERNAL, "out of memory reading %s", path);
                goto cleanup;
            }
            buf = grown;
        }
        n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            vts_error_set(err, VTS_ERR_CONFIG, "cannot read the configuration %s: %s",
                          path, strerror(errno));
            goto cleanup;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (len > VTS_CONF_MAX_SIZE) {
        vts_error_set(
            err, VTS_ERR_CONFIG,
            "the configuration %s is larger than %d bytes: is it the right file?", path,
            VTS_CONF_MAX_SIZE);
        goto cleanup;
    }
    buf[len] = '\0';
    rc = vts_conf_parse(conf, buf, len, path, err);

cleanup:
    if (fd >= 0)
        close(fd);
    free(buf);
    return rc;
}

bool
vts_conf_domain_wanted(const vts_conf *conf, const char *domain)
{
    bool included = conf->include_count == 0;
    size_t i;

    for (i = 0; i < conf->include_count && !included; i++)
        if (fnmatch(conf->include[i], domain, 0) == 0)
            included = true;
    if (!included)
        return false;
    for (i = 0; i < conf->exclude_count; i++)
        if (fnmatch(conf->exclude[i], domain, 0) == 0)
            return false;
    return true;
}

const char *
vts_conf_uri(const vts_conf *conf)
{
    const char *uri = conf->uri;

    if (!uri || !*uri)
        uri = getenv("LIBVIRT_DEFAULT_URI");
    if (!uri || !*uri)
        uri = "qemu:///system";
    return uri;
}

void
vts_conf_to_sync_opts(const vts_conf *conf, vts_sync_opts *opts)
{
    const vts_conf_key *k = NULL;

    for (k = vts_conf_keys; k < vts_conf_keys + VTS_CONF_NKEYS; k++)
        if (k->opts_offset >= 0)
            memcpy((char *)opts + k->opts_offset, (const char *)conf + k->offset,
                   k->size);
}

void
vts_conf_from_sync_opts(vts_conf *conf, const vts_sync_opts *opts)
{
    const vts_conf_key *k = NULL;

    for (k = vts_conf_keys; k < vts_conf_keys + VTS_CONF_NKEYS; k++)
        if (k->opts_offset >= 0)
            memcpy((char *)conf + k->offset, (const char *)opts + k->opts_offset,
                   k->size);
}

void
vts_conf_to_sched_conf(const vts_conf *conf, vts_sched_conf *sc)
{
    sc->agent_wait_ns = conf->agent_wait_ns;
    sc->retry_max = conf->retry_max;
    sc->backoff_initial_ns = conf->backoff_initial_ns;
    sc->backoff_max_ns = conf->backoff_max_ns;
    sc->recheck_max = conf->recheck_max;
    sc->recheck_delay_ns = conf->recheck_delay_ns;
    sc->tolerance_ns = conf->tolerance_ns;
    sc->unresponsive_max = conf->workers > 1 ? conf->workers / 2 : 1;
}

void
vts_conf_to_watch_conf(const vts_conf *conf, int workers, vts_watch_conf *wc)
{
    if (workers <= 0)
        workers = conf->workers;
    memset(wc, 0, sizeof(*wc));
    wc->interval_ns = conf->watch_interval_ns;
    wc->fix_above_ns = conf->watch_fix_above_ns;
    wc->max_running = workers / 2 > 0 ? workers / 2 : 1;
}
