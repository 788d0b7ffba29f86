/* SPDX-License-Identifier: MIT */
/*
 * Where the plugin's references go, QEMU-free so that the tests drive it
 * directly: each access (address, size, kind) is filtered by kind and range,
 * split into the pages it covers, and handed to the two sinks:
 *   - capture: a trace file (traces/trace_writer.h: pft or rw, zstd on
 *     request, written beside the target and renamed when complete);
 *   - live: a set of simulated machines (vmm/pager/simset.h), the same that
 *     `pflab sim` runs on a trace, so that its counts equal sim's on the
 *     captured trace.
 * At the end, a summary (plugin_results.h) goes to the results file or to
 * the log stream given. Single-threaded: the QEMU glue serialises the calls.
 */
#ifndef PFLAB_PLUGIN_SINK_H
#define PFLAB_PLUGIN_SINK_H

#include <stdio.h>

#include "plugin_args.h"
#include "types.h"

struct plugin_sink;

/* NULL with the reason in err. */
struct plugin_sink *plugin_sink_create(const struct plugin_args *a, char *err, size_t errlen);

/*
 * One access of size bytes at addr. After a failure (a full disk) the
 * accesses are dropped and plugin_sink_finish() reports it.
 */
void plugin_sink_access(struct plugin_sink *s, uint64_t addr, uint32_t size, enum access_kind kind);

/*
 * Flush, close the trace (renamed over out=), finish the machines and write
 * the summary (to the results file, or to log without one). 0, or -1 with
 * the reason in err: then the trace file is removed and no summary is
 * written. Frees s either way.
 */
int plugin_sink_finish(struct plugin_sink *s, FILE *log, char *err, size_t errlen);
/* Drop everything: the trace file is removed. */
void plugin_sink_abort(struct plugin_sink *s);

#endif /* PFLAB_PLUGIN_SINK_H */
