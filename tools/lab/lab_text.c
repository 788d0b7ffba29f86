// SPDX-License-Identifier: MIT
/* Strict numbers in, CSV and JSON fields out: see lab_text.h. */
#include "lab_text.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
