// SPDX-License-Identifier: MIT
/*
 * The command line's number parsers (tools/lab/lab_text.c; --page-size's
 * in tools/pflab/cli.c): the first byte picks one, the rest is the
 * argument.
 *
 *   0  cli_parse_u64 in [min, max] (bounds from the second byte)
 *   1  cli_parse_double in [0, 1] (--alpha, --ratio)
 *   2  cli_parse_duration_ns (--timeout, --disk-latency, ...)
 *   3  cli_parse_page_size (--page-size)
 *   4  cli_split (comma-separated lists: --policy)
 *
 * Properties: a value is within its bounds, a decimal u64 prints back to
 * what was parsed, a page size is a power of two in [1, 2^30], split gives
 * one item more than there are commas and they join back to the input.
 */
#include "fuzz.h"

#include <inttypes.h>
#include <math.h>

#include "cli.h"

static const uint64_t lows[4] = { 0, 1, 16, 1000 }, highs[4] = { 0, 100, 1u << 30, UINT64_MAX };

static void fuzz_u64(const char *s, uint8_t sel)
{
	uint64_t lo = lows[sel & 3], hi = highs[(sel >> 2) & 3], v;
	char why[256] = "", back[32];

	if (lo > hi)
		return;
	if (cli_parse_u64(s, lo, hi, &v, why, sizeof(why)) == 0) {
		FUZZ_CHECK(v >= lo && v <= hi);
		snprintf(back, sizeof(back), "%" PRIu64, v);
		FUZZ_CHECK(strcmp(back, s) == 0 || strchr(s, 'x') || strchr(s, 'X') || s[0] == '0');
	} else {
		FUZZ_CHECK(why[0]);
	}
}

static void fuzz_split(const char *s)
{
	char *copy = strdup(s), **items = NULL;
	size_t commas = 0, n, len = 0;

	if (!copy)
		return;
	for (const char *p = s; *p; p++)
		commas += *p == ',';
	n = cli_split(copy, &items);
	if (items) {
		FUZZ_CHECK(n == commas + 1);
		for (size_t i = 0; i < n; i++) {
			size_t k = strlen(items[i]);

			FUZZ_CHECK(memcmp(s + len, items[i], k) == 0);
			len += k;
			FUZZ_CHECK(i + 1 == n ? s[len] == '\0' : s[len] == ',');
			len++;
		}
	}
	free(items);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, why[256] = "";
	double d;
	uint64_t ns;
	uint32_t ps;

	if (size < 2)
		return 0;
	s = fuzz_string(data + 2, size - 2);
	if (!s)
		return 0;
	switch (data[0] % 5) {
	case 0:
		fuzz_u64(s, data[1]);
		break;
	case 1:
		if (cli_parse_double(s, 0, 1, &d, why, sizeof(why)) == 0)
			FUZZ_CHECK(isfinite(d) && d >= 0 && d <= 1);
		else
			FUZZ_CHECK(why[0]);
		break;
	case 2:
		if (cli_parse_duration_ns(s, &ns, why, sizeof(why)) != 0)
			FUZZ_CHECK(why[0]);
		break;
	case 3:
		if (cli_parse_page_size("fuzz", s, &ps) == 0)
			FUZZ_CHECK(ps >= 1 && ps <= (1u << 30) && (ps & (ps - 1)) == 0);
		break;
	default:
		fuzz_split(s);
		break;
	}
	free(s);
	return 0;
}
