/* SPDX-License-Identifier: MIT */
/*
 * The backing store interface: where a page's contents live while it is not
 * resident. The pager decides *when* to read or write a page; the store
 * decides *where* (a swap slot, a file offset) and does the I/O.
 *
 * The simulator runs without a store (the pager then only counts); the KVM
 * host supplies one that moves real page contents between the swap file and
 * the frame's memory.
 */
#ifndef PFLAB_STORE_H
#define PFLAB_STORE_H

#include "types.h"

struct backing_store;

struct store_ops {
	/* Fill frame f with vpn's contents from the store. 0 or -errno. */
	int (*page_in)(struct backing_store *bs, vpn_t vpn, frame_t f);
	/* Fill frame f with zeroes: vpn was never written back. 0 or -errno. */
	int (*zero_fill)(struct backing_store *bs, vpn_t vpn, frame_t f);
	/* Write frame f's contents back as vpn's copy. 0 or -errno. */
	int (*page_out)(struct backing_store *bs, vpn_t vpn, frame_t f);
};

struct backing_store {
	const struct store_ops *ops;
};

#endif /* PFLAB_STORE_H */
