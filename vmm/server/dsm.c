// SPDX-License-Identifier: MIT
/*
 * The DSM manager: Ivy's centralized manager (Li and Hudak 1989), see dsm.h.
 * Per page: the owner (a node that may write, or none: the manager's copy is
 * current), the copy set (nodes with a read-only copy), and at most one
 * request in progress, the others queued in arrival order. A request in
 * progress waits for the acknowledgements (INV_DONE) of the invalidations it
 * caused; when none is owed, it is decided again and granted.
 */
#include "dsm.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE    (-1)
#define TAKEBACK PROTO_DSM_MAX_NODES      /* busy: a page taken back for a LEAVE */
#define ORPHAN   (PROTO_DSM_MAX_NODES + 1) /* busy: for a node that disconnected */

struct node {
	void *conn;           /* NULL: no node i */
	bool leaving;
	uint32_t leave_seq;   /* the LEAVE being answered */
	uint32_t leave_owed;  /* pages still to come back before its ACK */
	bool pending;         /* its request (one at a time) */
	uint32_t page, seq;
	uint8_t access;
	int next;             /* the next node queued on the same page, or NONE */
};

struct page {
	int owner;            /* the node that may write, or NONE */
	uint32_t copyset;     /* nodes holding a read-only copy */
	int busy;             /* the node whose request is in progress, TAKEBACK,
				 ORPHAN, or NONE */
	uint32_t owed;        /* nodes whose INV_DONE the request waits for */
	uint8_t asked[PROTO_DSM_MAX_NODES]; /* the mode asked of each owed node */
	int head, tail;       /* queued requests (nodes), or NONE */
	bool lost;            /* its owner vanished with the only current copy */
};

struct dsm_mgr {
	const struct dsm_conn_ops *ops;
	void *ctx;
	uint32_t nodes, npages, joined; /* nodes == 0: no shared region yet */
	struct node node[PROTO_DSM_MAX_NODES];
	struct page *page;
	uint8_t *data;        /* npages * PROTO_DSM_PAGE: the manager's copies */
	struct proto_dsm_stats st;
};

struct dsm_mgr *dsm_create(const struct dsm_conn_ops *ops, void *ctx)
{
	struct dsm_mgr *d = calloc(1, sizeof(*d));

	if (d) {
		d->ops = ops;
		d->ctx = ctx;
	}
	return d;
}

static void region_free(struct dsm_mgr *d)
{
	free(d->page);
	free(d->data);
	d->page = NULL;
	d->data = NULL;
	d->nodes = d->npages = d->joined = 0;
}

void dsm_destroy(struct dsm_mgr *d)
{
	if (!d)
		return;
	region_free(d);
	free(d);
}

void dsm_stats(const struct dsm_mgr *d, struct proto_dsm_stats *st, uint32_t *nodes,
	       uint32_t *joined)
{
	*st = d->st;
	*nodes = d->nodes;
	*joined = d->joined;
}

static int node_of(const struct dsm_mgr *d, const void *conn)
{
	for (uint32_t i = 0; i < d->nodes; i++)
		if (d->node[i].conn == conn)
			return (int)i;
	return NONE;
}

static void fail(struct dsm_mgr *d, void *conn, uint32_t page, int err,
		 const struct proto_msg *req, bool close, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
static void fail(struct dsm_mgr *d, void *conn, uint32_t page, int err,
		 const struct proto_msg *req, bool close, const char *fmt, ...)
{
	char text[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	d->ops->error(d->ctx, conn, page, err, req, close, text);
}

static void send_invalidate(struct dsm_mgr *d, struct page *pg, uint32_t vpn, int n,
			    uint32_t mode)
{
	struct proto_msg m = { .type = PROTO_DSM_INVALIDATE };

	m.u.dsm_invalidate.page = vpn;
	m.u.dsm_invalidate.mode = mode;
	pg->owed |= 1u << n;
	pg->asked[n] = (uint8_t)mode;
	d->st.invalidations++;
	d->ops->send(d->ctx, d->node[n].conn, &m);
}

static void grant(struct dsm_mgr *d, struct page *pg, uint32_t vpn, int n)
{
	struct node *r = &d->node[n];
	struct proto_msg m = { .type = PROTO_DSM_GRANT, .seq = r->seq };
	bool upgrade = r->access == PROTO_DSM_WRITE && (pg->copyset & 1u << n);

	m.u.dsm_grant.page = vpn;
	m.u.dsm_grant.access = r->access;
	if (upgrade) {
		d->st.upgrades++;
	} else {
		m.u.dsm_grant.data_len = PROTO_DSM_PAGE;
		m.u.dsm_grant.data = d->data + (size_t)vpn * PROTO_DSM_PAGE;
		d->st.pages_sent++;
	}
	if (r->access == PROTO_DSM_WRITE) {
		pg->owner = n;
		pg->copyset = 0;
	} else {
		pg->copyset |= 1u << n;
	}
	r->pending = false;
	d->ops->send(d->ctx, r->conn, &m);
}

/*
 * Decide node n's request for page vpn: grant it now, or start the
 * invalidations it needs (the page is then busy until they are done).
 */
static void decide(struct dsm_mgr *d, uint32_t vpn, int n)
{
	struct page *pg = &d->page[vpn];
	struct node *r = &d->node[n];

	if (pg->lost) {
		r->pending = false;
		d->st.errors++;
		fail(d, r->conn, vpn, EIO,
		     &(struct proto_msg){ .type = PROTO_DSM_REQUEST, .seq = r->seq }, false,
		     "page %u was lost: its owner left without returning it", vpn);
		return;
	}
	if (pg->owner != NONE && pg->owner != n) {
		send_invalidate(d, pg, vpn, pg->owner,
				r->access == PROTO_DSM_WRITE ? PROTO_DSM_RETURN : PROTO_DSM_DOWNGRADE);
		pg->busy = n;
		return;
	}
	if (r->access == PROTO_DSM_WRITE && (pg->copyset & ~(1u << n))) {
		for (uint32_t i = 0; i < d->nodes; i++)
			if ((pg->copyset & 1u << i) && (int)i != n)
				send_invalidate(d, pg, vpn, (int)i, PROTO_DSM_DROP);
		pg->busy = n;
		return;
	}
	grant(d, pg, vpn, n);
}

/* Serve the page's queue until a request must wait or none is left. */
static void run_queue(struct dsm_mgr *d, uint32_t vpn)
{
	struct page *pg = &d->page[vpn];

	while (pg->busy == NONE && pg->head != NONE) {
		int n = pg->head;

		pg->head = d->node[n].next;
		if (pg->head == NONE)
			pg->tail = NONE;
		d->node[n].next = NONE;
		decide(d, vpn, n);
	}
}

/* The request in progress on the page got its last acknowledgement. */
static void finish(struct dsm_mgr *d, uint32_t vpn)
{
	struct page *pg = &d->page[vpn];
	int n = pg->busy;

	pg->busy = NONE;
	if (n != TAKEBACK && n != ORPHAN)
		decide(d, vpn, n);
}

static void ack_leave(struct dsm_mgr *d, int n)
{
	struct node *nd = &d->node[n];
	struct proto_msg ack = { .type = PROTO_ACK, .seq = nd->leave_seq };

	ack.u.ack.req_type = PROTO_DSM_LEAVE;
	ack.u.ack.req_seq = nd->leave_seq;
	d->ops->send(d->ctx, nd->conn, &ack);
}

static void do_join(struct dsm_mgr *d, void *conn, const struct proto_msg *m)
{
	uint32_t n = m->u.dsm_join.node;
	struct proto_msg reply = { .type = PROTO_DSM_JOINED, .seq = m->seq };

	if (d->nodes && node_of(d, conn) != NONE)
		return fail(d, conn, 0, EPROTO, m, true, "a second dsm-join");
	if (d->nodes && (m->u.dsm_join.nodes != d->nodes || m->u.dsm_join.npages != d->npages))
		return fail(d, conn, 0, EINVAL, m, true,
			    "the shared region has %u nodes of %u pages; asked %u nodes of %u",
			    d->nodes, d->npages, m->u.dsm_join.nodes, m->u.dsm_join.npages);
	if (d->nodes && d->node[n].conn)
		return fail(d, conn, 0, EADDRINUSE, m, true, "node %u has joined already", n);
	if (!d->nodes) {
		d->page = malloc(sizeof(*d->page) * m->u.dsm_join.npages);
		d->data = calloc(m->u.dsm_join.npages, PROTO_DSM_PAGE);
		if (!d->page || !d->data) {
			region_free(d);
			return fail(d, conn, 0, ENOMEM, m, true, "no memory for %u shared pages",
				    m->u.dsm_join.npages);
		}
		d->nodes = m->u.dsm_join.nodes;
		d->npages = m->u.dsm_join.npages;
		for (uint32_t i = 0; i < d->npages; i++)
			d->page[i] = (struct page){ .owner = NONE, .busy = NONE, .head = NONE,
						    .tail = NONE };
		memset(d->node, 0, sizeof(d->node));
		memset(&d->st, 0, sizeof(d->st));
	}
	d->node[n] = (struct node){ .conn = conn, .next = NONE };
	d->joined++;
	reply.u.dsm_joined.node = n;
	reply.u.dsm_joined.nodes = d->nodes;
	reply.u.dsm_joined.npages = d->npages;
	reply.u.dsm_joined.page_size = PROTO_DSM_PAGE;
	d->ops->send(d->ctx, conn, &reply);
}

static void do_request(struct dsm_mgr *d, void *conn, int n, const struct proto_msg *m)
{
	uint32_t vpn = m->u.dsm_request.page;
	struct node *r = &d->node[n];
	struct page *pg;

	if (vpn >= d->npages)
		return fail(d, conn, vpn, ERANGE, m, true, "page %u out of range (%u shared pages)",
			    vpn, d->npages);
	if (r->pending)
		return fail(d, conn, vpn, EPROTO, m, true,
			    "a request for page %u while one for page %u is unanswered", vpn, r->page);
	if (r->leaving)
		return fail(d, conn, vpn, EPROTO, m, true, "a request after dsm-leave");
	pg = &d->page[vpn];
	/* What the node holds as the manager knows it: its acknowledgements
	 * arrive before its requests, so a copy it still has is one it has
	 * not been asked to drop. */
	if (pg->owner == n ||
	    (m->u.dsm_request.access == PROTO_DSM_READ && (pg->copyset & 1u << n)))
		return fail(d, conn, vpn, EEXIST, m, true, "%s request for page %u, which node %d holds",
			    m->u.dsm_request.access == PROTO_DSM_WRITE ? "a write" : "a read", vpn, n);
	r->pending = true;
	r->page = vpn;
	r->seq = m->seq;
	r->access = m->u.dsm_request.access;
	r->next = NONE;
	d->st.requests++;
	if (r->access == PROTO_DSM_WRITE)
		d->st.writes++;
	else
		d->st.reads++;
	if (pg->tail == NONE)
		pg->head = n;
	else
		d->node[pg->tail].next = n;
	pg->tail = n;
	run_queue(d, vpn);
}

static void do_inv_done(struct dsm_mgr *d, void *conn, int n, const struct proto_msg *m)
{
	uint32_t vpn = m->u.dsm_inv_done.page, mode = m->u.dsm_inv_done.mode;
	struct page *pg;

	if (vpn >= d->npages)
		return fail(d, conn, vpn, ERANGE, m, true, "page %u out of range (%u shared pages)",
			    vpn, d->npages);
	pg = &d->page[vpn];
	if (!(pg->owed & 1u << n) || pg->asked[n] != mode)
		return fail(d, conn, vpn, EPROTO, m, true,
			    "dsm-inv-done for page %u that answers no invalidation", vpn);
	pg->owed &= ~(1u << n);
	if (mode != PROTO_DSM_DROP) {
		memcpy(d->data + (size_t)vpn * PROTO_DSM_PAGE, m->u.dsm_inv_done.data,
		       PROTO_DSM_PAGE);
		d->st.pages_returned++;
		pg->owner = NONE;
	}
	if (mode == PROTO_DSM_DOWNGRADE)
		pg->copyset |= 1u << n;
	else
		pg->copyset &= ~(1u << n);
	if (pg->busy == TAKEBACK && d->node[n].leaving && --d->node[n].leave_owed == 0)
		ack_leave(d, n);
	if (pg->owed == 0) {
		finish(d, vpn);
		run_queue(d, vpn);
	}
}

/* LEAVE: the node's read copies are forgotten; the pages it owns come back
 * (RETURN) before the ACK, unless one is on its way back already. */
static void do_leave(struct dsm_mgr *d, void *conn, int n, const struct proto_msg *m)
{
	struct node *nd = &d->node[n];

	if (nd->leaving || nd->pending)
		return fail(d, conn, 0, EPROTO, m, true, "dsm-leave %s",
			    nd->leaving ? "twice" : "with a request unanswered");
	nd->leaving = true;
	nd->leave_seq = m->seq;
	for (uint32_t vpn = 0; vpn < d->npages; vpn++) {
		struct page *pg = &d->page[vpn];

		pg->copyset &= ~(1u << n);
		if (pg->owner == n && pg->busy == NONE) {
			send_invalidate(d, pg, vpn, n, PROTO_DSM_RETURN);
			pg->busy = TAKEBACK;
			nd->leave_owed++;
		}
	}
	if (nd->leave_owed == 0)
		ack_leave(d, n);
}

void dsm_handle(struct dsm_mgr *d, void *conn, const struct proto_msg *m)
{
	int n;

	if (m->type == PROTO_DSM_JOIN)
		return do_join(d, conn, m);
	if (m->type == PROTO_DSM_STATS) {
		struct proto_msg reply = { .type = PROTO_DSM_STATS_REPLY, .seq = m->seq };

		dsm_stats(d, &reply.u.dsm_stats_reply.st, &reply.u.dsm_stats_reply.nodes,
			  &reply.u.dsm_stats_reply.joined);
		d->ops->send(d->ctx, conn, &reply);
		return;
	}
	n = d->nodes ? node_of(d, conn) : NONE;
	if (n == NONE)
		return fail(d, conn, 0, EPROTO, m, true, "%s before dsm-join",
			    proto_type_name(m->type));
	switch (m->type) {
	case PROTO_DSM_REQUEST: return do_request(d, conn, n, m);
	case PROTO_DSM_INV_DONE: return do_inv_done(d, conn, n, m);
	case PROTO_DSM_LEAVE: return do_leave(d, conn, n, m);
	default:
		return fail(d, conn, 0, EPROTO, m, true, "%s is not a node's message",
			    proto_type_name(m->type));
	}
}

/* Take node n's queued request off its page's queue. */
static void unqueue(struct dsm_mgr *d, int n)
{
	struct page *pg = &d->page[d->node[n].page];
	int prev = NONE;

	for (int i = pg->head; i != NONE; prev = i, i = d->node[i].next) {
		if (i != n)
			continue;
		if (prev == NONE)
			pg->head = d->node[i].next;
		else
			d->node[prev].next = d->node[i].next;
		if (pg->tail == n)
			pg->tail = prev;
		return;
	}
}

void dsm_disconnect(struct dsm_mgr *d, void *conn)
{
	int n = d->nodes ? node_of(d, conn) : NONE;
	bool crashed;

	if (n == NONE)
		return;
	crashed = !d->node[n].leaving;
	if (d->node[n].pending)
		unqueue(d, n);
	d->node[n].pending = false;
	for (uint32_t vpn = 0; vpn < d->npages; vpn++) {
		struct page *pg = &d->page[vpn];

		pg->copyset &= ~(1u << n);
		if (pg->owner == n) {
			pg->owner = NONE;
			pg->lost = true; /* the only current copy went with it */
		}
		pg->owed &= ~(1u << n);
		if (pg->busy == n)
			pg->busy = ORPHAN; /* its own request: nobody to grant */
		if (pg->busy != NONE && pg->owed == 0)
			finish(d, vpn);
		run_queue(d, vpn);
	}
	d->node[n] = (struct node){ .next = NONE };
	/* A node gone without LEAVE may have died between any two accesses
	 * of a shared computation: every other node is told (and fails), so
	 * that none waits forever on a page the dead one would have written. */
	for (uint32_t i = 0; crashed && i < d->nodes; i++)
		if (d->node[i].conn)
			fail(d, d->node[i].conn, 0, ECONNRESET, NULL, false,
			     "node %d disconnected without dsm-leave", n);
	if (--d->joined == 0)
		region_free(d);
}
