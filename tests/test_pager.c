// SPDX-License-Identifier: MIT
/*
 * The pager's own mechanics, independent of any policy's choices: fault
 * accounting, write-back of dirty victims through the store, zero-fill of
 * untouched pages, pinning, refusing a policy that needs the future.
 */
#include <errno.h>
#include <string.h>

#include "mmu_sim.h"
#include "pager.h"
#include "sim.h"
#include "test.h"

/* A store that records what the pager asked of it. */
struct counting_store {
	struct backing_store bs;
	unsigned page_in, zero_fill, page_out;
	vpn_t last_out;
	int fail_out; /* -errno to return from page_out */
	vpn_t fail_only; /* with fail_out: 1 + the one page whose writes fail; 0: all */
};

static int cs_page_in(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	(void)vpn, (void)f;
	((struct counting_store *)bs)->page_in++;
	return 0;
}

static int cs_zero_fill(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	(void)vpn, (void)f;
	((struct counting_store *)bs)->zero_fill++;
	return 0;
}

static int cs_page_out(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	struct counting_store *cs = (struct counting_store *)bs;

	(void)f;
	if (cs->fail_out && (!cs->fail_only || cs->fail_only == vpn + 1))
		return cs->fail_out;
	cs->page_out++;
	cs->last_out = vpn;
	return 0;
}

static const struct store_ops counting_ops = {
	.page_in = cs_page_in, .zero_fill = cs_zero_fill, .page_out = cs_page_out,
};

struct rig {
	struct sim_mmu mmu;
	struct counting_store store;
	struct pager *p;
};

static void rig_init(struct rig *r, const char *policy, uint32_t frames)
{
	char err[160];

	CU_ASSERT_FATAL(sim_mmu_init(&r->mmu, frames) == 0);
	r->store = (struct counting_store){ .bs.ops = &counting_ops };
	r->p = pager_create(&(struct pager_config){
		.nframes = frames,
		.npages = 16,
		.policy = policy_find(policy),
		.params = POLICY_PARAMS_DEFAULT,
		.mmu = &r->mmu.mmu,
		.store = &r->store.bs,
	}, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->p);
}

static void rig_fini(struct rig *r)
{
	pager_destroy(r->p);
	sim_mmu_fini(&r->mmu);
}

/* An access the way the simulator's hardware makes it. */
static frame_t touch(struct rig *r, vpn_t vpn, int write)
{
	frame_t f = pager_lookup(r->p, vpn);

	if (f == NO_FRAME)
		f = pager_fault(r->p, vpn, write ? ACCESS_WRITE : ACCESS_READ);
	if (f != NO_FRAME)
		sim_mmu_touch(&r->mmu, f, write);
	return f;
}

static void test_zero_fill_then_major(void)
{
	struct rig r;

	rig_init(&r, "fifo", 2);
	touch(&r, 0, 1); /* zero-fill, dirty */
	touch(&r, 1, 0); /* zero-fill, clean */
	touch(&r, 2, 0); /* evicts 0: written back */
	touch(&r, 3, 0); /* evicts 1: clean, nothing written */
	touch(&r, 0, 0); /* 0 is on the store now: a major fault */
	touch(&r, 1, 0); /* 1 never reached the store: zero-fill again */

	CU_ASSERT_EQUAL(r.p->stats.faults, 6);
	CU_ASSERT_EQUAL(r.p->stats.minor, 5);
	CU_ASSERT_EQUAL(r.p->stats.major, 1);
	CU_ASSERT_EQUAL(r.store.zero_fill, 5);
	CU_ASSERT_EQUAL(r.store.page_in, 1);
	CU_ASSERT_EQUAL(r.store.page_out, 1);
	CU_ASSERT_EQUAL(r.store.last_out, 0);
	CU_ASSERT_EQUAL(r.p->stats.writebacks, 1);
	CU_ASSERT_EQUAL(r.p->stats.evictions, 4);
	CU_ASSERT_EQUAL(r.p->stats.resident, 2);
	CU_ASSERT_EQUAL(r.p->stats.resident_max, 2);
	rig_fini(&r);
}

/* The dirty bit is sticky in the pager until the page is written back. */
static void test_dirty_is_sticky(void)
{
	struct rig r;
	frame_t f;

	rig_init(&r, "fifo", 1);
	f = touch(&r, 5, 1);
	CU_ASSERT_TRUE(pager_dirty(r.p, f));
	CU_ASSERT_TRUE(pager_dirty(r.p, f)); /* harvested, still dirty */
	touch(&r, 6, 0);
	CU_ASSERT_EQUAL(r.store.page_out, 1);
	f = touch(&r, 5, 0);
	CU_ASSERT_FALSE(pager_dirty(r.p, f)); /* read back in: clean */
	rig_fini(&r);
}

static void test_pinned_never_evicted(void)
{
	struct rig r;
	frame_t pinned;

	rig_init(&r, "fifo", 3);
	pinned = pager_pin(r.p, 0);
	CU_ASSERT_NOT_EQUAL_FATAL(pinned, NO_FRAME);
	for (vpn_t v = 1; v < 16; v++)
		CU_ASSERT_NOT_EQUAL(touch(&r, v, 0), NO_FRAME);
	CU_ASSERT_EQUAL(pager_lookup(r.p, 0), pinned);
	pager_unpin(r.p, 0);
	/* Unpinned, it is the newest arrival for FIFO: two more faults keep it,
	 * the third evicts it. */
	touch(&r, 1, 0);
	touch(&r, 2, 0);
	CU_ASSERT_EQUAL(pager_lookup(r.p, 0), pinned);
	touch(&r, 3, 0);
	CU_ASSERT_EQUAL(pager_lookup(r.p, 0), NO_FRAME);
	rig_fini(&r);
}

static void test_all_pinned_fails_cleanly(void)
{
	struct rig r;

	rig_init(&r, "fifo", 2);
	CU_ASSERT_NOT_EQUAL(pager_pin(r.p, 0), NO_FRAME);
	CU_ASSERT_NOT_EQUAL(pager_pin(r.p, 1), NO_FRAME);
	CU_ASSERT_EQUAL(touch(&r, 2, 0), NO_FRAME);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.p->err, "all 2 frames are pinned"));
	/* Nothing was lost on the way. */
	CU_ASSERT_EQUAL(r.p->stats.resident, 2);
	pager_unpin(r.p, 1);
	CU_ASSERT_NOT_EQUAL(touch(&r, 2, 0), NO_FRAME);
	CU_ASSERT_EQUAL(pager_lookup(r.p, 1), NO_FRAME);
	rig_fini(&r);
}

/* A failed write-back keeps the page resident and dirty. */
static void test_failed_writeback_keeps_page(void)
{
	struct rig r;
	frame_t f;

	rig_init(&r, "fifo", 1);
	f = touch(&r, 0, 1);
	r.store.fail_out = -EIO;
	CU_ASSERT_EQUAL(touch(&r, 1, 0), NO_FRAME);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.p->err, "write-back of page 0"));
	CU_ASSERT_EQUAL(pager_lookup(r.p, 0), f);
	CU_ASSERT_TRUE(pager_dirty(r.p, f));
	r.store.fail_out = 0;
	CU_ASSERT_NOT_EQUAL(touch(&r, 1, 0), NO_FRAME);
	CU_ASSERT_EQUAL(r.store.page_out, 1);
	rig_fini(&r);
}

/*
 * An unpinned page is the policy's again, a victim like any other: when
 * the first victim's write-back fails, the pager tries the next one, which
 * is the page pinned a moment ago (its count of pinned frames went back to
 * 0, so it tries every frame).
 */
static void test_unpinned_page_tried_after_write_error(void)
{
	struct rig r;
	frame_t f0;

	rig_init(&r, "fifo", 2);
	f0 = touch(&r, 0, 1);
	touch(&r, 1, 1);
	CU_ASSERT_EQUAL_FATAL(pager_pin(r.p, 0), f0);
	pager_unpin(r.p, 0); /* FIFO: 0 is now the newest, 1 the oldest */
	CU_ASSERT_EQUAL(r.p->npinned, 0);
	r.store.fail_out = -EIO;
	r.store.fail_only = 1 + 1; /* page 1 cannot be written */
	CU_ASSERT_EQUAL(touch(&r, 2, 0), f0);
	CU_ASSERT_EQUAL(pager_lookup(r.p, 0), NO_FRAME);
	CU_ASSERT_NOT_EQUAL(pager_lookup(r.p, 1), NO_FRAME);
	CU_ASSERT_EQUAL(r.store.page_out, 1);
	CU_ASSERT_EQUAL(r.store.last_out, 0);
	CU_ASSERT_EQUAL(r.p->stats.writeback_errors, 1);
	rig_fini(&r);
}

static void test_future_refused_without_trace(void)
{
	struct sim_mmu mmu;
	char err[160] = "";

	CU_ASSERT_FATAL(sim_mmu_init(&mmu, 4) == 0);
	CU_ASSERT_PTR_NULL(pager_create(&(struct pager_config){
		.nframes = 4, .policy = policy_find("opt"), .params = POLICY_PARAMS_DEFAULT,
		.mmu = &mmu.mmu,
	}, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "needs the whole future"));
	CU_ASSERT_PTR_NULL(pager_create(&(struct pager_config){
		.nframes = 0, .policy = policy_find("fifo"), .mmu = &mmu.mmu,
	}, err, sizeof(err)));
	sim_mmu_fini(&mmu);
}

/* The page table grows as new pages appear, keeping what it had. */
static void test_grow_keeps_mappings(void)
{
	struct rig r;
	frame_t f;

	rig_init(&r, "fifo", 4);
	f = touch(&r, 3, 0);
	CU_ASSERT_EQUAL(pager_grow(r.p, 100000), 0);
	CU_ASSERT(r.p->npages >= 100000);
	CU_ASSERT_EQUAL(pager_lookup(r.p, 3), f);
	CU_ASSERT_EQUAL(pager_lookup(r.p, 99999), NO_FRAME);
	CU_ASSERT_NOT_EQUAL(touch(&r, 99999, 0), NO_FRAME);
	rig_fini(&r);
}

/* References to a pinned page must not reach the policy, whose lists it is
 * off: an LRU that moved it "to the head" would corrupt its list. */
static void test_hits_on_pinned_skip_policy(void)
{
	const char *policies[] = { "lru", "arc", "lirs", "2q", "s3fifo", "lfu", "opt" };

	for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++) {
		const vref_t refs[] = { 0, 1, 0, 2, 0, 3, 0, 1, 0, 2, 0, 3 };
		uint32_t next[12];
		char err[160];
		struct sim *s = sim_create(&(struct sim_config){
			.policy = policy_find(policies[i]), .nframes = 2,
			.params = POLICY_PARAMS_DEFAULT, .future_known = true,
		}, err, sizeof(err));

		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		CU_ASSERT_EQUAL_FATAL(pager_grow(s->pager, 4), 0);
		CU_ASSERT_EQUAL_FATAL(sim_next_use(refs, 12, 4, next), 0);
		CU_ASSERT_NOT_EQUAL_FATAL(pager_pin(s->pager, 0), NO_FRAME);
		CU_ASSERT_EQUAL(sim_replay(s, refs, next, 12), 0);
		/* Page 0 holds one frame; 1, 2, 3 take turns in the other. */
		CU_ASSERT_EQUAL(s->pager->stats.faults, 1 + 6);
		CU_ASSERT_NOT_EQUAL(pager_lookup(s->pager, 0), NO_FRAME);
		pager_unpin(s->pager, 0);
		CU_ASSERT_EQUAL(sim_replay(s, refs, next, 12), 0);
		CU_ASSERT(s->pager->stats.resident <= 2);
		sim_destroy(s);
	}
}

/* sim_next_use: the future OPT reads. */
static void test_next_use(void)
{
	const vref_t refs[] = { 1, 2, 1, 3, 2, 1 };
	uint32_t next[6];

	CU_ASSERT_EQUAL_FATAL(sim_next_use(refs, 6, 4, next), 0);
	CU_ASSERT_EQUAL(next[0], 3);
	CU_ASSERT_EQUAL(next[1], 5);
	CU_ASSERT_EQUAL(next[2], 6);
	CU_ASSERT_EQUAL(next[3], 0);
	CU_ASSERT_EQUAL(next[4], 0);
	CU_ASSERT_EQUAL(next[5], 0);
}

static CU_TestInfo pager_tests[] = {
	{ "zero-fill, write-back, then a major fault", test_zero_fill_then_major },
	{ "dirty bit sticky until written back", test_dirty_is_sticky },
	{ "a pinned page is never evicted", test_pinned_never_evicted },
	{ "all frames pinned: a clear error, no hang", test_all_pinned_fails_cleanly },
	{ "failed write-back keeps the page", test_failed_writeback_keeps_page },
	{ "unpinned page: a victim again after a write error", test_unpinned_page_tried_after_write_error },
	{ "opt refused without the future", test_future_refused_without_trace },
	{ "page table grows", test_grow_keeps_mappings },
	{ "hits on a pinned page skip the policy", test_hits_on_pinned_skip_policy },
	{ "next-use times", test_next_use },
	CU_TEST_INFO_NULL,
};
TEST_SUITE("pager", pager_tests);
