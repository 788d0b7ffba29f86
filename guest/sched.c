// SPDX-License-Identifier: MIT
/*
 * Green threads in the guest (--threads T, docs/async.md#green-threads): a
 * cooperative scheduler of T threads on each vCPU, in ring 3, the guest's
 * own code. Each thread runs the workload on its own slice of the vCPU's
 * slice of the data region, with a PRNG of its own, and verifies what it
 * reads as the unthreaded workload does.
 *
 * Before each page reference a thread yields (note_ref, guest.h): the
 * threads take turns, one reference each, in round-robin order, so that
 * their references interleave the same way with or without async PF and
 * a run compares only what the vCPU does on a fault. When the host says
 * that a page a thread touched is not present (the async-PF upcall,
 * --async-pf: apf_entry in sched_entry.S) the thread is parked on the
 * notification's token and left out of the turns until its page is ready. Page-ready tokens come in
 * a ring in the mailbox (guest/abi.h); the scheduler reads it each time it
 * picks a thread, and wakes the thread parked on each token, which then
 * returns to its faulting instruction. When every thread that has not ended
 * waits, the vCPU halts: HC_APF_WAIT, which the host answers only when a
 * page-ready token is in the ring. The same design as the scheduler of a
 * guest kernel under KVM's async PF (Natapov, "KVM: Add asynchronous page
 * fault for PV guest", 2010), with threads of one program instead of tasks.
 *
 * No allocation: one scheduler and T stacks per vCPU, in bss.
 */
#include "guest.h"

#define STACK_WORDS 512u  /* 4 KiB: a workload's frames, an upcall's saved registers */
#define CANARY 0x70666c6162737461ull

enum { T_RUNNABLE, T_WAITING, T_DONE };

struct gthread {
	uint64_t rsp;       /* saved by sched_switch while it does not run */
	uint64_t token;     /* T_WAITING: the not-present token it waits for */
	uint64_t resumed;   /* the token of its wake-up, told to the host as it resumes */
	uint32_t state;
	struct guest g;     /* its slice, its PRNG, its counts */
};

struct sched {
	struct gthread t[PFLAB_MAX_THREADS];
	uint32_t n, cur, done, wl;
	uint64_t main_rsp;  /* sched_run()'s, while the threads run */
	uint64_t parks, waits, stray, overflows;
};

static struct sched scheds[PFLAB_MAX_VCPUS];
static uint64_t stacks[PFLAB_MAX_VCPUS][PFLAB_MAX_THREADS][STACK_WORDS]
	__attribute__((aligned(16)));

void sched_switch(uint64_t *save, uint64_t rsp);
void apf_entry(void);
void guest_apf_not_present(void);

static struct sched *sched_here(void)
{
	return &scheds[MAILBOX->vcpu % PFLAB_MAX_VCPUS];
}

/* The workloads that work on g->first .. g->first + g->npages. */
static void run_one(struct guest *g, uint32_t wl)
{
	switch (wl) {
	case WL_SCAN: case WL_RANDOM: case WL_STRIDE: case WL_LIST: wl_generated(g, wl); break;
	case WL_TRACE: wl_trace(g); break;
	default: wl_bad(wl); break;
	}
}

/* Wake the thread parked on token tok. */
static void wake(struct sched *s, uint64_t tok)
{
	for (uint32_t i = 0; i < s->n; i++) {
		struct gthread *t = &s->t[i];

		if (t->state == T_WAITING && t->token == tok) {
			t->state = T_RUNNABLE;
			t->resumed = tok;
			t->token = 0;
			return;
		}
	}
	s->stray++; /* a token nobody waits for: counted, reported at the end */
}

/* Take every page-ready token the host has published. */
static void drain(struct sched *s, volatile struct pflab_mailbox *mb)
{
	uint32_t head = mb->apf_ready_head, tail = mb->apf_ready_tail;

	__asm__ volatile("" : : : "memory"); /* the head before the entries */
	while (tail != head) {
		wake(s, mb->apf_ready[tail % PFLAB_APF_RING]);
		tail++;
	}
	mb->apf_ready_tail = tail;
}

/* Run the next runnable thread after the current one (itself last); halt
 * while none is; back to sched_run() when all have ended. Returns when the
 * current thread is picked again. */
static void schedule(struct sched *s)
{
	volatile struct pflab_mailbox *mb = MAILBOX;
	uint32_t prev = s->cur, next = s->n;

	for (;;) {
		drain(s, mb);
		if (s->done == s->n)
			sched_switch(&s->t[prev].rsp, s->main_rsp); /* never returns */
		for (uint32_t k = 1; k <= s->n && next == s->n; k++) {
			uint32_t i = (prev + k) % s->n;

			if (s->t[i].state == T_RUNNABLE)
				next = i;
		}
		if (next != s->n)
			break;
		s->waits++;
		hcall(HC_APF_WAIT);
	}
	if (stacks[mb->vcpu % PFLAB_MAX_VCPUS][prev][0] != CANARY)
		s->overflows++;
	s->cur = next;
	mb->apf_resumed = s->t[next].resumed;
	s->t[next].resumed = 0;
	if (next != prev)
		sched_switch(&s->t[prev].rsp, s->t[next].rsp);
}

static void __attribute__((noreturn)) thread_entry(void)
{
	struct sched *s = sched_here();
	struct gthread *t = &s->t[s->cur];

	run_one(&t->g, s->wl);
	t->state = T_DONE;
	s->done++;
	schedule(s);
	for (;;)
		__asm__ volatile("" : : : "memory"); /* schedule() never comes back to it */
}

/* Before each reference: the next runnable thread's turn. */
void sched_yield_thread(void)
{
	schedule(sched_here());
}

/* The not-present upcall, from apf_entry on the faulting thread's stack:
 * park it on the token, run the others; return when its page is ready. */
void guest_apf_not_present(void)
{
	struct sched *s = sched_here();
	struct gthread *t = &s->t[s->cur];

	if (s->n == 0) {
		s->stray++; /* no threads: return and fault again, synchronously */
		return;
	}
	t->token = MAILBOX->apf_token;
	t->state = T_WAITING;
	s->parks++;
	schedule(s);
}

void sched_run(struct guest *g, uint32_t wl)
{
	volatile struct pflab_mailbox *mb = MAILBOX;
	uint32_t v = mb->vcpu % PFLAB_MAX_VCPUS;
	struct sched *s = &scheds[v];
	uint32_t n = mb->threads ? mb->threads : 1;

	if (n > PFLAB_MAX_THREADS)
		n = PFLAB_MAX_THREADS;
	if (wl == WL_TRACE || n > g->npages)
		n = 1; /* the host refuses these; a single thread is always right */
	*s = (struct sched){ .n = n, .wl = wl };
	for (uint32_t i = 0; i < n; i++) {
		struct gthread *t = &s->t[i];
		uint64_t *top = &stacks[v][i][STACK_WORDS];

		t->g = *g;
		t->g.yield = n > 1;
		t->g.first = g->first + (uint32_t)((uint64_t)g->npages * i / n);
		t->g.npages = g->first + (uint32_t)((uint64_t)g->npages * (i + 1) / n) - t->g.first;
		if (i) /* thread 0 keeps the vCPU's sequence: one thread is the unthreaded run */
			t->g.rng = (g->rng ^ (0x9e3779b97f4a7c15ull * i)) | 1;
		stacks[v][i][0] = CANARY;
		/* What sched_switch pops: six registers, then thread_entry as
		 * the return address; thread_entry starts with RSP = 8 mod 16. */
		top[-2] = (uint64_t)(uintptr_t)thread_entry;
		for (uint32_t k = 3; k <= 8; k++)
			top[-(int)k] = 0;
		t->rsp = (uint64_t)(uintptr_t)&top[-8];
	}
	mb->apf_resumed = 0;
	if (mb->apf)
		mb->apf_handler = (uint64_t)(uintptr_t)apf_entry;
	sched_switch(&s->main_rsp, s->t[0].rsp);
	mb->apf_handler = 0;

	g->refs = 0;
	for (uint32_t i = 0; i < n; i++) {
		g->refs += s->t[i].g.refs;
		g->errors += s->t[i].g.errors;
	}
	puts_serial("pflab guest: ");
	put_u64(n);
	puts_serial(" green threads, ");
	put_u64(s->parks);
	puts_serial(" parked on a not-present page, ");
	put_u64(s->waits);
	puts_serial(" halts\n");
	if (s->stray || s->overflows) {
		puts_serial("pflab guest: scheduler error: ");
		put_u64(s->stray);
		puts_serial(" stray tokens, ");
		put_u64(s->overflows);
		puts_serial(" stack overflows\n");
		g->errors++;
	}
}
