/* SPDX-License-Identifier: MIT */
/*
 * The DSM manager: the paging server as the central manager of a region
 * shared by several nodes (pflab VMs, each its own process), with the
 * write-invalidate single-writer / multiple-reader protocol of Li and
 * Hudak's Ivy, "Memory Coherence in Shared Virtual Memory Systems" (ACM TOCS
 * 7(4), 1989), in its centralized-manager variant: one manager keeps, per
 * page, the owner and the copy set, and serializes the requests on a page
 * (Ivy's per-page lock). The variant's difference from the paper's: the nodes
 * talk only to the manager, so page data travels node -> manager -> node,
 * and the manager keeps the page's current bytes whenever no node holds it
 * writable (it is then the owner of every read-shared page).
 *
 *   read fault  (REQUEST read):  an owner that writes is asked to DOWNGRADE
 *               (send the page, keep it read-only); then GRANT read, with
 *               the page; the requester joins the copy set.
 *   write fault (REQUEST write): an owner is asked to RETURN the page and
 *               drop it; every other copy is INVALIDATEd (DROP) and each
 *               acknowledged (INV_DONE) before the GRANT write, which carries
 *               the page unless the requester held a current read copy (an
 *               upgrade: no data).
 *
 * A node that disconnects while it owns a page loses that page's only
 * current copy: the page is lost, and every later request for it is answered
 * with ERROR EIO, never with stale bytes. LEAVE first returns the node's
 * pages to the manager (then ACK), so that a node that finishes early takes
 * nothing with it.
 *
 * No I/O here: the server passes messages in and gives the manager a
 * function to queue messages to a connection. Allocation: at the first JOIN,
 * the page table and the pages (bounded by PROTO_DSM_MAX_PAGES); none after.
 */
#ifndef PFLAB_DSM_H
#define PFLAB_DSM_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

/* How the manager reaches connections (a conn is the server's client). */
struct dsm_conn_ops {
	void (*send)(void *ctx, void *conn, struct proto_msg *m);
	/* An ERROR to conn for request req (page, errno, text); close: the
	 * request broke the protocol and the connection ends. */
	void (*error)(void *ctx, void *conn, uint32_t page, int err, const struct proto_msg *req,
		      bool close, const char *text);
};

struct dsm_mgr;

struct dsm_mgr *dsm_create(const struct dsm_conn_ops *ops, void *ctx);
void dsm_destroy(struct dsm_mgr *d);

/* A DSM message (PROTO_DSM_*) from conn. */
void dsm_handle(struct dsm_mgr *d, void *conn, const struct proto_msg *m);
/* conn is gone: its copies are forgotten, the pages it owned are lost. */
void dsm_disconnect(struct dsm_mgr *d, void *conn);
/* The counters since the shared region was created (all zero if none). */
void dsm_stats(const struct dsm_mgr *d, struct proto_dsm_stats *st, uint32_t *nodes,
	       uint32_t *joined);

#endif /* PFLAB_DSM_H */
