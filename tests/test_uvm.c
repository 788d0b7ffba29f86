// SPDX-License-Identifier: MIT
/*
 * The user-level paging library (docs/uvm.md): its example program; exact
 * counts on small cases (a loop larger than the frames faults on every
 * access); pin, prefetch, flush with injected write errors, unmap writing
 * back, a shared file mapping, page sizes; several regions with different
 * policies and 2000 regions at once; the fail-closed paths in child
 * processes (SIGBUS with the address for a failed read under both traps and
 * for a filler that does not answer, an unrelated fault still crashing, no
 * temporary file left by a killed program); the refusals; and pflab proc:
 * verified workloads, identical counts under both traps, the workloads'
 * golden counts and fault sequences, the same as pflab run's guest, and
 * exact agreement with pflab sim on generated traces.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "uvm.h"
#include "uvm_internal.h"
#include "workload.h"

#define PG 4096u

static const enum uvm_trap traps[] = { UVM_TRAP_UFFD, UVM_TRAP_SIGSEGV };

/* The ways a fault reaches the library: uffd (a filler reads it), uffd with
 * its sigbus userfaultfd (SIGBUS on the faulting thread), sigsegv. */
static const struct {
	enum uvm_trap trap;
	bool sigbus;
	const char *name;
} modes[] = {
	{ UVM_TRAP_UFFD, false, "uffd" },
	{ UVM_TRAP_UFFD, true, "uffd sigbus" },
	{ UVM_TRAP_SIGSEGV, false, "sigsegv" },
};
#define NMODES (sizeof(modes) / sizeof(modes[0]))

static struct uvm *open_ctx(void)
{
	char err[256];
	struct uvm *u = uvm_open(NULL, err, sizeof(err));

	if (!u)
		fprintf(stderr, "uvm_open: %s\n", err);
	return u;
}

static struct uvm_region *map(struct uvm *u, struct uvm_config c)
{
	char err[256];
	struct uvm_region *r = uvm_map(u, &c, err, sizeof(err));

	if (!r)
		fprintf(stderr, "uvm_map: %s\n", err);
	return r;
}

static struct uvm_stats stats_of(struct uvm_region *r)
{
	struct uvm_stats st;

	uvm_stats(r, &st);
	return st;
}

/* A scratch file of n pages, page i filled with byte (i * 7 + 1). */
static char *make_file(const char *name, unsigned n)
{
	static char path[512];
	unsigned char buf[PG];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", scratch_dir(), name);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	for (unsigned i = 0; i < n; i++) {
		memset(buf, (int)(i * 7 + 1), sizeof(buf));
		CU_ASSERT_EQUAL(fwrite(buf, 1, sizeof(buf), f), sizeof(buf));
	}
	fclose(f);
	return path;
}

static int file_byte(const char *path, off_t at)
{
	unsigned char b;
	int fd = open(path, O_RDONLY);
	ssize_t n = pread(fd, &b, 1, at);

	close(fd);
	return n == 1 ? b : -1;
}

/* ---- the example of docs/uvm.md ------------------------------------------ */

static void test_example(void)
{
	struct cmd_result r = run_shell("%s/uvm-example", build_dir());

	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out, "faults 520 major 264 writebacks 256, 0 bad pages\n");
	if (r.status)
		fprintf(stderr, "uvm-example: %s%s\n", r.out, r.err);
	cmd_result_free(&r);
}

/* ---- exact counts ------------------------------------------------------------ */

/* A loop over P pages with F < P frames: FIFO, CLOCK and LRU (which sees no
 * hits) fault on every access; with P <= F, only on the first touches. */
static void test_loop_counts(void)
{
	static const char *const pols[] = { "fifo", "clock", "lru" };

	for (size_t t = 0; t < 2; t++)
		for (size_t k = 0; k < 3; k++) {
			struct uvm *u = open_ctx();
			struct uvm_region *r = map(u, (struct uvm_config){
				.pages = 20, .frames = 8, .policy = pols[k], .trap = traps[t],
				.store = UVM_STORE_MEMORY });
			struct uvm_region *small = map(u, (struct uvm_config){
				.pages = 8, .frames = 8, .policy = pols[k], .trap = traps[t],
				.store = UVM_STORE_MEMORY });
			volatile unsigned char *p, *q;
			unsigned bad = 0;

			CU_ASSERT_PTR_NOT_NULL_FATAL(r);
			CU_ASSERT_PTR_NOT_NULL_FATAL(small);
			p = uvm_addr(r);
			q = uvm_addr(small);
			for (unsigned pass = 0; pass < 3; pass++)
				for (unsigned i = 0; i < 20; i++) {
					if (pass == 0)
						p[i * PG + 9] = (unsigned char)(i + 1);
					else
						bad += p[i * PG + 9] != (unsigned char)(i + 1);
					if (i < 8)
						q[i * PG] = (unsigned char)pass;
				}
			CU_ASSERT_EQUAL(bad, 0);
			CU_ASSERT_EQUAL(stats_of(r).faults, 60);
			CU_ASSERT_EQUAL(stats_of(r).major, 40);
			CU_ASSERT_EQUAL(stats_of(r).minor, 20);
			/* every page is written on the first pass and evicted once dirty */
			CU_ASSERT_EQUAL(stats_of(r).writebacks, 20);
			CU_ASSERT_EQUAL(stats_of(small).faults, 8);
			CU_ASSERT_EQUAL(stats_of(small).evictions, 0);
			uvm_close(u);
		}
}

/* ---- pin, prefetch, flush ----------------------------------------------------- */

static void test_pin(void)
{
	for (size_t t = 0; t < 2; t++) {
		struct uvm *u = open_ctx();
		struct uvm_region *r = map(u, (struct uvm_config){
			.pages = 32, .frames = 4, .policy = "clock", .trap = traps[t] });
		volatile unsigned char *p;
		uint64_t before;

		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		p = uvm_addr(r);
		CU_ASSERT_EQUAL(uvm_pin(r, (void *)p, 2 * PG), 0);
		p[0] = 11;
		p[PG] = 12;
		for (unsigned pass = 0; pass < 3; pass++)
			for (unsigned i = 2; i < 32; i++)
				p[i * PG] = (unsigned char)i;
		before = stats_of(r).faults;
		CU_ASSERT_EQUAL(p[0], 11);
		CU_ASSERT_EQUAL(p[PG], 12);
		CU_ASSERT_EQUAL(stats_of(r).faults, before); /* pinned: still there */
		CU_ASSERT_EQUAL(stats_of(r).faults, 2 + 3 * 30);
		/* 2 pinned + 2 more: a fifth cannot be pinned */
		CU_ASSERT_EQUAL(uvm_pin(r, (void *)(p + 2 * PG), 2 * PG), 0);
		CU_ASSERT_EQUAL(uvm_pin(r, (void *)(p + 4 * PG), PG), -ENOSPC);
		CU_ASSERT(strstr(uvm_strerror(r), "pinned") != NULL);
		CU_ASSERT_EQUAL(uvm_unpin(r, (void *)p, 4 * PG), 0);
		CU_ASSERT_EQUAL(uvm_pin(r, (void *)(p + 4 * PG), PG), 0);
		/* outside the region */
		CU_ASSERT_EQUAL(uvm_pin(r, (void *)(p + 32 * PG), PG), -EINVAL);
		uvm_close(u);
	}
}

static void test_prefetch(void)
{
	for (size_t t = 0; t < 2; t++) {
		struct uvm *u = open_ctx();
		char *path = make_file("prefetch.dat", 16);
		struct uvm_region *r = map(u, (struct uvm_config){
			.pages = 16, .frames = 8, .policy = "fifo", .trap = traps[t],
			.store = UVM_STORE_FILE, .file = path });
		volatile unsigned char *p;
		unsigned bad = 0;

		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		p = uvm_addr(r);
		CU_ASSERT_EQUAL(uvm_prefetch(r, (void *)(p + 3 * PG), 5 * PG), 0);
		CU_ASSERT_EQUAL(stats_of(r).faults, 5);
		CU_ASSERT_EQUAL(stats_of(r).major, 5);
		CU_ASSERT_EQUAL(stats_of(r).prefetched, 5);
		for (unsigned i = 3; i < 8; i++)
			bad += p[i * PG + 77] != (unsigned char)(i * 7 + 1);
		CU_ASSERT_EQUAL(bad, 0);
		CU_ASSERT_EQUAL(stats_of(r).faults, 5); /* no fault on a prefetched page */
		CU_ASSERT_EQUAL(uvm_unmap(r, false), 0);
		uvm_close(u);
	}
}

/* Read-ahead: a major fault brings the next pages too. */
static void test_read_ahead(void)
{
	struct uvm *u = open_ctx();
	char *path = make_file("ahead.dat", 16);
	struct uvm_region *r = map(u, (struct uvm_config){
		.pages = 16, .frames = 16, .policy = "fifo", .trap = UVM_TRAP_UFFD,
		.store = UVM_STORE_FILE, .file = path, .read_ahead = 3 });
	volatile unsigned char *p;
	unsigned bad = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	p = uvm_addr(r);
	for (unsigned i = 0; i < 16; i++)
		bad += p[i * PG] != (unsigned char)(i * 7 + 1);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(stats_of(r).faults, 16);
	CU_ASSERT_EQUAL(stats_of(r).prefetched, 12); /* 4 faults, each with 3 more */
	uvm_close(u);
}

/*
 * Flush with an injected write error: the flush returns it, the page stays
 * dirty, the next flush writes it. An eviction's write error: the pager
 * takes another victim, the next flush reports the error once.
 */
static void test_flush_errors(void)
{
	for (size_t t = 0; t < 2; t++) {
		char *path = make_file("flush.dat", 4);
		struct uvm *u = open_ctx();
		struct uvm_region *r = map(u, (struct uvm_config){
			.pages = 4, .frames = 2, .policy = "fifo", .trap = traps[t],
			.store = UVM_STORE_FILE, .file = path, .inject = "write:eio@at=1" });
		volatile unsigned char *p;

		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		p = uvm_addr(r);
		p[100] = 0xaa;
		CU_ASSERT_EQUAL(uvm_flush(r, NULL, 0), -EIO);
		CU_ASSERT_EQUAL(file_byte(path, 100), 1); /* not written */
		CU_ASSERT_EQUAL(stats_of(r).writeback_errors, 1);
		CU_ASSERT_EQUAL(uvm_flush(r, NULL, 0), 0); /* still dirty: written now */
		CU_ASSERT_EQUAL(file_byte(path, 100), 0xaa);
		CU_ASSERT_EQUAL(uvm_flush(r, NULL, 0), 0);
		/* a write after a flush dirties the page again */
		p[100] = 0xbb;
		CU_ASSERT_EQUAL(uvm_flush(r, (void *)p, PG), 0);
		CU_ASSERT_EQUAL(file_byte(path, 100), 0xbb);
		CU_ASSERT_EQUAL(stats_of(r).wp_faults, 1);
		CU_ASSERT_EQUAL(uvm_unmap(r, false), 0);

		path = make_file("evict.dat", 4);
		r = map(u, (struct uvm_config){
			.pages = 4, .frames = 2, .policy = "fifo", .trap = traps[t],
			.store = UVM_STORE_FILE, .file = path, .inject = "write:enospc@at=1" });
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		p = uvm_addr(r);
		p[0] = 0x10;
		p[PG] = 0x11;
		p[2 * PG] = 0x12; /* evicts page 0: fails; page 1 goes instead */
		CU_ASSERT_EQUAL(stats_of(r).writeback_errors, 1);
		CU_ASSERT_EQUAL(stats_of(r).writebacks, 1);
		CU_ASSERT_EQUAL(file_byte(path, PG), 0x11);
		CU_ASSERT_EQUAL(p[0], 0x10); /* resident and dirty: no fault */
		CU_ASSERT_EQUAL(uvm_flush(r, NULL, 0), -ENOSPC);
		CU_ASSERT_EQUAL(file_byte(path, 0), 0x10); /* the flush wrote it */
		CU_ASSERT_EQUAL(uvm_flush(r, NULL, 0), 0);  /* reported once */
		p[3 * PG] = 0x13; /* dirty, never flushed */
		CU_ASSERT_EQUAL(uvm_unmap(r, false), 0);
		CU_ASSERT_EQUAL(file_byte(path, 2 * PG), 0x12);
		CU_ASSERT_EQUAL(file_byte(path, 3 * PG), 0x13); /* unmap wrote it back */
		uvm_close(u);
	}
}

/* unmap keeps a region whose write-back fails; discard drops it. */
static void test_unmap_keeps(void)
{
	char *path = make_file("keep.dat", 4);
	struct uvm *u = open_ctx();
	struct uvm_region *r = map(u, (struct uvm_config){
		.pages = 4, .frames = 4, .policy = "clock", .trap = UVM_TRAP_SIGSEGV,
		.store = UVM_STORE_FILE, .file = path, .inject = "write:eio@every=1" });
	volatile unsigned char *p;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	p = uvm_addr(r);
	p[5] = 0x55;
	CU_ASSERT_EQUAL_FATAL(uvm_unmap(r, false), -EIO);
	CU_ASSERT(strstr(uvm_strerror(r), "stays mapped") != NULL);
	CU_ASSERT_EQUAL(p[5], 0x55); /* still there */
	CU_ASSERT_EQUAL(uvm_unmap(r, true), 0);
	CU_ASSERT_EQUAL(file_byte(path, 5), 1);
	uvm_close(u);
}

/* A shared file mapping at an offset, 16 KiB pages; writes reach the file. */
static void test_file_mapping(void)
{
	for (size_t t = 0; t < 2; t++) {
		char *path = make_file("shared.dat", 24);
		struct uvm *u = open_ctx();
		struct uvm_region *r = map(u, (struct uvm_config){
			.pages = 4, .page_size = 4 * PG, .frames = 2, .policy = "clock",
			.trap = traps[t], .store = UVM_STORE_FILE, .file = path,
			.file_offset = 8 * PG });
		volatile unsigned char *p;
		unsigned bad = 0;

		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		CU_ASSERT_EQUAL(uvm_page_size(r), 4 * PG);
		CU_ASSERT_EQUAL(uvm_length(r), 16 * PG);
		p = uvm_addr(r);
		for (unsigned i = 0; i < 16; i++) /* file pages 8..23 */
			bad += p[i * PG + 3] != (unsigned char)((8 + i) * 7 + 1);
		CU_ASSERT_EQUAL(bad, 0);
		CU_ASSERT_EQUAL(stats_of(r).faults, 4); /* one per 16 KiB page */
		p[5 * PG + 1] = 0xee;
		CU_ASSERT_EQUAL(uvm_flush(r, NULL, 0), 0);
		CU_ASSERT_EQUAL(file_byte(path, 13 * PG + 1), 0xee);
		CU_ASSERT_EQUAL(file_byte(path, 7 * PG), 7 * 7 + 1); /* before the offset: untouched */
		uvm_close(u);
	}
}

/* A store of the program's own: a page never written reads as zeros. */
struct mem_store {
	unsigned char pages[8][PG];
	unsigned reads, writes;
};

static int cb_read(void *ctx, uint64_t page, void *buf, size_t len)
{
	struct mem_store *m = ctx;

	m->reads++;
	memcpy(buf, m->pages[page], len);
	return 0;
}

static int cb_write(void *ctx, uint64_t page, const void *buf, size_t len)
{
	struct mem_store *m = ctx;

	m->writes++;
	memcpy(m->pages[page], buf, len);
	return 0;
}

static void test_callbacks(void)
{
	static struct mem_store m;
	struct uvm *u = open_ctx();
	struct uvm_region *r;
	volatile unsigned char *p;

	memset(&m, 0, sizeof(m));
	r = map(u, (struct uvm_config){
		.pages = 8, .frames = 2, .policy = "fifo", .trap = UVM_TRAP_UFFD,
		.store = UVM_STORE_CALLBACKS,
		.callbacks = { cb_read, cb_write, &m, .zero_first = true } });
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	p = uvm_addr(r);
	for (unsigned i = 0; i < 8; i++)
		p[i * PG] = (unsigned char)(i + 100);
	CU_ASSERT_EQUAL(m.reads, 0);
	CU_ASSERT_EQUAL(m.writes, 6);
	CU_ASSERT_EQUAL(p[0], 100);
	CU_ASSERT_EQUAL(m.reads, 1);
	CU_ASSERT_EQUAL(m.pages[3][0], 103);
	uvm_close(u);
}

/* ---- several OS threads faulting one region ---------------------------------- */

/*
 * A store that holds a read until the other thread's fault has reached the
 * pager: same_page, until a fault waits for this read (inflight_waits);
 * otherwise until two reads are in flight at once. No timing: a store that
 * gives up after its bound (20 s) marks the test failed.
 */
struct gate {
	struct uvm_region *volatile r;
	bool same_page;
	unsigned reads[16];
	unsigned on_fault;      /* faults reported to on_fault */
	unsigned started;
	int gave_up;
};

static int gate_read(void *ctx, uint64_t page, void *buf, size_t len)
{
	struct gate *g = ctx;
	unsigned i;

	__atomic_add_fetch(&g->reads[page], 1, __ATOMIC_ACQ_REL);
	__atomic_add_fetch(&g->started, 1, __ATOMIC_ACQ_REL);
	for (i = 0; i < 20000; i++) {
		struct uvm_stats st;

		if (g->same_page) {
			uvm_stats(g->r, &st);
			if (st.inflight_waits >= 1)
				break;
		} else if (__atomic_load_n(&g->started, __ATOMIC_ACQUIRE) >= 2) {
			break;
		}
		usleep(1000);
	}
	if (i == 20000)
		__atomic_store_n(&g->gave_up, 1, __ATOMIC_RELEASE);
	memset(buf, (int)(page * 7 + 1), len);
	return 0;
}

static void gate_on_fault(void *ctx, uint64_t page, bool write)
{
	(void)page, (void)write;
	__atomic_add_fetch(&((struct gate *)ctx)->on_fault, 1, __ATOMIC_RELAXED);
}

static int gate_write(void *ctx, uint64_t page, const void *buf, size_t len)
{
	(void)ctx, (void)page, (void)buf, (void)len;
	return 0;
}

struct toucher {
	pthread_t t;
	volatile unsigned char *at;
	unsigned char got;
};

static void *touch_main(void *arg)
{
	struct toucher *t = arg;

	t->got = *t->at;
	return NULL;
}

static void two_threads(enum uvm_trap trap, bool same_page)
{
	char err[256];
	struct uvm *u = uvm_open(&(struct uvm_options){ .fillers = 2 }, err, sizeof(err));
	static struct gate g;
	struct toucher a, b;
	struct uvm_region *r;
	volatile unsigned char *p;
	struct uvm_stats st;
	unsigned pa = 7, pb = same_page ? 7 : 9;

	CU_ASSERT_PTR_NOT_NULL_FATAL(u);
	memset(&g, 0, sizeof(g));
	g.same_page = same_page;
	r = map(u, (struct uvm_config){
		.pages = 16, .frames = 8, .policy = "fifo", .trap = trap,
		.store = UVM_STORE_CALLBACKS, .callbacks = { gate_read, gate_write, &g, false },
		.fill_timeout_ns = 60000000000ull, .on_fault = gate_on_fault, .on_fault_ctx = &g });
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	g.r = r;
	p = uvm_addr(r);
	a = (struct toucher){ .at = p + pa * PG + 5 };
	b = (struct toucher){ .at = p + pb * PG + 6 };
	CU_ASSERT_EQUAL_FATAL(pthread_create(&a.t, NULL, touch_main, &a), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&b.t, NULL, touch_main, &b), 0);
	pthread_join(a.t, NULL);
	pthread_join(b.t, NULL);
	/* uffd: the first filler's UFFDIO_COPY wakes both threads, perhaps
	 * before the second filler has left its wait and counted it. */
	for (unsigned i = 0; i < 20000; i++) {
		uvm_stats(r, &st);
		if (!same_page || st.shared_reads)
			break;
		usleep(1000);
	}
	CU_ASSERT_EQUAL(g.gave_up, 0);
	CU_ASSERT_EQUAL(a.got, pa * 7 + 1);
	CU_ASSERT_EQUAL(b.got, pb * 7 + 1);
	if (same_page) {
		CU_ASSERT_EQUAL(g.reads[7], 1);
		CU_ASSERT_EQUAL(st.faults, 1);
		CU_ASSERT_EQUAL(st.major, 1);
		CU_ASSERT_EQUAL(st.inflight_waits, 1);
		CU_ASSERT_EQUAL(st.shared_reads, 1);
		CU_ASSERT_EQUAL(g.on_fault, 1); /* the shared one is no fault of its own */
	} else {
		CU_ASSERT_EQUAL(g.reads[7], 1);
		CU_ASSERT_EQUAL(g.reads[9], 1);
		CU_ASSERT_EQUAL(st.faults, 2);
		CU_ASSERT_EQUAL(st.shared_reads, 0);
	}
	if (g.gave_up || st.faults != (same_page ? 1u : 2u))
		fprintf(stderr, "%s, %s page: gave up %d, faults %llu, waits %llu, shared %llu\n",
			trap == UVM_TRAP_UFFD ? "uffd" : "sigsegv", same_page ? "same" : "other",
			g.gave_up, (unsigned long long)st.faults,
			(unsigned long long)st.inflight_waits, (unsigned long long)st.shared_reads);
	uvm_close(u);
}

/* Four threads read every page of a region with a free pool and its
 * daemon, from different starting pages: faults on one page meet, in the
 * pool or in flight; every word is what was written. Both traps. */
struct pool_reader {
	pthread_t t;
	volatile uint32_t *base;
	unsigned start, bad;
};

static void *pool_reader_main(void *arg)
{
	struct pool_reader *pr = arg;

	for (unsigned k = 0; k < 2 * 128; k++) {
		unsigned pg = (pr->start + k * 5) % 128;

		pr->bad += pr->base[(size_t)pg * (PG / 4) + 3] != pg + 1000;
	}
	return NULL;
}

static void test_threads_with_pool(void)
{
	for (size_t t = 0; t < 2; t++) {
		char err[256];
		struct uvm *u = uvm_open(&(struct uvm_options){ .fillers = 4 }, err, sizeof(err));
		struct pool_reader pr[4];
		struct uvm_region *r;
		volatile uint32_t *w;
		unsigned bad = 0;

		CU_ASSERT_PTR_NOT_NULL_FATAL(u);
		r = map(u, (struct uvm_config){ .pages = 128, .frames = 16, .trap = traps[t],
						.policy = "fifo", .pool_low = 2, .pool_high = 4 });
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		w = uvm_addr(r);
		for (unsigned pg = 0; pg < 128; pg++)
			w[(size_t)pg * (PG / 4) + 3] = pg + 1000;
		for (unsigned i = 0; i < 4; i++) {
			pr[i] = (struct pool_reader){ .base = w, .start = i * 32 };
			CU_ASSERT_EQUAL_FATAL(pthread_create(&pr[i].t, NULL, pool_reader_main, &pr[i]), 0);
		}
		for (unsigned i = 0; i < 4; i++) {
			pthread_join(pr[i].t, NULL);
			bad += pr[i].bad;
		}
		CU_ASSERT_EQUAL(bad, 0);
		CU_ASSERT_EQUAL(stats_of(r).pagein_errors, 0);
		uvm_close(u);
	}
}

/* Two threads fault the same page while its read is held: one read, one
 * fault, the second shares it; both see the page's bytes. */
static void test_same_page_one_read(void)
{
	for (size_t t = 0; t < 2; t++)
		two_threads(traps[t], true);
}

/* Two threads fault two pages: both reads are in flight at once (the store
 * holds each until the other has started), so neither waits for the other. */
static void test_other_pages_in_parallel(void)
{
	for (size_t t = 0; t < 2; t++)
		two_threads(traps[t], false);
}

/* A store that flips a byte of page 3 when it gives it back: the
 * workloads' checks must notice (they are what pflab proc's verdict rests on). */
static int bad_read(void *ctx, uint64_t page, void *buf, size_t len)
{
	int rc = cb_read(ctx, page, buf, len);

	if (page == 3)
		((unsigned char *)buf)[56] ^= 0x40; /* list: page 3's node stamp */
	return rc;
}

static void test_workload_notices(void)
{
	static struct mem_store m;
	static const enum uvm_workload_kind kinds[] = { UWL_SCAN, UWL_STRIDE, UWL_LIST, UWL_COPY };

	for (size_t k = 0; k < 4; k++) {
		struct uvm *u = open_ctx();
		struct uvm_region *r;
		struct uvm_workload w;

		memset(&m, 0, sizeof(m));
		r = map(u, (struct uvm_config){
			.pages = 8, .frames = 2, .policy = "fifo", .trap = traps[k % 2],
			.store = UVM_STORE_CALLBACKS,
			.callbacks = { bad_read, cb_write, &m, .zero_first = true } });
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		w = (struct uvm_workload){ .kind = kinds[k], .base = uvm_addr(r), .npages = 8,
					   .page_size = PG, .seed = 1 };
		CU_ASSERT_EQUAL(uvm_workload_run(&w), 0);
		CU_ASSERT(w.mismatches > 0);
		if (kinds[k] != UWL_COPY) /* copy's first bad word may be its copy's */
			CU_ASSERT(strstr(w.first_mismatch, "page 3 offset") != NULL);
		uvm_close(u);
	}
}

/* The pager's free pool and its daemon thread under a region: the daemon
 * evicts ahead of the faults while the program runs; every byte survives. */
static void test_pool(void)
{
	for (size_t t = 0; t < 2; t++) {
		struct uvm *u = open_ctx();
		struct uvm_region *r = map(u, (struct uvm_config){
			.pages = 64, .frames = 16, .policy = "clock", .trap = traps[t],
			.pool_low = 2, .pool_high = 6 });
		volatile unsigned char *p;
		unsigned bad = 0;

		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		p = uvm_addr(r);
		for (unsigned pass = 0; pass < 6; pass++)
			for (unsigned i = 0; i < 64; i += pass % 3 + 1)
				for (unsigned j = 0; j < PG; j += 1024) {
					unsigned char want = (unsigned char)(i * 3 + j / 1024 + (pass > 2));

					if (pass == 0 || pass == 3)
						p[i * PG + j] = want;
					else
						bad += p[i * PG + j] != want;
				}
		CU_ASSERT_EQUAL(bad, 0);
		CU_ASSERT(stats_of(r).faults > 64);
		CU_ASSERT(stats_of(r).resident <= 16);
		uvm_close(u);
	}
}

/* ---- several regions --------------------------------------------------------- */

static void test_policies_per_region(void)
{
	static const char *const pols[] = { "fifo", "clock", "lru", "random", "sieve", "arc" };
	struct uvm *u = open_ctx();
	struct uvm_region *r[6];
	unsigned bad = 0;

	for (size_t k = 0; k < 6; k++) {
		r[k] = map(u, (struct uvm_config){
			.pages = 40, .frames = 10, .policy = pols[k], .trap = traps[k % 2],
			.page_size = (k + 1) * PG });
		CU_ASSERT_PTR_NOT_NULL_FATAL(r[k]);
	}
	/* interleaved: each region's faults are its own */
	for (unsigned pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < 40; i++)
			for (size_t k = 0; k < 6; k++) {
				volatile unsigned char *p = uvm_addr(r[k]);
				size_t at = i * uvm_page_size(r[k]) + k;

				if (pass == 0)
					p[at] = (unsigned char)(i ^ k);
				else
					bad += p[at] != (unsigned char)(i ^ k);
			}
	CU_ASSERT_EQUAL(bad, 0);
	/* a loop of 40 pages over 10 frames: FIFO, CLOCK and LRU (no hits
	 * seen) fault on every access; the others keep some pages */
	for (size_t k = 0; k < 6; k++) {
		uint64_t f = stats_of(r[k]).faults;

		if (k < 3)
			CU_ASSERT_EQUAL(f, 80);
		CU_ASSERT(f >= 40 && f <= 80);
		CU_ASSERT_EQUAL(stats_of(r[k]).major, f - 40);
	}
	uvm_close(u);
}

static void test_thousands(void)
{
	enum { N = 2000 };
	static const char *const pols[] = { "fifo", "clock", "lru", "random" };
	struct uvm *u = open_ctx();
	struct uvm_region **r = calloc(N, sizeof(*r));
	unsigned bad = 0, made = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	for (size_t k = 0; k < N; k++) {
		r[k] = map(u, (struct uvm_config){
			.pages = 4, .frames = 2, .policy = pols[k % 4], .trap = traps[k % 2],
			.store = UVM_STORE_MEMORY });
		if (!r[k])
			break;
		made++;
	}
	CU_ASSERT_EQUAL_FATAL(made, N);
	for (size_t k = 0; k < N; k++)
		for (unsigned i = 0; i < 4; i++)
			((volatile unsigned char *)uvm_addr(r[k]))[i * PG] = (unsigned char)(k + i);
	for (size_t k = 0; k < N; k++)
		for (unsigned i = 0; i < 4; i++)
			bad += ((volatile unsigned char *)uvm_addr(r[k]))[i * PG] !=
			       (unsigned char)(k + i);
	CU_ASSERT_EQUAL(bad, 0);
	for (size_t k = 0; k < N; k += 2)
		CU_ASSERT_EQUAL(uvm_unmap(r[k], false), 0);
	uvm_close(u);
	free(r);
}

/* ---- refusals ------------------------------------------------------------------ */

static void expect_refused(struct uvm_config c, const char *why)
{
	char err[256] = "";
	struct uvm *u = open_ctx();
	struct uvm_region *r = uvm_map(u, &c, err, sizeof(err));

	CU_ASSERT_PTR_NULL(r);
	CU_ASSERT(strstr(err, why) != NULL);
	if (!strstr(err, why))
		fprintf(stderr, "expected '%s', got '%s'\n", why, err);
	CU_ASSERT(strchr(err, '\n') == NULL);
	uvm_close(u);
}

/*
 * uvm_map refuses the uffd trap on a kernel without UFFDIO_POISON (before
 * Linux 6.6): this machine's kernel has it, so the check is called on the
 * features word UFFDIO_API would grant there. The message is what uvm_map
 * passes on as it is (docs/uvm.md).
 */
static void test_uffd_needs_poison(void)
{
	const uint64_t poison = 1u << 14; /* Linux's UFFD_FEATURE_POISON */
	const uint64_t this_machine = 0x1ffff;
	char err[256] = "";

	CU_ASSERT_EQUAL(uvm_uffd_check_features(this_machine, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(uvm_uffd_check_features(poison, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(uvm_uffd_check_features(this_machine & ~poison, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "userfaultfd: this kernel has no UFFDIO_POISON (Linux 6.6+), "
				    "so a page that cannot be read could not reach the faulting "
				    "thread as an error: use the sigsegv trap");
	err[0] = '\0';
	CU_ASSERT_EQUAL(uvm_uffd_check_features(0, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "no UFFDIO_POISON"));
}

static void test_refusals(void)
{
	expect_refused((struct uvm_config){ .pages = 4, .frames = 2, .page_size = 5000 },
		       "not a multiple of 4096");
	expect_refused((struct uvm_config){ .pages = 4, .frames = 2, .policy = "nope" },
		       "unknown policy 'nope'");
	expect_refused((struct uvm_config){ .pages = 4, .frames = 0 }, "at least 1 frame");
	expect_refused((struct uvm_config){ .pages = 0, .frames = 2 }, "1 to");
	expect_refused((struct uvm_config){ .pages = 4, .frames = 2, .policy = "opt" },
		       "needs the future");
	expect_refused((struct uvm_config){ .pages = 4, .frames = 2, .store = UVM_STORE_FILE,
					    .file = "/nonexistent/x" }, "No such file");
	expect_refused((struct uvm_config){ .pages = 4, .frames = 2, .store = UVM_STORE_FILE,
					    .file = "/tmp", }, "Is a directory");
	expect_refused((struct uvm_config){ .pages = 4, .frames = 2,
					    .store = UVM_STORE_CALLBACKS }, "read and write");
	expect_refused((struct uvm_config){ .pages = 4, .frames = 2, .inject = "read:bogus@at=1" },
		       "inject:");
	expect_refused((struct uvm_config){ .pages = (size_t)1 << 30, .page_size = (size_t)1 << 40,
					    .frames = 2 }, "do not fit");
	expect_refused((struct uvm_config){ .pages = (size_t)1 << 28, .page_size = (size_t)1 << 24,
					    .frames = 2 }, "address space");
}

/* ---- failing closed, in child processes ----------------------------------------- */

static sigjmp_buf bus_jump;
static void *volatile bus_addr;
static volatile int bus_code;

static void on_bus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	bus_addr = si->si_addr;
	bus_code = si->si_code;
	siglongjmp(bus_jump, 1);
}

static int slow_calls;

static int slow_read(void *ctx, uint64_t page, void *buf, size_t len)
{
	(void)ctx;
	(void)page;
	if (slow_calls++ == 0)
		usleep(300000);
	memset(buf, 7, len);
	return 0;
}

/*
 * In a child: map per mode, read page 5; exit 10 if it got SIGBUS at the
 * page's address, 11 if it read something, other codes on setup errors.
 * mode 0: an injected read error; 1: a filler slower than the bound.
 */
static int sigbus_child(size_t m, int mode)
{
	struct sigaction sa = { .sa_sigaction = on_bus, .sa_flags = SA_SIGINFO };
	struct uvm *u = open_ctx();
	enum uvm_trap trap = modes[m].trap;
	struct uvm_config c = { .pages = 16, .frames = 4, .trap = trap, .sigbus = modes[m].sigbus };
	struct uvm_region *r;
	volatile unsigned char *p;
	struct uvm_stats st;

	if (mode == 0) {
		c.store = UVM_STORE_FILE;
		c.file = make_file("bus.dat", 16);
		c.inject = "read:eio@page=5/times=1";
	} else {
		c.store = UVM_STORE_CALLBACKS;
		c.callbacks = (struct uvm_store_callbacks){ slow_read, cb_write, NULL, false };
		c.fill_timeout_ns = 30000000;
	}
	sigaction(SIGBUS, &sa, NULL);
	r = map(u, c);
	if (!r)
		return 2;
	p = uvm_addr(r);
	if (mode == 0 && p[4 * PG] != 4 * 7 + 1)
		return 3; /* its neighbour reads fine */
	if (sigsetjmp(bus_jump, 1) == 0) {
		(void)p[5 * PG + 17];
		return 11;
	}
	if (bus_addr != (void *)(p + 5 * PG + 17))
		return 4;
	/* uffd: the kernel's SIGBUS for a poisoned page (BUS_MCEERR_AR, or
	 * BUS_ADRERR where the kernel is built without CONFIG_MEMORY_FAILURE,
	 * as this machine's); sigsegv: the library's, BUS_ADRERR, as for a
	 * mapped file that cannot be read. */
	if (mode == 0 && bus_code != BUS_ADRERR &&
	    !(trap == UVM_TRAP_UFFD && bus_code == BUS_MCEERR_AR))
		return 15;
	uvm_stats(r, &st);
	if (mode == 0 && st.pagein_errors != 1)
		return 5;
	if (mode == 1 && st.timeouts != 1)
		return 6;
	if (mode == 1) {
		/* The slow read ends: the page's bytes, never zeros, from then on
		 * (the store is fast after its first read). */
		volatile int tries = 0;
		int got;

		usleep(400000);
		/* Under uffd with sigbus an access's wait is bounded from the
		 * fault: on a loaded machine it may get SIGBUS again while the
		 * one filler is still installing the page; never other bytes. */
		if (sigsetjmp(bus_jump, 1) != 0) {
			if (++tries > 100)
				return 14;
			usleep(10000);
		}
		got = p[5 * PG + 17];
		/* No handler left holding the region (a SIGBUS handler that
		 * left by siglongjmp): unmapping it returns. */
		uvm_close(u);
		return got == 7 ? 10 : 12;
	}
	if (p[6 * PG] != 6 * 7 + 1)
		return 7; /* the region goes on working */
	if (sigsetjmp(bus_jump, 1) == 0) {
		/* The read would succeed now (the rule fails once): sigsegv
		 * tries it again at each access; uffd keeps the page poisoned
		 * until a prefetch. */
		unsigned char x = p[5 * PG + 17];

		return trap == UVM_TRAP_SIGSEGV && x == 5 * 7 + 1 ? 10 : 8;
	}
	if (trap != UVM_TRAP_UFFD)
		return 9;
	if (uvm_prefetch(r, (void *)(p + 5 * PG), PG) != 0 || p[5 * PG + 17] != 5 * 7 + 1)
		return 13;
	return 10;
}

static int child_status(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_read_error_sigbus(void)
{
	for (size_t t = 0; t < NMODES; t++) {
		pid_t pid;
		int status;

		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			alarm(20); /* a hang is a failure, not a stuck suite */
			_exit(sigbus_child(t, 0));
		}
		status = child_status(pid);
		CU_ASSERT_EQUAL(status, 10);
		if (status != 10)
			fprintf(stderr, "read error child (%s): status %d\n", modes[t].name, status);
	}
}

static void test_filler_timeout(void)
{
	for (size_t t = 0; t < 2; t++) { /* uffd, uffd sigbus */
		pid_t pid;
		int status;

		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			alarm(20);
			_exit(sigbus_child(t, 1));
		}
		status = child_status(pid);
		CU_ASSERT_EQUAL(status, 10);
		if (status != 10)
			fprintf(stderr, "filler timeout child (%s): status %d\n", modes[t].name,
				status);
	}
}

/* ---- a store that does not answer; green threads ------------------------------ */

/* Page 5's read is held until the test releases it (bounded: 20 s). */
static volatile int hold_release, hold_returned;

static int held_read(void *ctx, uint64_t page, void *buf, size_t len)
{
	(void)ctx;
	for (unsigned i = 0; page == 5 && !hold_release && i < 20000; i++)
		usleep(1000);
	memset(buf, (int)(page * 7 + 1), len);
	if (page == 5)
		hold_returned = 1;
	return 0;
}

struct held_run {
	enum uvm_trap trap;
	bool sigbus;
	struct uvm_region *r;
	int status;             /* 10: as expected */
};

/*
 * Page 5's store does not answer: the access gets SIGBUS at its address
 * within the bound (20 ms), counted in timeouts. Released, the store's
 * bytes arrive: an access sees them (or SIGBUS again, while the filler is
 * still installing them), never anything else.
 */
static void held_body(void *arg)
{
	struct held_run *h = arg;
	volatile unsigned char *p = uvm_addr(h->r);
	struct uvm_stats st;
	volatile int tries = 0;

	if (sigsetjmp(bus_jump, 1) == 0) {
		(void)p[5 * PG + 17];
		h->status = 11;
		return;
	}
	if (bus_addr != (void *)(p + 5 * PG + 17)) {
		h->status = 4;
		return;
	}
	uvm_stats(h->r, &st);
	if (st.timeouts != 1) {
		h->status = 6;
		return;
	}
	hold_release = 1;
	while (!hold_returned)
		usleep(1000);
	if (sigsetjmp(bus_jump, 1) != 0 && ++tries > 100) {
		h->status = 12;
		return;
	}
	h->status = p[5 * PG + 17] == 5 * 7 + 1 && p[6 * PG] == 6 * 7 + 1 ? 10 : 13;
}

static int held_child(size_t m, bool green)
{
	struct sigaction sa = { .sa_sigaction = on_bus, .sa_flags = SA_SIGINFO | SA_NODEFER };
	struct uvm *u = open_ctx();
	struct held_run h = { .trap = modes[m].trap, .sigbus = modes[m].sigbus, .status = 1 };
	char err[256];

	sigaction(SIGBUS, &sa, NULL);
	h.r = map(u, (struct uvm_config){
		.pages = 16, .frames = 4, .trap = h.trap, .sigbus = h.sigbus,
		.store = UVM_STORE_CALLBACKS,
		.callbacks = { held_read, gate_write, NULL, false }, .fill_timeout_ns = 20000000 });
	if (!h.r)
		return 2;
	if (green) {
		struct uvm_green *g = uvm_green_create(u, 1, 0, err, sizeof(err));

		if (!g || uvm_green_spawn(g, held_body, &h) != 0 || uvm_green_run(g) != 0)
			return 3;
		uvm_green_destroy(g);
	} else {
		held_body(&h);
	}
	return h.status;
}

static void test_store_timeout(void)
{
	for (int green = 0; green < 2; green++)
		for (size_t t = 0; t < NMODES; t++) {
			pid_t pid;
			int status;

			fflush(NULL);
			pid = fork();
			if (pid == 0) {
				alarm(30);
				_exit(held_child(t, green));
			}
			status = child_status(pid);
			CU_ASSERT_EQUAL(status, 10);
			if (status != 10)
				fprintf(stderr, "held store (%s%s): status %d\n", modes[t].name,
					green ? ", green" : "", status);
		}
}

/*
 * A green thread's fault does not stop its OS thread: page 3's read is held
 * until a second green thread, which touches no region, has run. Were the
 * carrier blocked in the fault, the second could not run and the store
 * would give up (after 20 s: a failure).
 */
struct handover {
	volatile int other_ran;
	int gave_up;
	unsigned char got;
	volatile unsigned char *p;
};

static int handover_read(void *ctx, uint64_t page, void *buf, size_t len)
{
	struct handover *h = ctx;
	unsigned i;

	for (i = 0; page == 3 && !h->other_ran && i < 20000; i++)
		usleep(1000);
	if (i == 20000)
		h->gave_up = 1;
	memset(buf, (int)(page * 7 + 1), len);
	return 0;
}

static void faulter(void *arg)
{
	struct handover *h = arg;

	h->got = h->p[3 * PG + 9];
	/* A first write to the page now mapped needs no I/O: served at once,
	 * the thread is not parked for it. */
	h->p[3 * PG + 10] = 99;
}

static void other(void *arg)
{
	((struct handover *)arg)->other_ran = 1;
}

static void test_green_hands_over(void)
{
	/* uffd, sigsegv, and sigsegv without a bound (whose OS threads serve
	 * their faults in the handler: a green thread's is still handed over). */
	for (size_t t = 0; t < 4; t++) {
		struct uvm *u = open_ctx();
		static struct handover h;
		struct uvm_green_stats gs;
		struct uvm_region *r;
		struct uvm_green *g;
		struct uvm_stats st;
		char err[256];

		memset((void *)&h, 0, sizeof(h));
		r = map(u, (struct uvm_config){
			.pages = 8, .frames = 4, .trap = traps[t == 1 || t == 2],
			.sigbus = t == 3, .store = UVM_STORE_CALLBACKS,
			.callbacks = { handover_read, gate_write, &h, false },
			.fill_timeout_ns = t == 2 ? UVM_TIMEOUT_NONE : 60000000000ull });
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		h.p = uvm_addr(r);
		g = uvm_green_create(u, 2, 0, err, sizeof(err));
		CU_ASSERT_PTR_NOT_NULL_FATAL(g);
		CU_ASSERT_EQUAL(uvm_green_spawn(g, faulter, &h), 0);
		CU_ASSERT_EQUAL(uvm_green_spawn(g, other, &h), 0);
		CU_ASSERT_EQUAL(uvm_green_run(g), 0);
		uvm_green_stats(g, &gs);
		uvm_stats(r, &st);
		CU_ASSERT_EQUAL(h.gave_up, 0);
		CU_ASSERT_EQUAL(h.got, 3 * 7 + 1);
		CU_ASSERT_EQUAL(gs.threads, 2);
		CU_ASSERT_EQUAL(gs.parks, 1);
		CU_ASSERT_EQUAL(gs.switches, 3); /* faulter, other, faulter again */
		CU_ASSERT_EQUAL(st.major, 1);
		CU_ASSERT_EQUAL(st.wp_faults, 1);
		CU_ASSERT_EQUAL(h.p[3 * PG + 10], 99);
		if (h.gave_up)
			fprintf(stderr, "green (%s): the second thread did not run\n",
				t == 3 ? "uffd sigbus" : t == 2 ? "sigsegv, no bound" : t ? "sigsegv"
									      : "uffd");
		uvm_green_destroy(g);
		uvm_close(u);
	}
}

/* 1 to 16 green threads on one region of 32 frames, each writing its own
 * pages and reading them back; every word checked, both traps. */
struct gslice {
	uint32_t *base;
	unsigned first, n, bad;
	struct uvm_green *g;
};

static void gslice_main(void *arg)
{
	struct gslice *s = arg;
	const unsigned words = PG / 4;

	for (int pass = 0; pass < 2; pass++) {
		for (unsigned i = 0; i < s->n; i++) {
			uint32_t *pg = s->base + (size_t)(s->first + i) * words;

			for (unsigned w = 0; w < words; w += 61) {
				if (pass == 0)
					pg[w] = (s->first + i) * 100003u + w;
				else
					s->bad += pg[w] != (s->first + i) * 100003u + w;
			}
			if (i % 5 == 0)
				uvm_green_yield(s->g);
		}
	}
}

static void test_green_threads(void)
{
	static const unsigned counts[] = { 1, 2, 3, 8, 16 };

	for (size_t t = 0; t < NMODES; t++)
		for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
			unsigned n = counts[k], bad = 0;
			char err[256];
			struct uvm *u = uvm_open(&(struct uvm_options){ .fillers = n }, err,
						 sizeof(err));
			struct gslice sl[16];
			struct uvm_green_stats gs;
			struct uvm_region *r;
			struct uvm_green *g;
			struct uvm_stats st;

			CU_ASSERT_PTR_NOT_NULL_FATAL(u);
			r = map(u, (struct uvm_config){ .pages = 160, .frames = 32,
							.trap = modes[t].trap,
							.sigbus = modes[t].sigbus, .policy = "clock" });
			CU_ASSERT_PTR_NOT_NULL_FATAL(r);
			g = uvm_green_create(u, n, 0, err, sizeof(err));
			CU_ASSERT_PTR_NOT_NULL_FATAL(g);
			for (unsigned i = 0; i < n; i++) {
				sl[i] = (struct gslice){ uvm_addr(r), 160 * i / n, 160 * (i + 1) / n - 160 * i / n,
							 0, g };
				CU_ASSERT_EQUAL(uvm_green_spawn(g, gslice_main, &sl[i]), 0);
			}
			CU_ASSERT_EQUAL(uvm_green_run(g), 0);
			for (unsigned i = 0; i < n; i++)
				bad += sl[i].bad;
			uvm_green_stats(g, &gs);
			uvm_stats(r, &st);
			CU_ASSERT_EQUAL(bad, 0);
			CU_ASSERT_EQUAL(gs.threads, n);
			/* 160 pages through 32 frames: every page faults in, is
			 * written back and read again. */
			CU_ASSERT(st.major >= 160 - 32);
			CU_ASSERT(st.writebacks >= 160 - 32);
			CU_ASSERT_EQUAL(st.pagein_errors + st.timeouts, 0);
			if (bad)
				fprintf(stderr, "green x%u (%s): %u bad words\n", n, modes[t].name,
					bad);
			uvm_green_destroy(g);
			uvm_close(u);
		}
}

/* A green thread whose page cannot be read gets SIGBUS at the address, in
 * that thread, and handles it; the others go on. */
struct gbus {
	volatile unsigned char *p;
	int status;
	int code;               /* the si_code expected */
};

static void gbus_main(void *arg)
{
	struct gbus *b = arg;

	if (sigsetjmp(bus_jump, 1) == 0) {
		(void)b->p[5 * PG + 17];
		b->status = 11;
		return;
	}
	b->status = bus_addr != (void *)(b->p + 5 * PG + 17) ? 4
		    : bus_code != BUS_ADRERR && bus_code != b->code ? 15 : 10;
}

static void gneighbour(void *arg)
{
	struct gbus *b = arg;

	if (b->p[4 * PG] != 4 * 7 + 1)
		b->status = 5;
}

static int gbus_child(size_t m)
{
	struct sigaction sa = { .sa_sigaction = on_bus, .sa_flags = SA_SIGINFO | SA_NODEFER };
	struct uvm *u = open_ctx();
	struct gbus b = { 0 };
	struct uvm_region *r;
	struct uvm_green *g;
	char err[256];

	sigaction(SIGBUS, &sa, NULL);
	r = map(u, (struct uvm_config){ .pages = 16, .frames = 4, .trap = modes[m].trap,
					 .sigbus = modes[m].sigbus,
					 .store = UVM_STORE_FILE, .file = make_file("gbus.dat", 16),
					 .inject = "read:eio@page=5/times=1" });
	if (!r)
		return 2;
	b.p = uvm_addr(r);
	b.code = modes[m].trap == UVM_TRAP_UFFD ? BUS_MCEERR_AR : BUS_ADRERR;
	g = uvm_green_create(u, 2, 0, err, sizeof(err));
	if (!g || uvm_green_spawn(g, gbus_main, &b) || uvm_green_spawn(g, gneighbour, &b) ||
	    uvm_green_run(g))
		return 3;
	return b.status;
}

static void test_green_sigbus(void)
{
	for (size_t t = 0; t < NMODES; t++) {
		pid_t pid;
		int status;

		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			alarm(20);
			_exit(gbus_child(t));
		}
		status = child_status(pid);
		CU_ASSERT_EQUAL(status, 10);
		if (status != 10)
			fprintf(stderr, "green read error (%s): status %d\n", modes[t].name, status);
	}
}

/* uffd with its sigbus userfaultfd, on an OS thread: faults are served in
 * the SIGBUS handler (a memory store: no hand-over); a system call into an
 * absent page fails with EFAULT instead of waiting; a SIGBUS that is not a
 * region's fault reaches the program's handler, during and after. */
static volatile int bus_seen;

static void on_bus_count(int sig)
{
	(void)sig;
	bus_seen++;
}

static void test_uffd_sigbus_region(void)
{
	struct sigaction sa = { .sa_handler = on_bus_count }, old;
	volatile unsigned char *p;
	struct uvm_region *r;
	struct uvm_stats st;
	struct uvm *u;
	unsigned bad = 0;
	int fd;

	sigaction(SIGBUS, &sa, &old);
	bus_seen = 0;
	u = open_ctx();
	CU_ASSERT_PTR_NOT_NULL_FATAL(u);
	r = map(u, (struct uvm_config){ .pages = 8, .frames = 2, .trap = UVM_TRAP_UFFD,
					 .sigbus = true, .store = UVM_STORE_MEMORY });
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	p = uvm_addr(r);
	fd = open("/dev/zero", O_RDONLY);
	CU_ASSERT(fd >= 0);
	errno = 0;
	CU_ASSERT_EQUAL(read(fd, (void *)(p + 3 * PG), 16), -1);
	CU_ASSERT_EQUAL(errno, EFAULT);
	p[3 * PG] = 1;
	CU_ASSERT_EQUAL(read(fd, (void *)(p + 3 * PG), 16), 16);
	close(fd);
	for (unsigned pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < 8; i++) {
			if (pass == 0)
				p[i * PG + 100] = (unsigned char)(i + 1);
			else
				bad += p[i * PG + 100] != i + 1;
		}
	CU_ASSERT_EQUAL(bad, 0);
	uvm_stats(r, &st);
	/* Page 3's first touch, then 8 pages through 2 frames twice (page 3
	 * is evicted before the first pass reaches it), as under plain uffd. */
	CU_ASSERT_EQUAL(st.faults, 17);
	CU_ASSERT_EQUAL(st.major, 9);
	CU_ASSERT_EQUAL(bus_seen, 0);
	raise(SIGBUS);
	CU_ASSERT_EQUAL(bus_seen, 1);
	{
		/* A SIGBUS that names a region's absent page but is not a
		 * fault's (a hardware error's code, sent by the program) is
		 * the program's, not served as a missing page. */
		siginfo_t info;

		uvm_flush(r, NULL, 0);
		memset(&info, 0, sizeof(info));
		info.si_signo = SIGBUS;
		info.si_code = BUS_MCEERR_AR;
		info.si_addr = (void *)(p + 7 * PG + 5);
		CU_ASSERT_EQUAL(syscall(SYS_rt_tgsigqueueinfo, getpid(), (pid_t)syscall(SYS_gettid),
					SIGBUS, &info), 0);
		CU_ASSERT_EQUAL(bus_seen, 2);
	}
	uvm_close(u);
	raise(SIGBUS);
	CU_ASSERT_EQUAL(bus_seen, 3);
	sigaction(SIGBUS, &old, NULL);
}

/* A SIGURG the library did not send goes to the program's handler, while
 * green threads run. */
static volatile int urg_seen;

static void on_urg(int sig)
{
	(void)sig;
	urg_seen++;
}

static void raise_urg(void *arg)
{
	(void)arg;
	raise(SIGURG);
}

static void test_green_sigurg_chained(void)
{
	struct sigaction sa = { .sa_handler = on_urg }, old;
	struct uvm *u = open_ctx();
	struct uvm_green *g;
	char err[256];

	sigaction(SIGURG, &sa, &old);
	urg_seen = 0;
	g = uvm_green_create(u, 1, 0, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_EQUAL(uvm_green_spawn(g, raise_urg, NULL), 0);
	CU_ASSERT_EQUAL(uvm_green_run(g), 0);
	CU_ASSERT_EQUAL(urg_seen, 1);
	raise(SIGURG); /* and after the run, the program's handler is back */
	CU_ASSERT_EQUAL(urg_seen, 2);
	uvm_green_destroy(g);
	uvm_close(u);
	sigaction(SIGURG, &old, NULL);
}

/* pflab proc --green: 1 to 16 green threads, every byte verified. */
static void test_proc_green(void)
{
	static const unsigned counts[] = { 1, 4, 16 };

	for (int trap = 0; trap < 3; trap++) /* uffd, uffd --sigbus, sigsegv */
		for (size_t k = 0; k < 3; k++) {
			struct cmd_result r = run_pflab("proc --workload random --pages 512 --frames 64 "
							"--trap %s --threads %u --green --csv",
							trap == 2 ? "sigsegv" : trap ? "uffd --sigbus"
										     : "uffd",
							counts[k]);

			CU_ASSERT_EQUAL(r.status, 0);
			CU_ASSERT_EQUAL(csv_value(r.out, "mismatches"), 0);
			CU_ASSERT_EQUAL(csv_value(r.out, "green"), 1);
			CU_ASSERT_EQUAL(csv_value(r.out, "threads"), counts[k]);
			CU_ASSERT(csv_value(r.out, "faults") > 0);
			if (r.status)
				fprintf(stderr, "proc --green: %s%s", r.out, r.err);
			cmd_result_free(&r);
		}
	{
		/* sigsegv, a memory store with a modelled latency (1 ms): every
		 * fault that reads is handed over and its thread parked. */
		struct cmd_result r = run_pflab("proc --workload scan --pages 64 --frames 16 --trap "
						"sigsegv --threads 4 --green --store memory "
						"--disk-latency 1ms --csv");

		CU_ASSERT_EQUAL(r.status, 0);
		CU_ASSERT_EQUAL(csv_value(r.out, "mismatches"), 0);
		CU_ASSERT(csv_value(r.out, "green_parks") > 0);
		cmd_result_free(&r);
	}
}

/* A fault outside every region still crashes: by SIGSEGV, or under a
 * sanitizer by its report (its handler was there first and gets it). */
static volatile int *volatile nowhere = (volatile int *)16;

static void test_unrelated_fault(void)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct uvm *u = open_ctx();
		struct uvm_region *reg = map(u, (struct uvm_config){
			.pages = 4, .frames = 2, .trap = UVM_TRAP_SIGSEGV });
		volatile unsigned char *p = reg ? uvm_addr(reg) : NULL;

		alarm(20);
		if (!p)
			_exit(2);
		p[0] = 1; /* the region works */
		dup2(open("/dev/null", O_WRONLY), 2);
		*nowhere = 1;
		_exit(0);
	}
	status = child_status(pid);
#if defined(__SANITIZE_ADDRESS__)
	CU_ASSERT(status == 128 + SIGSEGV || (status != 0 && status != 2 && status < 128));
#else
	CU_ASSERT_EQUAL(status, 128 + SIGSEGV);
#endif
}

/* A program killed while paging to its temporary swap file leaves nothing
 * in its temporary directory. */
static void test_no_temp_file(void)
{
	char dir[512];
	struct dirent *e;
	unsigned entries = 0;
	DIR *d;
	pid_t pid;

	snprintf(dir, sizeof(dir), "%s/tmp-uvm", scratch_dir());
	CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0700), 0);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct uvm *u;
		struct uvm_region *r;
		volatile unsigned char *p;

		alarm(20);
		setenv("TMPDIR", dir, 1);
		u = open_ctx();
		r = map(u, (struct uvm_config){ .pages = 64, .frames = 4, .trap = UVM_TRAP_UFFD,
						.store = UVM_STORE_SWAP });
		if (!r)
			_exit(2);
		p = uvm_addr(r);
		for (unsigned i = 0; i < 64; i++)
			p[i * PG] = (unsigned char)i; /* 60 pages written to the swap file */
		if (stats_of(r).writebacks != 60)
			_exit(3);
		kill(getpid(), SIGKILL);
		_exit(4);
	}
	CU_ASSERT_EQUAL(child_status(pid), 128 + SIGKILL);
	d = opendir(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	while ((e = readdir(d)))
		entries += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	CU_ASSERT_EQUAL(entries, 0);
}

/*
 * Not root: the uffd trap still works, through UFFD_USER_MODE_ONLY where
 * vm.unprivileged_userfaultfd is 0, and then a system call writing into an
 * absent page fails with EFAULT instead of waiting.
 */
static void test_unprivileged(void)
{
	FILE *f = fopen("/proc/sys/vm/unprivileged_userfaultfd", "r");
	int knob = -1;
	pid_t pid;

	if (f) {
		if (fscanf(f, "%d", &knob) != 1)
			knob = -1;
		fclose(f);
	}
	if (getuid() != 0 || knob < 0) {
		test_skip("needs root to drop to an unprivileged user, and "
			  "/proc/sys/vm/unprivileged_userfaultfd");
		return;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct uvm *u;
		struct uvm_region *r;
		volatile unsigned char *p;
		int fd = open("/dev/zero", O_RDONLY);
		ssize_t n;

		alarm(20);
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(2);
		u = open_ctx();
		r = u ? map(u, (struct uvm_config){ .pages = 8, .frames = 2,
						    .trap = UVM_TRAP_UFFD,
						    .store = UVM_STORE_MEMORY }) : NULL;
		if (!r)
			_exit(3);
		p = uvm_addr(r);
		for (unsigned i = 0; i < 8; i++)
			p[i * PG] = (unsigned char)i;
		for (unsigned i = 0; i < 8; i++)
			if (p[i * PG] != i)
				_exit(4);
		n = read(fd, (void *)(p + 2 * PG), 16); /* page 2: absent (2 frames) */
		if (knob == 0)
			_exit(n == -1 && errno == EFAULT ? 10 : 5);
		_exit(n == 16 ? 10 : 6);
	}
	CU_ASSERT_EQUAL(child_status(pid), 10);
}

/* ---- pflab proc ---------------------------------------------------------------- */

static void test_proc_random(void)
{
	long long faults[2];

	for (size_t t = 0; t < 2; t++) {
		struct cmd_result r = run_pflab("proc --workload random --pages 4096 --frames 512 "
						"--policy clock --trap %s --csv",
						t ? "sigsegv" : "uffd");

		CU_ASSERT_EQUAL(r.status, 0);
		CU_ASSERT_EQUAL(csv_value(r.out, "mismatches"), 0);
		CU_ASSERT_EQUAL(csv_value(r.out, "refs"), 16381);
		faults[t] = csv_value(r.out, "faults");
		CU_ASSERT(csv_value(r.out, "soft_faults") > 0);
		cmd_result_free(&r);
	}
	CU_ASSERT(faults[0] > 4096);
	CU_ASSERT_EQUAL(faults[0], faults[1]);
}

static void test_proc_workloads(void)
{
	static const char *const wls[] = { "scan", "random", "strided", "matmul", "list", "copy" };

	for (size_t w = 0; w < 6; w++)
		for (size_t t = 0; t < 2; t++) {
			unsigned pages = w == 3 ? 60 : 300; /* matmul: n^3 */
			struct cmd_result r = run_pflab("proc --workload %s --pages %u --frames 40 "
							"--trap %s --threads %d --store memory --csv",
							wls[w], pages, t ? "sigsegv" : "uffd",
							w % 2 ? 3 : 1);

			CU_ASSERT_EQUAL(r.status, 0);
			CU_ASSERT_EQUAL(csv_value(r.out, "mismatches"), 0);
			CU_ASSERT(csv_value(r.out, "faults") > 40); /* more than the frames */
			if (r.status)
				fprintf(stderr, "proc %s: %s", wls[w], r.err);
			cmd_result_free(&r);
		}
}

/* FNV-1a, 64 bits, of a file's bytes; 0 if it cannot be read. */
static uint64_t file_fnv(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint64_t h = 0xcbf29ce484222325ull;
	int c;

	if (!f)
		return 0;
	while ((c = getc(f)) != EOF)
		h = (h ^ (uint64_t)c) * 0x100000001b3ull;
	fclose(f);
	return h;
}

/* The six workloads' generators are one header (guest/workload_gen.h) that
 * the guest and pflab proc include: under FIFO, one thread, seed 7, the
 * guest's run and pflab proc make the same references and the same faults,
 * in the same order (their --record files are the same bytes), and these
 * are the numbers and the fault sequences that the two copies of the
 * generators gave before they were made one. copy's faults depend on how
 * the copy touches the pages (the guest's rep movsb, the host's memcpy):
 * its references only. */
static void test_workloads_golden(void)
{
	static const struct {
		const char *wl;
		unsigned pages;
		long long refs, faults, major, writebacks;
		uint64_t seq; /* file_fnv of the --record file */
	} gold[] = {
		{ "scan", 300, 600, 600, 300, 300, 0x84afa34c88bbf127ull },
		{ "random", 300, 1196, 1043, 360, 267, 0xa2a7622c2e0be432ull },
		{ "stride", 300, 600, 600, 300, 300, 0x9174a9e17f101667ull },
		{ "matmul", 60, 2100784, 153, 93, 73, 0xacf07f55afe63ad9ull },
		{ "list", 300, 900, 897, 597, 300, 0xbc39208ab30967dfull },
		{ "copy", 300, 1500, -1, -1, -1, 0 },
	};
	bool kvm = kvm_usable();

	for (size_t w = 0; w < sizeof(gold) / sizeof(gold[0]); w++)
		for (int vm = 0; vm < 1 + kvm; vm++) {
			char rec[512];
			struct cmd_result r;

			snprintf(rec, sizeof(rec), "%s/gold-%s-%s.rw", scratch_dir(), gold[w].wl,
				 vm ? "run" : "proc");
			r = run_pflab("%s --workload %s --pages %u --frames 40 --policy fifo --seed 7 "
				      "%s --record %s --csv", vm ? "run" : "proc", gold[w].wl,
				      gold[w].pages, vm ? "--timeout 60s" : "--store memory", rec);
			CU_ASSERT_EQUAL(r.status, 0);
			CU_ASSERT_EQUAL(csv_value(r.out, "refs"), gold[w].refs);
			if (!vm)
				CU_ASSERT_EQUAL(csv_value(r.out, "mismatches"), 0);
			if (gold[w].faults >= 0) {
				CU_ASSERT_EQUAL(csv_value(r.out, "faults"), gold[w].faults);
				CU_ASSERT_EQUAL(csv_value(r.out, "major"), gold[w].major);
				CU_ASSERT_EQUAL(csv_value(r.out, "writebacks"), gold[w].writebacks);
				CU_ASSERT_EQUAL(file_fnv(rec), gold[w].seq);
			}
			if (r.status)
				fprintf(stderr, "%s %s: %s", vm ? "run" : "proc", gold[w].wl, r.err);
			cmd_result_free(&r);
		}
}

/* A trace of n references over `pages` pages: a hot set and a cold one,
 * a share of writes. */
static char *gen_trace(const char *name, uint64_t seed, unsigned n, unsigned pages,
		       unsigned write_pct)
{
	struct test_rng rng = { seed };
	size_t cap = (size_t)n * 16 + 1, len = 0;
	char *text = malloc(cap), *path;

	for (unsigned i = 0; i < n; i++) {
		unsigned p = test_rng_below(&rng, 10) < 7 ? test_rng_below(&rng, pages / 5)
							   : test_rng_below(&rng, pages);

		len += (size_t)snprintf(text + len, cap - len, "%c %u\n",
					test_rng_below(&rng, 100) < write_pct ? 'W' : 'R', p);
	}
	path = write_file(name, text);
	free(text);
	return path;
}

/* From pflab sim's CSV rows (trace,policy,frames,refs,faults,miss_ratio,
 * writebacks,...): the faults and write-backs of (policy, frames). */
static bool sim_row(const char *csv, const char *policy, unsigned frames, long long *faults,
		    long long *writebacks)
{
	char want[64];
	const char *line = strchr(csv, '\n');

	snprintf(want, sizeof(want), ",%s,%u,", policy, frames);
	for (; line && line[1]; line = strchr(line + 1, '\n')) {
		const char *at = strstr(line + 1, want), *end = strchr(line + 1, '\n');
		long long refs;
		double miss;

		if (!at || (end && at > end))
			continue;
		return sscanf(at + strlen(want), "%lld,%lld,%lf,%lld", &refs, faults, &miss,
			      writebacks) == 4;
	}
	return false;
}

static void test_proc_equals_sim(void)
{
	static const char *const pols[] = { "fifo", "clock", "opt", "random", "lru", "nru",
					     "aging", "2q", "arc" };
	static const unsigned frames[] = { 7, 30, 90 };
	char paths[3][512];

	snprintf(paths[0], sizeof(paths[0]), "%s", gen_trace("uvm-a.rw", 1, 600, 150, 30));
	snprintf(paths[1], sizeof(paths[1]), "%s", gen_trace("uvm-b.rw", 2, 500, 400, 50));
	snprintf(paths[2], sizeof(paths[2]), "%s", gen_trace("uvm-c.rw", 3, 600, 60, 0));
	for (size_t tr = 0; tr < 3; tr++) {
		struct cmd_result s = run_pflab("sim %s --policy fifo,clock,opt,random,lru,nru,aging,2q,arc "
						"--frames 7,30,90 --tick 37 --seed 5 --csv", paths[tr]);

		CU_ASSERT_EQUAL(s.status, 0);
		for (size_t k = 0; k < sizeof(pols) / sizeof(pols[0]); k++)
			for (size_t f = 0; f < 3; f++) {
				long long faults = -1, wb = -1;

				CU_ASSERT_FATAL(sim_row(s.out, pols[k], frames[f], &faults, &wb));
				for (size_t t = 0; t < 2; t++) {
					struct cmd_result p = run_pflab(
						"proc --trace %s --policy %s --frames %u --tick 37 --seed 5 "
						"--trap %s --store %s --csv", paths[tr], pols[k], frames[f],
						t ? "sigsegv" : "uffd", f == 1 ? "file" : "memory");

					CU_ASSERT_EQUAL(p.status, 0);
					CU_ASSERT_EQUAL(csv_value(p.out, "faults"), faults);
					CU_ASSERT_EQUAL(csv_value(p.out, "writebacks"), wb);
					CU_ASSERT_EQUAL(csv_value(p.out, "mismatches"), 0);
					if (csv_value(p.out, "faults") != faults)
						fprintf(stderr, "trace %zu %s %u %s: proc %lld sim %lld\n", tr,
							pols[k], frames[f], t ? "sigsegv" : "uffd",
							csv_value(p.out, "faults"), faults);
					cmd_result_free(&p);
				}
			}
		cmd_result_free(&s);
	}
}

/* --record writes the faults; pflab sim of the record with as many frames
 * as pages faults on each page once. */
static void test_proc_record(void)
{
	char *trace = gen_trace("uvm-rec.rw", 9, 1000, 100, 20);
	char rec[512];
	struct cmd_result p, s;
	long long lines;

	snprintf(rec, sizeof(rec), "%s/uvm.rec", scratch_dir());
	p = run_pflab("proc --trace %s --policy clock --frames 20 --record %s --csv", trace, rec);
	CU_ASSERT_EQUAL(p.status, 0);
	s = run_shell("wc -l %s", rec);
	lines = atoll(s.out);
	CU_ASSERT_EQUAL(lines, csv_value(p.out, "faults"));
	cmd_result_free(&p);
	cmd_result_free(&s);
}

/* A page whose stored copy changed behind the program's back: proc says
 * where, and exits 1. */
static void test_proc_corrupt(void)
{
	for (size_t t = 0; t < 2; t++)
		for (size_t s = 0; s < 2; s++) {
			struct cmd_result r = run_pflab("proc --workload scan --pages 64 --frames 8 "
							"--trap %s --store %s --corrupt-page 5 --csv",
							t ? "sigsegv" : "uffd", s ? "file" : "memory");

			CU_ASSERT_EQUAL(r.status, 1);
			CU_ASSERT(strstr(r.err, "1 pages did not hold what was written: first at page 5 "
					     "offset 120") != NULL);
			CU_ASSERT_EQUAL(csv_value(r.out, "mismatches"), 1);
			cmd_result_free(&r);
		}
}

/* docs/uvm.md's Belady example: 9 faults at 3 frames (10 at 4, the anomaly),
 * under both traps, with the columns in the order the page lists them. */
#define PROC_HEADER "trace,policy,frames,refs,faults,miss_ratio,writebacks,major,minor," \
	"soft_faults,lat_mean_us,lat_p50_us,lat_p99_us,wall_s,trap,wp_faults,threads,mismatches," \
	"green,green_parks,shared_reads,timeouts"

static void test_proc_belady(void)
{
	const char *t = write_file("belady.txt", "1\n2\n3\n4\n1\n2\n5\n1\n2\n3\n4\n5\n");

	for (int trap = 0; trap < 2; trap++)
		for (unsigned frames = 3; frames <= 4; frames++) {
			struct cmd_result r = run_pflab("proc --trace '%s' --policy fifo --frames %u "
							"--trap %s --csv", t, frames,
							trap ? "sigsegv" : "uffd");

			CU_ASSERT_EQUAL(r.status, 0);
			CU_ASSERT(strncmp(r.out, PROC_HEADER "\n", strlen(PROC_HEADER) + 1) == 0);
			CU_ASSERT_EQUAL(csv_value(r.out, "refs"), 12);
			CU_ASSERT_EQUAL(csv_value(r.out, "faults"), frames == 3 ? 9 : 10);
			CU_ASSERT_EQUAL(csv_value(r.out, "mismatches"), 0);
			cmd_result_free(&r);
		}
}

/* proc stopped by a signal leaves no temporary file of --record, and an
 * old record untouched. */
static void test_proc_interrupted(void)
{
	const char *dir = scratch_dir();
	struct cmd_result r;

	r = run_shell("(mkdir -p '%s/pint' && echo keep > '%s/pint/r.rw' && "
		      "('%s' proc --workload random --pages 4096 --frames 512 --store memory "
		      "--disk-latency 1ms --record '%s/pint/r.rw' & pid=$!; "
		      "for i in $(seq 400); do ls -A '%s/pint' | grep -q '^\\.r' && break; sleep 0.05; done; "
		      "kill -TERM $pid; wait $pid; echo \"status $?\"); ls -A '%s/pint'; cat '%s/pint/r.rw')",
		      dir, dir, pflab_path(), dir, dir, dir, dir);
	CU_ASSERT_STRING_EQUAL(r.out, "status 143\nr.rw\nkeep\n");
	cmd_result_free(&r);
}

static void test_proc_usage(void)
{
	static const struct { const char *args, *msg; } bad[] = {
		{ "--trap foo", "--trap: 'foo' is not uffd or sigsegv" },
		{ "--policy nope", "unknown policy 'nope'" },
		{ "--page-size 5000", "--page-size: not a multiple of 4096" },
		/* Not "not a multiple of 4096" from the --pages before it. */
		{ "--pages 3 --page-size abc", "pflab proc: --page-size: 'abc' is not a whole number\n" },
		{ "--workload nope", "unknown workload 'nope'" },
		{ "--store tape", "--store: 'tape' is not file or memory" },
		{ "--frames 0", "pflab proc: --frames: '0' is out of range [1, 16777216]\n" },
		{ "--threads x", "pflab proc: --threads: 'x' is not a whole number\n" },
		{ "--policy opt", "needs the future" },
		{ "--csv --json", "give one of --csv and --json" },
		{ "--trace /nonexistent/t", "/nonexistent/t" },
		{ "--pages 64 --frames 8 --corrupt-page 64",
		  "--corrupt-page 64: the region has 64 pages" },
		{ "--record /nonexistent-dir/r.rw", "--record /nonexistent-dir/r.rw: No such file" },
		{ "--record /tmp", "--record /tmp: not a regular file" },
		{ "--workload scan --trace /nonexistent/t", "exclude each other" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cmd_result r = run_pflab("proc %s", bad[i].args);

		CU_ASSERT_EQUAL(r.status, 2);
		CU_ASSERT(strncmp(r.err, "pflab proc: ", 12) == 0);
		CU_ASSERT(strstr(r.err, bad[i].msg) != NULL);
		CU_ASSERT(strchr(r.err, '\n') == r.err + strlen(r.err) - 1);
		if (!strstr(r.err, bad[i].msg))
			fprintf(stderr, "proc %s: %s", bad[i].args, r.err);
		cmd_result_free(&r);
	}
	{
		struct cmd_result r = run_pflab("proc --help");

		CU_ASSERT_EQUAL(r.status, 0);
		CU_ASSERT(strstr(r.out, "usage: pflab proc") != NULL);
		cmd_result_free(&r);
	}
}

static CU_TestInfo uvm_tests[] = {
	{ "uffd: refused without UFFDIO_POISON, saying why", test_uffd_needs_poison },
	{ "the example of docs/uvm.md", test_example },
	{ "a loop larger than the frames faults on every access", test_loop_counts },
	{ "pinned pages stay; pinning past the frames is refused", test_pin },
	{ "prefetch brings pages in without later faults", test_prefetch },
	{ "read-ahead", test_read_ahead },
	{ "flush returns injected write errors, once; data kept", test_flush_errors },
	{ "unmap keeps a region whose write-back fails", test_unmap_keeps },
	{ "a shared file mapping at an offset, 16 KiB pages", test_file_mapping },
	{ "a store of callbacks", test_callbacks },
	{ "the workloads notice a corrupted page", test_workload_notices },
	{ "two threads, one page: one read, shared", test_same_page_one_read },
	{ "two threads, two pages: both reads in flight at once", test_other_pages_in_parallel },
	{ "four threads, a free pool: every word", test_threads_with_pool },
	{ "a free pool and its daemon thread keep every byte", test_pool },
	{ "six regions, six policies, six page sizes", test_policies_per_region },
	{ "2000 regions", test_thousands },
	{ "bad configurations are refused with a reason", test_refusals },
	{ "a failed read is SIGBUS at the address, both traps", test_read_error_sigbus },
	{ "a filler slower than the bound: SIGBUS", test_filler_timeout },
	{ "a store that does not answer: SIGBUS within the bound, then its bytes",
	  test_store_timeout },
	{ "green: a faulting thread is parked, another runs", test_green_hands_over },
	{ "green: 1 to 16 threads, every word checked", test_green_threads },
	{ "green: a failed read is SIGBUS in the thread", test_green_sigbus },
	{ "proc --green verifies, 1 to 16 threads", test_proc_green },
	{ "green: a SIGURG not the library's reaches the program", test_green_sigurg_chained },
	{ "uffd sigbus: served in the handler, EFAULT in system calls", test_uffd_sigbus_region },
	{ "a fault outside the regions still crashes", test_unrelated_fault },
	{ "a killed program leaves no temporary file", test_no_temp_file },
	{ "not root: uffd with UFFD_USER_MODE_ONLY", test_unprivileged },
	{ "proc random verifies, same faults under both traps", test_proc_random },
	{ "proc workloads verify, with threads", test_proc_workloads },
	{ "proc and run: the workloads' counts and fault sequences, golden", test_workloads_golden },
	{ "proc --trace gives pflab sim's faults and write-backs", test_proc_equals_sim },
	{ "proc --record writes the faults", test_proc_record },
	{ "proc says which page was corrupted", test_proc_corrupt },
	{ "proc bad usage", test_proc_usage },
	{ "proc killed by a signal leaves no temporary record", test_proc_interrupted },
	{ "proc: Belady's string, 9 and 10 faults, the columns in order", test_proc_belady },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("uvm", uvm_tests);
