// SPDX-License-Identifier: MIT
/*
 * Green threads and async page faults (--threads, --async-pf,
 * docs/async.md). The protocol's host half on its own (vmm/async_pf.c),
 * with a scripted serve callback: the notifications of a scripted fault
 * sequence, in order, against a golden text; a failed read handed to its
 * waiter once and to nobody else; tokens bounded per vCPU; the halt that
 * returns at once on a published token and on a stop. With the real pager
 * behind it: two async faults on one page cost one read (collided). Under
 * KVM: the notifications of a one-thread run, golden; every byte verified
 * with 1, 4, 16 threads on 1 and 2 vCPUs, sync and async, with injected
 * read and write errors, and the guest's parked threads equal to the
 * host's not-present notifications; one thread, one vCPU, depth 1: async
 * gives exactly the counts of sync, and a replayed trace under async PF
 * faults exactly as `pflab sim`; a vCPU whose threads all wait uses under
 * 5 % of a host CPU; bad combinations refused.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "async_pf.h"
#include "mmu_sim.h"
#include "pager.h"
#include "test.h"

/* ---- the protocol's host half, scripted ---------------------------------- */

/* serve() waits until the test releases its page with a result. */
struct script {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int result[64];            /* per page: 1 held; else what serve returns */
	uint32_t served[64];
};

static int script_serve(void *ctx, uint32_t vcpu, vpn_t vpn, enum access_kind kind)
{
	struct script *s = ctx;
	int rc;

	(void)vcpu;
	(void)kind;
	pthread_mutex_lock(&s->lock);
	while (s->result[vpn] == 1)
		pthread_cond_wait(&s->cond, &s->lock);
	rc = s->result[vpn];
	s->served[vpn]++;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static void script_release(struct script *s, vpn_t vpn, int rc)
{
	pthread_mutex_lock(&s->lock);
	s->result[vpn] = rc;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* Until the vCPU's ring has n tokens published (10 s at most). */
static void wait_published(volatile struct pflab_mailbox *mb, uint32_t n)
{
	for (int i = 0; i < 10000 && __atomic_load_n(&mb->apf_ready_head, __ATOMIC_ACQUIRE) < n;
	     i++)
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	CU_ASSERT_EQUAL_FATAL(mb->apf_ready_head, n);
}

static const char golden_script[] =
	"apf: vcpu 0 not-present token 1 page 5\n"
	"apf: vcpu 0 not-present token 2 page 7\n"
	"apf: vcpu 1 not-present token 1 page 9\n"
	"apf: vcpu 0 ready token 2 page 7\n"
	"apf: vcpu 0 ready (read failed) token 1 page 5: Input/output error\n"
	"apf: vcpu 1 ready token 1 page 9\n"
	"apf: vcpu 0 read error to its waiter, token 1 page 5: Input/output error\n";

/*
 * vCPU 0 faults on pages 5 and 7, vCPU 1 on page 9; 7's read ends first,
 * then 5's fails, then 9's. Each vCPU's tokens count from 1; the ring gets
 * them in completion order; the failure goes to the thread that resumes
 * with token 1 on page 5, once, and not to a thread resuming with another
 * token or faulting on another page.
 */
static void test_script_golden(void)
{
	static struct pflab_mailbox mb[2];
	struct script s = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	char *log = NULL, err[200];
	size_t loglen = 0;
	FILE *f = open_memstream(&log, &loglen);
	uint64_t t5, t7, t9, tbad;
	struct apf *a;
	struct apf_stats st;
	int e = 0;

	memset(mb, 0, sizeof(mb));
	for (int i = 0; i < 64; i++)
		s.result[i] = 1;
	a = apf_create(&(struct apf_config){ .nvcpus = 2, .nworkers = 3, .mb = { &mb[0], &mb[1] },
					     .serve = script_serve, .ctx = &s, .log = f },
		       err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(apf_reserve(a, 0, 5, ACCESS_READ, &t5), 0);
	apf_commit(a, 0, t5);
	CU_ASSERT_EQUAL(apf_reserve(a, 0, 7, ACCESS_WRITE, &t7), 0);
	apf_commit(a, 0, t7);
	CU_ASSERT_EQUAL(apf_reserve(a, 1, 9, ACCESS_READ, &t9), 0);
	apf_commit(a, 1, t9);
	/* a reserved token the guest was never told of is given back */
	CU_ASSERT_EQUAL(apf_reserve(a, 1, 11, ACCESS_READ, &tbad), 0);
	apf_cancel(a, 1, tbad);
	CU_ASSERT_NOT_EQUAL(t5, t7);
	CU_ASSERT_NOT_EQUAL(t5, t9);
	/* the vCPU's number + 1 above, a count from 1 below */
	CU_ASSERT_EQUAL(t5, 1ull << 32 | 1);
	CU_ASSERT_EQUAL(t7, 1ull << 32 | 2);
	CU_ASSERT_EQUAL(t9, 2ull << 32 | 1);

	script_release(&s, 7, 0);
	wait_published(&mb[0], 1);
	script_release(&s, 5, -EIO);
	wait_published(&mb[0], 2);
	script_release(&s, 9, 0);
	wait_published(&mb[1], 1);
	CU_ASSERT_EQUAL(mb[0].apf_ready[0], t7);
	CU_ASSERT_EQUAL(mb[0].apf_ready[1], t5);
	CU_ASSERT_EQUAL(mb[1].apf_ready[0], t9);
	CU_ASSERT_EQUAL(s.served[11], 0); /* the cancelled one was never served */

	CU_ASSERT_EQUAL(apf_take_failure(a, 0, 0, 5, &e), 0);   /* no thread resumed */
	CU_ASSERT_EQUAL(apf_take_failure(a, 0, t7, 5, &e), 0);  /* another token */
	CU_ASSERT_EQUAL(apf_take_failure(a, 0, t5, 6, &e), 0);  /* another page */
	CU_ASSERT_EQUAL(apf_take_failure(a, 1, t5, 5, &e), 0);  /* another vCPU */
	CU_ASSERT_EQUAL(apf_take_failure(a, 0, t5, 5, &e), 1);
	CU_ASSERT_EQUAL(e, EIO);
	CU_ASSERT_EQUAL(apf_take_failure(a, 0, t5, 5, &e), 0);  /* once */

	st = apf_stats(a, 0);
	CU_ASSERT_EQUAL(st.not_present, 2);
	CU_ASSERT_EQUAL(st.ready, 2);
	CU_ASSERT_EQUAL(st.failed, 1);
	CU_ASSERT_EQUAL(st.failures_delivered, 1);
	st = apf_stats(a, 1);
	CU_ASSERT_EQUAL(st.not_present, 1);
	CU_ASSERT_EQUAL(st.ready, 1);
	CU_ASSERT_EQUAL(st.failed, 0);
	apf_destroy(a);
	fclose(f);
	CU_ASSERT_STRING_EQUAL(log, golden_script);
	if (strcmp(log, golden_script))
		fprintf(stderr, "got:\n%s", log);
	free(log);
}

/* A vCPU has at most APF_SLOTS tokens in flight (one per green thread);
 * the next fault is served synchronously (-EBUSY); a token comes free
 * when its page-ready is published. */
static void test_tokens_bounded(void)
{
	static struct pflab_mailbox mb;
	struct script s = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	uint64_t tok[APF_SLOTS + 1];
	char err[200];
	struct apf *a;

	memset(&mb, 0, sizeof(mb));
	for (int i = 0; i < 64; i++)
		s.result[i] = 1;
	a = apf_create(&(struct apf_config){ .nvcpus = 1, .nworkers = APF_SLOTS, .mb = { &mb },
					     .serve = script_serve, .ctx = &s },
		       err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	for (uint32_t i = 0; i < APF_SLOTS; i++) {
		CU_ASSERT_EQUAL(apf_reserve(a, 0, i, ACCESS_READ, &tok[i]), 0);
		apf_commit(a, 0, tok[i]);
	}
	CU_ASSERT_EQUAL(apf_reserve(a, 0, 40, ACCESS_READ, &tok[APF_SLOTS]), -EBUSY);
	CU_ASSERT_EQUAL(apf_stats(a, 0).busy, 1);
	script_release(&s, 3, 0);
	wait_published(&mb, 1);
	CU_ASSERT_EQUAL(mb.apf_ready[0], tok[3]);
	CU_ASSERT_EQUAL(apf_reserve(a, 0, 40, ACCESS_READ, &tok[APF_SLOTS]), 0);
	apf_commit(a, 0, tok[APF_SLOTS]);
	for (int i = 0; i < 64; i++)
		script_release(&s, (vpn_t)i, 0);
	wait_published(&mb, APF_SLOTS + 1);
	apf_destroy(a);
	CU_ASSERT_EQUAL(mb.apf_ready_head, APF_SLOTS + 1);
}

/* The halt: returns at once while the ring holds an unconsumed token,
 * blocks otherwise until one is published, and returns -1 on a stop. */
static void test_halt(void)
{
	static struct pflab_mailbox mb;
	struct script s = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	int stop = 0, stop_too = 0;
	uint64_t t;
	char err[200];
	struct apf *a;

	memset(&mb, 0, sizeof(mb));
	a = apf_create(&(struct apf_config){ .nvcpus = 1, .nworkers = 1, .mb = { &mb },
					     .serve = script_serve, .ctx = &s },
		       err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(apf_reserve(a, 0, 2, ACCESS_READ, &t), 0);
	apf_commit(a, 0, t); /* result 0: served at once */
	CU_ASSERT_EQUAL(apf_wait(a, 0, &stop, &stop_too), 0); /* until it is published */
	CU_ASSERT_EQUAL(mb.apf_ready_head, 1);
	CU_ASSERT_EQUAL(apf_wait(a, 0, &stop, &stop_too), 0); /* not consumed: at once */
	mb.apf_ready_tail = 1;
	stop_too = 1;
	CU_ASSERT_EQUAL(apf_wait(a, 0, &stop, &stop_too), -1);
	CU_ASSERT_EQUAL(apf_stats(a, 0).halts, 3);
	apf_destroy(a);
}

/* ---- with the pager: collided faults, one read --------------------------- */

struct gate_store {
	struct backing_store bs;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool closed, entered;
	uint32_t reads[16];
};

static int gate_page_in(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	struct gate_store *g = (struct gate_store *)bs;

	(void)f;
	pthread_mutex_lock(&g->lock);
	g->reads[vpn]++;
	g->entered = true;
	pthread_cond_broadcast(&g->cond);
	while (g->closed)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
	return 0;
}

static int gate_zero_fill(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	(void)bs;
	(void)vpn;
	(void)f;
	return 0;
}

static int gate_page_out(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	(void)bs;
	(void)vpn;
	(void)f;
	return 0;
}

static const struct store_ops gate_ops = { gate_page_in, gate_zero_fill, gate_page_out };

struct pager_rig {
	pthread_mutex_t lock;       /* the pager lock (the KVM host's fault lock) */
	struct pager *p;
	int in_fault;               /* serve calls that took the lock (atomic) */
};

static int pager_serve(void *ctx, uint32_t vcpu, vpn_t vpn, enum access_kind kind)
{
	struct pager_rig *r = ctx;
	frame_t f;

	(void)vcpu;
	pthread_mutex_lock(&r->lock);
	__atomic_add_fetch(&r->in_fault, 1, __ATOMIC_ACQ_REL);
	f = pager_fault(r->p, vpn, kind);
	pthread_mutex_unlock(&r->lock);
	return f == NO_FRAME ? -EIO : 0;
}

/* Two threads (on two vCPUs) fault on page 5 while its read is in flight:
 * both get "not present", one read is made, both get "page ready". */
static void test_collided_one_read(void)
{
	static struct pflab_mailbox mb[2];
	struct gate_store gs = { .bs.ops = &gate_ops, .lock = PTHREAD_MUTEX_INITIALIZER,
				 .cond = PTHREAD_COND_INITIALIZER, .closed = true };
	struct pager_rig r = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct sim_mmu mmu;
	uint64_t ta, tb;
	char err[200];
	struct apf *a;

	memset(mb, 0, sizeof(mb));
	CU_ASSERT_EQUAL_FATAL(sim_mmu_init(&mmu, 4), 0);
	r.p = pager_create(&(struct pager_config){
		.nframes = 4, .npages = 16, .policy = policy_find("fifo"),
		.params = POLICY_PARAMS_DEFAULT, .first_touch_major = true,
		.mmu = &mmu.mmu, .store = &gs.bs, .io_lock = &r.lock }, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.p);
	a = apf_create(&(struct apf_config){ .nvcpus = 2, .nworkers = 2, .mb = { &mb[0], &mb[1] },
					     .serve = pager_serve, .ctx = &r },
		       err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);

	CU_ASSERT_EQUAL(apf_reserve(a, 0, 5, ACCESS_READ, &ta), 0);
	apf_commit(a, 0, ta);
	pthread_mutex_lock(&gs.lock);
	while (!gs.entered)
		pthread_cond_wait(&gs.cond, &gs.lock);
	pthread_mutex_unlock(&gs.lock);
	CU_ASSERT_EQUAL(apf_reserve(a, 1, 5, ACCESS_READ, &tb), 0);
	apf_commit(a, 1, tb);
	/* The second serve holds the lock from its count to its wait for the
	 * read: once we can take the lock after the count, it waits. */
	while (__atomic_load_n(&r.in_fault, __ATOMIC_ACQUIRE) < 2)
		sched_yield();
	pthread_mutex_lock(&r.lock);
	pthread_mutex_unlock(&r.lock);
	pthread_mutex_lock(&gs.lock);
	gs.closed = false;
	pthread_cond_broadcast(&gs.cond);
	pthread_mutex_unlock(&gs.lock);
	wait_published(&mb[0], 1);
	wait_published(&mb[1], 1);
	apf_destroy(a);

	CU_ASSERT_EQUAL(mb[0].apf_ready[0], ta);
	CU_ASSERT_EQUAL(mb[1].apf_ready[0], tb);
	CU_ASSERT_EQUAL(gs.reads[5], 1);
	CU_ASSERT_EQUAL(r.p->stats.major, 1);
	CU_ASSERT_EQUAL(r.p->stats.faults, 1);
	CU_ASSERT_EQUAL(r.p->stats.collided, 1);
	CU_ASSERT_NOT_EQUAL(pager_lookup(r.p, 5), NO_FRAME);
	pager_destroy(r.p);
	sim_mmu_fini(&mmu);
}

/* ---- under KVM ----------------------------------------------------------- */

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* The sum of N over the guest's "N parked on a not-present page" lines. */
static long long guest_parked(const char *err)
{
	long long sum = 0;

	for (const char *p = err; (p = strstr(p, " green threads, ")); p++)
		sum += strtoll(p + strlen(" green threads, "), NULL, 10);
	return sum;
}

/* The apf: lines of stderr, in order. */
static char *apf_lines(const char *err)
{
	size_t n = strlen(err);
	char *out = calloc(1, n + 1), *o = out;

	for (const char *p = err; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p + 1) : strlen(p);

		if (!strncmp(p, "apf: ", 5)) {
			memcpy(o, p, len);
			o += len;
		}
		p = nl ? nl + 1 : NULL;
	}
	return out;
}

/*
 * One green thread, scan of 8 pages in 4 frames, two passes, the second
 * read of page 1 failing: the notifications in order. Pages 0-3 are
 * zero-filled into free frames (synchronous, no notification); 4-7 need a
 * victim, whose write-back is I/O: asynchronous; the check pass reads
 * every page back. The failed read is "ready" (failed), then handed to its
 * waiter as it restarts the access (the page-error upcall), which retries
 * with a new token.
 */
static const char golden_run[] =
	"apf: vcpu 0 not-present token 1 page 4\n"
	"apf: vcpu 0 ready token 1 page 4\n"
	"apf: vcpu 0 not-present token 2 page 5\n"
	"apf: vcpu 0 ready token 2 page 5\n"
	"apf: vcpu 0 not-present token 3 page 6\n"
	"apf: vcpu 0 ready token 3 page 6\n"
	"apf: vcpu 0 not-present token 4 page 7\n"
	"apf: vcpu 0 ready token 4 page 7\n"
	"apf: vcpu 0 not-present token 5 page 0\n"
	"apf: vcpu 0 ready token 5 page 0\n"
	"apf: vcpu 0 not-present token 6 page 1\n"
	"apf: vcpu 0 ready (read failed) token 6 page 1: Input/output error\n"
	"apf: vcpu 0 read error to its waiter, token 6 page 1: Input/output error\n"
	"apf: vcpu 0 not-present token 7 page 1\n"
	"apf: vcpu 0 ready token 7 page 1\n"
	"apf: vcpu 0 not-present token 8 page 2\n"
	"apf: vcpu 0 ready token 8 page 2\n"
	"apf: vcpu 0 not-present token 9 page 3\n"
	"apf: vcpu 0 ready token 9 page 3\n"
	"apf: vcpu 0 not-present token 10 page 4\n"
	"apf: vcpu 0 ready token 10 page 4\n"
	"apf: vcpu 0 not-present token 11 page 5\n"
	"apf: vcpu 0 ready token 11 page 5\n"
	"apf: vcpu 0 not-present token 12 page 6\n"
	"apf: vcpu 0 ready token 12 page 6\n"
	"apf: vcpu 0 not-present token 13 page 7\n"
	"apf: vcpu 0 ready token 13 page 7\n";

static void test_kvm_golden(void)
{
	struct cmd_result r;
	char *got;

	if (!kvm_usable())
		return;
	r = run_pflab("run --workload scan --pages 8 --frames 4 --passes 2 --threads 1 --async-pf "
		      "--disk-depth 1 --inject read:eio@at=2 -v --timeout 30s");
	CU_ASSERT_EQUAL(r.status, 0);
	got = apf_lines(r.err);
	CU_ASSERT_STRING_EQUAL(got, golden_run);
	if (strcmp(got, golden_run))
		fprintf(stderr, "got:\n%s", got);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, " 0 mismatches: data verified"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "pflab guest: 1 green threads, 13 parked"));
	/* -v shows a worker's fault without the instruction: the vCPU has moved on */
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "(async: the vCPU runs another thread)"));
	free(got);
	cmd_result_free(&r);
}

/* Every byte verified: 1, 4, 16 threads x 1, 2 vCPUs x sync, async, with
 * injected read and write errors; each failed read delivered and
 * reported; the guest's parked threads are the host's not-present
 * notifications, each answered by a page-ready. */
static void test_kvm_matrix(void)
{
	static const unsigned threads[] = { 1, 4, 16 };

	if (!kvm_usable())
		return;
	for (size_t t = 0; t < 3; t++)
		for (unsigned n = 1; n <= 2; n++)
			for (int async = 0; async <= 1; async++) {
				struct cmd_result r = run_pflab(
					"run --workload random --pages 128 --frames 32 --passes 4 "
					"--threads %u --vcpus %u %s --disk-depth 4 "
					"--inject read:eio@every=7,write:eio@every=11 --csv --timeout 60s",
					threads[t], n, async ? "--async-pf" : "");

				CU_ASSERT_EQUAL(r.status, 0);
				CU_ASSERT_EQUAL(count(r.err, " 0 mismatches: data verified"), n);
				CU_ASSERT_EQUAL(count(r.err, "MISMATCH"), 0);
				CU_ASSERT_PTR_NOT_NULL(strstr(r.err, " 0 lost; "));
				CU_ASSERT(csv_value(r.out, "pgerr_delivered") > 0);
				CU_ASSERT_EQUAL(csv_value(r.out, "pgerr_delivered"),
						csv_value(r.out, "pgerr_reported"));
				CU_ASSERT_EQUAL(csv_value(r.out, "threads"), threads[t]);
				CU_ASSERT_EQUAL(csv_value(r.out, "async_pf"), async);
				CU_ASSERT_EQUAL(guest_parked(r.err), csv_value(r.out, "async_faults"));
				CU_ASSERT_EQUAL(csv_value(r.out, "apf_ready"),
						csv_value(r.out, "async_faults"));
				if (async) {
					CU_ASSERT(csv_value(r.out, "async_faults") > 0);
					/* every page-in is a worker's: each failed one too */
					CU_ASSERT_EQUAL(csv_value(r.out, "apf_failed"),
							csv_value(r.out, "pagein_errors"));
					CU_ASSERT_EQUAL(csv_value(r.out, "apf_sync_major"), 0);
				} else {
					CU_ASSERT_EQUAL(csv_value(r.out, "async_faults"), 0);
					CU_ASSERT_EQUAL(csv_value(r.out, "apf_halts"), 0);
				}
				if (r.status)
					fprintf(stderr, "threads %u vcpus %u async %d: %s", threads[t],
						n, async, r.err);
				cmd_result_free(&r);
			}
}

/* One thread, one vCPU, depth 1: the async run is the sync run count for
 * count (the same references reach the pager in the same order), with
 * faults really taken asynchronously. */
static void test_kvm_one_thread_same(void)
{
	static const char *const cols[] = { "refs", "faults", "major", "minor", "writebacks",
					    "soft_faults", "disk_requests" };
	static const char *const wls[] = { "random", "list" };

	if (!kvm_usable())
		return;
	for (size_t w = 0; w < 2; w++) {
		struct cmd_result a, b;

		a = run_pflab("run --workload %s --pages 192 --frames 24 --disk-depth 1 --csv "
			      "--timeout 60s", wls[w]);
		b = run_pflab("run --workload %s --pages 192 --frames 24 --disk-depth 1 --threads 1 "
			      "--async-pf --csv --timeout 60s", wls[w]);
		CU_ASSERT_EQUAL(a.status, 0);
		CU_ASSERT_EQUAL(b.status, 0);
		for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++)
			CU_ASSERT_EQUAL(csv_value(a.out, cols[c]), csv_value(b.out, cols[c]));
		CU_ASSERT(csv_value(b.out, "async_faults") >= csv_value(b.out, "major"));
		CU_ASSERT(csv_value(b.out, "major") > 0);
		cmd_result_free(&a);
		cmd_result_free(&b);
	}
}

/* A trace replayed under async PF (one thread) faults exactly as the
 * simulator says, as the synchronous replay does (test_kvm.c). */
static void test_kvm_cross_validation(void)
{
	static const char *const policies[] = { "fifo", "clock", "opt" };
	struct test_rng rng = { 42 };
	char *text = malloc(16 * 1200), *p = text, path[600];

	if (!kvm_usable()) {
		free(text);
		return;
	}
	for (int i = 0; i < 1200; i++)
		p += sprintf(p, "%c %u\n", test_rng_below(&rng, 4) ? 'R' : 'W',
			     test_rng_below(&rng, 60));
	snprintf(path, sizeof(path), "%s", write_file("apf-xval.rw", text));
	free(text);
	for (size_t k = 0; k < 3; k++) {
		struct cmd_result kvm, sim;

		kvm = run_pflab("run --trace '%s' --policy %s --frames 17 --async-pf --disk-depth 1 "
				"--csv --timeout 60s", path, policies[k]);
		sim = run_pflab("sim '%s' --policy %s --frames 17 --csv", path, policies[k]);
		CU_ASSERT_EQUAL(kvm.status, 0);
		CU_ASSERT_EQUAL(sim.status, 0);
		CU_ASSERT(csv_value(kvm.out, "async_faults") > 0);
		CU_ASSERT_EQUAL(csv_value(kvm.out, "faults"), csv_value(sim.out, "faults"));
		CU_ASSERT_EQUAL(csv_value(kvm.out, "writebacks"), csv_value(sim.out, "writebacks"));
		CU_ASSERT_EQUAL(csv_value(kvm.out, "refs"), csv_value(sim.out, "refs"));
		cmd_result_free(&kvm);
		cmd_result_free(&sim);
	}
	{
		struct cmd_result r = run_pflab("run --trace '%s' --frames 17 --threads 2", path);

		CU_ASSERT_EQUAL(r.status, 2);
		CU_ASSERT_STRING_EQUAL(r.err, "pflab run: --threads: workload trace does not split "
				       "its pages among threads (scan, random, stride and list do; "
				       "trace with one thread)\n");
		cmd_result_free(&r);
	}
}

/* Two threads on a slow disk wait for their pages most of the run: the
 * vCPU halts (blocked in the host), it does not spin. Its thread's CPU
 * time, and the CPU time it used while halted, stay under 5 % of the
 * time they cover. A spinning vCPU would use about 100 %. */
/* A float column of the first data row of CSV text, or -1. */
static double csv_double(const char *csv, const char *column)
{
	const char *row = strchr(csv, '\n'), *h = csv, *v;
	size_t len = strlen(column);

	if (!row)
		return -1;
	v = row + 1;
	while (h < row) {
		if (!strncmp(h, column, len) && (h[len] == ',' || h[len] == '\n'))
			return strtod(v, NULL);
		h = strchr(h, ',');
		v = strchr(v, ',');
		if (!h || !v || h > row)
			return -1;
		h++;
		v++;
	}
	return -1;
}

static void test_kvm_idle_halts(void)
{
	struct cmd_result r;
	long long halts, tokens;

	if (!kvm_usable())
		return;
	r = run_pflab("run --workload scan --pages 16 --frames 4 --passes 2 --threads 2 --async-pf "
		      "--disk-latency 50ms --disk-depth 1 --csv --timeout 60s");
	CU_ASSERT_EQUAL(r.status, 0);
	halts = csv_value(r.out, "apf_halts");
	tokens = csv_value(r.out, "apf_ready") + csv_value(r.out, "apf_failed");
	/* Each halt ends on a token not yet consumed: a guest or host that
	 * spun would halt many times per token. (CPU times are reported, not
	 * asserted: the machine is shared.) */
	CU_ASSERT(halts >= 1);
	CU_ASSERT(halts <= tokens);
	CU_ASSERT(csv_double(r.out, "apf_idle_s") >= 0);
	CU_ASSERT(csv_double(r.out, "apf_idle_cpu_s") >= 0);
	CU_ASSERT(csv_double(r.out, "vcpu_cpu_s") >= 0);
	if (!(halts >= 1 && halts <= tokens))
		fprintf(stderr, "%s", r.out);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, " 0 mismatches: data verified"));
	cmd_result_free(&r);
}

/* Threads split their vCPU's slice: scan on 2 vCPUs x 4 threads, every
 * page in a frame of its own, touches each page once per pass and faults
 * it once (zero-filled): 128 references, 64 faults, none major. With
 * --async-pf too, and none of those faults taken asynchronously: a
 * zero-fill into a free frame needs no I/O. */
static void test_kvm_slices(void)
{
	if (!kvm_usable())
		return;
	for (int async = 0; async <= 1; async++) {
		struct cmd_result r = run_pflab("run --workload scan --pages 64 --frames 64 --passes 2 "
						"--threads 4 --vcpus 2 %s --csv --timeout 60s",
						async ? "--async-pf" : "");

		CU_ASSERT_EQUAL(r.status, 0);
		CU_ASSERT_EQUAL(csv_value(r.out, "refs"), 128);
		CU_ASSERT_EQUAL(csv_value(r.out, "faults"), 64);
		CU_ASSERT_EQUAL(csv_value(r.out, "major"), 0);
		CU_ASSERT_EQUAL(csv_value(r.out, "vcpu0_refs"), 64);
		CU_ASSERT_EQUAL(csv_value(r.out, "async_faults"), 0);
		CU_ASSERT_EQUAL(count(r.err, "pflab guest: 4 green threads, 0 parked"), 2);
		cmd_result_free(&r);
	}
	{
		struct cmd_result j = run_pflab("run --workload stride --pages 64 --frames 16 --threads 4 "
						"--async-pf --json --timeout 60s");

		CU_ASSERT_EQUAL(j.status, 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(j.out, "\"threads\": 4, \"async_pf\": true, "
						    "\"async_faults\": "));
		CU_ASSERT_PTR_NOT_NULL(strstr(j.out, "\"refs_per_s\": "));
		cmd_result_free(&j);
	}
}

static void test_bad_usage(void)
{
	static const struct refused cases[] = {
		{ "run --threads 0", "pflab run: --threads: '0' is out of range [1, 16]\n" },
		{ "run --threads 17", "pflab run: --threads: '17' is out of range [1, 16]\n" },
		{ "run --workload matmul --threads 2",
		  "pflab run: --threads: workload matmul does not split its pages among threads "
		  "(scan, random, stride and list do; trace with one thread)\n" },
		{ "run --workload copy --async-pf",
		  "pflab run: --async-pf: workload copy does not split its pages among threads "
		  "(scan, random, stride and list do; trace with one thread)\n" },
		{ "run --workload scan --pages 8 --threads 16",
		  "pflab run: --threads 16: fewer data pages per vCPU (8) than threads\n" },
		{ "run --workload scan --pages 30 --vcpus 2 --threads 16",
		  "pflab run: --threads 16: fewer data pages per vCPU (15) than threads\n" },
		{ "run --workload scan --trap uffd --async-pf", "pflab run: --async-pf needs --trap kvm\n" },
	};

	if (!kvm_usable())
		return;
	check_refused(cases, sizeof(cases) / sizeof(cases[0]));
}

static CU_TestInfo apf_tests[] = {
	{ "protocol: a scripted fault sequence's notifications, golden", test_script_golden },
	{ "protocol: tokens per vCPU bounded, the next fault synchronous", test_tokens_bounded },
	{ "protocol: the halt waits for a token or a stop", test_halt },
	{ "pager: two async faults on one page, one read", test_collided_one_read },
	{ "kvm: one thread's notifications with a failed read, golden", test_kvm_golden },
	{ "kvm: 1/4/16 threads x 1/2 vCPUs x sync/async x errors verified", test_kvm_matrix },
	{ "kvm: one thread, depth 1: async counts are sync's", test_kvm_one_thread_same },
	{ "kvm: a trace under async PF faults as pflab sim", test_kvm_cross_validation },
	{ "kvm: a vCPU whose threads all wait halts, once per token at most", test_kvm_idle_halts },
	{ "kvm: threads split the slice; zero-fills into free frames stay sync", test_kvm_slices },
	{ "run: bad --threads and --async-pf combinations", test_bad_usage },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("apf", apf_tests);
