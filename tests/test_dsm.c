// SPDX-License-Identifier: MIT
/*
 * Distributed shared memory (vmm/server/dsm.c, docs/external-pager.md,
 * "Distributed shared memory"): the manager driven by a scripted access
 * sequence of two nodes, in-process and deterministic, every message and
 * counter against the hand-worked ones; three nodes' requests queued on one
 * page; a page whose owner vanished answered with EIO; the manager's
 * misuse refused over a real server's socket; and, with KVM, two `pflab
 * run --dsm` nodes running the three shared workloads with every check
 * passing.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "dsm.h"
#include "dsm_node.h"
#include "proto.h"
#include "test.h"

/* ---- the manager in-process: what it sends, recorded ------------------ */

#define MAXLOG 64

struct sent {
	int to;            /* node index of the connection */
	uint16_t type;
	uint32_t page, mode; /* mode: access of a grant, mode of an invalidate */
	uint32_t data_len;
	uint8_t byte0;     /* the page's first byte, if data */
	int err;           /* ERROR's errno */
	bool close;
};

struct rig {
	int conn[PROTO_DSM_MAX_NODES]; /* conn i is &conn[i] */
	struct sent log[MAXLOG];
	size_t n, seen;
	struct dsm_mgr *d;
	uint32_t seq;
};

static int conn_index(struct rig *g, void *conn)
{
	return (int)((int *)conn - g->conn);
}

static void rig_send(void *ctx, void *conn, struct proto_msg *m)
{
	struct rig *g = ctx;
	struct sent *s = &g->log[g->n < MAXLOG ? g->n++ : MAXLOG - 1];

	*s = (struct sent){ .to = conn_index(g, conn), .type = m->type };
	if (m->type == PROTO_DSM_GRANT) {
		s->page = m->u.dsm_grant.page;
		s->mode = m->u.dsm_grant.access;
		s->data_len = m->u.dsm_grant.data_len;
		s->byte0 = s->data_len ? m->u.dsm_grant.data[0] : 0;
	} else if (m->type == PROTO_DSM_INVALIDATE) {
		s->page = m->u.dsm_invalidate.page;
		s->mode = m->u.dsm_invalidate.mode;
	}
}

static void rig_error(void *ctx, void *conn, uint32_t page, int err, const struct proto_msg *req,
		      bool close, const char *text)
{
	struct rig *g = ctx;
	struct sent *s = &g->log[g->n < MAXLOG ? g->n++ : MAXLOG - 1];

	(void)req;
	(void)text;
	*s = (struct sent){ .to = conn_index(g, conn), .type = PROTO_ERROR, .page = page,
			    .err = err, .close = close };
}

static const struct dsm_conn_ops rig_ops = { .send = rig_send, .error = rig_error };

static void rig_msg(struct rig *g, int node, struct proto_msg m)
{
	m.seq = ++g->seq;
	dsm_handle(g->d, &g->conn[node], &m);
}

static void join(struct rig *g, int node, uint32_t nodes, uint32_t npages)
{
	struct proto_msg m = { .type = PROTO_DSM_JOIN };

	m.u.dsm_join.node = (uint32_t)node;
	m.u.dsm_join.nodes = nodes;
	m.u.dsm_join.npages = npages;
	rig_msg(g, node, m);
}

static void request(struct rig *g, int node, uint32_t page, int write)
{
	struct proto_msg m = { .type = PROTO_DSM_REQUEST };

	m.u.dsm_request.page = page;
	m.u.dsm_request.access = write ? PROTO_DSM_WRITE : PROTO_DSM_READ;
	rig_msg(g, node, m);
}

/* Node answers an invalidation; a page it gives back is filled with fill. */
static void inv_done(struct rig *g, int node, uint32_t page, uint32_t mode, uint8_t fill)
{
	static uint8_t data[PROTO_DSM_PAGE];
	struct proto_msg m = { .type = PROTO_DSM_INV_DONE };

	memset(data, fill, sizeof(data));
	m.u.dsm_inv_done.page = page;
	m.u.dsm_inv_done.mode = mode;
	m.u.dsm_inv_done.data_len = mode == PROTO_DSM_DROP ? 0 : PROTO_DSM_PAGE;
	m.u.dsm_inv_done.data = data;
	rig_msg(g, node, m);
}

/* The next message sent must be this one. */
static void expect(struct rig *g, int to, uint16_t type, uint32_t page, uint32_t mode,
		   uint32_t data_len, uint8_t byte0, int line)
{
	struct sent *s = g->seen < g->n ? &g->log[g->seen++] : NULL;
	bool ok = s && s->to == to && s->type == type && s->page == page &&
		  (type == PROTO_ACK || type == PROTO_DSM_JOINED || type == PROTO_ERROR ||
		   (s->mode == mode && s->data_len == data_len && s->byte0 == byte0));

	if (!ok)
		fprintf(stderr, "\n  line %d: expected %s to node %d page %u, got %s to %d page %u "
			"mode %u len %u byte %u\n", line, proto_type_name(type), to, page,
			s ? proto_type_name(s->type) : "nothing", s ? s->to : -1, s ? s->page : 0,
			s ? s->mode : 0, s ? s->data_len : 0, s ? s->byte0 : 0);
	CU_ASSERT(ok);
}
#define EXPECT(g, to, type, page, mode, len, byte0) expect(g, to, type, page, mode, len, byte0, __LINE__)
#define NOTHING_MORE(g) CU_ASSERT_EQUAL((g)->seen, (g)->n)

static void rig_init(struct rig *g)
{
	memset(g, 0, sizeof(*g));
	g->d = dsm_create(&rig_ops, g);
	CU_ASSERT_FATAL(g->d != NULL);
}

#define P PROTO_DSM_PAGE
#define RD PROTO_DSM_READ
#define WR PROTO_DSM_WRITE

/*
 * The golden sequence of docs/external-pager.md, two nodes, page 0 unless
 * said: each step's messages and, at the end, the counters, as worked out
 * by hand there.
 */
static void test_golden_sequence(void)
{
	struct rig g;
	struct proto_dsm_stats st;
	uint32_t nodes, joined;

	rig_init(&g);
	join(&g, 0, 2, 4);
	join(&g, 1, 2, 4);
	EXPECT(&g, 0, PROTO_DSM_JOINED, 0, 0, 0, 0);
	EXPECT(&g, 1, PROTO_DSM_JOINED, 0, 0, 0, 0);
	/* 1. node 0 reads: a copy of the manager's (zero) page */
	request(&g, 0, 0, 0);
	EXPECT(&g, 0, PROTO_DSM_GRANT, 0, RD, P, 0);
	/* 2. node 1 reads: another copy */
	request(&g, 1, 0, 0);
	EXPECT(&g, 1, PROTO_DSM_GRANT, 0, RD, P, 0);
	/* 3. node 0 writes: node 1's copy is dropped, node 0 upgrades (no data) */
	request(&g, 0, 0, 1);
	EXPECT(&g, 1, PROTO_DSM_INVALIDATE, 0, PROTO_DSM_DROP, 0, 0);
	NOTHING_MORE(&g); /* no grant before the acknowledgement */
	inv_done(&g, 1, 0, PROTO_DSM_DROP, 0);
	EXPECT(&g, 0, PROTO_DSM_GRANT, 0, WR, 0, 0);
	/* 4. node 1 reads: node 0 downgrades, sending its page (0xAA), which
	 *    node 1 receives */
	request(&g, 1, 0, 0);
	EXPECT(&g, 0, PROTO_DSM_INVALIDATE, 0, PROTO_DSM_DOWNGRADE, 0, 0);
	inv_done(&g, 0, 0, PROTO_DSM_DOWNGRADE, 0xaa);
	EXPECT(&g, 1, PROTO_DSM_GRANT, 0, RD, P, 0xaa);
	/* 5. node 1 writes: node 0's copy dropped, node 1 upgrades */
	request(&g, 1, 0, 1);
	EXPECT(&g, 0, PROTO_DSM_INVALIDATE, 0, PROTO_DSM_DROP, 0, 0);
	inv_done(&g, 0, 0, PROTO_DSM_DROP, 0);
	EXPECT(&g, 1, PROTO_DSM_GRANT, 0, WR, 0, 0);
	/* 6. node 0 writes: node 1 returns its page (0xBB) and drops it */
	request(&g, 0, 0, 1);
	EXPECT(&g, 1, PROTO_DSM_INVALIDATE, 0, PROTO_DSM_RETURN, 0, 0);
	inv_done(&g, 1, 0, PROTO_DSM_RETURN, 0xbb);
	EXPECT(&g, 0, PROTO_DSM_GRANT, 0, WR, P, 0xbb);
	/* 7. node 1 writes page 1, which nobody holds: the manager's copy */
	request(&g, 1, 1, 1);
	EXPECT(&g, 1, PROTO_DSM_GRANT, 1, WR, P, 0);
	/* 8. node 0 leaves: its page 0 (0xCC) comes back before the ACK */
	rig_msg(&g, 0, (struct proto_msg){ .type = PROTO_DSM_LEAVE });
	EXPECT(&g, 0, PROTO_DSM_INVALIDATE, 0, PROTO_DSM_RETURN, 0, 0);
	NOTHING_MORE(&g);
	inv_done(&g, 0, 0, PROTO_DSM_RETURN, 0xcc);
	EXPECT(&g, 0, PROTO_ACK, 0, 0, 0, 0);
	/* 9. node 1 reads page 0: what node 0 gave back */
	request(&g, 1, 0, 0);
	EXPECT(&g, 1, PROTO_DSM_GRANT, 0, RD, P, 0xcc);
	NOTHING_MORE(&g);

	dsm_stats(g.d, &st, &nodes, &joined);
	CU_ASSERT_EQUAL(nodes, 2);
	CU_ASSERT_EQUAL(joined, 2);
	CU_ASSERT_EQUAL(st.requests, 8);
	CU_ASSERT_EQUAL(st.reads, 4);
	CU_ASSERT_EQUAL(st.writes, 4);
	CU_ASSERT_EQUAL(st.pages_sent, 6);
	CU_ASSERT_EQUAL(st.pages_returned, 3);
	CU_ASSERT_EQUAL(st.invalidations, 5);
	CU_ASSERT_EQUAL(st.upgrades, 2);
	CU_ASSERT_EQUAL(st.errors, 0);
	dsm_disconnect(g.d, &g.conn[0]);
	dsm_disconnect(g.d, &g.conn[1]);
	dsm_stats(g.d, &st, &nodes, &joined);
	CU_ASSERT(nodes == 0 && joined == 0); /* the region went with its last node */
	dsm_destroy(g.d);
}

/* Three nodes: requests on a busy page wait their turn, in arrival order. */
static void test_queued_requests(void)
{
	struct rig g;

	rig_init(&g);
	for (int i = 0; i < 3; i++)
		join(&g, i, 3, 2);
	g.seen = 3;
	request(&g, 0, 1, 1);
	EXPECT(&g, 0, PROTO_DSM_GRANT, 1, WR, P, 0);
	request(&g, 1, 1, 0); /* node 0 must downgrade first */
	EXPECT(&g, 0, PROTO_DSM_INVALIDATE, 1, PROTO_DSM_DOWNGRADE, 0, 0);
	request(&g, 2, 1, 1); /* queued behind node 1's read */
	NOTHING_MORE(&g);
	inv_done(&g, 0, 1, PROTO_DSM_DOWNGRADE, 0x11);
	EXPECT(&g, 1, PROTO_DSM_GRANT, 1, RD, P, 0x11);
	/* node 2's write: both copies dropped, then the page */
	EXPECT(&g, 0, PROTO_DSM_INVALIDATE, 1, PROTO_DSM_DROP, 0, 0);
	EXPECT(&g, 1, PROTO_DSM_INVALIDATE, 1, PROTO_DSM_DROP, 0, 0);
	inv_done(&g, 1, 1, PROTO_DSM_DROP, 0);
	NOTHING_MORE(&g);
	inv_done(&g, 0, 1, PROTO_DSM_DROP, 0);
	EXPECT(&g, 2, PROTO_DSM_GRANT, 1, WR, P, 0x11);
	NOTHING_MORE(&g);
	dsm_destroy(g.d);
}

/* An owner that disconnects takes the only current copy: EIO, not zeros. */
static void test_lost_page_is_an_error(void)
{
	struct rig g;
	struct proto_dsm_stats st;
	uint32_t nodes, joined;

	rig_init(&g);
	join(&g, 0, 2, 4);
	join(&g, 1, 2, 4);
	g.seen = 2;
	request(&g, 0, 2, 1);
	EXPECT(&g, 0, PROTO_DSM_GRANT, 2, WR, P, 0);
	request(&g, 1, 3, 0);
	EXPECT(&g, 1, PROTO_DSM_GRANT, 3, RD, P, 0);
	/* node 1 asks for page 2 while node 0 holds it, and node 0 dies
	 * before returning it */
	request(&g, 1, 2, 0);
	EXPECT(&g, 0, PROTO_DSM_INVALIDATE, 2, PROTO_DSM_DOWNGRADE, 0, 0);
	dsm_disconnect(g.d, &g.conn[0]);
	EXPECT(&g, 1, PROTO_ERROR, 2, 0, 0, 0);
	CU_ASSERT(g.log[g.seen - 1].err == EIO && !g.log[g.seen - 1].close);
	/* and node 1 is told that node 0 died */
	EXPECT(&g, 1, PROTO_ERROR, 0, 0, 0, 0);
	CU_ASSERT(g.log[g.seen - 1].err == ECONNRESET && !g.log[g.seen - 1].close);
	/* and again later: still lost; other pages are served */
	request(&g, 1, 2, 1);
	EXPECT(&g, 1, PROTO_ERROR, 2, 0, 0, 0);
	CU_ASSERT(g.log[g.seen - 1].err == EIO);
	request(&g, 1, 1, 1);
	EXPECT(&g, 1, PROTO_DSM_GRANT, 1, WR, P, 0);
	dsm_stats(g.d, &st, &nodes, &joined);
	CU_ASSERT_EQUAL(st.errors, 2);
	CU_ASSERT_EQUAL(joined, 1);
	dsm_destroy(g.d);
}

/* Misuse, in-process: each refused with its errno and the connection closed. */
static void test_misuse_in_process(void)
{
	struct rig g;
	static const struct { const char *what; int err; } want[] = {
		{ "request before join", EPROTO },
		{ "page out of range", ERANGE },
		{ "read of a page held", EEXIST },
		{ "write of a page owned", EEXIST },
		{ "inv-done answering nothing", EPROTO },
		{ "other region's shape", EINVAL },
		{ "node taken", EADDRINUSE },
		{ "second join", EPROTO },
		{ "request after leave", EPROTO },
	};
	size_t k = 0;

	rig_init(&g);
	request(&g, 0, 0, 0);
	join(&g, 0, 2, 4);
	g.n--; /* the JOINED */
	request(&g, 0, 4, 0);
	request(&g, 0, 0, 0);
	g.n--; /* the grant */
	request(&g, 0, 0, 0);
	request(&g, 0, 1, 1);
	g.n--;
	request(&g, 0, 1, 1);
	inv_done(&g, 0, 0, PROTO_DSM_DROP, 0);
	join(&g, 1, 3, 4);
	{
		struct proto_msg m = { .type = PROTO_DSM_JOIN, .seq = 99 };

		m.u.dsm_join.node = 0;
		m.u.dsm_join.nodes = 2;
		m.u.dsm_join.npages = 4;
		dsm_handle(g.d, &g.conn[2], &m); /* another connection as node 0 */
	}
	join(&g, 0, 2, 4); /* connection 0 again */
	rig_msg(&g, 0, (struct proto_msg){ .type = PROTO_DSM_LEAVE });
	/* node 0 owns page 1: it is asked back; answer, get the ACK */
	CU_ASSERT(g.log[g.n - 1].type == PROTO_DSM_INVALIDATE);
	g.n--;
	inv_done(&g, 0, 1, PROTO_DSM_RETURN, 1);
	CU_ASSERT(g.log[g.n - 1].type == PROTO_ACK);
	g.n--;
	request(&g, 0, 2, 0);
	for (size_t i = 0; i < g.n && k < sizeof(want) / sizeof(want[0]); i++, k++) {
		bool ok = g.log[i].type == PROTO_ERROR && g.log[i].err == want[k].err &&
			  g.log[i].close;

		if (!ok)
			fprintf(stderr, "\n  %s: got %s errno %d\n", want[k].what,
				proto_type_name(g.log[i].type), g.log[i].err);
		CU_ASSERT(ok);
	}
	CU_ASSERT_EQUAL(k, sizeof(want) / sizeof(want[0]));
	CU_ASSERT_EQUAL(g.n, sizeof(want) / sizeof(want[0]));
	dsm_destroy(g.d);

	/* A second request while the first waits (page 1 is being taken back
	 * from its owner, node 0, for node 1). */
	rig_init(&g);
	join(&g, 0, 2, 4);
	join(&g, 1, 2, 4);
	request(&g, 0, 1, 1);
	request(&g, 1, 1, 1);
	g.seen = g.n;
	request(&g, 1, 2, 0);
	CU_ASSERT(g.n == g.seen + 1 && g.log[g.seen].type == PROTO_ERROR &&
		  g.log[g.seen].err == EPROTO && g.log[g.seen].close);
	dsm_destroy(g.d);
}

/* ---- over a real server ----------------------------------------------- */

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* The same on TCP loopback, port 0: the port the server got, from its
 * --port-file, goes into s->addr. */
static bool srv_start_tcp(struct pager_srv *s)
{
	char pf[128];

	snprintf(s->dir, sizeof(s->dir), "/tmp/pflab-dsm.XXXXXX");
	if (!mkdtemp(s->dir))
		return false;
	snprintf(s->path, sizeof(s->path), "%s/port", s->dir);
	snprintf(pf, sizeof(pf), "%s", s->path);
	s->pid = fork();
	if (s->pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(null, 1);
		dup2(null, 2);
		execl(pflab_path(), "pflab", "pager", "--listen", "tcp::0", "--port-file", pf,
		      "--frames", "16", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 1000; i++) {
		FILE *f = fopen(pf, "r");
		int port = 0;

		if (f && fscanf(f, "%d", &port) == 1 && port > 0) {
			fclose(f);
			snprintf(s->addr, sizeof(s->addr), "tcp:127.0.0.1:%d", port);
			return true;
		}
		if (f)
			fclose(f);
		sleep_ms(10);
	}
	return false;
}

static bool srv_stop(struct pager_srv *s)
{
	int st = 0;

	kill(s->pid, SIGTERM);
	waitpid(s->pid, &st, 0);
	unlink(s->path);
	for (unsigned i = 0; i < 4; i++) { /* what run_nodes() left */
		static const char *const ext[] = { "csv", "err", "rc" };

		for (unsigned e = 0; e < 3; e++) {
			char path[160];

			snprintf(path, sizeof(path), "%s/n%u.%s", s->dir, i, ext[e]);
			unlink(path);
		}
	}
	rmdir(s->dir);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static int send_msg(struct pclient *c, struct proto_msg m)
{
	uint8_t buf[PROTO_HDR + 64];
	size_t n = proto_encode(&m, buf, sizeof(buf));

	return n ? pclient_send_raw(c, buf, n) : -1;
}

/* The next message is an ERROR with errno err, then the connection closes. */
static bool refused(struct pclient *c, int err)
{
	struct proto_msg m;
	bool ok = pclient_recv(c, &m) == 0 && m.type == PROTO_ERROR && m.u.error.err == err;

	if (!ok)
		fprintf(stderr, "\n  expected ERROR %d, got %s %d\n", err, proto_type_name(m.type),
			m.type == PROTO_ERROR ? m.u.error.err : 0);
	return ok && pclient_recv(c, &m) != 0 && strstr(c->err, "closed") != NULL;
}

static struct proto_msg join_msg(uint32_t node, uint32_t nodes, uint32_t npages)
{
	struct proto_msg m = { .type = PROTO_DSM_JOIN, .seq = 1 };

	m.u.dsm_join.node = node;
	m.u.dsm_join.nodes = nodes;
	m.u.dsm_join.npages = npages;
	return m;
}

/* A bad node, a bad page and the other misuses, over the socket: each gets
 * its ERROR and the close; node 0, joined throughout, is still served. */
static void test_misuse_refused(void)
{
	struct pager_srv s;
	struct pclient *n0, *c;
	struct proto_msg m;
	char err[256];
	uint8_t raw[PROTO_HDR + 16];

	CU_ASSERT_FATAL(pager_srv_start(&s, 16, NULL));
	n0 = pclient_connect(s.addr, 5000, err, sizeof(err));
	CU_ASSERT_FATAL(n0 != NULL);
	CU_ASSERT(send_msg(n0, join_msg(0, 2, 8)) == 0);
	CU_ASSERT(pclient_recv(n0, &m) == 0 && m.type == PROTO_DSM_JOINED && m.u.dsm_joined.node == 0);

	/* node 5 of 2: the decoder's (the message cannot be encoded: raw bytes) */
	c = pclient_connect(s.addr, 5000, err, sizeof(err));
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT(proto_encode(&(struct proto_msg){ .type = PROTO_DSM_JOIN,
		.u.dsm_join = { .node = 1, .nodes = 2, .npages = 8 } }, raw, sizeof(raw)) == 32);
	raw[PROTO_HDR] = 5;
	CU_ASSERT(pclient_send_raw(c, raw, sizeof(raw)) == 0);
	CU_ASSERT(refused(c, EBADMSG));
	pclient_close(c);
	/* another shape of region */
	c = pclient_connect(s.addr, 5000, err, sizeof(err));
	CU_ASSERT(send_msg(c, join_msg(1, 3, 8)) == 0);
	CU_ASSERT(refused(c, EINVAL));
	pclient_close(c);
	/* node 0 again */
	c = pclient_connect(s.addr, 5000, err, sizeof(err));
	CU_ASSERT(send_msg(c, join_msg(0, 2, 8)) == 0);
	CU_ASSERT(refused(c, EADDRINUSE));
	pclient_close(c);
	/* a request before joining */
	c = pclient_connect(s.addr, 5000, err, sizeof(err));
	CU_ASSERT(send_msg(c, (struct proto_msg){ .type = PROTO_DSM_REQUEST, .seq = 2 }) == 0);
	CU_ASSERT(refused(c, EPROTO));
	pclient_close(c);
	/* page 8 of 8 */
	c = pclient_connect(s.addr, 5000, err, sizeof(err));
	CU_ASSERT(send_msg(c, join_msg(1, 2, 8)) == 0);
	CU_ASSERT(pclient_recv(c, &m) == 0 && m.type == PROTO_DSM_JOINED);
	m = (struct proto_msg){ .type = PROTO_DSM_REQUEST, .seq = 3 };
	m.u.dsm_request.page = 8;
	CU_ASSERT(send_msg(c, m) == 0);
	CU_ASSERT(refused(c, ERANGE));
	pclient_close(c);
	/* an acknowledgement of nothing (node 1's slot is free again) */
	c = pclient_connect(s.addr, 5000, err, sizeof(err));
	CU_ASSERT(send_msg(c, join_msg(1, 2, 8)) == 0);
	CU_ASSERT(pclient_recv(c, &m) == 0 && m.type == PROTO_DSM_JOINED);
	CU_ASSERT(send_msg(c, (struct proto_msg){ .type = PROTO_DSM_INV_DONE, .seq = 4 }) == 0);
	CU_ASSERT(refused(c, EPROTO));
	pclient_close(c);

	/* node 0 was told of each joined node that went without leaving (the
	 * last two: their shared computation is broken)... */
	for (int i = 0; i < 2; i++)
		CU_ASSERT(pclient_recv(n0, &m) == 0 && m.type == PROTO_ERROR &&
			  m.u.error.err == ECONNRESET && strstr(m.u.error.text, "node 1") != NULL);
	/* ...and is still served: a write grant with the (zero) page */
	m = (struct proto_msg){ .type = PROTO_DSM_REQUEST, .seq = 5 };
	m.u.dsm_request.page = 7;
	m.u.dsm_request.access = PROTO_DSM_WRITE;
	CU_ASSERT(send_msg(n0, m) == 0);
	CU_ASSERT(pclient_recv(n0, &m) == 0 && m.type == PROTO_DSM_GRANT && m.seq == 5 &&
		  m.u.dsm_grant.page == 7 && m.u.dsm_grant.data_len == PROTO_DSM_PAGE &&
		  m.u.dsm_grant.data[0] == 0);
	CU_ASSERT(send_msg(n0, (struct proto_msg){ .type = PROTO_DSM_STATS, .seq = 6 }) == 0);
	CU_ASSERT(pclient_recv(n0, &m) == 0 && m.type == PROTO_DSM_STATS_REPLY);
	CU_ASSERT(m.u.dsm_stats_reply.nodes == 2 && m.u.dsm_stats_reply.joined == 1 &&
		  m.u.dsm_stats_reply.st.requests == 1 && m.u.dsm_stats_reply.st.pages_sent == 1);
	pclient_close(n0);
	CU_ASSERT(srv_stop(&s));
}

/* ---- the node's pin, without KVM --------------------------------------- */

struct fake_mem {
	uint8_t page[8][PROTO_DSM_PAGE];
	int access[8];   /* the last set_access of each page, -1: none yet */
	int calls;
};

static int fake_set_access(void *ctx, uint32_t vpn, enum dsm_access a)
{
	struct fake_mem *f = ctx;

	f->access[vpn] = (int)a;
	f->calls++;
	return 0;
}

static uint8_t *fake_page(void *ctx, uint32_t vpn)
{
	return ((struct fake_mem *)ctx)->page[vpn];
}

static const struct dsm_node_ops fake_ops = { .set_access = fake_set_access, .page = fake_page };

struct node_thread {
	char addr[160];
	struct fake_mem *mem;
	struct dsm_node *n;
	int rc;
};

static void *node_main(void *arg)
{
	struct node_thread *t = arg;
	char err[256];

	t->n = dsm_node_open(t->addr, 0, 1, 8, 2000, &fake_ops, t->mem, err, sizeof(err));
	t->rc = t->n ? dsm_node_fault(t->n, 3, true) : -1;
	return NULL;
}

/* The next whole message on fd within ms, into *m (its data in buf). */
static bool next_msg(int fd, uint8_t *buf, size_t *have, struct proto_msg *m, int ms)
{
	for (;;) {
		char why[160];
		long used = proto_decode(buf, *have, m, why, sizeof(why));
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (used > 0) {
			static uint8_t copy[PROTO_MAX_MSG];

			/* keep m's data valid: move the message out of buf */
			memcpy(copy, buf, (size_t)used);
			memmove(buf, buf + used, *have - (size_t)used);
			*have -= (size_t)used;
			return proto_decode(copy, (size_t)used, m, why, sizeof(why)) == used;
		}
		if (used < 0 || poll(&p, 1, ms) != 1)
			return false;
		n = read(fd, buf + *have, PROTO_MAX_MSG - *have);
		if (n <= 0)
			return false;
		*have += (size_t)n;
	}
}

static bool send_to(int fd, struct proto_msg m)
{
	static uint8_t out[PROTO_MAX_MSG];
	size_t len = proto_encode(&m, out, sizeof(out));

	return len && write(fd, out, len) == (ssize_t)len;
}

/*
 * A page just granted is pinned: an invalidation that arrives before the
 * faulting access is complete (dsm_node_unpin) waits for it, then takes the
 * page away (access removed first) with what the access wrote.
 */
static void test_node_pin(void)
{
	static struct fake_mem mem;
	static uint8_t buf[PROTO_MAX_MSG], data[PROTO_DSM_PAGE];
	struct node_thread t = { .mem = &mem };
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct proto_msg m, r;
	struct dsm_node_stats st;
	size_t have = 0;
	pthread_t th;
	int lfd, fd;

	memset(mem.access, 0xff, sizeof(mem.access));
	snprintf(un.sun_path, sizeof(un.sun_path), "%s/pin.sock", scratch_dir());
	snprintf(t.addr, sizeof(t.addr), "unix:%s", un.sun_path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CU_ASSERT_FATAL(bind(lfd, (struct sockaddr *)&un, sizeof(un)) == 0 && listen(lfd, 1) == 0);
	CU_ASSERT_FATAL(pthread_create(&th, NULL, node_main, &t) == 0);
	fd = accept(lfd, NULL, NULL);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(next_msg(fd, buf, &have, &m, 5000) && m.type == PROTO_HELLO);
	r = (struct proto_msg){ .type = PROTO_HELLO, .seq = m.seq };
	r.u.hello.min = r.u.hello.max = PROTO_VERSION;
	r.u.hello.max_payload = PROTO_MAX_PAYLOAD;
	CU_ASSERT_FATAL(send_to(fd, r));
	CU_ASSERT_FATAL(next_msg(fd, buf, &have, &m, 5000) && m.type == PROTO_DSM_JOIN);
	r = (struct proto_msg){ .type = PROTO_DSM_JOINED, .seq = m.seq };
	r.u.dsm_joined.nodes = 1;
	r.u.dsm_joined.npages = 8;
	r.u.dsm_joined.page_size = PROTO_DSM_PAGE;
	CU_ASSERT_FATAL(send_to(fd, r));
	CU_ASSERT_FATAL(next_msg(fd, buf, &have, &m, 5000) && m.type == PROTO_DSM_REQUEST &&
			m.u.dsm_request.page == 3 && m.u.dsm_request.access == PROTO_DSM_WRITE);
	/* the grant, and at once an invalidation of the same page */
	memset(data, 0x5a, sizeof(data));
	r = (struct proto_msg){ .type = PROTO_DSM_GRANT, .seq = m.seq };
	r.u.dsm_grant.page = 3;
	r.u.dsm_grant.access = PROTO_DSM_WRITE;
	r.u.dsm_grant.data_len = PROTO_DSM_PAGE;
	r.u.dsm_grant.data = data;
	CU_ASSERT_FATAL(send_to(fd, r));
	r = (struct proto_msg){ .type = PROTO_DSM_INVALIDATE, .seq = 90 };
	r.u.dsm_invalidate.page = 3;
	r.u.dsm_invalidate.mode = PROTO_DSM_RETURN;
	CU_ASSERT_FATAL(send_to(fd, r));
	pthread_join(th, NULL);
	CU_ASSERT_FATAL(t.rc == 0);
	CU_ASSERT(mem.access[3] == DSM_WRITE && mem.page[3][0] == 0x5a && mem.page[3][4095] == 0x5a);
	/* pinned: no answer, the page still writable */
	CU_ASSERT(!next_msg(fd, buf, &have, &m, 300));
	CU_ASSERT(mem.access[3] == DSM_WRITE);
	mem.page[3][100] = 0x77; /* the access completes */
	dsm_node_unpin(t.n);
	CU_ASSERT(next_msg(fd, buf, &have, &m, 5000) && m.type == PROTO_DSM_INV_DONE &&
		  m.u.dsm_inv_done.page == 3 && m.u.dsm_inv_done.mode == PROTO_DSM_RETURN &&
		  m.u.dsm_inv_done.data_len == PROTO_DSM_PAGE && m.u.dsm_inv_done.data[0] == 0x5a &&
		  m.u.dsm_inv_done.data[100] == 0x77);
	CU_ASSERT(mem.access[3] == DSM_NONE);
	dsm_node_get_stats(t.n, &st);
	CU_ASSERT(st.write_faults == 1 && st.pages_in == 1 && st.pages_out == 1 &&
		  st.invalidations == 1 && st.upgrades == 0);
	dsm_node_close(t.n);
	close(fd);
	close(lfd);
	unlink(un.sun_path);
}

/* ---- pflab run --dsm under KVM ---------------------------------------- */

static char *slurp(const char *dir, const char *name)
{
	char path[256];
	FILE *f;
	char *buf = calloc(1, 1 << 16);

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (f && buf) {
		size_t n = fread(buf, 1, (1 << 16) - 1, f);

		buf[n] = 0;
	}
	if (f)
		fclose(f);
	return buf;
}

/* Run nodes 0..nodes-1 of workload at once, node i's output in DIR/nI.*;
 * true if every one exited 0 (otherwise their stderr is shown). */
static bool run_nodes(const struct pager_srv *s, const char *workload, unsigned nodes, unsigned passes)
{
	char cmd[8192] = "", one[1400];
	struct cmd_result r;
	bool ok = true;

	for (unsigned i = 0; i < nodes; i++) {
		snprintf(one, sizeof(one),
			 "(%s run --dsm %s --nodes %u --node %u --workload %s --passes %u --csv "
			 "--timeout 60s > %s/n%u.csv 2> %s/n%u.err; echo $? > %s/n%u.rc) & ",
			 pflab_path(), s->addr, nodes, i, workload, passes, s->dir, i, s->dir, i,
			 s->dir, i);
		strncat(cmd, one, sizeof(cmd) - strlen(cmd) - 1);
	}
	strncat(cmd, "wait", sizeof(cmd) - strlen(cmd) - 1);
	r = run_shell("%s", cmd);
	cmd_result_free(&r);
	for (unsigned i = 0; i < nodes; i++) {
		char name[16], *rc, *err;

		snprintf(name, sizeof(name), "n%u.rc", i);
		rc = slurp(s->dir, name);
		if (!rc || atoi(rc) != 0) {
			snprintf(name, sizeof(name), "n%u.err", i);
			err = slurp(s->dir, name);
			fprintf(stderr, "\n  %s node %u: exit %s%s\n", workload, i, rc ? rc : "?",
				err ? err : "");
			free(err);
			ok = false;
		}
		free(rc);
	}
	return ok;
}

static long long node_value(const struct pager_srv *s, unsigned node, const char *column)
{
	char name[16], *csv;
	long long v;

	snprintf(name, sizeof(name), "n%u.csv", node);
	csv = slurp(s->dir, name);
	v = csv_value(csv ? csv : "", column);
	free(csv);
	return v;
}

/*
 * Two nodes complete each shared workload with every check of their guests
 * passing (the guest counts its checks: an exact number per workload), and
 * what the nodes counted adds up to what the manager counted, whatever the
 * interleaving: each page sent is a page received, each page given back one
 * returned, each request a fault, each invalidation received one sent.
 */
static void test_two_nodes(void)
{
	static const struct { const char *wl; long long checks; } cases[] = {
		{ "dsm-sc", 40 * 1 + 2 * 2 },  /* passes * (nodes - 1) + 2 * nodes */
		{ "dsm-counter", 2 * 40 + 1 }, /* 2 per pass and the final count */
		{ "dsm-false", 40 + 2 },       /* one per pass and one per node */
		{ "dsm-apart", 40 + 2 },
	};
	struct pager_srv s;
	char err[256];

	if (!kvm_usable())
		return;
	CU_ASSERT_FATAL(pager_srv_start(&s, 16, NULL));
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct pclient *c;
		struct proto_msg m;
		long long faults = 0, in = 0, out = 0, inv = 0, up = 0;

		CU_ASSERT(run_nodes(&s, cases[k].wl, 2, 40));
		for (unsigned i = 0; i < 2; i++) {
			CU_ASSERT_EQUAL(node_value(&s, i, "checks"), cases[k].checks);
			faults += node_value(&s, i, "read_faults") + node_value(&s, i, "write_faults");
			in += node_value(&s, i, "pages_in");
			out += node_value(&s, i, "pages_out");
			inv += node_value(&s, i, "invalidations");
			up += node_value(&s, i, "upgrades");
		}
		c = pclient_connect(s.addr, 5000, err, sizeof(err));
		CU_ASSERT_FATAL(c != NULL);
		CU_ASSERT(send_msg(c, (struct proto_msg){ .type = PROTO_DSM_STATS, .seq = 1 }) == 0);
		CU_ASSERT_FATAL(pclient_recv(c, &m) == 0 && m.type == PROTO_DSM_STATS_REPLY);
		CU_ASSERT(m.u.dsm_stats_reply.joined == 0); /* both left */
		CU_ASSERT_EQUAL(m.u.dsm_stats_reply.st.requests, faults);
		CU_ASSERT_EQUAL(m.u.dsm_stats_reply.st.pages_sent, in);
		CU_ASSERT_EQUAL(m.u.dsm_stats_reply.st.pages_returned, out);
		CU_ASSERT_EQUAL(m.u.dsm_stats_reply.st.invalidations, inv);
		CU_ASSERT_EQUAL(m.u.dsm_stats_reply.st.upgrades, up);
		CU_ASSERT_EQUAL(m.u.dsm_stats_reply.st.errors, 0);
		CU_ASSERT(faults > 0 && in > 0);
		pclient_close(c);
	}
	CU_ASSERT(srv_stop(&s));
}

/* The same over TCP loopback: the counter under the lock, every check. */
static void test_two_nodes_tcp(void)
{
	struct pager_srv s;

	if (!kvm_usable())
		return;
	CU_ASSERT_FATAL(srv_start_tcp(&s));
	CU_ASSERT(run_nodes(&s, "dsm-counter", 2, 40));
	for (unsigned i = 0; i < 2; i++)
		CU_ASSERT_EQUAL(node_value(&s, i, "checks"), 2 * 40 + 1);
	CU_ASSERT(srv_stop(&s));
}

/* A node alone spins at the start barrier on a page it holds; its manager
 * dies: the node fails within the bound, saying why, instead of waiting. */
static void test_manager_dies(void)
{
	struct pager_srv s;
	struct cmd_result r;
	struct timespec t0, t1;

	if (!kvm_usable())
		return;
	CU_ASSERT_FATAL(pager_srv_start(&s, 16, NULL));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = run_shell("(sleep 1; kill %d) & %s run --dsm %s --node 0 --workload dsm-sc --timeout 60s",
		      (int)s.pid, pflab_path(), s.addr);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT(strstr(r.err, "DSM manager") != NULL && strstr(r.err, "closed") != NULL);
	if (r.status != 1)
		fprintf(stderr, "\n  %s\n", r.err);
	CU_ASSERT(t1.tv_sec - t0.tv_sec < 30); /* not the 60 s timeout */
	cmd_result_free(&r);
	srv_stop(&s);
}

/* A fake manager: accepts one node, answers its HELLO and JOIN, then reads
 * and answers nothing more (until killed). */
static pid_t silent_manager(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid;

	memcpy(un.sun_path, path, strlen(path) + 1);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&un, sizeof(un)) != 0 || listen(lfd, 1) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		uint8_t in[256], out[64];
		struct proto_msg m;
		char why[64];
		size_t have = 0;
		int fd;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = accept(lfd, NULL, NULL);
		for (int answered = 0; fd >= 0 && answered < 2;) {
			ssize_t n = read(fd, in + have, sizeof(in) - have);
			long used;

			if (n <= 0)
				_exit(1);
			have += (size_t)n;
			while ((used = proto_decode(in, have, &m, why, sizeof(why))) > 0) {
				struct proto_msg r = { .type = m.type, .seq = m.seq };
				size_t len;

				if (m.type == PROTO_HELLO) {
					r.u.hello.min = r.u.hello.max = PROTO_VERSION;
					r.u.hello.max_payload = PROTO_MAX_PAYLOAD;
				} else {
					r.type = PROTO_DSM_JOINED;
					r.u.dsm_joined.node = m.u.dsm_join.node;
					r.u.dsm_joined.nodes = m.u.dsm_join.nodes;
					r.u.dsm_joined.npages = m.u.dsm_join.npages;
					r.u.dsm_joined.page_size = PROTO_DSM_PAGE;
				}
				len = proto_encode(&r, out, sizeof(out));
				if (write(fd, out, len) != (ssize_t)len)
					_exit(1);
				answered++;
				memmove(in, in + used, have - (size_t)used);
				have -= (size_t)used;
			}
		}
		for (;;)
			pause();
	}
	close(lfd);
	return pid;
}

/* A manager that stops answering: the node's fault fails after
 * --dsm-timeout with that reason, never an endless wait. */
static void test_manager_silent(void)
{
	char path[200];
	struct cmd_result r;
	pid_t pid;

	if (!kvm_usable())
		return;
	snprintf(path, sizeof(path), "%s/silent.sock", scratch_dir());
	pid = silent_manager(path);
	CU_ASSERT_FATAL(pid > 0);
	r = run_pflab("run --dsm unix:%s --node 0 --workload dsm-sc --dsm-timeout 500ms "
		      "--timeout 60s", path);
	CU_ASSERT_EQUAL(r.status, 1);
	/* the guest's first shared access: its word of the barrier page */
	CU_ASSERT(strstr(r.err, "the DSM manager did not answer for page 0 within 500 ms") != NULL);
	if (r.status != 1)
		fprintf(stderr, "\n  %s\n", r.err);
	cmd_result_free(&r);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	unlink(path);
}

/* Node 1 is killed mid-run: node 0 is told, and fails with that reason. */
static void test_peer_dies(void)
{
	struct pager_srv s;
	struct cmd_result r;
	char *err;
	bool ok;

	if (!kvm_usable())
		return;
	CU_ASSERT_FATAL(pager_srv_start(&s, 16, NULL));
	r = run_shell("%s run --dsm %s --node 1 --workload dsm-counter --passes 1000000 "
		      "--timeout 60s > /dev/null 2>&1 & victim=$!; "
		      "(sleep 2; kill -9 $victim) & "
		      "%s run --dsm %s --node 0 --workload dsm-counter --passes 1000000 --timeout 60s "
		      "2> %s/n0.err; echo $? > %s/n0.rc; wait",
		      pflab_path(), s.addr, pflab_path(), s.addr, s.dir, s.dir);
	cmd_result_free(&r);
	err = slurp(s.dir, "n0.err");
	/* Told that node 1 died, or (if node 0 was waiting for a page node 1
	 * held) that the page was lost with it: either way, no data. */
	ok = err && (strstr(err, "node 1 disconnected without dsm-leave") != NULL ||
		     strstr(err, "was lost: its owner left") != NULL);
	CU_ASSERT(ok);
	if (!ok)
		fprintf(stderr, "\n  node 0: %s\n", err ? err : "?");
	free(err);
	err = slurp(s.dir, "n0.rc");
	CU_ASSERT(err && atoi(err) == 1);
	free(err);
	CU_ASSERT(srv_stop(&s));
}

/* pflab run's DSM options: each misuse refused with exit 2 and a reason. */
static void test_cli_refusals(void)
{
	static const struct { const char *args, *why; } cases[] = {
		{ "--workload dsm-sc", "workload dsm-sc needs --dsm ADDR" },
		{ "--dsm unix:m.sock --workload scan", "--dsm goes with a dsm-* workload" },
		{ "--node 1 --workload scan", "need --dsm ADDR" },
		{ "--dsm unix:m.sock --node 2 --nodes 2 --workload dsm-sc", "--node 2: the nodes are 0..1" },
		{ "--dsm unix:m.sock --nodes 33 --workload dsm-sc", "--nodes" },
		{ "--dsm unix:m.sock --workload dsm-sc --frames 10", "every shared page has a frame" },
		{ "--dsm unix:m.sock --workload dsm-sc --pages 8", "2 nodes share 9 to 65536 pages" },
		{ "--dsm unix:m.sock --workload dsm-sc --trap uffd", "the kvm trap and one vCPU" },
		{ "--dsm unix:m.sock --workload dsm-sc --pager unix:p.sock", "or --pager" },
		{ "--dsm unix:m.sock --workload dsm-sc --threads 2",
		  "workload dsm-sc does not split its pages among threads" },
		{ "--dsm unix:m.sock --workload dsm-sc --async-pf",
		  "workload dsm-sc does not split its pages among threads" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cmd_result r = run_pflab("run %s", cases[i].args);
		bool ok = r.status == 2 && strstr(r.err, cases[i].why) != NULL;

		if (!ok)
			fprintf(stderr, "\n  run %s: exit %d: %s\n", cases[i].args, r.status, r.err);
		CU_ASSERT(ok);
		cmd_result_free(&r);
	}
	if (kvm_usable()) { /* no manager there: the run does not start */
		struct cmd_result r = run_pflab("run --dsm unix:%s/none.sock --workload dsm-sc",
						scratch_dir());

		CU_ASSERT(r.status == 2 && strstr(r.err, "--dsm unix:") != NULL);
		cmd_result_free(&r);
	}
}

static CU_TestInfo dsm_tests[] = {
	{ "a scripted two-node sequence gives the hand-worked transfers", test_golden_sequence },
	{ "requests on a busy page are served in arrival order", test_queued_requests },
	{ "a page whose owner vanished is EIO, never zeros", test_lost_page_is_an_error },
	{ "the manager refuses each misuse (in-process)", test_misuse_in_process },
	{ "bad node, bad page and other misuse refused over the socket", test_misuse_refused },
	{ "a node's page stays until the access is done, then goes", test_node_pin },
	{ "two pflab run --dsm nodes pass every check of each workload", test_two_nodes },
	{ "the same over TCP loopback", test_two_nodes_tcp },
	{ "a node whose manager dies fails in bound", test_manager_dies },
	{ "a node whose manager goes silent fails after --dsm-timeout", test_manager_silent },
	{ "a node whose peer is killed fails, told why", test_peer_dies },
	{ "pflab run refuses bad DSM usage", test_cli_refusals },
	CU_TEST_INFO_NULL,
};
TEST_SUITE("dsm", dsm_tests);
