// SPDX-License-Identifier: MIT
/*
 * The paging server (vmm/server): the protocol's bytes against hand-written
 * ones, a scripted session whose answers are worked out by hand (LRU, two
 * frames), `pflab remote` against `pflab sim` (exact counts, several
 * policies, two clients at once), every class of malformed message refused
 * with the sender disconnected and a second client unaffected, a server
 * that dies or goes silent failing its client within the bound, a client
 * that dies freeing its frames, and SO_PEERCRED.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
#include "policy.h"
#include "proto.h"
#include "test.h"
#include "wsload.h"

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static int raw_connect(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memcpy(un.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&un, sizeof(un)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read until EOF (bounded: 5 s of silence fails). Returns the bytes, *len. */
static uint8_t *read_to_eof(int fd, size_t *len, bool *eof)
{
	static uint8_t buf[1 << 16];
	struct pollfd p = { .fd = fd, .events = POLLIN };

	*len = 0;
	*eof = false;
	while (*len < sizeof(buf) && poll(&p, 1, 5000) == 1) {
		ssize_t n = read(fd, buf + *len, sizeof(buf) - *len);

		if (n <= 0) {
			*eof = n == 0 || errno == ECONNRESET;
			break;
		}
		*len += (size_t)n;
	}
	return buf;
}

static size_t enc(struct proto_msg m, uint8_t *out)
{
	return proto_encode(&m, out, PROTO_MAX_MSG);
}

static struct proto_policy policy_named(const char *name)
{
	struct proto_policy p = { .seed = 1, .tick = 1000, .window = 10000, .aging_bits = 8 };

	snprintf(p.name, sizeof(p.name), "%s", name);
	return p;
}

/* ---- bytes -------------------------------------------------------------- */

static void test_golden_bytes(void)
{
	/* Written by hand from docs/external-pager.md, not by the encoder. */
	static const uint8_t fault[] = {
		'P', 'F', 'P', 'G', 1, 0, 5, 0, 0x2a, 0, 0, 0, 12, 0, 0, 0, /* header, seq 42 */
		3, 0, 0, 0, 0x34, 0x12, 0, 0, 1, 0, 0, 0,                   /* region 3, page 0x1234, write */
	};
	static const uint8_t hello[] = {
		'P', 'F', 'P', 'G', 1, 0, 1, 0, 1, 0, 0, 0, 8, 0, 0, 0,
		1, 0, 1, 0, 0x10, 0, 1, 0,                                    /* 1..1, 65552 */
	};
	static const uint8_t evict[] = {
		'P', 'F', 'P', 'G', 1, 0, 7, 0, 9, 0, 0, 0, 16, 0, 0, 0,
		1, 0, 0, 0, 7, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0,               /* region 1 page 7 frame 2 dirty */
	};
	uint8_t out[PROTO_MAX_MSG];
	struct proto_msg m;
	char why[160];
	size_t n;

	m = (struct proto_msg){ .type = PROTO_FAULT, .seq = 42 };
	m.u.fault.region = 3;
	m.u.fault.page = 0x1234;
	m.u.fault.access = 1;
	n = enc(m, out);
	CU_ASSERT_EQUAL(n, sizeof(fault));
	CU_ASSERT(memcmp(out, fault, sizeof(fault)) == 0);
	m = (struct proto_msg){ .type = PROTO_HELLO, .seq = 1 };
	m.u.hello.min = m.u.hello.max = 1;
	m.u.hello.max_payload = PROTO_MAX_PAYLOAD;
	CU_ASSERT_EQUAL(enc(m, out), sizeof(hello));
	CU_ASSERT(memcmp(out, hello, sizeof(hello)) == 0);
	CU_ASSERT_EQUAL(proto_decode(evict, sizeof(evict), &m, why, sizeof(why)), (long)sizeof(evict));
	CU_ASSERT(m.type == PROTO_EVICT && m.seq == 9 && m.u.evict.region == 1 &&
		  m.u.evict.page == 7 && m.u.evict.frame == 2 && m.u.evict.flags == PROTO_PAGE_DIRTY);
	/* Every prefix is "more bytes needed", never an error. */
	for (size_t k = 0; k < sizeof(evict); k++)
		CU_ASSERT_EQUAL(proto_decode(evict, k, &m, why, sizeof(why)), 0);
}

/* The decoder's refusals, each its class and errno. */
static void test_decode_refusals(void)
{
	static const struct { size_t off; uint8_t val; long rc; const char *what; } cases[] = {
		{ 0, 'X', -EBADMSG, "magic" },
		{ 4, 2, -EPROTONOSUPPORT, "version" },
		{ 6, 0, -EBADMSG, "type 0" },
		{ 6, 15, -EBADMSG, "type 15" },
		{ 12, 13, -EBADMSG, "payload size" },
		{ 15, 1, -EMSGSIZE, "oversized" },
		{ 24, 3, -EBADMSG, "access 3" },
		{ 25, 1, -EBADMSG, "reserved byte" },
	};
	uint8_t buf[64];
	struct proto_msg m = { .type = PROTO_FAULT, .seq = 5 };
	char why[160];
	size_t n = enc(m, buf);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t b[64];
		long rc;

		memcpy(b, buf, n);
		b[cases[i].off] = cases[i].val;
		why[0] = 0;
		rc = proto_decode(b, cases[i].val == 13 ? n + 1 : n, &m, why, sizeof(why));
		if (rc != cases[i].rc)
			fprintf(stderr, "\n  %s: %ld, expected %ld\n", cases[i].what, rc, cases[i].rc);
		CU_ASSERT_EQUAL(rc, cases[i].rc);
		CU_ASSERT(why[0] != 0);
	}
}

/* ---- a scripted session --------------------------------------------- */

/*
 * LRU, 4 pages, 2 frames. Hand-worked: fault 0 -> frame 0; fault 1 ->
 * frame 1; hit 0 (write); fault 2 -> LRU is page 1: EVICT 1 (clean) from
 * frame 1, RESOLVED 2 in frame 1; fault 1 -> LRU is page 0 (dirty): EVICT 0
 * from frame 0 with the dirty flag, RESOLVED 1 in frame 0. Counts: refs 5,
 * faults 4, evictions 2, writebacks 1.
 */
static void test_scripted_session(void)
{
	struct pager_srv s;
	struct pclient *c;
	struct proto_msg m, got[8];
	struct proto_policy lru = policy_named("lru");
	uint8_t buf[256];
	size_t n = 0, k = 0;
	char err[256];
	uint32_t hit0 = 0 | PROTO_REF_WRITE;
	static const struct { uint16_t type; uint32_t page, frame, flags; } want[] = {
		{ PROTO_RESOLVED, 0, 0, 0 }, { PROTO_RESOLVED, 1, 1, 0 },
		{ PROTO_EVICT, 1, 1, 0 }, { PROTO_RESOLVED, 2, 1, 0 },
		{ PROTO_EVICT, 0, 0, PROTO_PAGE_DIRTY }, { PROTO_RESOLVED, 1, 0, 0 },
	};

	CU_ASSERT_FATAL(pager_srv_start(&s, 16, NULL));
	c = pclient_connect(s.addr, 5000, err, sizeof(err));
	CU_ASSERT_FATAL(c != NULL);
	m = (struct proto_msg){ .type = PROTO_REGISTER, .seq = 100 };
	m.u.reg.npages = 4;
	m.u.reg.page_size = 4096;
	m.u.reg.frames = 2;
	m.u.reg.policy = lru;
	n = enc(m, buf);
	CU_ASSERT(pclient_send_raw(c, buf, n) == 0);
	CU_ASSERT(pclient_recv(c, &m) == 0);
	CU_ASSERT(m.type == PROTO_REGISTERED && m.seq == 100 && m.u.registered.region == 1 &&
		  m.u.registered.frames == 2);
	n = 0;
	for (uint32_t step = 0; step < 5; step++) {
		static const int32_t script[] = { 0, 1, -1, 2, 1 }; /* -1: the hit */

		if (script[step] < 0) {
			m = (struct proto_msg){ .type = PROTO_REFS, .seq = 200 + step };
			m.u.refs.region = 1;
			m.u.refs.count = 1;
			m.u.refs.refs = (const uint8_t *)&hit0; /* little-endian host */
		} else {
			m = (struct proto_msg){ .type = PROTO_FAULT, .seq = 200 + step };
			m.u.fault.region = 1;
			m.u.fault.page = (uint32_t)script[step];
			m.u.fault.access = 0;
		}
		n += enc(m, buf + n);
	}
	CU_ASSERT(pclient_send_raw(c, buf, n) == 0);
	while (k < 6 && pclient_recv(c, &got[k]) == 0)
		k++;
	CU_ASSERT_EQUAL_FATAL(k, 6);
	for (size_t i = 0; i < 6; i++) {
		bool ok = got[i].type == want[i].type;

		if (want[i].type == PROTO_EVICT)
			ok = ok && got[i].u.evict.page == want[i].page &&
			     got[i].u.evict.frame == want[i].frame && got[i].u.evict.flags == want[i].flags;
		else
			ok = ok && got[i].u.resolved.page == want[i].page &&
			     got[i].u.resolved.frame == want[i].frame;
		if (!ok)
			fprintf(stderr, "\n  message %zu: %s page %u\n", i, proto_type_name(got[i].type),
				got[i].u.evict.page);
		CU_ASSERT(ok);
	}
	/* RESOLVED answers carry their FAULT's number. */
	CU_ASSERT(got[5].seq == 204 && got[3].seq == 203);
	/* Give both pages back, then read the counters. */
	for (int i = 0; i < 2; i++) {
		m = (struct proto_msg){ .type = PROTO_DATA_RETURN, .seq = 300 + i };
		m.u.data_return.region = 1;
		m.u.data_return.page = i == 0 ? 1 : 0;
		n = enc(m, buf);
		CU_ASSERT(pclient_send_raw(c, buf, n) == 0);
	}
	CU_ASSERT_FATAL(pclient_stats(c, 1, &m) == 0);
	CU_ASSERT_EQUAL(m.u.stats_reply.st.refs, 5);
	CU_ASSERT_EQUAL(m.u.stats_reply.st.faults, 4);
	CU_ASSERT_EQUAL(m.u.stats_reply.st.evictions, 2);
	CU_ASSERT_EQUAL(m.u.stats_reply.st.writebacks, 1);
	CU_ASSERT_EQUAL(m.u.stats_reply.st.data_returns, 2);
	CU_ASSERT_EQUAL(m.u.stats_reply.frames_free, 14);
	/* set-policy at run time: acknowledged, and the region goes on. */
	CU_ASSERT(pclient_set_policy(c, 1, &(struct proto_policy){ .name = "fifo", .seed = 1,
				     .tick = 1000, .window = 1, .aging_bits = 8 }) == 0);
	lru = policy_named("opt");
	CU_ASSERT(pclient_set_policy(c, 1, &lru) != 0);
	CU_ASSERT(strstr(c->err, "needs the future") != NULL);
	CU_ASSERT(pclient_stats(c, 1, &m) == 0); /* a refusal, not a disconnect */
	pclient_close(c);
	CU_ASSERT(pager_srv_stop(&s));
}

/* ---- exact counts ----------------------------------------------------- */

static char *random_trace(const char *name, uint64_t seed, unsigned n, unsigned pages)
{
	struct test_rng rng = { seed };
	size_t cap = (size_t)n * 16 + 1, len = 0;
	char *text = malloc(cap), *path;

	for (unsigned i = 0; i < n; i++) {
		uint32_t page = test_rng_below(&rng, 4) ? test_rng_below(&rng, pages / 8 + 1)
						       : test_rng_below(&rng, pages);

		len += (size_t)snprintf(text + len, cap - len, "%c %u\n",
					test_rng_below(&rng, 3) ? 'r' : 'w', 4096 * (page + 10));
	}
	path = strdup(write_file(name, text));
	free(text);
	return path;
}

static void test_counts_equal_sim(void)
{
	char *t1 = random_trace("srv-a.txt", 11, 6000, 300);
	char *t2 = random_trace("srv-b.txt", 12, 6000, 200);
	static const char *const cols[] = { "refs", "faults", "major", "minor", "evictions",
					    "writebacks" };
	const struct policy_ops *ops[64];
	size_t npol = policy_list(ops, 64), served = 0;
	struct pager_srv s;

	CU_ASSERT_FATAL(pager_srv_start(&s, 100, NULL));
	for (size_t i = 0; i < npol; i++) {
		const char *pol = ops[i]->name;
		struct cmd_result r, a, b;
		char *second;

		if (ops[i]->flags & POLICY_NEEDS_FUTURE) {
			/* Refused at registration, with the reason. */
			r = run_pflab("remote %s --pager %s --policy %s --frames 40", t1, s.addr, pol);
			CU_ASSERT_EQUAL(r.status, 1);
			CU_ASSERT(strstr(r.err, "needs the future: not served remotely") != NULL);
			cmd_result_free(&r);
			continue;
		}
		served++;
		/* Two clients at once, each its own partition (40 + 60 of 100). */
		r = run_shell(
			"('%1$s' remote %2$s --pager %4$s --policy %5$s --frames 40 --window 300 --tick 50 --csv > %6$s/a.csv &"
			"'%1$s' remote %3$s --pager %4$s --policy %5$s --frames 60 --window 300 --tick 50 --csv > %6$s/b.csv;"
			"st=$?; wait $! && [ $st = 0 ] && cat %6$s/a.csv && echo --- && cat %6$s/b.csv)",
			pflab_path(), t1, t2, s.addr, pol, scratch_dir());
		a = run_pflab("sim %s --policy %s --frames 40 --window 300 --tick 50 --csv", t1, pol);
		b = run_pflab("sim %s --policy %s --frames 60 --window 300 --tick 50 --csv", t2, pol);
		CU_ASSERT_EQUAL(r.status, 0);
		second = strstr(r.out, "---\n");
		CU_ASSERT_FATAL(second != NULL);
		*second = 0;
		for (size_t k = 0; k < sizeof(cols) / sizeof(cols[0]); k++) {
			long long ra = csv_value(r.out, cols[k]), sa = csv_value(a.out, cols[k]);
			long long rb = csv_value(second + 4, cols[k]), sb = csv_value(b.out, cols[k]);

			if (ra != sa || rb != sb)
				fprintf(stderr, "\n  %s %s: remote %lld/%lld, sim %lld/%lld\n", pol,
					cols[k], ra, rb, sa, sb);
			CU_ASSERT(ra == sa && rb == sb);
		}
		CU_ASSERT(csv_value(r.out, "faults") > csv_value(r.out, "evictions")); /* not trivial */
		CU_ASSERT(csv_value(r.out, "evictions") > 100);
		cmd_result_free(&r);
		cmd_result_free(&a);
		cmd_result_free(&b);
	}
	CU_ASSERT(served >= 16); /* every policy but opt */
	CU_ASSERT(pager_srv_stop(&s));
	free(t1);
	free(t2);
}

/* ---- malformed messages ----------------------------------------------- */

/* A registered client whose state the attacks must not change. */
static void bystander_check(struct pclient *c, struct pclient_region *r, uint64_t refs)
{
	struct proto_msg st;

	CU_ASSERT_FATAL(pclient_stats(c, r->id, &st) == 0);
	CU_ASSERT_EQUAL(st.u.stats_reply.st.refs, refs);
	CU_ASSERT_EQUAL(st.u.stats_reply.frames, 4);
	CU_ASSERT_EQUAL(st.u.stats_reply.frames_free, 6);
}

enum { PRE_HELLO = 1, REGISTERED = 2 };

struct attack {
	const char *what;
	int state;      /* what the attacker does first */
	uint8_t msg[96];
	size_t len;
	int err;        /* expected errno in the ERROR */
};

/* m encoded, then byte off set to val (if val), extra bytes appended. */
static void add_case(struct attack *a, size_t *n, const char *what, int state, int err,
		     const struct proto_msg *m, size_t off, uint8_t val, size_t extra)
{
	struct attack *c = &a[(*n)++];

	memset(c, 0, sizeof(*c));
	c->what = what;
	c->state = state;
	c->err = err;
	c->len = enc(*m, c->msg) + extra;
	if (val)
		c->msg[off] = val;
}

static void test_malformed_refused(void)
{
	struct attack cases[16];
	size_t nc = 0;
	struct proto_msg m;
	struct pager_srv s;
	struct pclient *good;
	struct pclient_region gr;
	uint32_t refs[64];
	char err[256];

	m = (struct proto_msg){ .type = PROTO_FAULT, .seq = 7 };
	m.u.fault.region = 1;
	m.u.fault.page = 2;
	add_case(cases, &nc, "before hello", PRE_HELLO, EPROTO, &m, 0, 0, 0);
	add_case(cases, &nc, "bad magic", REGISTERED, EBADMSG, &m, 0, 'Q', 0);
	add_case(cases, &nc, "wrong version", REGISTERED, EPROTONOSUPPORT, &m, 4, 9, 0);
	add_case(cases, &nc, "unknown type", REGISTERED, EBADMSG, &m, 6, 99, 0);
	add_case(cases, &nc, "oversized", REGISTERED, EMSGSIZE, &m, 14, 0x7f, 0);
	add_case(cases, &nc, "wrong size", REGISTERED, EBADMSG, &m, 12, 16, 4);
	add_case(cases, &nc, "reserved set", REGISTERED, EBADMSG, &m, 27, 1, 0);
	add_case(cases, &nc, "field range", REGISTERED, EBADMSG, &m, 24, 7, 0);
	m.u.fault.region = 2;
	add_case(cases, &nc, "unknown region", REGISTERED, ENOENT, &m, 0, 0, 0);
	m.u.fault.region = 1;
	m.u.fault.page = 8;
	add_case(cases, &nc, "page out of range", REGISTERED, ERANGE, &m, 0, 0, 0);
	m = (struct proto_msg){ .type = PROTO_REFS, .seq = 8 };
	m.u.refs.region = 1;
	m.u.refs.count = 1;
	m.u.refs.refs = (const uint8_t *)&(uint32_t){ 3 };
	add_case(cases, &nc, "hit on an unmapped page", REGISTERED, EFAULT, &m, 0, 0, 0);
	m = (struct proto_msg){ .type = PROTO_DATA_RETURN, .seq = 9 };
	m.u.data_return.region = 1;
	m.u.data_return.page = 3;
	add_case(cases, &nc, "data-return never asked", REGISTERED, EPROTO, &m, 0, 0, 0);
	m = (struct proto_msg){ .type = PROTO_EVICT, .seq = 10 };
	m.u.evict.region = 1;
	add_case(cases, &nc, "a server's message", REGISTERED, EPROTO, &m, 0, 0, 0);
	m = (struct proto_msg){ .type = PROTO_HELLO, .seq = 11 };
	m.u.hello.min = m.u.hello.max = 1;
	m.u.hello.max_payload = 4096;
	add_case(cases, &nc, "second hello", REGISTERED, EPROTO, &m, 0, 0, 0);
	/* Two FAULTs of one page: the first is served, the second refused. */
	m = (struct proto_msg){ .type = PROTO_FAULT, .seq = 12 };
	m.u.fault.region = 1;
	m.u.fault.page = 4;
	add_case(cases, &nc, "fault on a mapped page", REGISTERED, EEXIST, &m, 0, 0, 0);
	cases[nc - 1].len += enc(m, cases[nc - 1].msg + cases[nc - 1].len);

	CU_ASSERT_FATAL(pager_srv_start(&s, 10, NULL));
	good = pclient_connect(s.addr, 5000, err, sizeof(err));
	CU_ASSERT_FATAL(good != NULL);
	CU_ASSERT_FATAL(pclient_register(good, 16, 4, 0, &(struct proto_policy){ .name = "lru",
				 .seed = 1, .tick = 1000, .window = 1, .aging_bits = 8 }, &gr) == 0);
	for (int i = 0; i < 64; i++)
		refs[i] = (uint32_t)(i * 7 % 9);
	CU_ASSERT_FATAL(pclient_replay(good, &gr, refs, 32) == 0);
	bystander_check(good, &gr, 32);

	for (size_t i = 0; i < nc; i++) {
		int fd = raw_connect(s.path);
		uint8_t pre[256], *got;
		size_t n = 0, len;
		long used;
		bool eof;
		char why[160];

		CU_ASSERT_FATAL(fd >= 0);
		if (cases[i].state == REGISTERED) {
			m = (struct proto_msg){ .type = PROTO_HELLO, .seq = 1 };
			m.u.hello.min = m.u.hello.max = 1;
			m.u.hello.max_payload = 4096;
			n = enc(m, pre);
			m = (struct proto_msg){ .type = PROTO_REGISTER, .seq = 2 };
			m.u.reg.npages = 8;
			m.u.reg.page_size = 4096;
			m.u.reg.frames = 2;
			m.u.reg.policy = policy_named("clock");
			n += enc(m, pre + n);
		}
		memcpy(pre + n, cases[i].msg, cases[i].len);
		CU_ASSERT(write(fd, pre, n + cases[i].len) == (ssize_t)(n + cases[i].len));
		got = read_to_eof(fd, &len, &eof);
		CU_ASSERT(eof); /* disconnected */
		/* HELLO and REGISTERED first when set up, then the ERROR. */
		for (size_t off = 0; (used = proto_decode(got + off, len - off, &m, why, sizeof(why))) > 0;
		     off += (size_t)used)
			if (m.type == PROTO_ERROR)
				break;
		if (!(used > 0 && m.type == PROTO_ERROR && m.u.error.err == cases[i].err))
			fprintf(stderr, "\n  %s: no error %d (got %s %d)\n", cases[i].what, cases[i].err,
				proto_type_name(m.type), m.type == PROTO_ERROR ? m.u.error.err : 0);
		CU_ASSERT(used > 0 && m.type == PROTO_ERROR && m.u.error.err == cases[i].err);
		close(fd);
		/* The bystander: its counters and partition as they were, and
		 * it still faults. The attacker's 2 frames are back. */
		bystander_check(good, &gr, 32 + 2 * i);
		CU_ASSERT_FATAL(pclient_replay(good, &gr, refs + 32, 2) == 0);
	}
	/* A truncated message, then the connection closed: nothing is sent,
	 * the server goes on. */
	{
		int fd = raw_connect(s.path);

		CU_ASSERT(write(fd, cases[1].msg, 7) == 7);
		close(fd);
		bystander_check(good, &gr, 32 + 2 * nc);
	}
	pclient_region_fini(&gr);
	pclient_close(good);
	CU_ASSERT(pager_srv_stop(&s));
}

/* ---- peers that die or go silent ------------------------------------- */

/* A fake server on path: answers HELLO, then stays silent (mode 0) or
 * closes (mode 1). */
static pid_t fake_server(const char *path, int mode)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	pid_t pid;

	memcpy(un.sun_path, path, strlen(path) + 1);
	if (bind(lfd, (struct sockaddr *)&un, sizeof(un)) != 0 || listen(lfd, 1) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int fd = accept(lfd, NULL, NULL);
		uint8_t buf[4096];
		struct proto_msg m = { .type = PROTO_HELLO, .seq = 1 };
		size_t n;

		if (read(fd, buf, sizeof(buf)) <= 0)
			_exit(1);
		m.u.hello.min = m.u.hello.max = 1;
		m.u.hello.max_payload = 4096;
		n = proto_encode(&m, buf, sizeof(buf));
		if (write(fd, buf, n) != (ssize_t)n)
			_exit(1);
		if (mode == 1)
			_exit(0);
		for (;;)
			pause();
	}
	close(lfd);
	return pid;
}

static void test_server_dies_or_hangs(void)
{
	char dir[] = "/tmp/pflab-fake.XXXXXX", path[64], addr[80], err[256];
	struct pclient_region r;
	struct pclient *c;
	struct pager_srv s;
	uint32_t refs[4] = { 0, 1, 2, 3 };
	pid_t pid;

	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/f.sock", dir);
	snprintf(addr, sizeof(addr), "unix:%s", path);
	/* Silent: the register fails when the bound runs out. */
	pid = fake_server(path, 0);
	CU_ASSERT_FATAL(pid > 0);
	c = pclient_connect(addr, 300, err, sizeof(err));
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT(pclient_register(c, 4, 2, 0, &(struct proto_policy){ .name = "lru", .tick = 1,
				   .window = 1, .aging_bits = 8 }, &r) != 0);
	CU_ASSERT(strstr(c->err, "did not answer within 300 ms") != NULL);
	pclient_close(c);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	unlink(path);
	/* Closed: the same call fails at once, saying so. */
	pid = fake_server(path, 1);
	c = pclient_connect(addr, 5000, err, sizeof(err));
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT(pclient_register(c, 4, 2, 0, &(struct proto_policy){ .name = "lru", .tick = 1,
				   .window = 1, .aging_bits = 8 }, &r) != 0);
	CU_ASSERT(strstr(c->err, "closed the connection") != NULL);
	pclient_close(c);
	waitpid(pid, NULL, 0);
	unlink(path);
	rmdir(dir);

	/* The real server killed mid-run: the next fault fails, and the
	 * command says so and exits 1. */
	CU_ASSERT_FATAL(pager_srv_start(&s, 8, NULL));
	c = pclient_connect(s.addr, 5000, err, sizeof(err));
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_FATAL(pclient_register(c, 4, 2, 0, &(struct proto_policy){ .name = "lru",
				   .tick = 1, .window = 1, .aging_bits = 8 }, &r) == 0);
	CU_ASSERT(pclient_replay(c, &r, refs, 2) == 0);
	kill(s.pid, SIGKILL);
	waitpid(s.pid, NULL, 0);
	CU_ASSERT(pclient_replay(c, &r, refs + 2, 2) != 0);
	CU_ASSERT(strstr(c->err, "closed the connection") != NULL);
	pclient_region_fini(&r);
	pclient_close(c);
	{
		char *t = random_trace("srv-c.txt", 3, 200, 50);
		struct cmd_result cr = run_pflab("remote %s --pager %s --policy lru --frames 4 --timeout 500",
						 t, s.addr);

		CU_ASSERT_EQUAL(cr.status, 1);
		CU_ASSERT(strstr(cr.err, "pflab remote: ") != NULL);
		cmd_result_free(&cr);
		free(t);
	}
	unlink(s.path);
	rmdir(s.dir);
}

static void test_client_dies_frees_frames(void)
{
	struct pager_srv s;
	struct pclient *c;
	struct proto_msg st;
	char err[256];
	pid_t child;
	int tries = 0;

	CU_ASSERT_FATAL(pager_srv_start(&s, 10, NULL));
	c = pclient_connect(s.addr, 5000, err, sizeof(err));
	CU_ASSERT_FATAL(c != NULL);
	child = fork();
	if (child == 0) {
		struct pclient_region r;
		struct pclient *k = pclient_connect(s.addr, 5000, err, sizeof(err));

		if (!k || pclient_register(k, 100, 7, 0, &(struct proto_policy){ .name = "lru",
					   .tick = 1, .window = 1, .aging_bits = 8 }, &r) != 0)
			_exit(1);
		for (;;)
			pause(); /* killed without a goodbye */
	}
	do { /* bounded: the child registers within 5 s */
		sleep_ms(10);
		CU_ASSERT_FATAL(pclient_stats(c, 0, &st) == 0);
	} while (st.u.stats_reply.frames_free != 3 && ++tries < 500);
	CU_ASSERT_EQUAL(st.u.stats_reply.frames_free, 3);
	CU_ASSERT_EQUAL(st.u.stats_reply.clients, 2);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	tries = 0;
	do {
		sleep_ms(10);
		CU_ASSERT_FATAL(pclient_stats(c, 0, &st) == 0);
	} while (st.u.stats_reply.frames_free != 10 && ++tries < 500);
	CU_ASSERT_EQUAL(st.u.stats_reply.frames_free, 10);
	CU_ASSERT_EQUAL(st.u.stats_reply.clients, 1);
	/* The budget is a partition: 11 frames are refused, 10 granted. */
	{
		struct pclient_region r;
		struct proto_policy p = policy_named("lru");

		CU_ASSERT(pclient_register(c, 100, 11, 0, &p, &r) != 0);
		CU_ASSERT(strstr(c->err, "11 frames asked, 10 of the budget free") != NULL);
		CU_ASSERT(pclient_register(c, 100, 10, 0, &p, &r) == 0);
		pclient_region_fini(&r);
	}
	pclient_close(c);
	CU_ASSERT(pager_srv_stop(&s));
	/* Pages are limited as frames are: 100 of --max-pages 150 taken,
	 * 51 more refused, 50 granted. */
	CU_ASSERT_FATAL(pager_srv_start(&s, 10, "--max-pages=150"));
	c = pclient_connect(s.addr, 5000, err, sizeof(err));
	CU_ASSERT_FATAL(c != NULL);
	{
		struct pclient_region r;
		struct proto_policy p = policy_named("clock");

		CU_ASSERT(pclient_register(c, 100, 2, 0, &p, &r) == 0);
		pclient_region_fini(&r);
		CU_ASSERT(pclient_register(c, 51, 2, 0, &p, &r) != 0);
		CU_ASSERT(strstr(c->err, "51 pages asked, 50 of the page limit free") != NULL);
		CU_ASSERT(pclient_register(c, 50, 2, 0, &p, &r) == 0);
		pclient_region_fini(&r);
	}
	pclient_close(c);
	CU_ASSERT(pager_srv_stop(&s));
}

/* SO_PEERCRED: another uid is refused unless --allow-uid names it. */
static void test_peer_uid(void)
{
	struct pager_srv s;

	if (geteuid() != 0) {
		test_skip("not root: cannot connect as another uid");
		return;
	}
	for (int allow = 0; allow < 2; allow++) {
		pid_t child;
		int st = 0;

		CU_ASSERT_FATAL(pager_srv_start(&s, 4, allow ? "--allow-uid=65534" : NULL));
		chmod(s.path, 0777);
		child = fork();
		if (child == 0) {
			char err[256];
			struct pclient *c;

			if (setgid(65534) != 0 || setuid(65534) != 0)
				_exit(3);
			c = pclient_connect(s.addr, 5000, err, sizeof(err));
			if (!c)
				_exit(strstr(err, "uid 65534 is not allowed") ? 10 : 11);
			pclient_close(c);
			_exit(20);
		}
		waitpid(child, &st, 0);
		CU_ASSERT(WIFEXITED(st));
		CU_ASSERT_EQUAL(WEXITSTATUS(st), allow ? 20 : 10);
		CU_ASSERT(pager_srv_stop(&s));
	}
}

static void test_cli_refusals(void)
{
	struct cmd_result r = run_pflab("pager --frames 4");

	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT(strstr(r.err, "--listen is required") != NULL);
	cmd_result_free(&r);
	r = run_pflab("pager --listen tcp:localhost:80 --frames 4");
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT(strstr(r.err, "numeric IPv4") != NULL);
	cmd_result_free(&r);
	/* An existing file is never replaced by the socket. */
	r = run_shell("(f=%s/exists; echo keep > $f; '%s' pager --listen unix:$f --frames 4; st=$?; cat $f; exit $st)",
		      scratch_dir(), pflab_path());
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT(strcmp(r.out, "keep\n") == 0);
	cmd_result_free(&r);
	/* TCP on the loopback: tcp::0 takes a free port and says which. */
	r = run_shell("(d=%1$s; '%2$s' pager --listen tcp::0 --frames 8 --port-file $d/port & pid=$!;"
		      " i=0; while [ ! -s $d/port ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done;"
		      " printf 'r 1\nr 2\nr 3\nr 1\n' > $d/t.txt;"
		      " '%2$s' remote $d/t.txt --pager tcp:127.0.0.1:$(cat $d/port) --policy fifo --frames 2 --csv;"
		      " st=$?; kill $pid; wait $pid; exit $st)", scratch_dir(), pflab_path());
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_EQUAL(csv_value(r.out, "faults"), 4);
	cmd_result_free(&r);
	r = run_pflab("remote /dev/null --policy lru --frames 4");
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT(strstr(r.err, "--pager is required") != NULL);
	cmd_result_free(&r);
	/* A bad number: one exact line each. */
	r = run_pflab("pager --listen unix:/nonexistent/p.sock --quantum 0");
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_STRING_EQUAL(r.err, "pflab pager: --quantum: '0' is out of range [1, 3600000]\n");
	cmd_result_free(&r);
	{
		static const char *const bad[][2] = {
			{ "--tau 0", "pflab pager: --tau: '0' is out of range [1, 3600000]\n" },
			{ "--alloc lru", "pflab pager: --alloc: 'lru' is not fixed, global, pff or ws\n" },
			{ "--keep-regions 65",
			  "pflab pager: --keep-regions: '65' is out of range [0, 64]\n" },
			{ "--keep-pages -1", "pflab pager: --keep-pages: '-1' is not a whole number\n" },
			{ "--max-pages 0",
			  "pflab pager: --max-pages: '0' is out of range [1, 1099511627776]\n" },
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
			r = run_pflab("pager --listen unix:/nonexistent/p.sock %s", bad[i][0]);
			CU_ASSERT_EQUAL(r.status, 2);
			if (strcmp(r.err, bad[i][1]) != 0) {
				printf("\n  %s: %s", bad[i][0], r.err);
				CU_FAIL("not the expected line");
			}
			cmd_result_free(&r);
		}
	}
	r = run_pflab("remote /dev/null --pager unix:/nonexistent/p.sock --policy lru --frames x");
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_STRING_EQUAL(r.err, "pflab remote: --frames: 'x' is not a whole number\n");
	cmd_result_free(&r);
	r = run_pflab("remote /dev/null --pager unix:/nonexistent/p.sock --policy lru --frames 4");
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT(strstr(r.err, "No such file") != NULL);
	cmd_result_free(&r);
}

/* --inject on the server: a failed page-in is an ERROR for that fault (the
 * connection stays, the page can be faulted again); a failed write-back is
 * reported to its client once, asynchronously, and counted. */
static void test_injected_errors(void)
{
	struct pager_srv s;
	struct pclient *c;
	struct pclient_region r;
	struct proto_msg st;
	struct proto_policy fifo = policy_named("fifo");
	uint32_t refs[8];
	char err[256];

	/* Reads: the 3rd page-in fails. */
	CU_ASSERT_FATAL(pager_srv_start(&s, 8, "--inject=read:eio@at=3"));
	c = pclient_connect(s.addr, 5000, err, sizeof(err));
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_FATAL(pclient_register(c, 8, 2, 0, &fifo, &r) == 0);
	for (uint32_t i = 0; i < 4; i++)
		refs[i] = i;
	CU_ASSERT(pclient_replay(c, &r, refs, 4) != 0);
	CU_ASSERT(strstr(c->err, "page-in of page 2 failed") != NULL);
	CU_ASSERT(strstr(c->err, "Input/output error") != NULL);
	CU_ASSERT(!r.mapped[2]);
	/* Still connected; page 2 again succeeds (the rule fired once). */
	CU_ASSERT(pclient_replay(c, &r, refs + 2, 2) == 0);
	CU_ASSERT_FATAL(pclient_stats(c, r.id, &st) == 0);
	CU_ASSERT_EQUAL(st.u.stats_reply.st.pagein_errors, 1);
	pclient_region_fini(&r);
	pclient_close(c);
	CU_ASSERT(pager_srv_stop(&s));

	/* Writes: the 2nd write-back fails. FIFO, 2 frames, every page
	 * written: pages 0..5 in order; evictions of 0, 1, 2, 3 write back;
	 * the write of page 1 fails, so page 1 stays (dirty) and page 2 is
	 * evicted in its place. */
	CU_ASSERT_FATAL(pager_srv_start(&s, 8, "--inject=write:eio@at=2"));
	c = pclient_connect(s.addr, 5000, err, sizeof(err));
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_FATAL(pclient_register(c, 8, 2, 0, &fifo, &r) == 0);
	for (uint32_t i = 0; i < 6; i++)
		refs[i] = i | PROTO_REF_WRITE;
	CU_ASSERT(pclient_replay(c, &r, refs, 6) == 0);
	CU_ASSERT_FATAL(pclient_stats(c, r.id, &st) == 0);
	CU_ASSERT_EQUAL(r.writeback_errors, 1); /* reported exactly once */
	CU_ASSERT_EQUAL(r.last_writeback_err, EIO);
	CU_ASSERT_EQUAL(st.u.stats_reply.st.writeback_errors, 1);
	CU_ASSERT_EQUAL(st.u.stats_reply.st.faults, 6);
	pclient_region_fini(&r);
	pclient_close(c);
	CU_ASSERT(pager_srv_stop(&s));
}


/* ---- load control by working set (vmm/server/wsload.c) ----------------- */

/* W(t, tau) is the pages referenced in (t - tau, t]: its bounds exactly. */
static void test_ws_size(void)
{
	struct ws_pages w;

	CU_ASSERT_FATAL(ws_pages_init(&w, 8) == 0);
	CU_ASSERT_EQUAL(ws_size(&w, 0, 100), 0);
	ws_note(&w, 0, 0);
	ws_note(&w, 1, 50);
	ws_note(&w, 2, 50);
	ws_note(&w, 8, 50); /* out of range: ignored */
	CU_ASSERT_EQUAL(ws_size(&w, 50, 100), 3);
	CU_ASSERT_EQUAL(ws_size(&w, 99, 100), 3);
	CU_ASSERT_EQUAL(ws_size(&w, 100, 100), 2); /* page 0 referenced at 0: out */
	CU_ASSERT_EQUAL(ws_size(&w, 149, 100), 2);
	CU_ASSERT_EQUAL(ws_size(&w, 150, 100), 0);
	ws_note(&w, 1, 150); /* referenced again: counted once */
	CU_ASSERT_EQUAL(ws_size(&w, 150, 100), 1);
	CU_ASSERT_EQUAL(ws_size(&w, 150, 1), 1);
	CU_ASSERT_EQUAL(ws_size(&w, 151, 1), 0);
	ws_pages_fini(&w);
}

/* Clients A, B, C, one region each; the script's references, then a
 * decision, with who is suspended when, exactly (frames 10, tau 100,
 * quantum 1000; hand-worked in the comments). */
struct ws_step {
	uint64_t t;
	const char *refs;      /* "A0-5 B0-3": client, pages first-last, at t - 50 */
	const char *present;   /* "ABC": the clients connected */
	uint32_t frames;
	size_t changed;
	const char *acts;      /* per client: . keep, S suspend, R resume */
	const char *suspended; /* after: the suspended clients */
};

static void ws_refs(struct ws_pages *w, const char *refs, uint64_t at)
{
	for (const char *p = refs; p && *p;) {
		unsigned c = (unsigned)(*p - 'A'), first, last;
		int len = 0;

		CU_ASSERT_FATAL(sscanf(p + 1, "%u-%u%n", &first, &last, &len) == 2);
		for (unsigned v = first; v <= last; v++)
			ws_note(&w[c], v, at);
		p += 1 + len;
		while (*p == ' ')
			p++;
	}
}

static void test_ws_decisions(void)
{
	static const struct ws_step script[] = {
		/* 6 + 4 pages fit the 10 frames: nothing to do. */
		{ 100, "A0-5 B0-3", "AB", 10, 0, "...", "" },
		/* C comes with 3: 13 > 10, the largest (A, 6) is suspended. */
		{ 200, "A0-5 B0-3 C0-2", "ABC", 10, 1, "S..", "A" },
		/* B and C use 7; A's reserved 6 does not fit beside them. */
		{ 300, "B0-3 C0-2", "ABC", 10, 0, "...", "A" },
		/* B shrinks to 2 (pages 2-3 last seen at 250): 5 + 6 > 10. */
		{ 400, "B0-1 C0-2", "ABC", 10, 0, "...", "A" },
		/* B and C need 1 each: A's 6 fits, it runs again. */
		{ 500, "B0-0 C0-0", "ABC", 10, 1, "R..", "" },
		/* A was resumed 50 ago: it needs its reserved 6 though it
		 * referenced nothing; B and C's last references aged out. */
		{ 550, "", "ABC", 10, 0, "...", "" },
		/* All three at 6: 18 > 10; the largest, the latest among
		 * equals, goes: C, then (12 > 10) B. */
		{ 650, "A0-5 B0-5 C0-5", "ABC", 10, 2, ".SS", "BC" },
		/* A quantum later B and C run again; A needs nothing (its
		 * pages aged out) so it is not suspended for them, though
		 * B and C need their 6 each. */
		{ 1650, "", "ABC", 10, 2, ".RR", "" },
		/* 12 > 10: of the two, the latest goes. */
		{ 1700, "B0-5 C0-5", "ABC", 10, 1, "..S", "C" },
		/* A and B gone; C's 6 exceeds 4 frames, but none runs: it does. */
		{ 1750, "", "C", 4, 1, "..R", "" },
	};
	struct ws_pages w[3];
	struct ws_client cl[3] = { 0 };
	enum ws_action act[3];

	for (int i = 0; i < 3; i++)
		CU_ASSERT_FATAL(ws_pages_init(&w[i], 16) == 0);
	for (size_t k = 0; k < sizeof(script) / sizeof(*script); k++) {
		const struct ws_step *st = &script[k];
		char got[4] = "...", sus[4] = "";
		size_t changed, ns = 0;

		ws_refs(w, st->refs, st->t - 50);
		for (int i = 0; i < 3; i++) {
			cl[i].present = strchr(st->present, 'A' + i) != NULL;
			cl[i].ws = ws_size(&w[i], st->t, 100);
		}
		changed = ws_decide(cl, 3, st->frames, st->t, 100, 1000, act);
		for (int i = 0; i < 3; i++) {
			got[i] = act[i] == WS_SUSPEND ? 'S' : act[i] == WS_RESUME ? 'R' : '.';
			if (cl[i].present && cl[i].suspended)
				sus[ns++] = (char)('A' + i);
		}
		sus[ns] = 0;
		if (changed != st->changed || strcmp(got, st->acts) || strcmp(sus, st->suspended)) {
			printf("\n  t=%llu: changed %zu acts %s suspended '%s'; expected %zu %s '%s'\n",
			       (unsigned long long)st->t, changed, got, sus, st->changed, st->acts,
			       st->suspended);
			CU_FAIL("not the hand-worked decision");
		}
	}
	CU_ASSERT_EQUAL(cl[0].reserved, 6); /* A's, when suspended at 200 */
	for (int i = 0; i < 3; i++)
		ws_pages_fini(&w[i]);

	/* A period that suspends resumes nobody: X (2 reserved) would fit
	 * beside Y once Z (the later of equals) goes, but waits a period. */
	{
		struct ws_client x[3] = {
			{ .present = true, .suspended = true, .reserved = 2, .since = 0 },
			{ .present = true, .ws = 6 },
			{ .present = true, .ws = 6 },
		};

		CU_ASSERT_EQUAL(ws_decide(x, 3, 10, 200, 100, 1000, act), 1);
		CU_ASSERT(act[0] == WS_KEEP && act[1] == WS_KEEP && act[2] == WS_SUSPEND);
		CU_ASSERT(x[0].suspended && !x[1].suspended && x[2].suspended);
		CU_ASSERT_EQUAL(x[2].reserved, 6);
		CU_ASSERT_EQUAL(x[2].since, 200);
		/* The next period it does. */
		CU_ASSERT_EQUAL(ws_decide(x, 3, 10, 300, 100, 1000, act), 1);
		CU_ASSERT(act[0] == WS_RESUME && !x[0].suspended && x[2].suspended);
	}
	/* Of two that fit alone but not together, the longest suspended
	 * (Q, since 50) runs first. */
	{
		struct ws_client x[3] = {
			{ .present = true, .suspended = true, .reserved = 5, .since = 100 },
			{ .present = true, .ws = 4 },
			{ .present = true, .suspended = true, .reserved = 5, .since = 50 },
		};

		CU_ASSERT_EQUAL(ws_decide(x, 3, 10, 200, 100, 1000, act), 1);
		CU_ASSERT(act[0] == WS_KEEP && act[2] == WS_RESUME);
		CU_ASSERT(x[0].suspended && !x[2].suspended);
	}
	/* A resumed less than tau ago needs its reserved 6 though it has
	 * referenced nothing yet: 6 + 7 + 1 > 10, the largest (B) goes; tau
	 * after its resumption A needs what it references (0): all fit. */
	for (int late = 0; late < 2; late++) {
		struct ws_client x[3] = {
			{ .present = true, .ws = 0, .reserved = 6, .since = 500 },
			{ .present = true, .ws = 7 },
			{ .present = true, .ws = 1 },
		};

		CU_ASSERT_EQUAL(ws_decide(x, 3, 10, late ? 600 : 599, 100, 1000, act), late ? 0 : 1);
		CU_ASSERT(act[0] == WS_KEEP && act[1] == (late ? WS_KEEP : WS_SUSPEND));
	}
	/* One client alone is never suspended, even past the frames. */
	{
		struct ws_client one = { .present = true, .ws = 12 };

		CU_ASSERT_EQUAL(ws_decide(&one, 1, 10, 100, 100, 1000, act), 0);
		CU_ASSERT(!one.suspended && act[0] == WS_KEEP);
	}
}

static CU_TestInfo server_tests[] = {
	{ "injected errors: page-in answered, write-back reported once", test_injected_errors },
	{ "protocol bytes are the documented ones", test_golden_bytes },
	{ "the decoder refuses each malformed class", test_decode_refusals },
	{ "a scripted session gives the hand-worked answers", test_scripted_session },
	{ "remote counts equal pflab sim's, two clients at once", test_counts_equal_sim },
	{ "malformed messages: error, disconnect, bystander intact", test_malformed_refused },
	{ "a server that hangs or dies fails its client in bound", test_server_dies_or_hangs },
	{ "a client that dies frees its frames", test_client_dies_frees_frames },
	{ "SO_PEERCRED: other uids refused unless allowed", test_peer_uid },
	{ "a working set is the pages referenced in the last tau", test_ws_size },
	{ "working-set load control: who is suspended when, scripted", test_ws_decisions },
	{ "pager and remote refuse bad usage", test_cli_refusals },
	CU_TEST_INFO_NULL,
};
TEST_SUITE("server", server_tests);
