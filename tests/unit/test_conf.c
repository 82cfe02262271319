/* test_conf.c: unit tests for vts_conf (vmtimesync.conf). Most tests parse
 * strings; the vts_conf_load tests write files in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vts_conf.h"

#define VTS_CONF_ALLOW_PRIV
#include "vts_conf_priv.h"

#define MS (1000000LL)
#define SEC (1000000000LL)

/* ---- helpers ---- */

static void
assert_defaults(const vts_conf *conf)
{
    assert_null(conf->uri);
    assert_int_equal(conf->threshold_ns, 5 * MS);
    assert_int_equal(conf->tolerance_ns, 1 * MS);
    assert_int_equal(conf->samples, 5);
    assert_int_equal(conf->agent_timeout_s, 5);
    assert_int_equal(conf->agent_wait_ns, 600 * SEC);
    assert_int_equal(conf->retry_max, 8);
    assert_int_equal(conf->backoff_initial_ns, 1 * SEC);
    assert_int_equal(conf->backoff_max_ns, 60 * SEC);
    assert_int_equal(conf->recheck_max, 3);
    assert_int_equal(conf->recheck_delay_ns, 1 * SEC);
    assert_int_equal(conf->workers, 8);
    assert_true(conf->watch_interval_ns == 60 * SEC);
    assert_true(conf->watch_fix_above_ns == 1 * SEC);
    assert_null(conf->include);
    assert_int_equal(conf->include_count, 0);
    assert_null(conf->exclude);
    assert_int_equal(conf->exclude_count, 0);
    assert_int_equal(conf->log_level, VTS_LOG_INFO);
    assert_string_equal(conf->control_socket, "/run/vmtimesync/control.sock");
    assert_null(conf->metrics_file);
}

/* Parse @text, which must succeed; the caller clears @conf. */
static void
parse_ok(vts_conf *conf, const char *text)
{
    vts_error err;

    vts_error_clear(&err);
    if (vts_conf_parse_string(conf, text, "t.conf", &err) != 0)
        fail_msg("parse failed: %s", err.message);
    assert_int_equal(err.code, VTS_OK);
}

/* Parse @text, which must fail with exactly @message and leave defaults. */
static void
parse_fails(const char *text, const char *message)
{
    vts_conf conf;
    vts_error err;

    vts_error_clear(&err);
    memset(&conf, 0x5a, sizeof(conf)); /* parse must not read or free this */
    assert_int_equal(vts_conf_parse_string(&conf, text, "t.conf", &err), -1);
    assert_int_equal(err.code, VTS_ERR_CONFIG);
    assert_string_equal(err.message, message);
    assert_defaults(&conf);
    vts_conf_clear(&conf);
}

static int64_t
duration_of(const char *value)
{
    char text[128];
    vts_conf conf;
    int64_t ns;

    snprintf(text, sizeof(text), "threshold = %s\n", value);
    parse_ok(&conf, text);
    ns = conf.threshold_ns;
    vts_conf_clear(&conf);
    return ns;
}

/* ---- defaults and the shape of the file ---- */

static void
test_conf_time_safety(void **state)
{
    vts_conf conf;
    vts_sync_opts opts;

    (void)state;
    parse_ok(&conf, "");
    assert_false(conf.allow_unsynced_host);
    assert_true(conf.max_step_ns == 86400LL * VTS_NS_PER_SEC);
    assert_true(conf.max_backward_ns == VTS_NS_PER_SEC);
    vts_conf_clear(&conf);

    parse_ok(&conf, "host_unsynced = allow\nmax_step = 0\nmax_backward = 250ms\n");
    assert_true(conf.allow_unsynced_host);
    assert_true(conf.max_step_ns == 0);
    assert_true(conf.max_backward_ns == 250 * VTS_NS_PER_MS);
    vts_sync_opts_init(&opts);
    vts_conf_to_sync_opts(&conf, &opts);
    assert_true(opts.allow_unsynced_host);
    assert_true(opts.max_step_ns == 0);
    assert_true(opts.max_backward_ns == 250 * VTS_NS_PER_MS);
    vts_conf_clear(&conf);

    parse_ok(&conf, "host_unsynced = refuse\n");
    assert_false(conf.allow_unsynced_host);
    vts_conf_clear(&conf);

    parse_fails("host_unsynced = yes\n",
                "t.conf:1: host_unsynced: 'yes' is neither 'refuse' nor 'allow'");
}

/* Watch mode: off or an interval of at least 1 s; a bound or never. */
static void
test_conf_watch(void **state)
{
    vts_conf conf;

    (void)state;
    parse_ok(&conf, "watch_interval = 30s\nwatch_fix_above = 250ms\n");
    assert_true(conf.watch_interval_ns == 30 * SEC);
    assert_true(conf.watch_fix_above_ns == 250 * MS);
    vts_conf_clear(&conf);

    parse_ok(&conf, "watch_interval = off\nwatch_fix_above = never\n");
    assert_true(conf.watch_interval_ns == 0);
    assert_true(conf.watch_fix_above_ns == -1);
    vts_conf_clear(&conf);

    parse_ok(&conf, "watch_interval = 1s\nwatch_fix_above = 0\n");
    assert_true(conf.watch_interval_ns == 1 * SEC);
    assert_true(conf.watch_fix_above_ns == 0);
    vts_conf_clear(&conf);

    parse_fails("# watch\nwatch_interval = 500ms\n",
                "t.conf:2: watch_interval: '500ms' is out of range (1s to 24h; or off)");
    parse_fails("watch_interval = 0\n",
                "t.conf:1: watch_interval: '0' is out of range (1s to 24h; or off)");
    parse_fails(
        "watch_interval = never\n",
        "t.conf:1: watch_interval: 'never' is not a duration (use off, or e.g. 60s, "
        "5min)");
    parse_fails(
        "\n\nwatch_fix_above = -1s\n",
        "t.conf:3: watch_fix_above: '-1s' is negative (use never, or e.g. 1s, 500ms)");
    parse_fails(
        "watch_fix_above = off\n",
        "t.conf:1: watch_fix_above: 'off' is not a duration (use never, or e.g. 1s, "
        "500ms)");
}

static void
test_conf_set_time_fallback(void **state)
{
    vts_conf conf;
    vts_sync_opts opts;

    (void)state;
    parse_ok(&conf, "");
    assert_int_equal(conf.set_time_fallback, VTS_FALLBACK_NONE);
    vts_conf_clear(&conf);

    parse_ok(&conf, "set_time_fallback = guest-exec\n");
    assert_int_equal(conf.set_time_fallback, VTS_FALLBACK_GUEST_EXEC);
    vts_sync_opts_init(&opts);
    vts_conf_to_sync_opts(&conf, &opts);
    assert_int_equal(opts.set_time_fallback, VTS_FALLBACK_GUEST_EXEC);
    vts_conf_clear(&conf);

    parse_ok(&conf, "set_time_fallback = guest-exec\nset_time_fallback = none\n");
    assert_int_equal(conf.set_time_fallback, VTS_FALLBACK_NONE);
    vts_conf_clear(&conf);

    parse_fails("\nset_time_fallback = guest_exec\n",
                "t.conf:2: set_time_fallback: 'guest_exec' is neither 'none' nor "
                "'guest-exec'");
    parse_fails("set_time_fallback =\n",
                "t.conf:1: set_time_fallback: '' is neither 'none' nor 'guest-exec'");
}

static void
test_conf_defaults(void **state)
{
    vts_conf conf;
    vts_error err;

    (void)state;
    vts_conf_init(&conf);
    assert_defaults(&conf);
    vts_conf_clear(&conf);
    vts_conf_clear(&conf);
    assert_defaults(&conf);

    parse_ok(&conf, "");
    assert_defaults(&conf);
    vts_conf_clear(&conf);

    parse_ok(&conf, "\n\n   \n\t\n# only comments\n   # indented\n");
    assert_defaults(&conf);
    vts_conf_clear(&conf);

    /* A NULL source is named "<string>". */
    assert_int_equal(vts_conf_parse_string(&conf, "x", NULL, &err), -1);
    assert_string_equal(err.message, "<string>:1: 'x' is not 'key = value'");
}

static void
test_conf_every_key(void **state)
{
    vts_conf conf;

    (void)state;
    parse_ok(&conf, "# vmtimesync.conf\n"
                    "uri = qemu+ssh://root@kvm1/system\n"
                    "threshold = 10ms\n"
                    "tolerance = 500us\n"
                    "samples = 9\n"
                    "agent_timeout = 2s\n"
                    "agent_wait = 30min\n"
                    "retry_max = 0\n"
                    "backoff_initial = 250ms\n"
                    "backoff_max = 2min\n"
                    "recheck_max = 0\n"
                    "recheck_delay = 250ms\n"
                    "workers = 16\n"
                    "include = web-* db-?\n"
                    "exclude = *-test\n"
                    "log_level = debug\n"
                    "control_socket = /run/vts/ctl.sock\n"
                    "metrics_file = /var/lib/node_exporter/vmtimesync.prom\n");
    assert_string_equal(conf.uri, "qemu+ssh://root@kvm1/system");
    assert_int_equal(conf.threshold_ns, 10 * MS);
    assert_int_equal(conf.tolerance_ns, 500000);
    assert_int_equal(conf.samples, 9);
    assert_int_equal(conf.agent_timeout_s, 2);
    assert_int_equal(conf.agent_wait_ns, 1800 * SEC);
    assert_int_equal(conf.retry_max, 0);
    assert_int_equal(conf.backoff_initial_ns, 250 * MS);
    assert_int_equal(conf.backoff_max_ns, 120 * SEC);
    assert_int_equal(conf.recheck_max, 0);
    assert_int_equal(conf.recheck_delay_ns, 250 * MS);
    assert_int_equal(conf.workers, 16);
    assert_int_equal(conf.include_count, 2);
    assert_string_equal(conf.include[0], "web-*");
    assert_string_equal(conf.include[1], "db-?");
    assert_int_equal(conf.exclude_count, 1);
    assert_string_equal(conf.exclude[0], "*-test");
    assert_int_equal(conf.log_level, VTS_LOG_DEBUG);
    assert_string_equal(conf.control_socket, "/run/vts/ctl.sock");
    assert_string_equal(conf.metrics_file, "/var/lib/node_exporter/vmtimesync.prom");
    vts_conf_clear(&conf);
    assert_defaults(&conf);
    vts_conf_clear(&conf);
}

static void
test_conf_whitespace_crlf_comments(void **state)
{
    vts_conf conf;

    (void)state;
    /* CRLF, tabs, blanks around '=', no newline at the end, a BOM. */
    parse_ok(&conf, "\xef\xbb\xbf# written on Windows\r\n"
                    "\r\n"
                    "\t samples\t=\t7 \r\n"
                    "workers=3\r\n"
                    "threshold = 2ms   # a comment after blanks\r\n"
                    "  # an indented comment\r\n"
                    "log_level = warning");
    assert_int_equal(conf.samples, 7);
    assert_int_equal(conf.workers, 3);
    assert_int_equal(conf.threshold_ns, 2 * MS);
    assert_int_equal(conf.log_level, VTS_LOG_WARNING);
    vts_conf_clear(&conf);

    /* '#' not after a blank is part of the value. */
    parse_ok(&conf, "uri = qemu+tcp://h/system?x=1#frag # comment\n");
    assert_string_equal(conf.uri, "qemu+tcp://h/system?x=1#frag");
    vts_conf_clear(&conf);

    /* A lone CR inside a line is a control character, so is a form feed. */
    parse_fails("samples = 7\rworkers = 2\n",
                "t.conf:1: a control character (byte 0x0d)");
    parse_fails("\n\nsamples\f= 7\n", "t.conf:3: a control character (byte 0x0c)");
    parse_fails("samples = 7\x7f\n", "t.conf:1: a control character (byte 0x7f)");
}

/* What an unknown key's message lists, in the documented order. */
#define KNOWN_KEYS                                                                       \
    "uri, threshold, tolerance, samples, agent_timeout, agent_wait, retry_max, "         \
    "backoff_initial, backoff_max, recheck_max, recheck_delay, workers, include, "       \
    "exclude, log_level, control_socket, metrics_file, host_unsynced, max_step, "        \
    "max_backward, set_time_fallback, watch_interval, watch_fix_above"

static void
test_conf_syntax_errors(void **state)
{
    (void)state;
    parse_fails("samples 5\n", "t.conf:1: 'samples 5' is not 'key = value'");
    parse_fails("\n\n = 5\n", "t.conf:3: a key is missing before '='");
    parse_fails("samples = 5\nthreshhold = 5ms\n",
                "t.conf:2: unknown key 'threshhold' (known keys: " KNOWN_KEYS ")");
    /* Keys are case-sensitive. */
    parse_fails("Samples = 5\n",
                "t.conf:1: unknown key 'Samples' (known keys: " KNOWN_KEYS ")");
    /* Only the first '=' splits. */
    parse_fails("samples = 5 = 6\n",
                "t.conf:1: samples: '5 = 6' is not a whole number from 1 to 64");
}

/* The example from the design: file:line, key, value, and what to write. */
static void
test_conf_error_names_source_and_line(void **state)
{
    vts_conf conf;
    vts_error err;

    (void)state;
    assert_int_equal(vts_conf_parse_string(&conf,
                                           "# 1\n# 2\n\nsamples = 5\n# 5\nworkers = 2\n"
                                           "threshold = 5x\n",
                                           VTS_CONF_DEFAULT_PATH, &err),
                     -1);
    assert_int_equal(err.code, VTS_ERR_CONFIG);
    assert_string_equal(err.message,
                        "/etc/vmtimesync/vmtimesync.conf:7: threshold: '5x' is "
                        "not a duration (use e.g. 5ms, 2s)");
    assert_defaults(&conf);
}

/* ---- values ---- */

static void
test_conf_durations(void **state)
{
    (void)state;
    assert_int_equal(duration_of("5ms"), 5 * MS);
    assert_int_equal(duration_of("5 ms"), 5 * MS);
    assert_int_equal(duration_of("2s"), 2 * SEC);
    assert_int_equal(duration_of("2"), 2 * SEC);
    assert_int_equal(duration_of("0"), 0);
    assert_int_equal(duration_of("0.5"), 500 * MS);
    assert_int_equal(duration_of(".25s"), 250 * MS);
    assert_int_equal(duration_of("3."), 3 * SEC);
    assert_int_equal(duration_of("1.5ms"), 1500000);
    assert_int_equal(duration_of("0.001"), 1 * MS);
    assert_int_equal(duration_of("250us"), 250000);
    assert_int_equal(duration_of("0.5us"), 500);
    assert_int_equal(duration_of("100ns"), 100);
    assert_int_equal(duration_of("1.4ns"), 1);
    assert_int_equal(duration_of("1.5ns"), 2);
    assert_int_equal(duration_of("1.000000000999s"),
                     1 * SEC); /* beyond 9 digits: ignored */
    assert_int_equal(duration_of("1min"), 60 * SEC);
    assert_int_equal(duration_of("0.5min"), 30 * SEC);
    assert_int_equal(duration_of("1h"), 3600 * SEC);
    assert_int_equal(duration_of("0.25h"), 900 * SEC);
    assert_int_equal(duration_of("0003600s"), 3600 * SEC);
}

static void
test_conf_duration_errors(void **state)
{
    (void)state;
    parse_fails("threshold = 5x\n",
                "t.conf:1: threshold: '5x' is not a duration (use e.g. "
                "5ms, 2s)");
    parse_fails("threshold =\n", "t.conf:1: threshold: missing value (use e.g. 5ms, 2s)");
    parse_fails("threshold = ms\n",
                "t.conf:1: threshold: 'ms' is not a duration (use e.g. 5ms, 2s)");
    parse_fails("threshold = .\n",
                "t.conf:1: threshold: '.' is not a duration (use e.g. 5ms, 2s)");
    parse_fails("threshold = -1s\n",
                "t.conf:1: threshold: '-1s' is not a duration (use e.g. 5ms, 2s)");
    parse_fails("threshold = +1s\n",
                "t.conf:1: threshold: '+1s' is not a duration (use e.g. 5ms, 2s)");
    parse_fails("threshold = 1e3\n",
                "t.conf:1: threshold: '1e3' is not a duration (use e.g. 5ms, 2s)");
    parse_fails("threshold = inf\n",
                "t.conf:1: threshold: 'inf' is not a duration (use e.g. 5ms, 2s)");
    parse_fails("threshold = 0x10\n",
                "t.conf:1: threshold: '0x10' is not a duration (use e.g. 5ms, 2s)");
    parse_fails("threshold = 1,5s\n",
                "t.conf:1: threshold: '1,5s' is not a duration (use e.g. 5ms, 2s)");
    parse_fails("threshold = 5 m s\n",
                "t.conf:1: threshold: '5 m s' is not a duration (use e.g. 5ms, 2s)");
    parse_fails("threshold = 5MS\n",
                "t.conf:1: threshold: '5MS' is not a duration (use e.g. 5ms, 2s)");
    parse_fails("threshold = 1m\n",
                "t.conf:1: threshold: '1m' is not a duration (use e.g. 5ms, 2s)");
    parse_fails("threshold = 1.5.2s\n",
                "t.conf:1: threshold: '1.5.2s' is not a duration (use e.g. 5ms, 2s)");
    /* Range, including values that overflow int64 nanoseconds. */
    parse_fails("threshold = 1.000001h\n",
                "t.conf:1: threshold: '1.000001h' is out of range (0 to 1h)");
    parse_fails("threshold = 2h\n",
                "t.conf:1: threshold: '2h' is out of range (0 to 1h)");
    parse_fails(
        "threshold = 99999999999999999999999999h\n",
        "t.conf:1: threshold: '99999999999999999999999999h' is out of range (0 to 1h)");
    parse_fails("threshold = 9223372036854775807\n",
                "t.conf:1: threshold: '9223372036854775807' is out of range (0 to 1h)");
    parse_fails("threshold = 9223372036.854775808\n",
                "t.conf:1: threshold: '9223372036.854775808' is out of range (0 to 1h)");
    parse_fails("tolerance = 61min\n",
                "t.conf:1: tolerance: '61min' is out of range (0 to 1h)");
    parse_fails("agent_wait = 0.5s\n",
                "t.conf:1: agent_wait: '0.5s' is out of range (1s to 24h)");
    parse_fails("agent_wait = 25h\n",
                "t.conf:1: agent_wait: '25h' is out of range (1s to 24h)");
    parse_fails("backoff_initial = 0\n",
                "t.conf:1: backoff_initial: '0' is out of range (1ms to 1h)");
    parse_fails("backoff_max = 1000ns\n",
                "t.conf:1: backoff_max: '1000ns' is out of range (1ms to 24h)");
}

static void
test_conf_boundaries(void **state)
{
    vts_conf conf;

    (void)state;
    parse_ok(&conf, "threshold = 1h\ntolerance = 0\nagent_wait = 1s\n"
                    "backoff_initial = 1ms\nbackoff_max = 24h\n");
    assert_int_equal(conf.threshold_ns, 3600 * SEC);
    assert_int_equal(conf.tolerance_ns, 0);
    assert_int_equal(conf.agent_wait_ns, 1 * SEC);
    assert_int_equal(conf.backoff_initial_ns, 1 * MS);
    assert_int_equal(conf.backoff_max_ns, 86400 * SEC);
    vts_conf_clear(&conf);

    parse_ok(&conf, "agent_wait = 24h\nbackoff_initial = 1h\nbackoff_max = 1h\n");
    assert_int_equal(conf.agent_wait_ns, 86400 * SEC);
    assert_int_equal(conf.backoff_initial_ns, 3600 * SEC);
    vts_conf_clear(&conf);
}

static void
test_conf_agent_timeout(void **state)
{
    vts_conf conf;

    (void)state;
    parse_ok(&conf, "agent_timeout = 1\n");
    assert_int_equal(conf.agent_timeout_s, 1);
    vts_conf_clear(&conf);
    parse_ok(&conf, "agent_timeout = 1min\n");
    assert_int_equal(conf.agent_timeout_s, 60);
    vts_conf_clear(&conf);
    parse_ok(&conf, "agent_timeout = 3000ms\n");
    assert_int_equal(conf.agent_timeout_s, 3);
    vts_conf_clear(&conf);
    parse_ok(&conf, "agent_timeout = 1h\n");
    assert_int_equal(conf.agent_timeout_s, 3600);
    vts_conf_clear(&conf);

    parse_fails("agent_timeout = 1.5s\n",
                "t.conf:1: agent_timeout: '1.5s' is not a whole "
                "number of seconds (use e.g. 5s, 1min)");
    parse_fails("agent_timeout = 500ms\n",
                "t.conf:1: agent_timeout: '500ms' is out of range (1s to 1h)");
    parse_fails("agent_timeout = 0\n",
                "t.conf:1: agent_timeout: '0' is out of range (1s to 1h)");
    parse_fails("agent_timeout = 3601s\n",
                "t.conf:1: agent_timeout: '3601s' is out of range (1s to 1h)");
}

static void
test_conf_ints(void **state)
{
    vts_conf conf;

    (void)state;
    parse_ok(&conf, "samples = 1\nretry_max = 100\nworkers = 64\n");
    assert_int_equal(conf.samples, 1);
    assert_int_equal(conf.retry_max, 100);
    assert_int_equal(conf.workers, 64);
    vts_conf_clear(&conf);
    parse_ok(&conf, "samples = 64\nworkers = 1\nretry_max = 007\n");
    assert_int_equal(conf.samples, 64);
    assert_int_equal(conf.workers, 1);
    assert_int_equal(conf.retry_max, 7);
    vts_conf_clear(&conf);

    parse_fails("samples = 0\n", "t.conf:1: samples: '0' is out of range (1 to 64)");
    parse_fails("samples = 65\n", "t.conf:1: samples: '65' is out of range (1 to 64)");
    parse_fails("samples = 99999999999999999999999\n",
                "t.conf:1: samples: '99999999999999999999999' is out of range (1 to 64)");
    parse_fails("samples = -1\n",
                "t.conf:1: samples: '-1' is not a whole number from 1 to 64");
    parse_fails("samples = 5.0\n",
                "t.conf:1: samples: '5.0' is not a whole number from 1 to 64");
    parse_fails("samples = five\n",
                "t.conf:1: samples: 'five' is not a whole number from 1 to 64");
    parse_fails("samples =\n",
                "t.conf:1: samples: missing value (a whole number from 1 to 64)");
    parse_fails("retry_max = 101\n",
                "t.conf:1: retry_max: '101' is out of range (0 to 100)");
    parse_fails("recheck_max = 11\n",
                "t.conf:1: recheck_max: '11' is out of range (0 to 10)");
    parse_fails("recheck_delay = 5ms\n",
                "t.conf:1: recheck_delay: '5ms' is out of range (10ms to 10min)");
    parse_fails("workers = 0\n", "t.conf:1: workers: '0' is out of range (1 to 64)");
    parse_fails("workers = 65\n", "t.conf:1: workers: '65' is out of range (1 to 64)");
}

static void
test_conf_log_level(void **state)
{
    static const struct {
        const char *text;
        vts_log_level level;
    } cases[] = {
        {"log_level = err", VTS_LOG_ERR},
        {"log_level = warning", VTS_LOG_WARNING},
        {"log_level = info", VTS_LOG_INFO},
        {"log_level = debug", VTS_LOG_DEBUG},
    };
    vts_conf conf;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        parse_ok(&conf, cases[i].text);
        assert_int_equal(conf.log_level, cases[i].level);
        vts_conf_clear(&conf);
    }
    parse_fails("log_level = error\n",
                "t.conf:1: log_level: 'error' is not a log level (use "
                "err, warning, info or debug)");
    parse_fails("log_level = DEBUG\n",
                "t.conf:1: log_level: 'DEBUG' is not a log level (use "
                "err, warning, info or debug)");
}

static void
test_conf_uri(void **state)
{
    vts_conf conf;

    (void)state;
    /* Split at the first '=': the URI keeps its own. */
    parse_ok(&conf, "uri = qemu+unix:///system?socket=/run/libvirt/virtqemud-sock\n");
    assert_string_equal(conf.uri,
                        "qemu+unix:///system?socket=/run/libvirt/virtqemud-sock");
    assert_string_equal(vts_conf_uri(&conf),
                        "qemu+unix:///system?socket=/run/libvirt/virtqemud-sock");
    vts_conf_clear(&conf);

    /* Repeated: the last one wins (and the first is freed). */
    parse_ok(&conf, "uri = qemu:///session\nuri = test:///default\n");
    assert_string_equal(conf.uri, "test:///default");
    vts_conf_clear(&conf);

    /* Empty: back to the default. */
    parse_ok(&conf, "uri = test:///default\nuri =\n");
    assert_null(conf.uri);
    vts_conf_clear(&conf);

    parse_fails(
        "uri = \"qemu:///system\"\n",
        "t.conf:1: uri: values take no quotes: write qemu:///system without them");
    parse_fails(
        "uri = 'qemu:///system'\n",
        "t.conf:1: uri: values take no quotes: write qemu:///system without them");
}

static void
test_conf_uri_default(void **state)
{
    vts_conf conf;
    char *saved = NULL;
    const char *env = getenv("LIBVIRT_DEFAULT_URI");

    (void)state;
    if (env)
        saved = strdup(env);
    vts_conf_init(&conf);

    unsetenv("LIBVIRT_DEFAULT_URI");
    assert_string_equal(vts_conf_uri(&conf), "qemu:///system");
    setenv("LIBVIRT_DEFAULT_URI", "", 1);
    assert_string_equal(vts_conf_uri(&conf), "qemu:///system");
    setenv("LIBVIRT_DEFAULT_URI", "test:///default", 1);
    assert_string_equal(vts_conf_uri(&conf), "test:///default");
    parse_ok(&conf, "uri = qemu:///session\n");
    assert_string_equal(vts_conf_uri(&conf), "qemu:///session");
    vts_conf_clear(&conf);

    if (saved)
        setenv("LIBVIRT_DEFAULT_URI", saved, 1);
    else
        unsetenv("LIBVIRT_DEFAULT_URI");
    free(saved);
}

static void
test_conf_paths(void **state)
{
    char text[300], path[200];
    vts_conf conf;

    (void)state;
    /* 107 bytes fit in sun_path with the NUL, 108 do not. */
    memset(path, 'a', sizeof(path));
    path[0] = '/';
    path[107] = '\0';
    snprintf(text, sizeof(text), "control_socket = %s\n", path);
    parse_ok(&conf, text);
    assert_string_equal(conf.control_socket, path);
    vts_conf_clear(&conf);
    path[107] = 'a';
    path[108] = '\0';
    snprintf(text, sizeof(text), "control_socket = %s\n", path);
    parse_fails(text, "t.conf:1: control_socket: the path is 108 bytes; a socket path "
                      "can have at most 107");

    parse_fails("control_socket = run/x.sock\n",
                "t.conf:1: control_socket: 'run/x.sock' is not an absolute path");
    parse_fails(
        "control_socket = /run/vmtimesync/\n",
        "t.conf:1: control_socket: '/run/vmtimesync/' names a directory, not a file");
    parse_fails("control_socket =\n",
                "t.conf:1: control_socket: missing value (an absolute path)");

    parse_ok(&conf, "metrics_file = /var/lib/prom/vts.prom\nmetrics_file =\n");
    assert_null(conf.metrics_file);
    vts_conf_clear(&conf);
    parse_ok(&conf, "metrics_file = /var/lib/prom dir/vts.prom\n");
    assert_string_equal(conf.metrics_file, "/var/lib/prom dir/vts.prom");
    vts_conf_clear(&conf);
    parse_fails("metrics_file = vts.prom\n",
                "t.conf:1: metrics_file: 'vts.prom' is not an absolute path");
}

static void
test_conf_patterns(void **state)
{
    vts_conf conf;

    (void)state;
    /* No patterns: every domain. */
    vts_conf_init(&conf);
    assert_true(vts_conf_domain_wanted(&conf, "anything"));
    assert_true(vts_conf_domain_wanted(&conf, ""));

    /* include and exclude accumulate over repeated lines. */
    parse_ok(&conf, "include = web-*\n"
                    "include = db-? \t mail\n"
                    "exclude = *-test\n"
                    "exclude = db-9\n");
    assert_int_equal(conf.include_count, 3);
    assert_int_equal(conf.exclude_count, 2);
    assert_true(vts_conf_domain_wanted(&conf, "web-1"));
    assert_true(vts_conf_domain_wanted(&conf, "db-1"));
    assert_true(vts_conf_domain_wanted(&conf, "mail"));
    assert_false(vts_conf_domain_wanted(&conf, "mail2"));
    assert_false(vts_conf_domain_wanted(&conf, "db-10"));
    assert_false(vts_conf_domain_wanted(&conf, "db-9"));
    assert_false(vts_conf_domain_wanted(&conf, "web-1-test"));
    assert_false(vts_conf_domain_wanted(&conf, "other"));
    vts_conf_clear(&conf);

    /* Exclude only. */
    parse_ok(&conf, "exclude = [a-c]*\n");
    assert_false(vts_conf_domain_wanted(&conf, "build"));
    assert_true(vts_conf_domain_wanted(&conf, "web"));
    vts_conf_clear(&conf);

    /* A backslash keeps a blank in the pattern; fnmatch gets the escape. */
    parse_ok(&conf, "include = my\\ vm web\\*\n");
    assert_int_equal(conf.include_count, 2);
    assert_string_equal(conf.include[0], "my\\ vm");
    assert_true(vts_conf_domain_wanted(&conf, "my vm"));
    assert_false(vts_conf_domain_wanted(&conf, "my"));
    assert_true(vts_conf_domain_wanted(&conf, "web*"));
    assert_false(vts_conf_domain_wanted(&conf, "web1"));
    vts_conf_clear(&conf);

    /* Non-ASCII names are bytes to fnmatch. */
    parse_ok(&conf, "include = caf\xc3\xa9-*\n");
    assert_true(vts_conf_domain_wanted(&conf, "caf\xc3\xa9-1"));
    vts_conf_clear(&conf);

    parse_fails("include =\n",
                "t.conf:1: include: missing value (one or more domain name "
                "patterns, e.g. web-*)");
    parse_fails("include = web-\\\n",
                "t.conf:1: include: a pattern ends with a lone backslash");
    parse_fails("exclude = a \"web-*\"\n",
                "t.conf:1: exclude: values take no quotes: write web-* without them");
    /* A failure after some patterns were added frees them. */
    parse_fails("include = a b c\nexclude = d\ninclude = e\nbogus\n",
                "t.conf:4: 'bogus' is not 'key = value'");
}

static void
test_conf_backoff_order(void **state)
{
    vts_conf conf;

    (void)state;
    parse_ok(&conf, "backoff_initial = 2min\nbackoff_max = 5min\n");
    assert_int_equal(conf.backoff_initial_ns, 120 * SEC);
    vts_conf_clear(&conf);

    parse_fails("backoff_initial = 10s\n\nbackoff_max = 5s\n",
                "t.conf:3: backoff_max: 5s is less than backoff_initial (10s)");
    parse_fails("backoff_max = 5s\nbackoff_initial = 10s\n",
                "t.conf:2: backoff_initial: 10s is more than backoff_max (5s)");
    parse_fails(
        "\nbackoff_initial = 2min\n",
        "t.conf:2: backoff_initial: 2min is more than backoff_max (1min, the default)");
    parse_fails("backoff_max = 500ms\n",
                "t.conf:1: backoff_max: 500ms is less than backoff_initial (1s)");
}

static void
test_conf_duplicate_last_wins(void **state)
{
    vts_conf conf;

    (void)state;
    parse_ok(&conf, "samples = 3\nsamples = 4\nthreshold = 1s\nthreshold = 2s\n"
                    "metrics_file = /a\nmetrics_file = /b\n"
                    "control_socket = /x/a.sock\ncontrol_socket = /x/b.sock\n");
    assert_int_equal(conf.samples, 4);
    assert_int_equal(conf.threshold_ns, 2 * SEC);
    assert_string_equal(conf.metrics_file, "/b");
    assert_string_equal(conf.control_socket, "/x/b.sock");
    vts_conf_clear(&conf);
}

static void
test_conf_error_resets(void **state)
{
    vts_conf conf;
    vts_error err;

    (void)state;
    /* Everything allocated before the bad line is freed (ASan checks), and
     * the conf is left at the defaults. */
    assert_int_equal(vts_conf_parse_string(&conf,
                                           "uri = test:///default\nmetrics_file = /m\n"
                                           "include = a\nexclude = b\nsamples = 9\n"
                                           "workers = many\n",
                                           "t.conf", &err),
                     -1);
    assert_string_equal(err.message,
                        "t.conf:6: workers: 'many' is not a whole number from 1 to 64");
    assert_defaults(&conf);
    vts_conf_clear(&conf);
    vts_conf_clear(&conf);
}

static void
test_conf_long_lines(void **state)
{
    const size_t n = 200000;
    char *text = NULL;
    vts_conf conf;
    vts_error err;

    (void)state;
    /* A 200 kB URI is kept whole: lines have no length limit. */
    text = malloc(n + 32);
    assert_non_null(text);
    memcpy(text, "uri = ", 6);
    memset(text + 6, 'u', n);
    memcpy(text + 6 + n, "\nsamples = 2\n", 14);
    parse_ok(&conf, text);
    assert_int_equal(strlen(conf.uri), n);
    assert_int_equal(conf.samples, 2);
    vts_conf_clear(&conf);

    /* A long bad value is quoted shortened, never cut mid-character. */
    memcpy(text, "threshold = ", 12);
    memset(text + 12, 'x', n);
    memcpy(text + 12 + n, "\n", 2);
    assert_int_equal(vts_conf_parse_string(&conf, text, "t.conf", &err), -1);
    assert_string_equal(
        err.message,
        "t.conf:1: threshold: "
        "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' is not "
        "a duration (use e.g. 5ms, 2s)");
    free(text);

    /* The cut falls after 61 bytes: here after a whole 2-byte character... */
    parse_fails(
        "log_level = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9"
        "zzzzzzzzzzzzzzzzzz\n",
        "t.conf:1: log_level: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "\xc3\xa9zzz...' is not a log level (use err, warning, info or debug)");
    /* ... and here in the middle of one (bytes 60 and 61), which is dropped. */
    parse_fails(
        "log_level = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9"
        "zzzzzzzzzzzzzzzzzz\n",
        "t.conf:1: log_level: "
        "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "...' is not a log level (use err, warning, info or debug)");
}

static void
test_conf_to_sync_opts(void **state)
{
    vts_sync_opts opts;
    vts_conf conf;

    (void)state;
    memset(&opts, 0, sizeof(opts));
    opts.check_only = true;
    parse_ok(&conf,
             "threshold = 20ms\ntolerance = 2ms\nsamples = 11\nagent_timeout = 9\n");
    vts_conf_to_sync_opts(&conf, &opts);
    assert_int_equal(opts.threshold_ns, 20 * MS);
    assert_int_equal(opts.tolerance_ns, 2 * MS);
    assert_int_equal(opts.samples, 11);
    assert_int_equal(opts.timeout_s, 9);
    assert_true(opts.check_only); /* untouched */
    assert_null(opts.log);
    vts_conf_clear(&conf);
}

/* vmtimesync's waiter (--hook-waiter) turns its options back into a
 * configuration: every sync option goes, and nothing else changes. */
static void
test_conf_from_sync_opts(void **state)
{
    vts_sync_opts opts, back;
    vts_conf conf;

    (void)state;
    vts_sync_opts_init(&opts);
    opts.threshold_ns = 20 * MS;
    opts.tolerance_ns = 2 * MS;
    opts.samples = 11;
    opts.timeout_s = 9;
    opts.allow_unsynced_host = true;
    opts.max_step_ns = 3600 * SEC;
    opts.max_backward_ns = 0;
    opts.set_time_fallback = VTS_FALLBACK_GUEST_EXEC;
    opts.check_only = true;
    vts_conf_init(&conf);
    vts_conf_from_sync_opts(&conf, &opts);
    assert_int_equal(conf.threshold_ns, 20 * MS);
    assert_int_equal(conf.tolerance_ns, 2 * MS);
    assert_int_equal(conf.samples, 11);
    assert_int_equal(conf.agent_timeout_s, 9);
    assert_true(conf.allow_unsynced_host);
    assert_int_equal(conf.max_step_ns, 3600 * SEC);
    assert_int_equal(conf.max_backward_ns, 0);
    assert_int_equal(conf.set_time_fallback, VTS_FALLBACK_GUEST_EXEC);
    /* The rest is still the defaults. */
    assert_int_equal(conf.agent_wait_ns, 600 * SEC);
    assert_int_equal(conf.workers, 8);
    assert_string_equal(conf.control_socket, "/run/vmtimesync/control.sock");
    /* And back: the same options. */
    vts_sync_opts_init(&back);
    vts_conf_to_sync_opts(&conf, &back);
    assert_int_equal(back.threshold_ns, opts.threshold_ns);
    assert_int_equal(back.tolerance_ns, opts.tolerance_ns);
    assert_int_equal(back.samples, opts.samples);
    assert_int_equal(back.timeout_s, opts.timeout_s);
    assert_true(back.allow_unsynced_host);
    assert_int_equal(back.max_step_ns, opts.max_step_ns);
    assert_int_equal(back.max_backward_ns, opts.max_backward_ns);
    assert_int_equal(back.set_time_fallback, VTS_FALLBACK_GUEST_EXEC);
    assert_false(back.check_only);
    vts_conf_clear(&conf);
}

/* The watch's settings: interval and bound from the file, at most half
 * the pool's workers (at least one) measuring at once. */
static void
test_conf_to_watch_conf(void **state)
{
    vts_watch_conf wc;
    vts_conf conf;

    (void)state;
    parse_ok(&conf, "watch_interval = 5min\nwatch_fix_above = never\nworkers = 6\n");
    vts_conf_to_watch_conf(&conf, 0, &wc);
    assert_true(wc.interval_ns == 300 * SEC);
    assert_true(wc.fix_above_ns < 0);
    assert_int_equal(wc.max_running, 3);
    assert_true(wc.seed == 0);
    /* The pool's count wins over the file's (a reload's workers wait for
     * a restart). */
    vts_conf_to_watch_conf(&conf, 10, &wc);
    assert_int_equal(wc.max_running, 5);
    vts_conf_to_watch_conf(&conf, 1, &wc);
    assert_int_equal(wc.max_running, 1);
    vts_conf_clear(&conf);
    parse_ok(&conf, "watch_interval = off\n");
    vts_conf_to_watch_conf(&conf, 0, &wc);
    assert_true(wc.interval_ns == 0);
    assert_true(wc.fix_above_ns == 1 * SEC);
    assert_int_equal(wc.max_running, 4);
    vts_conf_clear(&conf);
}

static void
test_conf_to_sched_conf(void **state)
{
    vts_sched_conf sc;
    vts_conf conf;

    (void)state;
    parse_ok(&conf, "agent_wait = 30s\nretry_max = 3\nrecheck_max = 2\nworkers = 8\n");
    vts_conf_to_sched_conf(&conf, &sc);
    assert_int_equal(sc.agent_wait_ns, 30000 * MS);
    assert_int_equal(sc.retry_max, 3);
    assert_int_equal(sc.recheck_max, 2);
    assert_int_equal(sc.tolerance_ns, conf.tolerance_ns);
    /* Half the workers at most on hung agents; one when there is one. */
    assert_int_equal(sc.unresponsive_max, 4);
    vts_conf_clear(&conf);
    parse_ok(&conf, "workers = 1\n");
    vts_conf_to_sched_conf(&conf, &sc);
    assert_int_equal(sc.unresponsive_max, 1);
    vts_conf_clear(&conf);
    parse_ok(&conf, "workers = 3\n");
    vts_conf_to_sched_conf(&conf, &sc);
    assert_int_equal(sc.unresponsive_max, 1);
    vts_conf_clear(&conf);
}

/* ---- vts_conf_load: files ---- */

typedef struct {
    char dir[64];
    char path[128];
} load_fixture;

/* ---- the key table against the documentation ---- */

/* The whole of @path (relative to the repository root, where make
 * check-unit runs the tests), NUL-terminated; the caller frees it. */
static char *
read_doc(const char *path)
{
    FILE *f = fopen(path, "r");
    char *text = NULL;
    size_t len = 0;

    if (!f)
        fail_msg("cannot open %s (run the tests from the repository root)", path);
    text = malloc(1024 * 1024);
    assert_non_null(text);
    len = fread(text, 1, 1024 * 1024 - 1, f);
    text[len] = '\0';
    fclose(f);
    return text;
}

/* The table's index of @key, or -1. */
static int
table_index(const char *key, size_t len)
{
    for (size_t i = 0; i < vts_conf_key_count(); i++)
        if (strlen(vts_conf_key_name(i)) == len &&
            strncmp(vts_conf_key_name(i), key, len) == 0)
            return (int)i;
    return -1;
}

/* The man page's entry for @key ("*key* = ..." at the start of a line, up
 * to the next line that starts neither with a tab nor empty), with every
 * run of blanks made one space; the caller frees it. NULL: no entry. */
static char *
man_entry(const char *man, const char *key)
{
    char head[64];
    const char *start = NULL, *end = NULL;
    char *out = NULL, *o = NULL;

    snprintf(head, sizeof(head), "\n*%s* =", key);
    if (!(start = strstr(man, head)))
        return NULL;
    start++;
    for (end = strchr(start, '\n'); end && (end[1] == '\t' || end[1] == '\n');
         end = strchr(end + 1, '\n'))
        ;
    if (!end)
        end = start + strlen(start);
    out = o = malloc((size_t)(end - start) + 1);
    assert_non_null(out);
    for (const char *p = start; p < end; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\n') {
            if (o > out && o[-1] != ' ')
                *o++ = ' ';
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

/* Into @out of @len bytes, the value that @entry's first "default" (any
 * case, an optional ':') goes on with: bold (*5ms*), or a plain word up to
 * ',', '.' or ';' ("none,"). False when there is none. */
static bool
man_default(const char *entry, char *out, size_t len)
{
    const char *p = strcasestr(entry, "default");
    size_t n;

    if (!p)
        return false;
    p += strlen("default");
    if (*p == ':')
        p++;
    if (*p++ != ' ')
        return false;
    if (*p == '*')
        n = strcspn(++p, "*");
    else
        n = strcspn(p, ",.; ");
    if (n == 0 || n >= len)
        return false;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

/* Do @a and @b hold the same settings? */
static bool
same_conf(const vts_conf *a, const vts_conf *b)
{
    for (int n = 0; n < VTS_CONF__NUMBERS; n++)
        if (vts_conf_number_get(a, (vts_conf_number)n) !=
            vts_conf_number_get(b, (vts_conf_number)n))
            return false;
    return (a->uri == NULL) == (b->uri == NULL) &&
           (!a->uri || strcmp(a->uri, b->uri) == 0) &&
           a->include_count == b->include_count && a->exclude_count == b->exclude_count &&
           a->log_level == b->log_level &&
           strcmp(a->control_socket, b->control_socket) == 0 &&
           (a->metrics_file == NULL) == (b->metrics_file == NULL) &&
           (!a->metrics_file || strcmp(a->metrics_file, b->metrics_file) == 0) &&
           a->allow_unsynced_host == b->allow_unsynced_host &&
           a->set_time_fallback == b->set_time_fallback &&
           a->watch_interval_ns == b->watch_interval_ns &&
           a->watch_fix_above_ns == b->watch_fix_above_ns;
}

/* Is @value, written for key @i in a file, key @i's default? A key
 * without one: is @value the word the table has for that ("none")? The
 * values are compared, not their spelling: 60s is 1min. */
static bool
is_default(size_t i, const char *value)
{
    char text[256], def[128];
    vts_conf conf, defaults;
    vts_error err;
    bool same;

    if (!vts_conf_key_default(i, def, sizeof(def)))
        return strcmp(value, def) == 0;
    snprintf(text, sizeof(text), "%s = %s\n", vts_conf_key_name(i), value);
    if (vts_conf_parse_string(&conf, text, "doc", &err) < 0)
        return false;
    vts_conf_init(&defaults);
    same = same_conf(&conf, &defaults);
    vts_conf_clear(&conf);
    return same;
}

/* Every key of the table has an entry in vmtimesync.conf(5) that gives the
 * table's default, and every entry there is a key of the table. */
static void
test_conf_table_matches_man_page(void **state)
{
    char *man = read_doc("man/vmtimesync.conf.5.scd");
    char def[128], value[128];
    const char *p = NULL, *end = NULL;
    size_t n;

    (void)state;
    for (size_t i = 0; i < vts_conf_key_count(); i++) {
        char *entry = man_entry(man, vts_conf_key_name(i));

        vts_conf_key_default(i, def, sizeof(def));
        if (!entry)
            fail_msg("%s is not in man/vmtimesync.conf.5.scd", vts_conf_key_name(i));
        if (!man_default(entry, value, sizeof(value)) || !is_default(i, value))
            fail_msg("man/vmtimesync.conf.5.scd: %s: the default is not '%s': %s",
                     vts_conf_key_name(i), def, entry);
        free(entry);
    }
    /* The KEYS section ends where the next "# " heading starts. */
    assert_non_null(p = strstr(man, "\n# KEYS\n"));
    p += strlen("\n# KEYS");
    assert_non_null(end = strstr(p, "\n# "));
    for (; (p = strstr(p, "\n*")) && p < end; p++) {
        n = strspn(p + 2, "abcdefghijklmnopqrstuvwxyz_");
        if (n == 0 || strncmp(p + 2 + n, "* =", 3) != 0)
            continue;
        if (table_index(p + 2, n) < 0)
            fail_msg("man/vmtimesync.conf.5.scd documents '%.*s', which is no key",
                     (int)n, p + 2);
    }
    free(man);
}

/* packaging/vmtimesync.conf shows every key of the table commented out
 * with the table's default ("#threshold = 5ms"; an example for the keys
 * without one), and names no other key. */
static void
test_conf_table_matches_packaged_file(void **state)
{
    char *file = read_doc("packaging/vmtimesync.conf");
    char line[256], def[128], value[128];
    const char *p = NULL;
    bool has_def;
    size_t n;

    (void)state;
    for (size_t i = 0; i < vts_conf_key_count(); i++) {
        has_def = vts_conf_key_default(i, def, sizeof(def));
        snprintf(line, sizeof(line), "\n#%s = ", vts_conf_key_name(i));
        if (!(p = strstr(file, line)))
            fail_msg("packaging/vmtimesync.conf lacks '%s'", line + 1);
        p += strlen(line);
        n = strcspn(p, "\n");
        snprintf(value, sizeof(value), "%.*s", (int)n, p);
        if (has_def && !is_default(i, value))
            fail_msg("packaging/vmtimesync.conf: %s = %s, the default is %s",
                     vts_conf_key_name(i), value, def);
    }
    for (p = file; (p = strstr(p, "\n#")); p++) {
        n = strspn(p + 2, "abcdefghijklmnopqrstuvwxyz_");
        if (n == 0 || strncmp(p + 2 + n, " = ", 3) != 0)
            continue;
        if (table_index(p + 2, n) < 0)
            fail_msg("packaging/vmtimesync.conf shows '%.*s', which is no key", (int)n,
                     p + 2);
    }
    free(file);
}

/* Each default as the documentation writes it reads back as the default
 * itself, and each key has a line of documentation. */
static void
test_conf_table_defaults_read_back(void **state)
{
    char text[256], def[128];
    vts_conf conf;

    (void)state;
    for (size_t i = 0; i < vts_conf_key_count(); i++) {
        assert_true(strlen(vts_conf_key_doc(i)) > 0);
        if (!vts_conf_key_default(i, def, sizeof(def)))
            continue;
        snprintf(text, sizeof(text), "%s = %s\n", vts_conf_key_name(i), def);
        parse_ok(&conf, text);
        assert_defaults(&conf);
        vts_conf_clear(&conf);
    }
}

static int
load_setup(void **state)
{
    load_fixture *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_conf.XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/vmtimesync.conf", f->dir);
    *state = f;
    return 0;
}

static int
load_teardown(void **state)
{
    load_fixture *f = *state;

    unlink(f->path);
    rmdir(f->path); /* test_conf_load_not_regular makes it a directory */
    rmdir(f->dir);
    free(f);
    return 0;
}

static void
write_file(const char *path, const char *data, size_t len)
{
    FILE *fp = fopen(path, "wb");

    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static void
test_conf_load_file(void **state)
{
    static const char text[] = "samples = 3\r\ninclude = web-*\n";
    load_fixture *f = *state;
    vts_conf conf;
    vts_error err;

    write_file(f->path, text, sizeof(text) - 1);
    assert_int_equal(vts_conf_load(&conf, f->path, false, &err), 0);
    assert_int_equal(conf.samples, 3);
    assert_int_equal(conf.include_count, 1);
    vts_conf_clear(&conf);

    /* Errors carry the path. */
    write_file(f->path, "samples = 3\nsamples = 0\n", 24);
    assert_int_equal(vts_conf_load(&conf, f->path, false, &err), -1);
    assert_int_equal(err.code, VTS_ERR_CONFIG);
    assert_non_null(
        strstr(err.message, "/vmtimesync.conf:2: samples: '0' is out of range"));
    assert_true(strncmp(err.message, f->path, strlen(f->path)) == 0);
    assert_defaults(&conf);

    /* An empty file is all defaults. */
    write_file(f->path, "", 0);
    assert_int_equal(vts_conf_load(&conf, f->path, false, &err), 0);
    assert_defaults(&conf);
}

static void
test_conf_load_missing(void **state)
{
    load_fixture *f = *state;
    char expected[256];
    vts_conf conf;
    vts_error err;

    memset(&conf, 0x5a, sizeof(conf));
    assert_int_equal(vts_conf_load(&conf, f->path, true, &err), 0);
    assert_defaults(&conf);

    assert_int_equal(vts_conf_load(&conf, f->path, false, &err), -1);
    assert_int_equal(err.code, VTS_ERR_CONFIG);
    snprintf(expected, sizeof(expected),
             "cannot read the configuration %s: No such file or directory", f->path);
    assert_string_equal(err.message, expected);
    assert_defaults(&conf);
}

static void
test_conf_load_nul_byte(void **state)
{
    static const char text[] = "samples = 3\n# fine\nwork\0ers = 2\n";
    load_fixture *f = *state;
    char expected[256];
    vts_conf conf;
    vts_error err;

    write_file(f->path, text, sizeof(text) - 1);
    assert_int_equal(vts_conf_load(&conf, f->path, false, &err), -1);
    assert_int_equal(err.code, VTS_ERR_CONFIG);
    snprintf(expected, sizeof(expected), "%s:3: a NUL byte: is this a text file?",
             f->path);
    assert_string_equal(err.message, expected);
    assert_defaults(&conf);
}

static void
test_conf_load_size_limit(void **state)
{
    load_fixture *f = *state;
    char *big = NULL;
    vts_conf conf;
    vts_error err;

    /* Exactly 1 MiB of comments is read... */
    big = malloc(VTS_CONF_MAX_SIZE + 1);
    assert_non_null(big);
    memset(big, '#', VTS_CONF_MAX_SIZE + 1);
    big[VTS_CONF_MAX_SIZE - 1] = '\n';
    write_file(f->path, big, VTS_CONF_MAX_SIZE);
    assert_int_equal(vts_conf_load(&conf, f->path, false, &err), 0);
    vts_conf_clear(&conf);

    /* ... one byte more is refused. */
    write_file(f->path, big, VTS_CONF_MAX_SIZE + 1);
    assert_int_equal(vts_conf_load(&conf, f->path, false, &err), -1);
    assert_int_equal(err.code, VTS_ERR_CONFIG);
    assert_non_null(
        strstr(err.message, "is larger than 1048576 bytes: is it the right file?"));
    assert_defaults(&conf);
    free(big);
}

static void
test_conf_load_not_regular(void **state)
{
    load_fixture *f = *state;
    char expected[256];
    vts_conf conf;
    vts_error err;

    assert_int_equal(mkdir(f->path, 0700), 0);
    assert_int_equal(vts_conf_load(&conf, f->path, true, &err), -1);
    snprintf(expected, sizeof(expected), "the configuration %s is not a regular file",
             f->path);
    assert_string_equal(err.message, expected);
    assert_int_equal(vts_conf_load(&conf, "/dev/null", false, &err), -1);
    assert_string_equal(err.message, "the configuration /dev/null is not a regular file");
}

/* One table of bounds: every numeric key takes its bounds from the file
 * and from vmtimesync's option alike, and nothing past them. */
static void
test_conf_bounds_are_the_same_in_the_file_and_on_the_command_line(void **state)
{
    /* backoff_initial may not exceed backoff_max: room for both. */
    static const char apart[] = "backoff_initial = 1ms\nbackoff_max = 24h\n";
    char text[160], lo[32], hi[32], over[40];
    vts_conf conf;
    vts_error err;
    int64_t v;

    (void)state;
    for (int n = 0; n < VTS_CONF__NUMBERS; n++) {
        const vts_conf_bounds *b = vts_conf_bounds_of((vts_conf_number)n);

        vts_conf_format_arg((vts_conf_number)n, b->min, lo, sizeof(lo));
        vts_conf_format_arg((vts_conf_number)n, b->max, hi, sizeof(hi));
        /* Just past the top: a nanosecond, a second or one more. */
        if (b->kind == VTS_CONF_COUNT)
            snprintf(over, sizeof(over), "%lld", (long long)b->max + 1);
        else if (b->kind == VTS_CONF_WHOLE_SECONDS)
            snprintf(over, sizeof(over), "%llds",
                     (long long)(b->max / VTS_NS_PER_SEC) + 1);
        else
            snprintf(over, sizeof(over), "%lldns", (long long)b->max + 1);
        snprintf(text, sizeof(text), "%s%s = %s\n", apart, b->key, lo);
        assert_int_equal(vts_conf_parse_string(&conf, text, NULL, &err), 0);
        assert_int_equal(vts_conf_number_get(&conf, (vts_conf_number)n), b->min);
        vts_conf_clear(&conf);
        snprintf(text, sizeof(text), "%s%s = %s\n", apart, b->key, hi);
        assert_int_equal(vts_conf_parse_string(&conf, text, NULL, &err), 0);
        assert_int_equal(vts_conf_number_get(&conf, (vts_conf_number)n), b->max);
        vts_conf_clear(&conf);
        snprintf(text, sizeof(text), "%s%s = %s\n", apart, b->key, over);
        assert_int_equal(vts_conf_parse_string(&conf, text, NULL, &err), -1);

        assert_int_equal(vts_conf_parse_arg((vts_conf_number)n, lo, &v, &err), 0);
        assert_int_equal(v, b->min);
        assert_int_equal(vts_conf_parse_arg((vts_conf_number)n, hi, &v, &err), 0);
        assert_int_equal(v, b->max);
        assert_int_equal(vts_conf_parse_arg((vts_conf_number)n, over, &v, &err), -1);
        assert_int_equal(vts_conf_parse_arg((vts_conf_number)n, "", &v, &err), -1);
        assert_int_equal(vts_conf_parse_arg((vts_conf_number)n, "-1", &v, &err), -1);
    }
    /* What the command line says when it refuses. */
    assert_int_equal(vts_conf_parse_arg(VTS_CONF_MAX_STEP, "1e3", &v, &err), -1);
    assert_string_equal(err.message, "a duration from 0 to 876000h (e.g. 5ms, 2s; a bare "
                                     "number is seconds)");
    assert_int_equal(vts_conf_parse_arg(VTS_CONF_AGENT_TIMEOUT, "1.5", &v, &err), -1);
    assert_string_equal(err.message, "whole seconds from 1 to 3600");
    assert_int_equal(vts_conf_parse_arg(VTS_CONF_SAMPLES, "65", &v, &err), -1);
    assert_string_equal(err.message, "a whole number from 1 to 64");
    /* Seconds as before, and units as in the file. */
    assert_int_equal(vts_conf_parse_arg(VTS_CONF_THRESHOLD, "0.005", &v, &err), 0);
    assert_int_equal(v, 5 * VTS_NS_PER_MS);
    assert_int_equal(vts_conf_parse_arg(VTS_CONF_MAX_STEP, "720h", &v, &err), 0);
    assert_int_equal(v, 720LL * 3600 * VTS_NS_PER_SEC);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_conf_bounds_are_the_same_in_the_file_and_on_the_command_line),
        cmocka_unit_test(test_conf_defaults),
        cmocka_unit_test(test_conf_time_safety),
        cmocka_unit_test(test_conf_set_time_fallback),
        cmocka_unit_test(test_conf_every_key),
        cmocka_unit_test(test_conf_whitespace_crlf_comments),
        cmocka_unit_test(test_conf_syntax_errors),
        cmocka_unit_test(test_conf_error_names_source_and_line),
        cmocka_unit_test(test_conf_durations),
        cmocka_unit_test(test_conf_duration_errors),
        cmocka_unit_test(test_conf_boundaries),
        cmocka_unit_test(test_conf_agent_timeout),
        cmocka_unit_test(test_conf_ints),
        cmocka_unit_test(test_conf_log_level),
        cmocka_unit_test(test_conf_uri),
        cmocka_unit_test(test_conf_uri_default),
        cmocka_unit_test(test_conf_paths),
        cmocka_unit_test(test_conf_patterns),
        cmocka_unit_test(test_conf_backoff_order),
        cmocka_unit_test(test_conf_duplicate_last_wins),
        cmocka_unit_test(test_conf_error_resets),
        cmocka_unit_test(test_conf_long_lines),
        cmocka_unit_test(test_conf_to_sync_opts),
        cmocka_unit_test(test_conf_from_sync_opts),
        cmocka_unit_test(test_conf_to_watch_conf),
        cmocka_unit_test(test_conf_to_sched_conf),
        cmocka_unit_test(test_conf_watch),
        cmocka_unit_test(test_conf_table_matches_man_page),
        cmocka_unit_test(test_conf_table_matches_packaged_file),
        cmocka_unit_test(test_conf_table_defaults_read_back),
        cmocka_unit_test_setup_teardown(test_conf_load_file, load_setup, load_teardown),
        cmocka_unit_test_setup_teardown(test_conf_load_missing, load_setup,
                                        load_teardown),
        cmocka_unit_test_setup_teardown(test_conf_load_nul_byte, load_setup,
                                        load_teardown),
        cmocka_unit_test_setup_teardown(test_conf_load_size_limit, load_setup,
                                        load_teardown),
        cmocka_unit_test_setup_teardown(test_conf_load_not_regular, load_setup,
                                        load_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
