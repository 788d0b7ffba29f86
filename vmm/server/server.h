/* SPDX-License-Identifier: MIT */
/*
 * The paging server: pflab's pager as a process of its own, serving the
 * faults of several clients over stream sockets (docs/external-pager.md).
 *
 * The server is one more client of vmm/pager/: each region a client
 * registers gets a pager of its own, on an MMU that does not program page
 * tables but records which page of which client is in which frame, and
 * tells the client (RESOLVED: map it; EVICT: give it back). The frame budget
 * is split in fixed partitions: a region is granted its frames when it
 * registers, from what is left, and they return when it closes. Its pages
 * are counted against max_pages the same way, so that no client can make the
 * server allocate more than the operator allowed.
 *
 * One thread, one poll loop. Every message is checked (proto.c for its
 * form, here for its meaning: the region is the sender's, the page is in
 * range, a hit is on a page the server gave it); one that fails gets its
 * sender an ERROR and a disconnect, and touches no other client's state.
 */
#ifndef PFLAB_SERVER_H
#define PFLAB_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

#define PSERVER_MAX_CLIENTS 64
#define PSERVER_MAX_REGIONS 8   /* per client */
#define PSERVER_MAX_UIDS 8
#define PSERVER_MAX_KEPT 64     /* --keep-regions at most */

/* How the frame budget is shared (vmm/server/alloc.c). */
enum pserver_alloc {
	PSERVER_FIXED,  /* fixed partitions, granted at registration */
	PSERVER_GLOBAL, /* global replacement: one CLOCK over every client's pages */
	PSERVER_PFF,    /* global, and load control by page-fault frequency */
	PSERVER_WS,     /* global, and load control by working set (wsload.h) */
};

struct pserver_config {
	uint32_t frames;            /* the budget shared by every client */
	uint64_t max_pages;         /* the pages of every region together: what a
				       client may make the server allocate for
				       page tables and policy history */
	uid_t allow_uid[PSERVER_MAX_UIDS]; /* besides the server's own uid */
	size_t nallow;
	bool verbose;               /* one line on stderr per connect and disconnect */
	const char *inject;         /* --inject SPEC (store_inject.h), checked by the
				       caller: each region's store fails as it says */
	enum pserver_alloc alloc;
	uint32_t pff_high;          /* pff: faults/s above which a client thrashes */
	uint32_t quantum_ms;        /* pff and ws: the longest suspension (below the
				       clients' timeout) */
	uint32_t tau_ms;            /* ws: the working set's window tau */
	uint32_t period_ms;         /* pff, ws and series: the measuring period */
	FILE *series;               /* per period and client: time, client, faults/s,
				       suspended; or NULL */
	uint32_t keep_regions;      /* regions whose pages may be kept past their
				       client's close (keep.c), at most PSERVER_MAX_KEPT */
	uint64_t keep_pages;        /* the pages of every kept region together */
};

struct pserver;

/*
 * Listen on ADDR: "unix:PATH" (PATH must not exist: an existing file is
 * never replaced) or "tcp:HOST:PORT" (HOST a numeric IPv4 address; the
 * command line defaults it to 127.0.0.1). Returns the server, or NULL with
 * a one-line reason in err.
 */
struct pserver *pserver_create(const char *addr, const struct pserver_config *cfg, char *err,
			       size_t errlen);
/* Close every connection, and remove the Unix socket this server made. */
void pserver_destroy(struct pserver *s);

/* Serve until stop_fd (e.g. a signalfd) is readable. 0, or -1 with the
 * reason in err if polling itself fails. */
int pserver_run(struct pserver *s, int stop_fd, char *err, size_t errlen);

/* The port a "tcp:HOST:0" server got. */
int pserver_port(const struct pserver *s);

/* Parse "unix:PATH" or "tcp:HOST:PORT" into a socket address. 0, or -1 with
 * a reason. Shared by the client. */
int pserver_parse_addr(const char *addr, struct sockaddr_storage *sa, socklen_t *salen,
		       char *err, size_t errlen);

#endif /* PFLAB_SERVER_H */
