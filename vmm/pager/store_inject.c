// SPDX-License-Identifier: MIT
/* The fault-injecting store: see store_inject.h. */
#include "store_inject.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name, *upper;
	int err;
} errnos[] = {
	{ "eio", "EIO", EIO },
	{ "enospc", "ENOSPC", ENOSPC },
	{ "enxio", "ENXIO", ENXIO },
	{ "etimedout", "ETIMEDOUT", ETIMEDOUT },
};

static const char *const trigger_names[] = {
	[INJECT_EVERY] = "every", [INJECT_AFTER] = "after", [INJECT_AT] = "at",
	[INJECT_PAGE] = "page",
};

const char *inject_errno_name(int err)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (errnos[i].err == err)
			return errnos[i].upper;
	return "E?";
}

/* Decimal digits only, no sign, no overflow, within [min, max]. */
static int parse_count(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* One RULE of len bytes at s. */
static int parse_rule(const char *s, size_t len, struct inject_rule *r, char *why, size_t whylen)
{
	const char *end = s + len, *colon, *at, *eq, *slash;
	uint64_t min = 1, max = UINT64_MAX;
	size_t i;

	*r = (struct inject_rule){ .times = UINT64_MAX };
	colon = memchr(s, ':', len);
	if (!colon) {
		snprintf(why, whylen, "expected OP:ERRNO@TRIGGER, e.g. read:eio@every=1000");
		return -1;
	}
	if ((size_t)(colon - s) == 4 && memcmp(s, "read", 4) == 0) {
		r->op = INJECT_READ;
	} else if ((size_t)(colon - s) == 5 && memcmp(s, "write", 5) == 0) {
		r->op = INJECT_WRITE;
	} else {
		snprintf(why, whylen, "unknown operation '%.*s' (read, write)", (int)(colon - s), s);
		return -1;
	}

	at = memchr(colon, '@', (size_t)(end - colon));
	if (!at) {
		snprintf(why, whylen, "missing '@TRIGGER' after the errno");
		return -1;
	}
	for (i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (strlen(errnos[i].name) == (size_t)(at - colon - 1) &&
		    memcmp(colon + 1, errnos[i].name, (size_t)(at - colon - 1)) == 0)
			break;
	if (i == sizeof(errnos) / sizeof(errnos[0])) {
		snprintf(why, whylen, "unknown errno '%.*s' (eio, enospc, enxio, etimedout)",
			 (int)(at - colon - 1), colon + 1);
		return -1;
	}
	r->err = errnos[i].err;

	slash = memchr(at, '/', (size_t)(end - at));
	if (slash) {
		if ((size_t)(end - slash) < 7 || memcmp(slash, "/times=", 7) != 0) {
			snprintf(why, whylen, "unknown modifier '%.*s' (only /times=K)",
				 (int)(end - slash), slash);
			return -1;
		}
		if (parse_count(slash + 7, (size_t)(end - slash - 7), 1, UINT64_MAX, &r->times)) {
			snprintf(why, whylen, "/times wants a whole number of at least 1, not '%.*s'",
				 (int)(end - slash - 7), slash + 7);
			return -1;
		}
		end = slash;
	}

	eq = memchr(at, '=', (size_t)(end - at));
	if (!eq) {
		snprintf(why, whylen, "trigger '%.*s' wants =N (every=N, after=N, at=N, page=V)",
			 (int)(end - at - 1), at + 1);
		return -1;
	}
	for (i = 0; i < sizeof(trigger_names) / sizeof(trigger_names[0]); i++)
		if (strlen(trigger_names[i]) == (size_t)(eq - at - 1) &&
		    memcmp(at + 1, trigger_names[i], (size_t)(eq - at - 1)) == 0)
			break;
	if (i == sizeof(trigger_names) / sizeof(trigger_names[0])) {
		snprintf(why, whylen, "unknown trigger '%.*s' (every, after, at, page)",
			 (int)(eq - at - 1), at + 1);
		return -1;
	}
	r->trigger = (enum inject_trigger)i;
	if (r->trigger == INJECT_AFTER || r->trigger == INJECT_PAGE)
		min = 0;
	if (r->trigger == INJECT_PAGE)
		max = UINT32_MAX - 1;
	if (parse_count(eq + 1, (size_t)(end - eq - 1), min, max, &r->n)) {
		snprintf(why, whylen, "%s wants %s, not '%.*s'", trigger_names[i],
			 r->trigger == INJECT_PAGE ? "a page number below 4294967295"
			 : min ? "a whole number of at least 1" : "a whole number",
			 (int)(end - eq - 1), eq + 1);
		return -1;
	}
	if (r->trigger == INJECT_AT && r->times == UINT64_MAX)
		r->times = 1;
	return 0;
}

int inject_parse(const char *spec, struct inject_rule **rules, size_t *n, char *why,
		 size_t whylen)
{
	size_t count = 1, k = 0;
	const char *s = spec;
	struct inject_rule *out;

	for (const char *c = spec; *c; c++)
		count += *c == ',';
	out = calloc(count, sizeof(*out));
	if (!out) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	for (;;) {
		size_t len = strcspn(s, ",");
		char reason[200];

		if (parse_rule(s, len, &out[k], reason, sizeof(reason)) != 0) {
			snprintf(why, whylen, "rule %zu '%.*s': %s", k + 1, (int)(len > 60 ? 60 : len),
				 s, reason);
			free(out);
			return -1;
		}
		k++;
		if (!s[len])
			break;
		s += len + 1;
	}
	*rules = out;
	*n = k;
	return 0;
}

bool inject_has(const struct inject_store *s, enum inject_op op)
{
	for (size_t i = 0; i < s->nrules; i++)
		if (s->rules[i].op == op)
			return true;
	return false;
}

static bool rule_matches(const struct inject_rule *r, uint64_t seq, vpn_t vpn)
{
	if (r->fired >= r->times)
		return false;
	switch (r->trigger) {
	case INJECT_EVERY: return seq % r->n == 0;
	case INJECT_AFTER: return seq > r->n;
	case INJECT_AT: return seq == r->n;
	case INJECT_PAGE: return vpn == r->n;
	}
	return false;
}

/* The per-page chains of unresolved errors reach page vpn. */
static int cover(struct inject_store *s, vpn_t vpn)
{
	uint32_t n = s->npages ? s->npages : 64;

	if (vpn < s->npages)
		return 0;
	while (n <= vpn)
		n = n > UINT32_MAX / 2 ? UINT32_MAX : n * 2;
	for (int op = 0; op < 2; op++) {
		uint32_t *u = realloc(s->unresolved[op], sizeof(*u) * n);

		if (!u)
			return -ENOMEM;
		memset(u + s->npages, 0, sizeof(*u) * (n - s->npages));
		s->unresolved[op] = u;
	}
	s->npages = n;
	return 0;
}

/*
 * Decide the fate of operation `op` on vpn: 0 to go ahead, or -errno after
 * logging an injected failure. A success resolves the page's earlier
 * failures of the same kind.
 */
static int judge(struct inject_store *s, enum inject_op op, vpn_t vpn)
{
	uint64_t seq = ++s->ops[op];

	if (cover(s, vpn) != 0)
		return -ENOMEM;
	for (size_t i = 0; i < s->nrules; i++) {
		struct inject_rule *r = &s->rules[i];
		struct inject_error *e;

		if (r->op != op || !rule_matches(r, seq, vpn))
			continue;
		if (s->nlog == s->log_cap) {
			size_t cap = s->log_cap ? s->log_cap * 2 : 64;
			struct inject_error *l = realloc(s->log, cap * sizeof(*l));

			if (!l)
				return -ENOMEM;
			s->log = l;
			s->log_cap = cap;
		}
		e = &s->log[s->nlog];
		*e = (struct inject_error){
			.seq = seq, .vpn = vpn, .op = op, .err = r->err,
			.prev = s->unresolved[op][vpn],
		};
		s->unresolved[op][vpn] = (uint32_t)++s->nlog;
		r->fired++;
		s->injected[op]++;
		return -r->err;
	}
	for (uint32_t k = s->unresolved[op][vpn]; k; k = s->log[k - 1].prev)
		s->log[k - 1].retry_seq = seq;
	s->unresolved[op][vpn] = 0;
	return 0;
}

static int inject_page_in(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	struct inject_store *s = (struct inject_store *)bs;
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = judge(s, INJECT_READ, vpn);
	pthread_mutex_unlock(&s->lock);

	return rc ? rc : s->lower->ops->page_in(s->lower, vpn, f);
}

static int inject_zero_fill(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	struct inject_store *s = (struct inject_store *)bs;

	/* No I/O: nothing to fail. */
	return s->lower->ops->zero_fill(s->lower, vpn, f);
}

static int inject_page_out(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	struct inject_store *s = (struct inject_store *)bs;
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = judge(s, INJECT_WRITE, vpn);
	pthread_mutex_unlock(&s->lock);

	return rc ? rc : s->lower->ops->page_out(s->lower, vpn, f);
}

static const struct store_ops inject_ops = {
	.page_in = inject_page_in,
	.zero_fill = inject_zero_fill,
	.page_out = inject_page_out,
};

int inject_init(struct inject_store *s, struct backing_store *lower, struct inject_rule *rules,
		size_t nrules)
{
	*s = (struct inject_store){
		.bs.ops = &inject_ops, .lower = lower, .rules = rules, .nrules = nrules,
	};
	pthread_mutex_init(&s->lock, NULL);
	if (cover(s, 0) != 0) {
		inject_fini(s);
		return -ENOMEM;
	}
	return 0;
}

size_t inject_note_delivery(struct inject_store *s, vpn_t vpn, uint64_t where)
{
	size_t idx = 0;

	pthread_mutex_lock(&s->lock);
	/* The failure just now, if injected, is the page's newest unresolved
	 * read error (a later read of the page would have resolved it). */
	if (vpn < s->npages && s->unresolved[INJECT_READ][vpn]) {
		struct inject_error *e = &s->log[s->unresolved[INJECT_READ][vpn] - 1];

		if (!e->where) {
			e->where = where;
			idx = s->unresolved[INJECT_READ][vpn];
		}
	}
	pthread_mutex_unlock(&s->lock);
	return idx;
}

void inject_note_reported(struct inject_store *s, size_t idx)
{
	pthread_mutex_lock(&s->lock);
	if (idx && idx <= s->nlog)
		s->log[idx - 1].reported = true;
	pthread_mutex_unlock(&s->lock);
}

void inject_fini(struct inject_store *s)
{
	if (s->bs.ops)
		pthread_mutex_destroy(&s->lock);
	free(s->rules);
	free(s->log);
	free(s->unresolved[0]);
	free(s->unresolved[1]);
	s->rules = NULL;
	s->log = NULL;
	s->unresolved[0] = s->unresolved[1] = NULL;
	s->nrules = s->nlog = s->log_cap = 0;
	s->npages = 0;
	s->bs.ops = NULL;
}

int inject_judge(struct inject_store *s, enum inject_op op, vpn_t vpn)
{
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = judge(s, op, vpn);
	pthread_mutex_unlock(&s->lock);
	return rc;
}
