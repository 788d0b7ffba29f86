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

#include "io.h"
#include "store.h"
#include "swap_layout.h"

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
	/* Where each page's copy lives: swap_layout.h, docs/swap.md. */
	struct swap_layout layout;
	bool layout_ready;
	uint32_t nslots;
	uint64_t seek_ns;        /* --disk-seek: added to an I/O not next to the last one */
	int64_t last_io_slot;
	uint64_t seeks;          /* I/Os not next to the last one, read or write */
	/* --disk-depth: the I/O engine that does the slot I/O and models the
	 * disk (vmm/io/io.h), or NULL: each I/O on the caller's thread, as
	 * modelled_latency() charges it. */
	struct io_engine *io;

	uint8_t *(*page_bytes)(void *ctx, vpn_t vpn, frame_t f);
	void *ctx;
};

struct swap_config {
	uint32_t npages;
	const char *path;   /* NULL: an anonymous temporary file */
	bool reuse;         /* path exists and is the user's: open it as it is, never
			     * truncate or remove it (else it must not exist: it is
			     * created, and removed at close) */
	bool in_memory;     /* no file at all */
	uint64_t latency_ns;
	int64_t corrupt_vpn;
	uint8_t *(*page_bytes)(void *ctx, vpn_t vpn, frame_t f);
	void *ctx;
	enum swap_layout_kind layout; /* static (the default) or dynamic */
	uint32_t nslots;    /* the area, in slots; 0: swap_layout_default_slots() */
	uint64_t seek_ns;
	uint32_t disk_depth;     /* 0: no I/O engine; else its queue depth */
	enum io_sched disk_sched;
};

/* 0, or -1 with a reason in err. */
int swap_open(struct swap_store *s, const struct swap_config *cfg, char *err, size_t errlen);
/* Close and remove the file. Safe on a store that failed to open. */
void swap_close(struct swap_store *s);

#endif /* PFLAB_SWAP_H */
