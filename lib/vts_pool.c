/* vts_pool.c: worker threads fed by a FIFO of domain names. */
#include "vts_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VTS_POOL_MAX_WORKERS 64

typedef struct vts_pool_item {
    struct vts_pool_item *next;
    char name[];
} vts_pool_item;

struct vts_pool {
    pthread_mutex_t lock;
    pthread_cond_t work; /* an item was queued, or stopping */
    pthread_cond_t idle; /* a job finished */
    vts_pool_item *head, *tail;
    size_t active; /* jobs under way */
    size_t alive;  /* threads not yet exited */
    bool stopping;
    vts_pool_fn fn;
    void *opaque;
    size_t nthreads;
    pthread_t threads[VTS_POOL_MAX_WORKERS];
};

static void *
vts_pool_worker(void *arg)
{
    vts_pool *pool = arg;

    pthread_mutex_lock(&pool->lock);
    for (;;) {
        vts_pool_item *item;

        while (!pool->head && !pool->stopping)
            pthread_cond_wait(&pool->work, &pool->lock);
        if (pool->stopping)
            break;
        item = pool->head;
        pool->head = item->next;
        if (!pool->head)
            pool->tail = NULL;
        pool->active++;
        pthread_mutex_unlock(&pool->lock);

        pool->fn(item->name, pool->opaque);
        free(item);

        pthread_mutex_lock(&pool->lock);
        pool->active--;
        pthread_cond_broadcast(&pool->idle);
    }
    pool->alive--;
    pthread_cond_broadcast(&pool->idle);
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

vts_pool *
vts_pool_new(int workers, vts_pool_fn fn, void *opaque, vts_error *err)
{
    vts_pool *pool = NULL;

    if (workers < 1 || workers > VTS_POOL_MAX_WORKERS) {
        vts_error_set(err, VTS_ERR_CONFIG, "workers must be from 1 to %d, not %d",
                      VTS_POOL_MAX_WORKERS, workers);
        return NULL;
    }
    pool = calloc(1, sizeof(*pool));
    if (!pool) {
        vts_error_set(err, VTS_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->work, NULL);
    pthread_cond_init(&pool->idle, NULL);
    pool->fn = fn;
    pool->opaque = opaque;
    for (int i = 0; i < workers; i++) {
        int rc = pthread_create(&pool->threads[i], NULL, vts_pool_worker, pool);

        if (rc != 0) {
            vts_error_set(err, VTS_ERR_INTERNAL, "cannot start a worker thread: %s",
                          strerror(rc));
            vts_pool_stop(pool, 0);
            vts_pool_free(pool);
            return NULL;
        }
        pthread_mutex_lock(&pool->lock);
        pool->nthreads++;
        pool->alive++;
        pthread_mutex_unlock(&pool->lock);
    }
    return pool;
}

int
vts_pool_push(vts_pool *pool, const char *name)
{
    size_t len = strlen(name);
    vts_pool_item *item = malloc(sizeof(*item) + len + 1);
    int ret = -1;

    if (!item)
        return -1;
    item->next = NULL;
    memcpy(item->name, name, len + 1);
    pthread_mutex_lock(&pool->lock);
    if (!pool->stopping) {
        if (pool->tail)
            pool->tail->next = item;
        else
            pool->head = item;
        pool->tail = item;
        item = NULL;
        pthread_cond_signal(&pool->work);
        ret = 0;
    }
    pthread_mutex_unlock(&pool->lock);
    free(item);
    return ret;
}

size_t
vts_pool_stop(vts_pool *pool, int grace_ms)
{
    struct timespec until;
    size_t left;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += grace_ms / 1000;
    until.tv_nsec += (long)(grace_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }

    pthread_mutex_lock(&pool->lock);
    pool->stopping = true;
    while (pool->head) {
        vts_pool_item *item = pool->head;

        pool->head = item->next;
        free(item);
    }
    pool->tail = NULL;
    pthread_cond_broadcast(&pool->work);
    while (pool->alive > 0) {
        if (pthread_cond_timedwait(&pool->idle, &pool->lock, &until) == ETIMEDOUT)
            break;
    }
    left = pool->alive;
    pthread_mutex_unlock(&pool->lock);
    if (left == 0) {
        for (size_t i = 0; i < pool->nthreads; i++)
            pthread_join(pool->threads[i], NULL);
        pool->nthreads = 0;
    }
    return left;
}

void
vts_pool_free(vts_pool *pool)
{
    if (!pool || pool->nthreads > 0)
        return;
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->work);
    pthread_cond_destroy(&pool->idle);
    free(pool);
}
