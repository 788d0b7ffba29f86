// SPDX-License-Identifier: MIT
/*
 * Green threads: user-level threads that one OS thread, the carrier, runs in
 * turn (docs/uvm.md, "Green threads"). The seed technique of issue 11, after
 * Appel and Li (ASPLOS 1991) and the user-level thread packages of the
 * 1990s: a green thread that faults on a page needing I/O is parked while a
 * filler thread serves the fault, and the carrier runs another runnable
 * green thread; the fault's completion makes the parked one runnable again,
 * and its access restarts.
 *
 * How the fault reaches the scheduler, per trap:
 *  - sigsegv: the SIGSEGV handler runs on the green thread's own stack; it
 *    hands the fault to a filler (handoff.c) and parks the thread there,
 *    inside the handler; resumed, the handler returns and the access
 *    restarts;
 *  - uffd with sigbus (the region's userfaultfd has UFFD_FEATURE_SIGBUS):
 *    the fault raises SIGBUS on the carrier at once, and the SIGBUS handler
 *    parks the thread as the SIGSEGV one does (trap_sigsegv.c);
 *  - uffd: the carrier sleeps in the kernel on the fault. The filler that
 *    reads the fault sees from its thread id (UFFD_FEATURE_THREAD_ID) that it
 *    is a carrier's, and sends the carrier a signal (SIGURG, carrying the
 *    request) before serving it; the signal ends the carrier's sleep (a user
 *    fault waits interruptibly), its handler parks the green thread, and the
 *    access restarts when the thread is resumed: by then UFFDIO_COPY has
 *    installed the page (or UFFDIO_POISON marked it: SIGBUS).
 *
 * Contexts switch with glibc's getcontext/makecontext/swapcontext, which
 * save and restore the signal mask too (a thread parked inside a signal
 * handler has that signal blocked; the others do not). While it runs green
 * threads the carrier has no alternate signal stack, so every handler runs
 * on the stack of the green thread it interrupts.
 *
 * A parked thread waits at most its region's fill_timeout_ns: the scheduler
 * then resumes it with an error (SIGBUS at the address), never zeros.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>

#include "uvm_internal.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define GREEN_ASAN 1
#endif

#define GREEN_KICK SIGURG
#define GREEN_STACK_DEFAULT (256u * 1024u)
#define GREEN_MAX 4096u

enum green_state { GT_READY, GT_RUNNING, GT_PARKED, GT_DONE };

struct green_thread {
	ucontext_t ctx;
	struct uvm_green *g;
	uint8_t *map;           /* guard page + stack */
	size_t map_len;
	void (*fn)(void *arg);
	void *arg;
	enum green_state state;
	struct uvm_req *waiting; /* parked on it */
#ifdef GREEN_ASAN
	void *fake;             /* ASan's fake stack of this thread, while away */
#endif
};

struct uvm_green {
	struct uvm *u;
	ucontext_t sched;
	struct green_thread *t; /* max of them, n spawned */
	unsigned n, max, live;
	struct green_thread *current;
	unsigned *ready;        /* a ring of indices, under u->qlock */
	unsigned rhead, rlen;
	pthread_cond_t wake;    /* a thread became runnable (u->qlock) */
	size_t stack_size;
	struct uvm_green_stats st;
#ifdef GREEN_ASAN
	void *sched_fake;
	const void *main_bottom; /* the carrier's stack, for ASan */
	size_t main_size;
#endif
};

/* ---- the kick signal (uffd): process-wide, as a signal handler is -------- */

static struct sigaction kick_previous;
static pthread_mutex_t kick_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned kick_users;

static void kick_handler(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	struct uvm_req *q;
	struct uvm_green *g;

	if (si->si_code != SI_QUEUE || si->si_pid != getpid() || !si->si_value.sival_ptr) {
		if (kick_previous.sa_flags & SA_SIGINFO)
			kick_previous.sa_sigaction(sig, si, uc);
		else if (kick_previous.sa_handler != SIG_DFL && kick_previous.sa_handler != SIG_IGN)
			kick_previous.sa_handler(sig);
		return;
	}
	q = si->si_value.sival_ptr;
	g = uvm_green_on(q->r->u, uvm_gettid());
	if (g) {
		/* The access restarts after: the page is installed, or poisoned
		 * (SIGBUS from the kernel), or still absent after the bound (it
		 * faults again, and the watchdog poisons it). */
		uvm_green_park(g, q);
	} else {
		pthread_mutex_lock(&q->r->u->qlock);
		uvm_req_put_locked(q->r->u, q);
		pthread_mutex_unlock(&q->r->u->qlock);
	}
	errno = saved;
}

static int kick_install(void)
{
	int rc = 0;

	pthread_mutex_lock(&kick_lock);
	if (kick_users == 0) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = kick_handler;
		sa.sa_flags = SA_SIGINFO | SA_RESTART;
		sigemptyset(&sa.sa_mask);
		rc = sigaction(GREEN_KICK, &sa, &kick_previous) ? -errno : 0;
	}
	if (rc == 0)
		kick_users++;
	pthread_mutex_unlock(&kick_lock);
	return rc;
}

static void kick_uninstall(void)
{
	pthread_mutex_lock(&kick_lock);
	if (--kick_users == 0)
		sigaction(GREEN_KICK, &kick_previous, NULL);
	pthread_mutex_unlock(&kick_lock);
}

void uvm_green_kick(pid_t tid, struct uvm_req *q)
{
	siginfo_t info;

	memset(&info, 0, sizeof(info));
	info.si_signo = GREEN_KICK;
	info.si_code = SI_QUEUE;
	info.si_pid = getpid();
	info.si_uid = getuid();
	info.si_value.sival_ptr = q;
	if (syscall(SYS_rt_tgsigqueueinfo, getpid(), tid, GREEN_KICK, &info) != 0) {
		/* The carrier is gone: nobody will park on q. */
		pthread_mutex_lock(&q->r->u->qlock);
		uvm_req_put_locked(q->r->u, q);
		pthread_mutex_unlock(&q->r->u->qlock);
	}
}

/* ---- switching ------------------------------------------------------------- */

/* The scheduler runs t until it parks, yields or returns. ASan is told of
 * each change of stack (its fiber interface). */
static void run_thread(struct uvm_green *g, struct green_thread *t)
{
#ifdef GREEN_ASAN
	__sanitizer_start_switch_fiber(&g->sched_fake, t->map + 4096, g->stack_size);
	swapcontext(&g->sched, &t->ctx);
	__sanitizer_finish_switch_fiber(g->sched_fake, NULL, NULL);
#else
	swapcontext(&g->sched, &t->ctx);
#endif
}

static void to_scheduler(struct uvm_green *g, struct green_thread *t)
{
#ifdef GREEN_ASAN
	__sanitizer_start_switch_fiber(&t->fake, g->main_bottom, g->main_size);
	swapcontext(&t->ctx, &g->sched);
	__sanitizer_finish_switch_fiber(t->fake, NULL, NULL);
#else
	swapcontext(&t->ctx, &g->sched);
#endif
}

static void trampoline(unsigned hi, unsigned lo)
{
	struct green_thread *t = (struct green_thread *)(((uintptr_t)hi << 32) | lo);
	struct uvm_green *g = t->g;

#ifdef GREEN_ASAN
	__sanitizer_finish_switch_fiber(NULL, &g->main_bottom, &g->main_size);
#endif
	t->fn(t->arg);
	t->state = GT_DONE;
#ifdef GREEN_ASAN
	__sanitizer_start_switch_fiber(NULL, g->main_bottom, g->main_size); /* this stack is done */
#endif
	setcontext(&g->sched);
}

/* ---- the run queue (u->qlock) ----------------------------------------------- */

static void push_ready_locked(struct uvm_green *g, struct green_thread *t)
{
	t->state = GT_READY;
	g->ready[(g->rhead + g->rlen++) % g->max] = (unsigned)(t - g->t);
	pthread_cond_signal(&g->wake);
}

void uvm_green_wake_locked(struct green_thread *t)
{
	t->waiting = NULL;
	push_ready_locked(t->g, t);
}

/* Parked threads whose bound passed are resumed, with an error. */
static uint64_t expire_locked(struct uvm_green *g, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	for (unsigned i = 0; i < g->n; i++) {
		struct green_thread *t = &g->t[i];

		if (t->state != GT_PARKED || !t->waiting)
			continue;
		if (t->waiting->deadline <= now) {
			t->waiting->waiter = NULL;
			g->st.timeouts++;
			uvm_green_wake_locked(t);
		} else if (t->waiting->deadline < next) {
			next = t->waiting->deadline;
		}
	}
	return next;
}

static int park_locked(struct uvm_green *g, struct uvm_req *q);

int uvm_green_park(struct uvm_green *g, struct uvm_req *q)
{
	pthread_mutex_lock(&g->u->qlock);
	return park_locked(g, q);
}

int uvm_green_fault_park(struct uvm_green *g, struct uvm_region *r, vpn_t vpn,
			 enum access_kind kind)
{
	struct uvm_req *q;

	pthread_mutex_lock(&g->u->qlock);
	q = uvm_req_new_locked(g->u, r, vpn, kind, true);
	if (!q) {
		pthread_mutex_unlock(&g->u->qlock);
		return -EAGAIN; /* every request in flight: fail closed, do not wait */
	}
	uvm_req_submit_locked(g->u, q);
	return park_locked(g, q);
}

/* Called with u->qlock held; returns with it released. */
static int park_locked(struct uvm_green *g, struct uvm_req *q)
{
	struct uvm *u = g->u;
	struct green_thread *t = g->current;
	int rc;

	if (!q->done) {
		t->state = GT_PARKED;
		t->waiting = q;
		q->waiter = t;
		g->st.parks++;
		pthread_mutex_unlock(&u->qlock);
		to_scheduler(g, t);
		pthread_mutex_lock(&u->qlock);
	}
	rc = q->done ? q->rc : UVM_EBOUND;
	if (!q->done)
		q->timed_out = true;
	uvm_req_put_locked(u, q);
	pthread_mutex_unlock(&u->qlock);
	return rc;
}

struct uvm_green *uvm_green_on(struct uvm *u, pid_t tid)
{
	for (unsigned i = 0; i < UVM_CARRIERS; i++)
		if (__atomic_load_n(&u->carrier_tid[i], __ATOMIC_ACQUIRE) == tid) {
			struct uvm_green *g = __atomic_load_n(&u->carrier[i], __ATOMIC_ACQUIRE);

			return g && __atomic_load_n(&g->current, __ATOMIC_ACQUIRE) ? g : NULL;
		}
	return NULL;
}

/* ---- the interface ------------------------------------------------------------ */

struct uvm_green *uvm_green_create(struct uvm *u, unsigned max_threads, size_t stack_size,
				   char *err, size_t errlen)
{
	struct uvm_green *g;

	if (max_threads == 0 || max_threads > GREEN_MAX) {
		snprintf(err, errlen, "%u green threads: 1 to %u", max_threads, GREEN_MAX);
		return NULL;
	}
	if (stack_size && (stack_size < 64 * 1024 || stack_size % 4096)) {
		snprintf(err, errlen, "stack size %zu: a multiple of 4096, at least 64 KiB",
			 stack_size);
		return NULL;
	}
	if (uvm_handoff_start(u, true, err, errlen) != 0)
		return NULL;
	g = calloc(1, sizeof(*g));
	if (!g || !(g->t = calloc(max_threads, sizeof(*g->t))) ||
	    !(g->ready = calloc(max_threads, sizeof(*g->ready)))) {
		if (g)
			free(g->t);
		free(g);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	g->u = u;
	g->max = max_threads;
	g->stack_size = stack_size ? stack_size : GREEN_STACK_DEFAULT;
	{
		pthread_condattr_t a;

		pthread_condattr_init(&a);
		pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
		pthread_cond_init(&g->wake, &a);
		pthread_condattr_destroy(&a);
	}
	return g;
}

int uvm_green_spawn(struct uvm_green *g, void (*fn)(void *arg), void *arg)
{
	struct green_thread *t;
	uintptr_t self;

	if (g->n == g->max)
		return -ENOSPC;
	t = &g->t[g->n];
	t->map_len = g->stack_size + 4096;
	t->map = mmap(NULL, t->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
		      -1, 0);
	if (t->map == MAP_FAILED) {
		t->map = NULL;
		return -errno;
	}
	mprotect(t->map, 4096, PROT_NONE); /* a guard page below the stack */
	if (getcontext(&t->ctx) != 0) {
		munmap(t->map, t->map_len);
		return -errno;
	}
	t->ctx.uc_stack.ss_sp = t->map + 4096;
	t->ctx.uc_stack.ss_size = g->stack_size;
	t->ctx.uc_link = &g->sched;
	t->g = g;
	t->fn = fn;
	t->arg = arg;
	self = (uintptr_t)t;
	makecontext(&t->ctx, (void (*)(void))trampoline, 2, (unsigned)(self >> 32),
		    (unsigned)(self & 0xffffffffu));
	g->n++;
	pthread_mutex_lock(&g->u->qlock);
	g->live++;
	push_ready_locked(g, t);
	pthread_mutex_unlock(&g->u->qlock);
	return 0;
}

void uvm_green_yield(struct uvm_green *g)
{
	struct green_thread *t = g->current;

	if (!t)
		return;
	pthread_mutex_lock(&g->u->qlock);
	push_ready_locked(g, t);
	pthread_mutex_unlock(&g->u->qlock);
	to_scheduler(g, t);
}

/* The carrier's slot in the context, so that handlers and fillers find it. */
static int carrier_register(struct uvm_green *g, pid_t tid)
{
	struct uvm *u = g->u;
	int slot = -1;

	pthread_mutex_lock(&u->qlock);
	for (int i = 0; i < UVM_CARRIERS && slot < 0; i++)
		if (!u->carrier_tid[i]) {
			__atomic_store_n(&u->carrier[i], g, __ATOMIC_RELEASE);
			__atomic_store_n(&u->carrier_tid[i], tid, __ATOMIC_RELEASE);
			slot = i;
		}
	pthread_mutex_unlock(&u->qlock);
	return slot;
}

static void carrier_unregister(struct uvm *u, int slot)
{
	pthread_mutex_lock(&u->qlock);
	__atomic_store_n(&u->carrier_tid[slot], 0, __ATOMIC_RELEASE);
	__atomic_store_n(&u->carrier[slot], NULL, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&u->qlock);
}

static void wait_runnable_locked(struct uvm_green *g)
{
	while (g->rlen == 0 && g->live) {
		uint64_t next = expire_locked(g, uvm_now_ns());
		struct timespec ts;

		if (g->rlen)
			break;
		if (next == UINT64_MAX) {
			pthread_cond_wait(&g->wake, &g->u->qlock);
			continue;
		}
		ts.tv_sec = (time_t)(next / 1000000000u);
		ts.tv_nsec = (long)(next % 1000000000u);
		pthread_cond_timedwait(&g->wake, &g->u->qlock, &ts);
	}
}

int uvm_green_run(struct uvm_green *g)
{
	struct uvm *u = g->u;
	stack_t none = { .ss_flags = SS_DISABLE }, old;
	int slot = carrier_register(g, uvm_gettid()), rc;

	if (slot < 0)
		return -EBUSY;
	rc = kick_install();
	if (rc) {
		carrier_unregister(u, slot);
		return rc;
	}
	/* Handlers run on the interrupted green thread's stack: a thread
	 * parked in one keeps its frame there while others run. */
	sigaltstack(&none, &old);
	pthread_mutex_lock(&u->qlock);
	for (;;) {
		struct green_thread *t;

		wait_runnable_locked(g);
		if (!g->rlen)
			break;
		t = &g->t[g->ready[g->rhead]];
		g->rhead = (g->rhead + 1) % g->max;
		g->rlen--;
		t->state = GT_RUNNING;
		g->st.switches++;
		__atomic_store_n(&g->current, t, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&u->qlock);
		run_thread(g, t);
		__atomic_store_n(&g->current, NULL, __ATOMIC_RELEASE);
		pthread_mutex_lock(&u->qlock);
		if (t->state == GT_DONE)
			g->live--;
	}
	pthread_mutex_unlock(&u->qlock);
	if (!(old.ss_flags & SS_DISABLE))
		sigaltstack(&old, NULL);
	kick_uninstall();
	carrier_unregister(u, slot);
	return 0;
}

void uvm_green_stats(const struct uvm_green *g, struct uvm_green_stats *out)
{
	pthread_mutex_lock(&g->u->qlock);
	*out = g->st;
	out->threads = g->n;
	pthread_mutex_unlock(&g->u->qlock);
}

void uvm_green_destroy(struct uvm_green *g)
{
	if (!g)
		return;
	for (unsigned i = 0; i < g->n; i++)
		if (g->t[i].map)
			munmap(g->t[i].map, g->t[i].map_len);
	pthread_cond_destroy(&g->wake);
	free(g->ready);
	free(g->t);
	free(g);
}
