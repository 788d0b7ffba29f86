// SPDX-License-Identifier: MIT
/* The outputs of pflab compare: see lab_report.h. */
#include "lab_report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lab_text.h"
#include "lab_plot.h"
#include "lab_proc.h"
#include "outfile.h"

/* The matrix indexed: cell[(t * npolicies + p) * nframes + f] -> its row. */
struct index {
	const struct lab_matrix *m;
	const struct lab_row **cell;
	char (*slug)[64];       /* per trace: a file-name-safe label */
	bool has_opt;
	size_t opt;             /* index of "opt" in m->policies */
};

static const struct lab_row *at(const struct index *x, size_t t, size_t p, size_t f)
{
	return x->cell[(t * x->m->npolicies + p) * x->m->nframes + f];
}

static const struct lab_row *ok_at(const struct index *x, size_t t, size_t p, size_t f)
{
	const struct lab_row *r = at(x, t, p, f);

	return r && !r->error ? r : NULL;
}

static ptrdiff_t find_string(char **list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], s))
			return (ptrdiff_t)i;
	return -1;
}

static ptrdiff_t find_frames(const uint32_t *v, size_t n, uint32_t frames)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (v[mid] < frames)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo] == frames ? (ptrdiff_t)lo : -1;
}

/* "7-cpp_txt" for the 7th trace ../traces/cpp.txt: unique, and safe in a file name. */
static void make_slug(char *slug, size_t len, size_t t, const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base && base[1] ? base + 1 : path;
	n = (size_t)snprintf(slug, len, "%zu-", t + 1);
	for (; *base && n + 1 < len && n < 48; base++)
		slug[n++] = (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-",
				    *base) && *base) ? *base : '_';
	slug[n] = '\0';
}

static int index_build(struct index *x, const struct lab_matrix *m)
{
	size_t cells = m->ntraces * m->npolicies * m->nframes;
	ptrdiff_t opt = find_string(m->policies, m->npolicies, "opt");

	*x = (struct index){ .m = m, .has_opt = opt >= 0, .opt = opt >= 0 ? (size_t)opt : 0 };
	x->cell = calloc(cells ? cells : 1, sizeof(*x->cell));
	x->slug = calloc(m->ntraces ? m->ntraces : 1, sizeof(*x->slug));
	if (!x->cell || !x->slug)
		return -1;
	for (size_t i = 0; i < m->rows->n; i++) {
		const struct lab_row *r = &m->rows->row[i];
		ptrdiff_t t = find_string(m->traces, m->ntraces, r->trace);
		ptrdiff_t p = find_string(m->policies, m->npolicies, r->policy);
		ptrdiff_t f = find_frames(m->frames, m->nframes, r->frames);

		if (t >= 0 && p >= 0 && f >= 0 && !x->cell[((size_t)t * m->npolicies + (size_t)p) *
							   m->nframes + (size_t)f])
			x->cell[((size_t)t * m->npolicies + (size_t)p) * m->nframes + (size_t)f] = r;
	}
	for (size_t t = 0; t < m->ntraces; t++)
		make_slug(x->slug[t], sizeof(x->slug[t]), t, m->traces[t]);
	return 0;
}

static void index_free(struct index *x)
{
	free(x->cell);
	free(x->slug);
}

/*
 * Mark the policies with the fewest faults at (t, f) in best[]; OPT takes
 * part only when it is the only policy (it is the bound, not a contender).
 * Returns how many tie for best, 0 when none has a result.
 */
static size_t best_at(const struct index *x, size_t t, size_t f, bool *best, uint64_t *faults)
{
	const struct lab_matrix *m = x->m;
	bool opt_only = m->npolicies == 1;
	uint64_t min = UINT64_MAX;
	size_t n = 0;

	for (size_t p = 0; p < m->npolicies; p++) {
		const struct lab_row *r = ok_at(x, t, p, f);

		best[p] = false;
		if (r && (opt_only || !x->has_opt || p != x->opt) && r->faults < min)
			min = r->faults;
	}
	if (min == UINT64_MAX)
		return 0;
	for (size_t p = 0; p < m->npolicies; p++) {
		const struct lab_row *r = ok_at(x, t, p, f);

		if (r && (opt_only || !x->has_opt || p != x->opt) && r->faults == min) {
			best[p] = true;
			n++;
		}
	}
	*faults = min;
	return n;
}

static FILE *open_in(const char *dir, const char *name, struct outfile *of, char *path,
		     size_t len, char *err, size_t errlen)
{
	snprintf(path, len, "%s/%s", dir, name);
	return outfile_fopen(of, path, err, errlen);
}

/* The rows in matrix order: traces, then policies, then frames. */
static void write_csv(const struct index *x, FILE *out)
{
	const struct lab_matrix *m = x->m;

	fprintf(out, "%s\n", lab_csv_header);
	for (size_t t = 0; t < m->ntraces; t++)
		for (size_t p = 0; p < m->npolicies; p++)
			for (size_t f = 0; f < m->nframes; f++)
				if (at(x, t, p, f))
					lab_row_write_csv(at(x, t, p, f), out);
}

static const char *opt_source_name(enum lab_opt_source s)
{
	switch (s) {
	case LAB_OPT_REQUESTED: return "requested";
	case LAB_OPT_ADDED: return "added";
	case LAB_OPT_NONE: return "none";
	case LAB_OPT_MERGED: return "merged";
	}
	return "?";
}

static size_t failed_cells(const struct index *x)
{
	const struct lab_matrix *m = x->m;
	size_t n = 0;

	for (size_t t = 0; t < m->ntraces; t++)
		for (size_t p = 0; p < m->npolicies; p++) {
			bool failed = false;

			for (size_t f = 0; f < m->nframes; f++)
				failed |= !ok_at(x, t, p, f);
			n += failed;
		}
	return n;
}

static void write_json(const struct index *x, FILE *out)
{
	const struct lab_matrix *m = x->m;
	bool *best = calloc(m->npolicies ? m->npolicies : 1, sizeof(*best));
	bool first = true;

	fputs("{\n  \"command\": \"pflab compare\",\n  \"traces\": [", out);
	for (size_t t = 0; t < m->ntraces; t++) {
		fputs(t ? ", " : "", out);
		json_string(out, m->traces[t]);
	}
	fputs("],\n  \"policies\": [", out);
	for (size_t p = 0; p < m->npolicies; p++) {
		fputs(p ? ", " : "", out);
		json_string(out, m->policies[p]);
	}
	fputs("],\n  \"frames\": [", out);
	for (size_t f = 0; f < m->nframes; f++)
		fprintf(out, "%s%u", f ? ", " : "", m->frames[f]);
	fprintf(out, "],\n  \"opt\": \"%s\",\n  \"cells\": %zu,\n  \"failed_cells\": %zu,\n",
		opt_source_name(m->opt), m->ntraces * m->npolicies, failed_cells(x));
	fputs("  \"best\": [", out);
	for (size_t t = 0; best && t < m->ntraces; t++)
		for (size_t f = 0; f < m->nframes; f++) {
			uint64_t faults;
			bool any = false;

			if (!best_at(x, t, f, best, &faults))
				continue;
			fprintf(out, "%s\n    {\"trace\": ", first ? "" : ",");
			first = false;
			json_string(out, m->traces[t]);
			fprintf(out, ", \"frames\": %u, \"faults\": %llu, \"policies\": [", m->frames[f],
				(unsigned long long)faults);
			for (size_t p = 0; p < m->npolicies; p++) {
				if (!best[p])
					continue;
				fputs(any ? ", " : "", out);
				json_string(out, m->policies[p]);
				any = true;
			}
			fputs("]}", out);
		}
	fputs(first ? "],\n" : "\n  ],\n", out);
	fputs("  \"rows\": [", out);
	first = true;
	for (size_t t = 0; t < m->ntraces; t++)
		for (size_t p = 0; p < m->npolicies; p++)
			for (size_t f = 0; f < m->nframes; f++) {
				const struct lab_row *r = at(x, t, p, f);

				if (!r)
					continue;
				fputs(first ? "\n    " : ",\n    ", out);
				first = false;
				lab_row_write_json(r, out);
			}
	fputs(first ? "]\n}\n" : "\n  ]\n}\n", out);
	free(best);
}

/* The two figures of trace t. Returns how many were added to the script. */
static int plot_trace(const struct index *x, size_t t, FILE *script,
		      struct lab_plot_outputs *outs, const char *dir,
		      char *err, size_t errlen)
{
	const struct lab_matrix *m = x->m;
	size_t np = m->npolicies, nf = m->nframes;
	double *xs = malloc(sizeof(*xs) * nf);
	double *miss = malloc(sizeof(*miss) * np * nf);
	double *rel = malloc(sizeof(*rel) * np * nf);
	struct lab_series *series = malloc(sizeof(*series) * np);
	struct lab_series *rel_series = malloc(sizeof(*rel_series) * np);
	char data[4200], png[4200], svg[4200], title[512];
	size_t nseries = 0, nrel = 0;
	bool any_opt = false;
	int added = -1;

	if (!xs || !miss || !rel || !series || !rel_series) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t f = 0; f < nf; f++) {
		xs[f] = m->frames[f];
		any_opt |= x->has_opt && ok_at(x, t, x->opt, f);
	}
	for (size_t p = 0; p < np; p++) {
		bool any = false;

		for (size_t f = 0; f < nf; f++) {
			const struct lab_row *r = ok_at(x, t, p, f);
			const struct lab_row *o = x->has_opt ? ok_at(x, t, x->opt, f) : NULL;

			miss[nseries * nf + f] = r ? r->miss_ratio : NAN;
			rel[nrel * nf + f] = r && o && o->faults ? (double)r->faults / (double)o->faults
								 : NAN;
			any |= r != NULL;
		}
		if (!any)
			continue;
		series[nseries] = (struct lab_series){ .name = m->policies[p], .y = miss + nseries * nf };
		nseries++;
		rel_series[nrel] = (struct lab_series){ .name = m->policies[p], .y = rel + nrel * nf };
		nrel++;
	}
	added = 0;
	if (!nseries)
		goto out;
	snprintf(data, sizeof(data), "%s/data/miss-%s.dat", dir, x->slug[t]);
	snprintf(png, sizeof(png), "%s/miss-%s.png", dir, x->slug[t]);
	snprintf(svg, sizeof(svg), "%s/miss-%s.svg", dir, x->slug[t]);
	snprintf(title, sizeof(title), "Miss ratio against memory size: %s", m->traces[t]);
	if (lab_plot_add(script, outs, &(struct lab_plot){
		    .title = title, .xlabel = "frames (memory size in pages)",
		    .ylabel = "miss ratio (faults / references)",
		    .data_path = data, .png_path = png, .svg_path = svg,
		    .logx = lab_plot_wants_logx(xs[0], xs[nf - 1]), .points = true,
		    .ymin = 0, .ymax = NAN, .nx = nf, .x = xs,
		    .nseries = nseries, .series = series,
	    }, err, errlen) != 0) {
		added = -1;
		goto out;
	}
	added = 1;
	if (!any_opt)
		goto out;
	snprintf(data, sizeof(data), "%s/data/vs-opt-%s.dat", dir, x->slug[t]);
	snprintf(png, sizeof(png), "%s/vs-opt-%s.png", dir, x->slug[t]);
	snprintf(svg, sizeof(svg), "%s/vs-opt-%s.svg", dir, x->slug[t]);
	snprintf(title, sizeof(title), "Faults relative to OPT: %s", m->traces[t]);
	if (lab_plot_add(script, outs, &(struct lab_plot){
		    .title = title, .xlabel = "frames (memory size in pages)",
		    .ylabel = "faults / OPT's faults (1 = optimal)",
		    .data_path = data, .png_path = png, .svg_path = svg,
		    .logx = lab_plot_wants_logx(xs[0], xs[nf - 1]), .points = true,
		    .ymin = NAN, .ymax = NAN, .nx = nf, .x = xs,
		    .nseries = nrel, .series = rel_series,
	    }, err, errlen) != 0) {
		added = -1;
		goto out;
	}
	added = 2;
out:
	free(xs);
	free(miss);
	free(rel);
	free(series);
	free(rel_series);
	return added;
}

/* Write the script and run gnuplot. 0, or -1 with the reason in err. */
static int write_plots(const struct index *x, const char *dir, int *figures, char *err,
		       size_t errlen)
{
	char script[4200], log[4200], datadir[4200];
	struct lab_plot_outputs outs = { 0 };
	struct outfile of;
	FILE *f;
	int rc = 0;

	*figures = 0;
	snprintf(datadir, sizeof(datadir), "%s/data", dir);
	if (lab_mkdirs(datadir) != 0) {
		snprintf(err, errlen, "%.400s: %s", datadir, strerror(errno));
		return -1;
	}
	f = open_in(dir, "plots.gp", &of, script, sizeof(script), err, errlen);
	if (!f)
		return -1;
	lab_plot_begin(f);
	for (size_t t = 0; t < x->m->ntraces && rc == 0; t++) {
		int n = plot_trace(x, t, f, &outs, dir, err, errlen);

		if (n < 0)
			rc = -1;
		else
			*figures += n;
	}
	if (rc) {
		outfile_abort(&of);
		fclose(f);
	} else if (outfile_fclose(&of, f, err, errlen) != 0) {
		rc = -1;
	}
	if (rc == 0 && *figures) {
		/* gnuplot's log goes in a directory of pflab's own, never in the
		 * user's DIR (whose gnuplot.log, if any, is theirs): its last line
		 * is in err when gnuplot fails. */
		char *tmp = lab_tempdir("pflab-report");

		if (!tmp) {
			snprintf(err, errlen, "cannot make a temporary directory: %s", strerror(errno));
			rc = -1;
		} else {
			snprintf(log, sizeof(log), "%s/gnuplot.log", tmp);
			rc = lab_plot_run(script, log, false, &outs, err, errlen);
			lab_rmtree(tmp);
			free(tmp);
		}
	}
	lab_plot_outputs_free(&outs);
	return rc;
}

static void md_cell_text(FILE *out, const char *s)
{
	/* A table cell: pipes would split it, newlines end it. */
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", out);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', out);
		else
			fputc(*s, out);
	}
}

static void report_trace(const struct index *x, size_t t, bool plotted, FILE *out)
{
	const struct lab_matrix *m = x->m;
	bool *best = calloc(m->npolicies, sizeof(*best));
	bool any = false, any_opt = false;

	if (!best)
		return;
	for (size_t p = 0; p < m->npolicies; p++)
		for (size_t f = 0; f < m->nframes; f++) {
			any |= ok_at(x, t, p, f) != NULL;
			any_opt |= x->has_opt && p == x->opt && ok_at(x, t, p, f);
		}
	fprintf(out, "\n## Trace %zu: `%s`\n\n", t + 1, m->traces[t]);
	if (!any) {
		fputs("No results: every cell of this trace failed (see *Failed cells* below).\n", out);
		free(best);
		return;
	}
	if (plotted) {
		fprintf(out, "![Miss ratio against frames, %s](miss-%s.png)\n\n", m->traces[t],
			x->slug[t]);
		if (any_opt)
			fprintf(out, "![Faults relative to OPT, %s](vs-opt-%s.png)\n\n", m->traces[t],
				x->slug[t]);
		fprintf(out, "SVG: [miss-%s.svg](miss-%s.svg)", x->slug[t], x->slug[t]);
		if (any_opt)
			fprintf(out, ", [vs-opt-%s.svg](vs-opt-%s.svg)", x->slug[t], x->slug[t]);
		fputs("\n\n", out);
	}
	fputs("| frames | best | best's miss ratio |", out);
	for (size_t p = 0; p < m->npolicies; p++)
		fprintf(out, " %s |", m->policies[p]);
	fputs("\n|---:|---|---:|", out);
	for (size_t p = 0; p < m->npolicies; p++)
		fputs("---:|", out);
	fputc('\n', out);
	for (size_t f = 0; f < m->nframes; f++) {
		uint64_t faults = 0;
		size_t n = best_at(x, t, f, best, &faults);
		const struct lab_row *br = NULL;
		bool first = true;

		size_t contenders = m->npolicies - (x->has_opt && m->npolicies > 1);

		fprintf(out, "| %u | ", m->frames[f]);
		for (size_t p = 0; p < m->npolicies; p++) {
			if (!best[p])
				continue;
			/* Every contender alike (memory holds every page): say so. */
			if (n == contenders && n > 2)
				fputs(first ? "all" : "", out);
			else
				fprintf(out, "%s%s", first ? "" : ", ", m->policies[p]);
			first = false;
			br = ok_at(x, t, p, f);
		}
		if (!n)
			fputs("—", out);
		else if (n > 1)
			fputs(" (tie)", out);
		if (br)
			fprintf(out, " | %.4f |", br->miss_ratio);
		else
			fputs(" | — |", out);
		for (size_t p = 0; p < m->npolicies; p++) {
			const struct lab_row *r = ok_at(x, t, p, f);

			if (!r)
				fputs(" failed |", out);
			else if (best[p])
				fprintf(out, " **%llu** |", (unsigned long long)r->faults);
			else
				fprintf(out, " %llu |", (unsigned long long)r->faults);
		}
		fputc('\n', out);
	}
	free(best);
}

static void write_report(const struct index *x, bool plotted, const char *plot_problem, FILE *out)
{
	const struct lab_matrix *m = x->m;
	size_t failed = failed_cells(x);
	char stamp[64] = "";
	time_t now = time(NULL);
	struct tm tm;

	if (gmtime_r(&now, &tm))
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M UTC", &tm);
	fprintf(out, "# Replacement policies compared\n\n"
		"Written by `pflab compare` on %s: %zu trace%s × %zu polic%s × %zu frame count%s; "
		"%zu of %zu cells failed.\n\n",
		stamp, m->ntraces, m->ntraces == 1 ? "" : "s", m->npolicies,
		m->npolicies == 1 ? "y" : "ies", m->nframes, m->nframes == 1 ? "" : "s", failed,
		m->ntraces * m->npolicies);
	fputs("- Policies:", out);
	for (size_t p = 0; p < m->npolicies; p++)
		fprintf(out, " %s%s", m->policies[p], p + 1 < m->npolicies ? "," : "");
	fputs("\n- Frames:", out);
	for (size_t f = 0; f < m->nframes; f++)
		fprintf(out, " %u%s", m->frames[f], f + 1 < m->nframes ? "," : "");
	fputs("\n- OPT: ", out);
	switch (m->opt) {
	case LAB_OPT_REQUESTED:
		fputs("in the policy list; it is the baseline of the relative figures.\n", out);
		break;
	case LAB_OPT_ADDED:
		fputs("not in the policy list, so it was run in addition as the baseline of the "
		      "relative figures (its rows are in the results).\n", out);
		break;
	case LAB_OPT_NONE:
		fputs("not run (--no-opt): no relative figures.\n", out);
		break;
	case LAB_OPT_MERGED:
		fputs(x->has_opt ? "taken from the partial results merged; it is the baseline of "
				   "the relative figures.\n"
				 : "absent from the partial results merged: no relative figures.\n",
		      out);
		break;
	}
	fputs("- *Best* is the policy with the fewest faults at that size, OPT left out (it needs\n"
	      "  the future: it is the bound, not a contender); ties are listed together. The\n"
	      "  numbers are faults, cold misses included; the best are in bold. Every column of\n"
	      "  every row is in `results.csv` and `results.json`.\n", out);
	if (!plotted && plot_problem)
		fprintf(out, "- No figures: %s.\n", plot_problem);
	for (size_t t = 0; t < m->ntraces; t++)
		report_trace(x, t, plotted, out);
	if (!failed)
		return;
	fputs("\n## Failed cells\n\n| trace | policy | reason |\n|---|---|---|\n", out);
	for (size_t t = 0; t < m->ntraces; t++)
		for (size_t p = 0; p < m->npolicies; p++) {
			const char *why = NULL;

			for (size_t f = 0; f < m->nframes && !why; f++) {
				const struct lab_row *r = at(x, t, p, f);

				if (!r)
					why = "no result";
				else if (r->error)
					why = r->error;
			}
			if (!why)
				continue;
			fputs("| `", out);
			md_cell_text(out, m->traces[t]);
			fprintf(out, "` | %s | ", m->policies[p]);
			md_cell_text(out, why);
			fputs(" |\n", out);
		}
}

int lab_report_write(const struct lab_matrix *m, const char *dir,
		     const struct lab_report_options *opt, bool *plot_failed, char *err,
		     size_t errlen)
{
	char path[4200], plot_err[600] = "";
	struct index x;
	bool plotted = false;
	int figures = 0, rc = -1;
	struct outfile of;
	FILE *f;

	*plot_failed = false;
	if (index_build(&x, m) != 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (!(f = open_in(dir, "results.csv", &of, path, sizeof(path), err, errlen)))
		goto out;
	write_csv(&x, f);
	if (outfile_fclose(&of, f, err, errlen) != 0)
		goto out;
	if (!(f = open_in(dir, "results.json", &of, path, sizeof(path), err, errlen)))
		goto out;
	write_json(&x, f);
	if (outfile_fclose(&of, f, err, errlen) != 0)
		goto out;
	if (opt->plots) {
		if (write_plots(&x, dir, &figures, plot_err, sizeof(plot_err)) == 0) {
			plotted = figures > 0;
		} else {
			*plot_failed = true;
			fprintf(stderr, "pflab compare: no figures: %s\n", plot_err);
		}
	}
	if (opt->report) {
		if (!(f = open_in(dir, "report.md", &of, path, sizeof(path), err, errlen)))
			goto out;
		write_report(&x, plotted, *plot_err ? plot_err : NULL, f);
		if (outfile_fclose(&of, f, err, errlen) != 0)
			goto out;
	}
	rc = 0;
out:
	index_free(&x);
	return rc;
}
