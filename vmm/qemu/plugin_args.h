/* SPDX-License-Identifier: MIT */
/*
 * The arguments of pflab's QEMU plugin, as QEMU hands them over: one
 * "key=value" string each (qemu-x86_64 -plugin build/libpflab-qemu.so,
 * out=t.pft,kind=data). docs/qemu.md#plugin-arguments lists them. Parsed
 * strictly: an unknown key, a key given twice (policy and frames excepted),
 * a bad value or a contradiction is refused with one line saying which.
 */
#ifndef PFLAB_PLUGIN_ARGS_H
#define PFLAB_PLUGIN_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "trace.h"

#define PLUGIN_MAX_POLICIES 32
#define PLUGIN_MAX_FRAMES   16
#define PLUGIN_MAX_PATH     4096

/* Which accesses become references. */
#define PLUGIN_LOAD  0x1u
#define PLUGIN_STORE 0x2u
#define PLUGIN_FETCH 0x4u

struct plugin_args {
	char out[PLUGIN_MAX_PATH];      /* capture: the trace file; "" none */
	enum trace_format format;       /* TRACE_PFT or TRACE_RW */
	bool zstd;
	unsigned kinds;                 /* PLUGIN_LOAD | ... */
	uint64_t range_lo, range_hi;    /* accesses whose first byte is in [lo, hi) */
	uint32_t page_shift;            /* log2 of the page size */
	const struct policy_ops *policies[PLUGIN_MAX_POLICIES]; /* live */
	size_t npolicies;
	uint32_t frames[PLUGIN_MAX_FRAMES]; /* ascending */
	size_t nframes;
	char results[PLUGIN_MAX_PATH];  /* where the summary goes; "" standard error */
};

/*
 * Parse argc "key=value" strings. 0, or -1 with one line in err naming the
 * argument and what is wrong with it.
 */
int plugin_args_parse(int argc, char **argv, struct plugin_args *a, char *err, size_t errlen);

#endif /* PFLAB_PLUGIN_ARGS_H */
