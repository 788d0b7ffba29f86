/* SPDX-License-Identifier: MIT */
/*
 * The KVM host's backing store: one 4 KiB slot per data-region page, at
 * offset vpn * 4096 of a swap file (or of a buffer in memory, to measure
 * the fault path without the file system). A slot never written reads as
 * zeroes; the pager decides whether a first touch reads the store (a
 * trace's pages, which exist) or is zero-filled (anonymous memory).
 *
 * The store moves bytes between its slots and wherever the page's contents
 * live on the host, which the trap mechanism knows (a frame of the frame
 * memory, or the guest's data region itself under userfaultfd): it asks
 * through page_bytes().
 */
#ifndef PFLAB_SWAP_H
#define PFLAB_SWAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct swap_store {
	struct backing_store bs;
	int fd;                  /* -1 for the in-memory store */
	uint8_t *mem;            /* the in-memory store's slots */
	uint32_t npages;
	char path[4096];         /* a file to remove at close, or "" */
	uint64_t latency_ns;     /* --disk-latency: added to each page_in/page_out */
	int64_t corrupt_vpn;     /* test knob: flip a byte of this page's slot after
				    its first write-back; -1: never */
	uint64_t reads, writes;  /* slot I/Os */

	uint8_t *(*page_bytes)(void *ctx, vpn_t vpn, frame_t f);
	void *ctx;
};

struct swap_config {
	uint32_t npages;
	const char *path;   /* NULL: an anonymous temporary file */
	bool in_memory;     /* no file at all */
	uint64_t latency_ns;
	int64_t corrupt_vpn;
	uint8_t *(*page_bytes)(void *ctx, vpn_t vpn, frame_t f);
	void *ctx;
};

/* 0, or -1 with a reason in err. */
int swap_open(struct swap_store *s, const struct swap_config *cfg, char *err, size_t errlen);
/* Close and remove the file. Safe on a store that failed to open. */
void swap_close(struct swap_store *s);

#endif /* PFLAB_SWAP_H */
