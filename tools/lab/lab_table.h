/* SPDX-License-Identifier: MIT */
/*
 * Result rows of the lab commands: one per (trace, policy, frames), as
 * `pflab sim --csv` prints them, plus a reason where the cell failed.
 *
 * The CSV that compare writes has pflab sim's columns in pflab sim's order,
 * then one more, `error`: empty for a result, the reason for a failed cell
 * (whose number columns are then empty). The reader takes both, finding
 * columns by their header names so that later columns may be added.
 */
#ifndef PFLAB_LAB_TABLE_H
#define PFLAB_LAB_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct lab_row {
	char *trace;
	char *policy;
	uint32_t frames;
	char *error;            /* NULL: the numbers below are a result */
	uint64_t refs, faults, writebacks, major, minor, evictions, resident_max;
	double miss_ratio, resident_mean;
};

struct lab_table {
	struct lab_row *row;
	size_t n, cap;
};

void lab_table_init(struct lab_table *t);
void lab_table_fini(struct lab_table *t);

/* Append a copy of r (its strings duplicated). 0 or -1 (out of memory). */
int lab_table_add(struct lab_table *t, const struct lab_row *r);
/* Append a failed row. 0 or -1. */
int lab_table_add_failure(struct lab_table *t, const char *trace, const char *policy,
			  uint32_t frames, const char *error);

/* The row of (trace, policy, frames), or NULL. */
const struct lab_row *lab_table_find(const struct lab_table *t, const char *trace,
				     const char *policy, uint32_t frames);

/*
 * Append the rows of a CSV file in the format above (pflab sim's, with or
 * without `error`). Returns 0, or -1 with "path:line: reason" in err.
 */
int lab_table_read_csv(struct lab_table *t, const char *path, char *err, size_t errlen);

/* The CSV header line, without its newline. */
extern const char lab_csv_header[];
void lab_table_write_csv(const struct lab_table *t, FILE *out);
/* One row of that CSV, with its newline. */
void lab_row_write_csv(const struct lab_row *r, FILE *out);
/* One row as a JSON object (no trailing newline). */
void lab_row_write_json(const struct lab_row *r, FILE *out);

/*
 * Split one CSV record (RFC 4180: quoted fields, "" inside quotes) starting
 * at *p into at most max fields, each malloc'ed into fields[]. Advances *p
 * past the record's end of line. Returns the field count, 0 at the end of
 * the text, -1 on an unterminated quote or out of memory.
 */
int lab_csv_record(const char **p, char **fields, int max);
void lab_csv_free(char **fields, int n);

#endif /* PFLAB_LAB_TABLE_H */
