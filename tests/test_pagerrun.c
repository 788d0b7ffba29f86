// SPDX-License-Identifier: MIT
/*
 * `pflab run --pager`: the KVM host as a client of the paging server
 * (vmm/vmm_remote.c, docs/external-pager.md). The new messages' bytes; a
 * data region's scripted session worked out by hand (clock, two frames:
 * samples, touches, a dirty page's bytes going to the server and coming
 * back); the refusals that keep a page's bytes from being lost; two KVM
 * guests at once against one server, each verifying every byte, with the
 * in-process run's exact counts; a killed client (its frames return, the
 * other goes on) and a killed or stopped server (the client fails with one
 * line, in bound, never verified on zeros; a pause within the timeout is
 * waited out); injected errors: a page-in error is the
 * guest's upcall, a write-back error is returned by exactly one sync.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "proto.h"
#include "test.h"

static void nap_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* The server's free frames (a STATS of region 0), or -1. */
static long frames_free(const char *addr)
{
	char err[256];
	struct pclient *c = pclient_connect(addr, 5000, err, sizeof(err));
	struct proto_msg st;
	long n = -1;

	if (c && pclient_stats(c, 0, &st) == 0)
		n = st.u.stats_reply.frames_free;
	pclient_close(c);
	return n;
}

/* Wait (bounded: 2000 polls) until the server has want frames free. */
static bool wait_free(const char *addr, long want)
{
	for (int i = 0; i < 2000; i++) {
		if (frames_free(addr) == want)
			return true;
		nap_ms(10);
	}
	return false;
}

static struct proto_policy pol(const char *name)
{
	struct proto_policy p = { .seed = 1, .tick = 1000, .window = 10000, .aging_bits = 8 };

	snprintf(p.name, sizeof(p.name), "%s", name);
	return p;
}

/* ---- bytes ---------------------------------------------------------- */

static void test_new_message_bytes(void)
{
	uint8_t out[64], touch_refs[8] = { 1, 0, 0, 0, 2, 0, 0, 0x80 };
	static const uint8_t sample[] = {
		'P', 'F', 'P', 'G', 1, 0, 24, 0, 9, 0, 0, 0, 16, 0, 0, 0,
		1, 0, 0, 0, 7, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0,
	};
	static const uint8_t touch[] = {
		'P', 'F', 'P', 'G', 1, 0, 25, 0, 3, 0, 0, 0, 16, 0, 0, 0,
		1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0x80,
	};
	struct proto_msg m = { .type = PROTO_SAMPLE, .seq = 9 }, d;
	char why[160];

	m.u.evict.region = 1;
	m.u.evict.page = 7;
	m.u.evict.frame = 2;
	CU_ASSERT_EQUAL_FATAL(proto_encode(&m, out, sizeof(out)), sizeof(sample));
	CU_ASSERT(memcmp(out, sample, sizeof(sample)) == 0);
	CU_ASSERT_EQUAL(proto_decode(sample, sizeof(sample), &d, why, sizeof(why)), 32);
	CU_ASSERT(d.type == PROTO_SAMPLE && d.u.evict.page == 7 && d.u.evict.frame == 2);
	/* A sample has no dirty flag: it returns nothing. */
	memcpy(out, sample, sizeof(sample));
	out[28] = 1;
	CU_ASSERT_EQUAL(proto_decode(out, sizeof(sample), &d, why, sizeof(why)), -EBADMSG);

	m = (struct proto_msg){ .type = PROTO_TOUCH, .seq = 3 };
	m.u.refs.region = 1;
	m.u.refs.count = 2;
	m.u.refs.refs = touch_refs;
	CU_ASSERT_EQUAL_FATAL(proto_encode(&m, out, sizeof(out)), sizeof(touch));
	CU_ASSERT(memcmp(out, touch, sizeof(touch)) == 0);
	CU_ASSERT_EQUAL(proto_decode(touch, sizeof(touch), &d, why, sizeof(why)), 32);
	CU_ASSERT(d.type == PROTO_TOUCH && d.u.refs.count == 2);

	/* A register with the memory store and sampled bits is valid; a
	 * store past the last and an unknown flag are not. */
	m = (struct proto_msg){ .type = PROTO_REGISTER, .seq = 1 };
	m.u.reg.npages = 4;
	m.u.reg.page_size = 4096;
	m.u.reg.frames = 2;
	m.u.reg.store = PROTO_STORE_MEMORY;
	m.u.reg.flags = PROTO_REG_ZERO_FILL | PROTO_REG_SAMPLED;
	m.u.reg.policy = pol("clock");
	CU_ASSERT_EQUAL_FATAL(proto_encode(&m, out, sizeof(out)), 0); /* 80 bytes: too small */
	{
		uint8_t big[128];
		size_t n = proto_encode(&m, big, sizeof(big));

		CU_ASSERT_EQUAL_FATAL(n, 80);
		CU_ASSERT_EQUAL(big[16 + 12], 1);   /* store */
		CU_ASSERT_EQUAL(big[16 + 13], 3);   /* flags */
		CU_ASSERT((long)n == proto_decode(big, n, &d, why, sizeof(why)));
		big[16 + 12] = 2;
		CU_ASSERT_EQUAL(proto_decode(big, n, &d, why, sizeof(why)), -EBADMSG);
		big[16 + 12] = 1;
		big[16 + 13] = 8;
		CU_ASSERT_EQUAL(proto_decode(big, n, &d, why, sizeof(why)), -EBADMSG);
	}
	/* The types between GOODBYE and SAMPLE are unassigned (DSM's). */
	memcpy(out, sample, sizeof(sample));
	out[6] = 20;
	CU_ASSERT_EQUAL(proto_decode(out, sizeof(sample), &d, why, sizeof(why)), -EBADMSG);
}

/* ---- a data region, by hand ------------------------------------------ */

/* The client's side of the scripted session: two frames of bytes, and a
 * log of what the server asked. */
struct host {
	uint8_t frame[2][4096];
	char log[512];
	bool withhold; /* give a dirty page back without its bytes (a bad client) */
};

static void logf_(struct host *h, const char *fmt, unsigned a, unsigned b)
{
	size_t n = strlen(h->log);

	snprintf(h->log + n, sizeof(h->log) - n, fmt, a, b);
}

static int host_evict(void *ctx, uint32_t page, uint32_t frame, bool dirty, const uint8_t **data)
{
	struct host *h = ctx;

	logf_(h, dirty ? "evict %u/f%u dirty; " : "evict %u/f%u; ", page, frame);
	*data = dirty && !h->withhold && frame < 2 ? h->frame[frame] : NULL;
	return 0;
}

static int host_sample(void *ctx, uint32_t page, uint32_t frame)
{
	logf_(ctx, "sample %u/f%u; ", page, frame);
	return 0;
}

static bool all_bytes(const uint8_t *p, uint8_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

/*
 * Clock, two frames, four pages, the memory store, sampled bits:
 *   FAULT 0 write  -> RESOLVED 0 in f0, no data (zero-fill); the host writes 0xA5
 *   FAULT 1 read   -> RESOLVED 1 in f1
 *   FAULT 2 read   -> the hand clears f0's bit (SAMPLE 0) and f1's (SAMPLE 1),
 *                     takes f0: EVICT 0 dirty (its bytes go back), RESOLVED 2 in f0
 *   TOUCH 1        (the host's soft fault on sampled page 1)
 *   FAULT 0 read   -> the hand (at f1) clears f1 (SAMPLE 1, touched) and f0
 *                     (SAMPLE 2), takes f1: EVICT 1 clean, RESOLVED 0 in f1 with
 *                     the 4096 bytes 0xA5 (major)
 * Counters: 4 faults, 1 major, 3 minor, 2 evictions, 1 write-back, 2 data returns.
 */
static void test_scripted_data_session(void)
{
	static const struct pclient_pages ops = { .evict = host_evict, .sample = host_sample };
	struct pclient_pages pages = ops;
	struct proto_policy clock = pol("clock");
	struct pclient_resolved got;
	struct pclient_region r;
	struct proto_msg st;
	struct pclient *c;
	struct pager_srv s;
	struct host h = { 0 };
	char err[256];

	pages.ctx = &h;
	CU_ASSERT_FATAL(pager_srv_start(&s, 8, NULL));
	c = pclient_connect(s.addr, 5000, err, sizeof(err));
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_FATAL(pclient_register_pages(c, 4, 2, PROTO_REG_ZERO_FILL | PROTO_REG_SAMPLED,
					       PROTO_STORE_MEMORY, &clock, &pages, &r) == 0);
	CU_ASSERT_EQUAL(r.frames, 2);

	CU_ASSERT_FATAL(pclient_fault_page(c, &r, 0, true, &got) == 0);
	CU_ASSERT(got.frame == 0 && got.data_len == 0 && !got.sampled);
	memset(h.frame[0], 0xA5, 4096);
	CU_ASSERT_FATAL(pclient_fault_page(c, &r, 1, false, &got) == 0);
	CU_ASSERT(got.frame == 1 && got.data_len == 0);
	CU_ASSERT_FATAL(pclient_fault_page(c, &r, 2, false, &got) == 0);
	CU_ASSERT(got.frame == 0 && got.data_len == 0);
	CU_ASSERT_STRING_EQUAL(h.log, "sample 0/f0; sample 1/f1; evict 0/f0 dirty; ");
	memset(h.frame[0], 0, 4096); /* page 2, zero-filled */
	h.log[0] = 0;
	CU_ASSERT_FATAL(pclient_touch(c, &r, 1, false) == 0);
	CU_ASSERT_FATAL(pclient_fault_page(c, &r, 0, false, &got) == 0);
	CU_ASSERT_STRING_EQUAL(h.log, "sample 1/f1; sample 2/f0; evict 1/f1; ");
	CU_ASSERT(got.frame == 1 && got.data_len == 4096);
	CU_ASSERT(got.data && all_bytes(got.data, 0xA5, 4096));

	CU_ASSERT_FATAL(pclient_stats(c, r.id, &st) == 0);
	CU_ASSERT_EQUAL(st.u.stats_reply.st.faults, 4);
	CU_ASSERT_EQUAL(st.u.stats_reply.st.major, 1);
	CU_ASSERT_EQUAL(st.u.stats_reply.st.minor, 3);
	CU_ASSERT_EQUAL(st.u.stats_reply.st.evictions, 2);
	CU_ASSERT_EQUAL(st.u.stats_reply.st.writebacks, 1);
	CU_ASSERT_EQUAL(st.u.stats_reply.st.data_returns, 2);
	CU_ASSERT_EQUAL(r.samples, 4);
	pclient_region_fini(&r);
	pclient_close(c);
	pager_srv_stop(&s);
}

/* What would lose or corrupt a page's bytes is refused, with a disconnect:
 * a dirty page given back without its bytes, a touch of a page not
 * mapped, a touch in a region without sampled bits. */
static void test_data_refusals(void)
{
	static const struct pclient_pages ops = { .evict = host_evict, .sample = host_sample };
	struct pclient_pages pages = ops;
	struct proto_policy fifo = pol("fifo");
	struct pclient_resolved got;
	struct pclient_region r;
	struct pclient *c;
	struct pager_srv s;
	struct host h = { .withhold = true };
	char err[256];

	pages.ctx = &h;
	CU_ASSERT_FATAL(pager_srv_start(&s, 8, NULL));
	c = pclient_connect(s.addr, 5000, err, sizeof(err));
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_FATAL(pclient_register_pages(c, 4, 1, PROTO_REG_ZERO_FILL | PROTO_REG_SAMPLED,
					       PROTO_STORE_MEMORY, &fifo, &pages, &r) == 0);
	CU_ASSERT_FATAL(pclient_fault_page(c, &r, 0, true, &got) == 0);
	/* Page 0 is evicted dirty; the host gives it back without its bytes
	 * (after the RESOLVED was sent: the refusal answers the next call). */
	CU_ASSERT(pclient_fault_page(c, &r, 1, false, &got) == 0);
	CU_ASSERT(pclient_sync(c, &r) == -1);
	CU_ASSERT(strstr(c->err, "data-return of dirty page 0 without its data") != NULL);
	CU_ASSERT_EQUAL(c->last_errno, EPROTO);
	pclient_region_fini(&r);
	pclient_close(c);
	CU_ASSERT(wait_free(s.addr, 8)); /* the refused client's frame is back */

	c = pclient_connect(s.addr, 5000, err, sizeof(err));
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_FATAL(pclient_register_pages(c, 4, 2, PROTO_REG_ZERO_FILL | PROTO_REG_SAMPLED,
					       PROTO_STORE_MEMORY, &fifo, &pages, &r) == 0);
	CU_ASSERT(pclient_touch(c, &r, 3, false) == 0); /* batched */
	CU_ASSERT(pclient_sync(c, &r) == -1);
	CU_ASSERT(strstr(c->err, "touch of page 3, which is not mapped") != NULL);
	pclient_region_fini(&r);
	pclient_close(c);

	c = pclient_connect(s.addr, 5000, err, sizeof(err));
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_FATAL(pclient_register(c, 4, 2, 0, &fifo, &r) == 0);
	CU_ASSERT(pclient_touch(c, &r, 0, false) == 0);
	CU_ASSERT(pclient_sync(c, &r) == -1);
	if (!strstr(c->err, "touch in a region that is not sampled"))
		printf("\n  %s\n", c->err);
	CU_ASSERT(strstr(c->err, "touch in a region that is not sampled") != NULL);
	pclient_region_fini(&r);
	pclient_close(c);
	pager_srv_stop(&s);
}

/*
 * An injected write-back failure (the 2nd write) reported once, by one
 * sync, with its page and the write's number; the page stays with the
 * client (not evicted) and its bytes reach the server on a later eviction.
 * FIFO, two frames, pages 0..3 written in turn: page 2 evicts page 0
 * (write #1); page 3 would evict page 1, whose write (#2) fails, so page 2
 * is evicted instead (#3); page 4 then evicts page 1 (#4), and page 1
 * comes back with the client's bytes.
 */
static void test_writeback_error_synced_once(void)
{
	static const struct pclient_pages ops = { .evict = host_evict, .sample = host_sample };
	struct pclient_pages pages = ops;
	struct proto_policy fifo = pol("fifo");
	struct pclient_resolved got;
	struct pclient_region r;
	struct pclient *c;
	struct pager_srv s;
	struct host h = { 0 };
	char err[256];

	pages.ctx = &h;
	CU_ASSERT_FATAL(pager_srv_start(&s, 8, "--inject=write:eio@at=2"));
	c = pclient_connect(s.addr, 5000, err, sizeof(err));
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_FATAL(pclient_register_pages(c, 8, 2, PROTO_REG_ZERO_FILL | PROTO_REG_SAMPLED,
					       PROTO_STORE_MEMORY, &fifo, &pages, &r) == 0);
	for (uint32_t p = 0; p < 4; p++) {
		CU_ASSERT_FATAL(pclient_fault_page(c, &r, p, true, &got) == 0);
		memset(h.frame[got.frame], 0x10 + (int)p, 4096);
	}
	/* 0 in f0, 1 in f1; 2: evict 0 (#1) into f0; 3: evict 1 fails (#2),
	 * evict 2 (#3) from f0 instead. Page 1 is still the client's. */
	CU_ASSERT_STRING_EQUAL(h.log, "evict 0/f0 dirty; evict 2/f0 dirty; ");
	CU_ASSERT(r.mapped[1]);
	CU_ASSERT_EQUAL(pclient_sync(c, &r), 1);
	CU_ASSERT_EQUAL(r.last_writeback_err, EIO);
	CU_ASSERT_EQUAL(r.last_writeback_page, 1);
	CU_ASSERT_EQUAL(r.last_writeback_write, 2);
	CU_ASSERT_EQUAL(pclient_sync(c, &r), 0); /* exactly once */
	/* Nothing lost: page 4 evicts page 1 (#4, written), and page 1 comes
	 * back with the bytes the client wrote. */
	h.log[0] = 0;
	CU_ASSERT_FATAL(pclient_fault_page(c, &r, 4, false, &got) == 0);
	CU_ASSERT_STRING_EQUAL(h.log, "evict 1/f1 dirty; ");
	CU_ASSERT_FATAL(pclient_fault_page(c, &r, 1, false, &got) == 0);
	CU_ASSERT(got.data_len == 4096 && all_bytes(got.data, 0x11, 4096));
	CU_ASSERT_EQUAL(pclient_sync(c, &r), 0);
	pclient_region_fini(&r);
	pclient_close(c);
	pager_srv_stop(&s);
}

/* A handover is checked: the region must have asked for one (with the
 * memory store), and the descriptors must be a userfaultfd and a file the
 * size of the region; each refusal is an error and a disconnect. */
static void test_handover_refusals(void)
{
	struct proto_policy fifo = pol("fifo");
	struct pclient_region r;
	struct pclient *c;
	struct pager_srv s;
	char err[256];
	int p[2], uffd, memfd;

	CU_ASSERT_FATAL(pager_srv_start(&s, 8, NULL));
	c = pclient_connect(s.addr, 5000, err, sizeof(err));
	CU_ASSERT_FATAL(c != NULL);
	/* Without the memory store: refused, the connection stays. */
	CU_ASSERT(pclient_register_pages(c, 4, 2, PROTO_REG_HANDOVER, PROTO_STORE_NONE, &fifo, NULL,
					 &r) == -1);
	CU_ASSERT(strstr(c->err, "a handed-over region needs the memory store") != NULL);
	/* Two pipes are not a userfaultfd and a memfd. */
	CU_ASSERT_FATAL(pclient_register_pages(c, 4, 2, PROTO_REG_HANDOVER, PROTO_STORE_MEMORY,
					       &fifo, NULL, &r) == 0);
	CU_ASSERT_FATAL(pipe(p) == 0);
	CU_ASSERT(pclient_handover(c, &r, 0x10000, p[0], p[1]) == -1);
	CU_ASSERT(strstr(c->err, "the first descriptor is not a userfaultfd") != NULL);
	CU_ASSERT_EQUAL(c->last_errno, EBADF);
	close(p[0]);
	close(p[1]);
	pclient_region_fini(&r);
	pclient_close(c);

	/* A real userfaultfd, but a memfd smaller than the region. */
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	memfd = memfd_create("t", MFD_CLOEXEC);
	if (uffd < 0 || memfd < 0 || ftruncate(memfd, 4096) != 0) {
		test_skip("no userfaultfd here");
	} else {
		c = pclient_connect(s.addr, 5000, err, sizeof(err));
		CU_ASSERT_FATAL(c != NULL);
		CU_ASSERT_FATAL(pclient_register_pages(c, 4, 2, PROTO_REG_HANDOVER,
						       PROTO_STORE_MEMORY, &fifo, NULL, &r) == 0);
		CU_ASSERT(pclient_handover(c, &r, 0x10000, uffd, memfd) == -1);
		CU_ASSERT(strstr(c->err, "the second descriptor is not a file of the region's 4 pages") !=
			  NULL);
		pclient_region_fini(&r);
		pclient_close(c);
	}
	if (uffd >= 0)
		close(uffd);
	if (memfd >= 0)
		close(memfd);
	CU_ASSERT(wait_free(s.addr, 8));
	pager_srv_stop(&s);
}

/* ---- KVM guests -------------------------------------------------------- */

static const char *const counted[] = { "refs", "faults", "writebacks", "major", "minor",
				       "soft_faults" };

/* Two `pflab run --pager` at once, each in its partition, each with the
 * counts of the same run in-process. */
static void two_guests(const char *addr, const char *args)
{
	bool exact = args[0] != '~';
	char local[256];
	char *fw;
	struct cmd_result in;

	args += !exact;
	/* The in-process run without the remote-only option. */
	snprintf(local, sizeof(local), "%s", args);
	if ((fw = strstr(local, " --pager-forward")))
		*fw = 0;
	in = run_pflab("run %s --csv", local);
	struct cmd_result both = run_shell(
		"(d=$(mktemp -d); "
		"%s run --pager %s %s --csv >$d/a 2>$d/ae & "
		"%s run --pager %s %s --csv >$d/b 2>$d/be & "
		"wait %%1; a=$?; wait %%2; b=$?; "
		"cat $d/a; echo ==; cat $d/b; echo ==; cat $d/ae $d/be; echo \"rc $a $b\"; rm -r $d)",
		pflab_path(), addr, args, pflab_path(), addr, args);
	char *a, *b, *e;

	CU_ASSERT_EQUAL_FATAL(in.status, 0);
	CU_ASSERT_EQUAL_FATAL(both.status, 0);
	a = both.out;
	b = strstr(a, "==\n");
	CU_ASSERT_FATAL(b != NULL);
	*b = 0;
	b += 3;
	e = strstr(b, "==\n");
	CU_ASSERT_FATAL(e != NULL);
	*e = 0;
	e += 3;
	if (!strstr(e, "rc 0 0")) {
		printf("\n  %s: %s\n", args, e);
		CU_FAIL("a remote run failed");
		goto out;
	}
	/* Each guest verified every byte. */
	{
		char *second = strstr(e, "0 mismatches: data verified");

		CU_ASSERT(second && strstr(second + 1, "0 mismatches: data verified"));
	}
	for (size_t i = 0; exact && i < sizeof(counted) / sizeof(*counted); i++) {
		long long want = csv_value(in.out, counted[i]);

		/* Handed over, the traps that set bits are the server's. */
		if (strstr(args, "--trap uffd") && !strstr(args, "--pager-forward") &&
		    strcmp(counted[i], "soft_faults") == 0)
			continue;
		if (csv_value(a, counted[i]) != want || csv_value(b, counted[i]) != want) {
			printf("\n  %s: %s in-process %lld, remote %lld and %lld\n", args, counted[i],
			       want, csv_value(a, counted[i]), csv_value(b, counted[i]));
			CU_FAIL("remote counts differ from the in-process run's");
		}
	}
	CU_ASSERT_EQUAL(csv_value(a, "pager_writeback_errors"), 0);
out:
	cmd_result_free(&in);
	cmd_result_free(&both);
}

static void test_two_guests_exact(void)
{
	/* Policies that use no bit, the referenced bit (clock: SAMPLE, TOUCH),
	 * one that clears it at insertion (car), and the dirty bit (nru). */
	static const char *const runs[] = {
		"--workload random --pages 96 --frames 24 --policy clock",
		"--workload random --pages 96 --frames 24 --policy fifo",
		"--workload random --pages 96 --frames 24 --policy car",
		"--workload random --pages 96 --frames 24 --policy nru --tick 50",
		"--workload random --pages 96 --frames 24 --policy lru --trap uffd --pager-forward",
		/* the uffd handed over: the server maps the pages itself */
		"--workload random --pages 96 --frames 24 --policy lru --trap uffd",
		/* '~': verified data only (samples under uffd race with KVM's own
		 * accesses in-process too: counts vary from run to run) */
		"~--workload random --pages 96 --frames 24 --policy clock --trap uffd",
		"--workload scan --pages 64 --frames 16 --policy clock",
	};
	struct pager_srv s;

	if (!kvm_usable())
		return test_skip("no usable /dev/kvm");
	CU_ASSERT_FATAL(pager_srv_start(&s, 48, NULL));
	for (size_t i = 0; i < sizeof(runs) / sizeof(*runs); i++)
		two_guests(s.addr, runs[i]);
	CU_ASSERT(wait_free(s.addr, 48));
	pager_srv_stop(&s);
}

/* A remote run in the background (passes over 2048 pages: 400 is long,
 * about a minute alone; timeout: --pager-timeout): its pid; stdout and
 * stderr to out (a path). */
static pid_t start_run(const char *addr, const char *trap, const char *out, const char *passes,
		       const char *timeout)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		bool forward = strcmp(trap, "uffd-forward") == 0;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(pflab_path(), "pflab", "run", "--pager", addr, "--trap", forward ? "uffd" : trap,
		      "--workload", "random", "--pages", "2048", "--frames", "32", "--passes", passes,
		      "--pager-timeout", timeout, forward ? "--pager-forward" : (char *)NULL,
		      (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* The client's status, waiting at most ~60 s (a hang guard, not a timing
 * assert); -1 if it was still running (then killed). */
static int reap(pid_t pid)
{
	int st;

	for (int i = 0; i < 6000; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		nap_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

static char *slurp(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = 0;
	return buf;
}

/* A client killed mid-run: its frames return to the budget, the server
 * goes on and serves the next guest, which verifies. */
static void test_client_killed(void)
{
	char out[256];
	struct cmd_result r;
	struct pager_srv s;
	pid_t pid;

	if (!kvm_usable())
		return test_skip("no usable /dev/kvm");
	snprintf(out, sizeof(out), "%s/killed-client.out", scratch_dir());
	CU_ASSERT_FATAL(pager_srv_start(&s, 64, NULL));
	pid = start_run(s.addr, "kvm", out, "400", "3000");
	CU_ASSERT(wait_free(s.addr, 32)); /* registered: 32 of 64 taken */
	kill(pid, SIGKILL);
	CU_ASSERT_EQUAL(reap(pid), 128 + SIGKILL);
	CU_ASSERT(wait_free(s.addr, 64));
	r = run_pflab("run --pager %s --workload random --pages 96 --frames 24 --csv", s.addr);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT(strstr(r.err, "0 mismatches: data verified") != NULL);
	cmd_result_free(&r);
	pager_srv_stop(&s);
}

/* The server killed mid-run: the client fails (exit 1) with one line
 * naming the server, under either trap, faults forwarded or the uffd
 * handed over; it never reports verified data (no zero page). */
static void test_server_killed(void)
{
	static const char *const traps[] = { "kvm", "uffd-forward", "uffd" };

	if (!kvm_usable())
		return test_skip("no usable /dev/kvm");
	for (size_t i = 0; i < 3; i++) {
		char out[256];
		struct pager_srv s;
		pid_t pid;
		int st;
		const char *text;

		snprintf(out, sizeof(out), "%s/killed-server-%s.out", scratch_dir(), traps[i]);
		CU_ASSERT_FATAL(pager_srv_start(&s, 64, NULL));
		pid = start_run(s.addr, traps[i], out, "400", "3000");
		CU_ASSERT(wait_free(s.addr, 32));
		nap_ms(500); /* the handover's end (test_server_stopped says why) */
		kill(s.pid, SIGKILL);
		waitpid(s.pid, &st, 0);
		s.pid = -1;
		st = reap(pid);
		text = slurp(out);
		/* Killed during the handover (ASan's slow build, once in CI):
		 * refused before the guest starts, status 2, that step's line. */
		if (st == 2 && strstr(text, "handing the userfaultfd over: the pager server "
					    "closed the connection")) {
			printf("[killed during the handover] ");
		} else {
			CU_ASSERT_EQUAL(st, 1);
			if (!strstr(text, "pflab run: the pager server closed the connection")) {
				printf("\n  trap %s: status %d: %s\n", traps[i], st, text);
				CU_FAIL("no clear line for the server's death");
			}
		}
		CU_ASSERT(strstr(text, "data verified") == NULL);
		pager_srv_stop(&s);
	}
}

/*
 * The server alive but silent (SIGSTOP) while a guest runs: a pause shorter
 * than the timeout is waited out and the run verifies; a server stopped for
 * good fails the client (exit 1) with one line naming the timeout, faults
 * forwarded or the uffd handed over (where the host sees no request of its
 * own: its keep-alive notices), and it never reports verified data. No
 * timing is asserted: reap()'s ~60 s guard makes a hang a failure.
 */
static void test_server_stopped(void)
{
	static const char *const traps[] = { "uffd-forward", "uffd" };
	char out[256], want[256], early[512];
	struct pager_srv s;
	const char *text;
	pid_t pid;
	int st;

	if (!kvm_usable())
		return test_skip("no usable /dev/kvm");
	CU_ASSERT_FATAL(pager_srv_start(&s, 64, NULL));
	/* Paused for 3.2 s, timeout 6 s: the keep-alive (every 3 s) crosses
	 * the pause and its answer comes late but in time. */
	snprintf(out, sizeof(out), "%s/paused-server.out", scratch_dir());
	pid = start_run(s.addr, "uffd", out, "20", "6000");
	CU_ASSERT(wait_free(s.addr, 32));
	kill(s.pid, SIGSTOP);
	nap_ms(3200);
	kill(s.pid, SIGCONT);
	CU_ASSERT_EQUAL(reap(pid), 0);
	text = slurp(out);
	if (!strstr(text, "0 mismatches: data verified")) {
		printf("\n  paused server: %s\n", text);
		CU_FAIL("a server paused within the timeout failed its guest");
	}
	for (size_t i = 0; i < 2; i++) {
		CU_ASSERT(wait_free(s.addr, 64)); /* the previous client is gone */
		snprintf(out, sizeof(out), "%s/stopped-server-%s.out", scratch_dir(), traps[i]);
		pid = start_run(s.addr, traps[i], out, "400", "3000");
		CU_ASSERT(wait_free(s.addr, 32));
		/* Its frames are taken at the registration; give the handover
		 * time to end and the guest to start (a slow build, ASan's,
		 * took longer than that once: see below). */
		nap_ms(500);
		kill(s.pid, SIGSTOP);
		st = reap(pid);
		kill(s.pid, SIGCONT);
		text = slurp(out);
		snprintf(want, sizeof(want), "pflab run: the pager server did not answer within 3000 ms%s%s%s",
			 i ? " (server " : "", i ? s.addr : "", i ? ")" : "");
		/* Stopped before the guest started, during the handover: the
		 * run is refused before it begins (status 2), with the line of
		 * that step; as bounded and as closed, but not the keep-alive. */
		snprintf(early, sizeof(early), "pflab run: pager server %s: handing the userfaultfd "
			 "over: the pager server did not answer within 3000 ms", s.addr);
		if (i && st == 2 && strstr(text, early)) {
			printf("[stopped during the handover] ");
		} else {
			CU_ASSERT_EQUAL(st, 1);
			if (!strstr(text, want)) {
				printf("\n  trap %s: status %d: %s\n", traps[i], st, text);
				CU_FAIL("no clear line for a silent server");
			}
		}
		CU_ASSERT(strstr(text, "data verified") == NULL);
		CU_ASSERT(strstr(text, "mismatches") == NULL);
	}
	kill(s.pid, SIGCONT);
	pager_srv_stop(&s);
}

/* Errors over the channel with a guest: a page-in that fails at the server
 * is the guest's page-error upcall (delivered, reported, retried); a
 * write-back that fails is counted once by the run's final sync, under
 * either trap. Handed over (uffd), a page-in error cannot reach the guest
 * (the vCPU sleeps in the kernel's fault, as in-process under uffd): the
 * run fails closed with the server's line. */
static void test_guest_injected_errors(void)
{
	static const struct {
		const char *inject, *trap; /* the server's --inject=; run's --trap words */
		int status;
		const char *says[2], *not_says; /* on stderr */
		struct {
			const char *col;
			long long v;
		} csv[3];
	} cases[] = {
		{ "read:eio@at=3", "", 0,
		  { "1 page-in errors delivered, each reported and retried" }, NULL,
		  { { "pager_pagein_errors", 1 }, { "pgerr_delivered", 1 }, { "pgerr_reported", 1 } } },
		{ "write:eio@at=5", "--trap kvm ", 0,
		  { "0 mismatches: data verified", "the pager server reported 1 failed write-backs" },
		  NULL, { { "pager_writeback_errors", 1 } } },
		{ "write:eio@at=5", "--trap uffd ", 0,
		  { "0 mismatches: data verified", "the pager server reported 1 failed write-backs" },
		  NULL, { { "pager_writeback_errors", 1 } } },
		{ "read:eio@at=3", "--trap uffd ", 1, { "pflab run: pager server: page-in of page" },
		  "data verified", { { NULL, 0 } } },
	};

	if (!kvm_usable())
		return test_skip("no usable /dev/kvm");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char inject[64];
		struct cmd_result r;
		struct pager_srv s;

		snprintf(inject, sizeof(inject), "--inject=%s", cases[i].inject);
		CU_ASSERT_FATAL(pager_srv_start(&s, 64, inject));
		r = run_pflab("run --pager %s --workload random --pages 96 --frames 24 %s--csv", s.addr,
			      cases[i].trap);
		CU_ASSERT_EQUAL(r.status, cases[i].status);
		for (size_t k = 0; k < 2 && cases[i].says[k]; k++)
			CU_ASSERT(strstr(r.err, cases[i].says[k]) != NULL);
		if (cases[i].not_says)
			CU_ASSERT(strstr(r.err, cases[i].not_says) == NULL);
		for (size_t k = 0; k < 3 && cases[i].csv[k].col; k++)
			CU_ASSERT_EQUAL(csv_value(r.out, cases[i].csv[k].col), cases[i].csv[k].v);
		if (r.status != cases[i].status)
			printf("\n  inject %s, %s: %s\n", cases[i].inject, cases[i].trap, r.err);
		cmd_result_free(&r);
		pager_srv_stop(&s);
	}
}

static void test_run_pager_refusals(void)
{
	static const struct { const char *args, *says; } bad[] = {
		{ "--pager unix:/nonexistent/p.sock", "pager server unix:/nonexistent/p.sock" },
		{ "--pager unix:/tmp/x.sock --inject write:eio@at=1",
		  "--pager: --inject (give it to pflab pager) needs the in-process pager" },
		{ "--pager unix:/tmp/x.sock --pool-low 2 --pool-high 4",
		  "--pager: --pool-low/--pool-high needs the in-process pager" },
		{ "--pager unix:/tmp/x.sock --pager-timeout 0", "--pager-timeout" },
		{ "--pager nowhere", "expected unix:PATH or tcp:HOST:PORT" },
	};

	if (!kvm_usable())
		return test_skip("no usable /dev/kvm");
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct cmd_result r = run_pflab("run --workload random --pages 16 --frames 4 %s",
						bad[i].args);

		CU_ASSERT_EQUAL(r.status, 2);
		if (!strstr(r.err, bad[i].says)) {
			printf("\n  %s: %s\n", bad[i].args, r.err);
			CU_FAIL("not the expected line");
		}
		cmd_result_free(&r);
	}
}

/*
 * Global replacement with two trace clients driven in turn from one thread
 * (so the interleaving is this test's): regions that ask 6 frames each
 * against a budget of 8. At every step the residents of both sum to at most
 * the budget, and each region's faults less its evictions are its resident
 * pages; A's evictions include pages B's faults took.
 */
static void test_global_budget(void)
{
	struct proto_policy fifo = pol("fifo");
	struct pclient_region ra, rb;
	struct pclient *a, *b;
	struct test_rng rng = { 7 };
	uint64_t took_from_a = 0;
	struct pager_srv s;
	char err[256];

	CU_ASSERT_FATAL(pager_srv_start(&s, 8, "--alloc=global"));
	a = pclient_connect(s.addr, 5000, err, sizeof(err));
	b = pclient_connect(s.addr, 5000, err, sizeof(err));
	CU_ASSERT_FATAL(a && b);
	CU_ASSERT_FATAL(pclient_register(a, 16, 6, 0, &fifo, &ra) == 0);
	CU_ASSERT_FATAL(pclient_register(b, 16, 6, 0, &fifo, &rb) == 0);
	CU_ASSERT_EQUAL(ra.frames, 6); /* together more than the budget */
	for (int round = 0; round < 40; round++) {
		uint32_t refs[4];
		struct proto_msg sa, sb;
		uint64_t ea = ra.evicts;

		for (int i = 0; i < 4; i++)
			refs[i] = test_rng_below(&rng, 16) | (i & 1 ? PROTO_REF_WRITE : 0);
		CU_ASSERT_FATAL(pclient_replay(round & 1 ? b : a, round & 1 ? &rb : &ra, refs, 4) == 0);
		CU_ASSERT_FATAL(pclient_stats(a, ra.id, &sa) == 0);
		CU_ASSERT_FATAL(pclient_stats(b, rb.id, &sb) == 0);
		took_from_a += (round & 1) && ra.evicts != ea;
		CU_ASSERT(sa.u.stats_reply.st.resident + sb.u.stats_reply.st.resident <= 8);
		CU_ASSERT(sa.u.stats_reply.st.resident <= 6 && sb.u.stats_reply.st.resident <= 6);
		CU_ASSERT_EQUAL(sa.u.stats_reply.st.faults - sa.u.stats_reply.st.evictions,
				sa.u.stats_reply.st.resident);
		CU_ASSERT_EQUAL(sb.u.stats_reply.st.faults - sb.u.stats_reply.st.evictions,
				sb.u.stats_reply.st.resident);
		CU_ASSERT_EQUAL(sa.u.stats_reply.frames_free,
				8 - sa.u.stats_reply.st.resident - sb.u.stats_reply.st.resident);
	}
	CU_ASSERT(took_from_a > 0); /* B's faults evicted A's pages */
	pclient_region_fini(&ra);
	pclient_region_fini(&rb);
	pclient_close(a);
	pclient_close(b);
	pager_srv_stop(&s);
}

/*
 * The global CLOCK spares the pages a client keeps using: A holds 4 pages
 * and hits all of them between every two faults of B, which scans 64 pages;
 * the budget is 8. The hand clears A's bits, A sets them again before it
 * comes back, and the victims are B's pages, which nobody touches twice:
 * A loses only a few pages in the first laps (taking referenced pages
 * instead would take A's all the time).
 */
static void test_global_clock_spares_hot(void)
{
	struct proto_policy fifo = pol("fifo");
	struct pclient_region ra, rb;
	struct pclient *a, *b;
	struct proto_msg sa, sb;
	uint32_t hot[4] = { 0, 1, 2, 3 };
	struct pager_srv s;
	char err[256];

	CU_ASSERT_FATAL(pager_srv_start(&s, 8, "--alloc=global"));
	a = pclient_connect(s.addr, 5000, err, sizeof(err));
	b = pclient_connect(s.addr, 5000, err, sizeof(err));
	CU_ASSERT_FATAL(a && b);
	CU_ASSERT_FATAL(pclient_register(a, 4, 4, 0, &fifo, &ra) == 0);
	CU_ASSERT_FATAL(pclient_register(b, 64, 8, 0, &fifo, &rb) == 0);
	CU_ASSERT_FATAL(pclient_replay(a, &ra, hot, 4) == 0);
	for (uint32_t p = 0; p < 64; p++) {
		CU_ASSERT_FATAL(pclient_replay(a, &ra, hot, 4) == 0);
		CU_ASSERT_FATAL(pclient_replay(b, &rb, &p, 1) == 0);
	}
	CU_ASSERT_FATAL(pclient_stats(a, ra.id, &sa) == 0);
	CU_ASSERT_FATAL(pclient_stats(b, rb.id, &sb) == 0);
	/* A's bits are all set when the hand first comes (every page was
	 * just mapped): the first laps clear everything and may take a few of
	 * A's pages; after that only B's. */
	CU_ASSERT(sa.u.stats_reply.st.evictions <= 8);
	CU_ASSERT_EQUAL(sa.u.stats_reply.st.faults - sa.u.stats_reply.st.evictions, 4);
	CU_ASSERT_EQUAL(sb.u.stats_reply.st.faults, 64);
	CU_ASSERT_EQUAL(sb.u.stats_reply.st.evictions, 60);
	CU_ASSERT_EQUAL(sb.u.stats_reply.st.resident, 4);
	pclient_region_fini(&ra);
	pclient_region_fini(&rb);
	pclient_close(a);
	pclient_close(b);
	pager_srv_stop(&s);
}

/* Two guests that together ask more than the budget, under global
 * replacement and under load control: both verify every byte (counts
 * depend on the interleaving: not asserted). A handed-over region is
 * refused there. */
static void test_guests_over_budget(void)
{
	static const char *const allocs[] = { "--alloc=global", "--alloc=pff", "--alloc=ws" };

	if (!kvm_usable())
		return test_skip("no usable /dev/kvm");
	for (size_t i = 0; i < 3; i++) {
		struct cmd_result r;
		struct pager_srv s;

		CU_ASSERT_FATAL(pager_srv_start(&s, 192, allocs[i]));
		r = run_shell("(for i in 1 2; do %s run --pager %s --workload random --pages 256 "
			      "--frames 256 --passes 8 & done; wait %%1; a=$?; wait %%2; echo rc $a $?)",
			      pflab_path(), s.addr);
		if (!strstr(r.out, "rc 0 0")) {
			printf("\n  %s: %s %s\n", allocs[i], r.out, r.err);
			CU_FAIL("a guest over the budget failed");
		}
		{
			char *first = strstr(r.err, "0 mismatches: data verified");

			CU_ASSERT(first && strstr(first + 1, "0 mismatches: data verified"));
		}
		cmd_result_free(&r);
		r = run_pflab("run --pager %s --workload random --pages 16 --frames 4 --trap uffd",
			      s.addr);
		CU_ASSERT_EQUAL(r.status, 2);
		CU_ASSERT(strstr(r.err, "a handed-over region needs fixed partitions") != NULL);
		cmd_result_free(&r);
		pager_srv_stop(&s);
	}
}


/* ---- kept regions (vmm/server/keep.c) --------------------------------- */

/* A REGISTER with a key: its bytes (the key after the policy block), and
 * the decoder's refusals: a bad key, keep without a key, a key's flag
 * without its bytes and the bytes without the flag. */
static void test_keep_bytes(void)
{
	static const char *const bad_keys[] = { "", "a b", "a/b", "k\x7f",
						"0123456789012345678901234567890123" };
	struct proto_msg m = { .type = PROTO_REGISTER, .seq = 1 }, d;
	uint8_t out[160], copy[160];
	char why[160];
	size_t n;

	m.u.reg.npages = 4;
	m.u.reg.page_size = 4096;
	m.u.reg.frames = 2;
	m.u.reg.store = PROTO_STORE_MEMORY;
	m.u.reg.flags = PROTO_REG_HANDOVER | PROTO_REG_KEY | PROTO_REG_KEEP;
	m.u.reg.policy = pol("fifo");
	snprintf(m.u.reg.key, sizeof(m.u.reg.key), "vm-1.a_B");
	n = proto_encode(&m, out, sizeof(out));
	CU_ASSERT_EQUAL_FATAL(n, 16 + 64 + 32);
	CU_ASSERT_EQUAL(out[12], 96); /* len */
	CU_ASSERT_EQUAL(out[16 + 13], 0x1c); /* flags */
	CU_ASSERT(memcmp(out + 16 + 64, "vm-1.a_B\0\0\0\0", 12) == 0);
	CU_ASSERT(all_bytes(out + 16 + 64 + 8, 0, 24));
	CU_ASSERT_EQUAL(proto_decode(out, n, &d, why, sizeof(why)), (long)n);
	CU_ASSERT(strcmp(d.u.reg.key, "vm-1.a_B") == 0 && d.u.reg.flags == m.u.reg.flags);
	for (size_t i = 0; i < sizeof(bad_keys) / sizeof(*bad_keys); i++) {
		CU_ASSERT(!proto_key_valid(bad_keys[i]));
		memcpy(copy, out, n);
		memset(copy + 16 + 64, 0, 32);
		memcpy(copy + 16 + 64, bad_keys[i], strnlen(bad_keys[i], 32));
		CU_ASSERT_EQUAL(proto_decode(copy, n, &d, why, sizeof(why)), -EBADMSG);
	}
	CU_ASSERT(proto_key_valid("0123456789012345678901234567890")); /* 31 */
	memcpy(copy, out, n);
	copy[16 + 13] = PROTO_REG_HANDOVER | PROTO_REG_KEEP; /* keep without a key */
	CU_ASSERT_EQUAL(proto_decode(copy, n, &d, why, sizeof(why)), -EBADMSG);
	copy[16 + 13] = PROTO_REG_HANDOVER; /* the key's bytes without its flag */
	CU_ASSERT_EQUAL(proto_decode(copy, n, &d, why, sizeof(why)), -EBADMSG);
	m.u.reg.flags = PROTO_REG_HANDOVER;
	n = proto_encode(&m, out, sizeof(out));
	CU_ASSERT_EQUAL_FATAL(n, 16 + 64);
	out[16 + 13] = PROTO_REG_HANDOVER | PROTO_REG_KEY; /* the flag without the bytes */
	CU_ASSERT_EQUAL(proto_decode(out, n, &d, why, sizeof(why)), -EBADMSG);
	out[16 + 13] = PROTO_REG_HANDOVER | PROTO_REG_KEEP; /* keep, no key, 64 bytes */
	CU_ASSERT_EQUAL(proto_decode(out, n, &d, why, sizeof(why)), -EBADMSG);
	out[16 + 13] = PROTO_REG_HANDOVER;
	CU_ASSERT_EQUAL(proto_decode(out, n, &d, why, sizeof(why)), (long)n);
}

/* Register region (npages, keyed) on a fresh connection: 0, or the errno
 * of the server's refusal with its text in why. The connection is left
 * open in *out (NULL: closed). */
static int keyed(const char *addr, uint32_t npages, const char *key, bool keep,
		 struct pclient **out, char *why, size_t whylen)
{
	struct proto_policy fifo = pol("fifo");
	struct pclient_region r;
	struct pclient *c = pclient_connect(addr, 5000, why, whylen);
	int rc;

	if (out)
		*out = NULL;
	if (!c)
		return -1;
	rc = pclient_register_keyed(c, npages, 2, PROTO_REG_HANDOVER | (keep ? PROTO_REG_KEEP : 0),
				    PROTO_STORE_MEMORY, &fifo, NULL, key, &r);
	if (rc) {
		snprintf(why, whylen, "%s", c->err);
		rc = c->last_errno ? c->last_errno : -1;
	} else {
		pclient_region_fini(&r);
	}
	if (out && !rc)
		*out = c;
	else
		pclient_close(c);
	return rc;
}

/* What the server refuses of a key, with its line, the connection kept:
 * a key in use, another geometry, the limits (a slot is reserved at the
 * REGISTER), keeping without the handed-over uffd. */
static void test_keep_refusals(void)
{
	struct proto_policy fifo = pol("fifo");
	struct pclient_region r;
	struct pclient *a, *c;
	struct pager_srv s;
	char why[256];

	CU_ASSERT_FATAL(pager_srv_start(&s, 16, "--keep-regions=2"));
	CU_ASSERT_EQUAL(keyed(s.addr, 8, "k1", true, &a, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(keyed(s.addr, 8, "k1", true, NULL, why, sizeof(why)), EBUSY);
	CU_ASSERT(strstr(why, "key 'k1' is in use by another region") != NULL);
	pclient_close(a);
	CU_ASSERT(wait_free(s.addr, 16));
	CU_ASSERT_EQUAL(keyed(s.addr, 4, "k1", false, NULL, why, sizeof(why)), EINVAL);
	CU_ASSERT(strstr(why, "key 'k1' keeps 8 pages of 4096 bytes, not 4 of 4096") != NULL);
	/* k1 is kept and k2 reserved: a third key finds no slot, k1 again does. */
	CU_ASSERT_EQUAL(keyed(s.addr, 8, "k2", true, &a, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(keyed(s.addr, 8, "k3", true, NULL, why, sizeof(why)), ENOSPC);
	CU_ASSERT(strstr(why, "all 2 kept regions of --keep-regions are taken") != NULL);
	CU_ASSERT_EQUAL(keyed(s.addr, 8, "k1", true, NULL, why, sizeof(why)), 0);
	CU_ASSERT(wait_free(s.addr, 16 - 2)); /* closed (a holds 2) */
	/* Taken back without keep: k1's slot is free again. */
	CU_ASSERT_EQUAL(keyed(s.addr, 8, "k1", false, NULL, why, sizeof(why)), 0);
	CU_ASSERT(wait_free(s.addr, 16 - 2));
	CU_ASSERT_EQUAL(keyed(s.addr, 8, "k3", true, NULL, why, sizeof(why)), 0);
	pclient_close(a);
	/* A key of no kept pages, without keep: a fresh region, nothing kept. */
	CU_ASSERT_EQUAL(keyed(s.addr, 4, "none", false, NULL, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(keyed(s.addr, 8, "none", false, NULL, why, sizeof(why)), 0);
	/* Keeping needs the uffd handed over; a key needs the memory store. */
	c = pclient_connect(s.addr, 5000, why, sizeof(why));
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(pclient_register_keyed(c, 4, 2, PROTO_REG_SAMPLED | PROTO_REG_KEEP,
					       PROTO_STORE_MEMORY, &fifo, NULL, "k9", &r), -1);
	CU_ASSERT(strstr(c->err, "keeping pages needs the uffd handed over") != NULL);
	CU_ASSERT_EQUAL(pclient_register_keyed(c, 4, 2, 0, PROTO_STORE_NONE, &fifo, NULL, "k9", &r),
			-1);
	CU_ASSERT(strstr(c->err, "a key needs the memory store") != NULL);
	CU_ASSERT_EQUAL(pclient_register_keyed(c, 4, 2, PROTO_REG_HANDOVER, PROTO_STORE_MEMORY,
					       &fifo, NULL, "bad key", &r), -1);
	CU_ASSERT(strstr(c->err, "'bad key' is not a key") != NULL);
	pclient_close(c);
	pager_srv_stop(&s);

	CU_ASSERT_FATAL(pager_srv_start(&s, 16, "--keep-pages=12"));
	CU_ASSERT_EQUAL(keyed(s.addr, 8, "k1", true, NULL, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(keyed(s.addr, 8, "k2", true, NULL, why, sizeof(why)), ENOSPC);
	CU_ASSERT(strstr(why, "keeping 8 pages: 4 of --keep-pages free") != NULL);
	CU_ASSERT_EQUAL(keyed(s.addr, 4, "k2", true, NULL, why, sizeof(why)), 0);
	/* k1 taken back without keep: its 8 pages are free again. */
	CU_ASSERT_EQUAL(keyed(s.addr, 8, "k3", true, NULL, why, sizeof(why)), ENOSPC);
	CU_ASSERT(strstr(why, "keeping 8 pages: 0 of --keep-pages free") != NULL);
	CU_ASSERT(wait_free(s.addr, 16)); /* every region closed */
	CU_ASSERT_EQUAL(keyed(s.addr, 8, "k1", false, NULL, why, sizeof(why)), 0);
	CU_ASSERT(wait_free(s.addr, 16));
	CU_ASSERT_EQUAL(keyed(s.addr, 8, "k3", true, NULL, why, sizeof(why)), 0);
	pager_srv_stop(&s);
}

/* Keys are per uid (SO_PEERCRED): another uid's same key is another
 * region; it neither sees nor takes the first one's pages. */
static void test_keep_per_uid(void)
{
	struct pager_srv s;
	char why[256];
	pid_t child;
	int st = 0;

	if (geteuid() != 0) {
		test_skip("not root: cannot connect as another uid");
		return;
	}
	CU_ASSERT_FATAL(pager_srv_start(&s, 16, "--allow-uid=65534"));
	chmod(s.path, 0777);
	CU_ASSERT_EQUAL(keyed(s.addr, 8, "shared", true, NULL, why, sizeof(why)), 0);
	child = fork();
	if (child == 0) {
		char e[256];

		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(3);
		/* Root's key keeps 8 pages: had it been found, 4 is a mismatch. */
		if (keyed(s.addr, 4, "shared", true, NULL, e, sizeof(e)) != 0)
			_exit(10);
		/* Its own now: the geometry it kept. */
		_exit(keyed(s.addr, 8, "shared", false, NULL, e, sizeof(e)) == EINVAL ? 20 : 11);
	}
	waitpid(child, &st, 0);
	CU_ASSERT(WIFEXITED(st));
	CU_ASSERT_EQUAL(WEXITSTATUS(st), 20);
	/* Root's is still there, 8 pages. */
	CU_ASSERT(wait_free(s.addr, 16));
	CU_ASSERT_EQUAL(keyed(s.addr, 4, "shared", false, NULL, why, sizeof(why)), EINVAL);
	CU_ASSERT(strstr(why, "keeps 8 pages") != NULL);
	CU_ASSERT(pager_srv_stop(&s));
}

/* A guest's run, once every earlier run's region is closed (the server's
 * frames all free): status, and its stderr in err (freed by the caller). */
static struct cmd_result keep_run(const char *addr, long frames, const char *wl, const char *more)
{
	CU_ASSERT(wait_free(addr, frames));
	return run_pflab("run --pager %s --workload %s --pages 64 --frames 16 --seed 5 %s --csv",
			 addr, wl, more);
}

static bool says(const struct cmd_result *r, const char *what)
{
	if (strstr(r->err, what))
		return true;
	printf("\n  expected '%s' in: %s\n", what, r->err);
	return false;
}

/* A guest writes every page and ends, keeping them; the next, with the
 * key, reads every byte back (handed over, or forwarded under the kvm
 * trap); taken back without keep, they are gone. Without a key, the next
 * sees a fresh region. */
static void test_keep_guests(void)
{
	struct cmd_result r;
	struct pager_srv s;

	if (!kvm_usable())
		return test_skip("no usable /dev/kvm");
	CU_ASSERT_FATAL(pager_srv_start(&s, 32, NULL));
	r = keep_run(s.addr, 32, "keep-write", "--trap uffd --pager-keep vm1");
	CU_ASSERT(r.status == 0 && says(&r, "keep-write: 64 pages written") &&
		  says(&r, "0 mismatches: data verified"));
	cmd_result_free(&r);
	r = keep_run(s.addr, 32, "keep-check", "--trap uffd --pager-keep vm1");
	CU_ASSERT(r.status == 0 && says(&r, "keep-check: 64 kept, 0 fresh") &&
		  says(&r, "0 mismatches: data verified"));
	cmd_result_free(&r);
	r = keep_run(s.addr, 32, "keep-check", "--pager-take vm1");
	CU_ASSERT(r.status == 0 && says(&r, "keep-check: 64 kept, 0 fresh") &&
		  says(&r, "0 mismatches: data verified"));
	CU_ASSERT_EQUAL(csv_value(r.out, "major"), 64); /* every page from the store */
	cmd_result_free(&r);
	r = keep_run(s.addr, 32, "keep-check", "--pager-take vm1");
	CU_ASSERT(r.status == 0 && says(&r, "keep-check: 0 kept, 64 fresh"));
	cmd_result_free(&r);
	/* drop, the default */
	r = keep_run(s.addr, 32, "keep-write", "--trap uffd");
	CU_ASSERT(r.status == 0 && says(&r, "0 mismatches: data verified"));
	cmd_result_free(&r);
	r = keep_run(s.addr, 32, "keep-check", "--trap uffd --pager-take vm1");
	CU_ASSERT(r.status == 0 && says(&r, "keep-check: 0 kept, 64 fresh"));
	cmd_result_free(&r);
	/* Another seed writes another version: the check is of the bytes. */
	r = keep_run(s.addr, 32, "keep-write", "--trap uffd --pager-keep vm2");
	CU_ASSERT_EQUAL(r.status, 0);
	cmd_result_free(&r);
	CU_ASSERT(wait_free(s.addr, 32));
	r = run_pflab("run --pager %s --workload keep-check --pages 64 --frames 16 --seed 6 "
		      "--trap uffd --pager-take vm2", s.addr);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT(strstr(r.err, "0 mismatches") == NULL);
	cmd_result_free(&r);
	CU_ASSERT(wait_free(s.addr, 32));
	pager_srv_stop(&s);
}

/* A guest killed mid-run, once it has written every page: its resident
 * pages (mapped in its memfd, or in the server's frames) are written to
 * the kept store at the close; the next guest reads every byte back.
 * With a frame per page nothing was evicted: every byte comes from the
 * close. */
static void test_keep_killed(void)
{
	char out[256];
	struct cmd_result r;
	struct pager_srv s;
	bool written = false;
	pid_t pid;

	if (!kvm_usable())
		return test_skip("no usable /dev/kvm");
	snprintf(out, sizeof(out), "%s/keep-killed.out", scratch_dir());
	CU_ASSERT_FATAL(pager_srv_start(&s, 64, NULL));
	pid = fork();
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd, 1);
		dup2(fd, 2);
		/* As many frames as pages: every page stays resident and
		 * dirty, none was ever written to the store. */
		execl(pflab_path(), "pflab", "run", "--pager", s.addr, "--trap", "uffd", "--workload",
		      "keep-write", "--pages", "64", "--frames", "64", "--seed", "5", "--passes",
		      "1000000", "--pager-keep", "vmk", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 6000 && !written; i++) { /* a hang guard, not a timing */
		written = strstr(slurp(out), "keep-write: 64 pages written") != NULL;
		if (!written)
			nap_ms(10);
	}
	CU_ASSERT(written);
	kill(pid, SIGKILL);
	CU_ASSERT_EQUAL(reap(pid), 128 + SIGKILL);
	CU_ASSERT(strstr(slurp(out), "data verified") == NULL); /* it was mid-run */
	CU_ASSERT(wait_free(s.addr, 64));
	r = keep_run(s.addr, 64, "keep-check", "--trap uffd --pager-take vmk");
	CU_ASSERT(r.status == 0 && says(&r, "keep-check: 64 kept, 0 fresh") &&
		  says(&r, "0 mismatches: data verified"));
	cmd_result_free(&r);
	pager_srv_stop(&s);
}

/* The command line: a bad key, keep where the server could not hold every
 * byte, a key without --pager: exit 2, one line; the server's refusals
 * (another geometry, the limit) too, before the guest starts. */
static void test_keep_cli(void)
{
	static const struct { const char *args, *says; } bad[] = {
		{ "--pager unix:/tmp/x.sock --trap uffd --pager-keep 'a b'",
		  "pflab run: --pager-keep: 'a b' is not a key" },
		{ "--pager unix:/tmp/x.sock --pager-take ''", "pflab run: --pager-take: '' is not a key" },
		{ "--pager unix:/tmp/x.sock --pager-keep k", "--pager-keep needs the uffd handed over" },
		{ "--pager unix:/tmp/x.sock --trap uffd --pager-forward --pager-keep k",
		  "--pager-keep needs the uffd handed over" },
		{ "--trap uffd --pager-keep k", "--pager-keep and --pager-take go with --pager" },
		{ "--pager unix:/tmp/x.sock --trap uffd --pager-keep k --pager-take k",
		  "give one of --pager-keep and --pager-take, once" },
	};
	struct cmd_result r;
	struct pager_srv s;

	if (!kvm_usable())
		return test_skip("no usable /dev/kvm");
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		r = run_pflab("run --workload keep-check --pages 16 --frames 4 %s", bad[i].args);
		CU_ASSERT_EQUAL(r.status, 2);
		CU_ASSERT(says(&r, bad[i].says));
		cmd_result_free(&r);
	}
	CU_ASSERT_FATAL(pager_srv_start(&s, 32, "--keep-regions=1"));
	r = keep_run(s.addr, 32, "keep-write", "--trap uffd --pager-keep g");
	CU_ASSERT_EQUAL(r.status, 0);
	cmd_result_free(&r);
	CU_ASSERT(wait_free(s.addr, 32));
	r = run_pflab("run --pager %s --workload keep-check --pages 32 --frames 16 --trap uffd "
		      "--pager-keep g", s.addr);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT(says(&r, "key 'g' keeps 64 pages of 4096 bytes, not 32 of 4096"));
	cmd_result_free(&r);
	r = keep_run(s.addr, 32, "keep-write", "--trap uffd --pager-keep h");
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT(says(&r, "all 1 kept regions of --keep-regions are taken"));
	cmd_result_free(&r);
	pager_srv_stop(&s);
}


/*
 * --alloc ws with the server's own clock: two trace clients each fault 6
 * pages of a budget of 8; with tau an hour their working sets stay 6 and
 * 6, 12 > 8, and the next period suspends one, whose pages are evicted:
 * the frames free (0 before) become at least 2. Waited for, bounded: the
 * event, not its time, is asserted.
 */
static void test_ws_suspends(void)
{
	struct proto_policy fifo = pol("fifo");
	struct pclient_region ra, rb;
	uint32_t refs[6] = { 0, 1, 2, 3, 4, 5 };
	struct pclient *a, *b;
	struct pager_srv s;
	char err[256];
	long after = 0;

	CU_ASSERT_FATAL(pager_srv_start(&s, 8, "--alloc=ws --tau=3600000 --quantum=3600000"));
	a = pclient_connect(s.addr, 5000, err, sizeof(err));
	b = pclient_connect(s.addr, 5000, err, sizeof(err));
	CU_ASSERT_FATAL(a && b);
	CU_ASSERT_FATAL(pclient_register(a, 16, 6, 0, &fifo, &ra) == 0);
	CU_ASSERT_FATAL(pclient_register(b, 16, 6, 0, &fifo, &rb) == 0);
	CU_ASSERT_FATAL(pclient_replay(a, &ra, refs, 6) == 0);
	/* A decision may come while B faults (then B waits for the quantum,
	 * an hour, and its replay fails after its 5 s: not asserted). */
	(void)pclient_replay(b, &rb, refs, 6);
	for (int i = 0; i < 500 && after < 2; i++) { /* a hang guard: 5 s */
		after = frames_free(s.addr);
		if (after < 2)
			nap_ms(10);
	}
	CU_ASSERT(after >= 2);
	pclient_region_fini(&ra);
	pclient_region_fini(&rb);
	pclient_close(a);
	pclient_close(b);
	pager_srv_stop(&s);
}

static CU_TestInfo pagerrun_tests[] = {
	{ "SAMPLE and TOUCH bytes, store and flags validated", test_new_message_bytes },
	{ "a data region's scripted session gives the hand-worked answers",
	  test_scripted_data_session },
	{ "what would lose a page's bytes is refused", test_data_refusals },
	{ "a write-back error is returned by exactly one sync", test_writeback_error_synced_once },
	{ "a handover's descriptors are checked", test_handover_refusals },
	{ "two guests at once verify, with the in-process counts", test_two_guests_exact },
	{ "a killed client frees its frames, the server goes on", test_client_killed },
	{ "a killed server fails its guest with one line", test_server_killed },
	{ "a silent server fails its guest in bound, a paused one does not", test_server_stopped },
	{ "page-in and write-back errors reach the guest's run", test_guest_injected_errors },
	{ "run --pager refuses what needs the in-process pager", test_run_pager_refusals },
	{ "global replacement keeps every client within one budget", test_global_budget },
	{ "the global CLOCK spares the pages a client keeps using", test_global_clock_spares_hot },
	{ "guests over the budget verify, global, pff and ws", test_guests_over_budget },
	{ "--alloc ws suspends a client when the working sets exceed the frames",
	  test_ws_suspends },
	{ "a keyed REGISTER's bytes, bad keys refused", test_keep_bytes },
	{ "what the server refuses of a key", test_keep_refusals },
	{ "keys are per uid", test_keep_per_uid },
	{ "kept pages come back to the next guest, dropped ones do not", test_keep_guests },
	{ "a killed guest's pages are kept", test_keep_killed },
	{ "run --pager-keep refuses misuse with exit 2", test_keep_cli },
	CU_TEST_INFO_NULL,
};
TEST_SUITE("pagerrun", pagerrun_tests);
