// SPDX-License-Identifier: MIT
/*
 * Replacement policies, part B: arc, car, 2q, lirs, clockpro, s3fifo, sieve.
 *
 * Each policy runs in the simulator (sim_replay, one reference at a time)
 * and is checked
 *  - reference by reference against a model written here from the paper's
 *    pseudocode with plain arrays and linear scans, on many seeded random
 *    traces of several shapes and memory sizes from 1 frame up: every hit,
 *    every miss and the write-backs of every reference must agree, not just
 *    the totals, on a page table of fixed size and on one that grows as
 *    the pages come (the simulator's case on a real trace);
 *  - on small strings worked out by hand where the paper's behaviour is
 *    distinctive (a ghost hit moving ARC's target, LIRS keeping most of a
 *    loop LRU cannot hold, one-time pages never reaching S3-FIFO's main
 *    queue, SIEVE's hand staying where it stopped, ...);
 *  - for properties that hold on any trace, and with pinned pages, grown
 *    page tables and every frame pinned.
 *
 * The models share the simulator's view of the reference bit: a hit sets
 * it, and a policy that admits pages unreferenced (car, clockpro, sieve)
 * clears it when the page comes in, which sticks only if the replayer does
 * not set it again for the faulting access after pager_fault() (the
 * simulated MMU's map() already counts that access).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "sim_rig.h"
#include "test.h"

static const char *const policies_b[] = {
	"arc", "car", "2q", "lirs", "clockpro", "s3fifo", "sieve",
};
#define NPOLICIES (sizeof(policies_b) / sizeof(policies_b[0]))

#define MAXPAGE 2048    /* page numbers in the generated traces */
#define MAXREFS 3000
#define NONE UINT32_MAX

/* ---- Running a policy in the simulator ---------------------------------- */

/* Replay one reference at a time, the page table grown to each page as it
 * comes if grow is set, noting which references faulted and how many pages
 * each one wrote back. */
static bool replay_steps(struct sim *s, const vref_t *refs, size_t n, bool grow, bool *miss,
			 uint8_t *writebacks)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t before = s->pager->stats.faults, wb = s->pager->stats.writebacks;

		if (grow && pager_grow(s->pager, VREF_VPN(refs[i]) + 1) != 0) {
			printf("\n  reference %zu: cannot grow the page table\n", i);
			return false;
		}

		if (sim_replay(s, &refs[i], NULL, 1) != 0) {
			printf("\n  reference %zu: %s\n", i, s->pager->err);
			return false;
		}
		miss[i] = s->pager->stats.faults != before;
		writebacks[i] = (uint8_t)(s->pager->stats.writebacks - wb);
	}
	return true;
}

/* Run a string; return the faults and leave the machine for inspection. */
static struct sim *run_string(const char *policy, uint32_t frames, const char *str,
			      uint64_t *faults)
{
	vref_t refs[256];
	size_t n = rig_parse_refs(str, refs, 256, NULL);
	struct sim *s = rig_sim(policy, frames, POLICY_PARAMS_DEFAULT, false, 1024);

	CU_ASSERT_EQUAL(sim_replay(s, refs, NULL, n), 0);
	*faults = s->pager->stats.faults;
	return s;
}

static bool resident(const struct sim *s, vpn_t vpn)
{
	return pager_lookup(s->pager, vpn) != NO_FRAME;
}

/* ---- Plain sequences for the models ------------------------------------- */

/* A list of page numbers, v[0] the oldest (LRU, tail, bottom) end. */
struct seq {
	uint32_t n;
	uint32_t v[4 * MAXPAGE];
};

static int seq_index(const struct seq *q, uint32_t x)
{
	for (uint32_t i = 0; i < q->n; i++)
		if (q->v[i] == x)
			return (int)i;
	return -1;
}

static bool seq_has(const struct seq *q, uint32_t x)
{
	return seq_index(q, x) >= 0;
}

static void seq_remove_at(struct seq *q, uint32_t i)
{
	memmove(&q->v[i], &q->v[i + 1], sizeof(q->v[0]) * (q->n - i - 1));
	q->n--;
}

static bool seq_remove(struct seq *q, uint32_t x)
{
	int i = seq_index(q, x);

	if (i < 0)
		return false;
	seq_remove_at(q, (uint32_t)i);
	return true;
}

static void seq_append(struct seq *q, uint32_t x)
{
	CU_ASSERT_FATAL(q->n < 4 * MAXPAGE);
	q->v[q->n++] = x;
}

static uint32_t seq_pop_oldest(struct seq *q)
{
	uint32_t x = q->v[0];

	seq_remove_at(q, 0);
	return x;
}

static struct seq *seq_new(void)
{
	struct seq *q = calloc(1, sizeof(*q));

	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	return q;
}

/*
 * A model gets the page numbers and the memory size and says, for each
 * reference, whether it missed and how many dirty pages it wrote back
 * making room. The dirty bits are the model's own: a write dirties its
 * page, the eviction of a dirty page writes it back and cleans it.
 */
struct model_out {
	const vref_t *refs;      /* for the write bits */
	bool *miss;
	uint8_t *writebacks;
	size_t now;              /* the reference being played */
	bool dirty[MAXPAGE];
};

typedef void model_fn(const uint32_t *tr, size_t n, uint32_t c, struct model_out *out);

/* Reference i, to page x, is played next. */
static void model_ref(struct model_out *out, size_t i, uint32_t x)
{
	out->now = i;
	out->writebacks[i] = 0;
	if (out->refs[i] & VREF_WRITE)
		out->dirty[x] = true;
}

/* Page x leaves memory. */
static void model_evict(struct model_out *out, uint32_t x)
{
	if (out->dirty[x]) {
		out->writebacks[out->now]++;
		out->dirty[x] = false;
	}
}

/* ---- ARC (Megiddo & Modha, FAST 2003, Figure 4) ------------------------- */

static void arc_replace(struct seq *t1, struct seq *t2, struct seq *b1, struct seq *b2,
			bool x_in_b2, double p, struct model_out *out)
{
	double len = t1->n;
	uint32_t y;

	if (t1->n >= 1 && ((x_in_b2 && len == p) || len > p))
		seq_append(b1, y = seq_pop_oldest(t1));
	else
		seq_append(b2, y = seq_pop_oldest(t2));
	model_evict(out, y);
}

static void model_arc(const uint32_t *tr, size_t n, uint32_t c, struct model_out *out)
{
	struct seq *t1 = seq_new(), *t2 = seq_new(), *b1 = seq_new(), *b2 = seq_new();
	double p = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t x = tr[i];

		model_ref(out, i, x);
		/* Case I: a hit, to the MRU end of T2. */
		if (seq_remove(t1, x) || seq_remove(t2, x)) {
			seq_append(t2, x);
			out->miss[i] = false;
			continue;
		}
		out->miss[i] = true;
		if (seq_has(b1, x)) {           /* Case II */
			double d = b1->n >= b2->n ? 1 : (double)b2->n / b1->n;

			p = p + d < c ? p + d : c;
			arc_replace(t1, t2, b1, b2, false, p, out);
			seq_remove(b1, x);
			seq_append(t2, x);
		} else if (seq_has(b2, x)) {    /* Case III */
			double d = b2->n >= b1->n ? 1 : (double)b1->n / b2->n;

			p = p - d > 0 ? p - d : 0;
			arc_replace(t1, t2, b1, b2, true, p, out);
			seq_remove(b2, x);
			seq_append(t2, x);
		} else {                        /* Case IV */
			uint32_t total = t1->n + t2->n + b1->n + b2->n;

			if (t1->n + b1->n == c) {
				if (t1->n < c) {
					seq_pop_oldest(b1);
					arc_replace(t1, t2, b1, b2, false, p, out);
				} else {
					model_evict(out, seq_pop_oldest(t1));
				}
			} else if (total >= c) {
				if (total == 2 * c)
					seq_pop_oldest(b2);
				arc_replace(t1, t2, b1, b2, false, p, out);
			}
			seq_append(t1, x);
		}
	}
	free(t1), free(t2), free(b1), free(b2);
}

/* ---- CAR (Bansal & Modha, FAST 2004) ------------------------------------ */

/* The clocks: v[0] is the clock's head, where the hand is; a page goes in
 * at the tail, the newest end. */
static void car_replace(struct seq *t1, struct seq *t2, struct seq *b1, struct seq *b2,
			bool *ref, double p, struct model_out *out)
{
	for (;;) {
		if (t1->n >= (p > 1 ? p : 1)) {
			uint32_t h = seq_pop_oldest(t1);

			if (!ref[h]) {
				seq_append(b1, h);
				model_evict(out, h);
				return;
			}
			ref[h] = false;
			seq_append(t2, h);
		} else {
			uint32_t h = seq_pop_oldest(t2);

			if (!ref[h]) {
				seq_append(b2, h);
				model_evict(out, h);
				return;
			}
			ref[h] = false;
			seq_append(t2, h);
		}
	}
}

static void model_car(const uint32_t *tr, size_t n, uint32_t c, struct model_out *out)
{
	struct seq *t1 = seq_new(), *t2 = seq_new(), *b1 = seq_new(), *b2 = seq_new();
	bool *ref = calloc(MAXPAGE, sizeof(*ref));
	double p = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t x = tr[i];
		bool in_b1, in_b2;

		model_ref(out, i, x);
		if (seq_has(t1, x) || seq_has(t2, x)) {
			ref[x] = true;
			out->miss[i] = false;
			continue;
		}
		out->miss[i] = true;
		if (t1->n + t2->n == c) {
			car_replace(t1, t2, b1, b2, ref, p, out);
			if (!seq_has(b1, x) && !seq_has(b2, x)) {
				if (t1->n + b1->n == c)
					seq_pop_oldest(b1);
				else if (t1->n + t2->n + b1->n + b2->n == 2 * c)
					seq_pop_oldest(b2);
			}
		}
		in_b1 = seq_has(b1, x);
		in_b2 = seq_has(b2, x);
		if (!in_b1 && !in_b2) {
			seq_append(t1, x);
		} else if (in_b1) {
			double d = b2->n > b1->n ? (double)b2->n / b1->n : 1;

			p = p + d < c ? p + d : c;
			seq_remove(b1, x);
			seq_append(t2, x);
		} else {
			double d = b1->n > b2->n ? (double)b1->n / b2->n : 1;

			p = p - d > 0 ? p - d : 0;
			seq_remove(b2, x);
			seq_append(t2, x);
		}
		ref[x] = false;
	}
	free(ref);
	free(t1), free(t2), free(b1), free(b2);
}

/* ---- 2Q (Johnson & Shasha, VLDB 1994, the full version) ----------------- */

static void model_2q(const uint32_t *tr, size_t n, uint32_t c, struct model_out *out)
{
	struct seq *a1in = seq_new(), *am = seq_new(), *a1out = seq_new();
	uint32_t kin = c / 4 ? c / 4 : 1, kout = c / 2 ? c / 2 : 1;

	for (size_t i = 0; i < n; i++) {
		uint32_t x = tr[i];
		bool ghost;

		model_ref(out, i, x);
		if (seq_remove(am, x)) {
			seq_append(am, x);
			out->miss[i] = false;
			continue;
		}
		if (seq_has(a1in, x)) {
			out->miss[i] = false;
			continue;
		}
		out->miss[i] = true;
		ghost = seq_has(a1out, x);
		if (a1in->n + am->n == c) {     /* reclaimfor(x) */
			if (a1in->n > kin || !am->n) {
				uint32_t y = seq_pop_oldest(a1in);

				model_evict(out, y);
				seq_append(a1out, y);
				if (a1out->n > kout)
					seq_pop_oldest(a1out);
			} else {
				model_evict(out, seq_pop_oldest(am));
			}
		}
		if (ghost) {
			seq_remove(a1out, x);
			seq_append(am, x);
		} else {
			seq_append(a1in, x);
		}
	}
	free(a1in), free(am), free(a1out);
}

/* ---- LIRS (Jiang & Zhang, SIGMETRICS 2002) ------------------------------ */

enum { L_NONE, L_LIR, L_HIR, L_NONRES };

struct lirs_model {
	struct seq *s, *q;       /* s->v[0] is the bottom of S, q->v[0] the front of Q */
	uint8_t st[MAXPAGE];
	bool in_s[MAXPAGE];
	uint32_t nlir;
};

static void lm_prune(struct lirs_model *m)
{
	while (m->s->n && m->st[m->s->v[0]] != L_LIR) {
		uint32_t y = seq_pop_oldest(m->s);

		m->in_s[y] = false;
		if (m->st[y] == L_NONRES)
			m->st[y] = L_NONE;
	}
}

static void lm_demote_bottom(struct lirs_model *m)
{
	uint32_t b;

	lm_prune(m);
	b = m->s->v[0];
	m->st[b] = L_HIR;
	m->nlir--;
	seq_append(m->q, b);
	lm_prune(m);
}

static void lm_to_top(struct lirs_model *m, uint32_t x)
{
	seq_remove(m->s, x);
	seq_append(m->s, x);
	m->in_s[x] = true;
}

static void model_lirs(const uint32_t *tr, size_t n, uint32_t c, struct model_out *out)
{
	struct lirs_model *m = calloc(1, sizeof(*m));
	uint32_t lhirs = c / 100 ? c / 100 : 1, llirs = c - lhirs, resident = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	m->s = seq_new();
	m->q = seq_new();
	for (size_t i = 0; i < n; i++) {
		uint32_t x = tr[i], nonres = 0;

		model_ref(out, i, x);
		if (m->st[x] == L_LIR) {
			bool bottom = m->s->v[0] == x;

			lm_to_top(m, x);
			if (bottom)
				lm_prune(m);
			out->miss[i] = false;
			continue;
		}
		if (m->st[x] == L_HIR) {
			if (m->in_s[x]) {
				lm_to_top(m, x);
				seq_remove(m->q, x);
				m->st[x] = L_LIR;
				if (++m->nlir > llirs)
					lm_demote_bottom(m);
			} else {
				lm_to_top(m, x);
				seq_remove(m->q, x);
				seq_append(m->q, x);
			}
			out->miss[i] = false;
			continue;
		}

		out->miss[i] = true;
		if (resident == c) {
			uint32_t v;

			if (!m->q->n)
				lm_demote_bottom(m);
			v = seq_pop_oldest(m->q);
			model_evict(out, v);
			m->st[v] = m->in_s[v] ? L_NONRES : L_NONE;
			resident--;
		}
		resident++;
		if (m->st[x] == L_NONRES) {
			lm_to_top(m, x);
			m->st[x] = L_LIR;
			if (++m->nlir > llirs)
				lm_demote_bottom(m);
		} else {
			lm_to_top(m, x);
			if (m->nlir < llirs) {
				m->st[x] = L_LIR;
				m->nlir++;
			} else {
				m->st[x] = L_HIR;
				seq_append(m->q, x);
			}
			lm_prune(m);
		}
		/* At most 2c non-resident entries in S: forget the deepest. */
		for (uint32_t k = 0; k < m->s->n; k++)
			nonres += m->st[m->s->v[k]] == L_NONRES;
		for (uint32_t k = 0; nonres > 2 * c; ) {
			uint32_t y = m->s->v[k];

			if (m->st[y] == L_NONRES) {
				seq_remove_at(m->s, k);
				m->in_s[y] = false;
				m->st[y] = L_NONE;
				nonres--;
			} else {
				k++;
			}
		}
	}
	free(m->s), free(m->q), free(m);
}

/* ---- CLOCK-Pro (Jiang, Chen & Zhang, USENIX ATC 2005) ------------------- */

enum { C_NONE, C_HOT, C_COLD, C_NONRES };

struct cp_model {
	struct seq *ring;        /* ring->v[0] the oldest, v[n - 1] the list head */
	bool filled;             /* memory has been full once */
	uint8_t kind[MAXPAGE];
	bool test[MAXPAGE], ref[MAXPAGE];
	uint32_t hand_hot, hand_cold, hand_test;
	uint32_t m, mc, mc_min, mc_max;
};

static uint32_t cp_count(const struct cp_model *m, int kind)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < m->ring->n; i++)
		k += m->kind[m->ring->v[i]] == kind;
	return k;
}

static uint32_t cp_tests(const struct cp_model *m)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < m->ring->n; i++)
		k += m->test[m->ring->v[i]];
	return k;
}

static uint32_t cp_fwd(const struct cp_model *m, uint32_t v)
{
	uint32_t i = (uint32_t)seq_index(m->ring, v);

	return m->ring->v[(i + 1) % m->ring->n];
}

/* v moves or leaves: hands on it step forward. */
static void cp_step_off(struct cp_model *m, uint32_t v)
{
	uint32_t n = cp_fwd(m, v);

	if (n == v)
		n = NONE;
	if (m->hand_hot == v)
		m->hand_hot = n;
	if (m->hand_cold == v)
		m->hand_cold = n;
	if (m->hand_test == v)
		m->hand_test = n;
}

static void cp_to_head(struct cp_model *m, uint32_t v)
{
	cp_step_off(m, v);
	seq_remove(m->ring, v);
	seq_append(m->ring, v);
}

static void cp_mc(struct cp_model *m, int d)
{
	if (d > 0 && m->mc < m->mc_max)
		m->mc++;
	if (d < 0 && m->mc > m->mc_min)
		m->mc--;
}

static void cp_end_test(struct cp_model *m, uint32_t v)
{
	m->test[v] = false;
	if (m->kind[v] == C_NONRES) {
		cp_step_off(m, v);
		seq_remove(m->ring, v);
		m->kind[v] = C_NONE;
		cp_mc(m, -1);
	} else {
		cp_mc(m, m->ref[v] ? +1 : -1);
	}
}

static void cp_hot_walk(struct cp_model *m, uint32_t v)
{
	m->hand_hot = NONE;
	if (!cp_count(m, C_HOT))
		return;
	if (v == NONE)
		v = m->ring->v[0];
	while (m->kind[v] != C_HOT) {
		uint32_t n = cp_fwd(m, v);

		if (m->test[v])
			cp_end_test(m, v);
		v = n;
	}
	m->hand_hot = v;
}

static void cp_settle(struct cp_model *m)
{
	uint32_t v;

	if (m->hand_hot == NONE || m->kind[m->hand_hot] != C_HOT)
		cp_hot_walk(m, m->hand_hot);
	if (!cp_tests(m)) {
		m->hand_test = NONE;
	} else if (m->hand_test == NONE || !m->test[m->hand_test]) {
		for (v = m->hand_test == NONE ? m->ring->v[0] : m->hand_test; !m->test[v];)
			v = cp_fwd(m, v);
		m->hand_test = v;
	}
	if (!cp_count(m, C_COLD)) {
		m->hand_cold = NONE;
	} else if (m->hand_cold == NONE || m->kind[m->hand_cold] != C_COLD) {
		for (v = m->hand_cold == NONE ? m->ring->v[0] : m->hand_cold; m->kind[v] != C_COLD;)
			v = cp_fwd(m, v);
		m->hand_cold = v;
	}
}

static void cp_run_hot(struct cp_model *m)
{
	for (;;) {
		uint32_t v = m->hand_hot;
		bool spared = m->ref[v];

		m->ref[v] = false;
		if (!spared)
			m->kind[v] = C_COLD;
		cp_hot_walk(m, cp_fwd(m, v));
		cp_settle(m);
		if (!spared)
			return;
	}
}

static void cp_balance(struct cp_model *m)
{
	uint32_t hot;

	while ((hot = cp_count(m, C_HOT)) && hot > m->m - m->mc)
		cp_run_hot(m);
}

static void cp_evict(struct cp_model *m, struct model_out *out)
{
	for (;;) {
		uint32_t v;

		if (!cp_count(m, C_COLD)) {
			cp_run_hot(m);
			continue;
		}
		v = m->hand_cold;
		if (m->ref[v]) {
			m->ref[v] = false;
			if (m->test[v]) {
				m->kind[v] = C_HOT;
				m->test[v] = false;
				cp_mc(m, +1);
				cp_to_head(m, v);
				cp_settle(m);
				cp_balance(m);
			} else {
				m->test[v] = true;
				cp_to_head(m, v);
				cp_settle(m);
			}
			continue;
		}
		model_evict(out, v);
		if (m->test[v]) {
			m->hand_cold = cp_fwd(m, v);
			m->kind[v] = C_NONRES;
		} else {
			cp_step_off(m, v);
			seq_remove(m->ring, v);
			m->kind[v] = C_NONE;
		}
		cp_settle(m);
		while (cp_count(m, C_NONRES) > m->m) {
			cp_end_test(m, m->hand_test);
			cp_settle(m);
		}
		return;
	}
}

static void model_clockpro(const uint32_t *tr, size_t n, uint32_t c, struct model_out *out)
{
	struct cp_model *m = calloc(1, sizeof(*m));

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	m->ring = seq_new();
	m->m = c;
	m->mc_min = 1;
	m->mc_max = c > 1 ? c - 1 : 1;
	m->mc = c / 100 > 1 ? c / 100 : 1;
	m->hand_hot = m->hand_cold = m->hand_test = NONE;
	for (size_t i = 0; i < n; i++) {
		uint32_t x = tr[i];

		model_ref(out, i, x);
		if (m->kind[x] == C_HOT || m->kind[x] == C_COLD) {
			m->ref[x] = true;
			out->miss[i] = false;
			continue;
		}
		out->miss[i] = true;
		if (cp_count(m, C_HOT) + cp_count(m, C_COLD) == c) {
			m->filled = true;
			cp_evict(m, out);
		}
		if (m->kind[x] == C_NONRES) {
			m->kind[x] = C_HOT;
			m->test[x] = false;
			cp_mc(m, +1);
			cp_to_head(m, x);
			cp_settle(m);
			cp_balance(m);
		} else if (!m->filled && cp_count(m, C_HOT) < c - m->mc) {
			/* Filling up: hot pages first, as LIRS's first LIRs. */
			m->kind[x] = C_HOT;
			seq_append(m->ring, x);
			cp_settle(m);
		} else {
			m->kind[x] = C_COLD;
			m->test[x] = true;
			seq_append(m->ring, x);
			cp_settle(m);
		}
		m->ref[x] = false;
	}
	free(m->ring), free(m);
}

/* ---- S3-FIFO (Yang et al., SOSP 2023, Algorithm 1) ---------------------- */

struct s3_model {
	struct seq *s, *m, *g;   /* v[0] is each queue's tail, the oldest */
	uint8_t freq[MAXPAGE];
	uint32_t c, gmax;
};

static void s3_evict_m(struct s3_model *q, struct model_out *out)
{
	while (q->m->n) {
		uint32_t t = seq_pop_oldest(q->m);

		if (q->freq[t] > 0) {
			seq_append(q->m, t);
			q->freq[t]--;
		} else {
			model_evict(out, t);
			return;
		}
	}
}

static void s3_evict_s(struct s3_model *q, struct model_out *out)
{
	while (q->s->n) {
		uint32_t t = q->s->v[0];

		if (q->freq[t] > 1) {
			seq_append(q->m, t);
			if (10 * q->m->n > 9 * q->c)
				s3_evict_m(q, out);
			seq_remove_at(q->s, 0);
		} else {
			model_evict(out, t);
			seq_append(q->g, t);
			if (q->g->n > q->gmax)
				seq_pop_oldest(q->g);
			seq_remove_at(q->s, 0);
			return;
		}
	}
}

static void model_s3fifo(const uint32_t *tr, size_t n, uint32_t c, struct model_out *out)
{
	struct s3_model *q = calloc(1, sizeof(*q));

	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	q->s = seq_new();
	q->m = seq_new();
	q->g = seq_new();
	q->c = c;
	q->gmax = 9 * c / 10 ? 9 * c / 10 : 1;
	for (size_t i = 0; i < n; i++) {
		uint32_t x = tr[i];

		model_ref(out, i, x);
		if (seq_has(q->s, x) || seq_has(q->m, x)) {
			if (q->freq[x] < 3)
				q->freq[x]++;
			out->miss[i] = false;
			continue;
		}
		out->miss[i] = true;
		while (q->s->n + q->m->n >= c) {
			if (10 * q->s->n >= c || !q->m->n)
				s3_evict_s(q, out);
			else
				s3_evict_m(q, out);
		}
		if (seq_remove(q->g, x))
			seq_append(q->m, x);
		else
			seq_append(q->s, x);
		q->freq[x] = 0;
	}
	free(q->s), free(q->m), free(q->g), free(q);
}

/* ---- SIEVE (Zhang et al., NSDI 2024) ------------------------------------ */

static void model_sieve(const uint32_t *tr, size_t n, uint32_t c, struct model_out *out)
{
	struct seq *q = seq_new();  /* v[0] the tail (oldest), v[n - 1] the head */
	bool *visited = calloc(MAXPAGE, sizeof(*visited));
	uint32_t hand = NONE;

	for (size_t i = 0; i < n; i++) {
		uint32_t x = tr[i];

		model_ref(out, i, x);
		if (seq_has(q, x)) {
			visited[x] = true;
			out->miss[i] = false;
			continue;
		}
		out->miss[i] = true;
		if (q->n == c) {
			uint32_t o = hand != NONE ? (uint32_t)seq_index(q, hand) : 0;

			while (visited[q->v[o]]) {
				visited[q->v[o]] = false;
				o = o + 1 < q->n ? o + 1 : 0;
			}
			hand = o + 1 < q->n ? q->v[o + 1] : NONE;
			model_evict(out, q->v[o]);
			seq_remove_at(q, o);
		}
		seq_append(q, x);
		visited[x] = false;
	}
	free(visited);
	free(q);
}

/* ---- Random traces ------------------------------------------------------ */

enum shape { UNIFORM, LOOPS, ZIPF, SCANS, NSHAPES };
static const char *const shape_name[] = { "uniform", "loops", "zipf", "scans+hot" };

struct trace {
	uint32_t page[MAXREFS];
	vref_t refs[MAXREFS];
	size_t n;
	uint32_t distinct;
};

static uint32_t clamp_pages(uint32_t n)
{
	return n < 1 ? 1 : n > MAXPAGE ? MAXPAGE : n;
}

/*
 * A reference string sized to the memory c: uniform over a little less to
 * a lot more pages than fit; loops near c pages long, shifting now and
 * then, with noise; Zipf-like popularity (page k with weight 1/(k+1));
 * a hot set interleaved with scans of pages seen once per lap. A quarter
 * of the references write.
 */
static void gen_trace(struct trace *t, enum shape shape, uint32_t c, uint64_t seed)
{
	struct test_rng r = { seed * 0x2545f4914f6cdd1dull + shape * 1000003u + c };
	uint32_t pages = clamp_pages(c / 2 + 1 + test_rng_below(&r, 3 * c + 3));
	uint32_t loop = clamp_pages(c + test_rng_below(&r, 5) - 1), base = 0;
	uint32_t hot = c / 2 ? c / 2 : 1, scan = 0, scan_len = clamp_pages(hot + 5 * c);
	double cdf[MAXPAGE], sum = 0;
	bool seen[MAXPAGE] = { false };

	for (uint32_t k = 0; k < pages; k++)
		cdf[k] = sum += 1.0 / (k + 1);
	t->n = MAXREFS;
	t->distinct = 0;
	for (size_t i = 0; i < t->n; i++) {
		uint32_t v;

		switch (shape) {
		case UNIFORM:
			v = test_rng_below(&r, pages);
			break;
		case LOOPS:
			if (test_rng_below(&r, 300) == 0) {
				loop = clamp_pages(c + test_rng_below(&r, 5) - 1);
				base = test_rng_below(&r, 8);
			}
			v = test_rng_below(&r, 40) == 0 ? test_rng_below(&r, loop + 10)
						   : base + (uint32_t)(i % loop);
			break;
		case ZIPF: {
			double u = (double)(test_rng_next(&r) >> 11) / (double)(1ull << 53) * sum;
			uint32_t k = 0;

			while (k + 1 < pages && cdf[k] < u)
				k++;
			v = k;
			break;
		}
		default:
			if (test_rng_below(&r, 10) < 6) {
				v = test_rng_below(&r, hot);
			} else {
				v = hot + scan;
				scan = (scan + 1) % (scan_len > hot ? scan_len - hot : 1);
			}
			break;
		}
		v = v < MAXPAGE ? v : MAXPAGE - 1;
		t->page[i] = v;
		t->refs[i] = VREF(v, test_rng_below(&r, 4) == 0);
		if (!seen[v]) {
			seen[v] = true;
			t->distinct++;
		}
	}
}

/* ---- Against the models ------------------------------------------------- */

static const uint32_t model_frames[] = { 1, 2, 3, 4, 5, 7, 10, 16, 25, 40 };
#define NMODEL_FRAMES (sizeof(model_frames) / sizeof(model_frames[0]))

/*
 * The trace with its pages renamed 0, 1, 2, ... in the order they first
 * appear, as the simulator renames a real trace: played on a page table
 * grown to each new page, the table grows (doubling) while ghosts and
 * other per-page history are live.
 */
static void rename_dense(struct trace *t)
{
	uint32_t name[MAXPAGE], next = 0;

	for (uint32_t v = 0; v < MAXPAGE; v++)
		name[v] = NONE;
	for (size_t i = 0; i < t->n; i++) {
		uint32_t v = t->page[i];

		if (name[v] == NONE)
			name[v] = next++;
		t->page[i] = name[v];
		t->refs[i] = VREF(name[v], t->refs[i] & VREF_WRITE);
	}
}

/* Both say hit or miss alike, and write back as many pages, at every
 * reference, or the first difference is printed. grow: the page table
 * starts at one page and grows as pages come, else it has MAXPAGE. */
static bool agree(const char *policy, model_fn *model, const struct trace *t, uint32_t c,
		  bool grow, const char *what)
{
	bool *got = malloc(sizeof(*got) * t->n);
	uint8_t *got_wb = malloc(t->n), *want_wb = malloc(t->n);
	struct model_out *want = calloc(1, sizeof(*want));
	struct sim *s;
	bool ok;

	CU_ASSERT_FATAL(got && got_wb && want_wb && want);
	want->refs = t->refs;
	want->miss = malloc(sizeof(*want->miss) * t->n);
	want->writebacks = want_wb;
	CU_ASSERT_PTR_NOT_NULL_FATAL(want->miss);
	s = rig_sim(policy, c, POLICY_PARAMS_DEFAULT, false, grow ? 1 : MAXPAGE);
	ok = replay_steps(s, t->refs, t->n, grow, got, got_wb);

	model(t->page, t->n, c, want);
	for (size_t i = 0; ok && i < t->n; i++) {
		if (got[i] != want->miss[i] || got_wb[i] != want_wb[i]) {
			printf("\n  %s, %s%s, %u frames: reference %zu (page %u%s) %s writing back %u, "
			       "the model says %s writing back %u\n",
			       policy, what, grow ? ", growing page table" : "", c, i, t->page[i],
			       t->refs[i] & VREF_WRITE ? ", a write" : "", got[i] ? "missed" : "hit",
			       got_wb[i], want->miss[i] ? "miss" : "hit", want_wb[i]);
			ok = false;
		}
	}
	/* The totals too: a write-back counted outside a fault shows here. */
	if (ok) {
		uint64_t wb = 0;

		for (size_t i = 0; i < t->n; i++)
			wb += want_wb[i];
		CU_ASSERT_EQUAL(s->pager->stats.writebacks, wb);
		ok = s->pager->stats.writebacks == wb;
	}
	sim_destroy(s);
	free(want->miss);
	free(want);
	free(got);
	free(got_wb);
	free(want_wb);
	return ok;
}

/* Fixed and growing page tables, on every shape, seed and memory size. */
static void against_model(const char *policy, model_fn *model)
{
	struct trace *t = malloc(sizeof(*t));
	unsigned failures = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (enum shape shape = 0; shape < NSHAPES; shape++) {
		for (uint64_t seed = 1; seed <= 4; seed++) {
			for (size_t k = 0; k < NMODEL_FRAMES; k++) {
				char what[64];

				gen_trace(t, shape, model_frames[k], seed);
				snprintf(what, sizeof(what), "%s seed %llu", shape_name[shape],
					 (unsigned long long)seed);
				if (!agree(policy, model, t, model_frames[k], false, what))
					failures++;
				rename_dense(t);
				if (!agree(policy, model, t, model_frames[k], true, what))
					failures++;
				if (failures > 3)
					goto out;
			}
		}
		/* Large enough for LIRS's Lhirs and CLOCK-Pro's initial mc
		 * to be more than one frame. */
		gen_trace(t, shape, 210, 7);
		if (!agree(policy, model, t, 210, false, shape_name[shape]))
			failures++;
		rename_dense(t);
		if (!agree(policy, model, t, 210, true, shape_name[shape]))
			failures++;
	}
out:
	CU_ASSERT_EQUAL(failures, 0);
	free(t);
}

static void test_arc_model(void) { against_model("arc", model_arc); }
static void test_car_model(void) { against_model("car", model_car); }
static void test_2q_model(void) { against_model("2q", model_2q); }
static void test_lirs_model(void) { against_model("lirs", model_lirs); }
static void test_clockpro_model(void) { against_model("clockpro", model_clockpro); }
static void test_s3fifo_model(void) { against_model("s3fifo", model_s3fifo); }
static void test_sieve_model(void) { against_model("sieve", model_sieve); }

/* ---- Worked by hand ----------------------------------------------------- */

/*
 * ARC, 2 frames (T1, T2, B1, B2 listed LRU first):
 *   1 2    miss, miss      T1 = 1 2
 *   1      hit             T1 = 2, T2 = 1
 *   3      miss, case IV: REPLACE with p = 0 takes T1's LRU: B1 = 2, T1 = 3
 *   2      miss in B1: p = 0 + 1 = 1; REPLACE: |T1| = 1 is not > p, so
 *          T2's LRU goes: B2 = 1; T2 = 2, T1 = 3
 *   4      miss, case IV: |T1| = 1 is still not > p = 1: T2's LRU goes,
 *          B2 = 1 2; T1 = 3 4. (p = 0 would have evicted 3, as LRU does.)
 *   2      miss in B2: p = 1 - 1 = 0; REPLACE: |T1| = 2 > 0: T1's LRU,
 *          3, goes to B1; T2 = 2, T1 = 4.
 */
static void test_arc_ghost_hits_move_p(void)
{
	uint64_t faults;
	struct sim *s = run_string("arc", 2, "1 2 1 3 2 4", &faults);

	CU_ASSERT_EQUAL(faults, 5);
	CU_ASSERT(resident(s, 3) && resident(s, 4));
	CU_ASSERT(!resident(s, 1) && !resident(s, 2));
	sim_destroy(s);

	s = run_string("arc", 2, "1 2 1 3 2 4 2", &faults);
	CU_ASSERT_EQUAL(faults, 6);
	CU_ASSERT(resident(s, 2) && resident(s, 4));
	CU_ASSERT(!resident(s, 3));
	sim_destroy(s);

	/* LRU keeps the recent pair instead. */
	s = run_string("lru", 2, "1 2 1 3 2 4", &faults);
	CU_ASSERT(resident(s, 2) && resident(s, 4));
	sim_destroy(s);
}

/*
 * CAR, 2 frames (clocks listed from the hand; p starts at 0):
 *   1      miss: T1 = 1, its bit clear
 *   1      hit: the bit set
 *   2      miss into the free frame: T1 = 1 2
 *   3      miss: the hand finds 1 referenced, clears its bit and moves it
 *          to the tail of T2; 2, unreferenced, goes to B1. T1 = 3,
 *          T2 = 1 (LRU would have kept 2 and 3)
 *   2      miss, in B1: |T1| = 1 >= max(1, p), 3 goes to B1; then
 *          p = 0 + max(1, |B2| / |B1|) = 1 and 2 joins T2 = 1 2
 *   3      miss, in B1: |T1| = 0 < max(1, p), T2's hand evicts 1 (not
 *          referenced since it moved) to B2; p = 1 + max(1, 1 / 1) = 2;
 *          T2 = 2 3
 *   1      miss, in B2: the hand evicts 2; p = 2 - max(1, 0 / 2) = 1;
 *          T2 = 3 1
 */
static void test_car_clocks(void)
{
	uint64_t faults;
	struct sim *s = run_string("car", 2, "1 1 2 3", &faults);

	CU_ASSERT_EQUAL(faults, 3);
	CU_ASSERT(resident(s, 1) && resident(s, 3));
	sim_destroy(s);

	s = run_string("car", 2, "1 1 2 3 2 3", &faults);
	CU_ASSERT_EQUAL(faults, 5);
	CU_ASSERT(resident(s, 2) && resident(s, 3));
	sim_destroy(s);

	s = run_string("car", 2, "1 1 2 3 2 3 1", &faults);
	CU_ASSERT_EQUAL(faults, 6);
	CU_ASSERT(resident(s, 1) && resident(s, 3));
	sim_destroy(s);

	s = run_string("lru", 2, "1 1 2 3", &faults);
	CU_ASSERT(!resident(s, 1));
	sim_destroy(s);
}

/*
 * 2Q, 4 frames: Kin = 1, Kout = 2.
 *   1 2 3 4   misses into free frames: A1in = 1 2 3 4
 *   5 6       A1in holds more than Kin: 1, then 2, go to A1out
 *   1         in A1out: reclaiming pushes 3 to A1out, which then drops
 *             its oldest, 1 itself; 1 still goes to Am, as decided
 *             before reclaiming
 *   2         the same with 4: Am = 1 2, A1in = 5 6
 *   7 8 9 10  a scan: each pushes the oldest of A1in out
 *   1 2       hits in Am
 * An LRU of 4 frames would have lost 1 and 2 to the scan.
 */
static void test_2q_ghost_promotes(void)
{
	uint64_t faults;
	struct sim *s = run_string("2q", 4, "1 2 3 4 5 6 1 2 7 8 9 10 1 2", &faults);

	CU_ASSERT_EQUAL(faults, 12);
	CU_ASSERT(resident(s, 1) && resident(s, 2) && resident(s, 9) && resident(s, 10));
	sim_destroy(s);

	/* A burst of references while in A1in proves nothing: the page is
	 * evicted from A1in like any other and then only remembered. */
	s = run_string("2q", 4, "1 1 1 1 2 3 4 5 6", &faults);
	CU_ASSERT_EQUAL(faults, 6);
	CU_ASSERT(!resident(s, 1) && !resident(s, 2));
	sim_destroy(s);
}

/*
 * LIRS, 10 frames (Lhirs = 1, Llirs = 9), a loop over 11 pages, 10 laps.
 * Lap 1 faults 11 times: 0..8 become LIR, 9 and 10 pass through the HIR
 * frame. Each later lap hits the nine LIR pages and faults on 9 and 10
 * only (they are no longer in S when they come back): 11 + 9 * 2 = 29.
 * LRU faults on all 110 references.
 */
static void test_lirs_loop(void)
{
	char str[512] = "";
	uint64_t lirs, lru;
	struct sim *s;

	for (int lap = 0; lap < 10; lap++)
		for (int pg = 0; pg < 11; pg++)
			snprintf(str + strlen(str), sizeof(str) - strlen(str), "%d ", pg);
	s = run_string("lirs", 10, str, &lirs);
	CU_ASSERT_EQUAL(lirs, 29);
	for (vpn_t v = 0; v < 9; v++)
		CU_ASSERT(resident(s, v));
	sim_destroy(s);
	sim_destroy(run_string("lru", 10, str, &lru));
	CU_ASSERT_EQUAL(lru, 110);
}

/*
 * CLOCK-Pro, 3 frames (mc starts at 1, within [1, 2]; the clock listed
 * from its oldest page to the list head):
 *   1 2    memory filling: hot, up to m - mc = 2 pages
 *   3      cold, in its test period
 *   1      hit: 1's bit set
 *   4      HAND_cold at 3: unreferenced, evicted; in its test period, it
 *          stays as a non-resident cold page. 4 comes in cold: 1 2 3n 4
 *   2      hit: 2's bit set
 *   3      HAND_cold evicts 4 (non-resident too). 3, faulted in its test
 *          period, comes in hot at the head (mc = 2): 1 2 4n 3. Three
 *          hot pages exceed m - mc = 1: HAND_hot spares 1 and 2 (clearing
 *          their bits), ends 4's test (it leaves; mc = 1) and turns 3,
 *          unreferenced since it came in, cold: 1 2 3c
 *   4      HAND_cold evicts 3 (no test period: gone); 4 comes in cold
 * 6 faults; 1 and 2 were never at risk.
 */
static void test_clockpro_small(void)
{
	uint64_t faults;
	struct sim *s = run_string("clockpro", 3, "1 2 3 1 4 2 3 4", &faults);

	CU_ASSERT_EQUAL(faults, 6);
	CU_ASSERT(resident(s, 1) && resident(s, 2) && resident(s, 4));
	sim_destroy(s);
}

/*
 * S3-FIFO, 10 frames (S gets 1, M 9): pages 0..8 referenced three times
 * while the memory fills (freq 2), then 100 pages referenced once. The
 * first of them finds memory full: EVICTS moves 0..8 (freq > 1) to M and
 * sends page 100 to G; from then on each new page passes through S and
 * leaves for G, never touching M. The hot pages all hit at the end:
 * 9 + 100 faults. LRU loses them to the scan.
 */
static void test_s3fifo_one_hit_wonders(void)
{
	char str[1024] = "";
	uint64_t s3, lru;
	struct sim *s;

	for (int lap = 0; lap < 3; lap++)
		for (int pg = 0; pg < 9; pg++)
			snprintf(str + strlen(str), sizeof(str) - strlen(str), "%d ", pg);
	for (int pg = 100; pg < 200; pg++)
		snprintf(str + strlen(str), sizeof(str) - strlen(str), "%d ", pg);
	for (int pg = 0; pg < 9; pg++)
		snprintf(str + strlen(str), sizeof(str) - strlen(str), "%d ", pg);
	s = run_string("s3fifo", 10, str, &s3);
	CU_ASSERT_EQUAL(s3, 109);
	for (vpn_t v = 0; v < 9; v++)
		CU_ASSERT(resident(s, v));
	sim_destroy(s);
	sim_destroy(run_string("lru", 10, str, &lru));
	CU_ASSERT_EQUAL(lru, 118);
}

/*
 * SIEVE, 3 frames (queue listed tail first):
 *   1 2 3  misses: 1 2 3, none visited
 *   1      hit: 1 visited
 *   4      the hand starts at the tail: clears 1, stops at 2, evicts it;
 *          the hand stays at 3. Queue 1 3 4
 *   5      evicts 3 where the hand waits; hand at 4. Queue 1 4 5
 *   1      hit: 1 visited again
 *   6 7 8 9  each evicts the page at the hand, which moves one step
 *          toward the head each time, never back over 1
 * Page 1 survives seven other pages in three frames; LRU loses it.
 */
static void test_sieve_hand(void)
{
	uint64_t faults;
	struct sim *s = run_string("sieve", 3, "1 2 3 1 4 5 1 6 7 8 9", &faults);

	CU_ASSERT_EQUAL(faults, 9);
	CU_ASSERT(resident(s, 1) && resident(s, 8) && resident(s, 9));
	sim_destroy(s);
	s = run_string("lru", 3, "1 2 3 1 4 5 1 6 7 8 9", &faults);
	CU_ASSERT(!resident(s, 1));
	sim_destroy(s);
}

/* The loop LRU cannot hold at all: the scan-resistant policies keep most
 * of it, the adaptive ones at least some. */
static void test_loops_beat_lru(void)
{
	static const char *const keepers[] = { "lirs", "clockpro", "2q", "s3fifo", "sieve", "arc", "car" };
	char str[4096] = "";

	for (int lap = 0; lap < 20; lap++)
		for (int pg = 0; pg < 21; pg++)
			snprintf(str + strlen(str), sizeof(str) - strlen(str), "%d ", pg);
	for (size_t i = 0; i < sizeof(keepers) / sizeof(keepers[0]); i++) {
		uint64_t faults;

		sim_destroy(run_string(keepers[i], 20, str, &faults));
		if (faults >= 420)
			printf("\n  %s: %llu faults on a 21-page loop in 20 frames\n", keepers[i],
			       (unsigned long long)faults);
		CU_ASSERT(faults < 420);
		if (!strcmp(keepers[i], "lirs") || !strcmp(keepers[i], "clockpro"))
			CU_ASSERT(faults < 420 / 2);
	}
}

/* ---- Properties --------------------------------------------------------- */

static void test_invariants(void)
{
	struct trace *t = malloc(sizeof(*t));

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (size_t i = 0; i < NPOLICIES; i++) {
		for (enum shape shape = 0; shape < NSHAPES; shape++) {
			for (uint32_t c = 1; c <= 33; c += 8) {
				struct sim *s;
				const struct pager_stats *st;

				gen_trace(t, shape, c, 11);
				s = rig_sim(policies_b[i], c, POLICY_PARAMS_DEFAULT, false, MAXPAGE);
				st = &s->pager->stats;
				CU_ASSERT_EQUAL(sim_replay(s, t->refs, NULL, t->n), 0);
				CU_ASSERT(st->resident_max <= c);
				CU_ASSERT(st->writebacks <= st->evictions);
				CU_ASSERT(st->faults >= t->distinct);
				CU_ASSERT(st->faults <= t->n);
				/* Every page that came in is resident or was evicted. */
				CU_ASSERT_EQUAL(st->faults, st->evictions + st->resident);
				sim_destroy(s);

				/* Room for every page: only first touches fault. */
				s = rig_sim(policies_b[i], t->distinct, POLICY_PARAMS_DEFAULT, false, MAXPAGE);
				st = &s->pager->stats;
				CU_ASSERT_EQUAL(sim_replay(s, t->refs, NULL, t->n), 0);
				CU_ASSERT_EQUAL(st->faults, t->distinct);
				CU_ASSERT_EQUAL(st->evictions, 0);
				CU_ASSERT_EQUAL(st->writebacks, 0);
				sim_destroy(s);
			}
		}
	}
	free(t);
}

/* Pinning takes frames off a policy's lists at arbitrary moments (remove)
 * and unpinning gives them back (insert): pinned pages stay put, the rest
 * keeps being paged in whatever frames are left. */
static void test_pinned_never_evicted(void)
{
	struct trace *t = malloc(sizeof(*t));

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (size_t i = 0; i < NPOLICIES; i++) {
		for (uint64_t seed = 1; seed <= 4; seed++) {
			struct test_rng r = { seed };
			vpn_t pinned[4];
			frame_t where[4];
			uint32_t npinned = 0, c = 8;
			struct sim *s;

			gen_trace(t, (enum shape)(seed % NSHAPES), c, seed);
			s = rig_sim(policies_b[i], c, POLICY_PARAMS_DEFAULT, false, MAXPAGE);
			for (size_t k = 0; k < t->n; k++) {
				if (test_rng_below(&r, 50) == 0) {
					if (npinned < 4 && test_rng_below(&r, 2)) {
						vpn_t v = t->page[test_rng_below(&r, (uint32_t)t->n)];
						frame_t f = pager_pin(s->pager, v);

						CU_ASSERT_NOT_EQUAL_FATAL(f, NO_FRAME);
						pinned[npinned] = v;
						where[npinned++] = f;
					} else if (npinned) {
						pager_unpin(s->pager, pinned[--npinned]);
					}
				}
				CU_ASSERT_EQUAL_FATAL(sim_replay(s, &t->refs[k], NULL, 1), 0);
				for (uint32_t j = 0; j < npinned; j++)
					CU_ASSERT_EQUAL(pager_lookup(s->pager, pinned[j]), where[j]);
				CU_ASSERT(s->pager->stats.resident <= c);
			}
			while (npinned)
				pager_unpin(s->pager, pinned[--npinned]);
			CU_ASSERT_EQUAL(sim_replay(s, t->refs, NULL, t->n), 0);
			sim_destroy(s);
		}
	}
	free(t);
}

/* With one frame left unpinned every fault goes through it; with none the
 * fault fails cleanly, naming the reason. */
static void test_all_pinned(void)
{
	for (size_t i = 0; i < NPOLICIES; i++) {
		struct sim *s = rig_sim(policies_b[i], 4, POLICY_PARAMS_DEFAULT, false, 64);
		vref_t refs[] = { VREF(10, 0), VREF(11, 1), VREF(10, 0), VREF(12, 0), VREF(13, 1) };

		for (vpn_t v = 0; v < 3; v++)
			CU_ASSERT_NOT_EQUAL(pager_pin(s->pager, v), NO_FRAME);
		CU_ASSERT_EQUAL(sim_replay(s, refs, NULL, 5), 0);
		CU_ASSERT_EQUAL(s->pager->stats.faults, 3 + 5);
		CU_ASSERT(resident(s, 13));
		CU_ASSERT_NOT_EQUAL(pager_pin(s->pager, 13), NO_FRAME);
		CU_ASSERT_EQUAL(pager_fault(s->pager, 20, ACCESS_READ), NO_FRAME);
		CU_ASSERT_PTR_NOT_NULL(strstr(s->pager->err, "pinned"));
		pager_unpin(s->pager, 2);
		CU_ASSERT_NOT_EQUAL(pager_fault(s->pager, 20, ACCESS_READ), NO_FRAME);
		CU_ASSERT(!resident(s, 2));
		sim_destroy(s);
	}
}

/* The page table grows under a running policy: per-page history must
 * follow (the simulator renames pages densely as a trace reveals them). */
static void test_grow_midway(void)
{
	for (size_t i = 0; i < NPOLICIES; i++) {
		struct sim *s = rig_sim(policies_b[i], 16, POLICY_PARAMS_DEFAULT, false, 1);
		struct test_rng r = { 42 };
		uint32_t top = 1;

		for (int k = 0; k < 20000; k++) {
			vref_t ref;

			if (test_rng_below(&r, 8) == 0 && top < 100000)
				top += 1 + test_rng_below(&r, 50);
			ref = VREF(test_rng_below(&r, 3) ? test_rng_below(&r, 40 < top ? 40 : top)
						    : test_rng_below(&r, top), 0);
			CU_ASSERT_EQUAL_FATAL(pager_grow(s->pager, VREF_VPN(ref) + 1), 0);
			CU_ASSERT_EQUAL_FATAL(sim_replay(s, &ref, NULL, 1), 0);
		}
		CU_ASSERT(s->pager->stats.resident <= 16);
		CU_ASSERT_EQUAL(s->pager->stats.faults,
				s->pager->stats.evictions + s->pager->stats.resident);
		sim_destroy(s);
	}
}

static CU_TestInfo policies_b_tests[] = {
	{ "arc matches the paper's pseudocode: hits, write-backs, growing", test_arc_model },
	{ "car matches the paper's pseudocode: hits, write-backs, growing", test_car_model },
	{ "2q matches the paper's pseudocode: hits, write-backs, growing", test_2q_model },
	{ "lirs matches the paper's definition: hits, write-backs, growing", test_lirs_model },
	{ "clockpro matches the paper's hands: hits, write-backs, growing", test_clockpro_model },
	{ "s3fifo matches Algorithm 1: hits, write-backs, growing", test_s3fifo_model },
	{ "sieve matches the paper's pseudocode: hits, write-backs, growing", test_sieve_model },
	{ "arc: ghost hits move p, and p picks the victim", test_arc_ghost_hits_move_p },
	{ "car: referenced pages move to T2, B1 hits adapt", test_car_clocks },
	{ "2q: A1out hits reach Am, bursts in A1in do not", test_2q_ghost_promotes },
	{ "lirs: an 11-page loop in 10 frames faults 29 times, LRU 110", test_lirs_loop },
	{ "clockpro: test periods, hot and cold, worked by hand", test_clockpro_small },
	{ "s3fifo: one-time pages never reach M", test_s3fifo_one_hit_wonders },
	{ "sieve: the hand stays where it stopped", test_sieve_hand },
	{ "loops a little larger than memory: fewer faults than LRU", test_loops_beat_lru },
	{ "invariants: resident <= frames, write-backs <= evictions, ...", test_invariants },
	{ "pinned pages are never evicted, pinning at any moment", test_pinned_never_evicted },
	{ "all frames pinned: the fault fails with a reason", test_all_pinned },
	{ "per-page history follows a growing page table", test_grow_midway },
	CU_TEST_INFO_NULL,
};
TEST_SUITE("policies-b", policies_b_tests);
