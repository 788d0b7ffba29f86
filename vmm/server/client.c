// SPDX-License-Identifier: MIT
/* The pager server's client side: see client.h. */
#include "client.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server.h"

static int cfail(struct pclient *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int cfail(struct pclient *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return -1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for fd to be ready for events until deadline. 0, or -1 with a reason. */
static int wait_ready(struct pclient *c, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd pfd = { .fd = c->fd, .events = events };
		int64_t left = deadline - now_ms();
		int n;

		if (left <= 0)
			return cfail(c, "the pager server did not answer within %d ms", c->timeout_ms);
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return cfail(c, "poll: %s", strerror(errno));
	}
}

int pclient_send_raw(struct pclient *c, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	int64_t deadline = now_ms() + c->timeout_ms;

	while (len) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			if (wait_ready(c, POLLOUT, deadline) != 0)
				return -1;
			continue;
		}
		if (n <= 0)
			return cfail(c, "the pager server closed the connection (%s)",
				     n < 0 ? strerror(errno) : "send");
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int server_error(struct pclient *c, const struct proto_msg *m);

/*
 * A send failed because the server closed the connection: a server that
 * refuses a message sends its ERROR before it closes, so the reason may be
 * waiting to be read. Say it rather than the broken pipe. Always -1.
 */
static int sent_to_closed(struct pclient *c)
{
	int keep = c->timeout_ms;
	struct proto_msg m;

	c->timeout_ms = keep < 1000 ? keep : 1000;
	while (pclient_recv(c, &m) == 0)
		if (m.type == PROTO_ERROR && m.u.error.req_type != PROTO_EVICT) {
			server_error(c, &m);
			break;
		}
	c->timeout_ms = keep;
	return -1;
}

static int send_msg(struct pclient *c, struct proto_msg *m)
{
	size_t len;

	m->seq = ++c->seq;
	len = proto_encode(m, c->out, PROTO_MAX_MSG);
	if (!len)
		return cfail(c, "internal: %s does not encode", proto_type_name(m->type));
	return pclient_send_raw(c, c->out, len) == 0 ? 0 : sent_to_closed(c);
}

int pclient_recv(struct pclient *c, struct proto_msg *m)
{
	int64_t deadline = now_ms() + c->timeout_ms;

	if (c->inoff) {
		memmove(c->in, c->in + c->inoff, c->inlen - c->inoff);
		c->inlen -= c->inoff;
		c->inoff = 0;
	}
	for (;;) {
		char why[160];
		long used = proto_decode(c->in, c->inlen, m, why, sizeof(why));
		ssize_t n;

		if (used > 0) {
			c->inoff = (size_t)used;
			return 0;
		}
		if (used < 0)
			return cfail(c, "the pager server sent a bad message: %s", why);
		if (wait_ready(c, POLLIN, deadline) != 0)
			return -1;
		n = recv(c->fd, c->in + c->inlen, PROTO_MAX_MSG - c->inlen, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return cfail(c, "the pager server closed the connection%s%s",
				     n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
		c->inlen += (size_t)n;
	}
}

/* The reason an ERROR gives, as the client's failure. */
static int server_error(struct pclient *c, const struct proto_msg *m)
{
	c->last_errno = m->u.error.err;
	return cfail(c, "pager server: %s (%s; %s, region %u page %u)", m->u.error.text,
		     strerror(m->u.error.err), proto_type_name(m->u.error.req_type),
		     m->u.error.region, m->u.error.page);
}

/*
 * What the server sends unasked in the current region: an EVICT (the page is
 * unmapped and given back at once) or a RESOLVED for a page a REFS batch
 * referenced after the server had evicted it. 1 if m was one, 0 if not,
 * -1 on a failure.
 */
static int absorb(struct pclient *c, const struct proto_msg *m)
{
	struct pclient_region *r = c->cur;

	if (!r)
		return 0;
	if (m->type == PROTO_EVICT && m->u.evict.region == r->id && m->u.evict.page < r->npages &&
	    r->mapped[m->u.evict.page]) {
		struct proto_msg back = { .type = PROTO_DATA_RETURN };
		bool dirty = m->u.evict.flags & PROTO_PAGE_DIRTY;
		const uint8_t *data = NULL;

		if (r->pages) {
			int rc = r->pages->evict(r->pages->ctx, m->u.evict.page, m->u.evict.frame, dirty,
						 &data);

			if (rc)
				return cfail(c, "evicting page %u: %s", m->u.evict.page, strerror(-rc));
		}
		r->mapped[m->u.evict.page] = 0;
		r->evicts++;
		r->dirty_evicts += dirty;
		back.u.data_return.region = r->id;
		back.u.data_return.page = m->u.evict.page;
		back.u.data_return.flags = m->u.evict.flags;
		/* The bytes go back if the page is dirty, or if the client
		 * knows it written since the server decided (an eviction that
		 * reached it while it ran: global replacement). */
		if (data) {
			back.u.data_return.flags |= PROTO_PAGE_DIRTY;
			back.u.data_return.data = data;
			back.u.data_return.data_len = r->page_size;
		}
		return send_msg(c, &back) == 0 ? 1 : -1;
	}
	if (m->type == PROTO_SAMPLE && r->pages && m->u.evict.region == r->id &&
	    m->u.evict.page < r->npages && r->mapped[m->u.evict.page]) {
		int rc = r->pages->sample(r->pages->ctx, m->u.evict.page, m->u.evict.frame);

		if (rc)
			return cfail(c, "sampling page %u: %s", m->u.evict.page, strerror(-rc));
		r->samples++;
		return 1;
	}
	if (m->type == PROTO_ERROR && m->u.error.req_type == PROTO_EVICT &&
	    m->u.error.region == r->id) {
		/* A write-back failed at the server: noted for the client's
		 * next sync; the run goes on. */
		r->writeback_errors++;
		r->unsynced_errors++;
		r->last_writeback_err = m->u.error.err;
		r->last_writeback_page = m->u.error.page;
		r->last_writeback_write = m->u.error.req_seq;
		return 1;
	}
	if (m->type == PROTO_RESOLVED && m->u.resolved.region == r->id &&
	    m->u.resolved.page < r->npages && !r->mapped[m->u.resolved.page]) {
		r->mapped[m->u.resolved.page] = 1;
		return 1;
	}
	return 0;
}

/* The reply of type `want` to the request numbered seq. */
static int expect(struct pclient *c, uint16_t want, uint32_t seq, struct proto_msg *m)
{
	for (;;) {
		int rc;

		if (pclient_recv(c, m) != 0)
			return -1;
		if (m->type == want && m->seq == seq)
			return 0;
		if ((rc = absorb(c, m)) < 0)
			return -1;
		if (!rc && m->type == PROTO_ERROR)
			return server_error(c, m);
		if (!rc)
			return cfail(c, "the pager server sent %s #%u, expected %s #%u",
				     proto_type_name(m->type), m->seq, proto_type_name(want), seq);
	}
}

struct pclient *pclient_connect(const char *addr, int timeout_ms, char *err, size_t errlen)
{
	struct pclient *c = calloc(1, sizeof(*c));
	struct sockaddr_storage sa;
	struct proto_msg m = { .type = PROTO_HELLO };
	socklen_t salen;

	if (!c || !(c->in = malloc(PROTO_MAX_MSG)) || !(c->out = malloc(PROTO_MAX_MSG)) ||
	    !(c->batch = malloc(PROTO_HDR + 8 + 4 * (size_t)PROTO_MAX_REFS))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	c->timeout_ms = timeout_ms;
	c->fd = -1;
	if (pserver_parse_addr(addr, &sa, &salen, err, errlen) != 0)
		goto fail;
	c->fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, salen) != 0) {
		snprintf(err, errlen, "%s: %s", addr, strerror(errno));
		goto fail;
	}
	m.u.hello.min = m.u.hello.max = PROTO_VERSION;
	m.u.hello.max_payload = PROTO_MAX_PAYLOAD;
	if (send_msg(c, &m) != 0) {
		/* A server that refuses the connection (SO_PEERCRED) sends
		 * its ERROR and closes, maybe before the HELLO is sent:
		 * send_msg() read the ERROR, which says why. */
		snprintf(err, errlen, "%s: %s", addr, c->err);
		goto fail;
	}
	if (expect(c, PROTO_HELLO, m.seq, &m) != 0) {
		snprintf(err, errlen, "%s: %s", addr, c->err);
		goto fail;
	}
	return c;
fail:
	if (c && c->fd >= 0)
		close(c->fd);
	if (c) {
		free(c->in);
		free(c->out);
		free(c->batch);
	}
	free(c);
	return NULL;
}

void pclient_close(struct pclient *c)
{
	struct proto_msg m = { .type = PROTO_GOODBYE };

	if (!c)
		return;
	c->timeout_ms = c->timeout_ms < 1000 ? c->timeout_ms : 1000;
	send_msg(c, &m);
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c->batch);
	free(c);
}

int pclient_register(struct pclient *c, uint32_t npages, uint32_t frames, uint8_t flags,
		     const struct proto_policy *pol, struct pclient_region *r)
{
	return pclient_register_pages(c, npages, frames, flags, PROTO_STORE_NONE, pol, NULL, r);
}

int pclient_register_pages(struct pclient *c, uint32_t npages, uint32_t frames, uint8_t flags,
			   uint8_t store, const struct proto_policy *pol,
			   const struct pclient_pages *pages, struct pclient_region *r)
{
	return pclient_register_keyed(c, npages, frames, flags, store, pol, pages, NULL, r);
}

int pclient_register_keyed(struct pclient *c, uint32_t npages, uint32_t frames, uint8_t flags,
			   uint8_t store, const struct proto_policy *pol,
			   const struct pclient_pages *pages, const char *key,
			   struct pclient_region *r)
{
	struct proto_msg m = { .type = PROTO_REGISTER };

	memset(r, 0, sizeof(*r));
	r->pages = pages;
	r->page_size = 4096;
	m.u.reg.npages = npages;
	m.u.reg.page_size = 4096;
	m.u.reg.frames = frames;
	m.u.reg.flags = flags;
	m.u.reg.store = store;
	m.u.reg.policy = *pol;
	if (key) {
		if (!proto_key_valid(key))
			return cfail(c, "'%.40s' is not a key (1 to %u of A-Z a-z 0-9 . _ -)", key,
				     PROTO_KEY - 1);
		m.u.reg.flags |= PROTO_REG_KEY;
		snprintf(m.u.reg.key, sizeof(m.u.reg.key), "%s", key);
	}
	if (!(r->mapped = calloc(npages ? npages : 1, 1)))
		return cfail(c, "out of memory for %u pages", npages);
	if (send_msg(c, &m) != 0 || expect(c, PROTO_REGISTERED, m.seq, &m) != 0) {
		pclient_region_fini(r);
		return -1;
	}
	r->id = m.u.registered.region;
	r->npages = npages;
	r->frames = m.u.registered.frames;
	return 0;
}

void pclient_region_fini(struct pclient_region *r)
{
	free(r->mapped);
	r->mapped = NULL;
}

static int flush_batch(struct pclient *c)
{
	uint8_t *h = c->batch;
	uint32_t plen = 8 + 4 * c->nbatch;

	if (!c->nbatch)
		return 0;
	/* The header and the REFS fields around the references already in
	 * place: the same bytes proto_encode writes. */
	c->seq++;
	memcpy(h, "PFPG", 4);
	h[4] = PROTO_VERSION; h[5] = 0;
	h[6] = (uint8_t)c->batch_type; h[7] = 0;
	for (int i = 0; i < 4; i++) {
		h[8 + i] = (uint8_t)(c->seq >> (8 * i));
		h[12 + i] = (uint8_t)(plen >> (8 * i));
		h[16 + i] = (uint8_t)(c->batch_region >> (8 * i));
		h[20 + i] = (uint8_t)(c->nbatch >> (8 * i));
	}
	c->nbatch = 0;
	return pclient_send_raw(c, h, PROTO_HDR + plen) == 0 ? 0 : sent_to_closed(c);
}

static int add_ref(struct pclient *c, uint16_t type, uint32_t region, uint32_t ref)
{
	uint8_t *p;

	if (c->nbatch &&
	    (c->batch_region != region || c->batch_type != type || c->nbatch == PROTO_MAX_REFS) &&
	    flush_batch(c) != 0)
		return -1;
	c->batch_region = region;
	c->batch_type = type;
	p = c->batch + PROTO_HDR + 8 + 4 * (size_t)c->nbatch++;
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(ref >> (8 * i));
	return 0;
}

static int add_hit(struct pclient *c, uint32_t region, uint32_t ref)
{
	return add_ref(c, PROTO_REFS, region, ref);
}

/* The server's answers to a FAULT: EVICTs, each given back at once (and
 * whatever else absorb() takes), then the RESOLVED that maps the page:
 * 0; or its ERROR: 1 for a page-in that failed, else -1. */
static int fault_out(struct pclient *c, struct pclient_region *r, uint32_t vpn, bool write,
		     struct pclient_resolved *out)
{
	struct proto_msg m = { .type = PROTO_FAULT };
	uint32_t seq;

	m.u.fault.region = r->id;
	m.u.fault.page = vpn;
	m.u.fault.access = write ? 1 : 0;
	if (flush_batch(c) != 0 || send_msg(c, &m) != 0)
		return -1;
	seq = m.seq;
	for (bool sampled = false;;) {
		int rc;

		if (pclient_recv(c, &m) != 0)
			return -1;
		if (m.type == PROTO_SAMPLE && out && r->pages && m.u.evict.region == r->id &&
		    m.u.evict.page == vpn && !r->mapped[vpn]) {
			sampled = true; /* the page's own, before its RESOLVED */
			r->samples++;
			continue;
		}
		if (m.type == PROTO_RESOLVED && m.seq == seq && m.u.resolved.region == r->id &&
		    m.u.resolved.page == vpn) {
			if (m.u.resolved.data_len && m.u.resolved.data_len != r->page_size)
				return cfail(c, "the pager server sent %u bytes for page %u",
					     m.u.resolved.data_len, vpn);
			r->mapped[vpn] = 1;
			if (out)
				*out = (struct pclient_resolved){ .frame = m.u.resolved.frame,
								  .data = m.u.resolved.data,
								  .data_len = m.u.resolved.data_len,
								  .sampled = sampled };
			return 0;
		}
		if ((rc = absorb(c, &m)) < 0)
			return -1;
		if (rc)
			continue;
		if (m.type == PROTO_ERROR) {
			server_error(c, &m);
			return m.u.error.req_type == PROTO_FAULT && m.u.error.req_seq == seq &&
			       m.u.error.page == vpn ? 1 : -1;
		}
		return cfail(c, "the pager server sent %s #%u for fault #%u",
			     proto_type_name(m.type), m.seq, seq);
	}
}

static int fault(struct pclient *c, struct pclient_region *r, uint32_t vpn, bool write)
{
	return fault_out(c, r, vpn, write, NULL) == 0 ? 0 : -1;
}

int pclient_fault_page(struct pclient *c, struct pclient_region *r, uint32_t vpn, bool write,
		       struct pclient_resolved *out)
{
	c->cur = r;
	if (vpn >= r->npages)
		return cfail(c, "fault on page %u out of the region's %u", vpn, r->npages);
	return fault_out(c, r, vpn, write, out);
}

int pclient_touch(struct pclient *c, struct pclient_region *r, uint32_t vpn, bool write)
{
	if (vpn >= r->npages)
		return cfail(c, "touch of page %u out of the region's %u", vpn, r->npages);
	return add_ref(c, PROTO_TOUCH, r->id, vpn | (write ? PROTO_REF_WRITE : 0));
}

long pclient_sync(struct pclient *c, struct pclient_region *r)
{
	struct proto_msg reply;
	long n;

	c->cur = r;
	if (pclient_stats(c, r->id, &reply) != 0)
		return -1;
	n = (long)r->unsynced_errors;
	r->unsynced_errors = 0;
	return n;
}

int pclient_handover(struct pclient *c, struct pclient_region *r, uint64_t base, int uffd,
		     int memfd)
{
	struct proto_msg m = { .type = PROTO_UFFD };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(2 * sizeof(int))];
	} ctl;
	int fds[2] = { uffd, memfd };
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *cm;
	size_t len;
	ssize_t n;

	m.seq = ++c->seq;
	m.u.uffd.region = r->id;
	m.u.uffd.base = base;
	len = proto_encode(&m, c->out, PROTO_MAX_MSG);
	if (!len || flush_batch(c) != 0)
		return len ? -1 : cfail(c, "internal: uffd does not encode");
	iov = (struct iovec){ c->out, len };
	memset(&ctl, 0, sizeof(ctl));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	/* The socket is blocking: a message this small goes whole. */
	do
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return cfail(c, "the pager server closed the connection (%s)", strerror(errno));
	if ((size_t)n < len && pclient_send_raw(c, c->out + n, len - (size_t)n) != 0)
		return -1;
	c->cur = r;
	return expect(c, PROTO_ACK, m.seq, &m);
}

int pclient_take_async(struct pclient *c, struct pclient_region *r)
{
	c->cur = r;
	for (;;) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		struct proto_msg m;
		char why[160];
		int rc;

		/* A whole message buffered, or bytes waiting: read one. */
		if (proto_decode(c->in + c->inoff, c->inlen - c->inoff, &m, why, sizeof(why)) == 0 &&
		    poll(&pfd, 1, 0) <= 0)
			return 0;
		if (pclient_recv(c, &m) != 0)
			return -1;
		if ((rc = absorb(c, &m)) < 0)
			return -1;
		if (rc)
			continue;
		if (m.type == PROTO_ERROR)
			return server_error(c, &m);
		return cfail(c, "the pager server sent %s #%u unasked", proto_type_name(m.type), m.seq);
	}
}

int pclient_replay(struct pclient *c, struct pclient_region *r, const uint32_t *refs, size_t n)
{
	c->cur = r;
	for (size_t i = 0; i < n; i++) {
		uint32_t vpn = refs[i] & ~PROTO_REF_WRITE;

		if (vpn >= r->npages)
			return cfail(c, "reference %zu: page %u out of the region's %u", i, vpn,
				     r->npages);
		if (r->mapped[vpn] ? add_hit(c, r->id, refs[i]) != 0
				   : fault(c, r, vpn, refs[i] & PROTO_REF_WRITE) != 0)
			return -1;
	}
	return flush_batch(c);
}

int pclient_stats(struct pclient *c, uint32_t region, struct proto_msg *reply)
{
	struct proto_msg m = { .type = PROTO_STATS };

	m.u.stats.region = region;
	if (flush_batch(c) != 0 || send_msg(c, &m) != 0)
		return -1;
	return expect(c, PROTO_STATS_REPLY, m.seq, reply);
}

int pclient_set_policy(struct pclient *c, uint32_t region, const struct proto_policy *pol)
{
	struct proto_msg m = { .type = PROTO_SET_POLICY };

	m.u.set_policy.region = region;
	m.u.set_policy.policy = *pol;
	if (flush_batch(c) != 0 || send_msg(c, &m) != 0)
		return -1;
	return expect(c, PROTO_ACK, m.seq, &m);
}
