// SPDX-License-Identifier: MIT
/*
 * The DSM workloads (pflab run --dsm, docs/external-pager.md, "Distributed
 * shared memory"): several nodes, each a pflab VM of its own, share the data
 * region, whose pages the DSM manager keeps coherent (Ivy's single writer,
 * multiple readers). Node i of n runs one of these on the layout of
 * guest/abi.h (PFLAB_DSM_*), passes times, between a start and an end
 * barrier, and checks what it reads:
 *
 *   dsm-sc       node i writes its data word, then its flag word (another
 *                page), with the iteration number; it reads every other
 *                node's flag, then its data. Sequential consistency says
 *                the data read is never older than the flag read (it was
 *                written first), and a flag never goes back. After the end
 *                barrier every word holds passes.
 *   dsm-counter  a shared counter incremented under a spinlock, Lamport's
 *                bakery ("A New Solution of Dijkstra's Concurrent
 *                Programming Problem", CACM 17(8), 1974): plain loads and
 *                stores only, correct on a sequentially consistent memory.
 *                In the critical section a holder word must be free and
 *                stay ours. At the end the counter is n * passes.
 *   dsm-false    node i increments word 8i of one page: no word is shared,
 *                the page is (false sharing); each node checks its own word
 *                never lost an increment, and at the end all of them.
 *   dsm-apart    the same, node i's word on a page of its own.
 *
 * A waiting node spins with pause and, every 64 spins, HC_DSM_YIELD, so that
 * the node it waits for gets a CPU on a loaded host.
 */
#include <stdbool.h>

#include "guest.h"

static volatile uint64_t *word(uint32_t page, uint32_t i)
{
	return page_addr(page) + i;
}

/* Order this node's stores before its later loads (x86 may otherwise let
 * a load pass a store): with it, each node's accesses are in program
 * order, and the DSM makes all of them one order. */
static inline void fence(void)
{
	__asm__ volatile("mfence" ::: "memory");
}

static void spin(uint32_t *n)
{
	__asm__ volatile("pause" ::: "memory");
	if ((++*n & 63) == 0)
		hcall(HC_DSM_YIELD);
}

/* Work between two accesses to the shared words, the same in every
 * workload, so that the nodes' accesses interleave (without it a node
 * makes all its iterations while it holds the page). */
static void think(void)
{
	for (int i = 0; i < 2048; i++)
		__asm__ volatile("pause" ::: "memory");
}

/* Wait until every node has reached barrier gen (1, 2, ...). */
static void barrier(uint32_t me, uint32_t nodes, uint64_t gen)
{
	uint32_t n = 0;

	*word(PFLAB_DSM_BARRIER, me) = gen;
	fence();
	for (uint32_t j = 0; j < nodes; j++)
		while (*word(PFLAB_DSM_BARRIER, j) < gen)
			spin(&n);
}

static void check(struct guest *g, uint32_t page, uint32_t i, uint64_t want, uint64_t got)
{
	g->refs++;
	if (want != got)
		report_mismatch(g, page, i * 8, want, got);
}

static void sc(struct guest *g, uint32_t me, uint32_t nodes)
{
	uint64_t last[PFLAB_DSM_MAX_NODES] = { 0 };

	for (uint64_t k = 1; k <= g->passes; k++) {
		*word(PFLAB_DSM_SC_DATA, me) = k;
		fence();
		*word(PFLAB_DSM_SC_FLAG, me) = k;
		fence();
		for (uint32_t j = 0; j < nodes; j++) {
			uint64_t f, d;

			if (j == me)
				continue;
			f = *word(PFLAB_DSM_SC_FLAG, j);
			fence();
			d = *word(PFLAB_DSM_SC_DATA, j);
			g->refs++;
			if (d < f) /* the flag was written after the data */
				report_mismatch(g, PFLAB_DSM_SC_DATA, j * 8, f, d);
			if (f < last[j]) /* a flag went back */
				report_mismatch(g, PFLAB_DSM_SC_FLAG, j * 8, last[j], f);
			last[j] = f;
		}
		think();
	}
	barrier(me, nodes, 2);
	for (uint32_t j = 0; j < nodes; j++) {
		check(g, PFLAB_DSM_SC_DATA, j, g->passes, *word(PFLAB_DSM_SC_DATA, j));
		check(g, PFLAB_DSM_SC_FLAG, j, g->passes, *word(PFLAB_DSM_SC_FLAG, j));
	}
}

static void bakery_lock(uint32_t me, uint32_t nodes)
{
	volatile uint64_t *choosing = word(PFLAB_DSM_CHOOSING, 0);
	volatile uint64_t *number = word(PFLAB_DSM_NUMBER, 0);
	uint64_t max = 0, mine;
	uint32_t n = 0;

	choosing[me] = 1;
	fence();
	for (uint32_t j = 0; j < nodes; j++)
		if (number[j] > max)
			max = number[j];
	mine = max + 1;
	number[me] = mine;
	fence();
	choosing[me] = 0;
	fence();
	for (uint32_t j = 0; j < nodes; j++) {
		uint64_t t;

		if (j == me)
			continue;
		while (choosing[j])
			spin(&n);
		while ((t = number[j]) != 0 && (t < mine || (t == mine && j < me)))
			spin(&n);
	}
}

static void bakery_unlock(uint32_t me)
{
	fence();
	*word(PFLAB_DSM_NUMBER, me) = 0;
	fence();
}

static void counter(struct guest *g, uint32_t me, uint32_t nodes)
{
	volatile uint64_t *count = word(PFLAB_DSM_COUNTER, 0), *holder = word(PFLAB_DSM_COUNTER, 1);

	for (uint32_t k = 0; k < g->passes; k++) {
		bakery_lock(me, nodes);
		check(g, PFLAB_DSM_COUNTER, 1, 0, *holder); /* nobody else inside */
		*holder = me + 1;
		fence();
		*count = *count + 1;
		fence();
		check(g, PFLAB_DSM_COUNTER, 1, me + 1, *holder); /* and still nobody */
		*holder = 0;
		bakery_unlock(me);
		think();
	}
	barrier(me, nodes, 2);
	check(g, PFLAB_DSM_COUNTER, 0, (uint64_t)nodes * g->passes, *count);
}

/* Node i increments its word of page(i), word(i): the one page (false
 * sharing) or a page each. */
static void increments(struct guest *g, uint32_t me, uint32_t nodes, bool apart)
{
	uint32_t page = apart ? PFLAB_DSM_APART + me : PFLAB_DSM_FALSE, i = apart ? 0 : 8 * me;
	volatile uint64_t *w = word(page, i);

	for (uint64_t k = 1; k <= g->passes; k++) {
		check(g, page, i, k - 1, *w); /* no increment of ours lost */
		*w = k;
		think();
	}
	barrier(me, nodes, 2);
	for (uint32_t j = 0; j < nodes; j++) {
		page = apart ? PFLAB_DSM_APART + j : PFLAB_DSM_FALSE;
		i = apart ? 0 : 8 * j;
		check(g, page, i, g->passes, *word(page, i));
	}
}

void wl_dsm(struct guest *g, uint32_t wl)
{
	volatile struct pflab_mailbox *mb = MAILBOX;
	uint32_t me = mb->dsm_node, nodes = mb->dsm_nodes;

	if (nodes < 1 || nodes > PFLAB_DSM_MAX_NODES || me >= nodes ||
	    g->npages < PFLAB_DSM_MIN_PAGES + nodes) {
		puts_serial("pflab guest: dsm: not a DSM node, or too few shared pages\n");
		g->errors++;
		return;
	}
	puts_serial("pflab guest: dsm: node ");
	put_u64(me);
	puts_serial(" of ");
	put_u64(nodes);
	puts_serial("\n");
	barrier(me, nodes, 1); /* every node is there: the work overlaps */
	switch (wl) {
	case WL_DSM_SC: sc(g, me, nodes); break;
	case WL_DSM_COUNTER: counter(g, me, nodes); break;
	case WL_DSM_FALSE: increments(g, me, nodes, false); break;
	default: increments(g, me, nodes, true); break;
	}
	puts_serial("pflab guest: dsm: ");
	put_u64(g->refs);
	puts_serial(" checks\n");
}
