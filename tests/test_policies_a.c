// SPDX-License-Identifier: MIT
/*
 * Replacement policies, part A: fifo, lru, clock, nru, aging, lfu, random,
 * wsclock, ws, opt.
 *
 * Each policy is run through the simulator (sim_replay) and checked
 *  - on the textbook strings, against the published counts;
 *  - against a model written here as plainly as possible (arrays and linear
 *    scans over frames, OPT by looking ahead in the trace, WS by its
 *    definition) on many seeded random traces, comparing faults and
 *    write-backs exactly;
 *  - for properties that hold on any trace (OPT is a lower bound, LRU and
 *    OPT are stack algorithms, ...);
 *  - with pinned pages, which no policy may evict.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "sim_rig.h"
#include "test.h"

/* The policies of this suite, fifo included as the model one. */
static const char *const all_policies[] = {
	"fifo", "lru", "clock", "nru", "aging", "lfu", "random", "wsclock", "ws", "opt",
};
#define NPOLICIES (sizeof(all_policies) / sizeof(all_policies[0]))

/* ---- Running a policy through the simulator ---------------------------- */

struct result {
	uint64_t faults, writebacks, evictions;
	uint64_t resident_max, resident_sum;
};

static uint32_t *next_uses(const vref_t *refs, size_t n, uint32_t npages)
{
	uint32_t *nu = malloc(sizeof(*nu) * (n ? n : 1));

	CU_ASSERT_PTR_NOT_NULL_FATAL(nu);
	CU_ASSERT_EQUAL_FATAL(sim_next_use(refs, n, npages, nu), 0);
	return nu;
}

/* Replay refs on a page table of npages, or, if grow, on one that starts
 * at a page and grows to each page as it comes (the simulator's case). */
static struct result replay(const char *policy, uint32_t frames, struct policy_params params,
			    const vref_t *refs, size_t n, uint32_t npages, bool grow)
{
	struct sim *s = rig_sim(policy, frames, params, true, grow ? 1 : npages);
	uint32_t *nu = next_uses(refs, n, npages);
	const struct pager_stats *st = &s->pager->stats;
	struct result r;

	for (size_t i = 0, step = grow ? 1 : n; i < n; i += step) {
		CU_ASSERT_EQUAL_FATAL(pager_grow(s->pager, VREF_VPN(refs[i]) + 1), 0);
		if (sim_replay(s, &refs[i], &nu[i], step) != 0) {
			printf("\n  %s, %u frames: %s\n", policy, frames, s->pager->err);
			break;
		}
	}
	CU_ASSERT_EQUAL(st->refs, n);
	r = (struct result){
		.faults = st->faults, .writebacks = st->writebacks, .evictions = st->evictions,
		.resident_max = st->resident_max, .resident_sum = st->resident_sum,
	};
	free(nu);
	sim_destroy(s);
	return r;
}

static struct result run_with(const char *policy, uint32_t frames, struct policy_params params,
			      const vref_t *refs, size_t n, uint32_t npages)
{
	return replay(policy, frames, params, refs, n, npages, false);
}

static struct result run(const char *policy, uint32_t frames, const vref_t *refs, size_t n,
			 uint32_t npages)
{
	return run_with(policy, frames, POLICY_PARAMS_DEFAULT, refs, n, npages);
}

static uint64_t faults_on(const char *policy, uint32_t frames, const char *str)
{
	vref_t refs[64];
	uint32_t npages;
	size_t n = rig_parse_refs(str, refs, 64, &npages);

	return run(policy, frames, refs, n, npages).faults;
}

/* ---- Textbook strings --------------------------------------------------- */

static const char belady[] = "1 2 3 4 1 2 5 1 2 3 4 5";
static const char textbook20[] = "7 0 1 2 0 3 0 4 2 3 0 3 2 1 2 0 1 7 0 1";

static void test_belady_anomaly(void)
{
	/* FIFO is not a stack algorithm: one more frame, one more fault. */
	CU_ASSERT_EQUAL(faults_on("fifo", 3, belady), 9);
	CU_ASSERT_EQUAL(faults_on("fifo", 4, belady), 10);
	CU_ASSERT_EQUAL(faults_on("lru", 3, belady), 10);
	CU_ASSERT_EQUAL(faults_on("lru", 4, belady), 8);
	CU_ASSERT_EQUAL(faults_on("opt", 3, belady), 7);
	CU_ASSERT_EQUAL(faults_on("opt", 4, belady), 6);
}

static void test_textbook_string(void)
{
	CU_ASSERT_EQUAL(faults_on("fifo", 3, textbook20), 15);
	CU_ASSERT_EQUAL(faults_on("lru", 3, textbook20), 12);
	CU_ASSERT_EQUAL(faults_on("opt", 3, textbook20), 9);
	CU_ASSERT_EQUAL(faults_on("clock", 3, textbook20), 14);
}

/* ---- Random traces ------------------------------------------------------ */

enum shape { UNIFORM, LOOPS, MIXED, NSHAPES };
static const char *const shape_name[] = { "uniform", "loops", "mixed" };

struct trace {
	vref_t refs[3000];
	size_t n;
	uint32_t npages;
	uint32_t distinct;
};

/*
 * A reference string of one of three shapes, reads and writes mixed:
 * uniform over a few dozen pages; loops of varying length that shift now
 * and then (the case LRU handles worst); a hot set with cold references.
 */
static void gen_trace(struct trace *t, enum shape shape, uint64_t seed)
{
	struct test_rng r = { seed * 0x2545f4914f6cdd1dull + shape };
	uint32_t pages = 2 + test_rng_below(&r, 40);
	uint32_t write_pct = (uint32_t[]){ 0, 10, 30, 100 }[test_rng_below(&r, 4)];
	uint32_t loop = 2 + test_rng_below(&r, 20), base = 0, hot = 1 + test_rng_below(&r, 8);
	bool seen[64] = { false };

	t->n = 500 + test_rng_below(&r, 2500);
	t->npages = 64;
	t->distinct = 0;
	for (size_t i = 0; i < t->n; i++) {
		vpn_t v;

		switch (shape) {
		case UNIFORM:
			v = test_rng_below(&r, pages);
			break;
		case LOOPS:
			if (test_rng_below(&r, 200) == 0) {
				loop = 2 + test_rng_below(&r, 20);
				base = test_rng_below(&r, 40);
			}
			v = test_rng_below(&r, 50) == 0 ? test_rng_below(&r, 64) : base + (uint32_t)(i % loop);
			break;
		default:
			v = test_rng_below(&r, 5) ? test_rng_below(&r, hot) : test_rng_below(&r, pages);
			break;
		}
		t->refs[i] = VREF(v, test_rng_below(&r, 100) < write_pct);
		if (!seen[v]) {
			seen[v] = true;
			t->distinct++;
		}
	}
}

/* ---- The plain models ---------------------------------------------------- */

#define MAXF 64

/*
 * One array slot per frame, filled 0, 1, 2, ... as the pager hands out its
 * free frames, the victim's slot refilled in place. Bits are per frame and
 * set on every reference, as the simulated MMU sets them.
 */
struct model {
	const char *policy;
	uint32_t nframes, used;
	struct policy_params params;
	const struct trace *t;
	size_t now;              /* the current reference's time, 1-based */
	int page[MAXF];
	int frame_of[64];
	bool referenced[MAXF], dirty[MAXF], fresh[MAXF], scheduled[MAXF];
	uint64_t loaded[MAXF], last[MAXF], count[MAXF], counter[MAXF];
	uint64_t seen[MAXF];     /* wsclock: last use as the hand saw it */
	uint32_t hand;
	uint64_t faults, writebacks;
	uint64_t rng[4];         /* random: xoshiro256** state */
	uint32_t held[MAXF];     /* random: the frames, in the order it draws from */
};

static uint32_t model_fifo(struct model *m)
{
	uint32_t v = 0;

	for (uint32_t f = 1; f < m->nframes; f++)
		if (m->loaded[f] < m->loaded[v])
			v = f;
	return v;
}

static uint32_t model_lru(struct model *m)
{
	uint32_t v = 0;

	for (uint32_t f = 1; f < m->nframes; f++)
		if (m->last[f] < m->last[v])
			v = f;
	return v;
}

static uint32_t model_lfu(struct model *m)
{
	uint32_t v = 0;

	for (uint32_t f = 1; f < m->nframes; f++)
		if (m->count[f] < m->count[v] ||
		    (m->count[f] == m->count[v] && m->last[f] < m->last[v]))
			v = f;
	return v;
}

static uint32_t model_clock(struct model *m)
{
	while (m->referenced[m->hand]) {
		m->referenced[m->hand] = false;
		m->hand = (m->hand + 1) % m->nframes;
	}
	return m->hand;
}

/* Look ahead for each resident page's next reference; furthest wins, never
 * used again beats everything, ties to the lowest frame. */
static uint32_t model_opt(struct model *m)
{
	uint32_t v = 0;
	size_t best = 0;

	for (uint32_t f = 0; f < m->nframes; f++) {
		size_t next = SIZE_MAX;

		for (size_t i = m->now; i < m->t->n; i++) {
			if ((int)VREF_VPN(m->t->refs[i]) == m->page[f]) {
				next = i;
				break;
			}
		}
		if (f == 0 || next > best) {
			best = next;
			v = f;
		}
	}
	return v;
}

/* The first frame of the lowest (referenced, dirty) class, from the hand. */
static uint32_t model_nru(struct model *m)
{
	uint32_t v = 0;
	int best = 4;

	for (uint32_t i = 0; i < m->nframes; i++) {
		uint32_t f = (m->hand + i) % m->nframes;
		int class = 2 * m->referenced[f] + m->dirty[f];

		if (class < best) {
			best = class;
			v = f;
		}
	}
	return v;
}

static uint32_t model_aging(struct model *m)
{
	uint32_t v = 0;

	for (uint32_t f = 1; f < m->nframes; f++)
		if (m->counter[f] < m->counter[v] ||
		    (m->counter[f] == m->counter[v] && m->loaded[f] < m->loaded[v]))
			v = f;
	return v;
}

static uint32_t model_wsclock(struct model *m)
{
	uint32_t first_scheduled = UINT32_MAX, oldest = UINT32_MAX;

	for (uint32_t i = 0; i < m->nframes; i++) {
		uint32_t f = (m->hand + i) % m->nframes;

		if (m->referenced[f]) {
			m->referenced[f] = false;
			m->seen[f] = m->now;
			m->scheduled[f] = false;
		} else if (m->now - m->seen[f] > m->params.window) {
			if (m->scheduled[f] || !m->dirty[f])
				return f;
			m->scheduled[f] = true;
			if (first_scheduled == UINT32_MAX)
				first_scheduled = f;
		}
		if (oldest == UINT32_MAX || m->seen[f] < m->seen[oldest])
			oldest = f;
	}
	return first_scheduled != UINT32_MAX ? first_scheduled : oldest;
}

/*
 * Random, from its definition (docs/policies.md): a uniformly random page
 * among the resident ones, drawn with xoshiro256** (Blackman and Vigna,
 * seeded through splitmix64) and Lemire's multiply-and-shift with
 * rejection; the frames are kept in an array where a victim's place goes to
 * the last one, and a page brought in is appended.
 */
static uint64_t model_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t model_xoshiro(uint64_t s[4])
{
	uint64_t out = model_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = model_rotl(s[3], 45);
	return out;
}

static void model_seed(uint64_t s[4], uint64_t seed)
{
	for (int i = 0; i < 4; i++) {
		uint64_t z = (seed += 0x9e3779b97f4a7c15ull);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		s[i] = z ^ (z >> 31);
	}
}

static uint32_t model_below(uint64_t s[4], uint32_t n)
{
	uint64_t x = (model_xoshiro(s) >> 32) * n;

	if ((uint32_t)x < n)
		while ((uint32_t)x < (uint32_t)-n % n)
			x = (model_xoshiro(s) >> 32) * n;
	return (uint32_t)(x >> 32);
}

static uint32_t model_random(struct model *m)
{
	uint32_t i = model_below(m->rng, m->used), f = m->held[i];

	m->held[i] = m->held[m->used - 1];
	m->held[m->used - 1] = f; /* the page brought in goes last */
	return f;
}

static uint32_t model_victim(struct model *m)
{
	const char *p = m->policy;

	if (!strcmp(p, "fifo"))
		return model_fifo(m);
	if (!strcmp(p, "lru"))
		return model_lru(m);
	if (!strcmp(p, "lfu"))
		return model_lfu(m);
	if (!strcmp(p, "clock"))
		return model_clock(m);
	if (!strcmp(p, "opt"))
		return model_opt(m);
	if (!strcmp(p, "nru"))
		return model_nru(m);
	if (!strcmp(p, "aging"))
		return model_aging(m);
	if (!strcmp(p, "random"))
		return model_random(m);
	return model_wsclock(m);
}

static void model_tick(struct model *m)
{
	uint64_t top = (uint64_t)1 << (m->params.aging_bits - 1);

	for (uint32_t f = 0; f < m->used; f++) {
		if (m->fresh[f])
			m->fresh[f] = false;
		else
			m->counter[f] = (m->counter[f] >> 1) | (m->referenced[f] ? top : 0);
		m->referenced[f] = false;
	}
}

static struct result model_run(const char *policy, uint32_t frames, struct policy_params params,
			       const struct trace *t)
{
	struct model *m = calloc(1, sizeof(*m));
	bool ticks = !strcmp(policy, "nru") || !strcmp(policy, "aging");
	struct result r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	m->policy = policy;
	m->nframes = frames;
	m->params = params;
	m->t = t;
	for (int v = 0; v < 64; v++)
		m->frame_of[v] = -1;
	model_seed(m->rng, params.seed);
	for (size_t i = 0; i < t->n; i++) {
		int v = (int)VREF_VPN(t->refs[i]);
		bool write = t->refs[i] & VREF_WRITE;
		int f = m->frame_of[v];

		m->now = i + 1;
		if (f < 0) {
			m->faults++;
			if (m->used < m->nframes) {
				f = (int)m->used++;
				m->held[f] = (uint32_t)f;
			} else {
				f = (int)model_victim(m);
				m->hand = ((uint32_t)f + 1) % m->nframes;
				if (m->dirty[f])
					m->writebacks++;
				m->frame_of[m->page[f]] = -1;
			}
			m->page[f] = v;
			m->frame_of[v] = f;
			m->dirty[f] = m->scheduled[f] = false;
			m->loaded[f] = m->seen[f] = m->now;
			m->count[f] = 0;
			m->counter[f] = (uint64_t)1 << (params.aging_bits - 1);
			m->fresh[f] = true;
		}
		m->referenced[f] = true;
		m->dirty[f] |= write;
		m->last[f] = m->now;
		m->count[f]++;
		if (ticks && params.tick && m->now % params.tick == 0)
			model_tick(m);
	}
	r = (struct result){ .faults = m->faults, .writebacks = m->writebacks };
	free(m);
	return r;
}

/*
 * Denning's working set as defined: after reference t the resident pages are
 * those referenced at t - tau + 1 .. t; a fault that finds all frames taken
 * first evicts the least recently used page. resident_max is the largest
 * resident set after a reference: max |W(t, tau)| when it fits in frames.
 */
static struct result model_ws(uint32_t frames, uint64_t tau, const struct trace *t)
{
	uint64_t last[64] = { 0 }; /* 0: not resident */
	bool dirty[64] = { false };
	uint32_t resident = 0;
	struct result r = { 0 };

	for (size_t i = 0; i < t->n; i++) {
		uint64_t now = i + 1;
		vpn_t v = VREF_VPN(t->refs[i]);

		if (!last[v]) {
			r.faults++;
			if (resident == frames) {
				vpn_t lru = 0;

				for (vpn_t u = 0; u < 64; u++)
					if (last[u] && (!last[lru] || last[u] < last[lru]))
						lru = u;
				r.evictions++;
				r.writebacks += dirty[lru];
				last[lru] = 0;
				resident--;
			}
			resident++;
			dirty[v] = false;
		}
		last[v] = now;
		dirty[v] |= (t->refs[i] & VREF_WRITE) != 0;
		for (vpn_t u = 0; u < 64; u++) {
			if (last[u] && now >= tau && last[u] <= now - tau) {
				r.evictions++;
				r.writebacks += dirty[u];
				last[u] = 0;
				resident--;
			}
		}
		if (resident > r.resident_max)
			r.resident_max = resident;
		r.resident_sum += resident;
	}
	return r;
}

/* ---- Policies against their models -------------------------------------- */

static bool same(const char *what, const char *policy, uint32_t frames, enum shape shape,
		 uint64_t seed, uint64_t got, uint64_t want)
{
	if (got != want)
		printf("\n  %s %s, %u frames, %s trace seed %llu: %llu, model says %llu\n",
		       policy, what, frames, shape_name[shape], (unsigned long long)seed,
		       (unsigned long long)got, (unsigned long long)want);
	return got == want;
}

/* Run policy and model on 40 traces of each shape for a few frame counts
 * and parameter sets; every count must agree. */
static void against_model(const char *policy, const struct policy_params *params, size_t nparams)
{
	static const uint32_t frame_counts[] = { 1, 2, 3, 5, 8, 13, 30 };
	struct trace *t = malloc(sizeof(*t));
	unsigned mismatches = 0, runs = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (enum shape shape = 0; shape < NSHAPES; shape++) {
		for (uint64_t seed = 1; seed <= 40; seed++) {
			const struct policy_params *pp = &params[seed % nparams];

			gen_trace(t, shape, seed);
			for (size_t k = 0; k < sizeof(frame_counts) / sizeof(frame_counts[0]); k++) {
				uint32_t fr = frame_counts[k];
				struct result got = run_with(policy, fr, *pp, t->refs, t->n, t->npages);
				struct result want = model_run(policy, fr, *pp, t);
				struct result grown = replay(policy, fr, *pp, t->refs, t->n, t->npages,
							     true);

				runs++;
				if (!same("faults", policy, fr, shape, seed, got.faults, want.faults) ||
				    !same("write-backs", policy, fr, shape, seed,
					  got.writebacks, want.writebacks) ||
				    !same("faults (growing page table)", policy, fr, shape, seed,
					  grown.faults, want.faults) ||
				    !same("write-backs (growing page table)", policy, fr, shape, seed,
					  grown.writebacks, want.writebacks))
					mismatches++;
			}
		}
	}
	CU_ASSERT_EQUAL(mismatches, 0);
	CU_ASSERT_EQUAL(runs, 3 * 40 * 7);
	free(t);
}

static void one_param_set(const char *policy)
{
	struct policy_params p = POLICY_PARAMS_DEFAULT;

	against_model(policy, &p, 1);
}

static void test_fifo_model(void) { one_param_set("fifo"); }
static void test_lru_model(void) { one_param_set("lru"); }
static void test_clock_model(void) { one_param_set("clock"); }
static void test_lfu_model(void) { one_param_set("lfu"); }
static void test_opt_model(void) { one_param_set("opt"); }

/* The model's generator is xoshiro256**: its reference outputs from the
 * state {1, 2, 3, 4}. Then Random against the model, several seeds. */
static void test_random_model(void)
{
	uint64_t s[4] = { 1, 2, 3, 4 };
	struct policy_params p[4];

	CU_ASSERT_EQUAL(model_xoshiro(s), 11520);
	CU_ASSERT_EQUAL(model_xoshiro(s), 0);
	CU_ASSERT_EQUAL(model_xoshiro(s), 1509978240);
	CU_ASSERT_EQUAL(model_xoshiro(s), 1215971899390074240ull);
	for (int i = 0; i < 4; i++) {
		p[i] = POLICY_PARAMS_DEFAULT;
		p[i].seed = (uint64_t[]){ 1, 42, 0, 0xdeadbeefcafef00dull }[i];
	}
	against_model("random", p, 4);
}

static void test_nru_model(void)
{
	struct policy_params p[4];

	for (int i = 0; i < 4; i++)
		p[i] = POLICY_PARAMS_DEFAULT;
	p[0].tick = 1;
	p[1].tick = 7;
	p[2].tick = 50;
	p[3].tick = 0; /* never: the referenced bits stay set */
	against_model("nru", p, 4);
}

static void test_aging_model(void)
{
	static const struct { unsigned bits; uint64_t tick; } v[] = {
		{ 1, 3 }, { 2, 1 }, { 3, 10 }, { 8, 5 }, { 8, 40 }, { 64, 2 }, { 64, 17 },
	};
	struct policy_params p[7];

	for (int i = 0; i < 7; i++) {
		p[i] = POLICY_PARAMS_DEFAULT;
		p[i].aging_bits = v[i].bits;
		p[i].tick = v[i].tick;
	}
	against_model("aging", p, 7);
}

static void test_wsclock_model(void)
{
	static const uint64_t windows[] = { 0, 1, 5, 20, 100, 10000 };
	struct policy_params p[6];

	for (int i = 0; i < 6; i++) {
		p[i] = POLICY_PARAMS_DEFAULT;
		p[i].window = windows[i];
	}
	against_model("wsclock", p, 6);
}

static void test_ws_model(void)
{
	static const uint64_t windows[] = { 1, 2, 5, 13, 40, 300 };
	static const uint32_t frame_counts[] = { 1, 3, 8, 64 };
	struct trace *t = malloc(sizeof(*t));
	unsigned mismatches = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (enum shape shape = 0; shape < NSHAPES; shape++) {
		for (uint64_t seed = 1; seed <= 30; seed++) {
			gen_trace(t, shape, seed);
			for (size_t w = 0; w < 6; w++) {
				for (size_t k = 0; k < 4; k++) {
					struct policy_params pp = POLICY_PARAMS_DEFAULT;
					uint32_t fr = frame_counts[k];
					struct result got, want;

					pp.window = windows[w];
					got = run_with("ws", fr, pp, t->refs, t->n, t->npages);
					want = model_ws(fr, windows[w], t);
					if (!same("faults", "ws", fr, shape, seed, got.faults, want.faults) ||
					    !same("write-backs", "ws", fr, shape, seed,
						  got.writebacks, want.writebacks) ||
					    !same("evictions", "ws", fr, shape, seed,
						  got.evictions, want.evictions) ||
					    !same("resident sum", "ws", fr, shape, seed,
						  got.resident_sum, want.resident_sum) ||
					    !same("resident max", "ws", fr, shape, seed,
						  got.resident_max, want.resident_max))
						mismatches++;
				}
			}
		}
	}
	CU_ASSERT_EQUAL(mismatches, 0);
	free(t);
}

/* With frames to spare, a reference faults exactly when the page's previous
 * reference is missing or more than tau references back. */
static void test_ws_definition(void)
{
	struct trace *t = malloc(sizeof(*t));

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (uint64_t seed = 1; seed <= 20; seed++) {
		for (uint64_t tau = 1; tau <= 30; tau += 7) {
			struct policy_params pp = POLICY_PARAMS_DEFAULT;
			uint64_t prev[64] = { 0 }, want = 0;

			gen_trace(t, (enum shape)(seed % NSHAPES), seed);
			for (size_t i = 0; i < t->n; i++) {
				vpn_t v = VREF_VPN(t->refs[i]);

				if (!prev[v] || i + 1 - prev[v] > tau)
					want++;
				prev[v] = i + 1;
			}
			pp.window = tau;
			CU_ASSERT_EQUAL(run_with("ws", 64, pp, t->refs, t->n, t->npages).faults, want);
		}
	}
	free(t);
}

static void test_ws_bad_window(void)
{
	struct policy_params pp = POLICY_PARAMS_DEFAULT;
	char err[200];
	struct sim *s;

	pp.window = 0;
	s = sim_create(&(struct sim_config){ .policy = policy_find("ws"), .nframes = 4,
					     .params = pp }, err, sizeof(err));
	CU_ASSERT_PTR_NULL(s);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "invalid parameters"));
	sim_destroy(s);
}

static void test_aging_bad_bits(void)
{
	static const unsigned bad[] = { 0, 65, 1000 };

	for (int i = 0; i < 3; i++) {
		struct policy_params pp = POLICY_PARAMS_DEFAULT;
		char err[200];
		struct sim *s;

		pp.aging_bits = bad[i];
		s = sim_create(&(struct sim_config){ .policy = policy_find("aging"), .nframes = 4,
						     .params = pp }, err, sizeof(err));
		CU_ASSERT_PTR_NULL(s);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "invalid parameters"));
		sim_destroy(s);
	}
}

/* ---- Random and NRU: reproducible --------------------------------------- */

/*
 * A seed gives the same run on every machine and in every process: the
 * counts are pinned here (running twice in one process would compare the
 * code with itself). Uniform trace seed 3 (no writes), 5 frames.
 */
static void test_random_reproducible(void)
{
	static const uint64_t faults[8] = { 804, 801, 788, 800, 801, 801, 792, 817 };
	struct trace *t = malloc(sizeof(*t));
	unsigned differing = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	gen_trace(t, UNIFORM, 3);
	for (uint64_t seed = 1; seed <= 8; seed++) {
		struct policy_params pp = POLICY_PARAMS_DEFAULT;
		struct result a, c;

		pp.seed = seed;
		a = run_with("random", 5, pp, t->refs, t->n, t->npages);
		CU_ASSERT_EQUAL(a.faults, faults[seed - 1]);
		CU_ASSERT_EQUAL(a.writebacks, 0);
		pp.seed = seed + 1000;
		c = run_with("random", 5, pp, t->refs, t->n, t->npages);
		differing += a.faults != c.faults;
	}
	/* The seed must matter: on a uniform trace over more pages than
	 * frames, eight pairs of streams do not all tie. */
	CU_ASSERT(differing > 0);
	free(t);
}

/* The first victim among frames 0..n-1 is uniform: each frame is chosen
 * about equally often over many seeds. */
static void test_random_spreads(void)
{
	vref_t refs[5];
	unsigned hist[4] = { 0 };

	for (vpn_t v = 0; v < 5; v++)
		refs[v] = VREF(v, 0);
	for (uint64_t seed = 0; seed < 4000; seed++) {
		struct policy_params pp = POLICY_PARAMS_DEFAULT;
		struct sim *s;

		pp.seed = seed;
		s = rig_sim("random", 4, pp, true, 8);
		CU_ASSERT_EQUAL_FATAL(sim_replay(s, refs, NULL, 5), 0);
		/* Page 4 took the victim's frame. */
		hist[pager_lookup(s->pager, 4)]++;
		sim_destroy(s);
	}
	for (int f = 0; f < 4; f++)
		CU_ASSERT(hist[f] > 850 && hist[f] < 1150); /* 1000 each, 5 sigma ~ 140 */
}

/* NRU's counts with a tick of 10 on five mixed traces, 6 frames, pinned. */
static void test_nru_reproducible(void)
{
	static const uint64_t want[5][2] = {
		{ 80, 7 }, { 1101, 1095 }, { 227, 20 }, { 450, 0 }, { 400, 134 },
	};
	struct trace *t = malloc(sizeof(*t));

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (uint64_t seed = 1; seed <= 5; seed++) {
		struct policy_params pp = POLICY_PARAMS_DEFAULT;
		struct result a;

		gen_trace(t, MIXED, seed);
		pp.tick = 10;
		a = run_with("nru", 6, pp, t->refs, t->n, t->npages);
		CU_ASSERT_EQUAL(a.faults, want[seed - 1][0]);
		CU_ASSERT_EQUAL(a.writebacks, want[seed - 1][1]);
	}
	free(t);
}

/* ---- Properties on random traces ---------------------------------------- */

static void test_opt_is_a_lower_bound(void)
{
	struct trace *t = malloc(sizeof(*t));

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (uint64_t seed = 1; seed <= 15; seed++) {
		for (enum shape shape = 0; shape < NSHAPES; shape++) {
			gen_trace(t, shape, seed);
			for (uint32_t fr = 1; fr <= 20; fr += 3) {
				uint64_t opt = run("opt", fr, t->refs, t->n, t->npages).faults;

				for (size_t i = 0; i < NPOLICIES; i++) {
					uint64_t f;

					/* ws's resident set is not fr frames. */
					if (!strcmp(all_policies[i], "ws"))
						continue;
					f = run(all_policies[i], fr, t->refs, t->n, t->npages).faults;
					if (f < opt)
						printf("\n  %s %llu < opt %llu at %u frames\n",
						       all_policies[i], (unsigned long long)f,
						       (unsigned long long)opt, fr);
					CU_ASSERT(f >= opt);
				}
			}
		}
	}
	free(t);
}

/* Stack algorithms: memory of k + 1 frames holds what k frames hold, so
 * more frames never cost a fault. */
static void test_stack_property(void)
{
	static const char *const stack_algorithms[] = { "lru", "opt" };
	struct trace *t = malloc(sizeof(*t));

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (uint64_t seed = 1; seed <= 10; seed++) {
		for (enum shape shape = 0; shape < NSHAPES; shape++) {
			gen_trace(t, shape, seed);
			for (int a = 0; a < 2; a++) {
				uint64_t prev = UINT64_MAX;

				for (uint32_t fr = 1; fr <= t->distinct + 1; fr++) {
					uint64_t f = run(stack_algorithms[a], fr, t->refs, t->n,
							 t->npages).faults;

					CU_ASSERT(f <= prev);
					prev = f;
				}
				CU_ASSERT_EQUAL(prev, t->distinct);
			}
		}
	}
	free(t);
}

static void test_invariants(void)
{
	struct trace *t = malloc(sizeof(*t));

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (uint64_t seed = 1; seed <= 10; seed++) {
		for (enum shape shape = 0; shape < NSHAPES; shape++) {
			gen_trace(t, shape, seed);
			for (size_t i = 0; i < NPOLICIES; i++) {
				struct policy_params pp = POLICY_PARAMS_DEFAULT;
				const char *pol = all_policies[i];
				struct result r;

				pp.tick = 13;
				pp.window = 25;
				for (uint32_t fr = 1; fr <= 24; fr += 5) {
					r = run_with(pol, fr, pp, t->refs, t->n, t->npages);
					CU_ASSERT(r.resident_max <= fr);
					CU_ASSERT(r.writebacks <= r.evictions);
					CU_ASSERT(r.faults >= t->distinct);
					CU_ASSERT(r.faults <= t->n);
					/* Every fault but those that found a free frame evicted. */
					CU_ASSERT(r.evictions <= r.faults);
					CU_ASSERT(r.resident_sum <= (uint64_t)fr * t->n);
				}
				/* Room for everything (and a window longer than the trace):
				 * only the first touches fault, nothing is evicted. */
				pp.window = 1u << 20;
				r = run_with(pol, 64, pp, t->refs, t->n, t->npages);
				CU_ASSERT_EQUAL(r.faults, t->distinct);
				CU_ASSERT_EQUAL(r.evictions, 0);
				CU_ASSERT_EQUAL(r.writebacks, 0);
				CU_ASSERT_EQUAL(r.resident_max, t->distinct);
			}
		}
	}
	free(t);
}

/* ---- Pinning ------------------------------------------------------------ */

/* Pinned pages stay in their frames however hard the rest is paged, their
 * own references included; unpinned, they are ordinary pages again. */
static void test_pinned_never_evicted(void)
{
	struct trace *t = malloc(sizeof(*t));

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (size_t i = 0; i < NPOLICIES; i++) {
		for (uint64_t seed = 1; seed <= 6; seed++) {
			struct policy_params pp = POLICY_PARAMS_DEFAULT;
			static const vpn_t pinned[] = { 1, 4, 9 };
			frame_t where[3];
			struct sim *s;
			uint32_t *nu;
			size_t half;

			pp.tick = 11;
			pp.window = 6;
			gen_trace(t, (enum shape)(seed % NSHAPES), seed);
			nu = next_uses(t->refs, t->n, t->npages);
			s = rig_sim(all_policies[i], 6, pp, true, t->npages);
			half = t->n / 2;
			CU_ASSERT_EQUAL_FATAL(sim_replay(s, t->refs, nu, half), 0);
			for (int k = 0; k < 3; k++) {
				where[k] = pager_pin(s->pager, pinned[k]);
				CU_ASSERT_NOT_EQUAL_FATAL(where[k], NO_FRAME);
			}
			/* The next-use times of the rest stay valid: the times
			 * count on from where the first half stopped. */
			CU_ASSERT_EQUAL_FATAL(sim_replay(s, t->refs + half, nu + half, t->n - half), 0);
			for (int k = 0; k < 3; k++)
				CU_ASSERT_EQUAL(pager_lookup(s->pager, pinned[k]), where[k]);
			CU_ASSERT(s->pager->stats.resident <= 6);
			for (int k = 0; k < 3; k++)
				pager_unpin(s->pager, pinned[k]);
			CU_ASSERT_EQUAL(sim_replay(s, t->refs, NULL, t->n), 0);
			CU_ASSERT(s->pager->stats.resident <= 6);
			free(nu);
			sim_destroy(s);
		}
	}
	free(t);
}

static void test_all_pinned(void)
{
	for (size_t i = 0; i < NPOLICIES; i++) {
		struct sim *s = rig_sim(all_policies[i], 3, POLICY_PARAMS_DEFAULT, true, 8);
		vref_t next = VREF(5, 0);
		frame_t f;

		for (vpn_t v = 0; v < 3; v++)
			CU_ASSERT_NOT_EQUAL(pager_pin(s->pager, v), NO_FRAME);
		CU_ASSERT_EQUAL(pager_fault(s->pager, 5, ACCESS_READ), NO_FRAME);
		CU_ASSERT_PTR_NOT_NULL(strstr(s->pager->err, "pinned"));
		CU_ASSERT_EQUAL(sim_replay(s, &next, NULL, 1), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(s->pager->err, "pinned"));
		/* One frame back: the fault goes through, into that frame. */
		pager_unpin(s->pager, 1);
		f = pager_fault(s->pager, 5, ACCESS_READ);
		CU_ASSERT_NOT_EQUAL(f, NO_FRAME);
		CU_ASSERT_EQUAL(pager_lookup(s->pager, 5), f);
		CU_ASSERT_EQUAL(pager_lookup(s->pager, 1), NO_FRAME);
		CU_ASSERT_NOT_EQUAL(pager_lookup(s->pager, 0), NO_FRAME);
		CU_ASSERT_NOT_EQUAL(pager_lookup(s->pager, 2), NO_FRAME);
		sim_destroy(s);
	}
}

static CU_TestInfo policies_a_tests[] = {
	{ "Belady's anomaly: FIFO 9/10, LRU 10/8, OPT 7/6", test_belady_anomaly },
	{ "20-reference string, 3 frames: FIFO 15 LRU 12 OPT 9 CLOCK 14", test_textbook_string },
	{ "fifo matches its model", test_fifo_model },
	{ "lru matches its model", test_lru_model },
	{ "clock matches its model", test_clock_model },
	{ "lfu matches its model", test_lfu_model },
	{ "opt matches look-ahead", test_opt_model },
	{ "random matches its model (xoshiro256**, pinned)", test_random_model },
	{ "nru matches its model", test_nru_model },
	{ "aging matches its model", test_aging_model },
	{ "wsclock matches its model", test_wsclock_model },
	{ "ws matches its model", test_ws_model },
	{ "ws faults by definition", test_ws_definition },
	{ "ws refuses a window of 0", test_ws_bad_window },
	{ "aging refuses widths outside 1..64", test_aging_bad_bits },
	{ "random: a seed gives pinned counts, and the seed matters", test_random_reproducible },
	{ "random chooses uniformly", test_random_spreads },
	{ "nru: pinned counts with a tick", test_nru_reproducible },
	{ "opt never faults more than any policy", test_opt_is_a_lower_bound },
	{ "lru and opt: more frames, no more faults", test_stack_property },
	{ "invariants: resident <= frames, write-backs <= evictions, ...", test_invariants },
	{ "pinned pages are never evicted", test_pinned_never_evicted },
	{ "all frames pinned: the fault fails, no hang", test_all_pinned },
	CU_TEST_INFO_NULL,
};
TEST_SUITE("policies-a", policies_a_tests);
