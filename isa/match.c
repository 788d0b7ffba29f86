// SPDX-License-Identifier: MIT
/*
 * Which access of an instruction caused a fault. A fault address names a
 * byte (x86 CR2, an exact guest-physical address) or at least a page; an
 * access that straddles a page boundary is two parts, and either can fault
 * (the second when only the second page is missing). Two passes, each in
 * architectural order: a part containing the address, then a part on its
 * page. A string instruction is matched over all its remaining iterations.
 */
#include "internal.h"

struct matcher {
	const struct isa_fault *f;
	uint64_t ps;        /* page size */
	uint64_t fpage;     /* page of the fault address */
};

static uint64_t page_of(const struct matcher *m, uint64_t a)
{
	return a & ~(m->ps - 1);
}

/*
 * Where a linear part is in the fault's address space: its start there,
 * false when the translator says the page is not mapped.
 */
static bool place(const struct matcher *m, uint64_t linear, uint64_t *where)
{
	uint64_t phys;

	if (!m->f->xlat) {
		*where = linear;
		return true;
	}
	if (m->f->xlat->translate(m->f->xlat->ctx, page_of(m, linear), &phys) != 0)
		return false;
	*where = page_of(m, phys) + (linear & (m->ps - 1));
	return true;
}

static bool kind_fits(const struct matcher *m, const struct isa_access *a)
{
	return !m->f->kind || (a->kind & m->f->kind);
}

/* Does a part (one page's worth) match: exactly, or by page? */
static bool part_hits(const struct matcher *m, uint64_t addr, uint32_t size, bool exact)
{
	uint64_t start;

	if (!place(m, addr, &start))
		return false;
	if (exact)
		return m->f->addr - start < size;
	return page_of(m, start) == m->fpage;
}

static void set_part(struct isa_fault_match *out, int access, const struct isa_access *a,
		     const struct isa_span *part, uint64_t ps, bool exact)
{
	out->access = access;
	out->part = (a->addr & ~(ps - 1)) == (part->addr & ~(ps - 1)) ? 0 : 1;
	out->part_addr = part->addr;
	out->part_size = part->size;
	out->exact = exact;
}

static bool match_access(const struct matcher *m, const struct isa_insn *insn, unsigned i,
			 bool exact, struct isa_fault_match *out)
{
	const struct isa_access *a = &insn->access[i];
	struct isa_span parts[2];
	unsigned n;

	if (!a->addr_known || !kind_fits(m, a))
		return false;
	n = isa_access_split(a, m->ps, parts);
	for (unsigned p = 0; p < n; p++)
		if (part_hits(m, parts[p].addr, parts[p].size, exact)) {
			set_part(out, (int)i, a, &parts[p], m->ps, exact);
			return true;
		}
	return false;
}

/* A string stream: elements at base + k * step, k < count. */
struct stream {
	uint64_t seg, base;  /* linear element k at seg + mask(base + k * step) */
	int64_t step;
	uint64_t elem, count;
	unsigned bits;
};

static uint64_t element(const struct stream *s, uint64_t k)
{
	return s->seg + isa_mask(s->bits, s->base + k * (uint64_t)s->step);
}

/* The iteration whose element contains linear address a, if any. */
static bool stream_exact(const struct stream *s, uint64_t a, uint64_t *k)
{
	uint64_t off = a - s->seg, d;

	if (s->step > 0)
		d = isa_mask(s->bits, off - s->base);
	else
		d = isa_mask(s->bits, s->base + s->elem - 1 - off);
	*k = d / s->elem;
	return *k < s->count && a - element(s, *k) < s->elem;
}

/* The first iteration touching linear page lp, if any. */
static bool stream_page(const struct matcher *m, const struct stream *s, uint64_t lp, uint64_t *k)
{
	uint64_t first = element(s, 0), a;

	/* The stream's first byte on that page in iteration order. */
	if (s->step > 0)
		a = first > lp ? first : lp;
	else
		a = first + s->elem - 1 < lp + m->ps - 1 ? first + s->elem - 1 : lp + m->ps - 1;
	if (page_of(m, a) != lp)
		return false;
	return stream_exact(s, a, k);
}

static bool stream_first_hit(const struct matcher *m, const struct stream *s, bool exact,
			     uint64_t *k)
{
	if (!m->f->xlat)
		return exact ? stream_exact(s, m->f->addr, k)
			     : stream_page(m, s, page_of(m, m->f->addr), k);
	/* Walk the stream's pages in iteration order, translating each. */
	uint64_t last = element(s, s->count - 1);
	uint64_t lp = page_of(m, element(s, 0) + (s->step < 0 ? s->elem - 1 : 0));
	uint64_t end = page_of(m, last + (s->step > 0 ? s->elem - 1 : 0));

	for (unsigned n = 0; n < ISA_MAX_STREAM_PAGES; n++) {
		uint64_t phys;

		if (m->f->xlat->translate(m->f->xlat->ctx, lp, &phys) == 0 &&
		    page_of(m, phys) == m->fpage) {
			uint64_t a = lp + (m->f->addr & (m->ps - 1));

			if (exact ? stream_exact(s, a, k) : stream_page(m, s, lp, k))
				return true;
		}
		if (lp == end)
			break;
		lp += s->step > 0 ? m->ps : -m->ps;
	}
	return false;
}

static bool match_string(const struct matcher *m, const struct isa_insn *insn, bool exact,
			 struct isa_fault_match *out)
{
	const struct isa_x86_string *st = &insn->str;
	const int which[2] = { st->src_access, st->dst_access };
	uint64_t best_k = 0;
	int best = -1;

	for (unsigned w = 0; w < 2; w++) {
		const struct isa_access *a;
		struct stream s;
		uint64_t k;

		if (which[w] < 0)
			continue;
		a = &insn->access[which[w]];
		if (!kind_fits(m, a))
			continue;
		s = (struct stream){
			.seg = w == 0 ? st->src_base : 0,
			.base = w == 0 ? st->rsi : st->rdi,
			.step = st->step, .elem = st->elem, .count = st->count,
			.bits = st->addr_bits,
		};
		/* The earlier iteration wins; within one, [rsi] comes before [rdi]. */
		if (stream_first_hit(m, &s, exact, &k) && (best < 0 || k < best_k)) {
			best = which[w];
			best_k = k;
		}
	}
	if (best < 0)
		return false;
	{
		const struct isa_access *a = &insn->access[best];
		struct isa_access at = *a;
		struct isa_span parts[2];
		unsigned n;

		at.addr = best == st->src_access
				  ? st->src_base + isa_mask(st->addr_bits, st->rsi + best_k * (uint64_t)st->step)
				  : isa_mask(st->addr_bits, st->rdi + best_k * (uint64_t)st->step);
		n = isa_access_split(&at, m->ps, parts);
		/* Report the part that holds the fault (by byte, else by page). */
		set_part(out, best, &at, &parts[0], m->ps, exact);
		for (unsigned p = 0; p < n; p++)
			if (part_hits(m, parts[p].addr, parts[p].size, exact)) {
				set_part(out, best, &at, &parts[p], m->ps, exact);
				break;
			}
	}
	out->string = true;
	out->done = best_k;
	out->rcx = st->rep ? st->rcx - best_k : st->rcx;
	out->rsi = st->src_access >= 0 ? isa_mask(st->addr_bits, st->rsi + best_k * (uint64_t)st->step) : st->rsi;
	out->rdi = st->dst_access >= 0 ? isa_mask(st->addr_bits, st->rdi + best_k * (uint64_t)st->step) : st->rdi;
	return true;
}

int isa_match_fault(const struct isa_insn *insn, const struct isa_fault *f,
		    struct isa_fault_match *out)
{
	struct matcher m = { .f = f, .ps = f->page_size ? f->page_size : 4096 };

	*out = (struct isa_fault_match){ .access = -1 };
	if (m.ps & (m.ps - 1))
		return ISA_ERR_RANGE;
	m.fpage = page_of(&m, f->addr);
	for (int exact = 1; exact >= 0; exact--) {
		for (unsigned i = 0; i < insn->n_access; i++) {
			/* Stream accesses stand for every iteration: matched below. */
			if (insn->str.present && ((int)i == insn->str.src_access ||
						  (int)i == insn->str.dst_access))
				continue;
			if (match_access(&m, insn, i, exact, out))
				return ISA_OK;
		}
		if (insn->str.present && match_string(&m, insn, exact, out))
			return ISA_OK;
	}
	return ISA_ERR_NOMATCH;
}
