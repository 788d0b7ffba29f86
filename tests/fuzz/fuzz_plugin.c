// SPDX-License-Identifier: MIT
/*
 * The QEMU plugin's two parsers (vmm/qemu/): the first byte picks one.
 *
 *   even  plugin_args_parse: the rest is the arguments, one a line, as
 *         QEMU hands them over (key=value strings)
 *   odd   plugin_results_parse: the rest is a results file
 *
 * Properties: a refusal has a reason naming the argument or the line; an
 * accepted set has something to do, policies and frames together, frames
 * strictly ascending within [1, 2^31 - 1], a non-empty range, a page shift
 * of at most 30; accepted results have no more writes than references, no
 * run with more faults than references, and print back to a file that
 * parses to the same numbers.
 */
#include "fuzz.h"

#include "plugin_args.h"
#include "plugin_results.h"

static void fuzz_args(char *s)
{
	char *argv[64], err[256] = "";
	struct plugin_args *a = malloc(sizeof(*a));
	int argc = 0;

	if (!a)
		return;
	for (char *line = s; line && argc < 64;) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		argv[argc++] = line;
		line = nl ? nl + 1 : NULL;
	}
	if (plugin_args_parse(argc, argv, a, err, sizeof(err)) == 0) {
		FUZZ_CHECK(a->out[0] || a->npolicies);
		FUZZ_CHECK(!a->npolicies == !a->nframes);
		for (size_t i = 0; i < a->nframes; i++) {
			FUZZ_CHECK(a->frames[i] >= 1 && a->frames[i] <= 0x7fffffffu);
			FUZZ_CHECK(i == 0 || a->frames[i - 1] < a->frames[i]);
		}
		FUZZ_CHECK(a->range_lo < a->range_hi);
		FUZZ_CHECK(a->page_shift <= 30);
		FUZZ_CHECK(a->kinds && !(a->kinds & ~7u));
		FUZZ_CHECK(a->npolicies <= PLUGIN_MAX_POLICIES && a->nframes <= PLUGIN_MAX_FRAMES);
	} else {
		FUZZ_CHECK(strncmp(err, "plugin argument", 15) == 0);
	}
	free(a);
}

static void fuzz_results(const char *s, size_t len)
{
	struct plugin_results *r = malloc(sizeof(*r)), *back = malloc(sizeof(*back));
	char err[256] = "", *text = NULL;
	size_t tlen = 0;
	FILE *f;

	if (!r || !back)
		goto out;
	if (plugin_results_parse(s, len, r, err, sizeof(err)) != 0) {
		FUZZ_CHECK(strncmp(err, "line ", 5) == 0);
		goto out;
	}
	FUZZ_CHECK(r->writes <= r->refs);
	for (size_t i = 0; i < r->nruns; i++)
		FUZZ_CHECK(r->runs[i].st.faults <= r->runs[i].st.refs && r->runs[i].policy);
	f = open_memstream(&text, &tlen);
	if (!f)
		goto out;
	plugin_results_write(f, r);
	fclose(f);
	FUZZ_CHECK(plugin_results_parse(text, tlen, back, err, sizeof(err)) == 0);
	FUZZ_CHECK(back->refs == r->refs && back->writes == r->writes && back->pages == r->pages);
	FUZZ_CHECK(back->nruns == r->nruns);
	for (size_t i = 0; i < r->nruns; i++)
		FUZZ_CHECK(memcmp(&back->runs[i].st, &r->runs[i].st, sizeof(r->runs[i].st)) == 0 &&
			   back->runs[i].frames == r->runs[i].frames);
out:
	free(text);
	free(r);
	free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1)
		return 0;
	s = fuzz_string(data + 1, size - 1);
	if (!s)
		return 0;
	if (data[0] % 2 == 0)
		fuzz_args(s);
	else
		fuzz_results(s, size - 1);
	free(s);
	return 0;
}
