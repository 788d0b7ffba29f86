// SPDX-License-Identifier: MIT
/* The table, CSV and JSON of simulated machines' results (lab_simtable.h). */
#include "lab_simtable.h"

#include "lab_text.h"
#include "policy.h"

static double miss_ratio(const struct pager_stats *st)
{
	return st->refs ? (double)st->faults / (double)st->refs : 0.0;
}

static double resident_mean(const struct pager_stats *st)
{
	return st->refs ? (double)st->resident_sum / (double)st->refs : 0.0;
}

static double refs_per_sec(const struct sim_row *r)
{
	return r->seconds > 0 ? (double)r->st.refs / r->seconds : 0.0;
}

static void print_table(FILE *out, const struct sim_table *t)
{
	bool variable = false;

	for (size_t i = 0; i < t->nrows; i++)
		variable |= t->rows[i].policy->flags & POLICY_VARIABLE;
	fprintf(out, "%-10s %8s %12s %12s %10s %12s", "policy", "frames", "refs", "faults",
		"miss_ratio", "writebacks");
	if (variable)
		fprintf(out, " %13s %12s", "resident_mean", "resident_max");
	if (t->timing)
		fprintf(out, " %10s %12s", "seconds", "refs/s");
	if (t->pool)
		fprintf(out, " %10s %10s", "major", "pool_hits");
	fputc('\n', out);
	for (size_t i = 0; i < t->nrows; i++) {
		const struct sim_row *r = &t->rows[i];
		const struct pager_stats *st = &r->st;

		fprintf(out, "%-10s %8u %12llu %12llu %10.6f %12llu", r->policy->name, r->frames,
			(unsigned long long)st->refs, (unsigned long long)st->faults, miss_ratio(st),
			(unsigned long long)st->writebacks);
		if (variable)
			fprintf(out, " %13.1f %12llu", resident_mean(st),
				(unsigned long long)st->resident_max);
		if (t->timing)
			fprintf(out, " %10.3f %12.0f", r->seconds, refs_per_sec(r));
		if (t->pool)
			fprintf(out, " %10llu %10llu", (unsigned long long)st->major,
				(unsigned long long)st->pool_reclaims);
		fputc('\n', out);
	}
}

static void print_csv(FILE *out, const struct sim_table *t)
{
	fputs("trace,policy,frames,refs,faults,miss_ratio,writebacks,major,minor,evictions,"
	      "resident_mean,resident_max", out);
	if (t->timing)
		fputs(",seconds,refs_per_sec", out);
	if (t->pool) /* last, so that other columns keep their places */
		fputs(",pool_reclaims,direct_reclaims", out);
	fputc('\n', out);
	for (size_t i = 0; i < t->nrows; i++) {
		const struct sim_row *r = &t->rows[i];
		const struct pager_stats *st = &r->st;

		csv_field(out, t->trace);
		fprintf(out, ",%s,%u,%llu,%llu,%.6f,%llu,%llu,%llu,%llu,%.3f,%llu", r->policy->name,
			r->frames, (unsigned long long)st->refs, (unsigned long long)st->faults,
			miss_ratio(st), (unsigned long long)st->writebacks,
			(unsigned long long)st->major, (unsigned long long)st->minor,
			(unsigned long long)st->evictions, resident_mean(st),
			(unsigned long long)st->resident_max);
		if (t->timing)
			fprintf(out, ",%.6f,%.0f", r->seconds, refs_per_sec(r));
		if (t->pool)
			fprintf(out, ",%llu,%llu", (unsigned long long)st->pool_reclaims,
				(unsigned long long)st->direct_reclaims);
		fputc('\n', out);
	}
}

static void print_json(FILE *out, const struct sim_table *t)
{
	fputs("[\n", out);
	for (size_t i = 0; i < t->nrows; i++) {
		const struct sim_row *r = &t->rows[i];
		const struct pager_stats *st = &r->st;

		fputs("  {\"trace\": ", out);
		json_string(out, t->trace);
		fputs(", \"format\": ", out);
		json_string(out, t->format);
		fputs(", \"policy\": ", out);
		json_string(out, r->policy->name);
		fprintf(out, ", \"frames\": %u, \"refs\": %llu, \"faults\": %llu, \"miss_ratio\": %.6f, "
			"\"writebacks\": %llu, \"major\": %llu, \"minor\": %llu, \"evictions\": %llu, "
			"\"resident_mean\": %.3f, \"resident_max\": %llu, \"distinct_pages\": %u, "
			"\"trace_writes\": %llu",
			r->frames, (unsigned long long)st->refs, (unsigned long long)st->faults,
			miss_ratio(st), (unsigned long long)st->writebacks,
			(unsigned long long)st->major, (unsigned long long)st->minor,
			(unsigned long long)st->evictions, resident_mean(st),
			(unsigned long long)st->resident_max, t->pages,
			(unsigned long long)t->trace_writes);
		if (t->timing)
			fprintf(out, ", \"seconds\": %.6f", r->seconds);
		if (t->pool)
			fprintf(out, ", \"pool_reclaims\": %llu, \"direct_reclaims\": %llu",
				(unsigned long long)st->pool_reclaims,
				(unsigned long long)st->direct_reclaims);
		fprintf(out, "}%s\n", i + 1 < t->nrows ? "," : "");
	}
	fputs("]\n", out);
}

void sim_table_print(FILE *out, const struct sim_table *t, enum sim_output how)
{
	switch (how) {
	case SIM_OUT_TABLE: print_table(out, t); break;
	case SIM_OUT_CSV: print_csv(out, t); break;
	case SIM_OUT_JSON: print_json(out, t); break;
	}
}
