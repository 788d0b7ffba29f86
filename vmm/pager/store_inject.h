/* SPDX-License-Identifier: MIT */
/*
 * A backing store that fails on purpose: it wraps another store and makes
 * chosen reads (page-ins) and writes (write-backs) fail with a chosen
 * errno, by rules given as text (`--inject`):
 *
 *   SPEC    := RULE [ ',' RULE ]...
 *   RULE    := OP ':' ERRNO '@' TRIGGER [ '/times=' K ]
 *   OP      := read | write
 *   ERRNO   := eio | enospc | enxio | etimedout
 *   TRIGGER := every=N    the N-th, 2N-th, 3N-th ... operation of OP fails
 *            | after=N    every operation of OP after the first N fails
 *            | at=N       the N-th operation of OP fails, once
 *            | page=V     every operation of OP on page V fails
 *   /times=K              this rule fails at most K operations in all
 *
 * Operations are counted per kind from 1 over the whole run; the first rule
 * that matches an operation fails it. A failed operation never reaches the
 * wrapped store: a failed write leaves the slot as it was (the old copy, if
 * any), a failed read leaves the frame's bytes undefined.
 *
 * Every injected error is logged with what became of it: the store sees the
 * later operation of the same kind on the same page that succeeded (a
 * write-back retried, a page-in read again), and the caller notes where it
 * delivered the error (the KVM host: the guest RIP) and whether the guest
 * reported it. docs/faults.md gives the contract.
 */
#ifndef PFLAB_STORE_INJECT_H
#define PFLAB_STORE_INJECT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "types.h"

enum inject_op { INJECT_READ, INJECT_WRITE };
enum inject_trigger { INJECT_EVERY, INJECT_AFTER, INJECT_AT, INJECT_PAGE };

struct inject_rule {
	enum inject_op op;
	enum inject_trigger trigger;
	int err;            /* positive errno */
	uint64_t n;         /* every/after/at: a count of operations; page: a page */
	uint64_t times;     /* at most this many failures (UINT64_MAX: no limit) */
	uint64_t fired;     /* failures so far */
};

/* One injected failure and its fate. */
struct inject_error {
	uint64_t seq;        /* the operation of its kind, from 1 */
	uint64_t retry_seq;  /* the later operation of the same kind on the same
				page that succeeded, or 0 */
	uint64_t where;      /* the caller's note (KVM host: guest RIP of delivery), 0 none */
	vpn_t vpn;
	enum inject_op op;
	int err;             /* positive errno */
	bool reported;       /* the caller's note: the guest reported it */
	bool resident_at_end; /* the caller's note: the page was resident when the run ended */
	uint32_t prev;       /* internal: the previous unresolved error of this page and op */
};

struct inject_store {
	struct backing_store bs;
	/* The paging daemon writes back on its own thread (pool.h): the
	 * counters and the log are kept under this lock. */
	pthread_mutex_t lock;
	struct backing_store *lower;
	struct inject_rule *rules;
	size_t nrules;
	uint64_t ops[2];            /* operations seen, per enum inject_op */
	uint64_t injected[2];       /* operations failed, per enum inject_op */
	struct inject_error *log;
	size_t nlog, log_cap;
	uint32_t *unresolved[2];    /* per page: 1 + the newest unresolved error, or 0 */
	uint32_t npages;            /* of the unresolved arrays */
};

/*
 * Parse a SPEC into *rules (malloc'ed, *n of them). 0, or -1 with a
 * one-line reason in why that names the rule and what is wrong with it.
 */
int inject_parse(const char *spec, struct inject_rule **rules, size_t *n, char *why,
		 size_t whylen);

/* Wrap lower; takes ownership of rules. 0 or -ENOMEM. */
int inject_init(struct inject_store *s, struct backing_store *lower, struct inject_rule *rules,
		size_t nrules);
void inject_fini(struct inject_store *s);

/* Whether any rule fails reads (page-ins) / writes (write-backs). */
bool inject_has(const struct inject_store *s, enum inject_op op);

/*
 * The caller's notes. inject_note_delivery(): a page-in of vpn failed and
 * the error was delivered at `where`; returns 1 + the log index of the
 * newest undelivered read error of vpn, or 0 if the failure was not an
 * injected one. inject_note_reported(): the error of that index was
 * reported back.
 */
size_t inject_note_delivery(struct inject_store *s, vpn_t vpn, uint64_t where);
void inject_note_reported(struct inject_store *s, size_t idx);

/* For a caller that does the wrapped store's I/O itself (asynchronous
 * reads and write-behind, vmm/blockio.c): the fate of one operation, as
 * page_in and page_out judge theirs. 0 to go ahead, or -errno (logged). */
int inject_judge(struct inject_store *s, enum inject_op op, vpn_t vpn);

/* "EIO", "ENOSPC", ...: the name --inject takes, upper-cased. */
const char *inject_errno_name(int err);

#endif /* PFLAB_STORE_INJECT_H */
