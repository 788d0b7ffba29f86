// SPDX-License-Identifier: MIT
/*
 * Load control by working set (see wsload.h). Definitions and sources:
 *
 *   the working set W(t, tau) of a process is the set of pages it
 *   referenced in the interval (t - tau, t]; "a process may run only if
 *   its working set is in main memory", and the scheduler admits processes
 *   only while the sum of their working sets fits the memory: the cure for
 *   thrashing (P. J. Denning, "The working set model for program
 *   behavior", CACM 11(5), 1968; "Thrashing: its causes and prevention",
 *   AFIPS FJCC 1968; "Working sets past and present", IEEE TSE 6(1), 1980,
 *   which names the policy of suspending a process when the working sets
 *   outgrow memory and resuming it when its working set fits again).
 *
 * What the server sees of the references is what its policies see: the
 * faults, the hits a trace client reports (REFS) and the accesses a KVM
 * client reports after a sample (TOUCH). t is the server's real time, not
 * the process's virtual time Denning used: a suspended client does not age
 * (its reserved working set stands for it), a running one ages while it
 * waits for the server, which errs on the side of a smaller estimate.
 *
 * The decision, once a period, over the clients with a region:
 *   1. a client suspended for a quantum or more runs again (its pending
 *      request must not wait past its timeout);
 *   2. while the running clients' working sets together exceed the frames
 *      and two or more run, the one with the largest working set (the
 *      latest connected among equals: the lowest priority) is suspended,
 *      its working set reserved; a client resumed in this period, or one
 *      that needs no frame, is spared;
 *   3. if none was suspended, the suspended clients, longest suspended
 *      first, run again while their reserved working sets fit beside the
 *      running ones'; with none running, the longest suspended runs anyway.
 * A client resumed less than tau ago needs at least what it had reserved:
 * its working set is being loaded again.
 */
#include "wsload.h"

#include <errno.h>
#include <stdlib.h>

int ws_pages_init(struct ws_pages *w, uint32_t npages)
{
	w->npages = npages;
	w->last = calloc(npages ? npages : 1, sizeof(*w->last));
	return w->last ? 0 : -ENOMEM;
}

void ws_pages_fini(struct ws_pages *w)
{
	free(w->last);
	w->last = NULL;
	w->npages = 0;
}

void ws_note(struct ws_pages *w, uint32_t vpn, uint64_t now)
{
	if (w->last && vpn < w->npages)
		w->last[vpn] = now + 1;
}

uint32_t ws_size(const struct ws_pages *w, uint64_t now, uint64_t tau)
{
	uint32_t n = 0;

	for (uint32_t p = 0; w->last && p < w->npages; p++)
		n += w->last[p] && now - (w->last[p] - 1) < tau;
	return n;
}

/* What client c needs in memory now. */
static uint32_t need(const struct ws_client *c, uint64_t now, uint64_t tau)
{
	if (c->suspended)
		return c->reserved;
	if (now - c->since < tau && c->reserved > c->ws)
		return c->reserved;
	return c->ws;
}

static uint64_t running_need(const struct ws_client *cl, size_t n, uint64_t now, uint64_t tau,
			     size_t *running)
{
	uint64_t sum = 0;

	*running = 0;
	for (size_t i = 0; i < n; i++)
		if (cl[i].present && !cl[i].suspended) {
			sum += need(&cl[i], now, tau);
			++*running;
		}
	return sum;
}

static void set(struct ws_client *c, enum ws_action *act, enum ws_action a, uint64_t now,
		uint64_t tau)
{
	if (a == WS_SUSPEND)
		c->reserved = need(c, now, tau);
	c->suspended = a == WS_SUSPEND;
	c->since = now;
	*act = a;
}

/* Step 2: the running client with the largest need, none resumed now. */
static struct ws_client *largest(struct ws_client *cl, size_t n, const enum ws_action *act,
				 uint64_t now, uint64_t tau)
{
	struct ws_client *best = NULL;

	for (size_t i = 0; i < n; i++)
		if (cl[i].present && !cl[i].suspended && act[i] != WS_RESUME &&
		    (!best || need(&cl[i], now, tau) >= need(best, now, tau)))
			best = &cl[i];
	/* Suspending a client that needs nothing would free nothing. */
	return best && need(best, now, tau) ? best : NULL;
}

/* Step 3: the client suspended longest (the first among equals). */
static struct ws_client *longest(struct ws_client *cl, size_t n, uint64_t after_reserved_fit,
				 uint32_t frames, uint64_t sum)
{
	struct ws_client *best = NULL;

	for (size_t i = 0; i < n; i++)
		if (cl[i].present && cl[i].suspended &&
		    (!after_reserved_fit || sum + cl[i].reserved <= frames) &&
		    (!best || cl[i].since < best->since))
			best = &cl[i];
	return best;
}

size_t ws_decide(struct ws_client *cl, size_t n, uint32_t frames, uint64_t now, uint64_t tau,
		 uint64_t quantum, enum ws_action *act)
{
	size_t changed = 0, suspended = 0, running;
	struct ws_client *c;
	uint64_t sum;

	for (size_t i = 0; i < n; i++) {
		act[i] = WS_KEEP;
		if (cl[i].present && cl[i].suspended && now - cl[i].since >= quantum) {
			set(&cl[i], &act[i], WS_RESUME, now, tau);
			changed++;
		}
	}
	while ((sum = running_need(cl, n, now, tau, &running)) > frames && running >= 2 &&
	       (c = largest(cl, n, act, now, tau))) {
		set(c, &act[c - cl], WS_SUSPEND, now, tau);
		changed++;
		suspended++;
	}
	if (suspended)
		return changed;
	for (;;) {
		sum = running_need(cl, n, now, tau, &running);
		c = longest(cl, n, running > 0, frames, sum);
		if (!c)
			return changed;
		set(c, &act[c - cl], WS_RESUME, now, tau);
		changed++;
	}
}
