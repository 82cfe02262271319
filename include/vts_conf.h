/* vts_conf.h: the daemon's configuration file, vmtimesync.conf.
 *
 * One `key = value` per line. `#` starts a comment at the start of a line or
 * after whitespace (so `?a#b` inside a URI stays part of the value); blank
 * lines and whitespace around keys and values are ignored; CRLF line ends
 * are accepted. A line is split at its first '=', so values may contain '='
 * (a URI's "?socket=/path"). Values are not quoted.
 *
 * The keys, with their names, defaults, bounds and a line of documentation
 * each, are one table in vts_conf.c (vts_conf_keys); man/vmtimesync.conf.5
 * and packaging/vmtimesync.conf describe them at length, with the same
 * defaults (tests/unit/test_conf.c checks).
 *
 * A duration is a number, which may have a fraction, and a unit: ns, us, ms,
 * s, min or h ("5ms", "1.5 s", "2min"); a bare number is seconds.
 *
 * include and exclude take shell glob patterns (fnmatch(3)) separated by
 * spaces; a backslash makes the next character literal, so `web\ 1` matches
 * a domain called "web 1". These two keys may be repeated and accumulate.
 * Any other key given twice takes its last value.
 *
 * Every error names the source and line: "PATH:7: threshold: '5x' is not a
 * duration (use e.g. 5ms, 2s)".
 */
#ifndef VTS_CONF_H
#define VTS_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vts_error.h"
#include "vts_sched.h"
#include "vts_sync.h"
#include "vts_watch.h"

#define VTS_CONF_DEFAULT_PATH "/etc/vmtimesync/vmtimesync.conf"

/* Files larger than this are refused: a configuration this big is a
 * mistake (the wrong file), not a configuration. */
#define VTS_CONF_MAX_SIZE (1024 * 1024)

/* sizeof(sockaddr_un.sun_path) on Linux: control_socket must fit in it,
 * terminating NUL included. */
#define VTS_CONF_SOCKET_PATH_MAX 108

typedef struct {
    char *uri; /* NULL: see vts_conf_uri() */
    int64_t threshold_ns;
    int64_t tolerance_ns;
    int samples;
    int agent_timeout_s;
    int64_t agent_wait_ns;
    int retry_max;
    int64_t backoff_initial_ns;
    int64_t backoff_max_ns;
    int recheck_max;
    int64_t recheck_delay_ns;
    int workers;
    char **include; /* patterns; none: every domain is included */
    size_t include_count;
    char **exclude;
    size_t exclude_count;
    vts_log_level log_level;
    char control_socket[VTS_CONF_SOCKET_PATH_MAX];
    char *metrics_file; /* NULL: no metrics */
    bool allow_unsynced_host;
    int64_t max_step_ns; /* 0: no limit */
    int64_t max_backward_ns;
    vts_fallback set_time_fallback;
    int64_t watch_interval_ns;  /* 0: watch mode off */
    int64_t watch_fix_above_ns; /* < 0: never correct, only report */
} vts_conf;

/* The numeric settings. Their keys and bounds live in one table
 * (vts_conf.c), read by the configuration file, by vmtimesync's options and
 * by the hook, which passes its file's values to its waiter (vmtimesync
 * --hook-waiter) on the command line: whatever the file accepts, the
 * waiter's command line accepts too. */
typedef enum {
    VTS_CONF_THRESHOLD,
    VTS_CONF_TOLERANCE,
    VTS_CONF_SAMPLES,
    VTS_CONF_AGENT_TIMEOUT,
    VTS_CONF_AGENT_WAIT,
    VTS_CONF_RETRY_MAX,
    VTS_CONF_BACKOFF_INITIAL,
    VTS_CONF_BACKOFF_MAX,
    VTS_CONF_RECHECK_MAX,
    VTS_CONF_RECHECK_DELAY,
    VTS_CONF_WORKERS,
    VTS_CONF_MAX_STEP,
    VTS_CONF_MAX_BACKWARD,
    VTS_CONF__NUMBERS
} vts_conf_number;

typedef enum {
    VTS_CONF_DURATION,      /* int64_t nanoseconds */
    VTS_CONF_WHOLE_SECONDS, /* a duration of whole seconds, kept as int seconds */
    VTS_CONF_COUNT,         /* an int */
} vts_conf_kind;

typedef struct {
    const char *key;    /* in the file, e.g. "max_step" */
    const char *option; /* vmtimesync's option, e.g. "--max-step"; NULL: none */
    vts_conf_kind kind;
    int64_t min, max; /* nanoseconds for durations (whole seconds too), else the count */
} vts_conf_bounds;

/* The key, option, kind and bounds of @n (static). */
const vts_conf_bounds *vts_conf_bounds_of(vts_conf_number n);

/* Parse @arg, a command-line value of @n: a duration as in the file (a
 * bare number is seconds: "0.005", "720h") or a whole number, within @n's
 * bounds; @out gets nanoseconds for durations (whole seconds included),
 * else the number. Returns 0, or -1 with @err saying what @n takes ("a
 * duration from 0 to 876000h (e.g. 5ms, 2s; a bare number is seconds)"). */
int vts_conf_parse_arg(vts_conf_number n, const char *arg, int64_t *out, vts_error *err);

/* The value of @n in @conf, as vts_conf_parse_arg gives it. */
int64_t vts_conf_number_get(const vts_conf *conf, vts_conf_number n);

/* Write @value (as vts_conf_parse_arg gives it) into @buf of @len bytes so
 * that vts_conf_parse_arg reads it back exactly: "720h", "5ms", "8". */
void vts_conf_format_arg(vts_conf_number n, int64_t value, char *buf, size_t len);

/* Fill @conf with the defaults. @conf is not read: whatever it held is
 * overwritten, not freed. Nothing is allocated, so a conf that was only
 * initialised needs no vts_conf_clear(). */
void vts_conf_init(vts_conf *conf);

/* Free what @conf owns and put the defaults back. Safe to call twice, and on
 * a conf that vts_conf_init() or a failed parse left. */
void vts_conf_clear(vts_conf *conf);

/* Parse the configuration @text (NUL-terminated) into @conf, starting from
 * the defaults. @source names the text in error messages (a path, or
 * "<string>" when NULL). @conf is overwritten, not freed: clear a conf that
 * holds a previous result first (to reload, parse into a new vts_conf and
 * swap it in on success, so that a bad file keeps the old settings).
 * On success @conf owns its strings until vts_conf_clear(). On failure
 * returns -1, leaves @conf at the defaults (nothing to free) and fills @err
 * with VTS_ERR_CONFIG and "SOURCE:LINE: KEY: reason". */
int vts_conf_parse_string(vts_conf *conf, const char *text, const char *source,
                          vts_error *err);

/* Read the file at @path (at most VTS_CONF_MAX_SIZE bytes) and parse it as
 * vts_conf_parse_string() does; a NUL byte in the file is an error. When
 * the file does not exist and @missing_ok is true, @conf gets the defaults
 * and 0 is returned. Ownership and failure as for vts_conf_parse_string(). */
int vts_conf_load(vts_conf *conf, const char *path, bool missing_ok, vts_error *err);

/* Should the daemon look after @domain? True when there are no include
 * patterns or one of them matches, and no exclude pattern matches. */
bool vts_conf_domain_wanted(const vts_conf *conf, const char *domain);

/* The libvirt URI to connect to: conf->uri when set, else a non-empty
 * $LIBVIRT_DEFAULT_URI, else "qemu:///system". The string is borrowed from
 * @conf or the environment: do not free it, and copy it before changing
 * either. */
const char *vts_conf_uri(const vts_conf *conf);

/* Copy the keys that are sync options (threshold, tolerance, samples,
 * agent_timeout, host_unsynced, max_step, max_backward and
 * set_time_fallback; the key table in vts_conf.c says which) from @conf
 * into @opts. The other fields of @opts (check_only, force, log) are left
 * alone: call vts_sync_opts_init() first. */
void vts_conf_to_sync_opts(const vts_conf *conf, vts_sync_opts *opts);

/* The reverse of vts_conf_to_sync_opts: copy the same fields from @opts
 * into @conf, leaving the others alone. Nothing is allocated or freed. */
void vts_conf_from_sync_opts(vts_conf *conf, const vts_sync_opts *opts);

/* Fill @sc, all of it, with the scheduler's settings from @conf: waits,
 * retries, backoff, re-checks, the tolerance, and at most half the workers
 * (at least one) on domains whose agent last timed out, so that the other
 * half stays free for guests that answer. */
void vts_conf_to_sched_conf(const vts_conf *conf, vts_sched_conf *sc);

/* Fill @wc, all of it but the seed (0, for the caller to set), with the
 * watch's settings from @conf: the interval, the bound, and at most half
 * of @workers (at least one) measuring at once, so that syncs always find
 * room. @workers is the pool's count (a reload's workers take effect at
 * restart); 0 or less: conf->workers. */
void vts_conf_to_watch_conf(const vts_conf *conf, int workers, vts_watch_conf *wc);

#endif /* VTS_CONF_H */
