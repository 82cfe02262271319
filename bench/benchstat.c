/* benchstat.c: statistics over columns of TSV files, one line per group,
 * for bench/report.sh (the report lays out text; this computes). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

#define MAX_COLS 8
#define MAX_STATS 32

static const char usage[] =
    "usage: benchstat -v COL[-COL] [-k COLS] [-s STATS] [-d DIV] [-a] [-c COLS]\n"
    "                 [-F COL] [-A] [-b KEY] [-f FMT] [-p] [-N] [FILE]...\n"
    "Reads TSV (FILEs, or stdin; the first line of each is a header unless -N)\n"
    "and prints one TSV line per group: its -k columns, then each statistic.\n"
    "  -v COL       the value column (from 1); A-B: column A minus column B\n"
    "  -k COLS      group by these columns (1,2); none: one group of all rows\n"
    "  -d DIV       divide each value by DIV (1e6: ns to ms; -1e6 also negates)\n"
    "  -c COLS      then subtract the median of the rows with the same COLS\n"
    "  -a           then take the absolute value\n"
    "  -F COL       skip the rows whose column COL is NA\n"
    "  -A           a group with an NA value has NA statistics (but n, na)\n"
    "  -b KEY       the group (its -k columns joined by tabs) ratios are to\n"
    "  -p           print each row's -k columns and value, not statistics\n"
    "  -f FMT       format values (-p) and statistics without a suffix: ms,\n"
    "               sms, g or .Nf as below\n"
    "  -s STATS     comma list (default n,median,p95,max): n (values),\n"
    "               na (NA or empty values), min, max, sum, mean, median,\n"
    "               pN (nearest rank), gtX (values above X); a suffix formats:\n"
    "               :ms (as the report's ms), :sms (signed), :x (ratio to the\n"
    "               -b group's same statistic), :g (as awk prints), :.Nf;\n"
    "               without one, exact (%.17g); NA when there is no value\n";

enum stat_kind { ST_N, ST_NA, ST_MIN, ST_MAX, ST_SUM, ST_MEAN, ST_MEDIAN, ST_PCT, ST_GT };
enum stat_fmt { FMT_RAW, FMT_MS, FMT_SMS, FMT_RATIO, FMT_AWK, FMT_FIXED };

struct stat_spec {
    enum stat_kind kind;
    double arg;
    enum stat_fmt fmt;
    int digits;
};

struct group {
    char *key;
    double *v;
    size_t n, cap;
    size_t na;
    char *center; /* -c: the centring group's key */
};

struct opts {
    int keys[MAX_COLS], nkeys;
    int centers[MAX_COLS], ncenters;
    int col, minus, filter;
    double div;
    int absolute, any_na, values, no_header;
    const char *base;
    struct stat_spec fmt; /* -f: the default format */
    struct stat_spec stats[MAX_STATS];
    int nstats;
};

/* Rows as read, in order; groups are built from them at the end. */
struct row {
    char *key, *center;
    double v;
    int na;
};

static struct row *rows;
static size_t nrows, caprows;

static int
parse_cols(const char *s, int *cols, int *n)
{
    char *end;

    *n = 0;
    while (*s) {
        long c = strtol(s, &end, 10);

        if (end == s || c < 1 || c > 1000 || *n == MAX_COLS)
            return -1;
        cols[(*n)++] = (int)c;
        if (*end == ',')
            end++;
        else if (*end)
            return -1;
        s = end;
    }
    return 0;
}

static int parse_fmt(const char *colon, size_t len, struct stat_spec *st);

static int
parse_stat(const char *s, size_t len, const struct stat_spec *dflt, struct stat_spec *st)
{
    static const struct {
        const char *name;
        enum stat_kind kind;
    } names[] = {{"n", ST_N},          {"na", ST_NA},   {"min", ST_MIN},
                 {"max", ST_MAX},      {"sum", ST_SUM}, {"mean", ST_MEAN},
                 {"median", ST_MEDIAN}};
    const char *colon = memchr(s, ':', len);
    size_t nlen = colon ? (size_t)(colon - s) : len;
    char buf[32], *end;

    st->fmt = dflt->fmt;
    st->digits = dflt->digits;
    st->arg = 0;
    if (nlen == 0 || nlen >= sizeof(buf))
        return -1;
    memcpy(buf, s, nlen);
    buf[nlen] = '\0';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(buf, names[i].name) == 0) {
            st->kind = names[i].kind;
            goto format;
        }
    if (buf[0] != 'p' && strncmp(buf, "gt", 2) != 0)
        return -1;
    st->kind = buf[0] == 'p' ? ST_PCT : ST_GT;
    errno = 0;
    st->arg = strtod(buf + (st->kind == ST_PCT ? 1 : 2), &end);
    if (end == buf + (st->kind == ST_PCT ? 1 : 2) || *end || errno ||
        (st->kind == ST_PCT && !(st->arg > 0 && st->arg <= 100)))
        return -1;
format:
    return colon ? parse_fmt(colon + 1, len - (size_t)(colon + 1 - s), st) : 0;
}

/* A format suffix (ms, sms, x, g, .Nf) of len bytes at s into st. */
static int
parse_fmt(const char *colon, size_t len, struct stat_spec *st)
{
    if (len == 2 && strncmp(colon, "ms", 2) == 0)
        st->fmt = FMT_MS;
    else if (len == 3 && strncmp(colon, "sms", 3) == 0)
        st->fmt = FMT_SMS;
    else if (len == 1 && colon[0] == 'x')
        st->fmt = FMT_RATIO;
    else if (len == 1 && colon[0] == 'g')
        st->fmt = FMT_AWK;
    else if (len == 3 && colon[0] == '.' && colon[1] >= '0' && colon[1] <= '9' &&
             colon[2] == 'f') {
        st->fmt = FMT_FIXED;
        st->digits = colon[1] - '0';
    } else
        return -1;
    return 0;
}

static int
parse_stats(const char *s, struct opts *o)
{
    o->nstats = 0;
    while (*s) {
        size_t len = strcspn(s, ",");

        if (o->nstats == MAX_STATS ||
            parse_stat(s, len, &o->fmt, &o->stats[o->nstats]) < 0)
            return -1;
        o->nstats++;
        s += len;
        if (*s == ',')
            s++;
    }
    return o->nstats ? 0 : -1;
}

/* The fields of line (split in place at tabs) into f; returns their count. */
static int
split_tabs(char *line, char **f, int max)
{
    int n = 0;

    for (char *p = line;; p++) {
        if (n < max)
            f[n] = p;
        n++;
        p = strchr(p, '\t');
        if (!p)
            break;
        *p = '\0';
    }
    return n;
}

static char *
join(char **f, const int *cols, int n)
{
    size_t len = 1;
    char *s, *p;

    for (int i = 0; i < n; i++)
        len += strlen(f[cols[i] - 1]) + 1;
    s = malloc(len);
    if (!s)
        return NULL;
    p = s;
    *p = '\0';
    for (int i = 0; i < n; i++)
        p += sprintf(p, "%s%s", i ? "\t" : "", f[cols[i] - 1]);
    return s;
}

static int
is_na(const char *s)
{
    return s[0] == '\0' || strcmp(s, "NA") == 0;
}

static int
number(const char *s, double *v)
{
    char *end;

    errno = 0;
    *v = strtod(s, &end);
    return end != s && *end == '\0' && errno == 0 && isfinite(*v) ? 0 : -1;
}

/* Reads one file's rows; prints what is wrong with it and returns -1. */
static int
read_file(FILE *fp, const char *name, const struct opts *o)
{
    char *line = NULL, *f[1024];
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    int ret = -1;

    while ((len = getline(&line, &cap, fp)) >= 0) {
        struct row r = {0};
        int nf, need = o->col > o->minus ? o->col : o->minus;
        double b;

        lineno++;
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (lineno == 1 && !o->no_header)
            continue;
        nf = split_tabs(line, f, 1024);
        for (int i = 0; i < o->nkeys; i++)
            need = o->keys[i] > need ? o->keys[i] : need;
        for (int i = 0; i < o->ncenters; i++)
            need = o->centers[i] > need ? o->centers[i] : need;
        need = o->filter > need ? o->filter : need;
        if (nf < need || nf > 1024) {
            fprintf(stderr, "benchstat: %s:%ld: %d columns, column %d wanted\n", name,
                    lineno, nf, need);
            goto cleanup;
        }
        if (o->filter && is_na(f[o->filter - 1]))
            continue;
        r.na = is_na(f[o->col - 1]) || (o->minus && is_na(f[o->minus - 1]));
        if (!r.na && number(f[o->col - 1], &r.v) < 0) {
            fprintf(stderr, "benchstat: %s:%ld: column %d is '%s', not a number\n", name,
                    lineno, o->col, f[o->col - 1]);
            goto cleanup;
        }
        if (!r.na && o->minus) {
            if (number(f[o->minus - 1], &b) < 0) {
                fprintf(stderr, "benchstat: %s:%ld: column %d is '%s', not a number\n",
                        name, lineno, o->minus, f[o->minus - 1]);
                goto cleanup;
            }
            r.v -= b;
        }
        if (!r.na && o->div != 1)
            r.v /= o->div;
        r.key = join(f, o->keys, o->nkeys);
        r.center = join(f, o->centers, o->ncenters);
        if (nrows == caprows) {
            struct row *nr = realloc(rows, (caprows * 2 + 64) * sizeof(*rows));

            if (!nr) {
                free(r.key);
                free(r.center);
                fprintf(stderr, "benchstat: out of memory\n");
                goto cleanup;
            }
            rows = nr;
            caprows = caprows * 2 + 64;
        }
        if (!r.key || !r.center) {
            free(r.key);
            free(r.center);
            fprintf(stderr, "benchstat: out of memory\n");
            goto cleanup;
        }
        rows[nrows++] = r;
    }
    if (ferror(fp)) {
        fprintf(stderr, "benchstat: %s: %s\n", name, strerror(errno));
        goto cleanup;
    }
    ret = 0;
cleanup:
    free(line);
    return ret;
}

/* The group of key in g[0..*n-1], added at the end when new. */
static struct group *
group_of(struct group **g, size_t *n, size_t *cap, const char *key)
{
    struct group *ng;

    for (size_t i = 0; i < *n; i++)
        if (strcmp((*g)[i].key, key) == 0)
            return &(*g)[i];
    if (*n == *cap) {
        ng = realloc(*g, (*cap * 2 + 16) * sizeof(**g));
        if (!ng)
            return NULL;
        *g = ng;
        *cap = *cap * 2 + 16;
    }
    ng = &(*g)[(*n)++];
    memset(ng, 0, sizeof(*ng));
    ng->key = (char *)key;
    return ng;
}

static int
group_add(struct group *g, double v)
{
    if (g->n == g->cap) {
        double *nv = realloc(g->v, (g->cap * 2 + 16) * sizeof(*nv));

        if (!nv)
            return -1;
        g->v = nv;
        g->cap = g->cap * 2 + 16;
    }
    g->v[g->n++] = v;
    return 0;
}

/* Groups rows by rowkey (key or center) into *out; values of NA rows are
 * counted, not kept. The groups borrow the rows' keys. */
static int
group_rows(int by_center, struct group **out, size_t *nout)
{
    size_t cap = 0;

    *out = NULL;
    *nout = 0;
    for (size_t i = 0; i < nrows; i++) {
        struct group *g =
            group_of(out, nout, &cap, by_center ? rows[i].center : rows[i].key);

        if (!g)
            return -1;
        if (rows[i].na)
            g->na++;
        else if (group_add(g, rows[i].v) < 0)
            return -1;
    }
    for (size_t i = 0; i < *nout; i++)
        vts_stats_sort((*out)[i].v, (*out)[i].n);
    return 0;
}

static void
free_groups(struct group *g, size_t n)
{
    for (size_t i = 0; g && i < n; i++)
        free(g[i].v);
    free(g);
}

/* -c, then -a: each value made its distance from its centring group's
 * median (signed until -a). */
static int
transform(const struct opts *o)
{
    struct group *c = NULL;
    size_t nc = 0;

    if (o->ncenters) {
        if (group_rows(1, &c, &nc) < 0) {
            free_groups(c, nc);
            return -1;
        }
        for (size_t i = 0; i < nrows; i++)
            for (size_t j = 0; j < nc && !rows[i].na; j++)
                if (strcmp(c[j].key, rows[i].center) == 0) {
                    rows[i].v -= vts_stats_median(c[j].v, c[j].n);
                    break;
                }
        free_groups(c, nc);
    }
    if (o->absolute)
        for (size_t i = 0; i < nrows; i++)
            rows[i].v = fabs(rows[i].v);
    return 0;
}

static double
stat_value(const struct stat_spec *st, const struct group *g, int any_na)
{
    size_t k = 0;

    switch (st->kind) {
    case ST_N:
        return (double)g->n;
    case ST_NA:
        return (double)g->na;
    case ST_GT:
        for (size_t i = 0; i < g->n; i++)
            k += g->v[i] > st->arg;
        return (double)k;
    default:
        break;
    }
    if (g->n == 0 || (any_na && g->na))
        return NAN;
    switch (st->kind) {
    case ST_MIN:
        return g->v[0];
    case ST_MAX:
        return g->v[g->n - 1];
    case ST_SUM:
        return vts_stats_sum(g->v, g->n);
    case ST_MEAN:
        return vts_stats_mean(g->v, g->n);
    case ST_MEDIAN:
        return vts_stats_median(g->v, g->n);
    default:
        return vts_stats_percentile(g->v, g->n, st->arg);
    }
}

static void
print_stat(const struct stat_spec *st, double v, double base)
{
    char buf[VTS_STATS_FMT_LEN];

    if (st->kind == ST_N || st->kind == ST_NA || st->kind == ST_GT) {
        printf("%.0f", v);
        return;
    }
    switch (st->fmt) {
    case FMT_MS:
        fputs(vts_stats_fms(buf, v), stdout);
        break;
    case FMT_SMS:
        fputs(vts_stats_fsms(buf, v), stdout);
        break;
    case FMT_RATIO:
        fputs(vts_stats_ratio(buf, v, base), stdout);
        break;
    case FMT_AWK:
        fputs(vts_stats_fawk(buf, v), stdout);
        break;
    case FMT_FIXED:
        if (isnan(v))
            fputs("n/a", stdout);
        else
            printf("%.*f", st->digits, v);
        break;
    case FMT_RAW:
        if (isnan(v))
            fputs("NA", stdout);
        else
            printf("%.17g", v);
        break;
    }
}

static int
report(const struct opts *o)
{
    struct group *g = NULL, *base = NULL;
    size_t ng = 0;

    if (o->values) {
        for (size_t i = 0; i < nrows; i++) {
            printf("%s%s", rows[i].key, o->nkeys ? "\t" : "");
            print_stat(&o->fmt, rows[i].na ? NAN : rows[i].v, NAN);
            putchar('\n');
        }
        return 0;
    }
    if (group_rows(0, &g, &ng) < 0) {
        free_groups(g, ng);
        return -1;
    }
    for (size_t i = 0; o->base && i < ng; i++)
        if (strcmp(g[i].key, o->base) == 0)
            base = &g[i];
    for (size_t i = 0; i < ng; i++) {
        printf("%s", g[i].key);
        for (int s = 0; s < o->nstats; s++) {
            const struct stat_spec *st = &o->stats[s];

            if (s || o->nkeys)
                putchar('\t');
            print_stat(st, stat_value(st, &g[i], o->any_na),
                       base ? stat_value(st, base, o->any_na) : NAN);
        }
        putchar('\n');
    }
    free_groups(g, ng);
    return 0;
}

static int
parse_value_col(const char *s, struct opts *o)
{
    char *end;
    long a = strtol(s, &end, 10), b = 0;

    if (end == s || a < 1 || a > 1000)
        return -1;
    if (*end == '-') {
        s = end + 1;
        b = strtol(s, &end, 10);
        if (end == s || b < 1 || b > 1000)
            return -1;
    }
    if (*end)
        return -1;
    o->col = (int)a;
    o->minus = (int)b;
    return 0;
}

int
main(int argc, char **argv)
{
    struct opts o = {.div = 1, .fmt = {.kind = ST_MEDIAN}};
    int c, ret = 1;
    char *end;
    const char *stats = "n,median,p95,max";

    while ((c = getopt(argc, argv, "v:k:s:d:c:aF:Ab:f:pNh")) != -1) {
        switch (c) {
        case 'v':
            if (parse_value_col(optarg, &o) < 0)
                goto usage;
            break;
        case 'k':
            if (parse_cols(optarg, o.keys, &o.nkeys) < 0)
                goto usage;
            break;
        case 'c':
            if (parse_cols(optarg, o.centers, &o.ncenters) < 0)
                goto usage;
            break;
        case 's':
            stats = optarg;
            break;
        case 'd':
            o.div = strtod(optarg, &end);
            if (end == optarg || *end || o.div == 0 || !isfinite(o.div))
                goto usage;
            break;
        case 'F':
            o.filter = (int)strtol(optarg, &end, 10);
            if (end == optarg || *end || o.filter < 1 || o.filter > 1000)
                goto usage;
            break;
        case 'a':
            o.absolute = 1;
            break;
        case 'A':
            o.any_na = 1;
            break;
        case 'b':
            o.base = optarg;
            break;
        case 'f':
            if (parse_fmt(optarg, strlen(optarg), &o.fmt) < 0 || o.fmt.fmt == FMT_RATIO)
                goto usage;
            break;
        case 'p':
            o.values = 1;
            break;
        case 'N':
            o.no_header = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            goto usage;
        }
    }
    if (!o.col)
        goto usage;
    /* After -f, the default format of every statistic. */
    if (parse_stats(stats, &o) < 0) {
        fprintf(stderr, "benchstat: bad statistics '%s'\n", stats);
        goto usage;
    }
    if (optind == argc) {
        if (read_file(stdin, "-", &o) < 0)
            goto cleanup;
    }
    for (int i = optind; i < argc; i++) {
        FILE *fp = strcmp(argv[i], "-") == 0 ? stdin : fopen(argv[i], "r");
        int rc;

        if (!fp) {
            fprintf(stderr, "benchstat: cannot read %s: %s\n", argv[i], strerror(errno));
            goto cleanup;
        }
        rc = read_file(fp, argv[i], &o);
        if (fp != stdin)
            fclose(fp);
        if (rc < 0)
            goto cleanup;
    }
    if (transform(&o) < 0 || report(&o) < 0) {
        fprintf(stderr, "benchstat: out of memory\n");
        goto cleanup;
    }
    ret = fflush(stdout) == 0 ? 0 : 1;
cleanup:
    for (size_t i = 0; i < nrows; i++) {
        free(rows[i].key);
        free(rows[i].center);
    }
    free(rows);
    return ret;
usage:
    fputs(usage, stderr);
    return 2;
}
