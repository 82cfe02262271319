/* fuzz_conf.c: the configuration file (vts_conf_parse_string, and
 * vts_conf_load on the same bytes). The file is written by an
 * administrator, or by whoever manages a containerised libvirtd's hooks
 * directory; vmtimesyncd re-reads it on SIGHUP and must keep running on a
 * bad one.
 *
 * Besides "no crash, no leak": a parsed configuration holds values in the
 * documented ranges; a refused one is left at the defaults with nothing to
 * free and a "SOURCE:LINE: ..." message that has no control characters (it
 * goes to the log); and reading the same bytes from a file gives the same
 * answer (the file may also hold NULs, which only it can refuse). */
#include "fuzz.h"

#include <sys/mman.h>
#include <unistd.h>

#include "vts_conf.h"
#include "vts_sync.h"

#define HOUR_NS (3600 * VTS_NS_PER_SEC)

static int memfd = -1;
static char memfd_path[64];

static void
check_conf(const vts_conf *c)
{
    FUZZ_CHECK(!c->uri || c->uri[0] != '\0');
    FUZZ_CHECK(c->threshold_ns >= 0 && c->threshold_ns <= HOUR_NS);
    FUZZ_CHECK(c->tolerance_ns >= 0 && c->tolerance_ns <= HOUR_NS);
    FUZZ_CHECK(c->samples >= 1 && c->samples <= VTS_SYNC_MAX_SAMPLES);
    FUZZ_CHECK(c->agent_timeout_s >= 1 && c->agent_timeout_s <= 3600);
    FUZZ_CHECK(c->agent_wait_ns >= VTS_NS_PER_SEC && c->agent_wait_ns <= 24 * HOUR_NS);
    FUZZ_CHECK(c->retry_max >= 0 && c->retry_max <= 100);
    FUZZ_CHECK(c->backoff_initial_ns >= VTS_NS_PER_MS &&
               c->backoff_initial_ns <= HOUR_NS);
    FUZZ_CHECK(c->backoff_max_ns >= c->backoff_initial_ns &&
               c->backoff_max_ns <= 24 * HOUR_NS);
    FUZZ_CHECK(c->workers >= 1 && c->workers <= 64);
    FUZZ_CHECK((c->include_count == 0) == (c->include == NULL));
    FUZZ_CHECK((c->exclude_count == 0) == (c->exclude == NULL));
    for (size_t i = 0; i < c->include_count; i++)
        FUZZ_CHECK(c->include[i] && c->include[i][0] != '\0');
    for (size_t i = 0; i < c->exclude_count; i++)
        FUZZ_CHECK(c->exclude[i] && c->exclude[i][0] != '\0');
    FUZZ_CHECK(c->log_level >= VTS_LOG_ERR && c->log_level <= VTS_LOG_DEBUG);
    FUZZ_CHECK(memchr(c->control_socket, '\0', sizeof(c->control_socket)) != NULL);
    FUZZ_CHECK(c->control_socket[0] == '/');
    FUZZ_CHECK(!c->metrics_file || c->metrics_file[0] == '/');
}

/* What a failed parse must leave: the defaults, nothing allocated. */
static void
check_defaults(const vts_conf *c)
{
    vts_conf def;

    vts_conf_init(&def);
    FUZZ_CHECK(c->uri == NULL && c->metrics_file == NULL);
    FUZZ_CHECK(c->include == NULL && c->include_count == 0);
    FUZZ_CHECK(c->exclude == NULL && c->exclude_count == 0);
    FUZZ_CHECK(c->threshold_ns == def.threshold_ns && c->samples == def.samples);
    FUZZ_CHECK(c->backoff_max_ns == def.backoff_max_ns && c->workers == def.workers);
    FUZZ_CHECK(strcmp(c->control_socket, def.control_socket) == 0);
}

static void
check_refusal(const vts_conf *c, const vts_error *err, const char *source)
{
    check_defaults(c);
    fuzz_check_error(err);
    FUZZ_CHECK(err->code == VTS_ERR_CONFIG || err->code == VTS_ERR_INTERNAL);
    FUZZ_CHECK(strncmp(err->message, source, strlen(source)) == 0);
    FUZZ_CHECK(err->message[strlen(source)] == ':');
    FUZZ_CHECK(!fuzz_has_control(err->message, 1));
}

/* Put @data into the memory file that vts_conf_load reads by path. */
static void
fill_memfd(const uint8_t *data, size_t size)
{
    if (memfd < 0) {
        memfd = memfd_create("fuzz.conf", MFD_CLOEXEC);
        FUZZ_CHECK(memfd >= 0);
        snprintf(memfd_path, sizeof(memfd_path), "/proc/self/fd/%d", memfd);
    }
    FUZZ_CHECK(ftruncate(memfd, 0) == 0);
    FUZZ_CHECK(pwrite(memfd, data, size, 0) == (ssize_t)size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstring(data, size);
    bool has_nul = strlen(text) != size;
    vts_conf conf, loaded;
    vts_error err, lerr;
    int rc, lrc;

    /* Not "no error": a failure must fill the error in. */
    memset(&err, 0x55, sizeof(err));
    memset(&lerr, 0x55, sizeof(lerr));
    /* The parser must not read @conf: start it with garbage. */
    memset(&conf, 0x55, sizeof(conf));
    rc = vts_conf_parse_string(&conf, text, "fuzz.conf", &err);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc == 0) {
        vts_sync_opts opts = {0};

        check_conf(&conf);
        /* What the daemon does with it next. */
        (void)vts_conf_domain_wanted(&conf, "web-1");
        FUZZ_CHECK(vts_conf_uri(&conf)[0] != '\0');
        vts_conf_to_sync_opts(&conf, &opts);
    } else {
        check_refusal(&conf, &err, "fuzz.conf");
    }

    /* The same bytes from a file: the same answer, or a NUL refused. */
    fill_memfd(data, size);
    memset(&loaded, 0x55, sizeof(loaded));
    lrc = vts_conf_load(&loaded, memfd_path, false, &lerr);
    if (lrc == 0) {
        FUZZ_CHECK(!has_nul);
        FUZZ_CHECK(rc == 0);
        check_conf(&loaded);
        FUZZ_CHECK(loaded.include_count == conf.include_count);
        FUZZ_CHECK(loaded.threshold_ns == conf.threshold_ns);
        FUZZ_CHECK((loaded.uri == NULL) == (conf.uri == NULL));
        FUZZ_CHECK(!loaded.uri || strcmp(loaded.uri, conf.uri) == 0);
    } else {
        check_refusal(&loaded, &lerr, memfd_path);
        if (!has_nul) {
            /* Same line, same reason: only the source differs (up to
             * where the longer source made the message be cut). */
            const char *a = err.message + strlen("fuzz.conf");
            const char *b = lerr.message + strlen(memfd_path);

            FUZZ_CHECK(rc < 0);
            FUZZ_CHECK(strncmp(a, b, strlen(b)) == 0);
        }
    }

    vts_conf_clear(&conf);
    vts_conf_clear(&conf); /* documented: safe twice */
    vts_conf_clear(&loaded);
    free(text);
    return 0;
}
