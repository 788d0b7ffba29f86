// SPDX-License-Identifier: MIT
/*
 * How the paging server shares its frame budget among its clients
 * (docs/external-pager.md, "Allocation"):
 *
 *   fixed   each region gets its frames at registration, from what is left
 *           (server.c; nothing here);
 *   global  a region may hold up to the frames it asked, and together the
 *           regions may ask more than the budget: when the budget is used
 *           up and a region with room faults, the victim is chosen over
 *           every client's pages by one CLOCK (global replacement, as in
 *           Unix's and Multics's global page replacement): the hand passes
 *           over (client, region, frame), clearing referenced bits through
 *           each region's own MMU (a SAMPLE to a client that sees only
 *           faults) and takes the first page found unreferenced; a region
 *           that is at its own maximum replaces inside itself, by its own
 *           policy;
 *   pff     global, plus load control by page-fault frequency (Chu and
 *           Opderbeck, 1972; Denning's "Thrashing: its causes and
 *           prevention", 1968): every period the server measures each
 *           client's faults per second; when the budget is used up and two
 *           or more running clients fault faster than the threshold, the
 *           system thrashes, and the client running longest is suspended:
 *           its pages are evicted (their frames go to the others) and its
 *           messages are not read (its pending fault waits) until a quantum
 *           has passed or its frames are free again; then it runs and, if
 *           the thrashing goes on, another one rests. The quantum must stay
 *           below the clients' timeout;
 *   ws      global, plus load control by working set (Denning, 1968 and
 *           1980; the estimate and the decision are wsload.c's): every
 *           period each client's working set W(t, tau) is estimated from
 *           the references the server saw in the last tau ms, and clients
 *           are suspended (as under pff) while the running ones' working
 *           sets together exceed the frames, and resumed when theirs fits.
 *
 * Every period, with a series file, a line per client: the time, the
 * client, its faults per second, whether it is suspended (the figures of
 * the thrashing plot).
 */
#include "server_internal.h"

#include <time.h>

uint64_t alloc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t total_resident(const struct pserver *s)
{
	uint64_t n = 0;

	for (size_t i = 0; i < PSERVER_MAX_CLIENTS; i++)
		for (size_t k = 0; s->clients[i].fd >= 0 && k < PSERVER_MAX_REGIONS; k++)
			if (s->clients[i].regions[k].pager)
				n += s->clients[i].regions[k].pager->stats.resident;
	return n;
}

uint32_t alloc_frames_free(const struct pserver *s)
{
	uint64_t used;

	if (s->cfg.alloc == PSERVER_FIXED)
		return s->frames_free;
	used = total_resident(s);
	return used >= s->cfg.frames ? 0 : (uint32_t)(s->cfg.frames - used);
}

/* Take the page out of frame f of r: 0, or -errno (it stays resident). */
static int take(struct region *r, frame_t f)
{
	struct pager *p = r->pager;
	int rc;

	p->policy->ops->remove(p->policy, f);
	rc = pager_reclaim(p, f);
	if (rc)
		p->policy->ops->insert(p->policy, f);
	report_writeback_errors(r->c, r);
	return rc;
}

/* The global hand's next (client, region, frame). */
static void advance(struct pserver *s, const struct region *r)
{
	if (r && r->pager && ++s->hand_frame < r->pager->nframes)
		return;
	s->hand_frame = 0;
	if (++s->hand_region < PSERVER_MAX_REGIONS)
		return;
	s->hand_region = 0;
	s->hand_client = (s->hand_client + 1) % PSERVER_MAX_CLIENTS;
}

/* One CLOCK over every client's resident pages. true if a frame was freed. */
static bool global_evict(struct pserver *s)
{
	uint64_t resident = total_resident(s), seen = 0;
	uint64_t bound = 3 * (resident + (uint64_t)PSERVER_MAX_CLIENTS * PSERVER_MAX_REGIONS);

	for (uint64_t step = 0; step < bound; step++) {
		struct client *c = &s->clients[s->hand_client];
		struct region *r = c->fd >= 0 ? &c->regions[s->hand_region] : NULL;
		struct pager *p = r && r->id && !c->closing ? r->pager : NULL;
		frame_t f = s->hand_frame;

		if (!p) {
			advance(s, NULL);
			continue;
		}
		if (f < p->nframes && (p->frames[f].flags & FRAME_USED) &&
		    !(p->frames[f].flags & FRAME_PINNED)) {
			/* Two sweeps clear every bit: then take the page. */
			if ((++seen > 2 * resident || !pager_referenced(p, f)) && take(r, f) == 0) {
				advance(s, r);
				return true;
			}
		}
		advance(s, r);
	}
	return false;
}

void alloc_before_miss(struct client *c, struct region *r)
{
	struct pserver *s = c->s;

	c->period_faults++;
	if (s->cfg.alloc == PSERVER_FIXED || !r->pager->nfree ||
	    total_resident(s) < s->cfg.frames)
		return;
	global_evict(s);
}

bool alloc_suspended(const struct client *c)
{
	return c->suspended;
}

void alloc_note_ref(struct region *r, vpn_t vpn)
{
	ws_note(&r->ws, vpn, r->c->s->now_ms);
}

/* Suspend c: its pages go to the others; its messages wait. */
static void suspend(struct pserver *s, struct client *c, uint64_t now)
{
	c->suspended = true;
	c->since_ms = now;
	s->suspensions++;
	for (size_t k = 0; k < PSERVER_MAX_REGIONS; k++) {
		struct region *r = &c->regions[k];

		for (frame_t f = 0; r->pager && f < r->pager->nframes; f++)
			if ((r->pager->frames[f].flags & FRAME_USED) &&
			    !(r->pager->frames[f].flags & FRAME_PINNED))
				take(r, f);
	}
	if (s->cfg.verbose)
		fprintf(stderr, "pflab pager: client %d suspended (thrashing)\n", c->fd);
}

static uint64_t frames_asked(const struct client *c)
{
	uint64_t n = 0;

	for (size_t k = 0; k < PSERVER_MAX_REGIONS; k++)
		n += c->regions[k].pager ? c->regions[k].frames : 0;
	return n;
}

static bool has_region(const struct client *c)
{
	for (size_t k = 0; k < PSERVER_MAX_REGIONS; k++)
		if (c->regions[k].id)
			return true;
	return false;
}

/* Load control, once a period: resume, then suspend if thrashing. */
static void load_control(struct pserver *s, const double *rate, uint64_t now)
{
	struct client *oldest = NULL;
	unsigned running = 0, hot = 0;

	for (size_t i = 0; i < PSERVER_MAX_CLIENTS; i++) {
		struct client *c = &s->clients[i];

		if (c->fd < 0 || !c->suspended)
			continue;
		if (now - c->since_ms >= s->cfg.quantum_ms ||
		    frames_asked(c) <= alloc_frames_free(s)) {
			c->suspended = false;
			c->active_ms = now;
		}
	}
	for (size_t i = 0; i < PSERVER_MAX_CLIENTS; i++) {
		struct client *c = &s->clients[i];

		if (c->fd < 0 || c->suspended || c->closing || !has_region(c))
			continue;
		running++;
		hot += rate[i] >= s->cfg.pff_high;
		if (!oldest || c->active_ms < oldest->active_ms)
			oldest = c;
	}
	if (running >= 2 && hot >= 2 && total_resident(s) >= s->cfg.frames)
		suspend(s, oldest, now);
}

/* Working-set load control, once a period (wsload.c decides). */
static void ws_control(struct pserver *s, uint64_t now)
{
	struct ws_client cl[PSERVER_MAX_CLIENTS] = { 0 };
	enum ws_action act[PSERVER_MAX_CLIENTS];

	for (size_t i = 0; i < PSERVER_MAX_CLIENTS; i++) {
		struct client *c = &s->clients[i];

		if (c->fd < 0 || c->closing || !has_region(c))
			continue;
		cl[i] = (struct ws_client){ .present = true, .suspended = c->suspended,
					    .since = c->since_ms, .reserved = c->ws_reserved };
		for (size_t k = 0; k < PSERVER_MAX_REGIONS; k++)
			cl[i].ws += ws_size(&c->regions[k].ws, now, s->cfg.tau_ms);
	}
	ws_decide(cl, PSERVER_MAX_CLIENTS, s->cfg.frames, now, s->cfg.tau_ms, s->cfg.quantum_ms,
		  act);
	for (size_t i = 0; i < PSERVER_MAX_CLIENTS; i++) {
		struct client *c = &s->clients[i];

		if (act[i] == WS_SUSPEND)
			suspend(s, c, now);
		else if (act[i] == WS_RESUME)
			c->suspended = false;
		if (cl[i].present) {
			c->since_ms = cl[i].since;
			c->ws_reserved = cl[i].reserved;
		}
	}
}

int alloc_tick(struct pserver *s)
{
	uint64_t now = alloc_now_ms(), dt;
	double rate[PSERVER_MAX_CLIENTS] = { 0 };

	if (s->cfg.alloc != PSERVER_PFF && s->cfg.alloc != PSERVER_WS && !s->cfg.series)
		return -1;
	if (!s->period_ms_start)
		s->period_ms_start = s->start_ms = now;
	dt = now - s->period_ms_start;
	if (dt < s->cfg.period_ms)
		return (int)(s->cfg.period_ms - dt);
	for (size_t i = 0; i < PSERVER_MAX_CLIENTS; i++) {
		struct client *c = &s->clients[i];

		if (c->fd < 0)
			continue;
		rate[i] = (double)c->period_faults * 1000.0 / (double)dt;
		if (s->cfg.series && has_region(c))
			fprintf(s->cfg.series, "%.3f %u %.0f %d\n", (double)(now - s->start_ms) / 1000.0,
				c->number, rate[i], c->suspended);
		c->period_faults = 0;
	}
	if (s->cfg.alloc == PSERVER_PFF)
		load_control(s, rate, now);
	else if (s->cfg.alloc == PSERVER_WS)
		ws_control(s, now);
	s->period_ms_start = now;
	return (int)s->cfg.period_ms;
}
