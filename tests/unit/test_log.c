/* test_log.c: lib/vts_log.c on stderr, with and without the journal: the
 * sd-daemon(3) priority prefix when JOURNAL_STREAM names fd 2, the same
 * lines as ever otherwise. stderr is a temporary file during each capture;
 * JOURNAL_STREAM is set to that file's device and inode to play journald. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "vts_log.h"

/* open_log's @env for "the captured file's own DEV:INO". */
#define JOURNAL_IS_THE_FILE "the file"

typedef struct {
    char path[64];
    int file;
    int saved_stderr;
    char out[4096];
} log_fixture;

static int
setup(void **state)
{
    log_fixture *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    snprintf(f->path, sizeof(f->path), "/tmp/vts-test-log.XXXXXX");
    f->file = mkstemp(f->path);
    f->saved_stderr = dup(STDERR_FILENO);
    if (f->file < 0 || f->saved_stderr < 0)
        return -1;
    unsetenv("JOURNAL_STREAM");
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    log_fixture *f = *state;

    fflush(stderr);
    dup2(f->saved_stderr, STDERR_FILENO);
    close(f->saved_stderr);
    close(f->file);
    unlink(f->path);
    unsetenv("JOURNAL_STREAM");
    free(f);
    return 0;
}

/* @st's "DEV:INO", as systemd writes it; then @suffix. */
static const char *
stream_of(char *env, size_t size, const struct stat *st, const char *suffix)
{
    snprintf(env, size, "%ju:%ju%s", (uintmax_t)st->st_dev, (uintmax_t)st->st_ino,
             suffix);
    return env;
}

/* stderr to the temporary file, JOURNAL_STREAM set to @env (NULL: unset;
 * JOURNAL_IS_THE_FILE: that file's DEV:INO), then the log opened at
 * @level on stderr. */
static void
open_log(log_fixture *f, const char *env, bool to_stderr, vts_log_level level)
{
    struct stat st;
    char own[64];

    fflush(stderr);
    assert_int_equal(dup2(f->file, STDERR_FILENO), STDERR_FILENO);
    if (!env) {
        unsetenv("JOURNAL_STREAM");
    } else if (strcmp(env, JOURNAL_IS_THE_FILE) == 0) {
        assert_int_equal(fstat(f->file, &st), 0);
        setenv("JOURNAL_STREAM", stream_of(own, sizeof(own), &st, ""), 1);
    } else {
        setenv("JOURNAL_STREAM", env, 1);
    }
    vts_log_open("test", to_stderr, level);
}

/* Back to the real stderr (so that cmocka's messages show); what was
 * written to the file. */
static const char *
captured(log_fixture *f)
{
    ssize_t n;

    fflush(stderr);
    dup2(f->saved_stderr, STDERR_FILENO);
    n = pread(f->file, f->out, sizeof(f->out) - 1, 0);
    assert_true(n >= 0);
    f->out[n] = '\0';
    return f->out;
}

/* @text starts with @prefix, then "HH:MM:SS.mmm ", then @rest; returns
 * what follows. */
static const char *
expect_line(const char *text, const char *prefix, const char *rest)
{
    static const char shape[] = "00:00:00.000 ";
    size_t i;

    assert_memory_equal(text, prefix, strlen(prefix));
    text += strlen(prefix);
    for (i = 0; shape[i]; i++) {
        if (shape[i] == '0')
            assert_true(text[i] >= '0' && text[i] <= '9');
        else
            assert_int_equal(text[i], shape[i]);
    }
    text += i;
    assert_memory_equal(text, rest, strlen(rest));
    return text + strlen(rest);
}

/* With JOURNAL_STREAM @env (as open_log's), a line of every level, each
 * starting with its @prefix. */
static void
expect_every_level(log_fixture *f, const char *env, const char *const prefix[4])
{
    const char *out;

    open_log(f, env, true, VTS_LOG_DEBUG);
    vts_log(VTS_LOG_ERR, "e %d", 1);
    vts_log(VTS_LOG_WARNING, "w %d", 2);
    vts_log(VTS_LOG_INFO, "i %d", 3);
    vts_log(VTS_LOG_DEBUG, "d %d", 4);
    out = captured(f);
    out = expect_line(out, prefix[VTS_LOG_ERR], "test[err]: e 1\n");
    out = expect_line(out, prefix[VTS_LOG_WARNING], "test[warning]: w 2\n");
    out = expect_line(out, prefix[VTS_LOG_INFO], "test[info]: i 3\n");
    out = expect_line(out, prefix[VTS_LOG_DEBUG], "test[debug]: d 4\n");
    assert_string_equal(out, "");
}

/* journald stamps each entry with the time and "vmtimesyncd[PID]": the
 * line carries its priority and the message only, else journalctl shows
 * "vmtimesyncd[1997]: 09:36:43.267 vmtimesyncd[info]: ...". */
static void
test_log_journal_gets_the_priority_of_every_line(void **state)
{
    log_fixture *f = *state;

    open_log(f, JOURNAL_IS_THE_FILE, true, VTS_LOG_DEBUG);
    vts_log(VTS_LOG_ERR, "e %d", 1);
    vts_log(VTS_LOG_WARNING, "w %d", 2);
    vts_log(VTS_LOG_INFO, "i %d", 3);
    vts_log(VTS_LOG_DEBUG, "d %d", 4);
    assert_string_equal(captured(f), "<3>e 1\n<4>w 2\n<6>i 3\n<7>d 4\n");
}

static void
test_log_without_journal_is_unchanged(void **state)
{
    static const char *const prefix[] = {"", "", "", ""};

    expect_every_level(*state, NULL, prefix);
}

/* A JOURNAL_STREAM inherited from a parent whose stderr went to the journal
 * names another file than ours: no prefix. */
static void
test_log_journal_stream_of_another_file_is_ignored(void **state)
{
    log_fixture *f = *state;
    struct stat st;
    char env[64];

    assert_int_equal(stat("/", &st), 0);
    open_log(f, stream_of(env, sizeof(env), &st, ""), true, VTS_LOG_INFO);
    vts_log(VTS_LOG_ERR, "e");
    expect_line(captured(f), "", "test[err]: e\n");
}

static void
test_log_malformed_journal_stream_is_ignored(void **state)
{
    static const char *const bad[] = {"", "12", ":", "a:b", "1:2:3", "1 2"};
    log_fixture *f = *state;
    struct stat st;
    char env[80];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        open_log(f, bad[i], true, VTS_LOG_INFO);
        assert_string_equal(vts_log_stderr_prefix(VTS_LOG_ERR), "");
        captured(f);
    }
    /* The right numbers with something after them. */
    assert_int_equal(fstat(f->file, &st), 0);
    open_log(f, stream_of(env, sizeof(env), &st, "x"), true, VTS_LOG_INFO);
    assert_string_equal(vts_log_stderr_prefix(VTS_LOG_ERR), "");
    captured(f);
}

/* journald takes the priority line by line: each line of a message of
 * several carries it; without the journal the bytes are what they were. */
static void
test_log_journal_prefixes_every_line_of_a_message(void **state)
{
    log_fixture *f = *state;

    open_log(f, JOURNAL_IS_THE_FILE, true, VTS_LOG_INFO);
    vts_log(VTS_LOG_WARNING, "agent said:\nline 2\n\nline 4");
    assert_string_equal(captured(f), "<4>agent said:\n<4>line 2\n<4>\n<4>line 4\n");
}

static void
test_log_without_journal_keeps_a_message_of_several_lines(void **state)
{
    log_fixture *f = *state;
    const char *out;

    open_log(f, NULL, true, VTS_LOG_INFO);
    vts_log(VTS_LOG_WARNING, "agent said:\nline 2\n\nline 4\n");
    out = expect_line(captured(f), "", "test[warning]: agent said:\n");
    assert_string_equal(out, "line 2\n\nline 4\n\n");
}

static void
test_log_journal_keeps_the_level_filter(void **state)
{
    log_fixture *f = *state;

    open_log(f, JOURNAL_IS_THE_FILE, true, VTS_LOG_WARNING);
    vts_log(VTS_LOG_INFO, "dropped");
    vts_log(VTS_LOG_DEBUG, "dropped");
    vts_log_set_level(VTS_LOG_INFO);
    vts_log(VTS_LOG_INFO, "kept");
    assert_string_equal(captured(f), "<6>kept\n");
}

/* The prefix describes stderr, for a program's own lines there, whether the
 * log itself goes to stderr or to syslog. */
static void
test_log_stderr_prefix(void **state)
{
    log_fixture *f = *state;

    open_log(f, JOURNAL_IS_THE_FILE, false, VTS_LOG_INFO);
    assert_string_equal(vts_log_stderr_prefix(VTS_LOG_ERR), "<3>");
    assert_string_equal(vts_log_stderr_prefix(VTS_LOG_WARNING), "<4>");
    assert_string_equal(vts_log_stderr_prefix(VTS_LOG_INFO), "<6>");
    assert_string_equal(vts_log_stderr_prefix(VTS_LOG_DEBUG), "<7>");
    captured(f);
    open_log(f, NULL, true, VTS_LOG_INFO);
    assert_string_equal(vts_log_stderr_prefix(VTS_LOG_ERR), "");
    assert_string_equal(captured(f), "");
}

/* --- syslog: never blocking ------------------------------------------- */

/* A stand-in for /dev/log at @path: a datagram socket that nobody reads
 * unless the test does. */
static int
fake_dev_log(char *path, size_t len)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int small = 1024;

    snprintf(path, len, "/tmp/vts-test-devlog.%ld", (long)getpid());
    unlink(path);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    return fd;
}

/* The libvirt hook logs to syslog, and libvirtd waits for the hook with no
 * timeout: glibc's syslog() blocks on /dev/log while journald does not
 * read (stalled, or its queue full), and a migration or restore stalled
 * with it. Logging must drop a message rather than wait. Here the logging
 * runs in a child that must be done in 2 s, with a /dev/log nobody reads. */
static void
test_log_syslog_never_blocks(void **state)
{
    char path[108];
    int fd = fake_dev_log(path, sizeof(path));
    struct timespec t0, t1;
    pid_t child;
    int status = -1;
    long ms;

    (void)state;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        vts_log_set_syslog_path(path);
        vts_log_open("test", false, VTS_LOG_INFO);
        for (int i = 0; i < 2000; i++)
            vts_log(VTS_LOG_INFO, "message %d, which nobody reads", i);
        _exit(0);
    }
    for (int waited = 0; waited < 2000 && waitpid(child, &status, WNOHANG) == 0;
         waited += 10)
        poll(NULL, 0, 10);
    if (waitpid(child, &status, WNOHANG) == 0) {
        kill(child, SIGKILL);
        waitpid(child, &status, 0);
        close(fd);
        unlink(path);
        fail_msg("logging to a /dev/log that is not read blocked for 2 s");
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    print_message("2000 messages to a /dev/log nobody reads: %ld ms\n", ms);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(fd);
    unlink(path);
}

/* What journald (or rsyslog) gets: "<PRI>TIMESTAMP IDENT[PID]: MESSAGE",
 * facility daemon; and after journald comes back, logging goes on. */
static void
test_log_syslog_format_and_reconnect(void **state)
{
    char path[108], buf[512], want[64];
    int fd = fake_dev_log(path, sizeof(path));
    ssize_t n;

    (void)state;
    vts_log_set_syslog_path(path);
    vts_log_open("test", false, VTS_LOG_INFO);
    vts_log(VTS_LOG_WARNING, "w %d", 1);
    n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
    assert_true(n > 0);
    buf[n] = '\0';
    /* LOG_DAEMON (3 << 3) | LOG_WARNING (4) */
    assert_memory_equal(buf, "<28>", 4);
    snprintf(want, sizeof(want), " test[%ld]: w 1", (long)getpid());
    assert_non_null(strstr(buf, want));
    assert_string_equal(buf + strlen(buf) - strlen(want), want);
    vts_log(VTS_LOG_DEBUG, "dropped by the level");
    assert_true(recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0);
    /* journald restarted: a new socket at the same path. */
    close(fd);
    fd = fake_dev_log(path, sizeof(path));
    vts_log(VTS_LOG_ERR, "after the restart");
    n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_memory_equal(buf, "<27>", 4);
    assert_non_null(strstr(buf, "after the restart"));
    vts_log_close();
    vts_log_set_syslog_path(NULL);
    close(fd);
    unlink(path);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_log_journal_gets_the_priority_of_every_line),
        T(test_log_without_journal_is_unchanged),
        T(test_log_journal_stream_of_another_file_is_ignored),
        T(test_log_malformed_journal_stream_is_ignored),
        T(test_log_journal_prefixes_every_line_of_a_message),
        T(test_log_without_journal_keeps_a_message_of_several_lines),
        T(test_log_journal_keeps_the_level_filter),
        T(test_log_stderr_prefix),
        T(test_log_syslog_never_blocks),
        T(test_log_syslog_format_and_reconnect),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
