// SPDX-License-Identifier: MIT
/* Result rows, their CSV and JSON: see lab_table.h. */
#include "lab_table.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lab_text.h"
#include "lab_proc.h"

const char lab_csv_header[] = "trace,policy,frames,refs,faults,miss_ratio,writebacks,major,minor,"
			      "evictions,resident_mean,resident_max,error";

void lab_table_init(struct lab_table *t)
{
	*t = (struct lab_table){ 0 };
}

static void row_free(struct lab_row *r)
{
	free(r->trace);
	free(r->policy);
	free(r->error);
}

void lab_table_fini(struct lab_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		row_free(&t->row[i]);
	free(t->row);
	*t = (struct lab_table){ 0 };
}

int lab_table_add(struct lab_table *t, const struct lab_row *r)
{
	struct lab_row copy = *r;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct lab_row *bigger = realloc(t->row, sizeof(*bigger) * cap);

		if (!bigger)
			return -1;
		t->row = bigger;
		t->cap = cap;
	}
	copy.trace = strdup(r->trace);
	copy.policy = strdup(r->policy);
	copy.error = r->error ? strdup(r->error) : NULL;
	if (!copy.trace || !copy.policy || (r->error && !copy.error)) {
		row_free(&copy);
		return -1;
	}
	t->row[t->n++] = copy;
	return 0;
}

int lab_table_add_failure(struct lab_table *t, const char *trace, const char *policy,
			  uint32_t frames, const char *error)
{
	struct lab_row r = {
		.trace = (char *)trace,
		.policy = (char *)policy,
		.frames = frames,
		.error = (char *)(*error ? error : "failed (no reason given)"),
	};

	return lab_table_add(t, &r);
}

const struct lab_row *lab_table_find(const struct lab_table *t, const char *trace,
				     const char *policy, uint32_t frames)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct lab_row *r = &t->row[i];

		if (r->frames == frames && !strcmp(r->policy, policy) && !strcmp(r->trace, trace))
			return r;
	}
	return NULL;
}

int lab_csv_record(const char **p, char **fields, int max)
{
	const char *s = *p;
	int n = 0;

	if (!*s)
		return 0;
	for (;;) {
		size_t cap = 64, len = 0;
		char *f = malloc(cap);
		bool quoted = *s == '"';

		if (!f)
			goto fail;
		if (quoted)
			s++;
		for (;;) {
			char c = *s;

			if (quoted) {
				if (!c) {
					free(f);
					goto fail;
				}
				if (c == '"' && s[1] == '"') {
					s += 2;
				} else if (c == '"') {
					s++;
					quoted = false;
					continue;
				} else {
					s++;
				}
			} else {
				if (!c || c == ',' || c == '\n' || (c == '\r' && s[1] == '\n'))
					break;
				s++;
			}
			if (len + 2 > cap) {
				char *bigger = realloc(f, cap *= 2);

				if (!bigger) {
					free(f);
					goto fail;
				}
				f = bigger;
			}
			f[len++] = c;
		}
		f[len] = '\0';
		if (n < max)
			fields[n++] = f;
		else
			free(f);
		if (*s == ',') {
			s++;
			continue;
		}
		if (*s == '\r')
			s++;
		if (*s == '\n')
			s++;
		break;
	}
	*p = s;
	return n;
fail:
	lab_csv_free(fields, n);
	return -1;
}

void lab_csv_free(char **fields, int n)
{
	for (int i = 0; i < n; i++)
		free(fields[i]);
}

enum column {
	COL_TRACE, COL_POLICY, COL_FRAMES, COL_REFS, COL_FAULTS, COL_MISS_RATIO, COL_WRITEBACKS,
	COL_MAJOR, COL_MINOR, COL_EVICTIONS, COL_RESIDENT_MEAN, COL_RESIDENT_MAX, COL_ERROR,
	NCOLUMNS
};

static const char *const column_names[NCOLUMNS] = {
	"trace", "policy", "frames", "refs", "faults", "miss_ratio", "writebacks", "major", "minor",
	"evictions", "resident_mean", "resident_max", "error",
};

/* Columns a row must have; the others default to zero. */
#define REQUIRED_COLUMNS 7

#define MAX_FIELDS 64

static int parse_number(const char *s, uint64_t *v)
{
	char why[8];

	return cli_parse_u64(s, 0, UINT64_MAX, v, why, sizeof(why));
}

static int parse_real(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return *s && !*end && !errno && isfinite(*v) ? 0 : -1;
}

/* Fill r from one record's fields; -1 with the reason in err. */
static int row_from_fields(struct lab_row *r, char **f, int nf, const int *col, char *err,
			   size_t errlen)
{
	uint64_t *const u64[NCOLUMNS] = {
		[COL_REFS] = &r->refs, [COL_FAULTS] = &r->faults, [COL_WRITEBACKS] = &r->writebacks,
		[COL_MAJOR] = &r->major, [COL_MINOR] = &r->minor, [COL_EVICTIONS] = &r->evictions,
		[COL_RESIDENT_MAX] = &r->resident_max,
	};
	const char *field[NCOLUMNS] = { 0 };
	uint64_t frames;

	for (int c = 0; c < NCOLUMNS; c++) {
		if (col[c] < 0)
			continue;
		if (col[c] >= nf) {
			snprintf(err, errlen, "%d fields, the header has more", nf);
			return -1;
		}
		field[c] = f[col[c]];
	}
	r->trace = (char *)field[COL_TRACE];
	r->policy = (char *)field[COL_POLICY];
	if (parse_number(field[COL_FRAMES], &frames) != 0 || frames == 0 || frames > UINT32_MAX) {
		snprintf(err, errlen, "frames '%s' is not a frame count", field[COL_FRAMES]);
		return -1;
	}
	r->frames = (uint32_t)frames;
	if (field[COL_ERROR] && *field[COL_ERROR]) {
		r->error = (char *)field[COL_ERROR];
		return 0;
	}
	for (int c = 0; c < NCOLUMNS; c++) {
		if (!u64[c] || !field[c])
			continue;
		if (parse_number(field[c], u64[c]) != 0) {
			snprintf(err, errlen, "%s '%s' is not a whole number", column_names[c], field[c]);
			return -1;
		}
	}
	if (parse_real(field[COL_MISS_RATIO], &r->miss_ratio) != 0 ||
	    (field[COL_RESIDENT_MEAN] && parse_real(field[COL_RESIDENT_MEAN], &r->resident_mean) != 0)) {
		snprintf(err, errlen, "a ratio or mean is not a number");
		return -1;
	}
	return 0;
}

int lab_table_read_csv(struct lab_table *t, const char *path, char *err, size_t errlen)
{
	char *text = lab_read_file(path, NULL), *f[MAX_FIELDS], why[200];
	const char *p = text;
	int col[NCOLUMNS], nf, rc = -1;
	unsigned line = 1;

	if (!text) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	nf = lab_csv_record(&p, f, MAX_FIELDS);
	if (nf <= 0) {
		snprintf(err, errlen, "%s:1: no CSV header", path);
		goto out;
	}
	for (int c = 0; c < NCOLUMNS; c++) {
		col[c] = -1;
		for (int i = 0; i < nf; i++)
			if (!strcmp(f[i], column_names[c]))
				col[c] = i;
		if (c < REQUIRED_COLUMNS && col[c] < 0) {
			snprintf(err, errlen, "%s:1: no column '%s' in the header", path, column_names[c]);
			lab_csv_free(f, nf);
			goto out;
		}
	}
	lab_csv_free(f, nf);
	while ((nf = lab_csv_record(&p, f, MAX_FIELDS)) != 0) {
		struct lab_row r = { 0 };

		line++;
		if (nf < 0) {
			snprintf(err, errlen, "%s:%u: unterminated quote", path, line);
			goto out;
		}
		if (nf == 1 && !*f[0]) { /* a blank line */
			lab_csv_free(f, nf);
			continue;
		}
		if (row_from_fields(&r, f, nf, col, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s:%u: %s", path, line, why);
			lab_csv_free(f, nf);
			goto out;
		}
		if (lab_table_add(t, &r) != 0) {
			snprintf(err, errlen, "%s: out of memory", path);
			lab_csv_free(f, nf);
			goto out;
		}
		lab_csv_free(f, nf);
	}
	rc = 0;
out:
	free(text);
	return rc;
}

void lab_row_write_csv(const struct lab_row *r, FILE *out)
{
	csv_field(out, r->trace);
	fputc(',', out);
	csv_field(out, r->policy);
	fprintf(out, ",%u,", r->frames);
	if (r->error) {
		fputs(",,,,,,,,,", out);
		csv_field(out, r->error);
	} else {
		fprintf(out, "%llu,%llu,%.6f,%llu,%llu,%llu,%llu,%.3f,%llu,",
			(unsigned long long)r->refs, (unsigned long long)r->faults, r->miss_ratio,
			(unsigned long long)r->writebacks, (unsigned long long)r->major,
			(unsigned long long)r->minor, (unsigned long long)r->evictions,
			r->resident_mean, (unsigned long long)r->resident_max);
	}
	fputc('\n', out);
}

void lab_table_write_csv(const struct lab_table *t, FILE *out)
{
	fprintf(out, "%s\n", lab_csv_header);
	for (size_t i = 0; i < t->n; i++)
		lab_row_write_csv(&t->row[i], out);
}

void lab_row_write_json(const struct lab_row *r, FILE *out)
{
	fputs("{\"trace\": ", out);
	json_string(out, r->trace);
	fputs(", \"policy\": ", out);
	json_string(out, r->policy);
	fprintf(out, ", \"frames\": %u, ", r->frames);
	if (r->error) {
		fputs("\"error\": ", out);
		json_string(out, r->error);
		fputc('}', out);
		return;
	}
	fprintf(out, "\"refs\": %llu, \"faults\": %llu, \"miss_ratio\": %.6f, \"writebacks\": %llu, "
		"\"major\": %llu, \"minor\": %llu, \"evictions\": %llu, \"resident_mean\": %.3f, "
		"\"resident_max\": %llu, \"error\": null}",
		(unsigned long long)r->refs, (unsigned long long)r->faults, r->miss_ratio,
		(unsigned long long)r->writebacks, (unsigned long long)r->major,
		(unsigned long long)r->minor, (unsigned long long)r->evictions, r->resident_mean,
		(unsigned long long)r->resident_max);
}
