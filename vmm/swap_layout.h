/* SPDX-License-Identifier: MIT */
/*
 * Where a page's copy lives in the swap area (docs/swap.md):
 *
 *   static   slot = base + vpn: every page has its slot, fixed, whether it
 *            was ever written or not; nothing to remember. The area must
 *            hold every page. (pflab's original layout; base is 0.)
 *   dynamic  any free slot: an in-memory directory maps each page written
 *            to its slot. Every write-back goes to the next free slot after
 *            the previous one (next fit), so that write-backs made close in
 *            time land next to each other on the disk, clustered, whatever
 *            their pages; the page's old slot is freed once the new copy is
 *            written. When no slot is free the page is rewritten in place.
 *
 * A write is two calls, so that a failed write never costs the old copy:
 * swap_layout_write_begin() picks the slot, swap_layout_write_end() says
 * whether the write succeeded, and only then does the directory change (a
 * failed write's slot is free again, and the next write takes it).
 * Thread-safe: the paging daemon writes while the fault path reads.
 */
#ifndef PFLAB_SWAP_LAYOUT_H
#define PFLAB_SWAP_LAYOUT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "types.h"

enum swap_layout_kind { SWAP_STATIC, SWAP_DYNAMIC };

struct swap_layout_stats {
	uint64_t writes;     /* slot writes that succeeded */
	uint64_t runs;       /* maximal runs of consecutive slots, in write order */
	uint64_t moves;      /* dynamic: rewrites that moved a page to a new slot */
	uint64_t in_place;   /* dynamic: rewrites in place, no slot being free */
};

struct swap_layout {
	enum swap_layout_kind kind;
	uint32_t npages;
	uint32_t nslots;
	uint64_t base;            /* static: the area's first slot */
	uint32_t *dir;            /* dynamic: per page, 1 + its slot, or 0 */
	uint32_t *owner;          /* dynamic: per slot, 1 + its page, or 0: free */
	uint64_t *used;           /* dynamic: a bit per slot, for the next-fit scan */
	uint32_t cursor;          /* dynamic: where the next scan starts */
	uint32_t nfree;
	int64_t last_write;       /* the slot written last, for runs; -2: none */
	struct swap_layout_stats stats;
	pthread_mutex_t lock;
};

/* Parse "static" or "dynamic". 0 or -1. */
int swap_layout_parse(const char *name, enum swap_layout_kind *kind);
const char *swap_layout_name(enum swap_layout_kind kind);

/* The default area of a layout for npages pages: static, npages slots;
 * dynamic, a quarter more (and 64), so that rewrites can move. */
uint32_t swap_layout_default_slots(enum swap_layout_kind kind, uint32_t npages);

/* nslots >= npages. 0, or -1 with a reason in err. */
int swap_layout_init(struct swap_layout *l, enum swap_layout_kind kind, uint32_t npages,
		     uint32_t nslots, char *err, size_t errlen);
void swap_layout_fini(struct swap_layout *l);

/* The slot holding vpn's copy, or -1: none (a page never written reads as
 * zeroes). Static: always base + vpn. */
int64_t swap_layout_lookup(struct swap_layout *l, vpn_t vpn);

/* The slot to write vpn's page to, or -ENOSPC. */
int64_t swap_layout_write_begin(struct swap_layout *l, vpn_t vpn);
/* The write of vpn to slot is over: ok, slot holds vpn's copy now (the old
 * one is freed); not ok, the old copy stays and slot is free again. */
void swap_layout_write_end(struct swap_layout *l, vpn_t vpn, int64_t slot, bool ok);

/* A copy of the statistics, taken under the lock. */
struct swap_layout_stats swap_layout_stats(struct swap_layout *l);

#endif /* PFLAB_SWAP_LAYOUT_H */
