// SPDX-License-Identifier: MIT
/* The plugin's summary file: writer and strict reader (plugin_results.h). */
#include "plugin_results.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define RUN_FIELDS 10 /* the counters of a run line, after POLICY FRAMES */

void plugin_results_write(FILE *out, const struct plugin_results *r)
{
	fprintf(out, "pflab-qemu-results %d\n", PLUGIN_RESULTS_VERSION);
	fprintf(out, "refs %" PRIu64 " writes %" PRIu64 " pages %" PRIu32 "\n", r->refs, r->writes,
		r->pages);
	for (size_t i = 0; i < r->nruns; i++) {
		const struct plugin_run *u = &r->runs[i];
		const struct pager_stats *st = &u->st;

		fprintf(out, "run %s %" PRIu32 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
			" %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %.6f\n",
			u->policy->name, u->frames, st->refs, st->faults, st->major, st->minor,
			st->evictions, st->writebacks, st->resident_max, st->resident_sum,
			st->pool_reclaims, st->direct_reclaims, u->seconds);
	}
	fputs("end\n", out);
}

struct cursor {
	const char *p, *end;
	unsigned line;
	char *err;
	size_t errlen;
};

static int bad(struct cursor *c, const char *why)
{
	snprintf(c->err, c->errlen, "line %u: %s", c->line, why);
	return -1;
}

/* The next space-separated word of the current line; false at its end. */
static bool word(struct cursor *c, const char **w, size_t *len)
{
	while (c->p < c->end && *c->p == ' ')
		c->p++;
	*w = c->p;
	while (c->p < c->end && *c->p != ' ' && *c->p != '\n')
		c->p++;
	*len = (size_t)(c->p - *w);
	return *len > 0;
}

static bool is_word(struct cursor *c, const char *expect)
{
	const char *w;
	size_t len;

	return word(c, &w, &len) && len == strlen(expect) && memcmp(w, expect, len) == 0;
}

static int number(struct cursor *c, uint64_t *v)
{
	const char *w;
	size_t len;
	uint64_t x = 0;

	if (!word(c, &w, &len))
		return bad(c, "a number is missing");
	for (size_t i = 0; i < len; i++) {
		if (w[i] < '0' || w[i] > '9' || x > (UINT64_MAX - (uint64_t)(w[i] - '0')) / 10)
			return bad(c, "not a number");
		x = x * 10 + (uint64_t)(w[i] - '0');
	}
	*v = x;
	return 0;
}

static int seconds(struct cursor *c, double *v)
{
	const char *w;
	size_t len;
	char buf[32], *end;

	if (!word(c, &w, &len) || len >= sizeof(buf) || (w[0] < '0' || w[0] > '9'))
		return bad(c, "bad seconds");
	memcpy(buf, w, len);
	buf[len] = '\0';
	*v = strtod(buf, &end);
	if (*end || !(*v >= 0 && *v < 1e12))
		return bad(c, "bad seconds");
	return 0;
}

static int end_of_line(struct cursor *c)
{
	const char *w;
	size_t len;

	if (word(c, &w, &len))
		return bad(c, "unexpected text at the end of the line");
	if (c->p == c->end)
		return bad(c, "the line is not ended");
	c->p++;
	c->line++;
	return 0;
}

static int run_line(struct cursor *c, struct plugin_results *r)
{
	struct plugin_run *u;
	uint64_t v[RUN_FIELDS], frames;
	const char *w;
	char name[32];
	size_t len;

	if (r->nruns == PLUGIN_MAX_RUNS)
		return bad(c, "too many runs");
	u = &r->runs[r->nruns];
	if (!word(c, &w, &len) || len >= sizeof(name))
		return bad(c, "bad policy name");
	memcpy(name, w, len);
	name[len] = '\0';
	u->policy = policy_find(name);
	if (!u->policy)
		return bad(c, "unknown policy");
	if (number(c, &frames) != 0)
		return -1;
	if (frames == 0 || frames > UINT32_MAX)
		return bad(c, "bad frame count");
	for (int i = 0; i < RUN_FIELDS; i++)
		if (number(c, &v[i]) != 0)
			return -1;
	if (seconds(c, &u->seconds) != 0)
		return -1;
	u->frames = (uint32_t)frames;
	u->st = (struct pager_stats){
		.refs = v[0], .faults = v[1], .major = v[2], .minor = v[3], .evictions = v[4],
		.writebacks = v[5], .resident_max = v[6], .resident_sum = v[7],
		.pool_reclaims = v[8], .direct_reclaims = v[9],
	};
	if (u->st.faults > u->st.refs || u->st.major + u->st.minor != u->st.faults)
		return bad(c, "inconsistent counts");
	r->nruns++;
	return end_of_line(c);
}

int plugin_results_parse(const char *text, size_t len, struct plugin_results *r, char *err,
			 size_t errlen)
{
	struct cursor c = { text, text + len, 1, err, errlen };
	uint64_t version, pages;

	memset(r, 0, sizeof(*r));
	if (!is_word(&c, "pflab-qemu-results") || number(&c, &version) != 0)
		return bad(&c, "not a pflab plugin results file");
	if (version != PLUGIN_RESULTS_VERSION)
		return bad(&c, "unsupported version");
	if (end_of_line(&c) != 0)
		return -1;
	if (!is_word(&c, "refs") || number(&c, &r->refs) != 0 || !is_word(&c, "writes") ||
	    number(&c, &r->writes) != 0 || !is_word(&c, "pages") || number(&c, &pages) != 0)
		return bad(&c, "expected refs R writes W pages P");
	if (r->writes > r->refs || pages > UINT32_MAX)
		return bad(&c, "inconsistent counts");
	r->pages = (uint32_t)pages;
	if (end_of_line(&c) != 0)
		return -1;
	for (;;) {
		const char *w;
		size_t wl;

		if (!word(&c, &w, &wl))
			return bad(&c, "cut short: no end line");
		if (wl == 3 && memcmp(w, "end", 3) == 0)
			break;
		if (wl != 3 || memcmp(w, "run", 3) != 0)
			return bad(&c, "expected run or end");
		if (run_line(&c, r) != 0)
			return -1;
	}
	if (end_of_line(&c) != 0)
		return -1;
	if (c.p != c.end)
		return bad(&c, "text after the end line");
	return 0;
}
