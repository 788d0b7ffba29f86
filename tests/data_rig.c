// SPDX-License-Identifier: MIT
/* A pager whose pages carry data: see data_rig.h. */
#include "data_rig.h"

#include <stdlib.h>
#include <string.h>

#include "test.h"

static int ds_page_in(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	struct data_store *d = (struct data_store *)bs;

	d->frame[f] = d->slot[vpn];
	d->reads[vpn]++;
	return 0;
}

static int ds_zero_fill(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	(void)vpn;
	((struct data_store *)bs)->frame[f] = 0;
	return 0;
}

/* Called by the paging daemon without the pager lock: only the gate's own
 * fields are shared, under the store's lock. */
static int ds_page_out(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	struct data_store *d = (struct data_store *)bs;

	pthread_mutex_lock(&d->lock);
	if (d->gate_vpn == (int64_t)vpn) {
		d->gate_entered = true;
		pthread_cond_broadcast(&d->cond);
		while (d->gate_closed)
			pthread_cond_wait(&d->cond, &d->lock);
	}
	pthread_mutex_unlock(&d->lock);
	d->slot[vpn] = d->frame[f];
	d->writes[vpn]++;
	return 0;
}

static const struct store_ops data_ops = {
	.page_in = ds_page_in, .zero_fill = ds_zero_fill, .page_out = ds_page_out,
};

void data_rig_init(struct data_rig *r, const struct data_rig_config *cfg)
{
	char err[200];

	memset(r, 0, sizeof(*r));
	r->npages = cfg->pages;
	CU_ASSERT_FATAL(sim_mmu_init(&r->mmu, cfg->frames) == 0);
	r->data = (struct data_store){
		.bs.ops = &data_ops,
		.frame = calloc(cfg->frames, sizeof(uint64_t)),
		.slot = calloc(cfg->pages, sizeof(uint64_t)),
		.reads = calloc(cfg->pages, sizeof(uint64_t)),
		.writes = calloc(cfg->pages, sizeof(uint64_t)),
		.gate_vpn = -1,
	};
	pthread_mutex_init(&r->data.lock, NULL);
	pthread_cond_init(&r->data.cond, NULL);
	r->want = calloc(cfg->pages, sizeof(uint64_t));
	CU_ASSERT_FATAL(r->data.frame && r->data.slot && r->data.reads && r->data.writes &&
			r->want);
	if (cfg->inject) {
		struct inject_rule *rules;
		size_t n;

		CU_ASSERT_EQUAL_FATAL(inject_parse(cfg->inject, &rules, &n, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL_FATAL(inject_init(&r->inject, &r->data.bs, rules, n), 0);
		r->injecting = true;
	}
	r->p = pager_create(&(struct pager_config){
		.nframes = cfg->frames,
		.npages = cfg->pages,
		.policy = policy_find(cfg->policy),
		.params = POLICY_PARAMS_DEFAULT,
		.mmu = &r->mmu.mmu,
		.store = r->injecting ? &r->inject.bs : &r->data.bs,
		.pool = cfg->pool,
	}, err, sizeof(err));
	if (!r->p)
		fprintf(stderr, "data_rig: %s\n", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->p);
}

void data_rig_fini(struct data_rig *r)
{
	data_rig_gate_open(r);
	pager_destroy(r->p);
	if (r->injecting)
		inject_fini(&r->inject);
	sim_mmu_fini(&r->mmu);
	pthread_mutex_destroy(&r->data.lock);
	pthread_cond_destroy(&r->data.cond);
	free(r->data.frame);
	free(r->data.slot);
	free(r->data.reads);
	free(r->data.writes);
	free(r->want);
}

frame_t data_rig_access(struct data_rig *r, vpn_t vpn, bool write, unsigned *retries)
{
	struct pager *p = r->p;
	frame_t f;

	pager_lock(p);
	f = pager_lookup(p, vpn);
	p->now++;
	for (unsigned k = 0; f == NO_FRAME && k < 16; k++) {
		f = pager_fault(p, vpn, write ? ACCESS_WRITE : ACCESS_READ);
		if (f == NO_FRAME && p->fail != PAGER_FAIL_PAGE_IN)
			break;
		if (f == NO_FRAME && retries)
			++*retries;
	}
	if (f != NO_FRAME) {
		if (p->policy->ops->hit && !pager_frame_pinned(p, f))
			p->policy->ops->hit(p->policy, f);
		sim_mmu_touch(&r->mmu, f, write);
		CU_ASSERT_EQUAL(r->data.frame[f], r->want[vpn]);
		if (write)
			r->data.frame[f] = r->want[vpn] = r->want[vpn] + 1;
	}
	p->stats.refs++;
	if (p->tick && p->now >= p->next_tick) {
		pager_tick(p);
		p->next_tick += p->tick;
	}
	pager_unlock(p);
	return f;
}

void data_rig_check(struct data_rig *r)
{
	for (vpn_t v = 0; v < r->npages; v++) {
		frame_t f = pager_lookup(r->p, v);

		if (f != NO_FRAME || pool_holds(r->p, v, &f)) {
			CU_ASSERT_EQUAL(r->data.frame[f], r->want[v]);
		} else if (r->p->pt[v].flags & PTE_ON_STORE) {
			CU_ASSERT_EQUAL(r->data.slot[v], r->want[v]);
		} else {
			CU_ASSERT_EQUAL(r->want[v], 0);
		}
	}
}

void data_rig_gate_close(struct data_rig *r, vpn_t vpn)
{
	pthread_mutex_lock(&r->data.lock);
	r->data.gate_vpn = vpn;
	r->data.gate_closed = true;
	r->data.gate_entered = false;
	pthread_mutex_unlock(&r->data.lock);
}

void data_rig_gate_wait_entered(struct data_rig *r)
{
	pthread_mutex_lock(&r->data.lock);
	while (!r->data.gate_entered)
		pthread_cond_wait(&r->data.cond, &r->data.lock);
	pthread_mutex_unlock(&r->data.lock);
}

void data_rig_gate_open(struct data_rig *r)
{
	pthread_mutex_lock(&r->data.lock);
	r->data.gate_closed = false;
	pthread_cond_broadcast(&r->data.cond);
	pthread_mutex_unlock(&r->data.lock);
}
