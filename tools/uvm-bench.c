// SPDX-License-Identifier: MIT
/*
 * uvm-bench: the per-fault cost of the user-level paging library against
 * the kernel's own, in one run (make bench; docs/uvm.md, "Measured").
 *
 *   uvm-bench FILE [PAGES [FRAMES [TOUCHES]]]
 *
 * FILE (which must not exist; removed at the end) is made of PAGES 4 KiB pages (default 65536). Each row touches
 * TOUCHES distinct pages (default 16384) in one random order, one load per
 * page, timing every access; its faults are counted (getrusage's for the
 * kernel, uvm_stats' for the library), and the per-fault cost is the time
 * of the pass over the faults, its percentiles those of the slowest
 * accesses, as many as there were faults. Rows:
 *
 *   mmap cold   the file mapped, its page cache dropped (posix_fadvise
 *               DONTNEED), MADV_RANDOM (no read-around): a major fault each
 *   mmap warm   the file in the page cache: minor faults (the kernel maps
 *               up to 16 pages per fault: fault-around)
 *   pread cold  a pread of each page, page cache dropped
 *   uffd, sigsegv with the memory store (FRAMES frames, a third pass over
 *               pages read before: every fault reads a page and evicts a
 *               clean one) and with the file store (the same file, page
 *               cache dropped: every fault a cold read, as mmap cold's)
 *
 * Prints a Markdown table; the ratios are the row's mean and median per fault
 * over mmap cold's.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "uvm.h"

#define PG 4096u

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t kernel_faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)ru.ru_minflt + (uint64_t)ru.ru_majflt;
}

struct row {
	const char *name;
	uint64_t faults;
	double mean_us, p50_us, p99_us, per_s;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The faults of a pass: its total over the faults, and the percentiles of
 * the `faults` slowest accesses. */
static struct row summarize(const char *name, uint64_t *lat, size_t n, uint64_t total_ns,
			    uint64_t faults)
{
	struct row r = { .name = name, .faults = faults };
	uint64_t *slow;
	size_t k = faults < n ? faults : n;

	qsort(lat, n, sizeof(*lat), cmp_u64);
	slow = lat + (n - k);
	if (k) {
		r.mean_us = (double)total_ns / (double)faults / 1e3;
		r.p50_us = (double)slow[k / 2] / 1e3;
		r.p99_us = (double)slow[k * 99 / 100 < k ? k * 99 / 100 : k - 1] / 1e3;
		r.per_s = 1e6 / r.mean_us;
	}
	return r;
}

/* Touch pages order[0..n) of base, timing each load. */
static uint64_t touch(volatile unsigned char *base, const uint32_t *order, size_t n,
		      uint64_t *lat, unsigned *sum)
{
	uint64_t t0 = now_ns();

	for (size_t i = 0; i < n; i++) {
		uint64_t a = now_ns();

		*sum += base[(size_t)order[i] * PG + 8];
		lat[i] = now_ns() - a;
	}
	return now_ns() - t0;
}

static void drop_cache(int fd)
{
	fdatasync(fd);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
}

static struct row kernel_mmap(const char *name, int fd, size_t pages, const uint32_t *order,
			      size_t n, uint64_t *lat, bool cold, unsigned *sum)
{
	unsigned char *m;
	uint64_t f0, ns;

	if (cold)
		drop_cache(fd);
	else
		for (size_t i = 0; i < pages; i += 64) { /* bring the file in */
			char buf[64 * PG];

			if (pread(fd, buf, sizeof(buf), (off_t)(i * PG)) < 0)
				break;
		}
	m = mmap(NULL, pages * PG, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	madvise(m, pages * PG, MADV_RANDOM);
	f0 = kernel_faults();
	ns = touch(m, order, n, lat, sum);
	f0 = kernel_faults() - f0;
	munmap(m, pages * PG);
	return summarize(name, lat, n, ns, f0);
}

static struct row kernel_pread(int fd, const uint32_t *order, size_t n, uint64_t *lat,
			       unsigned *sum)
{
	unsigned char buf[PG];
	uint64_t t0;

	drop_cache(fd);
	t0 = now_ns();
	for (size_t i = 0; i < n; i++) {
		uint64_t a = now_ns();

		if (pread(fd, buf, PG, (off_t)order[i] * PG) != PG)
			exit(2);
		*sum += buf[8];
		lat[i] = now_ns() - a;
	}
	return summarize("pread cold", lat, n, now_ns() - t0, n);
}

static struct row library(const char *name, enum uvm_trap trap, bool file, const char *path,
			  int fd, size_t pages, uint32_t frames, const uint32_t *order, size_t n,
			  uint64_t *lat, unsigned *sum)
{
	char err[256];
	struct uvm *u = uvm_open(NULL, err, sizeof(err));
	struct uvm_region *r;
	struct uvm_stats st;
	unsigned char *p;
	uint64_t f0, ns;

	if (!u) {
		fprintf(stderr, "uvm-bench: %s\n", err);
		exit(2);
	}
	r = uvm_map(u, &(struct uvm_config){
		.pages = pages, .frames = frames, .policy = "fifo", .trap = trap,
		.store = file ? UVM_STORE_FILE : UVM_STORE_MEMORY, .file = path }, err, sizeof(err));
	if (!r) {
		fprintf(stderr, "uvm-bench: %s: %s\n", name, err);
		exit(2);
	}
	p = uvm_addr(r);
	if (file) {
		drop_cache(fd);
	} else {
		/* Pages with a copy on the store, and clean frames. */
		for (size_t i = 0; i < n; i++)
			p[(size_t)order[i] * PG] = 1;
		touch(p, order, n, lat, sum);
	}
	uvm_stats(r, &st);
	f0 = st.faults + st.soft_faults;
	ns = touch(p, order, n, lat, sum);
	uvm_stats(r, &st);
	uvm_unmap(r, true);
	uvm_close(u);
	return summarize(name, lat, n, ns, st.faults + st.soft_faults - f0);
}

int main(int argc, char **argv)
{
	size_t pages = argc > 2 ? strtoul(argv[2], NULL, 0) : 65536;
	uint32_t frames = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 0) : 8192;
	size_t n = argc > 4 ? strtoul(argv[4], NULL, 0) : 16384;
	uint64_t *lat, x = 88172645463325252ull;
	struct row rows[8];
	unsigned sum = 0, nrows = 0;
	uint32_t *order;
	int fd;

	if (argc < 2 || n > pages || !pages || !frames) {
		fprintf(stderr, "usage: uvm-bench FILE [PAGES [FRAMES [TOUCHES]]]\n");
		return 2;
	}
	/* A file of its own: created here (never an existing one), removed at
	 * the end. */
	fd = open(argv[1], O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror(argv[1]);
		return 2;
	}
	{
		/* Every page holds data: the file is written, not sparse. */
		static unsigned char buf[64 * PG];

		for (size_t i = 0; i < pages; i += 64) {
			memset(buf, (int)(i & 0xff) | 1, sizeof(buf));
			if (pwrite(fd, buf, sizeof(buf), (off_t)(i * PG)) != (ssize_t)sizeof(buf))
				return 2;
		}
	}
	order = malloc(sizeof(*order) * pages);
	lat = malloc(sizeof(*lat) * n);
	if (!order || !lat)
		return 2;
	for (size_t i = 0; i < pages; i++)
		order[i] = (uint32_t)i;
	for (size_t i = pages - 1; i > 0; i--) { /* Fisher-Yates, xorshift */
		size_t j;
		uint32_t t;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = x % (i + 1);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}

	rows[nrows++] = kernel_mmap("mmap cold", fd, pages, order, n, lat, true, &sum);
	rows[nrows++] = kernel_mmap("mmap warm", fd, pages, order, n, lat, false, &sum);
	rows[nrows++] = kernel_pread(fd, order, n, lat, &sum);
	rows[nrows++] = library("uffd, memory store", UVM_TRAP_UFFD, false, argv[1], fd, pages,
				frames, order, n, lat, &sum);
	rows[nrows++] = library("sigsegv, memory store", UVM_TRAP_SIGSEGV, false, argv[1], fd,
				pages, frames, order, n, lat, &sum);
	rows[nrows++] = library("uffd, file store (cold)", UVM_TRAP_UFFD, true, argv[1], fd, pages,
				frames, order, n, lat, &sum);
	rows[nrows++] = library("sigsegv, file store (cold)", UVM_TRAP_SIGSEGV, true, argv[1], fd,
				pages, frames, order, n, lat, &sum);

	printf("%zu-page file, %u frames, %zu pages touched in one random order; fifo\n\n", pages,
	       frames, n);
	printf("| path | faults | us/fault mean | p50 | p99 | faults/s | mean / mmap cold's | "
	       "p50 / mmap cold's |\n");
	printf("|---|---|---|---|---|---|---|---|\n");
	for (unsigned i = 0; i < nrows; i++)
		printf("| %s | %llu | %.2f | %.2f | %.2f | %.0f | %.2f | %.2f |\n", rows[i].name,
		       (unsigned long long)rows[i].faults, rows[i].mean_us, rows[i].p50_us,
		       rows[i].p99_us, rows[i].per_s,
		       rows[0].mean_us > 0 ? rows[i].mean_us / rows[0].mean_us : 0,
		       rows[0].p50_us > 0 ? rows[i].p50_us / rows[0].p50_us : 0);
	fprintf(stderr, "(checksum %u)\n", sum);
	close(fd);
	unlink(argv[1]);
	return 0;
}
