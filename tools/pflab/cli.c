// SPDX-License-Identifier: MIT
/* Shared command-line helpers: see cli.h. */
#include "cli.h"

#include "policy.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
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

int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *why, size_t whylen)
{
	uint64_t v = 0;
	const char *p = s;

	if (!*p) {
		snprintf(why, whylen, "empty number");
		return -1;
	}
	for (; *p; p++) {
		if (*p < '0' || *p > '9') {
			snprintf(why, whylen, "'%s' is not a whole number", s);
			return -1;
		}
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) {
			snprintf(why, whylen, "'%s' is too large", s);
			return -1;
		}
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < min || v > max) {
		snprintf(why, whylen, "'%s' is out of range [%llu, %llu]", s,
			 (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

int cli_parse_double(const char *s, double min, double max, double *out, char *why, size_t whylen)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (!*s || *end || (errno && errno != ERANGE) || isnan(v) || s[0] == ' ' || s[0] == '+' ||
	    (s[0] == '-' && !isdigit((unsigned char)s[1]))) {
		snprintf(why, whylen, "'%s' is not a number", s);
		return -1;
	}
	/* A negative number is a number, out of range (no minimum is below 0). */
	if (errno == ERANGE || s[0] == '-' || v < min || v > max) {
		snprintf(why, whylen, "'%s' is out of range [%g, %g]", s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int cli_parse_duration_ns(const char *s, uint64_t *ns, char *why, size_t whylen)
{
	static const struct { const char *unit; double scale; } units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "m", 60e9 },
	};
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || !(v >= 0) || s[0] == '-' || s[0] == '+' || s[0] == ' ') {
		snprintf(why, whylen, "'%s' is not a duration (e.g. 50us, 2s)", s);
		return -1;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) == 0) {
			double t = v * units[i].scale;

			if (t > 1e18) {
				snprintf(why, whylen, "'%s' is too long", s);
				return -1;
			}
			*ns = (uint64_t)llround(t);
			return 0;
		}
	}
	snprintf(why, whylen, "'%s' needs a unit: ns, us, ms, s or m", s);
	return -1;
}

int cli_policy_knob(const char *cmd, int opt, const char *arg, struct policy_params *params)
{
	static const struct { int opt; const char *name; uint64_t min, max; } knobs[] = {
		{ CLI_OPT_SEED, "--seed", 0, UINT64_MAX },
		{ CLI_OPT_TICK, "--tick", 0, UINT64_MAX / 2 }, /* 0: no tick */
		{ CLI_OPT_WINDOW, "--window", 1, UINT64_MAX / 2 },
		{ CLI_OPT_AGING_BITS, "--aging-bits", 1, 64 },
	};
	char why[160];
	uint64_t v;

	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		if (knobs[i].opt != opt)
			continue;
		if (cli_parse_u64(arg, knobs[i].min, knobs[i].max, &v, why, sizeof(why)) != 0)
			return cli_usage_error(cmd, "%s: %s", knobs[i].name, why);
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
	uint64_t v;
	char why[128];

	if (cli_parse_u64(s, 1, 1u << 30, &v, why, sizeof(why)) != 0)
		return cli_usage_error(cmd, "--page-size: %s", why);
	if (v & (v - 1))
		return cli_usage_error(cmd, "--page-size: %s is not a power of two", s);
	*out = (uint32_t)v;
	return 0;
}

size_t cli_split(char *s, char ***items)
{
	size_t n = 1, i = 0;

	for (char *p = s; *p; p++)
		n += *p == ',';
	*items = malloc(sizeof(**items) * n);
	if (!*items)
		return 0;
	for (char *tok = s, *comma;; tok = comma + 1) {
		comma = strchr(tok, ',');
		if (comma)
			*comma = '\0';
		(*items)[i++] = tok; /* empty items are kept: the caller refuses them */
		if (!comma)
			break;
	}
	return i;
}

void csv_field(FILE *out, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}
