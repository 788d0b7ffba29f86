// SPDX-License-Identifier: MIT
/*
 * The plugin's sinks (plugin_sink.h). References are gathered a batch at a
 * time and handed to the trace writer and to the machines together, so that
 * both see the same string in the same order.
 */
#include "plugin_sink.h"

#include <stdlib.h>
#include <string.h>

#include "outfile.h"
#include "plugin_results.h"
#include "simset.h"
#include "trace_writer.h"

#define BATCH 4096 /* references per hand-over */

struct plugin_sink {
	struct plugin_args args;
	struct trace_writer *writer;  /* capture, or NULL */
	struct sim_set *set;          /* live, or NULL */
	uint64_t refs, writes;
	bool failed;
	char err[256];
	size_t n;
	struct trace_ref batch[BATCH];
};

struct plugin_sink *plugin_sink_create(const struct plugin_args *a, char *err, size_t errlen)
{
	struct plugin_sink *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->args = *a;
	if (a->npolicies) {
		s->set = sim_set_create(&(struct sim_set_config){
			.name = "the program's references",
			.policies = a->policies,
			.npolicies = a->npolicies,
			.frames = a->frames,
			.nframes = a->nframes,
			.params = POLICY_PARAMS_DEFAULT,
			.jobs = 1, /* replayed on the calling (vCPU) thread, under its lock */
		}, err, errlen);
		if (!s->set) {
			free(s);
			return NULL;
		}
	}
	if (a->out[0]) {
		struct trace_writer_options wo = {
			.format = a->format,
			.page_size = 1u << a->page_shift,
			.zstd = a->zstd,
		};

		s->writer = trace_writer_open(a->out, &wo, err, errlen);
		if (!s->writer) {
			sim_set_destroy(s->set);
			free(s);
			return NULL;
		}
	}
	return s;
}

static void flush(struct plugin_sink *s)
{
	if (s->failed || !s->n)
		return;
	if (s->writer && trace_writer_put(s->writer, s->batch, s->n) != 0) {
		snprintf(s->err, sizeof(s->err), "%.100s: %.150s", s->args.out, trace_writer_error(s->writer));
		s->failed = true;
	} else if (s->set && sim_set_put(s->set, s->batch, s->n) != 0) {
		snprintf(s->err, sizeof(s->err), "live pager: %s", sim_set_error(s->set));
		s->failed = true;
	}
	s->n = 0;
}

static inline void put(struct plugin_sink *s, uint64_t page, bool write)
{
	s->batch[s->n++] = (struct trace_ref){ page, write };
	s->refs++;
	s->writes += write;
	if (s->n == BATCH)
		flush(s);
}

void plugin_sink_access(struct plugin_sink *s, uint64_t addr, uint32_t size, enum access_kind kind)
{
	static const unsigned bit[] = {
		[ACCESS_READ] = PLUGIN_LOAD, [ACCESS_WRITE] = PLUGIN_STORE, [ACCESS_FETCH] = PLUGIN_FETCH,
	};
	uint64_t first, last;

	if (!(s->args.kinds & bit[kind]) || addr < s->args.range_lo || addr >= s->args.range_hi ||
	    size == 0 || s->failed)
		return;
	/* Every page the access covers, in address order (as pflab's lackey reader does). */
	first = addr >> s->args.page_shift;
	last = (addr + (size - 1) < addr ? UINT64_MAX : addr + (size - 1)) >> s->args.page_shift;
	for (uint64_t p = first;; p++) {
		put(s, p, kind == ACCESS_WRITE);
		if (p == last)
			break;
	}
}

static int write_results(struct plugin_sink *s, uint32_t pages, FILE *log, char *err,
			 size_t errlen)
{
	struct plugin_results *r = calloc(1, sizeof(*r));
	struct outfile f;
	FILE *fp;
	int rc = 0;

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r->refs = s->refs;
	r->writes = s->writes;
	r->pages = pages;
	for (size_t i = 0; s->set && i < sim_set_count(s->set); i++) {
		const struct sim_run *u = sim_set_run(s->set, i);

		r->runs[r->nruns++] = (struct plugin_run){ u->policy, u->frames,
							   u->sim->pager->stats, u->seconds };
	}
	if (!s->args.results[0]) {
		plugin_results_write(log, r);
	} else if (!(fp = outfile_fopen(&f, s->args.results, err, errlen))) {
		rc = -1;
	} else {
		plugin_results_write(fp, r);
		rc = outfile_fclose(&f, fp, err, errlen);
	}
	free(r);
	return rc;
}

int plugin_sink_finish(struct plugin_sink *s, FILE *log, char *err, size_t errlen)
{
	uint32_t pages = 0;
	int rc = -1;

	flush(s);
	if (!s->failed && s->set && sim_set_finish(s->set) != 0) {
		snprintf(s->err, sizeof(s->err), "live pager: %s", sim_set_error(s->set));
		s->failed = true;
	}
	if (!s->failed && s->refs == 0) {
		snprintf(s->err, sizeof(s->err),
			 "no references: nothing matched the kind and range given");
		s->failed = true;
	}
	if (s->failed) {
		snprintf(err, errlen, "%s", s->err);
		plugin_sink_abort(s);
		return -1;
	}
	if (s->set)
		pages = sim_set_pages(s->set);
	else if (s->writer)
		pages = (uint32_t)trace_writer_pages(s->writer);
	if (s->writer) {
		struct trace_writer *w = s->writer;

		s->writer = NULL;
		if (trace_writer_close(w, err, errlen) != 0)
			goto out;
	}
	rc = write_results(s, pages, log, err, errlen);
out:
	sim_set_destroy(s->set);
	free(s);
	return rc;
}

void plugin_sink_abort(struct plugin_sink *s)
{
	if (s->writer)
		trace_writer_abort(s->writer);
	sim_set_destroy(s->set);
	free(s);
}
