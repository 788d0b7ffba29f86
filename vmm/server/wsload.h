/* SPDX-License-Identifier: MIT */
/*
 * Load control by working set (pflab pager --alloc ws; vmm/server/alloc.c
 * applies it, docs/external-pager.md): the estimate of each client's
 * working set from the references the server sees, and the decision of
 * which clients run. No I/O and no clock of its own: time is the caller's
 * (milliseconds), so that a scripted sequence gives exact decisions
 * (tests/test_server.c).
 */
#ifndef PFLAB_WSLOAD_H
#define PFLAB_WSLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One region's pages: when each was last seen referenced. */
struct ws_pages {
	uint64_t *last;   /* per page: time + 1 of its last reference; 0 never */
	uint32_t npages;
};

/* 0, or -ENOMEM. */
int ws_pages_init(struct ws_pages *w, uint32_t npages);
void ws_pages_fini(struct ws_pages *w);
/* Page vpn was referenced (a fault, a hit reported, a touch) at now. */
void ws_note(struct ws_pages *w, uint32_t vpn, uint64_t now);
/* |W(now, tau)|: the pages referenced in (now - tau, now]. */
uint32_t ws_size(const struct ws_pages *w, uint64_t now, uint64_t tau);

/* A client as the decision sees it; ws_decide keeps the last three. */
struct ws_client {
	bool present;      /* connected, with a region */
	uint32_t ws;       /* its working set now (the sum over its regions) */
	bool suspended;
	uint64_t since;    /* suspended since, or running since */
	uint32_t reserved; /* its working set when suspended: what it needs back */
};

enum ws_action { WS_KEEP = 0, WS_SUSPEND, WS_RESUME };

/*
 * One period's decision over cl[0, n) (see wsload.c): fills act[i] and
 * updates suspended, since and reserved. Returns how many changed.
 */
size_t ws_decide(struct ws_client *cl, size_t n, uint32_t frames, uint64_t now, uint64_t tau,
		 uint64_t quantum, enum ws_action *act);

#endif /* PFLAB_WSLOAD_H */
