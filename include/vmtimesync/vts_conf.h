/* vts_conf.h: the daemon's configuration file, vmtimesync.conf.
 *
 * One `key = value` per line. `#` starts a comment at the start of a line or
 * after whitespace (so `?a#b` inside a URI stays part of the value); blank
 * lines and whitespace around keys and values are ignored; CRLF line ends
 * are accepted. A line is split at its first '=', so values may contain '='
 * (a URI's "?socket=/path"). Values are not quoted.
 *
 * Keys (defaults in brackets):
 *   uri              libvirt URI [unset: $LIBVIRT_DEFAULT_URI, else qemu:///system]
 *   threshold        duration, 0..1h [5ms]: no step below this offset
 *   tolerance        duration, 0..1h [1ms]: residual that triggers a correction
 *   samples          1..64 [5]: guest-get-time calls per measurement
 *   agent_timeout    whole seconds, 1s..1h [5s]: per guest agent call
 *   agent_wait       duration, 1s..24h [10min]: how long a trigger waits for
 *                    the guest agent to connect
 *   retry_max        0..100 [8]: attempts after an unresponsive agent
 *   backoff_initial  duration, 1ms..1h [1s]: first retry delay, then doubled
 *   backoff_max      duration, 1ms..24h [60s], not below backoff_initial
 *   recheck_max      0..10 [3]: re-checks after a sync that left the guest
 *                    more than the tolerance off (0: none)
 *   recheck_delay    duration, 10ms..10min [1s]: before the first re-check,
 *                    then doubled
 *   workers          1..64 [4]: domains synced at the same time
 *   include          domain name patterns [none = every domain]
 *   exclude          domain name patterns [none]
 *   log_level        err, warning, info or debug [info]
 *   control_socket   absolute path [/run/vmtimesync/control.sock]
 *   metrics_file     absolute path, or empty for none [empty]
 *   host_unsynced    refuse or allow [refuse]: step guests even when the host's
 *                    own clock is not synchronized (adjtimex)
 *   max_step         duration [24h]; 0 = no limit: larger steps are not applied
 *   max_backward     duration [1s]: guests ahead by more are not stepped back
 *   set_time_fallback  none or guest-exec [none]: when the guest agent refuses
 *                    guest-set-time as unsupported, step with the guest's
 *                    GNU date through guest-exec (if the agent allows it)
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

#include "vmtimesync/vts_error.h"
#include "vmtimesync/vts_sched.h"
#include "vmtimesync/vts_sync.h"

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
    int64_t max_step_ns;     /* 0: no limit */
    int64_t max_backward_ns;
    vts_fallback set_time_fallback;
} vts_conf;

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

/* Copy threshold, tolerance, samples, agent_timeout, host_unsynced,
 * max_step, max_backward and set_time_fallback from @conf into @opts. The
 * other fields of @opts (check_only, force, log) are left alone: call
 * vts_sync_opts_init() first. */
void vts_conf_to_sync_opts(const vts_conf *conf, vts_sync_opts *opts);

/* Fill @sc, all of it, with the scheduler's settings from @conf: waits,
 * retries, backoff, re-checks, the tolerance, and at most half the workers
 * (at least one) on domains whose agent last timed out, so that the other
 * half stays free for guests that answer. */
void vts_conf_to_sched_conf(const vts_conf *conf, vts_sched_conf *sc);

#endif /* VTS_CONF_H */
