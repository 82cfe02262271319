/* vts_sim.c: vmtimesyncd's scheduler, worker pool and sync at scale, over
 * a simulated host (sim/README.md).
 *
 *   vts-sim                 the tables of sim/README.md and docs/benchmarks.md
 *   vts-sim --check         a quick run that fails (exit 1) when a guest is
 *                           left off, or more calls ran than workers
 *   vts-sim -n N [-w W] [--hung PCT] [--busybox] [--bg K] [--fifo]
 *           [--waves 1|2] [--seed S]    one run, one row
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_run.h"
#include "vts_sync.h"

#define SIM_SEED 20261130ULL

static double
sec(int64_t ns)
{
    return (double)ns / VTS_NS_PER_SEC;
}

static void
sim_header(void)
{
    printf("| guests | hung | workers | all stepped | all done | median done "
           "| healthy alone | bound | calls in flight | libvirtd workers (all), wait "
           "| syncs/guest | round trips/sync | steps/sync | worst offset | hung given up "
           "|\n");
    printf(
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
}

/* One table row for @w of a run of @c; @alone: the same healthy guests
 * without the hung ones, or NULL. */
static void
sim_row(const sim_conf *c, const sim_result *r, const sim_wave *w, const sim_wave *alone)
{
    double bound = sec(w->hold_ns) * w->healthy / c->workers;
    char alone_s[32] = "-", hung_s[32] = "-";

    if (alone)
        snprintf(alone_s, sizeof(alone_s), "%.1f s", sec(alone->done_ns));
    if (w->hung)
        snprintf(hung_s, sizeof(hung_s), "%.0f s", sec(w->idle_ns));
    printf(
        "| %d | %d | %d | %.1f s | %.1f s | %.1f s | %s | %.1f s | %d | %d (%d), %.1f ms "
        "| %.2f | %.1f (max %d) | %.2f | %.2f ms | %s |",
        c->n, w->hung, c->workers, sec(w->stepped_ns), sec(w->done_ns),
        sec(w->median_done_ns), alone_s, bound, r->hv.agent_inflight_max,
        r->hv.workers_ours_max, r->hv.workers_all_max,
        r->hv.calls ? (double)r->hv.worker_wait_ns / r->hv.calls / VTS_NS_PER_MS : 0.0,
        w->healthy ? (double)w->syncs / w->healthy : 0.0,
        w->syncs ? (double)w->round_trips / w->syncs : 0.0, w->round_trips_max,
        w->syncs ? (double)w->steps / w->syncs : 0.0, (double)w->worst_ns / VTS_NS_PER_MS,
        hung_s);
    if (w->not_done)
        printf(" **%d failed**", w->not_done);
    if (w->off)
        printf(" **%d left > 2 ms off**", w->off);
    printf("\n");
}

static int
sim_one(const sim_conf *c, sim_result *r)
{
    vts_error err;

    if (sim_run(c, r, &err) < 0) {
        fprintf(stderr, "vts-sim: %d guests, %d workers: %s\n", c->n, c->workers,
                err.message);
        return -1;
    }
    return 0;
}

static const int sim_workers[] = {2, 4, 8, 16};

/* One table of @base's runs, with sim_workers[@from] to [@to - 1]. */
static int
sim_variant(const sim_conf *base, size_t from, size_t to)
{
    sim_header();
    for (size_t j = from; j < to; j++) {
        sim_conf c = *base;
        sim_result r;

        c.workers = sim_workers[j];
        c.waves = 1;
        if (sim_one(&c, &r) < 0)
            return -1;
        sim_row(&c, &r, &r.wave[0], NULL);
    }
    return 0;
}

/* The whole set of tables. */
static int
sim_tables(uint64_t seed)
{
    static const int sizes[] = {12, 50, 200, 500};
    const int *workers = sim_workers;
    sim_conf c = {.waves = 1, .seed = seed};
    sim_result r;

    printf("### Mass resume, util-linux hwclock\n\n");
    sim_header();
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        for (int hung = 0; hung < 2; hung++) {
            for (size_t j = 0; j < sizeof(sim_workers) / sizeof(sim_workers[0]); j++) {
                sim_result alone;

                c.n = sizes[i];
                c.hung_every = hung ? 10 : 0;
                c.workers = workers[j];
                if (sim_one(&c, &r) < 0)
                    return -1;
                if (hung) {
                    sim_conf a = c;

                    a.n = r.wave[0].healthy;
                    a.hung_every = 0;
                    if (sim_one(&a, &alone) < 0)
                        return -1;
                }
                sim_row(&c, &r, &r.wave[0], hung ? &alone.wave[0] : NULL);
                fflush(stdout);
            }
        }
    }

    printf("\n### Hung agents known from a first mass resume: the second one\n\n");
    printf("| guests | hung | workers | order | 1st: healthy done | 2nd: healthy done "
           "| 2nd, the 180 alone |\n|---:|---:|---:|---|---:|---:|---:|\n");
    for (size_t j = 1; j < 3; j++) {
        sim_result base;

        c.n = 180;
        c.workers = workers[j];
        c.waves = 2;
        c.hung_every = 0;
        c.fifo = false;
        if (sim_one(&c, &base) < 0)
            return -1;
        c.n = 200;
        for (int fifo = 1; fifo >= 0; fifo--) {
            c.hung_every = 10;
            c.fifo = fifo;
            if (sim_one(&c, &r) < 0)
                return -1;
            printf("| %d | %d | %d | %s | %.1f s | %.1f s | %.1f s |\n", c.n,
                   r.wave[1].hung, c.workers,
                   fifo ? "pool FIFO (before)" : "answering first",
                   sec(r.wave[0].done_ns), sec(r.wave[1].done_ns),
                   sec(base.wave[1].done_ns));
        }
    }
    c.waves = 1;
    c.fifo = false;

    printf("\n### One guest resumed a second while the hung agents are retried\n\n");
    printf("From when the mass resume's healthy guests are done, one healthy guest a "
           "second for 60 s; time from each resume to its sync verified.\n\n");
    printf("| guests | hung | workers | order | median | max "
           "|\n|---:|---:|---:|---|---:|---:|\n");
    for (size_t j = 0; j < sizeof(sim_workers) / sizeof(sim_workers[0]); j++) {
        static const char *const modes[] = {"pool FIFO (before)",
                                            "answering first, no cap",
                                            "answering first, half the workers at most "
                                            "on hung agents",
                                            "the 180 healthy alone"};

        for (int m = 0; m < 4; m++) {
            sim_conf t = {.n = m == 3 ? 180 : 200,
                          .hung_every = m == 3 ? 0 : 10,
                          .workers = workers[j],
                          .fifo = m == 0,
                          .no_cap = m == 1,
                          .waves = 2,
                          .trickle = true,
                          .seed = seed};

            if (sim_one(&t, &r) < 0)
                return -1;
            printf("| %d | %d | %d | %s | %.1f s | %.1f s |\n", t.n, r.wave[1].hung,
                   t.workers, modes[m], sec(r.wave[1].median_done_ns),
                   sec(r.wave[1].done_ns));
        }
    }

    printf("\n### For reference: busybox hwclock; and other libvirtd clients\n\n");
    if (sim_variant(&(sim_conf){.n = 200, .busybox = true, .seed = seed}, 1, 3) < 0)
        return -1;
    printf("\nRound trips of an idle machine (0.9-1.3 ms instead of 2.6-5.5 ms):\n\n");
    if (sim_variant(&(sim_conf){.n = 200, .idle = true, .seed = seed}, 1, 3) < 0)
        return -1;
    printf(
        "\nWith 20 background clients (each holds a libvirtd worker half the time):\n\n");
    if (sim_variant(
            &(sim_conf){.n = 200, .hung_every = 10, .bg_clients = 20, .seed = seed}, 1,
            4) < 0)
        return -1;
    return 0;
}

/* The quick self-check for make check-sim: 50 guests, twice resumed at
 * once, with 4 and 8 workers. Every healthy guest ends within 2 ms, no
 * more agent calls run than workers, and once the hung agents are known
 * (the second resume) the healthy guests are done as soon as without them.
 * And a trickle of resumes while the hung agents are retried is served as
 * fast as without them. @fifo: the pool's order instead of
 * vts_sched_begin_next, @no_cap: no limit on hung agents' syncs (both fail). */
static int
sim_check(uint64_t seed, bool fifo, bool no_cap)
{
    static const int workers[] = {4, 8};
    int fail = 0;

    for (size_t j = 0; j < 2; j++) {
        sim_conf alone_c = {.n = 45, .workers = workers[j], .waves = 2, .seed = seed};
        sim_result alone;

        if (sim_one(&alone_c, &alone) < 0)
            return 1;
        for (int hung = 0; hung < 2; hung++) {
            sim_conf c = {.n = hung ? 50 : 45,
                          .workers = workers[j],
                          .hung_every = hung ? 10 : 0,
                          .waves = 2,
                          .seed = seed,
                          .fifo = fifo};
            sim_result r;

            if (sim_one(&c, &r) < 0)
                return 1;
            for (int k = 0; k < 2; k++) {
                const sim_wave *w = &r.wave[k];
                const char *why = NULL;

                if (w->not_done > 0)
                    why = "a healthy guest's sync failed";
                else if (w->off > 0 || w->worst_ns > 2 * VTS_NS_PER_MS)
                    why = "a guest was left more than 2 ms off";
                else if (r.hv.agent_inflight_max > c.workers)
                    why = "more agent calls in flight than workers";
                else if (w->healthy != 45)
                    why = "wrong count of healthy guests";
                else if (k == 1 &&
                         w->done_ns > alone.wave[1].done_ns + VTS_NS_PER_SEC / 2)
                    why = "known hung agents held up the healthy guests";
                printf("%s: %d guests, %d hung, %d workers, resume %d: healthy done in "
                       "%.1f s "
                       "(alone %.1f s), worst %.2f ms, %d calls in flight at most%s%s\n",
                       why ? "FAIL" : "ok", c.n, w->hung, c.workers, k + 1,
                       sec(w->done_ns), sec(alone.wave[k].done_ns),
                       (double)w->worst_ns / VTS_NS_PER_MS, r.hv.agent_inflight_max,
                       why ? ": " : "", why ? why : "");
                fail |= why != NULL;
            }
        }
    }
    /* A trickle of resumes while 20 hung agents are retried, with 8
     * workers: as fast as without them (at most half the workers wait on
     * hung agents). With 4 workers the trickle alone needs about 3. */
    {
        sim_conf ac = {.n = 180, .workers = 8, .waves = 2, .trickle = true, .seed = seed};
        sim_conf c = ac;
        sim_result alone, r;
        const char *why = NULL;

        c.n = 200;
        c.hung_every = 10;
        c.fifo = fifo;
        c.no_cap = no_cap;
        if (sim_one(&ac, &alone) < 0 || sim_one(&c, &r) < 0)
            return 1;
        if (r.wave[1].median_done_ns >
                alone.wave[1].median_done_ns + VTS_NS_PER_SEC / 5 ||
            r.wave[1].done_ns > alone.wave[1].done_ns + VTS_NS_PER_SEC / 2)
            why = "hung agents being retried held up the others";
        else if (r.wave[1].not_done > 0 || r.wave[1].off > 0)
            why = "a healthy guest was not synced";
        printf("%s: 200 guests, 20 hung, 8 workers, one resumed a second: median %.1f s, "
               "max %.1f s (alone %.1f s, %.1f s)%s%s\n",
               why ? "FAIL" : "ok", sec(r.wave[1].median_done_ns), sec(r.wave[1].done_ns),
               sec(alone.wave[1].median_done_ns), sec(alone.wave[1].done_ns),
               why ? ": " : "", why ? why : "");
        fail |= why != NULL;
    }
    return fail;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"check", no_argument, NULL, 'C'},
        {"hung", required_argument, NULL, 'H'},
        {"busybox", no_argument, NULL, 'B'},
        {"bg", required_argument, NULL, 'G'},
        {"fifo", no_argument, NULL, 'F'},
        {"trickle", no_argument, NULL, 'T'},
        {"no-cap", no_argument, NULL, 'N'},
        {"idle", no_argument, NULL, 'I'},
        {"waves", required_argument, NULL, 'W'},
        {"seed", required_argument, NULL, 'S'},
        {NULL, 0, NULL, 0},
    };
    sim_conf c = {.workers = 4, .waves = 1, .seed = SIM_SEED};
    bool check = false;
    sim_result r;
    int opt;

    while ((opt = getopt_long(argc, argv, "n:w:", longopts, NULL)) != -1) {
        switch (opt) {
        case 'n':
            c.n = atoi(optarg);
            break;
        case 'w':
            c.workers = atoi(optarg);
            break;
        case 'C':
            check = true;
            break;
        case 'H':
            c.hung_every = atoi(optarg) > 0 ? 100 / atoi(optarg) : 0;
            break;
        case 'B':
            c.busybox = true;
            break;
        case 'G':
            c.bg_clients = atoi(optarg);
            break;
        case 'F':
            c.fifo = true;
            break;
        case 'I':
            c.idle = true;
            break;
        case 'N':
            c.no_cap = true;
            break;
        case 'T':
            c.trickle = true;
            c.waves = 2;
            break;
        case 'W':
            c.waves = atoi(optarg);
            break;
        case 'S':
            c.seed = strtoull(optarg, NULL, 0);
            break;
        default:
            fprintf(stderr,
                    "usage: vts-sim [--check] [-n N -w W --hung PCT --busybox --bg K "
                    "--fifo --no-cap --idle --waves 1|2 --trickle --seed S]\n");
            return 2;
        }
    }
    if (check)
        return sim_check(c.seed, c.fifo, c.no_cap);
    if (c.n <= 0)
        return sim_tables(c.seed) < 0 ? 1 : 0;
    if (c.workers < 1 || c.workers > 64 || c.n > 100000) {
        fprintf(stderr, "vts-sim: 1 to 64 workers, at most 100000 guests\n");
        return 2;
    }
    if (sim_one(&c, &r) < 0)
        return 1;
    sim_header();
    for (int k = 0; k < c.waves && k < SIM_WAVES_MAX; k++)
        sim_row(&c, &r, &r.wave[k], NULL);
    return 0;
}
