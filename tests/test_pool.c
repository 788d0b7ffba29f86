// SPDX-License-Identifier: MIT
/*
 * The free pool and the paging daemon (docs/pager-daemon.md): exact counts
 * on a hand-worked reference string; LRU with any pool is LRU on all its
 * frames (a property on random traces); the pager's invariants after every
 * reference under every policy; no data lost with the daemon synchronous or
 * on its thread, with write errors too; a fault on a page in transit waits
 * for its write instead of reading it, and a busy frame is never reused
 * (made deterministic with a gate on the write); and under KVM, the
 * synchronous daemon faults exactly as the simulator, the threaded one
 * keeps every workload's data intact.
 */
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "data_rig.h"
#include "pager.h"
#include "sim.h"
#include "test.h"

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* n references over `pages` pages, a hot quarter and a cold rest, a third
 * of them writes. */
static vref_t *random_refs(uint64_t seed, size_t n, uint32_t pages)
{
	vref_t *refs = malloc(sizeof(*refs) * n);
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(refs);
	for (size_t i = 0; i < n; i++) {
		uint64_t r = xorshift(&x);
		uint32_t page = (r >> 8) % 4 ? (uint32_t)((r >> 20) % (pages / 4))
					     : (uint32_t)((r >> 20) % pages);

		refs[i] = VREF(page, (r >> 40) % 3 == 0);
	}
	return refs;
}

static struct sim *make_sim(const char *policy, uint32_t frames, uint32_t low, uint32_t high,
			    uint32_t pages)
{
	char err[200];
	struct sim *s = sim_create(&(struct sim_config){
		.policy = policy_find(policy), .nframes = frames, .params = POLICY_PARAMS_DEFAULT,
		.future_known = policy_find(policy)->flags & POLICY_NEEDS_FUTURE,
		.pool = { .low = low, .high = high },
	}, err, sizeof(err));

	if (!s)
		fprintf(stderr, "%s: %s\n", policy, err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL_FATAL(pager_grow(s->pager, pages), 0);
	return s;
}

/* ---- the simulator: exact ------------------------------------------------- */

/*
 * FIFO, 4 frames, pool between 1 and 2, references 1 2 3 4 5 2 1 3 4 2 5 3
 * (docs/pager-daemon.md works it through). The daemon runs between faults:
 * after the 4th fault leaves 0 frames free it moves 1 and 2 to the pool;
 * 5 takes 1's frame; 2 comes back from the pool (minor); 1 needs the daemon
 * again (3, 4 to the pool) and takes 3's frame; 3 takes 4's; 4 takes 5's
 * (5 and 2 moved); 2 comes back; 5 takes 1's (1, 3 moved); 3 comes back.
 * 12 faults: 9 major, 3 minor, 8 evictions. Plain FIFO faults 8 times.
 */
static void test_sim_fifo_exact(void)
{
	char path[600];
	struct cmd_result r;

	snprintf(path, sizeof(path), "%s", write_file("pool-fifo.rw",
		 "R 1\nR 2\nR 3\nR 4\nR 5\nR 2\nR 1\nR 3\nR 4\nR 2\nR 5\nR 3\n"));
	r = run_pflab("sim '%s' --policy fifo --frames 4 --pool-low 1 --pool-high 2 --csv", path);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_EQUAL(csv_value(r.out, "faults"), 12);
	CU_ASSERT_EQUAL(csv_value(r.out, "major"), 9);
	CU_ASSERT_EQUAL(csv_value(r.out, "minor"), 3);
	CU_ASSERT_EQUAL(csv_value(r.out, "pool_reclaims"), 3);
	CU_ASSERT_EQUAL(csv_value(r.out, "direct_reclaims"), 0);
	CU_ASSERT_EQUAL(csv_value(r.out, "evictions"), 8);
	cmd_result_free(&r);
	r = run_pflab("sim '%s' --policy fifo --frames 4 --csv", path);
	CU_ASSERT_EQUAL(csv_value(r.out, "faults"), 8);
	CU_ASSERT_PTR_NULL(strstr(r.out, "pool_reclaims")); /* no pool, no column */
	cmd_result_free(&r);
}

/*
 * docs/pager-daemon.md's table "Major faults with and without a pool",
 * with the page's own commands: a Zipf trace (20 000 pages, 1 M reads,
 * alpha 0.9, seed 3) on 2000 frames, five policies, no pool and three
 * pools. Every cell is deterministic (the generator's and the random
 * policy's seeds are fixed), so each is held exactly, and so are the
 * sentences drawn from it: FIFO's major faults fall 7 % with the largest
 * pool and come within 3 % of LRU's.
 */
static void test_sim_pool_table(void)
{
	static const char *const policy[] = { "fifo", "random", "clock", "lru", "arc" };
	static const uint32_t pool[][2] = { { 0, 0 }, { 50, 100 }, { 200, 400 }, { 500, 1000 } };
	/* [policy][pool]: major faults, pool reclaims. */
	static const long long want[5][4][2] = {
		{ { 471262, 0 }, { 462758, 13914 }, { 450164, 43971 }, { 437955, 96238 } },
		{ { 471500, 0 }, { 462992, 13679 }, { 449997, 44118 }, { 436745, 97795 } },
		{ { 437897, 0 }, { 435691, 6266 }, { 429816, 25432 }, { 429813, 79174 } },
		{ { 426596, 0 }, { 426596, 5569 }, { 426596, 23642 }, { 426596, 67017 } },
		{ { 362696, 0 }, { 364084, 3096 }, { 371614, 13685 }, { 389796, 46904 } },
	};
	long long got[5][4] = { { 0 } };
	char path[600], opts[80];
	struct cmd_result r;

	snprintf(path, sizeof(path), "%s/pool-table.pft", scratch_dir());
	r = run_pflab("trace gen zipf --pages 20000 --refs 1000000 --alpha 0.9 --seed 3 -o '%s'",
		      path);
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	cmd_result_free(&r);
	for (size_t p = 0; p < 5; p++) {
		for (size_t q = 0; q < 4; q++) {
			if (pool[q][0])
				snprintf(opts, sizeof(opts), "--pool-low %u --pool-high %u",
					 pool[q][0], pool[q][1]);
			else
				opts[0] = '\0';
			r = run_pflab("sim '%s' --frames 2000 --policy %s %s --csv", path,
				      policy[p], opts);
			CU_ASSERT_EQUAL(r.status, 0);
			CU_ASSERT_EQUAL(csv_value(r.out, "refs"), 1000000);
			got[p][q] = csv_value(r.out, "major");
			CU_ASSERT_EQUAL(got[p][q], want[p][q][0]);
			if (pool[q][0]) {
				CU_ASSERT_EQUAL(csv_value(r.out, "pool_reclaims"), want[p][q][1]);
			} else {
				CU_ASSERT_PTR_NULL(strstr(r.out, "pool_reclaims"));
			}
			if (got[p][q] != want[p][q][0])
				fprintf(stderr, "[%s %s: major %lld, want %lld] ", policy[p], opts,
					got[p][q], want[p][q][0]);
			cmd_result_free(&r);
		}
	}
	/* FIFO (row 0) with the largest pool against no pool, and against LRU (row 3). */
	CU_ASSERT_EQUAL(llround(100.0 * (got[0][0] - got[0][3]) / got[0][0]), 7);
	CU_ASSERT(got[0][3] > got[3][3] && got[0][3] - got[3][3] < 0.03 * got[3][3]);
}

/*
 * LRU with a FIFO pool is LRU on all its frames: pages leave the active
 * list in LRU order and the pool gives back its oldest first, so active and
 * pool together are one LRU stack. Major faults are exactly LRU's faults,
 * whatever the watermarks; the pool only turns some hits into minor faults.
 */
static void test_lru_with_pool_is_lru(void)
{
	static const uint32_t frames[] = { 8, 30, 100 };

	for (unsigned seed = 1; seed <= 4; seed++) {
		vref_t *refs = random_refs(seed, 20000, 400);

		for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
			struct sim *plain = make_sim("lru", frames[i], 0, 0, 400);
			uint32_t highs[] = { 1, frames[i] / 4 + 1, frames[i] - 1 };

			CU_ASSERT_EQUAL(sim_replay(plain, refs, NULL, 20000), 0);
			for (size_t k = 0; k < 3; k++) {
				uint32_t low = highs[k] > 1 ? highs[k] / 2 : 1;
				struct sim *s = make_sim("lru", frames[i], low, highs[k], 400);
				const struct pager_stats *st = &s->pager->stats;

				CU_ASSERT_EQUAL(sim_replay(s, refs, NULL, 20000), 0);
				CU_ASSERT_EQUAL(st->major, plain->pager->stats.faults);
				CU_ASSERT_EQUAL(st->minor, st->pool_reclaims);
				CU_ASSERT_EQUAL(st->faults, st->major + st->minor);
				if (highs[k] > 1)
					CU_ASSERT(st->pool_reclaims > 0);
				sim_destroy(s);
			}
			sim_destroy(plain);
		}
		free(refs);
	}
}

/* The pager's bookkeeping with a pool, checked after every reference. */
static void check_invariants(const struct pager *p, uint32_t high, bool *ok)
{
	uint64_t in_pool = 0, resident = 0;

	for (vpn_t v = 0; v < p->npages; v++) {
		frame_t f = p->pt[v].frame, g;
		bool pooled = pool_holds(p, v, &g);

		if (f != NO_FRAME) {
			resident++;
			*ok &= p->frames[f].vpn == v && (p->frames[f].flags & FRAME_USED);
		}
		if (pooled) {
			in_pool++;
			*ok &= p->frames[g].vpn == v && (p->frames[g].flags & FRAME_POOL);
		}
		*ok &= !(f != NO_FRAME && pooled); /* in one place at most */
	}
	*ok &= resident == p->stats.resident;
	*ok &= in_pool == pool_len(p) && pool_transit(p) == 0;
	*ok &= p->nfree + in_pool + resident == p->nframes;
	*ok &= pool_len(p) <= high;
	*ok &= p->stats.faults == p->stats.major + p->stats.minor;
	*ok &= p->stats.minor == p->stats.pool_reclaims;
}

static void test_invariants_every_policy(void)
{
	const struct policy_ops *pols[64];
	size_t npol = policy_list(pols, 64);
	vref_t *refs = random_refs(9, 3000, 120);
	uint32_t next[3000];

	CU_ASSERT_EQUAL_FATAL(sim_next_use(refs, 3000, 120, next), 0);
	for (size_t i = 0; i < npol; i++) {
		struct sim *s;
		bool ok = true;
		char err[200];

		if (pols[i]->flags & POLICY_VARIABLE) {
			/* They free frames on their own: refused. */
			CU_ASSERT_PTR_NULL(sim_create(&(struct sim_config){
				.policy = pols[i], .nframes = 20, .params = POLICY_PARAMS_DEFAULT,
				.pool = { .low = 2, .high = 5 },
			}, err, sizeof(err)));
			CU_ASSERT_PTR_NOT_NULL(strstr(err, "frees frames on its own"));
			continue;
		}
		s = make_sim(pols[i]->name, 20, 3, 7, 120);
		for (size_t k = 0; k < 3000 && ok; k++) {
			CU_ASSERT_EQUAL(sim_replay(s, refs + k, next + k, 1), 0);
			check_invariants(s->pager, 7, &ok);
		}
		CU_ASSERT_TRUE(ok);
		CU_ASSERT(s->pager->stats.pool_reclaims > 0);
		if (!ok)
			fprintf(stderr, "%s: invariant broken\n", pols[i]->name);
		sim_destroy(s);
	}
	free(refs);
}

/* ---- data ------------------------------------------------------------------ */

static void data_run(const char *policy, struct pool_config pool, const char *inject,
		     uint64_t seed, unsigned n)
{
	struct data_rig r;
	uint64_t x = seed;
	bool ok = true;

	data_rig_init(&r, &(struct data_rig_config){
		.policy = policy, .frames = 16, .pages = 96, .inject = inject, .pool = pool,
	});
	for (unsigned k = 0; k < n && ok; k++) {
		uint64_t v = xorshift(&x);
		vpn_t vpn = (vpn_t)((v >> 8) % 4 ? (v >> 20) % 24 : (v >> 20) % 96);

		ok = data_rig_access(&r, vpn, (v >> 40) % 3 == 0, NULL) != NO_FRAME;
	}
	CU_ASSERT_TRUE(ok);
	if (!ok)
		fprintf(stderr, "%s: %s\n", policy, r.p->err);
	pool_stop(r.p);
	data_rig_check(&r);
	CU_ASSERT_EQUAL(r.p->stats.faults, r.p->stats.major + r.p->stats.minor);
	data_rig_fini(&r);
}

/* Every fixed-size policy, the daemon synchronous: every read sees the last
 * version written, nothing is lost; with write errors in the daemon too. */
static void test_data_sync_every_policy(void)
{
	const struct policy_ops *pols[64];
	size_t npol = policy_list(pols, 64);

	for (size_t i = 0; i < npol; i++) {
		if (pols[i]->flags & (POLICY_VARIABLE | POLICY_NEEDS_FUTURE))
			continue;
		data_run(pols[i]->name, (struct pool_config){ .low = 2, .high = 6 }, NULL, 7, 4000);
		data_run(pols[i]->name, (struct pool_config){ .low = 3, .high = 8 },
			 "write:eio@every=3,read:eio@every=5", 11, 4000);
	}
}

/* The daemon on its thread, writing back while the test faults: the same
 * property, under a few policies, with and without write errors. */
static void test_data_threaded(void)
{
	static const char *const pols[] = { "fifo", "clock", "lru", "arc", "random" };

	for (size_t i = 0; i < sizeof(pols) / sizeof(pols[0]); i++) {
		data_run(pols[i], (struct pool_config){ .low = 3, .high = 8, .threaded = true }, NULL,
			 3 + i, 20000);
		data_run(pols[i], (struct pool_config){ .low = 3, .high = 8, .threaded = true },
			 "write:eio@every=4", 5 + i, 20000);
	}
}

/* Opens the gate once the test thread waits on the page in transit. */
static void *open_when_waiting(void *arg)
{
	struct data_rig *r = arg;

	for (;;) {
		uint64_t waits;

		pager_lock(r->p);
		waits = r->p->stats.pool_waits;
		pager_unlock(r->p);
		if (waits)
			break;
		sched_yield();
	}
	data_rig_gate_open(r);
	return NULL;
}

/*
 * Four frames, four pages written: the 4th fault leaves no frame free, and
 * the daemon's write-back of page 0 is held by the store's gate. Returns
 * page 0's frame, busy with that write.
 */
static frame_t daemon_held_on_page0(struct data_rig *r)
{
	frame_t f0 = NO_FRAME;

	data_rig_init(r, &(struct data_rig_config){
		.policy = "fifo", .frames = 4, .pages = 8,
		.pool = { .low = 1, .high = 2, .threaded = true },
	});
	data_rig_gate_close(r, 0);
	for (vpn_t v = 0; v < 4; v++)
		data_rig_access(r, v, true, NULL);
	data_rig_gate_wait_entered(r);
	pager_lock(r->p);
	if (!pool_holds(r->p, 0, &f0))
		f0 = NO_FRAME;
	pager_unlock(r->p);
	CU_ASSERT_NOT_EQUAL_FATAL(f0, NO_FRAME);
	return f0;
}

/*
 * The daemon caught in the middle of a write (the store holds page 0's
 * write-back until told): page 0's frame is busy. Two new pages fault
 * meanwhile and get other frames; a fault on page 0 waits for the write,
 * then takes the page back from the pool: one write, no read.
 */
static void test_transit_wait_and_busy_frame(void)
{
	struct data_rig r;
	pthread_t opener;
	frame_t f0 = daemon_held_on_page0(&r), f;

	pager_lock(r.p);
	CU_ASSERT_EQUAL(pool_transit(r.p), 1);
	CU_ASSERT_TRUE(r.p->frames[f0].flags & FRAME_BUSY);
	pager_unlock(r.p);
	for (vpn_t v = 4; v < 6; v++) {
		f = data_rig_access(&r, v, false, NULL);
		CU_ASSERT_NOT_EQUAL(f, NO_FRAME);
		CU_ASSERT_NOT_EQUAL(f, f0); /* a busy frame is never reused */
	}
	pager_lock(r.p);
	CU_ASSERT_TRUE(r.p->frames[f0].flags & FRAME_BUSY);
	CU_ASSERT_EQUAL(r.p->frames[f0].vpn, 0);
	pager_unlock(r.p);

	CU_ASSERT_EQUAL_FATAL(pthread_create(&opener, NULL, open_when_waiting, &r), 0);
	f = data_rig_access(&r, 0, false, NULL); /* waits for the write */
	pthread_join(opener, NULL);
	CU_ASSERT_EQUAL(f, f0);
	pool_stop(r.p);
	CU_ASSERT_EQUAL(r.p->stats.pool_waits, 1);
	CU_ASSERT(r.p->stats.pool_reclaims >= 1);
	CU_ASSERT_EQUAL(r.data.writes[0], 1);
	CU_ASSERT_EQUAL(r.data.reads[0], 0); /* not read a second time */
	data_rig_check(&r);
	data_rig_fini(&r);
}

struct page0_fault {
	struct data_rig *r;
	frame_t f;
};

static void *fault_page0(void *arg)
{
	struct page0_fault *w = arg;

	w->f = data_rig_access(w->r, 0, false, NULL);
	return NULL;
}

/*
 * A fault waits for the daemon's write-back of its page, the page's first
 * (page 0, written once, never on the store before). Meanwhile a fault on a
 * new page takes that frame from the pool, where it is the oldest. The
 * waiting fault must then read page 0 from the store: a pager that decided
 * before the wait where the page was ("never written: zeros") lost it.
 * Which fault gets the lock first after the write is the scheduler's
 * choice, so the case is run until the frame was seen taken 5 times (at
 * most 300 runs); each run checks every page's data.
 */
/* Seconds from now on CLOCK_MONOTONIC, for the bounded waits below. */
static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_transit_frame_taken(void)
{
	unsigned taken = 0, runs;

	for (runs = 0; runs < 300 && taken < 5; runs++) {
		struct data_rig r;
		struct page0_fault w = { &r, NO_FRAME };
		pthread_t t;
		frame_t f0 = daemon_held_on_page0(&r);
		uint64_t waits = 0;
		double limit = mono_s() + 30; /* a hang is a failure, not a stuck suite */

		CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, fault_page0, &w), 0);
		while (!waits && mono_s() < limit) {
			pager_lock(r.p);
			waits = r.p->stats.pool_waits;
			pager_unlock(r.p);
			sched_yield();
		}
		CU_ASSERT_FATAL(waits > 0);
		data_rig_gate_open(&r);
		/* As soon as the write is done and frame f0 is in the pool: a
		 * racy read, on purpose, to fault before the waiter wakes. */
		while ((__atomic_load_n(&r.p->frames[f0].flags, __ATOMIC_ACQUIRE) & FRAME_BUSY) &&
		       mono_s() < limit)
			;
		CU_ASSERT_FATAL(!(__atomic_load_n(&r.p->frames[f0].flags, __ATOMIC_ACQUIRE) &
				  FRAME_BUSY));
		data_rig_access(&r, 4, true, NULL);
		pthread_join(t, NULL);
		CU_ASSERT_NOT_EQUAL(w.f, NO_FRAME);
		pool_stop(r.p);
		/* page 0 read back from the store: its frame had been taken */
		taken += r.data.reads[0] == 1;
		data_rig_check(&r);
		data_rig_fini(&r);
	}
	fprintf(stderr, "[frame taken in %u of %u runs] ", taken, runs);
}

static void test_sim_bad_usage(void)
{
	static const struct {
		const char *args, *err;
	} cases[] = {
		{ "--frames 8 --pool-low 5 --pool-high 3",
		  "pflab sim: pool: the low watermark 5 is above the high watermark 3\n" },
		{ "--frames 8 --pool-low 2 --pool-high 8",
		  "pflab sim: pool: the high watermark 8 must be below the 8 frames\n" },
		{ "--frames 8 --pool-low 2", "pflab sim: --pool-low and --pool-high go together\n" },
		{ "--frames 8 --pool-low 0 --pool-high 2",
		  "pflab sim: --pool-low: '0' is out of range [1, 2147483647]\n" },
	};
	char path[600];

	snprintf(path, sizeof(path), "%s", write_file("pool-bad.rw", "R 1\nR 2\n"));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cmd_result r = run_pflab("sim '%s' --policy fifo %s", path, cases[i].args);

		CU_ASSERT_EQUAL(r.status, 2);
		CU_ASSERT_STRING_EQUAL(r.err, cases[i].err);
		cmd_result_free(&r);
	}
}

/* ---- under KVM ---------------------------------------------------------------- */

/* The synchronous daemon runs between faults under KVM as in the
 * simulator: a replayed trace gives the same faults, major and minor,
 * write-backs and pool reclaims, for the policies that need no more than
 * the faults (tests/test_kvm.c's cross-validation, with a pool). */
static void test_kvm_sync_matches_sim(void)
{
	static const char *const policies[] = { "fifo", "clock", "opt", "random" };
	static const uint32_t watermarks[][2] = { { 2, 5 }, { 6, 12 } };
	static const char *const cols[] = { "faults", "major", "minor", "writebacks",
					    "pool_reclaims" };
	char path[600];
	size_t len = 0;
	char *text = malloc(3000 * 16);
	vref_t *refs = random_refs(5, 3000, 200);

	if (!kvm_usable()) {
		free(text);
		free(refs);
		return;
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	for (size_t i = 0; i < 3000; i++)
		len += (size_t)sprintf(text + len, "%c %u\n", refs[i] & VREF_WRITE ? 'W' : 'R',
				       VREF_VPN(refs[i]));
	snprintf(path, sizeof(path), "%s", write_file("pool-xval.rw", text));
	free(text);
	free(refs);
	for (size_t p = 0; p < 4; p++) {
		for (size_t w = 0; w < 2; w++) {
			struct cmd_result k, s;

			k = run_pflab("run --trace '%s' --policy %s --frames 30 --seed 7 --pool-low %u "
				      "--pool-high %u --pool-sync --csv --timeout 60s", path,
				      policies[p], watermarks[w][0], watermarks[w][1]);
			s = run_pflab("sim '%s' --policy %s --frames 30 --seed 7 --pool-low %u "
				      "--pool-high %u --csv", path, policies[p], watermarks[w][0],
				      watermarks[w][1]);
			CU_ASSERT_EQUAL(k.status, 0);
			CU_ASSERT_EQUAL(s.status, 0);
			for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++)
				CU_ASSERT_EQUAL(csv_value(k.out, cols[c]), csv_value(s.out, cols[c]));
			CU_ASSERT(csv_value(k.out, "pool_reclaims") > 0 || policies[p][0] == 'o');
			if (csv_value(k.out, "faults") != csv_value(s.out, "faults"))
				fprintf(stderr, "%s %u/%u: kvm %s sim %s", policies[p], watermarks[w][0],
					watermarks[w][1], k.out, s.out);
			cmd_result_free(&k);
			cmd_result_free(&s);
		}
	}
}

/* The daemon on its thread while the guest runs: every workload's data
 * verifies, and the counts add up. */
static void test_kvm_daemon_workloads(void)
{
	static const char *const workloads[] = { "scan", "random", "stride", "matmul", "list",
						 "copy" };

	if (!kvm_usable())
		return;
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
		struct cmd_result r = run_pflab("run --workload %s --pages 96 --frames 24 --policy clock "
						"--pool-low 3 --pool-high 8 --csv --timeout 60s",
						workloads[i]);

		CU_ASSERT_EQUAL(r.status, 0);
		CU_ASSERT_EQUAL(csv_value(r.out, "faults"),
				csv_value(r.out, "major") + csv_value(r.out, "minor"));
		CU_ASSERT(csv_value(r.out, "pool_reclaims") >= 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "0 mismatches: data verified"));
		if (r.status != 0)
			fprintf(stderr, "workload %s: %s", workloads[i], r.err);
		cmd_result_free(&r);
	}
}

/* The daemon's own write-backs failing, on its thread: the pages go back
 * to the guest resident and dirty, nothing is lost. */
static void test_kvm_daemon_write_errors(void)
{
	struct cmd_result r;

	if (!kvm_usable())
		return;
	r = run_pflab("run --workload random --pages 128 --frames 32 --policy fifo --pool-low 4 "
		      "--pool-high 10 --inject write:eio@every=3 --csv --timeout 60s");
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT(csv_value(r.out, "writeback_errors") > 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, " 0 lost; "));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "0 mismatches: data verified"));
	cmd_result_free(&r);
}

static void test_run_bad_usage(void)
{
	static const struct refused cases[] = {
		{ "run --pool-low 2", "pflab run: --pool-low and --pool-high go together\n" },
		{ "run --pool-sync", "pflab run: --pool-sync needs --pool-low and --pool-high\n" },
		{ "run --trap uffd --pool-low 2 --pool-high 4",
		  "pflab run: the free pool needs --trap kvm: under uffd, taking a page from a "
		  "running guest copies it out first, and a write could slip in between\n" },
		{ "run --pool-low x --pool-high 4", "pflab run: --pool-low: 'x' is not a whole number\n" },
	};

	check_refused(cases, sizeof(cases) / sizeof(cases[0]));
}

static CU_TestInfo pool_tests[] = {
	{ "sim: FIFO with a pool, exact", test_sim_fifo_exact },
	{ "sim: the pool table of docs/pager-daemon.md, exact", test_sim_pool_table },
	{ "LRU with a pool is LRU on all frames", test_lru_with_pool_is_lru },
	{ "invariants after every reference, every policy", test_invariants_every_policy },
	{ "no data lost, daemon synchronous", test_data_sync_every_policy },
	{ "no data lost, daemon on its thread", test_data_threaded },
	{ "transit: the fault waits, the busy frame is kept", test_transit_wait_and_busy_frame },
	{ "transit: the frame taken meanwhile, the page read back", test_transit_frame_taken },
	{ "sim: bad pool options", test_sim_bad_usage },
	{ "kvm: the synchronous daemon faults as the simulator", test_kvm_sync_matches_sim },
	{ "kvm: the daemon thread keeps every workload's data", test_kvm_daemon_workloads },
	{ "kvm: the daemon's write errors lose nothing", test_kvm_daemon_write_errors },
	{ "run: bad pool options", test_run_bad_usage },
	CU_TEST_INFO_NULL,
};
TEST_SUITE("pool", pool_tests);
