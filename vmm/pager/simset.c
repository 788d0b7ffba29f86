// SPDX-License-Identifier: MIT
/*
 * The set of simulated machines behind `pflab sim` and the QEMU plugin's
 * live mode (simset.h). Streaming: every machine sees each chunk before the
 * next one comes. With OPT (POLICY_NEEDS_FUTURE) the whole string is held
 * and replayed at the end, each reference with the time of its next use
 * (sim_next_use(), the future Belady's OPT reads). With jobs > 1, every
 * existing machine replays a chunk on the thread of its index mod jobs, and
 * the threads are joined before the next chunk is renamed.
 */
#include "simset.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "idmap.h"

#define CHUNK 65536 /* references renamed at a time: stays in cache */

/* One thread's share of a replay: machines t, t + nthreads, ... that exist. */
struct share {
	struct sim_set *set;
	const vref_t *refs;
	const uint32_t *next;  /* for the machines whose policy needs the future */
	size_t n;
	size_t t;
	bool started;          /* on a thread of its own (not the calling one) */
	pthread_t thread;
};

struct sim_set {
	struct sim_set_config cfg;
	struct idmap ids;
	uint32_t npages;     /* distinct pages seen so far */
	struct sim_run *runs;
	size_t nruns;
	bool needs_future;
	size_t npending;     /* runs not created yet */
	vref_t *held;        /* the references so far, while npending or needs_future */
	size_t nheld, held_cap;
	vref_t *chunk;       /* CHUNK renamed references */
	size_t nthreads;     /* min(jobs, machines), at least 1 */
	struct share *shares; /* nthreads */
	bool *failed;        /* per machine: its last replay failed */
	bool machine_failed;
	char err[256];
};

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static struct sim_config run_config(const struct sim_set *s, const struct sim_run *r)
{
	return (struct sim_config){
		.policy = r->policy,
		.nframes = r->frames,
		.params = s->cfg.params,
		.future_known = r->policy->flags & POLICY_NEEDS_FUTURE,
		.first_touch_zero = s->cfg.zero_fill,
		.pool = s->cfg.pool,
		.no_prefetch = s->cfg.no_prefetch,
	};
}

/* Every run starts pending; its configuration is checked now. */
static int check_runs(struct sim_set *s)
{
	const struct sim_set_config *c = &s->cfg;

	for (size_t i = 0; i < c->npolicies; i++) {
		s->needs_future |= c->policies[i]->flags & POLICY_NEEDS_FUTURE;
		for (size_t j = 0; j < c->nframes; j++) {
			struct sim_run *r = &s->runs[i * c->nframes + j];
			struct sim_config cfg;
			struct sim *probe;

			r->policy = c->policies[i];
			r->frames = c->frames[j];
			cfg = run_config(s, r);
			if (pool_config_check(&cfg.pool, cfg.nframes, s->err, sizeof(s->err)) != 0)
				return -1;
			cfg.nframes = sim_frames_needed(&cfg, 1);
			probe = sim_create(&cfg, s->err, sizeof(s->err));
			if (!probe)
				return -1;
			sim_destroy(probe);
			s->npending++;
		}
	}
	return 0;
}

struct sim_set *sim_set_create(const struct sim_set_config *cfg, char *err, size_t errlen)
{
	struct sim_set *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	s->nruns = cfg->npolicies * cfg->nframes;
	s->runs = calloc(s->nruns ? s->nruns : 1, sizeof(*s->runs));
	s->chunk = malloc(sizeof(*s->chunk) * CHUNK);
	s->nthreads = cfg->jobs < s->nruns ? cfg->jobs : s->nruns;
	if (!s->nthreads)
		s->nthreads = 1;
	s->shares = calloc(s->nthreads, sizeof(*s->shares));
	s->failed = calloc(s->nruns ? s->nruns : 1, sizeof(*s->failed));
	if (!s->runs || !s->chunk || !s->shares || !s->failed ||
	    (!cfg->dense && idmap_init(&s->ids) != 0)) {
		snprintf(err, errlen, "out of memory");
		cfg->dense ? (void)0 : idmap_fini(&s->ids);
		free(s->runs);
		free(s->chunk);
		free(s->shares);
		free(s->failed);
		free(s);
		return NULL;
	}
	if (check_runs(s) != 0) {
		snprintf(err, errlen, "%s", s->err);
		sim_set_destroy(s);
		return NULL;
	}
	return s;
}

void sim_set_destroy(struct sim_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nruns; i++)
		sim_destroy(s->runs[i].sim);
	if (!s->cfg.dense)
		idmap_fini(&s->ids);
	free(s->runs);
	free(s->held);
	free(s->chunk);
	free(s->shares);
	free(s->failed);
	free(s);
}

/* Rename page ids to dense page numbers. -1 on too many pages. */
static int to_vrefs(struct sim_set *s, const struct trace_ref *in, size_t n, vref_t *out)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t vpn;

		if (s->cfg.dense) {
			vpn = in[i].page;
			if (vpn >= s->npages)
				s->npages = (uint32_t)(vpn <= VREF_VPN_MAX ? vpn + 1 : 0);
		} else {
			vpn = idmap_get(&s->ids, in[i].page);
			s->npages = s->ids.count;
		}
		if (vpn > VREF_VPN_MAX) {
			snprintf(s->err, sizeof(s->err), "%s: more than %u distinct pages",
				 s->cfg.name, VREF_VPN_MAX + 1);
			return -1;
		}
		out[i] = VREF((vpn_t)vpn, in[i].write);
	}
	return 0;
}

/* Make every machine's page table cover the pages seen so far. */
static int grow_runs(struct sim_set *s)
{
	for (size_t i = 0; i < s->nruns; i++) {
		if (s->runs[i].sim && pager_grow(s->runs[i].sim->pager, s->npages) != 0) {
			snprintf(s->err, sizeof(s->err), "out of memory for %u pages", s->npages);
			s->machine_failed = true;
			return -1;
		}
	}
	return 0;
}

/* Replay into one machine. Touches r alone, so that threads can share a set. */
static int replay_run(struct sim_run *r, const vref_t *refs, const uint32_t *next, size_t n)
{
	double t0 = now_seconds();
	int rc = sim_replay(r->sim, refs, next, n);

	r->seconds += now_seconds() - t0;
	return rc;
}

/* Machine r failed: its reason, as the set's. */
static int run_failed(struct sim_set *s, const struct sim_run *r)
{
	snprintf(s->err, sizeof(s->err), "%s with %u frames: %s", r->policy->name, r->frames,
		 r->sim->pager->err);
	s->machine_failed = true;
	return -1;
}

/* One machine, on the calling thread. */
static int replay(struct sim_set *s, struct sim_run *r, const vref_t *refs, const uint32_t *next,
		  size_t n)
{
	return replay_run(r, refs, next, n) ? run_failed(s, r) : 0;
}

static void *replay_share(void *arg)
{
	struct share *sh = arg;
	struct sim_set *s = sh->set;

	for (size_t i = sh->t; i < s->nruns; i += s->nthreads) {
		struct sim_run *r = &s->runs[i];
		bool future = r->policy->flags & POLICY_NEEDS_FUTURE;

		if (r->sim && !s->failed[i] && replay_run(r, sh->refs, future ? sh->next : NULL, sh->n))
			s->failed[i] = true;
	}
	return NULL;
}

/*
 * Every existing machine replays refs, machine i on thread i mod nthreads:
 * share 0 on the calling thread, the others on threads started now. A
 * thread that cannot be started leaves its share to the calling thread.
 * Then the first machine (in row order) that failed, if any, fails the set.
 */
static int replay_all(struct sim_set *s, const vref_t *refs, const uint32_t *next, size_t n)
{
	for (size_t t = 0; t < s->nthreads; t++) {
		struct share *sh = &s->shares[t];

		*sh = (struct share){ .set = s, .refs = refs, .next = next, .n = n, .t = t };
		sh->started = t > 0 && pthread_create(&sh->thread, NULL, replay_share, sh) == 0;
	}
	for (size_t t = 0; t < s->nthreads; t++)
		if (!s->shares[t].started)
			replay_share(&s->shares[t]);
	for (size_t t = 1; t < s->nthreads; t++)
		if (s->shares[t].started)
			pthread_join(s->shares[t].thread, NULL);
	for (size_t i = 0; i < s->nruns; i++)
		if (s->failed[i])
			return run_failed(s, &s->runs[i]);
	return 0;
}

/* Keep n references for the runs not created yet (or for OPT). */
static int hold(struct sim_set *s, const vref_t *refs, size_t n)
{
	if (s->held_cap - s->nheld < n) {
		size_t cap = s->held_cap ? s->held_cap : CHUNK;
		vref_t *bigger;

		while (cap - s->nheld < n)
			cap *= 2;
		bigger = realloc(s->held, sizeof(*bigger) * cap);
		if (!bigger) {
			if (s->needs_future)
				snprintf(s->err, sizeof(s->err), "out of memory holding the trace for opt");
			else
				snprintf(s->err, sizeof(s->err),
					 "out of memory holding %zu references until %zu machines can be sized",
					 s->nheld + n, s->npending);
			return -1;
		}
		s->held = bigger;
		s->held_cap = cap;
	}
	memcpy(s->held + s->nheld, refs, sizeof(*refs) * n);
	s->nheld += n;
	return 0;
}

/*
 * Create the pending runs whose frames the pages seen now reach (all of them
 * at the end, with the frames they can use) and, if replay_held, replay the
 * references held so far into each.
 */
static int create_pending(struct sim_set *s, bool at_end, bool replay_held)
{
	for (size_t i = 0; i < s->nruns && s->npending; i++) {
		struct sim_run *r = &s->runs[i];
		struct sim_config cfg;

		if (r->sim)
			continue;
		cfg = run_config(s, r);
		cfg.nframes = sim_frames_needed(&cfg, s->npages);
		if (cfg.nframes < r->frames && !at_end)
			continue;
		s->machine_failed = true;
		r->sim = sim_create(&cfg, s->err, sizeof(s->err));
		if (!r->sim)
			return -1;
		s->npending--;
		if (pager_grow(r->sim->pager, s->npages ? s->npages : 1) != 0) {
			snprintf(s->err, sizeof(s->err), "out of memory for %u pages", s->npages);
			return -1;
		}
		s->machine_failed = false;
		if (replay_held && replay(s, r, s->held, NULL, s->nheld))
			return -1;
	}
	if (!s->npending && !s->needs_future) {
		free(s->held);
		s->held = NULL;
		s->nheld = s->held_cap = 0;
	}
	return 0;
}

static int put_chunk(struct sim_set *s, const struct trace_ref *refs, size_t n)
{
	if (to_vrefs(s, refs, n, s->chunk) != 0)
		return -1;
	if (s->needs_future) {
		if (s->nheld + n >= UINT32_MAX) {
			snprintf(s->err, sizeof(s->err),
				 "%s: more than %u references: too long to hold for opt", s->cfg.name,
				 UINT32_MAX - 1);
			return -1;
		}
		return hold(s, s->chunk, n);
	}
	if (grow_runs(s) != 0)
		return -1;
	if (replay_all(s, s->chunk, NULL, n) != 0)
		return -1;
	if (s->npending && (hold(s, s->chunk, n) != 0 || create_pending(s, false, true) != 0))
		return -1;
	return 0;
}

int sim_set_put(struct sim_set *s, const struct trace_ref *refs, size_t n)
{
	while (n) {
		size_t k = n < CHUNK ? n : CHUNK;

		if (put_chunk(s, refs, k) != 0)
			return -1;
		refs += k;
		n -= k;
	}
	return 0;
}

/* OPT: every machine replays the whole string, with next-use times for those that read them. */
static int finish_future(struct sim_set *s)
{
	uint32_t *next = malloc(sizeof(*next) * (s->nheld ? s->nheld : 1));

	if (!next || sim_next_use(s->held, s->nheld, s->npages, next) != 0) {
		free(next);
		snprintf(s->err, sizeof(s->err), "out of memory holding the trace for opt");
		return -1;
	}
	if (create_pending(s, true, false) != 0) {
		free(next);
		return -1;
	}
	if (replay_all(s, s->held, next, s->nheld) != 0) {
		free(next);
		return -1;
	}
	free(next);
	return 0;
}

int sim_set_finish(struct sim_set *s)
{
	if (s->needs_future)
		return finish_future(s);
	return create_pending(s, true, true);
}

const char *sim_set_error(const struct sim_set *s)
{
	return s->err;
}

bool sim_set_machine_failed(const struct sim_set *s)
{
	return s->machine_failed;
}

size_t sim_set_count(const struct sim_set *s)
{
	return s->nruns;
}

const struct sim_run *sim_set_run(const struct sim_set *s, size_t i)
{
	return &s->runs[i];
}

uint32_t sim_set_pages(const struct sim_set *s)
{
	return s->npages;
}
