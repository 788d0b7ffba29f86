/* SPDX-License-Identifier: MIT */
/*
 * The client side of the pager-server protocol (docs/external-pager.md):
 * connect, say hello, register regions, and replay references as a machine
 * whose page tables are the client's and whose pager is the server's.
 *
 * Every wait is bounded: a server that does not answer within the timeout,
 * or that closes the connection, fails the call with a one-line reason in
 * c->err; nothing here waits forever.
 */
#ifndef PFLAB_CLIENT_H
#define PFLAB_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct pclient {
	int fd;
	int timeout_ms;
	uint32_t seq;
	uint8_t *in;          /* PROTO_MAX_MSG bytes */
	size_t inlen, inoff;
	uint8_t *batch;       /* a REFS or TOUCH message being filled */
	uint32_t nbatch, batch_region;
	uint16_t batch_type;
	uint8_t *out;         /* PROTO_MAX_MSG bytes: a DATA_RETURN with its page */
	int last_errno;       /* of the last ERROR that failed a call */
	struct pclient_region *cur; /* the region being replayed: absorbs what the
				       server sends unasked (EVICT, RESOLVED) */
	char err[256];
};

/*
 * A region whose pages hold data at the client (the KVM host): what the
 * client does when the server takes a page back or samples it. Called from
 * inside pclient_fault_page() and pclient_sync().
 */
struct pclient_pages {
	void *ctx;
	/* EVICT: unmap page (in frame) and, if dirty (as the server says, or
	 * written here since), set *data to its page_size bytes, valid until
	 * the next call; else *data = NULL. 0 or -errno. */
	int (*evict)(void *ctx, uint32_t page, uint32_t frame, bool dirty, const uint8_t **data);
	/* SAMPLE: unmap page, keep its bytes in frame; its next access traps
	 * and is reported with pclient_touch(). 0 or -errno. */
	int (*sample)(void *ctx, uint32_t page, uint32_t frame);
};

/* What RESOLVED gave: the frame, and the page's bytes (a major fault of a
 * region with a store) or none (zero-fill, or count only). data points into
 * the client's buffer, valid until the next call. */
struct pclient_resolved {
	uint32_t frame;
	const uint8_t *data;
	uint32_t data_len;
	bool sampled;   /* a SAMPLE of the page came with it (a policy that clears
			   the bit of the page it inserts): map it, then sample it */
};

/* One region as the client sees it: which of its pages are mapped. */
struct pclient_region {
	uint32_t id;
	uint32_t npages, frames;
	uint8_t *mapped;      /* per page */
	uint64_t evicts;      /* EVICTs received */
	uint64_t dirty_evicts;
	uint64_t writeback_errors; /* reported by the server, asynchronously */
	int last_writeback_err;    /* the errno of the last one */
	uint32_t last_writeback_page, last_writeback_write; /* its page, the write's number */
	uint64_t unsynced_errors;  /* reported since the last pclient_sync() */
	uint64_t samples;          /* SAMPLEs received */
	uint32_t page_size;
	const struct pclient_pages *pages; /* NULL: count only */
};

/* NULL with the reason in err. */
struct pclient *pclient_connect(const char *addr, int timeout_ms, char *err, size_t errlen);
/* Say goodbye (best effort) and close. */
void pclient_close(struct pclient *c);

/* Register a region of npages pages asking frames frames. 0, or -1 with
 * the reason (the server's ERROR text) in c->err. */
int pclient_register(struct pclient *c, uint32_t npages, uint32_t frames, uint8_t flags,
		     const struct proto_policy *pol, struct pclient_region *r);
void pclient_region_fini(struct pclient_region *r);
/* The same with a store (enum proto_store) and, for PROTO_STORE_MEMORY or
 * PROTO_REG_SAMPLED, the client's page operations (kept, not copied). */
int pclient_register_pages(struct pclient *c, uint32_t npages, uint32_t frames, uint8_t flags,
			   uint8_t store, const struct proto_policy *pol,
			   const struct pclient_pages *pages, struct pclient_region *r);
/* The same with a key (PROTO_REG_KEY; flags may add PROTO_REG_KEEP): the
 * region starts with the pages kept under key for this uid, if any, and
 * with PROTO_REG_KEEP its pages are kept under key when it closes. key NULL:
 * as pclient_register_pages. */
int pclient_register_keyed(struct pclient *c, uint32_t npages, uint32_t frames, uint8_t flags,
			   uint8_t store, const struct proto_policy *pol,
			   const struct pclient_pages *pages, const char *key,
			   struct pclient_region *r);

/*
 * A fault of a client that sees only faults: page vpn missed. The server's
 * EVICTs and SAMPLEs come first (r->pages does them), then RESOLVED: 0 with
 * *out filled; 1 if the server could not read the page in (its ERROR in
 * c->err, the errno in c->last_errno: the access fails, nothing is mapped);
 * -1 on any other failure (a server gone, a bad message).
 */
int pclient_fault_page(struct pclient *c, struct pclient_region *r, uint32_t vpn, bool write,
		       struct pclient_resolved *out);
/* A trap that was no miss (a sampled page accessed again, a read-only one
 * written): batched as a TOUCH, sent before the next request. 0 or -1. */
int pclient_touch(struct pclient *c, struct pclient_region *r, uint32_t vpn, bool write);
/*
 * Sync: everything sent reaches the server, and what it reported before
 * answering is taken. Returns the write-back failures reported since the
 * last sync (each counted by exactly one sync), or -1.
 */
long pclient_sync(struct pclient *c, struct pclient_region *r);

/* Replay n references (page | PROTO_REF_WRITE): hits go in REFS batches,
 * misses are FAULTs answered before the next reference. 0 or -1. */
int pclient_replay(struct pclient *c, struct pclient_region *r, const uint32_t *refs, size_t n);

/* The region's counters (region 0: the server's figures only). 0 or -1. */
int pclient_stats(struct pclient *c, uint32_t region, struct proto_msg *reply);
/* Change the region's policy now. 0 or -1. */
int pclient_set_policy(struct pclient *c, uint32_t region, const struct proto_policy *pol);

/*
 * Hand the region's userfaultfd and the memfd behind it over (PROTO_UFFD,
 * SCM_RIGHTS): the region was registered with PROTO_REG_HANDOVER, base is
 * its address here. From the ACK on, the server resolves its faults. The
 * descriptors stay open here too: a server that dies cannot leave a fault
 * to the kernel's zero page. 0 or -1.
 */
int pclient_handover(struct pclient *c, struct pclient_region *r, uint64_t base, int uffd,
		     int memfd);
/*
 * What the server sent unasked about region r, read without blocking when
 * nothing is there: write-back failures are taken (for the next sync) and
 * 0 returned; any other ERROR (the server failed the region), a closed
 * connection or a bad message is -1 with the reason in c->err.
 */
int pclient_take_async(struct pclient *c, struct pclient_region *r);

/* Low level, for tests: send raw bytes; receive the next message. 0 or -1. */
int pclient_send_raw(struct pclient *c, const void *buf, size_t len);
int pclient_recv(struct pclient *c, struct proto_msg *m);

#endif /* PFLAB_CLIENT_H */
