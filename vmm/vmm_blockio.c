// SPDX-License-Identifier: MIT
/*
 * The KVM host's side of prefetch_page() and page-level asynchronous I/O:
 * the hypercalls, answered by blockio.c under the fault lock, and the
 * upcall of a failed read before the vCPU runs again. docs/async.md.
 */
#include "vmm_internal.h"

#include <pthread.h>

#include "blockio.h"
#include "fault_log.h"

/* HC_PREFETCH: the RFC's answer in mb->pf_result. A page that needs a
 * fault without I/O gets it here, as the guest's access would. */
static int prefetch(struct vcpu *c)
{
	struct vmm *v = c->v;
	volatile struct pflab_mailbox *mb = c->mb;
	uint64_t page = mb->pf_page;
	int rc;

	if (page >= v->region.npages)
		return vmm_fail(v, "guest prefetched page %llu outside the data region of %u pages",
			    (unsigned long long)page, v->region.npages);
	pthread_mutex_lock(&v->fault_lock);
	rc = blockio_prefetch(v->bio, (vpn_t)page);
	if (rc == BLOCKIO_FAULT) {
		rc = data_fault(v, c, (vpn_t)page, ACCESS_READ);
		if (rc == 0) {
			blockio_prefetch_served(v->bio);
			rc = PF_ACCESSIBLE;
		} else if (rc == 1) {
			rc = vmm_fail(v, "pager: %s, serving a prefetch that needed no I/O",
				      v->pager->err);
		}
	}
	pthread_mutex_unlock(&v->fault_lock);
	if (rc < 0)
		return -1;
	mb->pf_result = (uint32_t)rc;
	return 0;
}

int blockio_hcall(struct vcpu *c, uint32_t nr)
{
	struct vmm *v = c->v;
	volatile struct pflab_mailbox *mb = c->mb;
	uint32_t first = mb->bio_first, count = mb->bio_count, queued = 0, page = 0;
	uint64_t req = 0;
	int rc = 0;

	if (!v->bio)
		return vmm_fail(v, "guest made hypercall %u without --prefetch or --workload blockio",
			    nr);
	if (nr == HC_PREFETCH)
		return prefetch(c);
	pthread_mutex_lock(&v->fault_lock);
	switch (nr) {
	case HC_READ_PAGES:
		rc = blockio_read_pages(v->bio, first, count, &req, &queued);
		mb->bio_req = req;
		mb->bio_queued = queued;
		break;
	case HC_WRITE_PAGES:
		rc = blockio_write_pages(v->bio, first, count, &queued);
		mb->bio_queued = queued;
		break;
	case HC_SYNC_PAGES:
		mb->bio_errno = blockio_sync_pages(v->bio, &page);
		mb->bio_err_page = page;
		break;
	case HC_DROP_PAGES:
		rc = blockio_drop_pages(v->bio, first, count);
		break;
	case HC_MARK:
		blockio_mark(v->bio, mb->mark, now_ns());
		break;
	}
	pthread_mutex_unlock(&v->fault_lock);
	if (rc)
		return vmm_fail(v, "guest asked for pages %u..%u+%u outside the data region of %u pages",
			    first, first, count, v->region.npages);
	if (blockio_error(v->bio))
		return vmm_fail(v, "page-level I/O: %s", blockio_error(v->bio));
	if (v->flog && nr == HC_READ_PAGES)
		fault_log_line(v->flog, "read_pages %u+%u: request %llu, %u reads started", first,
			       count, (unsigned long long)req, queued);
	return 0;
}

int blockio_before_run(struct vcpu *c)
{
	struct vmm *v = c->v;
	char why[200];
	int rc = blockio_upcall(v->bio, &c->vm, v->wired, PFLAB_WIRED_SIZE, c->mb, why,
				sizeof(why));

	if (rc < 0)
		return vmm_fail(v, "upcall of a failed read: %s", why);
	if (rc > 0 && v->cfg->verbose)
		fprintf(stderr, "upcall: read_pages request %llu, page %u failed: errno %u\n",
			(unsigned long long)c->mb->bio_up_req, c->mb->bio_up_page,
			c->mb->bio_up_errno);
	if (blockio_error(v->bio))
		return vmm_fail(v, "page-level I/O: %s", blockio_error(v->bio));
	return 0;
}
