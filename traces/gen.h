/* SPDX-License-Identifier: MIT */
/*
 * Synthetic reference strings for `pflab trace gen`: a sequence of phases,
 * each a kind of access over its own range of pages. The same phases, seed
 * and write ratio give the same references on every machine.
 */
#ifndef PFLAB_GEN_H
#define PFLAB_GEN_H

#include <stddef.h>

#include "rng.h"
#include "trace.h"
#include "zipf.h"

enum gen_kind {
	GEN_SEQ,     /* base, base+1, ..., base+pages-1, again and again */
	GEN_UNIFORM, /* each page of the range equally likely */
	GEN_ZIPF,    /* page base+k-1 with probability ~ 1/k^alpha */
	GEN_STRIDED, /* base, base+stride, ... below base+pages, again */
};

#define GEN_MAX_PAGES 0x7fffffffu /* a pft trace holds at most this many */

struct gen_phase {
	enum gen_kind kind;
	uint64_t pages;  /* 1 .. GEN_MAX_PAGES */
	uint64_t refs;
	uint64_t base;   /* the first page id of the range */
	uint64_t stride; /* strided */
	double alpha;    /* zipf */
};

struct gen {
	struct gen_phase *phases;
	size_t nphases, cur;
	uint64_t done;           /* references given in the current phase */
	struct rng pages, writes; /* two streams: the write ratio leaves the pages alone */
	double write_ratio;
	struct zipf zipf;
};

/* The kind named seq, loop (the same as seq), uniform, zipf or strided. -1 if none. */
int gen_kind_parse(const char *name, enum gen_kind *kind);
const char *gen_kind_name(enum gen_kind kind);

/* Copies phases. 0, or -1 (out of memory). */
int gen_init(struct gen *g, const struct gen_phase *phases, size_t n, uint64_t seed,
	     double write_ratio);
/* Up to max references; 0 at the end, -1 when out of memory (a Zipf table). */
ptrdiff_t gen_fill(struct gen *g, struct trace_ref *buf, size_t max);
void gen_fini(struct gen *g);

#endif /* PFLAB_GEN_H */
