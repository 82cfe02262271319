/* sim_clock.h: the simulation's virtual clock.
 *
 * Real threads (the daemon's worker pool, the driver, background clients)
 * run the real code; only time is virtual. Each thread that waits for a
 * time (an agent's reply, a timeout, the next scheduler deadline) blocks
 * here, and when every taking-part thread is blocked, the clock jumps to
 * the earliest wake-up. So a simulated minute costs milliseconds, and the
 * result does not depend on how busy this machine's cores are.
 *
 * Taking part: the driver and background threads from sim_clock_join()
 * on; pool workers only while in a job (sim_clock_job_begin/end). Queued
 * pool items not yet taken (sim_clock_pushed) hold the clock too, so a
 * job starts at the time it could start.
 *
 * One clock per process; everything here is guarded by one lock, which
 * the fake hypervisor shares (sim_clock_lock).
 */
#ifndef SIM_CLOCK_H
#define SIM_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define SIM_NEVER INT64_MAX

/* A thread's wait: for a time (@wake_ns), or for another thread to
 * release it (@wake_ns = SIM_NEVER). */
typedef struct sim_waiter {
    int64_t wake_ns;
    bool released;
    struct sim_waiter *next;
} sim_waiter;

/* Reset the clock to 0 for a pool of @workers threads. No thread may be
 * taking part. */
void sim_clock_reset(int workers);

/* The virtual monotonic time in ns since the reset (any thread). */
int64_t sim_clock_now(void);

void sim_clock_lock(void);
void sim_clock_unlock(void);

/* With the lock held: block until @w is released, by the clock reaching
 * w->wake_ns or by sim_clock_release_locked(). */
void sim_clock_wait_locked(sim_waiter *w);
/* With the lock held: let @w's thread go now (once). */
void sim_clock_release_locked(sim_waiter *w);

/* Block the calling thread for @ns of virtual time. */
void sim_clock_sleep(int64_t ns);

/* The calling thread takes part from now until sim_clock_leave(). */
void sim_clock_join(void);
void sim_clock_leave(void);

/* The driver thread: sleep until @wake_ns or until sim_clock_kick(). */
void sim_clock_driver_wait(int64_t wake_ns);
void sim_clock_kick(void);

/* A name was pushed to the pool; a worker starts a job; it ends. */
void sim_clock_pushed(void);
void sim_clock_job_begin(void);
void sim_clock_job_end(void);

#endif /* SIM_CLOCK_H */
