// SPDX-License-Identifier: MIT
/*
 * The guest's workloads on a host region: see workload.h. Each thread runs
 * the workload on its own slice of the pages, with its own random
 * generator; the generators are the guest's own (guest/workload_gen.h),
 * which check every word they read against what they wrote. The trace's
 * replay is the host's (guest/replay.c fetches the trace from the host in
 * batches; here it is an array).
 */
#include "workload.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../guest/abi.h"
#include "../../guest/workload_gen.h"
#include "uvm.h"

static const char *const names[WL_NR] = PFLAB_WORKLOAD_NAMES;
/* A kind is the guest's workload number (names[], pflab_workload_passes). */
#define SAME(k) ((int)UWL_##k == (int)WL_##k)
_Static_assert(SAME(SCAN) && SAME(RANDOM) && SAME(STRIDE) && SAME(MATMUL) && SAME(LIST) &&
	       SAME(COPY) && SAME(TRACE), "uvm_workload_kind follows enum pflab_workload");
#undef SAME

/* One thread's slice and state. */
struct slice {
	struct uvm_workload *w;
	uint8_t *base;
	uint32_t first;         /* the slice's first page in the region */
	uint32_t npages;
	uint64_t rng;
	uint32_t *version;      /* per page of the slice */
	uint32_t last_vpn;
	uint64_t refs;
	uint64_t mismatches;
	char first_mismatch[160];
};

enum uvm_workload_kind uvm_workload_find(const char *name)
{
	if (name && strcmp(name, "strided") == 0)
		return UWL_STRIDE;
	for (int k = UWL_SCAN; k <= UWL_TRACE; k++)
		if (name && strcmp(names[k], name) == 0)
			return (enum uvm_workload_kind)k;
	return 0;
}

const char *uvm_workload_name(enum uvm_workload_kind kind)
{
	return kind >= UWL_SCAN && kind <= UWL_TRACE ? names[kind] : "?";
}

uint32_t uvm_workload_passes(enum uvm_workload_kind kind)
{
	return pflab_workload_passes((uint32_t)kind); /* the kinds are the guest's numbers */
}

static inline void note_ref(struct slice *s, uint32_t vpn)
{
	if (vpn != s->last_vpn) {
		s->refs++;
		s->last_vpn = vpn;
	}
}

static void mismatch(struct slice *s, uint32_t vpn, size_t off, uint64_t want, uint64_t got)
{
	if (s->mismatches++ == 0)
		snprintf(s->first_mismatch, sizeof(s->first_mismatch),
			 "page %u offset %zu: expected 0x%016llx, got 0x%016llx", s->first + vpn, off,
			 (unsigned long long)want, (unsigned long long)got);
}

static inline volatile uint64_t *page_addr(struct slice *s, uint32_t vpn)
{
	return (volatile uint64_t *)(s->base + (size_t)vpn * s->w->page_size);
}

static uint32_t words(const struct slice *s)
{
	return (uint32_t)(s->w->page_size / 8);
}

static void page_write(struct slice *s, uint32_t vpn)
{
	uint32_t v = ++s->version[vpn];

	note_ref(s, vpn);
	wlg_fill(page_addr(s, vpn), words(s), s->first + vpn, v);
}

static void page_check(struct slice *s, uint32_t vpn)
{
	uint64_t want, got;
	uint32_t i;

	note_ref(s, vpn);
	i = wlg_verify(page_addr(s, vpn), words(s), s->first + vpn, s->version[vpn], &want, &got);
	if (i < words(s))
		mismatch(s, vpn, (size_t)i * 8, want, got); /* one report per page is enough */
}

/* The generators' host half (guest/workload_gen.h): a slice's page vpn is
 * the region's page s->first + vpn, at s->base + vpn pages. */
static void gen_write(void *ctx, uint32_t vpn)
{
	page_write(ctx, vpn);
}

static void gen_check(void *ctx, uint32_t vpn)
{
	page_check(ctx, vpn);
}

static inline void gen_ref(void *ctx, uint32_t vpn)
{
	note_ref(ctx, vpn);
}

static void gen_mismatch(void *ctx, uint32_t vpn, uint32_t off, uint64_t want, uint64_t got)
{
	mismatch(ctx, vpn, off, want, got);
}

static void gen_copy(volatile void *dst, const volatile void *src, uint64_t bytes)
{
	memcpy((void *)dst, (const void *)src, bytes);
}

static const struct wlg_ops host_ops = {
	.write = gen_write, .check = gen_check, .ref = gen_ref, .mismatch = gen_mismatch,
	.copy = gen_copy,
};

/* One pass over the page per reference, as guest/replay.c: the index is
 * published before the access, a read checks every word, a write stores
 * the next version in every word. */
static void wl_trace(struct slice *s)
{
	const struct uvm_workload *w = s->w;

	for (size_t i = 0; i < w->nrefs; i++) {
		uint32_t r = w->refs[i], vpn = r & ~PFLAB_REF_WRITE;

		if (vpn >= s->npages) {
			mismatch(s, vpn, 0, s->npages, vpn);
			return;
		}
		if (w->on_tick && w->tick && i && i % w->tick == 0)
			w->on_tick(w->tick_ctx, i);
		*w->index = i;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		s->last_vpn = UINT32_MAX; /* a trace counts every reference */
		if (r & PFLAB_REF_WRITE)
			page_write(s, vpn);
		else
			page_check(s, vpn);
	}
}

static void *slice_main(void *arg)
{
	struct slice *s = arg;
	struct uvm_workload *w = s->w;
	struct wlg x = {
		.ops = &host_ops, .ctx = s, .base = s->base, .first = s->first,
		.npages = s->npages, .page_size = (uint32_t)w->page_size,
		.passes = w->passes ? w->passes : uvm_workload_passes(w->kind), .rng = &s->rng,
		.version = s->version,
	};
	uint32_t *order;

	switch (w->kind) {
	case UWL_SCAN: wlg_scan(&x); break;
	case UWL_RANDOM: wlg_random(&x); break;
	case UWL_STRIDE: wlg_stride(&x); break;
	case UWL_MATMUL: wlg_matmul(&x); break;
	case UWL_LIST:
		order = malloc(sizeof(*order) * s->npages);
		if (order)
			wlg_list(&x, order);
		else
			mismatch(s, 0, 0, 0, 0);
		free(order);
		break;
	case UWL_COPY: wlg_copy(&x); break;
	case UWL_TRACE: wl_trace(s); break;
	}
	return NULL;
}

static void slice_green(void *arg)
{
	slice_main(arg);
}

/* The slices as green threads on this thread. */
static int run_green(struct uvm_workload *w, struct slice *sl, unsigned t)
{
	char err[160];
	struct uvm_green *g = uvm_green_create(w->green, t, 0, err, sizeof(err));
	struct uvm_green_stats st;
	int rc = 0;

	if (!g)
		return -ENOMEM;
	for (unsigned i = 0; i < t && !rc; i++)
		rc = uvm_green_spawn(g, slice_green, &sl[i]);
	if (!rc)
		rc = uvm_green_run(g);
	uvm_green_stats(g, &st);
	w->green_parks = st.parks;
	uvm_green_destroy(g);
	return rc;
}

int uvm_workload_run(struct uvm_workload *w)
{
	unsigned t = w->kind == UWL_TRACE || !w->threads ? 1 : w->threads, started = 0;
	struct slice *sl;
	pthread_t *tid;
	int rc = 0;

	if (t > w->npages)
		return -EINVAL;
	sl = calloc(t, sizeof(*sl));
	tid = calloc(t, sizeof(*tid));
	if (!sl || !tid) {
		free(sl);
		free(tid);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < t && !rc; i++) {
		uint32_t from = (uint32_t)((uint64_t)w->npages * i / t);
		uint32_t to = (uint32_t)((uint64_t)w->npages * (i + 1) / t);

		sl[i] = (struct slice){
			.w = w, .base = w->base + (size_t)from * w->page_size, .first = from,
			.npages = to - from, .last_vpn = UINT32_MAX,
			.rng = wlg_seed(w->seed + i),
			.version = calloc(to - from, sizeof(uint32_t)),
		};
		if (!sl[i].version)
			rc = -ENOMEM;
	}
	if (!rc && w->green) {
		rc = run_green(w, sl, t);
	} else if (!rc && t == 1) {
		slice_main(&sl[0]);
	} else if (!rc) {
		for (; started < t; started++) {
			int e = pthread_create(&tid[started], NULL, slice_main, &sl[started]);

			if (e) {
				rc = -e;
				break;
			}
		}
		for (unsigned i = 0; i < started; i++)
			pthread_join(tid[i], NULL);
	}
	w->refs_made = 0;
	w->mismatches = 0;
	for (unsigned i = 0; i < t; i++) {
		w->refs_made += sl[i].refs;
		if (sl[i].mismatches && !w->mismatches)
			memcpy(w->first_mismatch, sl[i].first_mismatch, sizeof(w->first_mismatch));
		w->mismatches += sl[i].mismatches;
		free(sl[i].version);
	}
	if (w->kind == UWL_TRACE)
		w->refs_made = w->nrefs;
	free(sl);
	free(tid);
	return rc;
}
