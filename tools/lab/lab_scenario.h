/* SPDX-License-Identifier: MIT */
/*
 * Regression scenarios for `pflab regress`: a small line-based text format,
 * described in full in docs/lab.md#scenarios. In short:
 *
 *     # a comment
 *     refs: 7 0 1 2 0 3 0 4 2 3 0 3 2 1 2 0 1 7 0 1    <- defaults for the file
 *     frames: 3
 *
 *     scenario fifo                                  <- one scenario
 *     policy: fifo
 *     expect faults: 15
 *     expect fault-prefix: 7 0 1 2 3
 *
 * Keys before the first `scenario` line are defaults for every scenario of
 * the file; a file without a `scenario` line is one scenario, named after
 * the file. Setup keys: command (sim or run), trace, refs, workload, format,
 * policy, frames, trap, args, timeout. Expectations: `expect COLUMN: VALUE`
 * (a column of the command's CSV), `expect status: N`, `expect fault-seq:`
 * and `expect fault-prefix:` (page ids, repeatable to continue), `expect
 * stdout:`, `expect stderr:` and `expect guest:` (lines, in order, `*` any
 * text).
 */
#ifndef PFLAB_LAB_SCENARIO_H
#define PFLAB_LAB_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum scn_command { SCN_SIM, SCN_RUN };

/* A line of text the output must contain, and where it was asked for. */
struct scn_line {
	char *text;
	unsigned line;
};

/* `expect COLUMN: VALUE`: the CSV column's text must equal VALUE. */
struct scn_column {
	char *name;
	char *value;
	unsigned line;
};

struct scenario {
	char *file;              /* the scenario file, as found */
	char *group;             /* the file's name without directory and .scenario */
	char *name;
	unsigned line;           /* where it begins */

	enum scn_command command;
	char *trace;             /* a path, resolved against the file's directory */
	char *refs;              /* or an inline reference string: "1 2 3w 4" */
	char *workload;          /* or (run) a guest workload */
	char *format;
	char *policy;
	uint32_t frames;         /* 0: not given */
	char *trap;
	char **args;             /* further words for the command */
	size_t nargs;
	uint64_t timeout_ns;

	struct scn_column *columns;
	size_t ncolumns;
	int status;              /* the exit status expected */
	unsigned status_line;    /* 0: not given (then 0 is expected) */
	uint64_t *faults_seq;    /* expected fault sequence (page ids) */
	size_t nfaults_seq;
	bool seq_is_prefix;
	unsigned seq_line;       /* 0: no sequence expected */
	struct scn_line *out_lines, *err_lines, *guest_lines;
	size_t nout, nerr, nguest;
};

struct scn_set {
	struct scenario *s;
	size_t n, cap;
};

/* Default time limit of one scenario's command. */
#define SCN_DEFAULT_TIMEOUT_NS (60ull * 1000000000)

/*
 * Parse one scenario file into set. Returns 0, or -1 having printed every
 * problem as "file:line: reason" on stderr (then set holds nothing of it).
 */
int scn_parse_file(struct scn_set *set, const char *path);
void scn_set_free(struct scn_set *set);

/*
 * Parse the scenarios of path into set: path itself if it is a file, else
 * every *.scenario file in the directory (hidden ones aside) in the order
 * of their names. A malformed file sets *malformed (scn_parse_file() has
 * printed why) and the others are still parsed. 0; or -1 with why
 * ("PATH: reason", "PATH: no *.scenario files in it") when path cannot be
 * read, has no scenario file or memory runs out.
 */
int scn_collect(struct scn_set *set, const char *path, bool *malformed, char *why,
		size_t whylen);

/* The columns of pflab sim's CSV an expectation may name. */
bool scn_sim_column(const char *name);

#endif /* PFLAB_LAB_SCENARIO_H */
