// SPDX-License-Identifier: MIT
/*
 * The KVM host as a DSM node (--dsm, docs/external-pager.md, "Distributed
 * shared memory"): the data region is shared with other pflab VMs through
 * the DSM manager, and its faults go there instead of to the pager.
 *
 * Page vpn's bytes live in frame vpn (the run has a frame per page), and its
 * access at this node is its host mapping under the kvm trap: none
 * (PROT_NONE: every access exits), read-only (a write exits) or writable.
 * The node's service thread (vmm/server/dsm_node.c) changes mappings while
 * the vCPU runs: replacing a host mapping makes KVM's MMU notifier drop the
 * guest's translation first, so a page taken away is no longer reachable
 * when its bytes are copied out. A page just granted stays pinned until the
 * vCPU re-enters KVM_RUN (vmm_exit.c), so that an access the host emulates
 * (KVM_EXIT_MMIO) is complete before the page can leave.
 */
#include "vmm_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int set_access(void *ctx, uint32_t vpn, enum dsm_access a)
{
	struct vmm *v = ctx;
	struct region *r = &v->region;
	int rc;

	rc = a == DSM_NONE ? r->trap->unmap(r, vpn, vpn) : r->trap->map(r, vpn, vpn, a == DSM_WRITE);
	if (rc == 0) {
		/* What inspect.c and the trap query read. */
		__atomic_store_n(&v->mmu.state[vpn],
				 (uint8_t)(a == DSM_NONE ? 0 : PG_MAPPED | (a == DSM_WRITE ? PG_WRITABLE : 0)),
				 __ATOMIC_RELEASE);
		v->mmu.frame[vpn] = a == DSM_NONE ? NO_FRAME : vpn;
	}
	return rc;
}

static uint8_t *page_bytes(void *ctx, uint32_t vpn)
{
	struct vmm *v = ctx;

	return v->region.frames + (size_t)vpn * PAGE;
}

/* The node failed (the manager died, refused, or went silent): stop the
 * guest, which may be spinning on a page it holds and never fault again. */
static void on_fail(void *ctx, const char *why)
{
	struct vmm *v = ctx;

	vmm_fail(v, "%s", why);
	__atomic_store_n(&v->stopping, 1, __ATOMIC_RELEASE);
	kick_vcpus(v);
}

static const struct dsm_node_ops node_ops = {
	.set_access = set_access,
	.page = page_bytes,
	.on_fail = on_fail,
};

int vmm_dsm_open(struct vmm *v)
{
	const struct vmm_config *c = v->cfg;
	char why[300];

	if (c->trap != &trap_kvm_ops || v->nvcpus != 1 || c->nframes != c->npages)
		return vmm_fail(v, "--dsm needs the kvm trap, one vCPU and a frame per page");
	v->dsm = dsm_node_open(c->dsm_addr, c->dsm_node, c->dsm_nodes, c->npages,
			       c->dsm_timeout_ms, &node_ops, v, why, sizeof(why));
	if (!v->dsm)
		return vmm_fail(v, "--dsm %s: %s", c->dsm_addr, why);
	return 0;
}

int vmm_dsm_fault(struct vmm *v, vpn_t vpn, enum access_kind kind)
{
	if (dsm_node_fault(v->dsm, vpn, kind == ACCESS_WRITE) != 0)
		return vmm_fail(v, "%s", dsm_node_error(v->dsm));
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

bool vmm_dsm_close(struct vmm *v, struct vmm_result *res, bool ok)
{
	bool left = true;
	size_t n;
	uint32_t *lat;

	if (!v->dsm)
		return true;
	dsm_node_unpin(v->dsm); /* the guest has stopped: nothing is in flight */
	if (ok && dsm_node_leave(v->dsm) != 0) {
		vmm_fail(v, "%s", dsm_node_error(v->dsm));
		left = false;
	}
	if (res) {
		const uint32_t *l = dsm_node_latencies(v->dsm, &n);

		dsm_node_get_stats(v->dsm, &res->dsm);
		lat = n ? malloc(n * sizeof(*lat)) : NULL;
		if (lat) {
			memcpy(lat, l, n * sizeof(*lat));
			qsort(lat, n, sizeof(*lat), cmp_u32);
			res->dsm_lat_p50_us = lat[n / 2] / 1e3;
			res->dsm_lat_p99_us = lat[(n * 99) / 100] / 1e3;
			free(lat);
		}
	}
	dsm_node_close(v->dsm);
	v->dsm = NULL;
	return left;
}
