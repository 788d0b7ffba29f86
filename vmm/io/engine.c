// SPDX-License-Identifier: MIT
/*
 * The host I/O engine: a queue, `depth` worker threads, the modelled
 * disk's costs, completion callbacks. See io.h; docs/async.md#the-io-engine.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io.h"

struct io_engine {
	struct io_config cfg;
	pthread_mutex_t lock;
	pthread_cond_t work;       /* a request was queued, or stop */
	pthread_cond_t idle;       /* outstanding fell to 0 */
	struct io_req *queue;      /* arrival order */
	struct io_req **tail;
	uint64_t outstanding;      /* submitted, callback not yet returned */
	uint64_t queued;           /* queued + in service: the queue length */
	uint32_t in_service;
	int64_t head;              /* the block dispatched last; -2: none yet */
	int dir;                   /* the elevator's direction */
	uint64_t seq;
	bool stopping;
	struct io_stats st;
	uint32_t nworkers;
	pthread_t workers[IO_MAX_DEPTH];
};

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
			       .tv_nsec = (long)(ns % 1000000000u) };

	if (ns)
		while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
			;
}

/* Move the bytes of one request: 0 or -errno. */
static int transfer(const struct io_config *c, struct io_req *r)
{
	off_t off = (off_t)r->block * IO_BLOCK;
	size_t done = 0;

	if (r->block < 0) {
		if (r->op == IO_WRITE)
			return -EINVAL;
		memset(r->buf, 0, IO_BLOCK);
		return 0;
	}
	if (c->fd < 0) {
		if ((uint64_t)r->block >= c->nblocks)
			return -EINVAL;
		if (r->op == IO_READ)
			memcpy(r->buf, c->mem + off, IO_BLOCK);
		else
			memcpy(c->mem + off, r->buf, IO_BLOCK);
		return 0;
	}
	while (done < IO_BLOCK) {
		ssize_t n = r->op == IO_READ
			    ? pread(c->fd, r->buf + done, IO_BLOCK - done, off + (off_t)done)
			    : pwrite(c->fd, r->buf + done, IO_BLOCK - done, off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) {
			if (r->op == IO_WRITE)
				return -EIO;
			break; /* past the end of the file: a block never written */
		}
		done += (size_t)n;
	}
	memset(r->buf + done, 0, IO_BLOCK - done);
	return 0;
}

/* Dispatch the next request: the scheduler's pick, and what the head's
 * move costs. Called with the lock held. */
static struct io_req *dispatch(struct io_engine *e, uint64_t *cost_ns)
{
	struct io_req *r = io_sched_pick(e->cfg.sched, &e->queue, e->head, &e->dir);

	/* The elevator may take the last request out of the middle of the
	 * queue's order: find the tail again (the queue is short: the requests
	 * outstanding). */
	e->tail = &e->queue;
	while (*e->tail)
		e->tail = &(*e->tail)->next;
	*cost_ns = e->cfg.latency_ns;
	if (r->block != e->head + 1) {
		int64_t d = r->block - (e->head + 1);

		e->st.seeks++;
		e->st.seek_distance += (uint64_t)(d < 0 ? -d : d);
		*cost_ns += e->cfg.seek_ns;
	}
	e->head = r->block;
	if (++e->in_service > e->st.max_in_service)
		e->st.max_in_service = e->in_service;
	return r;
}

static void *worker_main(void *arg)
{
	struct io_engine *e = arg;

	pthread_mutex_lock(&e->lock);
	for (;;) {
		struct io_req *r;
		uint64_t cost;

		while (!e->queue && !e->stopping)
			pthread_cond_wait(&e->work, &e->lock);
		if (!e->queue)
			break;
		r = dispatch(e, &cost);
		pthread_mutex_unlock(&e->lock);

		r->rc = transfer(&e->cfg, r);
		sleep_ns(cost);
		/* Off the device before the client hears of it: a client that
		 * submits again from its callback or right after it sees the
		 * queue without this request. */
		pthread_mutex_lock(&e->lock);
		e->in_service--;
		e->queued--;
		pthread_mutex_unlock(&e->lock);
		r->done(r, r->rc, r->ctx); /* r is the client's again */

		pthread_mutex_lock(&e->lock);
		if (--e->outstanding == 0)
			pthread_cond_broadcast(&e->idle);
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

struct io_engine *io_create(const struct io_config *cfg, char *err, size_t errlen)
{
	struct io_engine *e;

	if (cfg->depth < 1 || cfg->depth > IO_MAX_DEPTH) {
		snprintf(err, errlen, "disk depth %u: must be 1 to %u", cfg->depth, IO_MAX_DEPTH);
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "out of memory for the I/O engine");
		return NULL;
	}
	e->cfg = *cfg;
	e->tail = &e->queue;
	e->head = -2;
	e->dir = 1;
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->work, NULL);
	pthread_cond_init(&e->idle, NULL);
	for (; e->nworkers < cfg->depth; e->nworkers++) {
		if (pthread_create(&e->workers[e->nworkers], NULL, worker_main, e) != 0) {
			snprintf(err, errlen, "cannot start I/O worker thread %u", e->nworkers);
			io_destroy(e);
			return NULL;
		}
	}
	return e;
}

void io_destroy(struct io_engine *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	while (e->outstanding)
		pthread_cond_wait(&e->idle, &e->lock);
	e->stopping = true;
	pthread_cond_broadcast(&e->work);
	pthread_mutex_unlock(&e->lock);
	for (uint32_t i = 0; i < e->nworkers; i++)
		pthread_join(e->workers[i], NULL);
	pthread_cond_destroy(&e->idle);
	pthread_cond_destroy(&e->work);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

void io_submit(struct io_engine *e, struct io_req **reqs, size_t n)
{
	if (!n)
		return;
	pthread_mutex_lock(&e->lock);
	e->st.batches++;
	for (size_t i = 0; i < n; i++) {
		struct io_req *r = reqs[i];

		r->next = NULL;
		r->seq = e->seq++;
		*e->tail = r;
		e->tail = &r->next;
		e->outstanding++;
		e->queued++;
		e->st.requests++;
		e->st.queued_sum += e->queued;
		if (r->op == IO_READ)
			e->st.reads++;
		else
			e->st.writes++;
	}
	/* Wake one idle worker per request, not all of them: a busy worker
	 * looks at the queue again when its request is done. (A broadcast
	 * per request woke every worker to fight over the lock.) */
	if (n >= e->nworkers)
		pthread_cond_broadcast(&e->work);
	else
		for (size_t i = 0; i < n; i++)
			pthread_cond_signal(&e->work);
	pthread_mutex_unlock(&e->lock);
}

/* io_do and io_do_batch: a count of requests still out, and a condition. */
struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t left;
};

static void waiter_done(struct io_req *r, int rc, void *ctx)
{
	struct waiter *w = ctx;

	(void)r;
	(void)rc;
	pthread_mutex_lock(&w->lock);
	if (--w->left == 0)
		pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

void io_do_batch(struct io_engine *e, struct io_req **reqs, size_t n, int *rcs)
{
	struct waiter w = { .left = n };

	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	for (size_t i = 0; i < n; i++) {
		reqs[i]->done = waiter_done;
		reqs[i]->ctx = &w;
	}
	io_submit(e, reqs, n);
	pthread_mutex_lock(&w.lock);
	while (w.left)
		pthread_cond_wait(&w.cond, &w.lock);
	pthread_mutex_unlock(&w.lock);
	pthread_cond_destroy(&w.cond);
	pthread_mutex_destroy(&w.lock);
	for (size_t i = 0; i < n; i++)
		rcs[i] = reqs[i]->rc;
}

int io_do(struct io_engine *e, struct io_req *r)
{
	int rc;

	io_do_batch(e, &r, 1, &rc);
	return rc;
}

struct io_stats io_stats(struct io_engine *e)
{
	struct io_stats st;

	pthread_mutex_lock(&e->lock);
	st = e->st;
	pthread_mutex_unlock(&e->lock);
	return st;
}

double io_mean_queue(const struct io_stats *st)
{
	return st->requests ? (double)st->queued_sum / (double)st->requests : 0.0;
}
