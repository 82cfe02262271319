/* sim_clock.c: the simulation's virtual clock (see sim_clock.h). */
#include "sim_clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t sim_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sim_cond = PTHREAD_COND_INITIALIZER;
/* All guarded by sim_lock; sim_now is also read without it (atomic). */
static int64_t sim_now;
static int sim_active;  /* threads taking part */
static int sim_blocked; /* of those, blocked in a wait */
static int sim_pending; /* pool items pushed, not yet taken */
static int sim_idle;    /* pool workers not in a job */
static sim_waiter *sim_waiters;
static sim_waiter *sim_driver; /* the driver's wait, when it waits */

void
sim_clock_reset(int workers)
{
    pthread_mutex_lock(&sim_lock);
    __atomic_store_n(&sim_now, 0, __ATOMIC_RELEASE);
    sim_active = 0;
    sim_blocked = 0;
    sim_pending = 0;
    sim_idle = workers;
    sim_waiters = NULL;
    sim_driver = NULL;
    pthread_mutex_unlock(&sim_lock);
}

int64_t
sim_clock_now(void)
{
    return __atomic_load_n(&sim_now, __ATOMIC_ACQUIRE);
}

void
sim_clock_lock(void)
{
    pthread_mutex_lock(&sim_lock);
}

void
sim_clock_unlock(void)
{
    pthread_mutex_unlock(&sim_lock);
}

void
sim_clock_release_locked(sim_waiter *w)
{
    if (w->released)
        return;
    w->released = true;
    sim_blocked--;
    pthread_cond_broadcast(&sim_cond);
}

/* When every thread taking part waits and no pool item is about to be
 * taken, move the clock to the earliest wake-up and release those due. */
static void
sim_clock_advance_locked(void)
{
    int64_t next = SIM_NEVER;

    if (sim_active == 0 || sim_blocked < sim_active || (sim_pending > 0 && sim_idle > 0))
        return;
    for (sim_waiter *w = sim_waiters; w; w = w->next) {
        if (!w->released && w->wake_ns < next)
            next = w->wake_ns;
    }
    if (next == SIM_NEVER) {
        fprintf(stderr,
                "vts-sim: every thread waits and nothing will wake one: deadlock\n");
        abort();
    }
    if (next > sim_now)
        __atomic_store_n(&sim_now, next, __ATOMIC_RELEASE);
    for (sim_waiter *w = sim_waiters; w; w = w->next) {
        if (!w->released && w->wake_ns <= sim_now)
            sim_clock_release_locked(w);
    }
}

void
sim_clock_wait_locked(sim_waiter *w)
{
    sim_waiter **p;

    w->released = false;
    if (w->wake_ns <= sim_now) {
        w->released = true;
        return;
    }
    w->next = sim_waiters;
    sim_waiters = w;
    sim_blocked++;
    sim_clock_advance_locked();
    while (!w->released)
        pthread_cond_wait(&sim_cond, &sim_lock);
    for (p = &sim_waiters; *p != w; p = &(*p)->next)
        ;
    *p = w->next;
}

void
sim_clock_sleep(int64_t ns)
{
    sim_waiter w = {.wake_ns = sim_clock_now() + ns};

    pthread_mutex_lock(&sim_lock);
    sim_clock_wait_locked(&w);
    pthread_mutex_unlock(&sim_lock);
}

void
sim_clock_join(void)
{
    pthread_mutex_lock(&sim_lock);
    sim_active++;
    pthread_mutex_unlock(&sim_lock);
}

void
sim_clock_leave(void)
{
    pthread_mutex_lock(&sim_lock);
    sim_active--;
    sim_clock_advance_locked();
    pthread_mutex_unlock(&sim_lock);
}

void
sim_clock_driver_wait(int64_t wake_ns)
{
    sim_waiter w = {.wake_ns = wake_ns};

    pthread_mutex_lock(&sim_lock);
    sim_driver = &w;
    sim_clock_wait_locked(&w);
    sim_driver = NULL;
    pthread_mutex_unlock(&sim_lock);
}

void
sim_clock_kick(void)
{
    pthread_mutex_lock(&sim_lock);
    if (sim_driver)
        sim_clock_release_locked(sim_driver);
    pthread_mutex_unlock(&sim_lock);
}

void
sim_clock_pushed(void)
{
    pthread_mutex_lock(&sim_lock);
    sim_pending++;
    pthread_mutex_unlock(&sim_lock);
}

void
sim_clock_job_begin(void)
{
    pthread_mutex_lock(&sim_lock);
    sim_pending--;
    sim_idle--;
    sim_active++;
    pthread_mutex_unlock(&sim_lock);
}

void
sim_clock_job_end(void)
{
    pthread_mutex_lock(&sim_lock);
    sim_active--;
    sim_idle++;
    sim_clock_advance_locked();
    pthread_mutex_unlock(&sim_lock);
}
