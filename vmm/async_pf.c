// SPDX-License-Identifier: MIT
/*
 * Asynchronous page faults, the host's half: tokens, the workers that serve
 * the faults, the page-ready ring, failed reads kept for their waiter, the
 * vCPU's halt. See async_pf.h; the protocol is docs/async.md's.
 */
#include "async_pf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum slot_state { SLOT_FREE, SLOT_RESERVED, SLOT_QUEUED, SLOT_SERVING };

struct apf_job {
	uint32_t vcpu;
	enum slot_state state;
	uint64_t token;
	vpn_t vpn;
	enum access_kind kind;
	struct apf_job *next;      /* the work queue */
};

struct apf_failure {
	uint64_t token;            /* 0: none */
	vpn_t vpn;
	int err;                   /* positive errno */
};

struct apf_vcpu {
	struct apf_job slot[APF_SLOTS];
	struct apf_failure failure[APF_SLOTS];
	uint32_t next_failure;     /* the record to overwrite next when all are used */
	uint64_t next_token;       /* tokens are (vcpu + 1) << 32 | sequence: never 0 */
	pthread_cond_t ready;      /* a token was published in its ring */
	struct apf_stats st;
};

struct apf {
	struct apf_config cfg;
	pthread_mutex_t lock;
	pthread_cond_t work;       /* a job was queued, or stop */
	pthread_cond_t idle;       /* nothing served or queued any more */
	struct apf_job *queue, **tail;
	uint32_t serving;
	bool stopping;
	uint32_t nworkers;
	struct apf_vcpu vcpu[PFLAB_MAX_VCPUS];
	pthread_t workers[PFLAB_MAX_VCPUS * APF_SLOTS];
};

static uint64_t mono_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void note(struct apf *a, const char *what, uint32_t vcpu, uint64_t token, vpn_t vpn,
		 int err)
{
	if (!a->cfg.log)
		return;
	fprintf(a->cfg.log, "apf: vcpu %u %s token %llu page %u", vcpu, what,
		(unsigned long long)(token & 0xffffffffu), vpn);
	if (err)
		fprintf(a->cfg.log, ": %s", strerror(err));
	fputc('\n', a->cfg.log);
}

static struct apf_job *find(struct apf *a, uint32_t vcpu, uint64_t token)
{
	struct apf_vcpu *vc = &a->vcpu[vcpu];

	for (uint32_t i = 0; i < APF_SLOTS; i++)
		if (vc->slot[i].state != SLOT_FREE && vc->slot[i].token == token)
			return &vc->slot[i];
	return NULL;
}

/* Publish "page ready, token" in the vCPU's ring: the entry, then the head
 * (the guest reads the head first). Locked. */
static void publish(struct apf *a, uint32_t vcpu, uint64_t token)
{
	volatile struct pflab_mailbox *mb = a->cfg.mb[vcpu];
	struct apf_vcpu *vc = &a->vcpu[vcpu];
	uint32_t head = mb->apf_ready_head;

	if (head - mb->apf_ready_tail >= PFLAB_APF_RING) {
		vc->st.overflows++; /* the guest lost track: it will never be woken */
		return;
	}
	mb->apf_ready[head % PFLAB_APF_RING] = token;
	__atomic_store_n(&mb->apf_ready_head, head + 1, __ATOMIC_RELEASE);
	vc->st.ready++;
	pthread_cond_broadcast(&vc->ready);
}

/* Keep a failed read for the thread that waits for it. Locked. */
static void remember_failure(struct apf_vcpu *vc, uint64_t token, vpn_t vpn, int err)
{
	struct apf_failure *f = NULL;

	for (uint32_t i = 0; i < APF_SLOTS && !f; i++)
		if (vc->failure[i].token == 0)
			f = &vc->failure[i];
	if (!f) /* all kept: the oldest waiter will read again, never wrong data */
		f = &vc->failure[vc->next_failure++ % APF_SLOTS];
	*f = (struct apf_failure){ token, vpn, err };
}

static void *worker_main(void *arg)
{
	struct apf *a = arg;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		struct apf_job *j;
		int rc;

		while (!a->queue && !a->stopping)
			pthread_cond_wait(&a->work, &a->lock);
		if (!a->queue)
			break;
		j = a->queue;
		a->queue = j->next;
		if (!a->queue)
			a->tail = &a->queue;
		j->state = SLOT_SERVING;
		a->serving++;
		pthread_mutex_unlock(&a->lock);

		rc = a->cfg.serve(a->cfg.ctx, j->vcpu, j->vpn, j->kind);

		pthread_mutex_lock(&a->lock);
		if (rc < 0 && rc != APF_FATAL) {
			a->vcpu[j->vcpu].st.failed++;
			remember_failure(&a->vcpu[j->vcpu], j->token, j->vpn, -rc);
			note(a, "ready (read failed)", j->vcpu, j->token, j->vpn, -rc);
		} else {
			note(a, "ready", j->vcpu, j->token, j->vpn, 0);
		}
		publish(a, j->vcpu, j->token);
		j->state = SLOT_FREE;
		if (--a->serving == 0 && !a->queue)
			pthread_cond_broadcast(&a->idle);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

struct apf *apf_create(const struct apf_config *cfg, char *err, size_t errlen)
{
	struct apf *a;

	if (cfg->nvcpus < 1 || cfg->nvcpus > PFLAB_MAX_VCPUS || cfg->nworkers < 1 ||
	    cfg->nworkers > cfg->nvcpus * APF_SLOTS || !cfg->serve) {
		snprintf(err, errlen, "async PF: %u vCPUs, %u workers: out of range", cfg->nvcpus,
			 cfg->nworkers);
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "out of memory for async PF");
		return NULL;
	}
	a->cfg = *cfg;
	a->tail = &a->queue;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->work, NULL);
	pthread_cond_init(&a->idle, NULL);
	for (uint32_t v = 0; v < cfg->nvcpus; v++) {
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&a->vcpu[v].ready, &ca);
		pthread_condattr_destroy(&ca);
		a->vcpu[v].next_token = ((uint64_t)v + 1) << 32 | 1;
	}
	for (; a->nworkers < cfg->nworkers; a->nworkers++)
		if (pthread_create(&a->workers[a->nworkers], NULL, worker_main, a) != 0) {
			snprintf(err, errlen, "cannot start async PF worker thread %u", a->nworkers);
			apf_destroy(a);
			return NULL;
		}
	return a;
}

void apf_destroy(struct apf *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	while (a->serving || a->queue)
		pthread_cond_wait(&a->idle, &a->lock);
	a->stopping = true;
	pthread_cond_broadcast(&a->work);
	pthread_mutex_unlock(&a->lock);
	for (uint32_t i = 0; i < a->nworkers; i++)
		pthread_join(a->workers[i], NULL);
	for (uint32_t v = 0; v < a->cfg.nvcpus; v++)
		pthread_cond_destroy(&a->vcpu[v].ready);
	pthread_cond_destroy(&a->idle);
	pthread_cond_destroy(&a->work);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

int apf_reserve(struct apf *a, uint32_t vcpu, vpn_t vpn, enum access_kind kind, uint64_t *token)
{
	struct apf_vcpu *vc = &a->vcpu[vcpu];
	struct apf_job *j = NULL;

	pthread_mutex_lock(&a->lock);
	for (uint32_t i = 0; i < APF_SLOTS && !j; i++)
		if (vc->slot[i].state == SLOT_FREE)
			j = &vc->slot[i];
	if (!j) {
		vc->st.busy++;
		pthread_mutex_unlock(&a->lock);
		return -EBUSY;
	}
	*j = (struct apf_job){ .vcpu = vcpu, .state = SLOT_RESERVED, .token = vc->next_token++,
			       .vpn = vpn, .kind = kind };
	*token = j->token;
	pthread_mutex_unlock(&a->lock);
	return 0;
}

void apf_commit(struct apf *a, uint32_t vcpu, uint64_t token)
{
	struct apf_job *j;

	pthread_mutex_lock(&a->lock);
	j = find(a, vcpu, token);
	if (j && j->state == SLOT_RESERVED) {
		a->vcpu[vcpu].st.not_present++;
		note(a, "not-present", vcpu, token, j->vpn, 0);
		j->state = SLOT_QUEUED;
		j->next = NULL;
		*a->tail = j;
		a->tail = &j->next;
		pthread_cond_signal(&a->work);
	}
	pthread_mutex_unlock(&a->lock);
}

void apf_cancel(struct apf *a, uint32_t vcpu, uint64_t token)
{
	struct apf_job *j;

	pthread_mutex_lock(&a->lock);
	j = find(a, vcpu, token);
	if (j && j->state == SLOT_RESERVED)
		j->state = SLOT_FREE;
	pthread_mutex_unlock(&a->lock);
}

int apf_take_failure(struct apf *a, uint32_t vcpu, uint64_t resumed, vpn_t vpn, int *err)
{
	struct apf_vcpu *vc = &a->vcpu[vcpu];
	int found = 0;

	if (resumed == 0)
		return 0;
	pthread_mutex_lock(&a->lock);
	for (uint32_t i = 0; i < APF_SLOTS && !found; i++) {
		struct apf_failure *f = &vc->failure[i];

		if (f->token == resumed && f->vpn == vpn) {
			*err = f->err;
			f->token = 0;
			vc->st.failures_delivered++;
			note(a, "read error to its waiter,", vcpu, resumed, vpn, *err);
			found = 1;
		}
	}
	pthread_mutex_unlock(&a->lock);
	return found;
}

int apf_wait(struct apf *a, uint32_t vcpu, const int *stop, const int *stop_too)
{
	volatile struct pflab_mailbox *mb = a->cfg.mb[vcpu];
	struct apf_vcpu *vc = &a->vcpu[vcpu];
	uint64_t t0 = mono_ns(CLOCK_MONOTONIC), c0 = mono_ns(CLOCK_THREAD_CPUTIME_ID);
	int rc = 0;

	pthread_mutex_lock(&a->lock);
	vc->st.halts++;
	while (mb->apf_ready_head == mb->apf_ready_tail) {
		uint64_t at = mono_ns(CLOCK_MONOTONIC) + 50000000u;
		struct timespec ts = { .tv_sec = (time_t)(at / 1000000000u),
				       .tv_nsec = (long)(at % 1000000000u) };

		if (__atomic_load_n(stop, __ATOMIC_ACQUIRE) ||
		    __atomic_load_n(stop_too, __ATOMIC_ACQUIRE)) {
			rc = -1;
			break;
		}
		pthread_cond_timedwait(&vc->ready, &a->lock, &ts);
	}
	vc->st.idle_ns += mono_ns(CLOCK_MONOTONIC) - t0;
	vc->st.idle_cpu_ns += mono_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
	pthread_mutex_unlock(&a->lock);
	return rc;
}

struct apf_stats apf_stats(struct apf *a, uint32_t vcpu)
{
	struct apf_stats st;

	pthread_mutex_lock(&a->lock);
	st = a->vcpu[vcpu].st;
	pthread_mutex_unlock(&a->lock);
	return st;
}
