// SPDX-License-Identifier: MIT
/*
 * The plugin's argument parser (plugin_args.h). Numbers are decimal or 0x
 * hexadecimal, without sign, spaces or trailing junk, and must fit.
 */
#include "plugin_args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

enum key {
	KEY_OUT, KEY_FORMAT, KEY_ZSTD, KEY_KIND, KEY_RANGE, KEY_PAGE_SIZE, KEY_POLICY, KEY_FRAMES,
	KEY_RESULTS, KEY_COUNT
};

static const char *const key_names[KEY_COUNT] = {
	"out", "format", "zstd", "kind", "range", "page-size", "policy", "frames", "results",
};

static int fail(char *err, size_t errlen, const char *arg, const char *why)
{
	snprintf(err, errlen, "plugin argument '%.200s': %s", arg, why);
	return -1;
}

/* Strict unsigned number: decimal or 0x hex, whole string. */
static int parse_u64(const char *s, size_t len, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		len -= 2;
	}
	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned d;

		if (s[i] >= '0' && s[i] <= '9')
			d = (unsigned)(s[i] - '0');
		else if (base == 16 && s[i] >= 'a' && s[i] <= 'f')
			d = (unsigned)(s[i] - 'a' + 10);
		else if (base == 16 && s[i] >= 'A' && s[i] <= 'F')
			d = (unsigned)(s[i] - 'A' + 10);
		else
			return -1;
		if (v > (UINT64_MAX - d) / base)
			return -1;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

static int parse_path(const char *arg, const char *val, char *dst, char *err, size_t errlen)
{
	size_t len = strlen(val);

	if (len == 0)
		return fail(err, errlen, arg, "an empty path");
	if (len >= PLUGIN_MAX_PATH)
		return fail(err, errlen, arg, "path too long");
	memcpy(dst, val, len + 1);
	return 0;
}

static int parse_kind(const char *arg, const char *val, struct plugin_args *a, char *err,
		      size_t errlen)
{
	static const struct { const char *name; unsigned kinds; } kinds[] = {
		{ "data", PLUGIN_LOAD | PLUGIN_STORE },
		{ "all", PLUGIN_LOAD | PLUGIN_STORE | PLUGIN_FETCH },
		{ "load", PLUGIN_LOAD },
		{ "store", PLUGIN_STORE },
		{ "fetch", PLUGIN_FETCH },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(val, kinds[i].name) == 0) {
			a->kinds = kinds[i].kinds;
			return 0;
		}
	}
	return fail(err, errlen, arg, "expected data, all, load, store or fetch");
}

static int parse_range(const char *arg, const char *val, struct plugin_args *a, char *err,
		       size_t errlen)
{
	const char *dash = strchr(val, '-');

	if (!dash || parse_u64(val, (size_t)(dash - val), &a->range_lo) != 0 ||
	    parse_u64(dash + 1, strlen(dash + 1), &a->range_hi) != 0)
		return fail(err, errlen, arg, "expected START-END, two byte addresses");
	if (a->range_lo >= a->range_hi)
		return fail(err, errlen, arg, "an empty range: START must be below END");
	return 0;
}

static int parse_policy(const char *arg, const char *val, struct plugin_args *a, char *err,
			size_t errlen)
{
	const struct policy_ops *p;

	if (strcmp(val, "all") == 0) {
		if (a->npolicies)
			return fail(err, errlen, arg, "'all' with other policies");
		a->npolicies = policy_list(a->policies, PLUGIN_MAX_POLICIES);
		return 0;
	}
	p = policy_find(val);
	if (!p)
		return fail(err, errlen, arg, "unknown policy (see pflab policies)");
	for (size_t i = 0; i < a->npolicies; i++)
		if (a->policies[i] == p)
			return fail(err, errlen, arg, "policy given twice");
	if (a->npolicies == PLUGIN_MAX_POLICIES)
		return fail(err, errlen, arg, "too many policies");
	a->policies[a->npolicies++] = p;
	return 0;
}

/* Kept ascending, as the rows of pflab sim come. */
static int parse_frames(const char *arg, const char *val, struct plugin_args *a, char *err,
			size_t errlen)
{
	uint64_t v;
	size_t i;

	if (parse_u64(val, strlen(val), &v) != 0 || v == 0 || v > VREF_VPN_MAX)
		return fail(err, errlen, arg, "expected a frame count from 1 to 2147483647");
	for (i = 0; i < a->nframes && a->frames[i] < v; i++)
		;
	if (i < a->nframes && a->frames[i] == v)
		return fail(err, errlen, arg, "frame count given twice");
	if (a->nframes == PLUGIN_MAX_FRAMES)
		return fail(err, errlen, arg, "too many frame counts");
	memmove(&a->frames[i + 1], &a->frames[i], sizeof(a->frames[0]) * (a->nframes - i));
	a->frames[i] = (uint32_t)v;
	a->nframes++;
	return 0;
}

static int parse_one(enum key k, const char *arg, const char *val, struct plugin_args *a,
		     char *err, size_t errlen)
{
	uint64_t v;

	switch (k) {
	case KEY_OUT: return parse_path(arg, val, a->out, err, errlen);
	case KEY_RESULTS: return parse_path(arg, val, a->results, err, errlen);
	case KEY_FORMAT:
		if (strcmp(val, "pft") == 0)
			a->format = TRACE_PFT;
		else if (strcmp(val, "rw") == 0)
			a->format = TRACE_RW;
		else
			return fail(err, errlen, arg, "expected pft or rw");
		return 0;
	case KEY_ZSTD:
		if (strcmp(val, "on") != 0 && strcmp(val, "off") != 0)
			return fail(err, errlen, arg, "expected on or off");
		a->zstd = strcmp(val, "on") == 0;
		return 0;
	case KEY_KIND: return parse_kind(arg, val, a, err, errlen);
	case KEY_RANGE: return parse_range(arg, val, a, err, errlen);
	case KEY_PAGE_SIZE:
		if (parse_u64(val, strlen(val), &v) != 0 || v == 0 || (v & (v - 1)) || v > (1u << 30))
			return fail(err, errlen, arg, "expected a power of two from 1 to 1073741824");
		a->page_shift = (uint32_t)__builtin_ctzll(v);
		return 0;
	case KEY_POLICY: return parse_policy(arg, val, a, err, errlen);
	case KEY_FRAMES: return parse_frames(arg, val, a, err, errlen);
	case KEY_COUNT: break;
	}
	return fail(err, errlen, arg, "unknown key");
}

static int check_whole(const struct plugin_args *a, const bool *seen, char *err, size_t errlen)
{
	if (!a->out[0] && !a->npolicies && !a->nframes) {
		snprintf(err, errlen, "plugin arguments: nothing to do: give out=FILE, or policy= and frames=");
		return -1;
	}
	if (!a->npolicies != !a->nframes) {
		snprintf(err, errlen, "plugin arguments: policy= and frames= go together");
		return -1;
	}
	if (!a->out[0] && (seen[KEY_FORMAT] || seen[KEY_ZSTD])) {
		snprintf(err, errlen, "plugin arguments: format= and zstd= need out=");
		return -1;
	}
	return 0;
}

int plugin_args_parse(int argc, char **argv, struct plugin_args *a, char *err, size_t errlen)
{
	bool seen[KEY_COUNT] = { false };

	*a = (struct plugin_args){
		.format = TRACE_PFT,
		.kinds = PLUGIN_LOAD | PLUGIN_STORE,
		.range_hi = UINT64_MAX,
		.page_shift = 12,
	};
	for (int i = 0; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		size_t klen = eq ? (size_t)(eq - argv[i]) : 0;
		enum key k = KEY_COUNT;

		if (!eq)
			return fail(err, errlen, argv[i], "expected key=value");
		for (int j = 0; j < KEY_COUNT; j++)
			if (strlen(key_names[j]) == klen && memcmp(argv[i], key_names[j], klen) == 0)
				k = (enum key)j;
		if (k == KEY_COUNT)
			return fail(err, errlen, argv[i],
				    "unknown key (out, format, zstd, kind, range, page-size, policy, "
				    "frames, results)");
		if (seen[k] && k != KEY_POLICY && k != KEY_FRAMES)
			return fail(err, errlen, argv[i], "given twice");
		seen[k] = true;
		if (parse_one(k, argv[i], eq + 1, a, err, errlen) != 0)
			return -1;
	}
	return check_whole(a, seen, err, errlen);
}
