// SPDX-License-Identifier: MIT
/* Synthetic reference strings: see gen.h and docs/formats.md. */
#include "gen.h"

#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {
	[GEN_SEQ] = "seq", [GEN_UNIFORM] = "uniform", [GEN_ZIPF] = "zipf", [GEN_STRIDED] = "strided",
};

int gen_kind_parse(const char *name, enum gen_kind *kind)
{
	if (strcmp(name, "loop") == 0) {
		*kind = GEN_SEQ;
		return 0;
	}
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
		if (strcmp(name, kind_names[i]) == 0) {
			*kind = (enum gen_kind)i;
			return 0;
		}
	}
	return -1;
}

const char *gen_kind_name(enum gen_kind kind)
{
	return kind_names[kind];
}

int gen_init(struct gen *g, const struct gen_phase *phases, size_t n, uint64_t seed,
	     double write_ratio)
{
	*g = (struct gen){ 0 };
	g->phases = malloc(sizeof(*phases) * (n ? n : 1));
	if (!g->phases)
		return -1;
	memcpy(g->phases, phases, sizeof(*phases) * n);
	g->nphases = n;
	g->write_ratio = write_ratio;
	rng_seed(&g->pages, seed);
	/* A second stream, far from the first: splitmix64 spreads the seeds. */
	rng_seed(&g->writes, seed ^ 0x5851f42d4c957f2dULL);
	return 0;
}

/* The page of reference i (from 0) of a phase. */
static inline uint64_t next_page(struct gen *g, const struct gen_phase *ph, uint64_t i)
{
	switch (ph->kind) {
	case GEN_SEQ:
		return ph->base + i % ph->pages;
	case GEN_UNIFORM:
		return ph->base + rng_below(&g->pages, ph->pages);
	case GEN_ZIPF:
		return ph->base + zipf_draw(&g->zipf, &g->pages);
	case GEN_STRIDED:
	default: {
		uint64_t touched = (ph->pages + ph->stride - 1) / ph->stride;

		return ph->base + (i % touched) * ph->stride;
	}
	}
}

ptrdiff_t gen_fill(struct gen *g, struct trace_ref *buf, size_t max)
{
	size_t n = 0;

	while (n < max && g->cur < g->nphases) {
		const struct gen_phase *ph = &g->phases[g->cur];
		uint64_t left = ph->refs - g->done;
		size_t k = left < max - n ? (size_t)left : max - n;

		if (ph->kind == GEN_ZIPF && !g->zipf.n &&
		    zipf_init(&g->zipf, (uint32_t)ph->pages, ph->alpha, ph->refs) != 0)
			return -1;
		for (size_t i = 0; i < k; i++) {
			buf[n + i].page = next_page(g, ph, g->done + i);
			buf[n + i].write = g->write_ratio > 0 && rng_unit(&g->writes) < g->write_ratio;
		}
		n += k;
		g->done += k;
		if (g->done == ph->refs) {
			zipf_fini(&g->zipf);
			g->cur++;
			g->done = 0;
		}
	}
	return (ptrdiff_t)n;
}

void gen_fini(struct gen *g)
{
	zipf_fini(&g->zipf);
	free(g->phases);
	g->phases = NULL;
}
