/* SPDX-License-Identifier: MIT */
/*
 * A host file mapped on the guest's data region: "memory-mapped files are
 * treated as small swap areas". The file is the data region's backing store
 * instead of the swap file: page vpn lives at offset vpn * 4096 of the file.
 * A page faults in from the file (zeroes past its end), a dirty page goes
 * back to the file when it is evicted, when the guest asks (HC_MSYNC) and at
 * the end of the run, so that afterwards the file holds exactly what the
 * guest wrote. docs/mapped-files.md.
 *
 * A write-back of a page past the file's end extends the file (to the end
 * of that page); the file is never shortened, and bytes past the region are
 * never touched.
 */
#ifndef PFLAB_MAPFILE_H
#define PFLAB_MAPFILE_H

#include <stdint.h>
#include <stdio.h>

#include "pager.h"
#include "store.h"

struct mapfile_stats {
	uint64_t size_before, size_after; /* the file's size, bytes */
	uint64_t reads;         /* pages read in from the file */
	uint64_t writes;        /* pages written to it, for any reason */
	uint64_t msync_calls;   /* HC_MSYNC hypercalls */
	uint64_t msync_pages;   /* pages they wrote back */
	uint64_t exit_pages;    /* pages written back at the end of the run */
	uint64_t exit_errors;   /* dirty pages the end of the run could not write */
};

struct mapfile_store {
	struct backing_store bs;
	int fd;
	uint32_t npages;        /* of the data region */
	struct mapfile_stats st; /* reads, writes atomic: the paging daemon writes too */

	uint8_t *(*page_bytes)(void *ctx, vpn_t vpn, frame_t f);
	void *ctx;
};

/* The pages a file of that path covers (its size rounded up), for a
 * default --pages. 0, or -1 with a reason in err. */
int mapfile_pages(const char *path, uint32_t *npages, char *err, size_t errlen);

/* The file the mapfile workload expects (docs/mapped-files.md): page p of
 * it holds pflab_pattern(p, PFLAB_MAPFILE_VERSION, i) in word i. Create path
 * with npages such pages, through a temporary file beside it renamed over
 * it once complete. path may exist only empty or holding that pattern (a
 * file this made, not yet run on): anything else is refused, untouched.
 * 0, or -1 with a reason in err (then path is as it was). */
int mapfile_create(const char *path, uint32_t npages, char *err, size_t errlen);

/* Whether path's first npages pages (or all of it, if shorter) hold that
 * pattern: the guest checks them, so another file would only fail the run.
 * 0, or -1 with the first differing offset in err. */
int mapfile_check(const char *path, uint32_t npages, char *err, size_t errlen);

/* Open path read-write as the store of npages data pages. Refuses a file
 * that is not regular, or that nobody may write (mode without w bits, even
 * for root: the run would write to it). 0, or -1 with a reason in err. */
int mapfile_open(struct mapfile_store *m, const char *path, uint32_t npages,
		 uint8_t *(*page_bytes)(void *ctx, vpn_t vpn, frame_t f), void *ctx,
		 char *err, size_t errlen);
void mapfile_close(struct mapfile_store *m);

/* HC_MSYNC: write back the dirty resident pages in [first, first + count)
 * (count 0: to the region's end); the caller holds the pager lock. Returns
 * the pages written; *first_err gets 0 or the first failure's -errno (every
 * page is still tried; a failed one stays dirty). */
uint32_t mapfile_msync(struct mapfile_store *m, struct pager *p, uint32_t first,
		       uint32_t count, int *first_err);

/* The end of the run: write back every dirty resident page. 0, or the first
 * failure's -errno with the pages left dirty counted in exit_errors. */
int mapfile_sync_at_exit(struct mapfile_store *m, struct pager *p);

/* The run's numbers, size_after read now. */
struct mapfile_stats mapfile_stats(struct mapfile_store *m);

/* One line for pflab run's stderr. */
void mapfile_print(FILE *out, const char *path, const struct mapfile_stats *st,
		   uint64_t evict_writes);

#endif /* PFLAB_MAPFILE_H */
