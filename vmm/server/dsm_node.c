// SPDX-License-Identifier: MIT
/*
 * A DSM node: see dsm_node.h. The protocol is Ivy's centralized manager
 * (dsm.h); this side keeps each page's access (none, read, write), asks the
 * manager on a fault, and obeys its invalidations: access removed first
 * (the guest can no longer write), then the page's bytes copied out, then
 * the acknowledgement sent.
 */
#include "dsm_node.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "proto.h"

#define NO_PAGE UINT32_MAX

struct dsm_node {
	struct pclient *c;    /* the connection; its receive side is the service thread's */
	const struct dsm_node_ops *ops;
	void *ctx;
	uint32_t node, nodes, npages;
	int timeout_ms;

	pthread_mutex_t mu;   /* everything below */
	pthread_cond_t cond;
	pthread_mutex_t send_mu;
	uint8_t *access;      /* per page: enum dsm_access */
	uint8_t *deferred;    /* per page: 1 + the mode of an invalidation waiting for the pin */
	uint32_t want;        /* the page of the REQUEST in flight, or NO_PAGE */
	uint32_t want_seq;
	bool granted;
	uint32_t pinned;      /* the page granted last, until unpinned, or NO_PAGE */
	bool left;            /* the ACK of LEAVE came */
	uint32_t leave_seq;
	bool failed;
	char err[300];
	struct dsm_node_stats st;
	uint32_t *lat;        /* per fault, ns */
	size_t nlat, lat_cap;

	uint32_t seq;         /* under send_mu */
	pthread_t thread;
	bool thread_started;
	int stop_fd;
	uint8_t out[PROTO_HDR + 16 + PROTO_DSM_PAGE];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The node fails for good (under mu): every waiter wakes to the reason. */
static void node_fail(struct dsm_node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void node_fail(struct dsm_node *n, const char *fmt, ...)
{
	va_list ap;

	if (n->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(n->err, sizeof(n->err), fmt, ap);
	va_end(ap);
	n->failed = true;
	pthread_cond_broadcast(&n->cond);
	if (n->ops->on_fail)
		n->ops->on_fail(n->ctx, n->err);
}

/* Send m, numbered. 0 or -1 (the reason in n->err, under mu). */
static int node_send(struct dsm_node *n, struct proto_msg *m)
{
	size_t len;
	int rc;

	pthread_mutex_lock(&n->send_mu);
	if (!m->seq)
		m->seq = ++n->seq;
	len = proto_encode(m, n->out, sizeof(n->out));
	rc = len ? pclient_send_raw(n->c, n->out, len) : -1;
	pthread_mutex_unlock(&n->send_mu);
	if (rc)
		node_fail(n, "DSM manager: %s", len ? n->c->err : "a message does not encode");
	return rc;
}

/* Obey an invalidation of page vpn (under mu, the page not pinned). */
static void invalidate(struct dsm_node *n, uint32_t vpn, uint32_t mode)
{
	struct proto_msg done = { .type = PROTO_DSM_INV_DONE };
	int rc;

	rc = n->ops->set_access(n->ctx, vpn, mode == PROTO_DSM_DOWNGRADE ? DSM_READ : DSM_NONE);
	if (rc) {
		node_fail(n, "DSM: unmapping shared page %u: %s", vpn, strerror(-rc));
		return;
	}
	n->access[vpn] = mode == PROTO_DSM_DOWNGRADE ? DSM_READ : DSM_NONE;
	done.u.dsm_inv_done.page = vpn;
	done.u.dsm_inv_done.mode = mode;
	if (mode != PROTO_DSM_DROP) {
		done.u.dsm_inv_done.data_len = PROTO_DSM_PAGE;
		done.u.dsm_inv_done.data = n->ops->page(n->ctx, vpn);
		n->st.pages_out++;
	}
	node_send(n, &done);
}

static void on_grant(struct dsm_node *n, const struct proto_msg *m)
{
	uint32_t vpn = m->u.dsm_grant.page;
	bool write = m->u.dsm_grant.access == PROTO_DSM_WRITE;
	int rc;

	if (vpn != n->want || m->seq != n->want_seq || n->granted)
		return node_fail(n, "DSM manager: a grant of page %u that answers no request", vpn);
	if (m->u.dsm_grant.data_len) {
		memcpy(n->ops->page(n->ctx, vpn), m->u.dsm_grant.data, PROTO_DSM_PAGE);
		n->st.pages_in++;
	} else if (n->access[vpn] != DSM_READ) {
		/* An upgrade is only for a node whose copy is current. */
		return node_fail(n, "DSM manager: write of page %u granted without its data", vpn);
	} else {
		n->st.upgrades++;
	}
	rc = n->ops->set_access(n->ctx, vpn, write ? DSM_WRITE : DSM_READ);
	if (rc)
		return node_fail(n, "DSM: mapping shared page %u: %s", vpn, strerror(-rc));
	n->access[vpn] = write ? DSM_WRITE : DSM_READ;
	n->granted = true;
	/* Pinned now, not when the faulting thread wakes: an invalidation
	 * right behind the grant must wait for the access. */
	n->pinned = vpn;
	pthread_cond_broadcast(&n->cond);
}

/* One message from the manager (under mu). */
static void on_message(struct dsm_node *n, const struct proto_msg *m)
{
	switch (m->type) {
	case PROTO_DSM_GRANT:
		if (m->u.dsm_grant.page >= n->npages)
			return node_fail(n, "DSM manager: grant of page %u of %u", m->u.dsm_grant.page,
					 n->npages);
		return on_grant(n, m);
	case PROTO_DSM_INVALIDATE: {
		uint32_t vpn = m->u.dsm_invalidate.page;

		if (vpn >= n->npages)
			return node_fail(n, "DSM manager: invalidation of page %u of %u", vpn, n->npages);
		n->st.invalidations++;
		if (vpn == n->pinned)
			n->deferred[vpn] = (uint8_t)(1 + m->u.dsm_invalidate.mode);
		else
			invalidate(n, vpn, m->u.dsm_invalidate.mode);
		return;
	}
	case PROTO_ACK:
		if (m->u.ack.req_type == PROTO_DSM_LEAVE && m->u.ack.req_seq == n->leave_seq) {
			n->left = true;
			pthread_cond_broadcast(&n->cond);
			return;
		}
		break;
	case PROTO_ERROR:
		return node_fail(n, "DSM manager: %s (%s; %s, page %u)", m->u.error.text,
				 strerror(m->u.error.err), proto_type_name(m->u.error.req_type),
				 m->u.error.page);
	case PROTO_GOODBYE:
		return node_fail(n, "the DSM manager closed the connection");
	}
	node_fail(n, "DSM manager: unexpected %s", proto_type_name(m->type));
}

/* Whether a whole message is buffered already. */
static bool buffered(const struct pclient *c)
{
	struct proto_msg m;
	char why[8];

	return proto_decode(c->in + c->inoff, c->inlen - c->inoff, &m, why, sizeof(why)) != 0;
}

/* The service thread: every message from the manager, until stopped. */
static void *service(void *arg)
{
	struct dsm_node *n = arg;

	for (;;) {
		struct pollfd p[2] = { { .fd = n->stop_fd, .events = POLLIN },
				       { .fd = n->c->fd, .events = POLLIN } };
		struct proto_msg m;
		int rc;

		if (!buffered(n->c) && poll(p, 2, -1) < 0)
			continue;
		if (p[0].revents)
			return NULL;
		rc = pclient_recv(n->c, &m);
		pthread_mutex_lock(&n->mu);
		if (rc)
			node_fail(n, "DSM manager: %s", n->c->err);
		else
			on_message(n, &m);
		rc = n->failed;
		pthread_mutex_unlock(&n->mu);
		if (rc)
			return NULL;
	}
}

struct dsm_node *dsm_node_open(const char *addr, uint32_t node, uint32_t nodes, uint32_t npages,
			       int timeout_ms, const struct dsm_node_ops *ops, void *ctx,
			       char *err, size_t errlen)
{
	struct dsm_node *n = calloc(1, sizeof(*n));
	struct proto_msg m = { .type = PROTO_DSM_JOIN };

	if (!n) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	n->ops = ops;
	n->ctx = ctx;
	n->node = node;
	n->nodes = nodes;
	n->npages = npages;
	n->timeout_ms = timeout_ms;
	n->want = n->pinned = NO_PAGE;
	n->stop_fd = -1;
	pthread_mutex_init(&n->mu, NULL);
	pthread_mutex_init(&n->send_mu, NULL);
	pthread_cond_init(&n->cond, NULL);
	n->access = calloc(npages, 1);
	n->deferred = calloc(npages, 1);
	if (!n->access || !n->deferred) {
		snprintf(err, errlen, "out of memory for %u shared pages", npages);
		goto fail;
	}
	n->c = pclient_connect(addr, timeout_ms, err, errlen);
	if (!n->c)
		goto fail;
	if (strncmp(addr, "tcp:", 4) == 0) {
		/* A fault waits for small messages both ways: no Nagle delay. */
		int one = 1;

		setsockopt(n->c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	m.u.dsm_join.node = node;
	m.u.dsm_join.nodes = nodes;
	m.u.dsm_join.npages = npages;
	if (node_send(n, &m) != 0 || pclient_recv(n->c, &m) != 0) {
		snprintf(err, errlen, "%s", n->failed ? n->err : n->c->err);
		goto fail;
	}
	if (m.type == PROTO_ERROR) {
		snprintf(err, errlen, "DSM manager: %s (%s)", m.u.error.text, strerror(m.u.error.err));
		goto fail;
	}
	if (m.type != PROTO_DSM_JOINED || m.u.dsm_joined.node != node ||
	    m.u.dsm_joined.nodes != nodes || m.u.dsm_joined.npages != npages) {
		snprintf(err, errlen, "DSM manager: %s instead of dsm-joined", proto_type_name(m.type));
		goto fail;
	}
	n->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (n->stop_fd < 0 || pthread_create(&n->thread, NULL, service, n) != 0) {
		snprintf(err, errlen, "cannot start the DSM service thread");
		goto fail;
	}
	n->thread_started = true;
	return n;
fail:
	dsm_node_close(n);
	return NULL;
}

static void note_latency(struct dsm_node *n, uint64_t dt)
{
	n->st.lat_sum_ns += dt;
	if (dt > n->st.lat_max_ns)
		n->st.lat_max_ns = dt;
	if (n->nlat == n->lat_cap) {
		size_t cap = n->lat_cap ? 2 * n->lat_cap : 1024;
		uint32_t *l = realloc(n->lat, cap * sizeof(*l));

		if (!l)
			return; /* the sum and maximum are still kept */
		n->lat = l;
		n->lat_cap = cap;
	}
	n->lat[n->nlat++] = dt > UINT32_MAX ? UINT32_MAX : (uint32_t)dt;
}

/* Wait (under mu) until pred holds or the node fails, at most timeout_ms. */
static int wait_for(struct dsm_node *n, const bool *flag, const char *what)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += n->timeout_ms / 1000;
	ts.tv_nsec += (long)(n->timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	while (!*flag && !n->failed)
		if (pthread_cond_timedwait(&n->cond, &n->mu, &ts) == ETIMEDOUT && !*flag)
			node_fail(n, "the DSM manager did not answer %s within %d ms", what,
				  n->timeout_ms);
	return n->failed ? -1 : 0;
}

int dsm_node_fault(struct dsm_node *n, uint32_t vpn, bool write)
{
	struct proto_msg req = { .type = PROTO_DSM_REQUEST };
	uint64_t t0 = now_ns();
	char what[48];
	int rc = -1;

	pthread_mutex_lock(&n->mu);
	if (n->failed || vpn >= n->npages) {
		if (!n->failed)
			node_fail(n, "DSM: fault on page %u of %u shared pages", vpn, n->npages);
		goto out;
	}
	if (n->access[vpn] >= (write ? DSM_WRITE : DSM_READ)) {
		n->st.raced++; /* granted since the trap: nothing to ask */
		n->pinned = vpn;
		rc = 0;
		goto out;
	}
	req.u.dsm_request.page = vpn;
	req.u.dsm_request.access = write ? PROTO_DSM_WRITE : PROTO_DSM_READ;
	pthread_mutex_lock(&n->send_mu);
	req.seq = ++n->seq;
	pthread_mutex_unlock(&n->send_mu);
	n->want = vpn;
	n->want_seq = req.seq;
	n->granted = false;
	if (write)
		n->st.write_faults++;
	else
		n->st.read_faults++;
	if (node_send(n, &req) != 0)
		goto out;
	snprintf(what, sizeof(what), "for page %u", vpn);
	if (wait_for(n, &n->granted, what) != 0)
		goto out;
	n->pinned = vpn;
	note_latency(n, now_ns() - t0);
	rc = 0;
out:
	n->want = NO_PAGE;
	pthread_mutex_unlock(&n->mu);
	return rc;
}

void dsm_node_unpin(struct dsm_node *n)
{
	uint32_t vpn;

	pthread_mutex_lock(&n->mu);
	vpn = n->pinned;
	n->pinned = NO_PAGE;
	if (vpn != NO_PAGE && n->deferred[vpn]) {
		uint32_t mode = n->deferred[vpn] - 1u;

		n->deferred[vpn] = 0;
		if (!n->failed)
			invalidate(n, vpn, mode);
	}
	pthread_mutex_unlock(&n->mu);
}

int dsm_node_leave(struct dsm_node *n)
{
	struct proto_msg m = { .type = PROTO_DSM_LEAVE };
	int rc = -1;

	pthread_mutex_lock(&n->mu);
	if (n->failed)
		goto out;
	pthread_mutex_lock(&n->send_mu);
	m.seq = ++n->seq;
	pthread_mutex_unlock(&n->send_mu);
	n->leave_seq = m.seq;
	if (node_send(n, &m) == 0)
		rc = wait_for(n, &n->left, "dsm-leave");
out:
	pthread_mutex_unlock(&n->mu);
	return rc;
}

void dsm_node_close(struct dsm_node *n)
{
	if (!n)
		return;
	if (n->thread_started) {
		uint64_t one = 1;

		if (write(n->stop_fd, &one, sizeof(one)) != sizeof(one))
			pthread_cancel(n->thread);
		pthread_join(n->thread, NULL);
	}
	if (n->stop_fd >= 0)
		close(n->stop_fd);
	if (n->c)
		pclient_close(n->c);
	pthread_mutex_destroy(&n->mu);
	pthread_mutex_destroy(&n->send_mu);
	pthread_cond_destroy(&n->cond);
	free(n->access);
	free(n->deferred);
	free(n->lat);
	free(n);
}

const char *dsm_node_error(const struct dsm_node *n)
{
	return n->err;
}

void dsm_node_get_stats(struct dsm_node *n, struct dsm_node_stats *st)
{
	pthread_mutex_lock(&n->mu);
	*st = n->st;
	pthread_mutex_unlock(&n->mu);
}

const uint32_t *dsm_node_latencies(struct dsm_node *n, size_t *count)
{
	*count = n->nlat;
	return n->lat;
}
