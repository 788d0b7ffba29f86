// SPDX-License-Identifier: MIT
/*
 * The guest's workloads on a host region: see workload.h. Each thread runs
 * the workload on its own slice of the pages, with its own generator, and
 * checks every word it reads against what it wrote: pattern(page, version,
 * word) for whole pages (guest/abi.h), a closed form for the matrix
 * product, a stamp per node for the list.
 */
#include "workload.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../guest/abi.h"
#include "uvm.h"

static const char *const names[WL_NR] = PFLAB_WORKLOAD_NAMES;

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
	switch (kind) {
	case UWL_SCAN: return 2;
	case UWL_RANDOM: return 4;
	case UWL_STRIDE: return 2;
	case UWL_LIST: return 2;
	case UWL_COPY: return 2;
	default: return 1;
	}
}

/* The guest's xorshift64* (guest/main.c). */
static uint64_t rand64(struct slice *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 0x2545f4914f6cdd1dull;
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

static size_t words(const struct slice *s)
{
	return s->w->page_size / 8;
}

static void page_write(struct slice *s, uint32_t vpn)
{
	volatile uint64_t *w = page_addr(s, vpn);
	uint32_t v = ++s->version[vpn], g = s->first + vpn;

	note_ref(s, vpn);
	for (size_t i = 0; i < words(s); i++)
		w[i] = pflab_pattern(g, v, (uint32_t)i);
}

static void page_check(struct slice *s, uint32_t vpn)
{
	volatile uint64_t *w = page_addr(s, vpn);
	uint32_t v = s->version[vpn], g = s->first + vpn;

	note_ref(s, vpn);
	for (size_t i = 0; i < words(s); i++) {
		uint64_t got = w[i], want = pflab_pattern(g, v, (uint32_t)i);

		if (got != want) {
			mismatch(s, vpn, i * 8, want, got);
			return; /* one report per page is enough */
		}
	}
}

static void wl_scan(struct slice *s, uint32_t passes)
{
	for (uint32_t vpn = 0; vpn < s->npages; vpn++)
		page_write(s, vpn);
	for (uint32_t pass = 1; pass < passes; pass++)
		for (uint32_t vpn = 0; vpn < s->npages; vpn++)
			page_check(s, vpn);
}

static void wl_random(struct slice *s, uint32_t passes)
{
	uint64_t n = (uint64_t)passes * s->npages;

	for (uint64_t k = 0; k < n; k++) {
		uint64_t r = rand64(s);
		uint32_t vpn = (uint32_t)((r >> 8) % s->npages);

		if ((r & 3) == 0)
			page_write(s, vpn);
		else
			page_check(s, vpn);
	}
}

static uint32_t gcd(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

static void wl_stride(struct slice *s, uint32_t passes)
{
	uint32_t step = 17;

	while (gcd(step, s->npages) != 1)
		step++;
	for (uint32_t pass = 0; pass < passes; pass++) {
		uint32_t vpn = 0;

		for (uint32_t k = 0; k < s->npages; k++) {
			if (pass == 0)
				page_write(s, vpn);
			else
				page_check(s, vpn);
			vpn = (uint32_t)(((uint64_t)vpn + step) % s->npages);
		}
	}
}

static uint32_t isqrt(uint64_t x)
{
	uint64_t r = 0;

	while ((r + 1) * (r + 1) <= x)
		r++;
	return (uint32_t)r;
}

static inline volatile uint64_t *elem(struct slice *s, uint64_t base, uint32_t n, uint32_t i,
				     uint32_t j)
{
	uint64_t off = base + ((uint64_t)i * n + j) * 8;

	note_ref(s, (uint32_t)(off / s->w->page_size));
	return (volatile uint64_t *)(s->base + off);
}

/* C = A x B with B = 3I, ikj order; C must come out as 3A per pass. */
static void wl_matmul(struct slice *s, uint32_t passes)
{
	uint32_t n = isqrt((uint64_t)s->npages * s->w->page_size / 24);
	uint64_t a = 0, b = (uint64_t)n * n * 8, c = 2 * b;

	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < n; j++) {
			*elem(s, a, n, i, j) = (uint64_t)i * 131 + j + 1;
			*elem(s, b, n, i, j) = i == j ? 3 : 0;
			*elem(s, c, n, i, j) = 0;
		}
	for (uint32_t pass = 0; pass < passes; pass++)
		for (uint32_t i = 0; i < n; i++)
			for (uint32_t k = 0; k < n; k++) {
				uint64_t aik = *elem(s, a, n, i, k);

				for (uint32_t j = 0; j < n; j++)
					*elem(s, c, n, i, j) += aik * *elem(s, b, n, k, j);
			}
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < n; j++) {
			uint64_t want = 3ull * passes * ((uint64_t)i * 131 + j + 1);
			uint64_t got = *elem(s, c, n, i, j);

			if (got != want) {
				uint64_t off = c + ((uint64_t)i * n + j) * 8;

				mismatch(s, (uint32_t)(off / s->w->page_size),
					 (size_t)(off % s->w->page_size), want, got);
			}
		}
}

struct node {
	uint64_t next;
	uint64_t stamp;
};

static volatile struct node *node_of(struct slice *s, uint32_t vpn)
{
	/* Spread the nodes over the page offsets too. */
	return (volatile struct node *)((uint8_t *)page_addr(s, vpn) + (vpn % 256) * 16);
}

static uint64_t node_stamp(uint32_t vpn)
{
	return (uint64_t)(vpn + 1) << 32 | 0x5157;
}

/* One node per page in a single random cycle (Sattolo's shuffle); chase it. */
static int wl_list(struct slice *s, uint32_t passes)
{
	uint32_t n = s->npages, cur = 0, *order = malloc(sizeof(*order) * n);

	if (!order)
		return -ENOMEM;
	for (uint32_t k = 0; k < n; k++)
		order[k] = k;
	for (uint32_t k = n - 1; k > 0; k--) {
		uint32_t j = (uint32_t)(rand64(s) % k), t = order[k];

		order[k] = order[j];
		order[j] = t;
	}
	for (uint32_t vpn = 0; vpn < n; vpn++) {
		volatile struct node *nd = node_of(s, vpn);

		note_ref(s, vpn);
		nd->next = order[vpn];
		nd->stamp = node_stamp(vpn);
	}
	free(order);
	for (uint32_t pass = 0; pass < passes; pass++) {
		for (uint32_t k = 0; k < n; k++) {
			volatile struct node *nd = node_of(s, cur);
			uint64_t stamp = nd->stamp, next = nd->next;

			note_ref(s, cur);
			if (stamp != node_stamp(cur) || next >= n) {
				mismatch(s, cur, (cur % 256) * 16, node_stamp(cur), stamp);
				return 0;
			}
			cur = (uint32_t)next;
		}
		if (cur != 0) {
			mismatch(s, cur, 0, 0, cur);
			return 0;
		}
	}
	return 0;
}

/* Fill the low half, copy it onto the high half with one memcpy that
 * crosses every page, check both halves; again with a new version. */
static void wl_copy(struct slice *s, uint32_t passes)
{
	uint32_t half = s->npages / 2;

	for (uint32_t pass = 0; pass < passes; pass++) {
		for (uint32_t vpn = 0; vpn < half; vpn++)
			page_write(s, vpn);
		memcpy((void *)page_addr(s, half), (const void *)page_addr(s, 0),
		       (size_t)half * s->w->page_size);
		for (uint32_t vpn = 0; vpn < half; vpn++) {
			note_ref(s, vpn);
			note_ref(s, half + vpn);
		}
		for (uint32_t vpn = 0; vpn < half; vpn++) {
			volatile uint64_t *w = page_addr(s, half + vpn);

			note_ref(s, half + vpn);
			for (size_t i = 0; i < words(s); i++) {
				uint64_t want = pflab_pattern(s->first + vpn, s->version[vpn], (uint32_t)i);

				if (w[i] != want) {
					mismatch(s, half + vpn, i * 8, want, w[i]);
					break;
				}
			}
			page_check(s, vpn);
		}
	}
}

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
	uint32_t passes = w->passes ? w->passes : uvm_workload_passes(w->kind);

	switch (w->kind) {
	case UWL_SCAN: wl_scan(s, passes); break;
	case UWL_RANDOM: wl_random(s, passes); break;
	case UWL_STRIDE: wl_stride(s, passes); break;
	case UWL_MATMUL: wl_matmul(s, passes); break;
	case UWL_LIST:
		if (wl_list(s, passes) != 0)
			mismatch(s, 0, 0, 0, 0);
		break;
	case UWL_COPY: wl_copy(s, passes); break;
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
			.rng = (w->seed + i) * 0x9e3779b97f4a7c15ull + 1,
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
