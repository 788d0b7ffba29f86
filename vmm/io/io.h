/* SPDX-License-Identifier: MIT */
/*
 * The host I/O engine and its modelled disk (docs/async.md#the-io-engine).
 *
 * A client submits requests (read or write one block of a device: a file
 * or a buffer in memory) in batches; up to `depth` of them are in service
 * at once, each on a host worker thread of the engine; when one is done
 * the engine calls the request's completion callback, on that worker
 * thread. The engine knows nothing of guests, pages or pagers: a request
 * is a block number, a buffer and a callback.
 *
 * The modelled disk: every request costs `latency_ns`, plus `seek_ns` when
 * its block does not follow the block of the request dispatched before it
 * (a disk with one head). The scheduler picks which queued request is
 * dispatched next: fifo (arrival order) or elevator (LOOK: the nearest
 * block ahead of the head in the direction it moves, turning at the last
 * request). Worker threads rather than io_uring: docs/dependencies.md.
 */
#ifndef PFLAB_IO_H
#define PFLAB_IO_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IO_BLOCK 4096u
#define IO_MAX_DEPTH 256u

enum io_op { IO_READ, IO_WRITE };
enum io_sched { IO_FIFO, IO_ELEVATOR };

struct io_req;
typedef void (*io_done_fn)(struct io_req *r, int rc, void *ctx);

/* One request. The client owns it (no allocation in the engine) and must
 * not touch it between io_submit() and its callback. */
struct io_req {
	enum io_op op;
	int64_t block;      /* the block on the device; < 0: a hole, reads as
			       zeroes, moves no bytes (the seek model still
			       sees the head go there) */
	uint8_t *buf;       /* IO_BLOCK bytes */
	io_done_fn done;    /* called once, on a worker thread; rc 0 or -errno */
	void *ctx;
	/* the engine's */
	int rc;             /* the result, set before done() is called */
	struct io_req *next;
	uint64_t seq;       /* arrival order */
};

struct io_config {
	int fd;             /* the device: a file, or -1 ... */
	uint8_t *mem;       /* ... a buffer of nblocks blocks */
	uint64_t nblocks;   /* mem's size; a file's reads past its end are zeroes */
	uint32_t depth;     /* requests in service at once, 1..IO_MAX_DEPTH */
	enum io_sched sched;
	uint64_t latency_ns;
	uint64_t seek_ns;
};

struct io_stats {
	uint64_t requests, reads, writes;
	uint64_t batches;        /* io_submit() calls */
	uint64_t queued_sum;     /* over requests: queued + in service at arrival,
				    itself included; / requests = mean queue length */
	uint64_t seeks;          /* requests not on the block after the previous one */
	uint64_t seek_distance;  /* sum of |block - (previous block + 1)| of seeks */
	uint64_t max_in_service;
};

struct io_engine;

/* NULL with a reason in err. */
struct io_engine *io_create(const struct io_config *cfg, char *err, size_t errlen);
/* Waits for every request submitted, then stops the workers. NULL is fine. */
void io_destroy(struct io_engine *e);

/* Queue n requests as one batch (the scheduler sees them all at once). */
void io_submit(struct io_engine *e, struct io_req **reqs, size_t n);
/* Submit one request and wait for it: its rc. */
int io_do(struct io_engine *e, struct io_req *r);
/* Submit n requests as one batch and wait for all; rcs[i] each one's. */
void io_do_batch(struct io_engine *e, struct io_req **reqs, size_t n, int *rcs);

struct io_stats io_stats(struct io_engine *e);
double io_mean_queue(const struct io_stats *st);

/* "fifo" or "elevator": 0, or -1. */
int io_sched_parse(const char *s, enum io_sched *out);
const char *io_sched_name(enum io_sched s);

/* The scheduler on its own (disk.c), for the engine and its tests: take
 * the request to dispatch next off the queue *head. *dir is the elevator's
 * direction (+1 up, -1 down), head_block the block dispatched last. */
struct io_req *io_sched_pick(enum io_sched s, struct io_req **queue, int64_t head_block, int *dir);

#endif /* PFLAB_IO_H */
