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

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct pclient {
	int fd;
	int timeout_ms;
	uint32_t seq;
	uint8_t *in;          /* PROTO_MAX_MSG bytes */
	size_t inlen, inoff;
	uint8_t *batch;       /* a REFS message being filled */
	uint32_t nbatch, batch_region;
	struct pclient_region *cur; /* the region being replayed: absorbs what the
				       server sends unasked (EVICT, RESOLVED) */
	char err[256];
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

/* Replay n references (page | PROTO_REF_WRITE): hits go in REFS batches,
 * misses are FAULTs answered before the next reference. 0 or -1. */
int pclient_replay(struct pclient *c, struct pclient_region *r, const uint32_t *refs, size_t n);

/* The region's counters (region 0: the server's figures only). 0 or -1. */
int pclient_stats(struct pclient *c, uint32_t region, struct proto_msg *reply);
/* Change the region's policy now. 0 or -1. */
int pclient_set_policy(struct pclient *c, uint32_t region, const struct proto_policy *pol);

/* Low level, for tests: send raw bytes; receive the next message. 0 or -1. */
int pclient_send_raw(struct pclient *c, const void *buf, size_t len);
int pclient_recv(struct pclient *c, struct proto_msg *m);

#endif /* PFLAB_CLIENT_H */
