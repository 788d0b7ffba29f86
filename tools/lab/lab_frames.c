// SPDX-License-Identifier: MIT
/* Frame-count lists: see lab_frames.h. */
#include "lab_frames.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab_text.h"

/* A growing array of frame counts. */
struct frame_set {
	uint32_t *v;
	size_t n, cap;
};

static int set_add(struct frame_set *s, uint64_t value, char *why, size_t whylen)
{
	if (s->n >= LAB_FRAMES_MAX_COUNT) {
		snprintf(why, whylen, "more than %d frame counts", LAB_FRAMES_MAX_COUNT);
		return -1;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		uint32_t *bigger;

		bigger = realloc(s->v, sizeof(*s->v) * cap);
		if (!bigger) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		s->v = bigger;
		s->cap = cap;
	}
	s->v[s->n++] = (uint32_t)value;
	return 0;
}

static int by_value(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* A:B:xK or A:B:+K, the item already split at its colons. */
static int add_series(struct frame_set *s, const char *item, char *a_str, char *b_str,
		      char *step, uint64_t max, char *why, size_t whylen)
{
	uint64_t a, b;
	char inner[160];

	if (cli_parse_u64(a_str, 1, max, &a, inner, sizeof(inner)) != 0 ||
	    cli_parse_u64(b_str, 1, max, &b, inner, sizeof(inner)) != 0) {
		snprintf(why, whylen, "'%s': %s", item, inner);
		return -1;
	}
	if (b < a) {
		snprintf(why, whylen, "'%s': the end %llu is below the start %llu", item,
			 (unsigned long long)b, (unsigned long long)a);
		return -1;
	}
	if (step[0] == '+') {
		uint64_t k;

		if (cli_parse_u64(step + 1, 1, max, &k, inner, sizeof(inner)) != 0) {
			snprintf(why, whylen, "'%s': step %s", item, inner);
			return -1;
		}
		for (uint64_t v = a; v <= b; v += k)
			if (set_add(s, v, why, whylen) != 0)
				return -1;
		return 0;
	}
	if (step[0] == 'x' || step[0] == '*') {
		double k, x = (double)a;
		uint64_t last = 0;

		if (cli_parse_double(step + 1, 1.0, 1e9, &k, inner, sizeof(inner)) != 0 || k <= 1.0) {
			snprintf(why, whylen, "'%s': the factor must be a number above 1", item);
			return -1;
		}
		/* Rounding may repeat a value while x creeps up by a small
		 * factor: bound the steps, not only the values. */
		for (unsigned steps = 0; x < (double)b + 0.5; steps++, x *= k) {
			uint64_t v = (uint64_t)llround(x);

			if (steps > 10 * LAB_FRAMES_MAX_COUNT) {
				snprintf(why, whylen, "'%s': the factor is too close to 1", item);
				return -1;
			}
			if (v != last && v <= b && set_add(s, v, why, whylen) != 0)
				return -1;
			last = v;
		}
		return 0;
	}
	snprintf(why, whylen, "'%s': the step must be xK (geometric) or +K (arithmetic)", item);
	return -1;
}

static int add_item(struct frame_set *s, char *item, uint64_t max, char *why, size_t whylen)
{
	char copy[128], *parts[4];
	size_t nparts = 0;
	char inner[160];
	uint64_t v;

	if (!strchr(item, ':')) {
		if (cli_parse_u64(item, 1, max, &v, inner, sizeof(inner)) != 0) {
			snprintf(why, whylen, "%s", inner);
			return -1;
		}
		return set_add(s, v, why, whylen);
	}
	if (strlen(item) >= sizeof(copy)) {
		snprintf(why, whylen, "'%.40s...' is too long", item);
		return -1;
	}
	strcpy(copy, item);
	for (char *tok = copy, *colon; nparts < 4; tok = colon + 1) {
		parts[nparts++] = tok;
		colon = strchr(tok, ':');
		if (!colon)
			break;
		*colon = '\0';
	}
	if (nparts != 3) {
		snprintf(why, whylen, "'%s' is not A:B:xK or A:B:+K", item);
		return -1;
	}
	return add_series(s, item, parts[0], parts[1], parts[2], max, why, whylen);
}

int lab_frames_parse(const char *spec, uint64_t max, uint32_t **out, size_t *n, char *why,
		     size_t whylen)
{
	struct frame_set s = { 0 };
	char *copy = strdup(spec), **items = NULL;
	size_t count, kept = 0;
	int rc = -1;

	if (max > UINT32_MAX)
		max = UINT32_MAX;
	if (!copy) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	count = cli_split(copy, &items);
	if (!items) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		if (!*items[i]) {
			snprintf(why, whylen, "an empty item in '%s'", spec);
			goto out;
		}
		if (add_item(&s, items[i], max, why, whylen) != 0)
			goto out;
	}
	qsort(s.v, s.n, sizeof(*s.v), by_value);
	for (size_t i = 0; i < s.n; i++)
		if (kept == 0 || s.v[i] != s.v[kept - 1])
			s.v[kept++] = s.v[i];
	*out = s.v;
	*n = kept;
	s.v = NULL;
	rc = 0;
out:
	free(s.v);
	free(items);
	free(copy);
	return rc;
}

char *lab_frames_join(const uint32_t *v, size_t n)
{
	size_t cap = n * 11 + 1, len = 0;
	char *s = malloc(cap);

	if (!s)
		return NULL;
	s[0] = '\0';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, "%s%u", i ? "," : "", v[i]);
	return s;
}
