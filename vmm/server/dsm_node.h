/* SPDX-License-Identifier: MIT */
/*
 * A DSM node: the client side of the DSM manager's protocol (dsm.h,
 * docs/external-pager.md, "Distributed shared memory"), for one machine
 * whose shared pages live in memory the caller owns. It knows no KVM: the
 * caller says how to make a page absent, read-only or writable (ops), and
 * where each page's bytes are.
 *
 * Two threads use a node: the faulting one (dsm_node_fault: send a REQUEST,
 * wait for its GRANT) and the node's own service thread, which reads every
 * message from the manager and answers invalidations at once, whatever the
 * faulting thread does, so that a node waiting for a page can still give
 * its own pages away (no deadlock between two nodes that each want the
 * other's page). A page just granted is pinned until dsm_node_unpin(): an
 * invalidation that arrives meanwhile waits for it, so that an access the
 * caller completes itself (an emulated MMIO store) lands before the page
 * leaves.
 *
 * Every wait is bounded (timeout_ms): a manager that does not answer, that
 * closes the connection or that answers ERROR fails the fault with a
 * one-line reason, and the node stays failed.
 */
#ifndef PFLAB_DSM_NODE_H
#define PFLAB_DSM_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A page's access at this node. */
enum dsm_access { DSM_NONE = 0, DSM_READ = 1, DSM_WRITE = 2 };

struct dsm_node_ops {
	/* Make page vpn absent, read-only or writable; its bytes stay where
	 * page() says. 0 or -errno. Called with the node's lock held, from
	 * either thread. */
	int (*set_access)(void *ctx, uint32_t vpn, enum dsm_access a);
	/* Where page vpn's PROTO_DSM_PAGE bytes are, mapped or not. */
	uint8_t *(*page)(void *ctx, uint32_t vpn);
	/* The node failed (the reason): once, from either thread, with the
	 * node's lock held; may be NULL. A guest spinning on a page it holds
	 * never faults again: this is the caller's chance to stop it. */
	void (*on_fail)(void *ctx, const char *why);
};

/* Per node: what it asked, received and gave. */
struct dsm_node_stats {
	uint64_t read_faults, write_faults; /* REQUESTs sent */
	uint64_t upgrades;                  /* write grants without data */
	uint64_t pages_in;                  /* grants with the page */
	uint64_t pages_out;                 /* pages sent back (RETURN, DOWNGRADE) */
	uint64_t invalidations;             /* INVALIDATEs received */
	uint64_t raced;                     /* faults on pages already accessible */
	uint64_t lat_sum_ns, lat_max_ns;    /* REQUEST to GRANT */
};

struct dsm_node;

/*
 * Connect to the manager at addr (unix:PATH or tcp:HOST:PORT), say HELLO,
 * JOIN as node `node` of `nodes` sharing `npages` pages, and start the
 * service thread. NULL with the reason in err.
 */
struct dsm_node *dsm_node_open(const char *addr, uint32_t node, uint32_t nodes, uint32_t npages,
			       int timeout_ms, const struct dsm_node_ops *ops, void *ctx,
			       char *err, size_t errlen);

/* An access to page vpn trapped: get it (read, or write), mapped, pinned.
 * 0; or -1 with the reason in dsm_node_error() (the manager failed or
 * refused: the access must fail, never read zeros). */
int dsm_node_fault(struct dsm_node *n, uint32_t vpn, bool write);
/* The access that faulted is complete: let the page go if it is asked for. */
void dsm_node_unpin(struct dsm_node *n);

/* Give the node's pages back to the manager and wait (bounded) for its
 * ACK. 0 or -1. */
int dsm_node_leave(struct dsm_node *n);
/* Stop the service thread and close. */
void dsm_node_close(struct dsm_node *n);

const char *dsm_node_error(const struct dsm_node *n);
void dsm_node_get_stats(struct dsm_node *n, struct dsm_node_stats *st);
/* Fault latencies so far (ns, REQUEST to GRANT), in order; *count set. The
 * array is the node's: valid until the next fault or close. */
const uint32_t *dsm_node_latencies(struct dsm_node *n, size_t *count);

#endif /* PFLAB_DSM_NODE_H */
