// SPDX-License-Identifier: MIT
/* Shared command-line helpers: see cli.h. */
#include "cli.h"

#include "outfile.h"
#include "policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct command *const __start_pflab_commands[];
extern const struct command *const __stop_pflab_commands[];

const struct command *command_find(const char *name)
{
	for (const struct command *const *c = __start_pflab_commands; c < __stop_pflab_commands; c++)
		if (strcmp((*c)->name, name) == 0)
			return *c;
	return NULL;
}

static int by_name(const void *a, const void *b)
{
	const struct command *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

size_t command_list(const struct command **out, size_t max)
{
	size_t n = 0;

	for (const struct command *const *c = __start_pflab_commands;
	     c < __stop_pflab_commands && n < max; c++)
		out[n++] = *c;
	qsort(out, n, sizeof(*out), by_name);
	return n;
}

static void vreport(const char *cmd, const char *fmt, va_list ap)
{
	fprintf(stderr, "pflab%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(cmd, fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

int cli_fail(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(cmd, fmt, ap);
	va_end(ap);
	return EXIT_FAIL;
}

int cli_opt_u64(const char *cmd, const char *opt, const char *arg, uint64_t lo, uint64_t hi,
		uint64_t *out)
{
	char why[512]; /* the reason quotes arg */

	if (cli_parse_u64(arg, lo, hi, out, why, sizeof(why)) != 0)
		return cli_usage_error(cmd, "%s: %s", opt, why);
	return 0;
}

int cli_opt_u32(const char *cmd, const char *opt, const char *arg, uint32_t lo, uint32_t hi,
		uint32_t *out)
{
	uint64_t v;
	int rc = cli_opt_u64(cmd, opt, arg, lo, hi, &v);

	if (rc == 0)
		*out = (uint32_t)v;
	return rc;
}

int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
	       const struct option *longopts)
{
	static char **last_argv; /* getopt's own state is global too */
	char opts[128];
	int c;

	if (argv != last_argv) {
		last_argv = argv;
		optind = 0; /* full re-initialisation in glibc */
	}
	/* A leading ':' makes getopt report a missing argument as ':'. */
	snprintf(opts, sizeof(opts), ":%s", shortopts);
	opterr = 0;
	c = getopt_long(argc, argv, opts, longopts, NULL);
	if (c == '?') {
		if (optopt)
			cli_usage_error(cmd, "unknown option -%c (see --help)", optopt);
		else
			cli_usage_error(cmd, "unknown option %s (see --help)", argv[optind - 1]);
	} else if (c == ':') {
		cli_usage_error(cmd, "option %s needs a value", argv[optind - 1]);
		c = '?';
	}
	return c;
}

int cli_policy_knob(const char *cmd, int opt, const char *arg, struct policy_params *params)
{
	static const struct { int opt; const char *name; uint64_t min, max; } knobs[] = {
		{ CLI_OPT_SEED, "--seed", 0, UINT64_MAX },
		{ CLI_OPT_TICK, "--tick", 0, UINT64_MAX / 2 }, /* 0: no tick */
		{ CLI_OPT_WINDOW, "--window", 1, UINT64_MAX / 2 },
		{ CLI_OPT_AGING_BITS, "--aging-bits", 1, 64 },
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		if (knobs[i].opt != opt)
			continue;
		if (cli_opt_u64(cmd, knobs[i].name, arg, knobs[i].min, knobs[i].max, &v))
			return EXIT_USAGE;
		switch (opt) {
		case CLI_OPT_SEED: params->seed = v; break;
		case CLI_OPT_TICK: params->tick = v; break;
		case CLI_OPT_WINDOW: params->window = v; break;
		default: params->aging_bits = (unsigned)v; break;
		}
		return 0;
	}
	return cli_usage_error(cmd, "internal: option %d is not a policy knob", opt);
}

int cli_parse_page_size(const char *cmd, const char *s, uint32_t *out)
{
	uint32_t v;

	if (cli_opt_u32(cmd, "--page-size", s, 1, 1u << 30, &v))
		return EXIT_USAGE;
	if (v & (v - 1))
		return cli_usage_error(cmd, "--page-size: %s is not a power of two", s);
	*out = v;
	return 0;
}

int cli_output_close(const char *cmd, const char *opt, struct outfile *of, FILE *f, bool keep,
		     int status)
{
	char err[700];

	if (!f)
		return status;
	if (!keep) {
		outfile_abort(of);
		fclose(f);
		return status;
	}
	if (outfile_fclose(of, f, err, sizeof(err)) != 0) {
		fprintf(stderr, "pflab %s: %s %s\n", cmd, opt, err);
		return status == EXIT_OK ? EXIT_FAIL : status;
	}
	return status;
}
