// SPDX-License-Identifier: MIT
/* A host file as the data region's backing store: see mapfile.h. */
#include "mapfile.h"
#include "outfile.h"

#include "../guest/abi.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 4096u
#define EXIT_SYNC_PASSES 8

static int mapfile_page_in(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	struct mapfile_store *m = (struct mapfile_store *)bs;
	uint8_t *dst = m->page_bytes(m->ctx, vpn, f);
	size_t done = 0;

	while (done < PAGE) {
		ssize_t n = pread(m->fd, dst + done, PAGE - done, (off_t)vpn * PAGE + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break; /* the file's end: the rest of the page reads as zeroes */
		done += (size_t)n;
	}
	memset(dst + done, 0, PAGE - done);
	__atomic_fetch_add(&m->st.reads, 1, __ATOMIC_RELAXED);
	return 0;
}

/* Every page of a mapped file exists (zeroes past the end): the pager reads
 * them all (first_touch_major), so it never asks for a zero fill. */
static int mapfile_zero_fill(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	return mapfile_page_in(bs, vpn, f);
}

static int mapfile_page_out(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	struct mapfile_store *m = (struct mapfile_store *)bs;
	const uint8_t *src = m->page_bytes(m->ctx, vpn, f);
	size_t done = 0;

	while (done < PAGE) {
		ssize_t n = pwrite(m->fd, src + done, PAGE - done, (off_t)vpn * PAGE + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	__atomic_fetch_add(&m->st.writes, 1, __ATOMIC_RELAXED);
	return 0;
}

static const struct store_ops mapfile_ops = {
	.page_in = mapfile_page_in,
	.zero_fill = mapfile_zero_fill,
	.page_out = mapfile_page_out,
};

/* Open and check: a regular file someone may write. fd or -1. */
static int open_checked(const char *path, int flags, struct stat *sb, char *err, size_t errlen)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "map file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, sb) != 0) {
		snprintf(err, errlen, "map file %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(sb->st_mode)) {
		snprintf(err, errlen, "map file %s: not a regular file", path);
		close(fd);
		return -1;
	}
	/* Root opens anything read-write: the mode says what the owner meant. */
	if (!(sb->st_mode & (S_IWUSR | S_IWGRP | S_IWOTH))) {
		snprintf(err, errlen, "map file %s: read-only (mode %04o): the guest's writes "
			 "go back to it", path, (unsigned)(sb->st_mode & 07777));
		close(fd);
		return -1;
	}
	return fd;
}

int mapfile_pages(const char *path, uint32_t *npages, char *err, size_t errlen)
{
	struct stat sb;
	int fd = open_checked(path, O_RDONLY, &sb, err, errlen);

	if (fd < 0)
		return -1;
	close(fd);
	if (sb.st_size == 0) {
		snprintf(err, errlen, "map file %s: empty: give --pages", path);
		return -1;
	}
	if ((uint64_t)sb.st_size > (uint64_t)UINT32_MAX * PAGE) {
		snprintf(err, errlen, "map file %s: too large: give --pages", path);
		return -1;
	}
	*npages = (uint32_t)(((uint64_t)sb.st_size + PAGE - 1) / PAGE);
	return 0;
}

int mapfile_open(struct mapfile_store *m, const char *path, uint32_t npages,
		 uint8_t *(*page_bytes)(void *ctx, vpn_t vpn, frame_t f), void *ctx,
		 char *err, size_t errlen)
{
	struct stat sb;

	*m = (struct mapfile_store){
		.bs.ops = &mapfile_ops, .fd = -1, .npages = npages,
		.page_bytes = page_bytes, .ctx = ctx,
	};
	m->fd = open_checked(path, O_RDWR, &sb, err, errlen);
	if (m->fd < 0)
		return -1;
	m->st.size_before = (uint64_t)sb.st_size;
	return 0;
}

void mapfile_close(struct mapfile_store *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}

/* Write back the dirty resident pages in [first, end): how many; *first_err
 * gets 0 or the first failure. */
static uint64_t sync_range(struct pager *p, uint32_t first, uint32_t end, int *first_err)
{
	uint64_t written = 0;

	*first_err = 0;
	for (uint32_t vpn = first; vpn < end; vpn++) {
		int rc = pager_clean(p, vpn);

		if (rc > 0)
			written++;
		else if (rc < 0 && !*first_err)
			*first_err = rc;
	}
	return written;
}

uint32_t mapfile_msync(struct mapfile_store *m, struct pager *p, uint32_t first,
		       uint32_t count, int *first_err)
{
	uint32_t end = m->npages;
	uint64_t written;

	if (count && first < end && count < end - first)
		end = first + count;
	written = sync_range(p, first, end, first_err);
	m->st.msync_calls++;
	m->st.msync_pages += written;
	return (uint32_t)written;
}

int mapfile_sync_at_exit(struct mapfile_store *m, struct pager *p)
{
	int first_err;

	/* A failed write leaves its page dirty: go round again, as the guest
	 * retries its msync, a bounded number of times. */
	for (int pass = 0; pass < EXIT_SYNC_PASSES; pass++) {
		m->st.exit_pages += sync_range(p, 0, m->npages, &first_err);
		if (!first_err)
			break;
	}
	if (first_err) {
		/* Count what is still dirty: those bytes never reached the file. */
		for (vpn_t vpn = 0; vpn < m->npages; vpn++) {
			frame_t f = pager_lookup(p, vpn);

			if (f != NO_FRAME && (p->frames[f].flags & FRAME_DIRTY))
				m->st.exit_errors++;
		}
	}
	return first_err;
}

struct mapfile_stats mapfile_stats(struct mapfile_store *m)
{
	struct mapfile_stats st = m->st;
	struct stat sb;

	st.reads = __atomic_load_n(&m->st.reads, __ATOMIC_RELAXED);
	st.writes = __atomic_load_n(&m->st.writes, __ATOMIC_RELAXED);
	if (m->fd >= 0 && fstat(m->fd, &sb) == 0)
		st.size_after = (uint64_t)sb.st_size;
	return st;
}

void mapfile_print(FILE *out, const char *path, const struct mapfile_stats *st,
		   uint64_t evict_writes)
{
	fprintf(out, "map file %s: %llu pages read in, %llu written back: %llu at eviction, "
		"%llu by %llu msync, %llu at exit; %llu bytes, now %llu\n", path,
		(unsigned long long)st->reads, (unsigned long long)st->writes,
		(unsigned long long)evict_writes, (unsigned long long)st->msync_pages,
		(unsigned long long)st->msync_calls, (unsigned long long)st->exit_pages,
		(unsigned long long)st->size_before, (unsigned long long)st->size_after);
	if (st->exit_errors)
		fprintf(out, "map file %s: %llu dirty pages could not be written at exit\n", path,
			(unsigned long long)st->exit_errors);
}

/* One page of the initial pattern, little endian as the guest stores it. */
static void initial_page(uint8_t *page, uint32_t vpn)
{
	for (uint32_t i = 0; i < PAGE / 8; i++) {
		uint64_t w = pflab_pattern(vpn, PFLAB_MAPFILE_VERSION, i);

		for (int b = 0; b < 8; b++)
			page[i * 8 + (uint32_t)b] = (uint8_t)(w >> (8 * b));
	}
}

/*
 * Whether path may be made anew: absent, empty, or already the pattern
 * (all of it), i.e. a file --map-create made and no run has written to.
 * Anything else is a user's data, which pflab never replaces.
 */
static int may_replace(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char why[600];
	uint64_t pages;

	if (lstat(path, &st) != 0)
		return 0; /* absent, or outfile_open says why not */
	if (!S_ISREG(st.st_mode) || st.st_size == 0)
		return 0; /* outfile_open refuses what is not a regular file */
	pages = ((uint64_t)st.st_size + PAGE - 1) / PAGE;
	if (pages <= UINT32_MAX && mapfile_check(path, (uint32_t)pages, why, sizeof(why)) == 0)
		return 0;
	snprintf(err, errlen, "map file %s: exists and is not a file --map-create made "
		 "(a run's writes included): pflab replaces only its own; remove it or "
		 "name a new file", path);
	return -1;
}

int mapfile_create(const char *path, uint32_t npages, char *err, size_t errlen)
{
	uint8_t page[PAGE];
	struct outfile out;
	char why[600];

	if (strcmp(path, "-") == 0) {
		snprintf(err, errlen, "map file -: standard output cannot be a map file");
		return -1;
	}
	if (may_replace(path, err, errlen) != 0)
		return -1;
	/* Written beside path and renamed over it once complete: a failure
	 * leaves path as it was. */
	if (outfile_open(&out, path, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "map file %s", why);
		return -1;
	}
	for (uint32_t p = 0; p < npages; p++) {
		initial_page(page, p);
		if (pwrite(out.fd, page, PAGE, (off_t)p * PAGE) != (ssize_t)PAGE) {
			snprintf(err, errlen, "map file %s: writing page %u: %s", path, p,
				 strerror(errno ? errno : EIO));
			outfile_abort(&out);
			return -1;
		}
	}
	if (outfile_commit(&out, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "map file %s", why);
		return -1;
	}
	return 0;
}

int mapfile_check(const char *path, uint32_t npages, char *err, size_t errlen)
{
	uint8_t want[PAGE], got[PAGE];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0) {
		snprintf(err, errlen, "map file %s: %s", path, strerror(errno));
		return -1;
	}
	for (uint32_t p = 0; p < npages && rc == 0; p++) {
		ssize_t n = pread(fd, got, PAGE, (off_t)p * PAGE);

		if (n <= 0) {
			if (n < 0) {
				snprintf(err, errlen, "map file %s: %s", path, strerror(errno));
				rc = -1;
			}
			break; /* the file ends here: the rest reads as zeroes */
		}
		initial_page(want, p);
		for (ssize_t b = 0; b < n; b++) {
			if (got[b] != want[b]) {
				snprintf(err, errlen,
					 "map file %s: byte %llu is not the mapfile workload's "
					 "pattern, which the guest checks: make the file with "
					 "--map-create (docs/mapped-files.md)",
					 path, (unsigned long long)p * PAGE + (unsigned long long)b);
				rc = -1;
				break;
			}
		}
	}
	close(fd);
	return rc;
}
