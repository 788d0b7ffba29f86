// SPDX-License-Identifier: MIT
/*
 * The host I/O engine and its modelled disk (vmm/io/, docs/async.md): the
 * schedulers' order on hand-worked queues; a batch on an idle engine,
 * exact (order of service, seeks, seek distance, mean queue length);
 * bytes through a memory device and a file, holes, errors; `depth`
 * requests really in service at once (their callbacks meet at a barrier
 * that a smaller depth could never fill); and under KVM, the run with
 * --disk-depth 1 faults, writes back and seeks exactly as the run without
 * the engine, with every byte verified.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "test.h"

/* ---- the scheduler alone ------------------------------------------------- */

static struct io_req *queue_of(struct io_req *reqs, const int64_t *blocks, size_t n)
{
	for (size_t i = 0; i < n; i++)
		reqs[i] = (struct io_req){ .block = blocks[i], .next = i + 1 < n ? &reqs[i + 1] : NULL };
	return n ? &reqs[0] : NULL;
}

static void pick_all(enum io_sched s, const int64_t *blocks, size_t n, int64_t head,
		     int64_t *order)
{
	struct io_req reqs[16];
	struct io_req *q = queue_of(reqs, blocks, n);
	int dir = 1;

	for (size_t i = 0; i < n; i++) {
		struct io_req *r = io_sched_pick(s, &q, head, &dir);

		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		order[i] = r->block;
		head = r->block;
	}
	CU_ASSERT_PTR_NULL(q);
	CU_ASSERT_PTR_NULL(io_sched_pick(s, &q, head, &dir));
}

/* Head at 30 moving up: LOOK serves 50 60 70 on the way up, turns at 70
 * (the last request, not the disk's edge), then 20 10; equal blocks in
 * arrival order. fifo serves them as they came. */
static void test_sched_order(void)
{
	static const int64_t blocks[] = { 50, 10, 70, 20, 60 };
	static const int64_t look[] = { 50, 60, 70, 20, 10 };
	static const int64_t dup[] = { 5, 3, 5, 3 };
	static const int64_t dup_look[] = { 3, 3, 5, 5 };
	int64_t order[5];
	enum io_sched s;

	pick_all(IO_FIFO, blocks, 5, 30, order);
	CU_ASSERT_EQUAL(memcmp(order, blocks, sizeof(blocks)), 0);
	pick_all(IO_ELEVATOR, blocks, 5, 30, order);
	CU_ASSERT_EQUAL(memcmp(order, look, sizeof(look)), 0);
	pick_all(IO_ELEVATOR, dup, 4, 0, order);
	CU_ASSERT_EQUAL(memcmp(order, dup_look, sizeof(dup_look)), 0);
	CU_ASSERT_EQUAL(io_sched_parse("elevator", &s), 0);
	CU_ASSERT_EQUAL(s, IO_ELEVATOR);
	CU_ASSERT_EQUAL(io_sched_parse("fifo", &s), 0);
	CU_ASSERT_EQUAL(s, IO_FIFO);
	CU_ASSERT_EQUAL(io_sched_parse("scan", &s), -1);
}

/* The elevator against an independent model: sorting. From the head
 * going up, LOOK serves the blocks at or above it ascending, then the
 * rest descending. Random queues. */
static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void test_sched_property(void)
{
	struct test_rng rng = { 42 };

	for (int iter = 0; iter < 500; iter++) {
		size_t n = 1 + test_rng_below(&rng, 16);
		int64_t blocks[16], want[16], got[16], head = test_rng_below(&rng, 64);
		size_t k = 0;

		for (size_t i = 0; i < n; i++)
			blocks[i] = test_rng_below(&rng, 64);
		memcpy(want, blocks, sizeof(int64_t) * n);
		qsort(want, n, sizeof(int64_t), cmp_i64);
		while (k < n && want[k] < head)
			k++;
		/* want: [k..n) ascending, then [0..k) descending */
		{
			int64_t tmp[16];
			size_t j = 0;

			for (size_t i = k; i < n; i++)
				tmp[j++] = want[i];
			for (size_t i = k; i-- > 0;)
				tmp[j++] = want[i];
			memcpy(want, tmp, sizeof(int64_t) * n);
		}
		pick_all(IO_ELEVATOR, blocks, n, head, got);
		CU_ASSERT_EQUAL(memcmp(got, want, sizeof(int64_t) * n), 0);
	}
}

/* ---- the engine ---------------------------------------------------------- */

struct order_log {
	pthread_mutex_t lock;
	int64_t blocks[64];
	int rcs[64];
	size_t n;
};

static void log_done(struct io_req *r, int rc, void *ctx)
{
	struct order_log *l = ctx;

	pthread_mutex_lock(&l->lock);
	l->rcs[l->n] = rc;
	l->blocks[l->n++] = r->block;
	pthread_mutex_unlock(&l->lock);
}

static struct io_engine *mem_engine(uint8_t *mem, uint64_t nblocks, uint32_t depth,
				    enum io_sched s)
{
	char err[200];
	struct io_engine *e = io_create(&(struct io_config){
		.fd = -1, .mem = mem, .nblocks = nblocks, .depth = depth, .sched = s }, err,
		sizeof(err));

	CU_ASSERT_PTR_NOT_NULL(e);
	return e;
}

/*
 * One batch of 5 reads, blocks 5 1 4 2 3, on an idle engine of depth 1,
 * the head before block 0 (nothing dispatched: the head is at -2, so block
 * -1 would be "next"). fifo: every request but the last seeks, distances
 * |5-(-1)| + |1-6| + |4-2| + |2-5| = 6+5+2+3 = 16. elevator: 1 2 3 4 5,
 * one seek of 2. Either way the queue held 1, 2, 3, 4, 5 requests as they
 * arrived: mean 3.
 */
static void test_engine_batch_exact(void)
{
	static const int64_t blocks[] = { 5, 1, 4, 2, 3 };
	static const int64_t sorted[] = { 1, 2, 3, 4, 5 };
	uint8_t *mem = calloc(8, IO_BLOCK), buf[5][IO_BLOCK];

	for (int s = 0; s < 2; s++) {
		struct io_engine *e = mem_engine(mem, 8, 1, s ? IO_ELEVATOR : IO_FIFO);
		struct order_log log = { .lock = PTHREAD_MUTEX_INITIALIZER };
		struct io_req reqs[5], *rp[5];
		struct io_stats st;

		if (!e)
			break;
		for (int i = 0; i < 5; i++) {
			reqs[i] = (struct io_req){ .op = IO_READ, .block = blocks[i], .buf = buf[i],
						   .done = log_done, .ctx = &log };
			rp[i] = &reqs[i];
		}
		io_submit(e, rp, 5);
		io_destroy(e); /* waits for all */
		CU_ASSERT_EQUAL(log.n, 5);
		CU_ASSERT_EQUAL(memcmp(log.blocks, s ? sorted : blocks, sizeof(blocks)), 0);
		/* The same batch, waited for: its results and the counters. */
		e = mem_engine(mem, 8, 1, s ? IO_ELEVATOR : IO_FIFO);
		{
			int rcs[5];

			io_do_batch(e, rp, 5, rcs);
			st = io_stats(e);
			for (int i = 0; i < 5; i++)
				CU_ASSERT_EQUAL(rcs[i], 0);
		}
		io_destroy(e);
		CU_ASSERT_EQUAL(st.requests, 5);
		CU_ASSERT_EQUAL(st.reads, 5);
		CU_ASSERT_EQUAL(st.writes, 0);
		CU_ASSERT_EQUAL(st.batches, 1);
		CU_ASSERT_EQUAL(st.queued_sum, 15);
		CU_ASSERT_DOUBLE_EQUAL(io_mean_queue(&st), 3.0, 1e-9);
		CU_ASSERT_EQUAL(st.seeks, s ? 1 : 4);
		CU_ASSERT_EQUAL(st.seek_distance, s ? 2 : 16);
		CU_ASSERT_EQUAL(st.max_in_service, 1);
	}
	free(mem);
}

/* Bytes: writes land in their blocks, reads bring them back; a hole reads
 * as zeroes and cannot be written; a block beyond the device fails; one
 * request at a time, waited for, always sees a queue of 1. */
static void test_engine_bytes_mem(void)
{
	uint8_t *mem = calloc(4, IO_BLOCK), buf[IO_BLOCK];
	struct io_engine *e = mem_engine(mem, 4, 2, IO_FIFO);
	struct io_stats st;

	if (!e) {
		free(mem);
		return;
	}
	for (int b = 0; b < 4; b++) {
		memset(buf, 0xa0 + b, IO_BLOCK);
		CU_ASSERT_EQUAL(io_do(e, &(struct io_req){ .op = IO_WRITE, .block = b, .buf = buf }), 0);
	}
	for (int b = 3; b >= 0; b--) {
		memset(buf, 0, IO_BLOCK);
		CU_ASSERT_EQUAL(io_do(e, &(struct io_req){ .op = IO_READ, .block = b, .buf = buf }), 0);
		CU_ASSERT_EQUAL(buf[0], 0xa0 + b);
		CU_ASSERT_EQUAL(buf[IO_BLOCK - 1], 0xa0 + b);
		CU_ASSERT_EQUAL(mem[(size_t)b * IO_BLOCK + 77], 0xa0 + b);
	}
	memset(buf, 0x55, IO_BLOCK);
	CU_ASSERT_EQUAL(io_do(e, &(struct io_req){ .op = IO_READ, .block = -1, .buf = buf }), 0);
	CU_ASSERT_EQUAL(buf[0], 0);
	CU_ASSERT_EQUAL(buf[IO_BLOCK - 1], 0);
	CU_ASSERT_EQUAL(io_do(e, &(struct io_req){ .op = IO_WRITE, .block = -1, .buf = buf }),
			-EINVAL);
	CU_ASSERT_EQUAL(io_do(e, &(struct io_req){ .op = IO_READ, .block = 4, .buf = buf }), -EINVAL);
	st = io_stats(e);
	CU_ASSERT_EQUAL(st.requests, 11);
	CU_ASSERT_EQUAL(st.writes, 5);
	CU_ASSERT_EQUAL(st.batches, 11);
	CU_ASSERT_EQUAL(st.queued_sum, 11);
	/* Head at -2 (block -1 would be next). Writes 0 1 2 3: one seek, to 0.
	 * Reads 3 2 1 0: four. Then -1 (expected 1), -1 (expected 0), 4
	 * (expected 0): three more, each a seek. */
	CU_ASSERT_EQUAL(st.seeks, 1 + 4 + 3);
	CU_ASSERT_EQUAL(st.seek_distance, 1 + (1 + 2 + 2 + 2) + (2 + 1 + 4));
	io_destroy(e);
	free(mem);
}

/* A file device: bytes at block * 4096, a block past the end reads as
 * zeroes. */
static void test_engine_bytes_file(void)
{
	char path[4096];
	uint8_t buf[IO_BLOCK];
	char err[200];
	struct io_engine *e;
	int fd;

	snprintf(path, sizeof(path), "%s/io-dev", scratch_dir());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	e = io_create(&(struct io_config){ .fd = fd, .depth = 3, .sched = IO_ELEVATOR }, err,
		      sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	memset(buf, 0x3c, IO_BLOCK);
	CU_ASSERT_EQUAL(io_do(e, &(struct io_req){ .op = IO_WRITE, .block = 2, .buf = buf }), 0);
	memset(buf, 0x11, IO_BLOCK);
	CU_ASSERT_EQUAL(io_do(e, &(struct io_req){ .op = IO_READ, .block = 9, .buf = buf }), 0);
	CU_ASSERT_EQUAL(buf[100], 0);
	CU_ASSERT_EQUAL(io_do(e, &(struct io_req){ .op = IO_READ, .block = 2, .buf = buf }), 0);
	CU_ASSERT_EQUAL(buf[100], 0x3c);
	CU_ASSERT_EQUAL(lseek(fd, 0, SEEK_END), 3 * IO_BLOCK);
	io_destroy(e);
	close(fd);
}

/* Depth Q means Q requests in service at once: Q callbacks, each on its
 * own worker, wait at a barrier for all Q. With fewer workers the barrier
 * never fills and the wait times out. */
struct barrier {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned arrived, need, timed_out;
};

static void barrier_done(struct io_req *r, int rc, void *ctx)
{
	struct barrier *b = ctx;
	struct timespec until;

	(void)r;
	(void)rc;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&b->lock);
	b->arrived++;
	pthread_cond_broadcast(&b->cond);
	while (b->arrived < b->need)
		if (pthread_cond_timedwait(&b->cond, &b->lock, &until) != 0) {
			b->timed_out++;
			break;
		}
	pthread_mutex_unlock(&b->lock);
}

static void test_engine_depth_concurrent(void)
{
	enum { Q = 6 };
	uint8_t *mem = calloc(Q, IO_BLOCK), buf[Q][IO_BLOCK];
	struct io_engine *e = mem_engine(mem, Q, Q, IO_FIFO);
	struct barrier b = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, Q, 0 };
	struct io_req reqs[Q], *rp[Q];

	if (!e) {
		free(mem);
		return;
	}
	for (int i = 0; i < Q; i++) {
		reqs[i] = (struct io_req){ .op = IO_READ, .block = i, .buf = buf[i],
					   .done = barrier_done, .ctx = &b };
		rp[i] = &reqs[i];
	}
	io_submit(e, rp, Q);
	io_destroy(e);
	CU_ASSERT_EQUAL(b.arrived, Q);
	CU_ASSERT_EQUAL(b.timed_out, 0);
	free(mem);
}

/* Requests counted as they complete, waited for with a limit: a request
 * the engine lost fails the test instead of hanging it. */
struct counted {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned done;
};

static void count_done(struct io_req *r, int rc, void *ctx)
{
	struct counted *c = ctx;

	(void)r;
	(void)rc;
	pthread_mutex_lock(&c->lock);
	c->done++;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static bool wait_done(struct counted *c, unsigned n)
{
	struct timespec until;
	bool ok = true;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&c->lock);
	while (c->done < n && ok)
		ok = pthread_cond_timedwait(&c->cond, &c->lock, &until) == 0 || c->done >= n;
	pthread_mutex_unlock(&c->lock);
	return c->done >= n;
}

/* The elevator takes block 1, the last of the batch [5, 1], first. Its
 * callback submits block 7 at once (before the worker takes 5): 7 must be
 * queued after 5, not hung on the request taken (the queue's tail must
 * follow the elevator's pick). */
struct chain {
	struct counted c;
	struct io_engine *e;
	struct io_req *next;
};

static void submit_next(struct io_req *r, int rc, void *ctx)
{
	struct chain *ch = ctx;

	io_submit(ch->e, &ch->next, 1);
	count_done(r, rc, &ch->c);
}

static void test_engine_elevator_tail(void)
{
	uint8_t *mem = calloc(8, IO_BLOCK), buf[3][IO_BLOCK];
	char err[200];
	struct chain ch = { { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 }, NULL, NULL };
	struct io_req reqs[3], *rp[2];

	ch.e = io_create(&(struct io_config){ .fd = -1, .mem = mem, .nblocks = 8, .depth = 1,
					      .sched = IO_ELEVATOR }, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch.e);
	reqs[0] = (struct io_req){ .op = IO_READ, .block = 5, .buf = buf[0], .done = count_done,
				   .ctx = &ch.c };
	reqs[1] = (struct io_req){ .op = IO_READ, .block = 1, .buf = buf[1], .done = submit_next,
				   .ctx = &ch };
	reqs[2] = (struct io_req){ .op = IO_READ, .block = 7, .buf = buf[2], .done = count_done,
				   .ctx = &ch.c };
	ch.next = &reqs[2];
	rp[0] = &reqs[0];
	rp[1] = &reqs[1];
	io_submit(ch.e, rp, 2);
	CU_ASSERT_TRUE(wait_done(&ch.c, 3));
	if (ch.c.done == 3) /* else the engine still owns a request: leak it */
		io_destroy(ch.e);
	free(mem);
}

static void test_engine_bad_depth(void)
{
	char err[200];

	CU_ASSERT_PTR_NULL(io_create(&(struct io_config){ .fd = -1, .depth = 0 }, err, sizeof(err)));
	CU_ASSERT_STRING_EQUAL(err, "disk depth 0: must be 1 to 256");
	CU_ASSERT_PTR_NULL(io_create(&(struct io_config){ .fd = -1, .depth = 257 }, err,
				     sizeof(err)));
}

/* ---- under KVM ----------------------------------------------------------- */

/* --disk-depth 1, nothing else asynchronous: the engine changes who does
 * the I/O, not what the pager does. Every pager count and the seeks are
 * those of the run without it; each swap read and write is one request,
 * in a batch of its own, alone in the queue. */
static void test_kvm_depth1_equal(void)
{
	static const char *const runs[] = {
		"--workload random --pages 256 --frames 32 --swap-layout static",
		"--workload random --pages 256 --frames 32 --swap-layout dynamic --policy fifo",
		"--workload list --pages 200 --frames 40 --store memory --swap-layout static",
		"--workload scan --pages 128 --frames 16 --policy lru --swap-layout dynamic --store memory",
		"--workload matmul --pages 96 --frames 24 --pool-low 4 --pool-high 8 --pool-sync "
		"--swap-layout static",
	};
	static const char *const cols[] = { "refs", "faults", "major", "minor", "writebacks",
					    "soft_faults", "swap_seeks", "slot_writes", "write_runs" };

	if (!kvm_usable())
		return;
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		struct cmd_result a = run_pflab("run %s --csv --timeout 60s", runs[i]);
		struct cmd_result b = run_pflab("run %s --disk-depth 1 --csv --timeout 60s", runs[i]);

		CU_ASSERT_EQUAL(a.status, 0);
		CU_ASSERT_EQUAL(b.status, 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(b.err, " 0 mismatches: data verified"));
		for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++)
			CU_ASSERT_EQUAL(csv_value(a.out, cols[c]), csv_value(b.out, cols[c]));
		CU_ASSERT_EQUAL(csv_value(b.out, "disk_requests"),
				csv_value(b.out, "major") + csv_value(b.out, "writebacks"));
		CU_ASSERT_EQUAL(csv_value(b.out, "disk_batches"), csv_value(b.out, "disk_requests"));
		CU_ASSERT_EQUAL(csv_value(b.out, "disk_seeks"), csv_value(b.out, "swap_seeks"));
		CU_ASSERT_PTR_NOT_NULL(strstr(b.out, ",1,fifo,"));
		CU_ASSERT_PTR_NOT_NULL(strstr(b.out, ",1.000,"));
		if (a.status || b.status)
			fprintf(stderr, "%s:\n%s%s", runs[i], a.err, b.err);
		cmd_result_free(&a);
		cmd_result_free(&b);
	}
}

/* Deeper queues, either scheduler, the threaded paging daemon writing
 * while the vCPU reads, and injected errors: every byte still verified,
 * nothing lost, every swap I/O one request. */
static void test_kvm_deep_verified(void)
{
	static const char *const runs[] = {
		"--workload random --pages 256 --frames 32 --disk-depth 8 --disk-sched elevator",
		"--workload list --pages 256 --frames 48 --disk-depth 4 --pool-low 8 --pool-high 16 "
		"--store memory",
		"--workload scan --pages 128 --frames 16 --disk-depth 32 --disk-sched elevator "
		"--inject write:eio@every=13,read:eio@every=17",
	};

	if (!kvm_usable())
		return;
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		struct cmd_result r = run_pflab("run %s --csv --timeout 60s", runs[i]);

		CU_ASSERT_EQUAL(r.status, 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, " 0 mismatches: data verified"));
		if (strstr(runs[i], "inject")) {
			CU_ASSERT_PTR_NOT_NULL(strstr(r.err, " 0 lost; "));
		} else {
			CU_ASSERT_EQUAL(csv_value(r.out, "disk_requests"),
					csv_value(r.out, "major") + csv_value(r.out, "writebacks"));
		}
		CU_ASSERT(csv_value(r.out, "disk_requests") > 100);
		if (r.status)
			fprintf(stderr, "%s:\n%s", runs[i], r.err);
		cmd_result_free(&r);
	}
}

static void test_bad_usage(void)
{
	static const struct refused cases[] = {
		{ "run --disk-depth 0", "pflab run: --disk-depth: '0' is out of range [1, 256]\n" },
		{ "run --disk-depth 257", "pflab run: --disk-depth: '257' is out of range [1, 256]\n" },
		{ "run --disk-depth 4 --disk-sched scan",
		  "pflab run: --disk-sched: 'scan' is not fifo or elevator\n" },
		{ "run --disk-sched elevator", "pflab run: --disk-sched needs --disk-depth Q\n" },
	};

	check_refused(cases, sizeof(cases) / sizeof(cases[0]));
	/* A mapped file is read directly, not through the modelled disk:
	 * refused before the file is even created. */
	{
		char path[4200];
		struct cmd_result r;

		snprintf(path, sizeof(path), "%s/io-map.bin", scratch_dir());
		r = run_pflab("run --workload mapfile --map-file %s --map-create --pages 8 "
			      "--disk-depth 2", path);
		CU_ASSERT_EQUAL(r.status, 2);
		CU_ASSERT_STRING_EQUAL(r.err, "pflab run: --disk-depth models the swap device: "
				       "--map-file reads its file directly\n");
		CU_ASSERT_EQUAL(access(path, F_OK), -1);
		cmd_result_free(&r);
	}
}

static CU_TestInfo io_tests[] = {
	{ "scheduler: fifo and LOOK order, hand-worked", test_sched_order },
	{ "scheduler: LOOK against a sort, random queues", test_sched_property },
	{ "engine: one batch, exact order, seeks, queue", test_engine_batch_exact },
	{ "engine: bytes through memory, holes, errors", test_engine_bytes_mem },
	{ "engine: bytes through a file", test_engine_bytes_file },
	{ "engine: depth Q serves Q at once", test_engine_depth_concurrent },
	{ "engine: depth out of range refused", test_engine_bad_depth },
	{ "engine: the elevator leaves the queue's tail right", test_engine_elevator_tail },
	{ "kvm: --disk-depth 1 counts equal the run without", test_kvm_depth1_equal },
	{ "kvm: deeper queues, daemon, errors: data verified", test_kvm_deep_verified },
	{ "run: bad --disk-depth, --disk-sched", test_bad_usage },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("io", io_tests);
