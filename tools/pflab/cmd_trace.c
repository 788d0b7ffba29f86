// SPDX-License-Identifier: MIT
/*
 * pflab trace: look at traces (info), convert them (convert), and make
 * synthetic ones (gen). The readers, writers and generators live under
 * traces/; this file is only their command line. Formats: docs/formats.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "gen.h"
#include "idmap.h"
#include "outfile.h"
#include "trace.h"
#include "trace_internal.h"
#include "trace_writer.h"

/* References per read: large enough to amortise calls, small enough for L2. */
#define CHUNK 4096
/* More references than anyone will simulate: catches a typo'd --refs. */
#define MAX_GEN_REFS (1ull << 40)
#define MAX_GEN_BASE (1ull << 62)

static const char trace_help[] =
	"usage: pflab trace info TRACE [--format F] [--page-size N] [--json]\n"
	"       pflab trace convert IN OUT [--from F] [--to pft|txt|rw|oracleGeneral] [--page-size N] [--zstd]\n"
	"       pflab trace gen KIND [options] -o OUT [--format pft|txt|rw|oracleGeneral]\n\n"
	"Look at, convert and generate reference traces. Formats: txt, rw, lackey, arc,\n"
	"oracleGeneral, be32 and pft (pflab's compact binary); gzip, xz and zstd input is\n"
	"decompressed on the fly and the format is detected unless given.\n"
	"'pflab trace SUBCOMMAND --help' describes each; docs/formats.md the formats.\n";

static const char info_help[] =
	"usage: pflab trace info TRACE [--format F] [--page-size N] [--json]\n\n"
	"Read a trace (\"-\" for standard input) and print its format, references,\n"
	"records, reads and writes, skipped lines, distinct pages, footprint and the\n"
	"range of page ids. For pft, the page ids shown are the original ones.\n\n"
	"  -f, --format F     txt, rw, lackey, arc, oracleGeneral, be32, pft (default: detect)\n"
	"      --page-size N  bytes per page for byte addresses (rw, lackey) and the\n"
	"                     footprint; a power of two (default 4096, or pft's own)\n"
	"      --json         one JSON object instead of text\n";

static const char convert_help[] =
	"usage: pflab trace convert IN OUT [--from F] [--to pft|txt|rw|oracleGeneral] [--page-size N] [--zstd]\n\n"
	"Convert a trace, streaming. To pft (the default) page ids are renamed to dense\n"
	"ids 0, 1, 2, ... in order of first appearance and the originals kept in its id\n"
	"table; to txt or rw the page ids are written as they are (the original ones when\n"
	"reading pft). txt and oracleGeneral have no write bit: writes become plain\n"
	"references. oracleGeneral (libCacheSim's records, with each reference's\n"
	"next-access time) is written at the end: the trace is held, 8 bytes a reference.\n"
	"\"-\" is standard input or output (a pft input must be a file: its id table,\n"
	"at its end, is read first).\n\n"
	"      --from F       input format (default: detect)\n"
	"      --to F         pft, txt, rw or oracleGeneral (default pft)\n"
	"      --page-size N  bytes per page for byte addresses; recorded in a pft header\n"
	"      --zstd         compress the output with zstd (implied by an OUT ending in .zst)\n";

static const char gen_help[] =
	"usage: pflab trace gen KIND [options] -o OUT [--format pft|txt|rw|oracleGeneral]\n\n"
	"Write a synthetic trace. The same options and seed give the same bytes.\n\n"
	"kinds:\n"
	"  seq      --pages N --refs M: pages 0, 1, ..., N-1, again and again\n"
	"  loop     the same as seq\n"
	"  uniform  --pages N --refs M: each of N pages equally likely\n"
	"  zipf     --pages N --refs M [--alpha A]: page k-1 with probability ~ 1/k^A\n"
	"           (A >= 0, default 1.0)\n"
	"  strided  --pages N --refs M --stride S: pages 0, S, 2S, ... below N, again\n"
	"  phases   --phases SPEC: phases one after the other, each on fresh pages:\n"
	"           SPEC is PHASE[,PHASE...], PHASE one of\n"
	"             seq:PAGES:REFS  loop:PAGES:REFS  uniform:PAGES:REFS\n"
	"             zipf:ALPHA:PAGES:REFS  strided:STRIDE:PAGES:REFS\n"
	"           optionally ending in @BASE, the first page id of the phase (the\n"
	"           default is just above every earlier phase's pages)\n"
	"           e.g. 'zipf:0.9:5000:200000,seq:3000:100000,uniform:8000:100000'\n\n"
	"options:\n"
	"  -o, --output OUT     the file to write (\"-\": standard output)\n"
	"  -f, --format F       pft (default), txt, rw or oracleGeneral\n"
	"      --seed S         the random seed (default 1)\n"
	"      --write-ratio R  the fraction of references that are writes, 0..1 (default 0);\n"
	"                       it does not change which pages are referenced\n"
	"      --page-size N    recorded in a pft header (default 4096)\n"
	"      --zstd           compress the output (implied by an OUT ending in .zst)\n";

static int parse_format(const char *cmd, const char *opt, const char *s, bool writable,
			enum trace_format *out)
{
	if (trace_format_parse(s, out) != 0)
		return cli_usage_error(cmd, "%s: unknown format '%s' (txt, rw, lackey, arc, oracleGeneral, be32, pft)",
				       opt, s);
	if (writable && *out != TRACE_PFT && *out != TRACE_TXT && *out != TRACE_RW &&
	    *out != TRACE_ORACLE)
		return cli_usage_error(cmd, "%s: cannot write %s traces (pft, txt, rw or oracleGeneral)",
				       opt, s);
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

static void human_bytes(char *buf, size_t len, double bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	size_t u = 0;

	while (bytes >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
}

/* ---- info ---- */

struct info {
	const char *path;
	struct trace *t;
	uint64_t distinct, min_page, max_page;
};

/* Read everything, counting distinct pages and the range of page ids. */
static int info_scan(struct info *in)
{
	struct trace_ref *buf = malloc(sizeof(*buf) * CHUNK);
	bool dense = trace_dense(in->t);
	struct idmap map;
	ptrdiff_t n;
	int rc = EXIT_USAGE;

	if (!buf || (!dense && idmap_init(&map) != 0)) {
		free(buf);
		return cli_fail("trace info", "out of memory");
	}
	in->min_page = UINT64_MAX;
	in->max_page = 0;
	while ((n = trace_read(in->t, buf, CHUNK)) > 0) {
		if (dense)
			continue; /* the id table below has the original ids */
		for (ptrdiff_t i = 0; i < n; i++) {
			uint64_t page = buf[i].page;

			if (idmap_get(&map, page) == UINT32_MAX) {
				rc = cli_fail("trace info", "%s: too many distinct pages to count", in->path);
				goto out;
			}
			in->min_page = page < in->min_page ? page : in->min_page;
			in->max_page = page > in->max_page ? page : in->max_page;
		}
	}
	if (n < 0) {
		rc = cli_usage_error("trace info", "%s", trace_error(in->t));
		goto out;
	}
	if (dense) {
		const uint64_t *ids;

		if (trace_ids(in->t, &ids, &in->distinct) != 0) {
			rc = cli_fail("trace info", "%s: the pft id table was not read", in->path);
			goto out;
		}
		for (uint64_t i = 0; i < in->distinct; i++) {
			in->min_page = ids[i] < in->min_page ? ids[i] : in->min_page;
			in->max_page = ids[i] > in->max_page ? ids[i] : in->max_page;
		}
	} else {
		in->distinct = map.count;
	}
	rc = EXIT_OK;
out:
	if (!dense)
		idmap_fini(&map);
	free(buf);
	return rc;
}

static double percent(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void info_print_json(const struct info *in)
{
	const struct trace_stats *st = trace_stats(in->t);
	const char *comp = trace_compression(in->t);
	uint32_t ps = trace_page_size(in->t);

	fputs("{\"trace\": ", stdout);
	json_string(stdout, in->path);
	printf(", \"format\": \"%s\", \"compression\": ", trace_format_name(trace_format(in->t)));
	if (comp)
		json_string(stdout, comp);
	else
		fputs("null", stdout);
	printf(", \"references\": %llu, \"records\": %llu, \"reads\": %llu, \"writes\": %llu",
	       (unsigned long long)st->refs, (unsigned long long)st->records,
	       (unsigned long long)st->reads, (unsigned long long)st->writes);
	printf(", \"write_fraction\": %.6f, \"skipped\": %llu, \"distinct_pages\": %llu",
	       st->refs ? (double)st->writes / (double)st->refs : 0.0,
	       (unsigned long long)st->skipped, (unsigned long long)in->distinct);
	printf(", \"page_size\": %u, \"footprint_bytes\": %.0f", ps, (double)in->distinct * ps);
	if (in->distinct)
		printf(", \"min_page\": %llu, \"max_page\": %llu", (unsigned long long)in->min_page,
		       (unsigned long long)in->max_page);
	else
		fputs(", \"min_page\": null, \"max_page\": null", stdout);
	printf(", \"dense\": %s}\n", trace_dense(in->t) ? "true" : "false");
}

static void info_print_text(const struct info *in)
{
	const struct trace_stats *st = trace_stats(in->t);
	const char *comp = trace_compression(in->t);
	uint32_t ps = trace_page_size(in->t);
	char foot[32];

	human_bytes(foot, sizeof(foot), (double)in->distinct * ps);
	printf("trace:          %s\n", in->path);
	printf("format:         %s%s%s\n", trace_format_name(trace_format(in->t)),
	       comp ? ", compressed with " : "", comp ? comp : "");
	printf("references:     %llu\n", (unsigned long long)st->refs);
	printf("records:        %llu\n", (unsigned long long)st->records);
	printf("reads:          %llu (%.1f%%)\n", (unsigned long long)st->reads,
	       percent(st->reads, st->refs));
	printf("writes:         %llu (%.1f%%)\n", (unsigned long long)st->writes,
	       percent(st->writes, st->refs));
	printf("skipped lines:  %llu\n", (unsigned long long)st->skipped);
	printf("distinct pages: %llu\n", (unsigned long long)in->distinct);
	printf("footprint:      %s (%llu pages of %u bytes)\n", foot,
	       (unsigned long long)in->distinct, ps);
	if (in->distinct)
		printf("page ids:       %llu .. %llu\n", (unsigned long long)in->min_page,
		       (unsigned long long)in->max_page);
	else
		printf("page ids:       none\n");
	printf("dense ids:      %s\n", trace_dense(in->t) ? "yes" : "no");
}

static int info_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "page-size", required_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct trace_options topt = { .format = TRACE_AUTO };
	struct info in = { 0 };
	bool json = false;
	char err[600];
	int c, rc;

	while ((c = cli_getopt("trace info", argc, argv, "f:h", longopts)) != -1) {
		switch (c) {
		case 'f':
			if (parse_format("trace info", "--format", optarg, false, &topt.format))
				return EXIT_USAGE;
			break;
		case 'P':
			if (cli_parse_page_size("trace info", optarg, &topt.page_size))
				return EXIT_USAGE;
			break;
		case 'j': json = true; break;
		case 'h': fputs(info_help, stdout); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_error("trace info", "missing TRACE (see --help)");
	if (optind + 1 < argc)
		return cli_usage_error("trace info", "unexpected argument '%s'", argv[optind + 1]);
	in.path = argv[optind];
	in.t = trace_open(in.path, &topt, err, sizeof(err));
	if (!in.t)
		return cli_usage_error("trace info", "%s", err);
	if (trace_format(in.t) == TRACE_PFT)
		trace_keep_ids(in.t);
	rc = info_scan(&in);
	if (rc == EXIT_OK) {
		if (json)
			info_print_json(&in);
		else
			info_print_text(&in);
	}
	trace_close(in.t);
	return rc;
}

/* ---- convert ---- */

/*
 * The original page ids of a pft input, from its table at the end of the
 * file: a first pass over it, so the conversion proper can stream.
 */
static struct trace *load_pft_ids(const char *path, uint32_t page_size, const uint64_t **ids,
				  uint64_t *n)
{
	struct trace_options o = { .format = TRACE_PFT, .page_size = page_size };
	struct trace_ref *buf = malloc(sizeof(*buf) * CHUNK);
	char err[600];
	struct trace *t = trace_open(path, &o, err, sizeof(err));
	ptrdiff_t got;

	if (!t || !buf) {
		if (t)
			cli_fail("trace convert", "out of memory");
		else
			cli_usage_error("trace convert", "%s", err);
		free(buf);
		trace_close(t);
		return NULL;
	}
	trace_keep_ids(t);
	while ((got = trace_read(t, buf, CHUNK)) > 0)
		;
	free(buf);
	if (got < 0 || trace_ids(t, ids, n) != 0) {
		cli_usage_error("trace convert", "%s", trace_error(t));
		trace_close(t);
		return NULL;
	}
	return t;
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return strcmp(a, "-") && strcmp(b, "-") && stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

struct convert {
	const char *in_path, *out_path;
	struct trace *in;
	struct trace *ids_trace; /* pft input: holds its id table */
	const uint64_t *ids;
	uint64_t nids;
	struct trace_writer *out;
};

static int convert_stream(struct convert *cv)
{
	struct trace_ref *buf = malloc(sizeof(*buf) * CHUNK);
	ptrdiff_t n;
	int rc = EXIT_OK;

	if (!buf)
		return cli_fail("trace convert", "out of memory");
	while ((n = trace_read(cv->in, buf, CHUNK)) > 0) {
		for (ptrdiff_t i = 0; cv->ids && i < n; i++) {
			if (buf[i].page >= cv->nids) {
				rc = cli_usage_error("trace convert", "%s: changed while being converted",
						     cv->in_path);
				goto out;
			}
			buf[i].page = cv->ids[buf[i].page];
		}
		if (trace_writer_put(cv->out, buf, (size_t)n) != 0) {
			rc = cli_fail("trace convert", "%s: %s", cv->out_path,
				      trace_writer_error(cv->out));
			goto out;
		}
	}
	if (n < 0)
		rc = cli_usage_error("trace convert", "%s", trace_error(cv->in));
out:
	free(buf);
	return rc;
}

static int convert_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'T' },
		{ "page-size", required_argument, NULL, 'P' },
		{ "zstd", no_argument, NULL, 'z' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct trace_options topt = { .format = TRACE_AUTO };
	struct trace_writer_options wopt = { .format = TRACE_PFT };
	struct convert cv = { 0 };
	char err[600];
	int c, rc;

	while ((c = cli_getopt("trace convert", argc, argv, "h", longopts)) != -1) {
		switch (c) {
		case 'F':
			if (parse_format("trace convert", "--from", optarg, false, &topt.format))
				return EXIT_USAGE;
			break;
		case 'T':
			if (parse_format("trace convert", "--to", optarg, true, &wopt.format))
				return EXIT_USAGE;
			break;
		case 'P':
			if (cli_parse_page_size("trace convert", optarg, &topt.page_size))
				return EXIT_USAGE;
			break;
		case 'z': wopt.zstd = true; break;
		case 'h': fputs(convert_help, stdout); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (argc - optind < 2)
		return cli_usage_error("trace convert", "needs IN and OUT (see --help)");
	if (argc - optind > 2)
		return cli_usage_error("trace convert", "unexpected argument '%s'", argv[optind + 2]);
	cv.in_path = argv[optind];
	cv.out_path = argv[optind + 1];
	if (same_file(cv.in_path, cv.out_path))
		return cli_usage_error("trace convert", "%s: the output would overwrite the input",
				       cv.out_path);
	if (outfile_check(cv.out_path, err, sizeof(err)) != 0)
		return cli_usage_error("trace convert", "%s", err);
	wopt.zstd |= ends_with(cv.out_path, ".zst");

	cv.in = trace_open(cv.in_path, &topt, err, sizeof(err));
	if (!cv.in)
		return cli_usage_error("trace convert", "%s", err);
	if (trace_format(cv.in) == TRACE_PFT) {
		if (strcmp(cv.in_path, "-") == 0) {
			trace_close(cv.in);
			return cli_usage_error("trace convert",
					       "a pft input must be a file, not standard input: its id table comes last");
		}
		cv.ids_trace = load_pft_ids(cv.in_path, topt.page_size, &cv.ids, &cv.nids);
		if (!cv.ids_trace) {
			trace_close(cv.in);
			return EXIT_USAGE;
		}
	}
	wopt.page_size = trace_page_size(cv.in);
	cv.out = trace_writer_open(cv.out_path, &wopt, err, sizeof(err));
	if (!cv.out) {
		rc = cli_fail("trace convert", "%s", err);
	} else {
		rc = convert_stream(&cv);
		if (rc != EXIT_OK) {
			trace_writer_abort(cv.out);
		} else if (trace_writer_close(cv.out, err, sizeof(err)) != 0) {
			rc = cli_fail("trace convert", "%s", err);
		} else if ((wopt.format == TRACE_TXT || wopt.format == TRACE_ORACLE) &&
			   trace_stats(cv.in)->writes) {
			fprintf(stderr, "pflab trace convert: note: %s has no write bit: %llu writes were written as plain references\n",
				trace_format_name(wopt.format),
				(unsigned long long)trace_stats(cv.in)->writes);
		}
	}
	trace_close(cv.ids_trace);
	trace_close(cv.in);
	return rc;
}

/* ---- gen ---- */

/* One phase of --phases: KIND[:ALPHA|:STRIDE]:PAGES:REFS[@BASE]. */
static int parse_phase(char *item, struct gen_phase *ph, char *why, size_t whylen)
{
	char *fields[5], *at = strchr(item, '@'), *p = item, what[160];
	size_t nf = 0, want;

	*ph = (struct gen_phase){ 0 };
	if (at) {
		*at = '\0';
		if (cli_parse_u64(at + 1, 0, MAX_GEN_BASE, &ph->base, what, sizeof(what)) != 0) {
			snprintf(why, whylen, "base %s", what);
			return -1;
		}
	}
	while (nf < 5) {
		fields[nf++] = p;
		p = strchr(p, ':');
		if (!p)
			break;
		*p++ = '\0';
	}
	if (p) {
		snprintf(why, whylen, "too many fields");
		return -1;
	}
	if (gen_kind_parse(fields[0], &ph->kind) != 0) {
		snprintf(why, whylen, "unknown kind '%s' (seq, loop, uniform, zipf or strided)",
			 fields[0]);
		return -1;
	}
	want = ph->kind == GEN_ZIPF || ph->kind == GEN_STRIDED ? 4 : 3;
	if (nf != want) {
		snprintf(why, whylen, "expected %s%s:PAGES:REFS", fields[0],
			 ph->kind == GEN_ZIPF ? ":ALPHA" : ph->kind == GEN_STRIDED ? ":STRIDE" : "");
		return -1;
	}
	if (ph->kind == GEN_ZIPF &&
	    cli_parse_double(fields[1], 0, 20, &ph->alpha, why, whylen) != 0)
		return -1;
	if (ph->kind == GEN_STRIDED &&
	    cli_parse_u64(fields[1], 1, GEN_MAX_PAGES, &ph->stride, why, whylen) != 0)
		return -1;
	if (cli_parse_u64(fields[want - 2], 1, GEN_MAX_PAGES, &ph->pages, why, whylen) != 0 ||
	    cli_parse_u64(fields[want - 1], 1, MAX_GEN_REFS, &ph->refs, why, whylen) != 0)
		return -1;
	return at ? 1 : 0;
}

static int parse_phases(const char *spec, struct gen_phase **out, size_t *n)
{
	char *copy = strdup(spec), **items = NULL;
	struct gen_phase *ph = NULL;
	uint64_t fresh = 0; /* the first page above every phase so far */
	size_t count = 0;
	int rc = EXIT_USAGE;

	if (copy)
		count = cli_split(copy, &items);
	if (count == 0 || !(ph = calloc(count, sizeof(*ph)))) {
		rc = cli_fail("trace gen", "out of memory");
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		char original[256], why[200];
		int has_base;

		snprintf(original, sizeof(original), "%s", items[i]);
		has_base = parse_phase(items[i], &ph[i], why, sizeof(why));
		if (has_base < 0) {
			cli_usage_error("trace gen", "--phases: phase %zu ('%s'): %s", i + 1, original, why);
			goto out;
		}
		if (!has_base)
			ph[i].base = fresh;
		if (ph[i].base + ph[i].pages > fresh)
			fresh = ph[i].base + ph[i].pages;
	}
	*out = ph;
	*n = count;
	ph = NULL;
	rc = EXIT_OK;
out:
	free(ph);
	free(items);
	free(copy);
	return rc;
}

struct gen_opts {
	const char *kind_name, *out_path, *phases;
	const char *pages, *refs, *alpha, *stride;
	uint64_t seed;
	double write_ratio;
	struct trace_writer_options w;
};

/* The phases a KIND and its options stand for. */
static int gen_phases(const struct gen_opts *o, struct gen_phase **out, size_t *n)
{
	struct gen_phase ph = { .alpha = 1.0 };
	char why[200];

	if (strcmp(o->kind_name, "phases") == 0) {
		const char *extra = o->pages ? "--pages" : o->refs ? "--refs" : o->alpha ? "--alpha"
				  : o->stride ? "--stride" : NULL;

		if (!o->phases)
			return cli_usage_error("trace gen", "phases needs --phases SPEC (see --help)");
		if (extra)
			return cli_usage_error("trace gen", "%s does not apply to phases: put it in --phases",
					       extra);
		return parse_phases(o->phases, out, n);
	}
	if (gen_kind_parse(o->kind_name, &ph.kind) != 0)
		return cli_usage_error("trace gen", "unknown kind '%s' (seq, loop, uniform, zipf, strided, phases)",
				       o->kind_name);
	if (o->phases)
		return cli_usage_error("trace gen", "--phases applies only to the kind phases");
	if (o->alpha && ph.kind != GEN_ZIPF)
		return cli_usage_error("trace gen", "--alpha applies only to zipf");
	if (o->stride && ph.kind != GEN_STRIDED)
		return cli_usage_error("trace gen", "--stride applies only to strided");
	if (!o->pages || !o->refs)
		return cli_usage_error("trace gen", "%s needs --pages and --refs", o->kind_name);
	if (cli_opt_u64("trace gen", "--pages", o->pages, 1, GEN_MAX_PAGES, &ph.pages))
		return EXIT_USAGE;
	if (cli_opt_u64("trace gen", "--refs", o->refs, 1, MAX_GEN_REFS, &ph.refs))
		return EXIT_USAGE;
	if (o->alpha && cli_parse_double(o->alpha, 0, 20, &ph.alpha, why, sizeof(why)) != 0)
		return cli_usage_error("trace gen", "--alpha: %s", why);
	if (ph.kind == GEN_STRIDED) {
		if (!o->stride)
			return cli_usage_error("trace gen", "strided needs --stride");
		if (cli_opt_u64("trace gen", "--stride", o->stride, 1, ph.pages, &ph.stride))
			return EXIT_USAGE;
	}
	*out = malloc(sizeof(ph));
	if (!*out)
		return cli_fail("trace gen", "out of memory");
	**out = ph;
	*n = 1;
	return EXIT_OK;
}

static int gen_write(const struct gen_opts *o, const struct gen_phase *ph, size_t nph)
{
	struct trace_ref *buf = malloc(sizeof(*buf) * CHUNK);
	struct trace_writer *w = NULL;
	struct gen g;
	char err[600];
	ptrdiff_t n;
	int rc = EXIT_FAIL;

	if (!buf || gen_init(&g, ph, nph, o->seed, o->write_ratio) != 0) {
		free(buf);
		return cli_fail("trace gen", "out of memory");
	}
	w = trace_writer_open(o->out_path, &o->w, err, sizeof(err));
	if (!w) {
		cli_fail("trace gen", "%s", err);
		goto out;
	}
	while ((n = gen_fill(&g, buf, CHUNK)) > 0) {
		if (trace_writer_put(w, buf, (size_t)n) != 0) {
			cli_fail("trace gen", "%s: %s", o->out_path, trace_writer_error(w));
			goto out;
		}
	}
	if (n < 0) {
		cli_fail("trace gen", "out of memory for a Zipf table");
		goto out;
	}
	rc = trace_writer_close(w, err, sizeof(err)) == 0 ? EXIT_OK : cli_fail("trace gen", "%s", err);
	w = NULL;
out:
	trace_writer_abort(w);
	gen_fini(&g);
	free(buf);
	return rc;
}

static int gen_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "pages", required_argument, NULL, 'n' },
		{ "refs", required_argument, NULL, 'm' },
		{ "alpha", required_argument, NULL, 'a' },
		{ "stride", required_argument, NULL, 's' },
		{ "phases", required_argument, NULL, 'p' },
		{ "seed", required_argument, NULL, 'S' },
		{ "write-ratio", required_argument, NULL, 'w' },
		{ "page-size", required_argument, NULL, 'P' },
		{ "zstd", no_argument, NULL, 'z' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct gen_opts o = { .seed = 1, .w = { .format = TRACE_PFT, .page_size = 4096 } };
	struct gen_phase *ph = NULL;
	size_t nph = 0;
	char why[200];
	int c, rc;

	while ((c = cli_getopt("trace gen", argc, argv, "o:f:h", longopts)) != -1) {
		switch (c) {
		case 'o': o.out_path = optarg; break;
		case 'f':
			if (parse_format("trace gen", "--format", optarg, true, &o.w.format))
				return EXIT_USAGE;
			break;
		case 'n': o.pages = optarg; break;
		case 'm': o.refs = optarg; break;
		case 'a': o.alpha = optarg; break;
		case 's': o.stride = optarg; break;
		case 'p': o.phases = optarg; break;
		case 'S':
			if (cli_opt_u64("trace gen", "--seed", optarg, 0, UINT64_MAX, &o.seed))
				return EXIT_USAGE;
			break;
		case 'w':
			if (cli_parse_double(optarg, 0, 1, &o.write_ratio, why, sizeof(why)) != 0)
				return cli_usage_error("trace gen", "--write-ratio: %s", why);
			break;
		case 'P':
			if (cli_parse_page_size("trace gen", optarg, &o.w.page_size))
				return EXIT_USAGE;
			break;
		case 'z': o.w.zstd = true; break;
		case 'h': fputs(gen_help, stdout); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_error("trace gen", "missing KIND (see --help)");
	if (optind + 1 < argc)
		return cli_usage_error("trace gen", "unexpected argument '%s'", argv[optind + 1]);
	o.kind_name = argv[optind];
	if (!o.out_path)
		return cli_usage_error("trace gen", "missing -o OUT");
	{
		char err[600];

		if (outfile_check(o.out_path, err, sizeof(err)) != 0)
			return cli_usage_error("trace gen", "%s", err);
	}
	o.w.zstd |= ends_with(o.out_path, ".zst");
	rc = gen_phases(&o, &ph, &nph);
	if (rc == EXIT_OK)
		rc = gen_write(&o, ph, nph);
	free(ph);
	return rc;
}

/* ---- dispatch ---- */

static int trace_main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*main)(int argc, char **argv);
	} subs[] = {
		{ "info", info_main },
		{ "convert", convert_main },
		{ "gen", gen_main },
	};

	if (argc < 2)
		return cli_usage_error("trace", "missing subcommand: info, convert or gen (see --help)");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(trace_help, stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].main(argc - 1, argv + 1);
	return cli_usage_error("trace", "unknown subcommand '%s' (info, convert or gen; see --help)",
			       argv[1]);
}

static const struct command trace_cmd = {
	.name = "trace",
	.summary = "inspect, convert and generate reference traces",
	.main = trace_main,
};
COMMAND_REGISTER(trace_cmd);
