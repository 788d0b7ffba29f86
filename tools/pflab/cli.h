/* SPDX-License-Identifier: MIT */
/*
 * The pflab command line: each subcommand is one file that registers itself
 * with COMMAND_REGISTER(), and these helpers keep their errors alike:
 * one line "pflab CMD: reason" on stderr and exit status 2 for bad usage
 * or bad input.
 */
#ifndef PFLAB_CLI_H
#define PFLAB_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lab_text.h" /* cli_parse_u64 ... json_string, shared with the lab */

/* Exit statuses. */
#define EXIT_OK    0
#define EXIT_FAIL  1 /* the run itself failed (a guest check, a regression) */
#define EXIT_USAGE 2 /* bad usage or bad input */

struct command {
	const char *name;
	const char *summary; /* one line, for `pflab --help` */
	int (*main)(int argc, char **argv); /* argv[0] is the command name */
};

#define COMMAND_REGISTER(cmd_)                                              \
	static const struct command *const command_ptr_##cmd_               \
		__attribute__((used, section("pflab_commands"), aligned(8))) = &(cmd_)

const struct command *command_find(const char *name);
size_t command_list(const struct command **out, size_t max);

/* Print "pflab <cmd>: <reason>\n" to stderr and return EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print "pflab <cmd>: <reason>\n" to stderr and return EXIT_FAIL. */
int cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A number option: arg, a whole number in [lo, hi] (cli_parse_u64), into
 * *out. Otherwise prints "pflab <cmd>: <opt>: <reason>\n" (opt as the user
 * spells it, e.g. "--frames"), leaves *out alone and returns EXIT_USAGE.
 * Returns 0 on success.
 */
int cli_opt_u64(const char *cmd, const char *opt, const char *arg, uint64_t lo, uint64_t hi,
		uint64_t *out);
int cli_opt_u32(const char *cmd, const char *opt, const char *arg, uint32_t lo, uint32_t hi,
		uint32_t *out);

struct outfile;
/*
 * Close a command's optional output FILE (opened by outfile_fopen; NULL:
 * nothing to do): renamed into place when keep, removed otherwise. A close
 * that fails is reported as "pflab CMD: OPT PATH: reason" and turns an
 * EXIT_OK status into EXIT_FAIL. Returns the command's status.
 */
int cli_output_close(const char *cmd, const char *opt, struct outfile *of, FILE *f, bool keep,
		     int status);

/*
 * getopt_long with pflab's reporting: returns the option, -1 at the end, or
 * '?' after printing a one-line reason for an unknown option or a missing
 * argument (the caller returns EXIT_USAGE). Resets getopt's state first when
 * called with a new argv.
 */
int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
	       const struct option *longopts);

/*
 * The policy knobs of struct policy_params, shared by every command that
 * builds a pager (sim, run, regress): put CLI_POLICY_KNOBS in the long
 * options (and { "seed", ..., CLI_OPT_SEED } where --seed means the policy's
 * seed), and hand those option codes to cli_policy_knob(). Bounds keep the
 * pager's tick arithmetic from overflowing.
 */
enum { CLI_OPT_SEED = 0x1000, CLI_OPT_TICK, CLI_OPT_WINDOW, CLI_OPT_AGING_BITS };
#define CLI_POLICY_KNOBS                                                  \
	{ "tick", required_argument, NULL, CLI_OPT_TICK },                 \
	{ "window", required_argument, NULL, CLI_OPT_WINDOW },             \
	{ "aging-bits", required_argument, NULL, CLI_OPT_AGING_BITS }

struct policy_params;
/* Parse the knob with option code opt into params. Prints the one-line
 * error itself and returns EXIT_USAGE, or 0. */
int cli_policy_knob(const char *cmd, int opt, const char *arg, struct policy_params *params);

/* --page-size: a power of two from 1 to 2^30. Prints the one-line error
 * itself and returns EXIT_USAGE, or 0. */
int cli_parse_page_size(const char *cmd, const char *s, uint32_t *out);

#endif /* PFLAB_CLI_H */
