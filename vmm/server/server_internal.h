/* SPDX-License-Identifier: MIT */
/*
 * Inside the paging server (server.h is its interface): its clients, their
 * regions and what the files of vmm/server/ share.
 *
 *   server.c    the sockets, the poll loop, the messages, the remote MMU
 *   handover.c  a region whose client handed its userfaultfd over: the
 *               server maps and unmaps the client's pages itself
 *   keep.c      regions whose pages are kept past their client's close,
 *               under a key of the client's uid
 */
#ifndef PFLAB_SERVER_INTERNAL_H
#define PFLAB_SERVER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/un.h>

#include "pager.h"
#include "proto.h"
#include "server.h"
#include "store_inject.h"
#include "wsload.h"

#define RMMU_REFERENCED 0x1u
#define RMMU_DIRTY      0x2u
/* Stop reading a client while this much of its output waits: a client that
 * sends without reading cannot make the server buffer without bound. */
#define OUT_HIGH (4 * PROTO_MAX_MSG)

struct client;
struct handover;
struct kept;

/*
 * The remote MMU: the client's page tables live in the client; the server
 * keeps the referenced and dirty bits the client's REFS and FAULTs report
 * (as the simulated MMU does for the trace replayer), and turns every unmap
 * into an EVICT to the client. map() needs nothing sent: the fault's
 * RESOLVED follows when pager_fault returns.
 */
struct rmmu {
	struct mmu mmu;
	uint8_t *bits; /* per frame */
	struct region *r;
};

struct region {
	uint32_t id;       /* 0: slot unused; else slot index + 1 */
	uint32_t npages;
	uint32_t frames;   /* the partition granted, returned to the budget at close */
	uint32_t *unreturned; /* per page: EVICTs not yet answered by a DATA_RETURN */
	uint8_t *owed;     /* per page: a dirty EVICT whose bytes the DATA_RETURN must bring */
	uint64_t data_returns;
	/* PROTO_STORE_MEMORY: every page's copy, npages * page_size bytes
	 * reserved (MAP_NORESERVE: only pages written back take memory). */
	uint8_t *data;
	uint32_t page_size;
	bool sampled;      /* PROTO_REG_SAMPLED: clearing a referenced bit is a SAMPLE */
	struct handover *ho; /* PROTO_REG_HANDOVER (handover.c), or NULL */
	struct rmmu mmu;
	struct pager *pager;
	struct client *c;
	bool injecting;            /* inj wraps null_store and is the pager's store */
	struct inject_store inj;
	size_t log_seen;           /* inj.log entries already reported */
	struct kept *kept;         /* keep.c: the kept pages this region uses, or NULL */
	struct ws_pages ws;        /* --alloc ws: when each page was last seen referenced */
	bool keep;                 /* PROTO_REG_KEEP: keep them at the close, else drop */
};

/*
 * A region's pages kept past its client's close (PROTO_REG_KEEP): the
 * memory store's bytes, every resident page written there first, under
 * (uid, key). A slot is reserved by the REGISTER that asks to keep, so that
 * a close never finds the limits reached; it is freed when a region that
 * took it back closes without keeping (PROTO_REG_KEY alone).
 */
struct kept {
	bool used;
	bool filled;       /* a close kept pages here (else reserved: nothing yet) */
	bool lost;         /* a resident page could not be read back at the close */
	uint32_t lost_page;
	uid_t uid;
	char key[PROTO_KEY + 1];
	uint32_t npages, page_size;
	uint8_t *data;     /* npages * page_size, the region's store once filled */
	struct region *r;  /* the region using it now, or NULL */
};

struct client {
	int fd;            /* -1: slot unused */
	bool hello;        /* HELLO exchanged */
	bool closing;      /* flush what is queued, then close */
	bool cred_known;
	uid_t uid;
	uint32_t seq;      /* of the server's own messages */
	uint8_t *in;       /* PROTO_MAX_MSG bytes */
	size_t inlen;
	uint8_t *out;
	size_t outlen, outcap;
	int fds[2];        /* descriptors received (SCM_RIGHTS) for a PROTO_UFFD */
	unsigned nfds;
	unsigned number;   /* the connection's number, from 1: the series' client */
	uint64_t period_faults; /* alloc.c: faults this period */
	bool suspended;    /* pff: its messages are not read */
	uint64_t since_ms, active_ms; /* suspended since / running since */
	uint32_t ws_reserved;      /* ws: its working set when suspended (wsload.h) */
	struct region regions[PSERVER_MAX_REGIONS];
	struct pserver *s;
};

struct dsm_mgr;

struct pserver {
	int lfd;
	bool unix_socket;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;         /* of the socket file made, to remove only that */
	ino_t ino;
	struct pserver_config cfg;
	uint32_t frames_free;
	uint64_t pages_free;       /* of cfg.max_pages */
	unsigned nclients;
	unsigned connections;      /* ever accepted */
	struct client clients[PSERVER_MAX_CLIENTS];
	/* alloc.c */
	unsigned hand_client, hand_region;
	frame_t hand_frame;
	uint64_t start_ms, period_ms_start;
	uint64_t suspensions;
	uint64_t now_ms;           /* alloc.c: the time of the current poll round */
	struct dsm_mgr *dsm;       /* the DSM manager (dsm.h): its messages go there */
	struct kept kept[PSERVER_MAX_KEPT]; /* keep.c: cfg.keep_regions of them in use */
	uint64_t kept_pages_free;  /* of cfg.keep_pages */
};

/* server.c: append m to c's output (a client whose output cannot grow is
 * closed); an ERROR with a printf-style text. */
void queue(struct client *c, struct proto_msg *m);
void queue_error(struct client *c, uint32_t region, uint32_t page, int err,
		 const struct proto_msg *req, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/*
 * A miss on vpn of region r, for the message m, as the trace replayer's
 * fault path (vmm/pager/sim.c): the frame; or NO_FRAME with an ERROR queued
 * (a page-in that failed: the connection stays; anything else: it closes).
 */
frame_t region_miss(struct client *c, struct region *r, vpn_t vpn, uint8_t access,
		    const struct proto_msg *m);
/* Write-back failures since the last report, each reported once. */
void report_writeback_errors(struct client *c, struct region *r);

/* alloc.c (see there): a miss of r is coming (count it; global: free a
 * frame somewhere if the budget is used up); the frames free as STATS says;
 * whether c's messages wait; the period's work, returning the poll timeout
 * (ms, -1 none). */
void alloc_before_miss(struct client *c, struct region *r);
uint32_t alloc_frames_free(const struct pserver *s);
bool alloc_suspended(const struct client *c);
/* ws: page vpn of r was referenced (a fault, a hit, a touch), now. */
void alloc_note_ref(struct region *r, vpn_t vpn);
int alloc_tick(struct pserver *s);
uint64_t alloc_now_ms(void);

/*
 * keep.c. keep_check: what a REGISTER with a key (m) may do: 0 with *k the
 * kept pages to take back (or NULL: none under that key), or -errno with
 * the reason; nothing is changed. keep_attach: after the region r is made,
 * take *k (or reserve a new slot, if r keeps): cannot fail after
 * keep_check. keep_close: at r's close, keep its pages (r->data becomes the
 * slot's, resident pages written first) or free the slot it took back.
 */
int keep_check(struct pserver *s, const struct client *c, const struct proto_msg *m,
	       struct kept **k, char *why, size_t whylen);
void keep_attach(struct pserver *s, struct region *r, struct kept *k, const struct proto_msg *m);
void keep_close(struct pserver *s, struct region *r);
void keep_destroy(struct pserver *s);

/* handover.c: a region whose client hands its userfaultfd over. */
struct handover *handover_create(struct region *r, uint32_t frames);
void handover_destroy(struct handover *h);
struct mmu *handover_mmu(struct handover *h);
struct backing_store *handover_store(struct handover *h);
/* The uffd once attached, else -1. */
int handover_uffd(const struct handover *h);
/* Take the client's uffd and memfd (kept, closed by handover_destroy) for
 * the region at base in the client. 0, or -errno with a reason. */
int handover_attach(struct handover *h, int uffd, int memfd, uint64_t base, char *why,
		    size_t whylen);
/* Write every page resident in r's frames (or the client's memfd) to
 * r->data. 0, or -errno with *bad the first page that could not be read. */
int handover_save(struct handover *h, struct pager *p, vpn_t *bad);
/* Serve the faults queued on the uffd. 0, or -1: close the client. */
int handover_serve(struct client *c, struct region *r, struct handover *h);

#endif /* PFLAB_SERVER_INTERNAL_H */
