// SPDX-License-Identifier: MIT
/*
 * The paging server's loop: see server.h. The protocol's bytes are
 * proto.c's; this file owns the sockets, the clients, their regions and the
 * frame budget.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "server_internal.h"
#include "dsm.h"

/* A region without a store moves no data: a store that succeeds at
 * everything, so that --inject has something to wrap. */
static int null_io(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	(void)bs;
	(void)vpn;
	(void)f;
	return 0;
}

static const struct store_ops null_ops = { .page_in = null_io, .zero_fill = null_io,
					   .page_out = null_io };
static struct backing_store null_store = { .ops = &null_ops };

/* ---- the remote MMU -------------------------------------------------- */

static int rmmu_map(struct mmu *mmu, vpn_t vpn, frame_t f, enum access_kind why)
{
	struct rmmu *m = (struct rmmu *)mmu;

	(void)vpn;
	m->bits[f] = RMMU_REFERENCED | (why == ACCESS_WRITE ? RMMU_DIRTY : 0);
	return 0;
}

static void rmmu_unmap(struct mmu *mmu, vpn_t vpn, frame_t f)
{
	struct rmmu *m = (struct rmmu *)mmu;
	struct region *r = m->r;
	struct proto_msg ev = { .type = PROTO_EVICT };

	ev.u.evict.region = r->id;
	ev.u.evict.page = vpn;
	ev.u.evict.frame = f;
	ev.u.evict.flags = (m->bits[f] & RMMU_DIRTY) ||
				   (r->pager && (r->pager->frames[f].flags & FRAME_DIRTY))
			   ? PROTO_PAGE_DIRTY : 0;
	m->bits[f] = 0;
	r->unreturned[vpn]++;
	if (r->data && (ev.u.evict.flags & PROTO_PAGE_DIRTY))
		r->owed[vpn] = 1;
	queue(r->c, &ev);
}

static bool rmmu_test_and_clear(struct mmu *mmu, frame_t f, uint8_t bit)
{
	struct rmmu *m = (struct rmmu *)mmu;
	bool was = m->bits[f] & bit;

	m->bits[f] &= (uint8_t)~bit;
	return was;
}

/* A client that sees only faults (the KVM host) learns of a page's next
 * access only if the page traps again: clearing the bit unmaps it there
 * (SAMPLE), as the in-process KVM MMU does (vmm/mmu_kvm.c), and the next
 * access comes back as a TOUCH. */
static bool rmmu_referenced(struct mmu *mmu, vpn_t vpn, frame_t f)
{
	struct rmmu *m = (struct rmmu *)mmu;
	bool was = rmmu_test_and_clear(mmu, f, RMMU_REFERENCED);

	if (was && m->r->sampled) {
		struct proto_msg sm = { .type = PROTO_SAMPLE };

		sm.u.evict.region = m->r->id;
		sm.u.evict.page = vpn;
		sm.u.evict.frame = f;
		queue(m->r->c, &sm);
	}
	return was;
}

static bool rmmu_dirty(struct mmu *mmu, vpn_t vpn, frame_t f)
{
	(void)vpn;
	return rmmu_test_and_clear(mmu, f, RMMU_DIRTY);
}

static const struct mmu_ops rmmu_ops = {
	.map = rmmu_map,
	.unmap = rmmu_unmap,
	.test_and_clear_referenced = rmmu_referenced,
	.test_and_clear_dirty = rmmu_dirty,
};

/* ---- output ----------------------------------------------------------- */

/* Append m to c's output; a client whose output cannot grow is closed. */
void queue(struct client *c, struct proto_msg *m)
{
	size_t need = PROTO_HDR + PROTO_MAX_PAYLOAD;

	if (c->closing && m->type != PROTO_ERROR)
		return;
	if (c->outcap - c->outlen < need) {
		size_t cap = c->outcap ? c->outcap * 2 : 2 * PROTO_MAX_MSG;
		uint8_t *bigger;

		while (cap - c->outlen < need)
			cap *= 2;
		bigger = realloc(c->out, cap);
		if (!bigger) {
			c->closing = true;
			return;
		}
		c->out = bigger;
		c->outcap = cap;
	}
	if (!m->seq)
		m->seq = ++c->seq;
	c->outlen += proto_encode(m, c->out + c->outlen, c->outcap - c->outlen);
}

void queue_error(struct client *c, uint32_t region, uint32_t page, int err,
			const struct proto_msg *req, const char *fmt, ...)
{
	struct proto_msg m = { .type = PROTO_ERROR };
	char text[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	m.u.error.region = region;
	m.u.error.page = page;
	m.u.error.err = err > 0 && err < 4096 ? err : EPROTO;
	m.u.error.req_type = req && req->type <= PROTO_TYPE_MAX ? req->type : 0;
	m.u.error.req_seq = req ? req->seq : 0;
	/* The field is printable ASCII: anything else becomes '?'. */
	for (size_t i = 0; i < PROTO_TEXT && text[i]; i++)
		m.u.error.text[i] = text[i] >= 0x20 && text[i] <= 0x7e ? text[i] : '?';
	queue(c, &m);
	if (c->s->cfg.verbose)
		fprintf(stderr, "pflab pager: client %d: error %d: %s\n", c->fd, m.u.error.err, text);
}

/* A protocol violation: say why, then close once the error is sent. */
#define REFUSE(c, region, page, err, req, ...)                               \
	do {                                                                  \
		queue_error(c, region, page, err, req, __VA_ARGS__);          \
		(c)->closing = true;                                          \
		return;                                                       \
	} while (0)

/* Write what is queued; false if the peer is gone. */
static bool flush(struct client *c)
{
	size_t done = 0;

	while (done < c->outlen) {
		ssize_t n = send(c->fd, c->out + done, c->outlen - done, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	memmove(c->out, c->out + done, c->outlen - done);
	c->outlen -= done;
	return true;
}

/* ---- regions ---------------------------------------------------------- */

static void region_close(struct pserver *s, struct region *r)
{
	if (!r->id)
		return;
	keep_close(s, r); /* before the frames and the client's memfd go */
	ws_pages_fini(&r->ws);
	pager_destroy(r->pager);
	if (r->injecting)
		inject_fini(&r->inj);
	free(r->mmu.bits);
	free(r->unreturned);
	free(r->owed);
	handover_destroy(r->ho);
	if (r->data)
		munmap(r->data, (size_t)r->npages * r->page_size);
	if (s->cfg.alloc == PSERVER_FIXED)
		s->frames_free += r->frames;
	s->pages_free += r->npages;
	memset(r, 0, sizeof(*r));
}

static void client_close(struct pserver *s, struct client *c)
{
	if (c->fd < 0)
		return;
	for (size_t i = 0; i < PSERVER_MAX_REGIONS; i++)
		region_close(s, &c->regions[i]);
	dsm_disconnect(s->dsm, c);
	if (s->cfg.verbose)
		fprintf(stderr, "pflab pager: client %d closed; %u frames free\n", c->fd,
			s->frames_free);
	close(c->fd);
	for (unsigned i = 0; i < c->nfds; i++)
		close(c->fds[i]);
	free(c->in);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	s->nclients--;
}

/* The region a message names, if it is this client's. */
static struct region *region_of(struct client *c, uint32_t id)
{
	if (id < 1 || id > PSERVER_MAX_REGIONS || !c->regions[id - 1].id)
		return NULL;
	return &c->regions[id - 1];
}

static struct policy_params params_of(const struct proto_policy *pol)
{
	return (struct policy_params){ .seed = pol->seed, .tick = pol->tick,
				       .window = pol->window, .aging_bits = pol->aging_bits };
}

/* A policy the server can run for a client: it sees the client's hits (REFS)
 * but not its future. */
static const struct policy_ops *remote_policy(const char *name, char *why, size_t whylen)
{
	const struct policy_ops *ops = policy_find(name);

	if (!ops)
		snprintf(why, whylen, "unknown policy '%s'", name);
	else if (ops->flags & POLICY_NEEDS_FUTURE)
		snprintf(why, whylen, "policy %s needs the future: not served remotely", name);
	else
		return ops;
	return NULL;
}

/* A registration that failed half-way: what it allocated goes; kept pages
 * (k's) stay kept. */
static void region_undo(struct region *r, const struct kept *k)
{
	free(r->mmu.bits);
	free(r->unreturned);
	free(r->owed);
	ws_pages_fini(&r->ws);
	handover_destroy(r->ho);
	if (r->data && !(k && r->data == k->data))
		munmap(r->data, (size_t)r->npages * r->page_size);
	memset(r, 0, sizeof(*r));
}

static void do_register(struct pserver *s, struct client *c, const struct proto_msg *m)
{
	const struct policy_ops *ops;
	struct region *r = NULL;
	struct kept *k = NULL; /* the kept pages this region takes back */
	struct proto_msg reply = { .type = PROTO_REGISTERED, .seq = m->seq };
	char why[200];
	uint32_t want = m->u.reg.frames < m->u.reg.npages ? m->u.reg.frames : m->u.reg.npages;

	if (!(ops = remote_policy(m->u.reg.policy.name, why, sizeof(why)))) {
		queue_error(c, 0, 0, EINVAL, m, "%s", why);
		return;
	}
	for (size_t i = 0; i < PSERVER_MAX_REGIONS && !r; i++)
		if (!c->regions[i].id)
			r = &c->regions[i];
	if (!r) {
		queue_error(c, 0, 0, ENOSPC, m, "at most %d regions per client", PSERVER_MAX_REGIONS);
		return;
	}
	if (s->cfg.alloc == PSERVER_FIXED && want > s->frames_free) {
		queue_error(c, 0, 0, ENOMEM, m, "%u frames asked, %u of the budget free", want,
			    s->frames_free);
		return;
	}
	if (m->u.reg.npages > s->pages_free) {
		queue_error(c, 0, 0, ENOMEM, m, "%u pages asked, %llu of the page limit free",
			    m->u.reg.npages, (unsigned long long)s->pages_free);
		return;
	}
	if ((m->u.reg.flags & PROTO_REG_HANDOVER) && s->cfg.alloc != PSERVER_FIXED) {
		/* Its pages are taken while its vCPU runs: not safe. */
		queue_error(c, 0, 0, EINVAL, m, "a handed-over region needs fixed partitions");
		return;
	}
	if ((m->u.reg.flags & PROTO_REG_HANDOVER) &&
	    (m->u.reg.store != PROTO_STORE_MEMORY || m->u.reg.page_size != 4096)) {
		queue_error(c, 0, 0, EINVAL, m, "a handed-over region needs the memory store and "
			    "pages of 4096 bytes");
		return;
	}
	if (m->u.reg.store == PROTO_STORE_MEMORY && m->u.reg.page_size > PROTO_MAX_DATA) {
		queue_error(c, 0, 0, EINVAL, m, "pages of %u bytes do not fit a message",
			    m->u.reg.page_size);
		return;
	}
	if (m->u.reg.flags & PROTO_REG_KEY) {
		int rc = keep_check(s, c, m, &k, why, sizeof(why));

		if (rc) {
			queue_error(c, 0, 0, -rc, m, "%s", why);
			return;
		}
	}
	r->c = c;
	r->id = (uint32_t)(r - c->regions) + 1;
	r->npages = m->u.reg.npages;
	r->page_size = m->u.reg.page_size;
	r->sampled = m->u.reg.flags & PROTO_REG_SAMPLED;
	r->mmu = (struct rmmu){ .mmu.ops = &rmmu_ops, .bits = calloc(want, 1), .r = r };
	r->unreturned = calloc(r->npages, sizeof(*r->unreturned));
	r->owed = calloc(r->npages, 1);
	if (s->cfg.alloc == PSERVER_WS && ws_pages_init(&r->ws, r->npages) != 0) {
		free(r->mmu.bits); /* refused below: out of memory */
		r->mmu.bits = NULL;
	}
	if (k) {
		r->data = k->data;
	} else if (m->u.reg.store == PROTO_STORE_MEMORY) {
		r->data = mmap(NULL, (size_t)r->npages * r->page_size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (r->data == MAP_FAILED)
			r->data = NULL;
	}
	if (m->u.reg.flags & PROTO_REG_HANDOVER)
		r->ho = handover_create(r, want);
	if (s->cfg.inject) {
		struct inject_rule *rules = NULL;
		size_t n = 0;

		if (inject_parse(s->cfg.inject, &rules, &n, why, sizeof(why)) != 0 ||
		    inject_init(&r->inj, r->ho ? handover_store(r->ho) : &null_store, rules, n) != 0) {
			free(rules);
			region_undo(r, k);
			queue_error(c, 0, 0, ENOMEM, m, "--inject: cannot set up the store");
			return;
		}
		r->injecting = true;
	}
	if (r->mmu.bits && r->unreturned && r->owed &&
	    (r->data || m->u.reg.store != PROTO_STORE_MEMORY) &&
	    (r->ho || !(m->u.reg.flags & PROTO_REG_HANDOVER)))
		r->pager = pager_create(&(struct pager_config){
			.nframes = want,
			.npages = r->npages,
			.policy = ops,
			.params = params_of(&m->u.reg.policy),
			/* Pages taken back are all on the store (zeros where
			 * never written): every first touch reads it. */
			.first_touch_major = k || !(m->u.reg.flags & PROTO_REG_ZERO_FILL),
			.mmu = r->ho ? handover_mmu(r->ho) : &r->mmu.mmu,
			.store = r->injecting ? &r->inj.bs : r->ho ? handover_store(r->ho) : NULL,
		}, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "out of memory for %u frames", want);
	if (!r->pager) {
		if (r->injecting)
			inject_fini(&r->inj);
		region_undo(r, k);
		queue_error(c, 0, 0, ENOMEM, m, "%s", why);
		return;
	}
	if (m->u.reg.flags & PROTO_REG_KEY)
		keep_attach(s, r, k, m);
	r->frames = want;
	if (s->cfg.alloc == PSERVER_FIXED)
		s->frames_free -= want;
	s->pages_free -= r->npages;
	reply.u.registered.region = r->id;
	reply.u.registered.frames = want;
	queue(c, &reply);
}

/*
 * Write-backs that failed since the last report, each reported once to its
 * client, asynchronously: an ERROR naming the region, the page and the
 * errno, as the answer to no request (type EVICT, seq 0). The page stays
 * resident and dirty at the server (pager.h) and is written again when next
 * chosen.
 */
void report_writeback_errors(struct client *c, struct region *r)
{
	if (!r->injecting)
		return;
	pthread_mutex_lock(&r->inj.lock);
	for (; r->log_seen < r->inj.nlog; r->log_seen++) {
		const struct inject_error *e = &r->inj.log[r->log_seen];

		/* The request seq is the write's number (from 1): which
		 * write of the region failed. */
		if (e->op == INJECT_WRITE)
			queue_error(c, r->id, e->vpn, e->err,
				    &(struct proto_msg){ .type = PROTO_EVICT,
							 .seq = (uint32_t)e->seq },
				    "write-back of page %u failed; it stays dirty here", e->vpn);
	}
	pthread_mutex_unlock(&r->inj.lock);
}

/* The pager's side of a miss (see server_internal.h). */
frame_t region_miss(struct client *c, struct region *r, vpn_t vpn, uint8_t access,
		    const struct proto_msg *m)
{
	struct pager *p = r->pager;
	frame_t f;

	alloc_before_miss(c, r);
	alloc_note_ref(r, vpn);
	p->now++;
	f = pager_fault(p, vpn, (enum access_kind)access);
	report_writeback_errors(c, r);
	if (f == NO_FRAME && p->fail == PAGER_FAIL_PAGE_IN) {
		/* The page's copy is still on the store: the client fails
		 * this access (the guest's upcall, for the KVM host) and may
		 * fault again. */
		if (r->injecting)
			inject_note_delivery(&r->inj, vpn, m->seq);
		queue_error(c, r->id, vpn, -p->fail_errno, m, "page-in of page %u failed", vpn);
		return NO_FRAME;
	}
	if (f == NO_FRAME) {
		queue_error(c, r->id, vpn, p->fail_errno < 0 ? -p->fail_errno : ENOMEM, m, "%s",
			    p->err);
		c->closing = true;
		return NO_FRAME;
	}
	p->stats.refs++;
	p->stats.resident_sum += p->stats.resident;
	/* The tick before the RESOLVED: what it samples or evicts reaches
	 * the client before the access resumes, as in-process. */
	if (p->now >= p->next_tick) {
		pager_tick(p);
		p->next_tick += p->tick;
	}
	return f;
}

/*
 * A miss, as the trace replayer's fault path (vmm/pager/sim.c); RESOLVED
 * (numbered as the request that caused it) follows the EVICTs the fault
 * caused. A fault the pager cannot serve is an ERROR and the end of the
 * connection: the client fails the access, never sees a page it lacks.
 */
static void serve_miss(struct client *c, struct region *r, vpn_t vpn, uint8_t access,
		       const struct proto_msg *m)
{
	struct proto_msg reply = { .type = PROTO_RESOLVED, .seq = m->seq };
	frame_t f = region_miss(c, r, vpn, access, m);

	if (f == NO_FRAME)
		return;
	reply.u.resolved.region = r->id;
	reply.u.resolved.page = vpn;
	reply.u.resolved.frame = f;
	reply.u.resolved.access = access;
	if (r->data && r->pager->last_fault == 2) { /* major: the store's copy */
		reply.u.resolved.data = r->data + (size_t)vpn * r->page_size;
		reply.u.resolved.data_len = r->page_size;
	}
	queue(c, &reply);
}

/* The client's accesses that hit, each as the trace replayer's hit path
 * (vmm/pager/sim.c): the same bits, policy call, counters and ticks. */
static void do_refs(struct client *c, const struct proto_msg *m)
{
	struct region *r = region_of(c, m->u.refs.region);
	struct pager *p;

	if (!r)
		REFUSE(c, m->u.refs.region, 0, ENOENT, m, "no region %u", m->u.refs.region);
	p = r->pager;
	for (uint32_t i = 0; i < m->u.refs.count; i++) {
		const uint8_t *b = m->u.refs.refs + 4 * (size_t)i;
		uint32_t ref = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
			       (uint32_t)b[3] << 24;
		vpn_t vpn = ref & ~PROTO_REF_WRITE;
		frame_t f;

		if (vpn >= r->npages)
			REFUSE(c, r->id, vpn, ERANGE, m, "page %u out of range (%u pages)", vpn,
			       r->npages);
		f = pager_lookup(p, vpn);
		if (f == NO_FRAME && r->unreturned[vpn]) {
			/* Evicted by this batch's earlier references (a policy
			 * that frees frames on a hit, ws): the client did not
			 * know yet, and the replayer would have faulted here. */
			serve_miss(c, r, vpn, ref & PROTO_REF_WRITE ? ACCESS_WRITE : ACCESS_READ, m);
			if (c->closing)
				return;
			continue;
		}
		if (f == NO_FRAME)
			REFUSE(c, r->id, vpn, EFAULT, m, "hit on page %u, which is not mapped", vpn);
		p->now++;
		r->mmu.bits[f] |= RMMU_REFERENCED | (ref & PROTO_REF_WRITE ? RMMU_DIRTY : 0);
		alloc_note_ref(r, vpn);
		pager_hit(p, f);
		p->stats.refs++;
		p->stats.resident_sum += p->stats.resident;
		if (p->now >= p->next_tick) {
			pager_tick(p);
			p->next_tick += p->tick;
		}
	}
}

/* Accesses that trapped without a miss at a client that sees only faults:
 * a sampled page touched again, a read-only one written. They set the
 * page's bits, as the hardware would; the policy is not told (the
 * in-process KVM host does not tell it either). */
static void do_touch(struct client *c, const struct proto_msg *m)
{
	struct region *r = region_of(c, m->u.refs.region);

	if (!r)
		REFUSE(c, m->u.refs.region, 0, ENOENT, m, "no region %u", m->u.refs.region);
	if (!r->sampled || r->ho)
		REFUSE(c, r->id, 0, EPROTO, m, "touch in a region that is not sampled");
	for (uint32_t i = 0; i < m->u.refs.count; i++) {
		const uint8_t *b = m->u.refs.refs + 4 * (size_t)i;
		uint32_t ref = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
			       (uint32_t)b[3] << 24;
		vpn_t vpn = ref & ~PROTO_REF_WRITE;
		frame_t f;

		if (vpn >= r->npages)
			REFUSE(c, r->id, vpn, ERANGE, m, "page %u out of range (%u pages)", vpn,
			       r->npages);
		f = pager_lookup(r->pager, vpn);
		if (f == NO_FRAME && r->unreturned[vpn])
			continue; /* evicted while the client ran: its DATA_RETURN follows */
		if (f == NO_FRAME)
			REFUSE(c, r->id, vpn, EFAULT, m, "touch of page %u, which is not mapped", vpn);
		r->mmu.bits[f] |= RMMU_REFERENCED | (ref & PROTO_REF_WRITE ? RMMU_DIRTY : 0);
		alloc_note_ref(r, vpn);
	}
}

static void do_fault(struct client *c, const struct proto_msg *m)
{
	struct region *r = region_of(c, m->u.fault.region);
	vpn_t vpn = m->u.fault.page;

	if (!r)
		REFUSE(c, m->u.fault.region, vpn, ENOENT, m, "no region %u", m->u.fault.region);
	if (vpn >= r->npages)
		REFUSE(c, r->id, vpn, ERANGE, m, "page %u out of range (%u pages)", vpn, r->npages);
	if (r->ho)
		REFUSE(c, r->id, vpn, EPROTO, m, "fault in region %u, served through its userfaultfd",
		       r->id);
	if (pager_lookup(r->pager, vpn) != NO_FRAME)
		REFUSE(c, r->id, vpn, EEXIST, m, "fault on page %u, which is mapped", vpn);
	serve_miss(c, r, vpn, m->u.fault.access, m);
}

static void do_data_return(struct client *c, const struct proto_msg *m)
{
	struct region *r = region_of(c, m->u.data_return.region);
	vpn_t vpn = m->u.data_return.page;

	if (!r)
		REFUSE(c, m->u.data_return.region, vpn, ENOENT, m, "no region %u",
		       m->u.data_return.region);
	if (vpn >= r->npages)
		REFUSE(c, r->id, vpn, ERANGE, m, "page %u out of range (%u pages)", vpn, r->npages);
	if (!r->unreturned[vpn])
		REFUSE(c, r->id, vpn, EPROTO, m, "data-return of page %u, which was not evicted", vpn);
	/* A region without a store keeps no data: the page is counted back. */
	if (m->u.data_return.data_len && !r->data)
		REFUSE(c, r->id, vpn, EPROTO, m, "data-return with data to a region without a store");
	if (r->data && m->u.data_return.data_len &&
	    (m->u.data_return.data_len != r->page_size ||
	     !(m->u.data_return.flags & PROTO_PAGE_DIRTY)))
		REFUSE(c, r->id, vpn, EPROTO, m, "data-return of page %u: %u bytes, %s", vpn,
		       m->u.data_return.data_len,
		       m->u.data_return.flags & PROTO_PAGE_DIRTY ? "not a page" : "not dirty");
	if (r->owed[vpn] && !m->u.data_return.data_len)
		REFUSE(c, r->id, vpn, EPROTO, m, "data-return of dirty page %u without its data",
		       vpn);
	if (r->data && m->u.data_return.data_len) {
		memcpy(r->data + (size_t)vpn * r->page_size, m->u.data_return.data, r->page_size);
		if (!r->owed[vpn] && pager_lookup(r->pager, vpn) == NO_FRAME) {
			/* Written at the client after a clean eviction was
			 * decided (it ran meanwhile): the store has it now. */
			r->pager->pt[vpn].flags |= PTE_ON_STORE;
			r->pager->stats.writebacks++;
		}
	}
	r->owed[vpn] = 0;
	r->unreturned[vpn]--;
	r->data_returns++;
}

/* Replace a region's policy now: the new one is handed every evictable
 * resident frame, in frame order; its history starts empty. */
static void do_set_policy(struct client *c, const struct proto_msg *m)
{
	struct region *r = region_of(c, m->u.set_policy.region);
	struct proto_msg ack = { .type = PROTO_ACK, .seq = m->seq };
	struct policy_params params = params_of(&m->u.set_policy.policy);
	const struct policy_ops *ops;
	struct policy *pol;
	struct pager *p;
	char why[200];

	if (!r)
		REFUSE(c, m->u.set_policy.region, 0, ENOENT, m, "no region %u", m->u.set_policy.region);
	if (!(ops = remote_policy(m->u.set_policy.policy.name, why, sizeof(why)))) {
		queue_error(c, r->id, 0, EINVAL, m, "%s", why);
		return;
	}
	p = r->pager;
	pol = ops->create(p, &params);
	if (!pol) {
		queue_error(c, r->id, 0, errno == EINVAL ? EINVAL : ENOMEM, m,
			    "policy %s: cannot be created", ops->name);
		return;
	}
	pol->ops = ops;
	pol->pager = p;
	p->policy->ops->destroy(p->policy);
	p->policy = pol;
	p->tick = params.tick;
	p->next_tick = p->tick ? p->now + p->tick : NEVER;
	for (frame_t f = 0; f < p->nframes; f++)
		if ((p->frames[f].flags & FRAME_USED) && !(p->frames[f].flags & FRAME_PINNED))
			ops->insert(pol, f);
	ack.u.ack.req_type = PROTO_SET_POLICY;
	ack.u.ack.req_seq = m->seq;
	queue(c, &ack);
}

static void do_stats(struct pserver *s, struct client *c, const struct proto_msg *m)
{
	struct region *r = region_of(c, m->u.stats.region);
	struct proto_msg reply = { .type = PROTO_STATS_REPLY, .seq = m->seq };
	const struct pager_stats *st;

	reply.u.stats_reply.clients = s->nclients;
	reply.u.stats_reply.frames_free = alloc_frames_free(s);
	if (m->u.stats.region && !r)
		REFUSE(c, m->u.stats.region, 0, ENOENT, m, "no region %u", m->u.stats.region);
	if (r) { /* region 0: the server's figures only */
		st = &r->pager->stats;
		reply.u.stats_reply.region = r->id;
		reply.u.stats_reply.frames = r->frames;
		reply.u.stats_reply.st = (struct proto_stats){
			.refs = st->refs, .faults = st->faults, .major = st->major,
			.minor = st->minor, .evictions = st->evictions,
			.writebacks = st->writebacks, .resident = st->resident,
			.pagein_errors = st->pagein_errors,
			.writeback_errors = st->writeback_errors,
			.data_returns = r->data_returns,
		};
	}
	queue(c, &reply);
}

/* The client's uffd and memfd, received with this message (SCM_RIGHTS). */
static void do_uffd(struct client *c, const struct proto_msg *m)
{
	struct region *r = region_of(c, m->u.uffd.region);
	struct proto_msg ack = { .type = PROTO_ACK, .seq = m->seq };
	char why[160];
	int rc;

	if (!r)
		REFUSE(c, m->u.uffd.region, 0, ENOENT, m, "no region %u", m->u.uffd.region);
	if (!r->ho)
		REFUSE(c, r->id, 0, EPROTO, m, "region %u was not registered for a handover", r->id);
	if (c->nfds != 2)
		REFUSE(c, r->id, 0, EBADF, m, "a uffd message needs two descriptors, got %u",
		       c->nfds);
	rc = handover_attach(r->ho, c->fds[0], c->fds[1], m->u.uffd.base, why, sizeof(why));
	if (rc)
		REFUSE(c, r->id, 0, -rc, m, "%s", why);
	c->nfds = 0; /* the region's now */
	ack.u.ack.req_type = PROTO_UFFD;
	ack.u.ack.req_seq = m->seq;
	queue(c, &ack);
}

static void dispatch(struct pserver *s, struct client *c, const struct proto_msg *m)
{
	if (!c->hello && m->type != PROTO_HELLO)
		REFUSE(c, 0, 0, EPROTO, m, "%s before hello", proto_type_name(m->type));
	switch (m->type) {
	case PROTO_HELLO: {
		struct proto_msg reply = { .type = PROTO_HELLO, .seq = m->seq };

		if (c->hello)
			REFUSE(c, 0, 0, EPROTO, m, "a second hello");
		if (m->u.hello.min > PROTO_VERSION || m->u.hello.max < PROTO_VERSION)
			REFUSE(c, 0, 0, EPROTONOSUPPORT, m, "versions %u..%u asked, server speaks %u",
			       m->u.hello.min, m->u.hello.max, PROTO_VERSION);
		c->hello = true;
		reply.u.hello.min = reply.u.hello.max = PROTO_VERSION;
		reply.u.hello.max_payload = PROTO_MAX_PAYLOAD;
		queue(c, &reply);
		return;
	}
	case PROTO_REGISTER: do_register(s, c, m); return;
	case PROTO_REFS: do_refs(c, m); return;
	case PROTO_TOUCH: do_touch(c, m); return;
	case PROTO_UFFD: do_uffd(c, m); return;
	case PROTO_FAULT: do_fault(c, m); return;
	case PROTO_DATA_RETURN: do_data_return(c, m); return;
	case PROTO_SET_POLICY: do_set_policy(c, m); return;
	case PROTO_STATS: do_stats(s, c, m); return;
	case PROTO_GOODBYE: c->closing = true; return;
	case PROTO_DSM_JOIN: case PROTO_DSM_REQUEST: case PROTO_DSM_INV_DONE:
	case PROTO_DSM_LEAVE: case PROTO_DSM_STATS:
		dsm_handle(s->dsm, c, m);
		return;
	default:
		REFUSE(c, 0, 0, EPROTO, m, "%s is not a client's message", proto_type_name(m->type));
	}
}

/* Read what the client sent and act on every complete message. */
static void client_input(struct pserver *s, struct client *c)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} ctl;
	struct iovec iov = { c->in + c->inlen, PROTO_MAX_MSG - c->inlen };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	ssize_t n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	size_t off = 0;

	/* Descriptors (a PROTO_UFFD's): at most two wait for their message;
	 * any more, or a truncated set, is a violation. */
	for (struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; cm; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t k = cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS
				   ? (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int) : 0;

		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			if (c->nfds < 2)
				c->fds[c->nfds++] = fd;
			else
				close(fd), mh.msg_flags |= MSG_CTRUNC;
		}
	}
	if (n > 0 && (mh.msg_flags & MSG_CTRUNC)) {
		queue_error(c, 0, 0, EBADF, NULL, "too many descriptors sent");
		c->closing = true;
		return;
	}

	if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		client_close(s, c); /* gone: its frames return to the budget */
		return;
	}
	c->inlen += (size_t)n;
	while (!c->closing && off < c->inlen) {
		struct proto_msg m;
		char why[160];
		long used = proto_decode(c->in + off, c->inlen - off, &m, why, sizeof(why));

		if (used == 0)
			break;
		if (used < 0) {
			queue_error(c, 0, 0, (int)-used, &m, "%s", why);
			c->closing = true;
			break;
		}
		dispatch(s, c, &m);
		off += (size_t)used;
	}
	memmove(c->in, c->in + off, c->inlen - off);
	c->inlen -= off;
}

/* ---- the DSM manager's way to the connections ------------------------- */

static void dsm_send(void *ctx, void *conn, struct proto_msg *m)
{
	(void)ctx;
	queue(conn, m);
}

static void dsm_error(void *ctx, void *conn, uint32_t page, int err, const struct proto_msg *req,
		      bool close, const char *text)
{
	struct client *c = conn;

	(void)ctx;
	queue_error(c, 0, page, err, req, "%s", text);
	if (close)
		c->closing = true;
}

static const struct dsm_conn_ops dsm_ops = { .send = dsm_send, .error = dsm_error };

/* ---- connections ------------------------------------------------------ */

static bool uid_allowed(const struct pserver *s, uid_t uid)
{
	if (uid == geteuid())
		return true;
	for (size_t i = 0; i < s->cfg.nallow; i++)
		if (s->cfg.allow_uid[i] == uid)
			return true;
	return false;
}

static void accept_client(struct pserver *s)
{
	int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	struct client *c = NULL;

	if (fd < 0)
		return;
	for (size_t i = 0; i < PSERVER_MAX_CLIENTS && !c; i++)
		if (s->clients[i].fd < 0)
			c = &s->clients[i];
	if (!c) {
		close(fd); /* full: the client sees the connection close at hello */
		return;
	}
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->s = s;
	c->number = ++s->connections;
	c->active_ms = alloc_now_ms();
	if (!s->unix_socket) {
		/* Small requests and answers: no Nagle delay behind an ACK. */
		int one = 1;

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	c->in = malloc(PROTO_MAX_MSG);
	s->nclients++;
	if (!c->in) {
		client_close(s, c);
		return;
	}
	if (s->unix_socket) {
		struct ucred cred;
		socklen_t len = sizeof(cred);

		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
			queue_error(c, 0, 0, EACCES, NULL, "no peer credentials");
			c->closing = true;
		} else if (!uid_allowed(s, cred.uid)) {
			queue_error(c, 0, 0, EACCES, NULL, "uid %u is not allowed", (unsigned)cred.uid);
			c->closing = true;
		}
		c->cred_known = true;
		c->uid = cred.uid;
	}
	if (s->cfg.verbose)
		fprintf(stderr, "pflab pager: client %d connected\n", fd);
}

int pserver_parse_addr(const char *addr, struct sockaddr_storage *sa, socklen_t *salen,
		       char *err, size_t errlen)
{
	memset(sa, 0, sizeof(*sa));
	if (strncmp(addr, "unix:", 5) == 0) {
		struct sockaddr_un *un = (struct sockaddr_un *)sa;
		size_t len = strlen(addr + 5);

		if (len == 0 || len >= sizeof(un->sun_path)) {
			snprintf(err, errlen, "'%s': a Unix socket path of 1 to %zu bytes", addr,
				 sizeof(un->sun_path) - 1);
			return -1;
		}
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, addr + 5, len + 1);
		*salen = sizeof(*un);
		return 0;
	}
	if (strncmp(addr, "tcp:", 4) == 0) {
		struct sockaddr_in *in = (struct sockaddr_in *)sa;
		const char *colon = strrchr(addr + 4, ':');
		char host[64], *end;
		unsigned long port;

		if (!colon || (size_t)(colon - (addr + 4)) >= sizeof(host)) {
			snprintf(err, errlen, "'%s': expected tcp:HOST:PORT", addr);
			return -1;
		}
		memcpy(host, addr + 4, (size_t)(colon - (addr + 4)));
		host[colon - (addr + 4)] = 0;
		errno = 0;
		port = strtoul(colon + 1, &end, 10);
		if (!colon[1] || *end || errno || port > 65535) {
			snprintf(err, errlen, "'%s': port must be 0..65535", addr);
			return -1;
		}
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host[0] ? host : "127.0.0.1", &in->sin_addr) != 1) {
			snprintf(err, errlen, "'%s': HOST must be a numeric IPv4 address", addr);
			return -1;
		}
		*salen = sizeof(*in);
		return 0;
	}
	snprintf(err, errlen, "'%s': expected unix:PATH or tcp:HOST:PORT", addr);
	return -1;
}

struct pserver *pserver_create(const char *addr, const struct pserver_config *cfg, char *err,
			       size_t errlen)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	struct pserver *s;
	struct stat st;
	int one = 1;

	if (cfg->frames == 0) {
		snprintf(err, errlen, "a frame budget of at least 1");
		return NULL;
	}
	if (pserver_parse_addr(addr, &sa, &salen, err, errlen) != 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	s->dsm = dsm_create(&dsm_ops, s);
	if (!s->dsm) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->frames_free = cfg->frames;
	s->pages_free = cfg->max_pages;
	if (s->cfg.keep_regions > PSERVER_MAX_KEPT)
		s->cfg.keep_regions = PSERVER_MAX_KEPT;
	s->kept_pages_free = cfg->keep_pages;
	for (size_t i = 0; i < PSERVER_MAX_CLIENTS; i++)
		s->clients[i].fd = -1;
	s->unix_socket = sa.ss_family == AF_UNIX;
	s->lfd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->lfd < 0)
		goto fail;
	if (!s->unix_socket)
		setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* bind() never replaces an existing file: EADDRINUSE. */
	if (bind(s->lfd, (struct sockaddr *)&sa, salen) != 0)
		goto fail;
	if (s->unix_socket) {
		memcpy(s->path, ((struct sockaddr_un *)&sa)->sun_path, sizeof(s->path));
		if (stat(s->path, &st) == 0) {
			s->dev = st.st_dev;
			s->ino = st.st_ino;
		}
	}
	if (listen(s->lfd, 16) != 0)
		goto fail;
	return s;
fail:
	snprintf(err, errlen, "%s: %s", addr, strerror(errno));
	pserver_destroy(s);
	return NULL;
}

void pserver_destroy(struct pserver *s)
{
	struct stat st;

	if (!s)
		return;
	for (size_t i = 0; i < PSERVER_MAX_CLIENTS; i++)
		if (s->clients[i].fd >= 0)
			client_close(s, &s->clients[i]);
	dsm_destroy(s->dsm);
	keep_destroy(s);
	if (s->lfd >= 0)
		close(s->lfd);
	/* Only the socket this server made: not a file put there since. */
	if (s->path[0] && stat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino &&
	    S_ISSOCK(st.st_mode))
		unlink(s->path);
	free(s);
}

int pserver_port(const struct pserver *s)
{
	struct sockaddr_in in;
	socklen_t len = sizeof(in);

	if (s->unix_socket || getsockname(s->lfd, (struct sockaddr *)&in, &len) != 0)
		return -1;
	return ntohs(in.sin_port);
}

int pserver_run(struct pserver *s, int stop_fd, char *err, size_t errlen)
{
	struct pollfd pfd[2 * PSERVER_MAX_CLIENTS + 2];
	struct client *who[2 * PSERVER_MAX_CLIENTS + 2];
	struct region *whose[2 * PSERVER_MAX_CLIENTS + 2];

	for (;;) {
		nfds_t n = 0;

		pfd[n++] = (struct pollfd){ .fd = stop_fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = s->lfd, .events = POLLIN };
		for (size_t i = 0; i < PSERVER_MAX_CLIENTS; i++) {
			struct client *c = &s->clients[i];
			short ev = 0;

			if (c->fd < 0)
				continue;
			if (!c->closing && c->outlen < OUT_HIGH && !alloc_suspended(c))
				ev |= POLLIN;
			if (c->outlen)
				ev |= POLLOUT;
			who[n] = c;
			whose[n] = NULL;
			pfd[n++] = (struct pollfd){ .fd = c->fd, .events = ev };
			/* One handed-over region per client is polled (the
			 * client has one vCPU faulting at a time). */
			for (size_t k = 0; k < PSERVER_MAX_REGIONS; k++) {
				struct region *r = &c->regions[k];

				if (r->id && r->ho && handover_uffd(r->ho) >= 0 && !c->closing &&
				    c->outlen < OUT_HIGH) {
					who[n] = c;
					whose[n] = r;
					pfd[n++] = (struct pollfd){ .fd = handover_uffd(r->ho),
								    .events = POLLIN };
					break;
				}
			}
		}
		if (poll(pfd, n, alloc_tick(s)) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
		s->now_ms = alloc_now_ms();
		if (pfd[0].revents)
			return 0;
		if (pfd[1].revents & POLLIN)
			accept_client(s);
		for (nfds_t i = 2; i < n; i++) {
			struct client *c = who[i];

			if (whose[i]) {
				/* Its client's entry came first: still open? */
				if (c->fd < 0 || !whose[i]->ho || handover_uffd(whose[i]->ho) != pfd[i].fd)
					continue;
				if ((pfd[i].revents & POLLIN) && !c->closing &&
				    handover_serve(c, whose[i], whose[i]->ho) != 0)
					c->closing = true;
				if (c->outlen && !flush(c))
					client_close(s, c);
				else if (c->closing && !c->outlen)
					client_close(s, c);
				continue;
			}
			if (c->fd != pfd[i].fd)
				continue; /* closed and reused during this round */
			if (pfd[i].revents & POLLIN)
				client_input(s, c);
			else if (pfd[i].revents & (POLLHUP | POLLERR | POLLNVAL))
				c->closing = true;
			if (c->fd < 0)
				continue;
			if ((c->outlen && !flush(c)) || (c->closing && !c->outlen) ||
			    (c->closing && (pfd[i].revents & (POLLHUP | POLLERR))))
				client_close(s, c);
		}
	}
}
