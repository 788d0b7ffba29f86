// SPDX-License-Identifier: MIT
/* The fault sequence of a trace: see cmd_regress_faultseq.h. */
#include "cmd_regress_faultseq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "idmap.h"
#include "sim.h"
#include "trace.h"

#define CHUNK 65536

struct faultseq_opts {
	const char *trace_path;
	struct trace_options trace;
	const struct policy_ops *policy;
	uint32_t frames;
	struct policy_params params;
	bool zero_fill;
};

static int parse_args(int argc, char **argv, struct faultseq_opts *o)
{
	enum { OPT_PAGE_SIZE = 256, OPT_ZERO_FILL };
	static const struct option longopts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "frames", required_argument, NULL, 'n' },
		{ "format", required_argument, NULL, 'f' },
		{ "page-size", required_argument, NULL, OPT_PAGE_SIZE },
		{ "seed", required_argument, NULL, CLI_OPT_SEED },
		CLI_POLICY_KNOBS,
		{ "zero-fill", no_argument, NULL, OPT_ZERO_FILL },
		{ 0 },
	};
	int c;

	*o = (struct faultseq_opts){ .params = POLICY_PARAMS_DEFAULT, .trace.page_size = 4096 };
	while ((c = cli_getopt("regress --fault-sequence", argc, argv, "p:n:f:", longopts)) != -1) {
		switch (c) {
		case 'p':
			o->policy = policy_find(optarg);
			if (!o->policy)
				return cli_usage_error("regress", "unknown policy '%s'", optarg);
			break;
		case 'n':
			if (cli_opt_u32("regress", "--frames", optarg, 1, VREF_VPN_MAX, &o->frames))
				return EXIT_USAGE;
			break;
		case 'f':
			if (trace_format_parse(optarg, &o->trace.format) != 0)
				return cli_usage_error("regress", "unknown trace format '%s'", optarg);
			break;
		case OPT_PAGE_SIZE:
			if (cli_parse_page_size("regress", optarg, &o->trace.page_size))
				return EXIT_USAGE;
			break;
		case CLI_OPT_SEED:
		case CLI_OPT_TICK:
		case CLI_OPT_WINDOW:
		case CLI_OPT_AGING_BITS:
			if (cli_policy_knob("regress", c, optarg, &o->params))
				return EXIT_USAGE;
			break;
		case OPT_ZERO_FILL: o->zero_fill = true; break;
		default: return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("regress", "--fault-sequence needs exactly one trace");
	o->trace_path = argv[optind];
	if (!o->policy || !o->frames)
		return cli_usage_error("regress", "--fault-sequence needs --policy and --frames");
	return 0;
}

/* The trace, whole: dense page numbers and, per page, its id in the trace. */
struct loaded {
	vref_t *refs;
	size_t n;
	uint64_t *id;      /* per dense page */
	uint32_t npages;
	char err[600];
};

static int load(const struct faultseq_opts *o, struct loaded *t)
{
	struct trace_ref *raw = malloc(sizeof(*raw) * CHUNK);
	struct trace *tr = trace_open(o->trace_path, &o->trace, t->err, sizeof(t->err));
	struct idmap ids;
	size_t cap = 0, idcap = 0;
	ptrdiff_t got;
	int rc = -1;

	if (!tr) {
		free(raw);
		return -1;
	}
	if (!raw || idmap_init(&ids) != 0) {
		snprintf(t->err, sizeof(t->err), "out of memory");
		free(raw);
		trace_close(tr);
		return -1;
	}
	while ((got = trace_read(tr, raw, CHUNK)) > 0) {
		if (t->n + (size_t)got > cap) {
			vref_t *bigger;

			cap = (t->n + (size_t)got) * 2;
			bigger = realloc(t->refs, sizeof(*bigger) * cap);
			if (!bigger)
				goto oom;
			t->refs = bigger;
		}
		for (ptrdiff_t i = 0; i < got; i++) {
			uint32_t vpn = idmap_get(&ids, raw[i].page);

			if (vpn > VREF_VPN_MAX) {
				snprintf(t->err, sizeof(t->err), "%s: too many distinct pages",
					 o->trace_path);
				goto out;
			}
			if (vpn >= idcap) {
				uint64_t *bigger;

				idcap = idcap ? idcap * 2 : 1024;
				bigger = realloc(t->id, sizeof(*bigger) * idcap);
				if (!bigger)
					goto oom;
				t->id = bigger;
			}
			t->id[vpn] = raw[i].page;
			t->refs[t->n++] = VREF(vpn, raw[i].write);
		}
		if (t->n >= UINT32_MAX) {
			snprintf(t->err, sizeof(t->err), "%s: too many references", o->trace_path);
			goto out;
		}
	}
	if (got < 0) {
		snprintf(t->err, sizeof(t->err), "%s", trace_error(tr));
		goto out;
	}
	t->npages = ids.count;
	rc = 0;
	goto out;
oom:
	snprintf(t->err, sizeof(t->err), "out of memory");
out:
	idmap_fini(&ids);
	trace_close(tr);
	free(raw);
	return rc;
}

int regress_fault_sequence_main(int argc, char **argv)
{
	struct faultseq_opts o;
	struct loaded t = { 0 };
	uint32_t *next = NULL;
	struct sim *s = NULL;
	struct sim_config cfg;
	bool future;
	char err[256];
	int rc = parse_args(argc, argv, &o);

	if (rc)
		return rc;
	if (load(&o, &t) != 0) {
		rc = cli_usage_error("regress", "%s", t.err);
		goto out;
	}
	future = o.policy->flags & POLICY_NEEDS_FUTURE;
	if (future && (!(next = malloc(sizeof(*next) * (t.n ? t.n : 1))) ||
		       sim_next_use(t.refs, t.n, t.npages, next) != 0)) {
		rc = cli_fail("regress", "out of memory");
		goto out;
	}
	cfg = (struct sim_config){
		.policy = o.policy,
		.nframes = o.frames,
		.params = o.params,
		.future_known = future,
		.first_touch_zero = o.zero_fill,
	};
	/* Sized by the trace, not by --frames: the same faults (sim.h). */
	cfg.nframes = sim_frames_needed(&cfg, t.npages);
	s = sim_create(&cfg, err, sizeof(err));
	if (!s || pager_grow(s->pager, t.npages ? t.npages : 1) != 0) {
		rc = cli_fail("regress", "%s", s ? "out of memory" : err);
		goto out;
	}
	/* One reference at a time: a fault is the fault count moving. */
	for (size_t i = 0; i < t.n; i++) {
		uint64_t before = s->pager->stats.faults;

		if (sim_replay(s, &t.refs[i], next ? &next[i] : NULL, 1) != 0) {
			rc = cli_fail("regress", "%s", s->pager->err);
			goto out;
		}
		if (s->pager->stats.faults != before)
			printf("%llu\n", (unsigned long long)t.id[VREF_VPN(t.refs[i])]);
	}
	rc = EXIT_OK;
out:
	sim_destroy(s);
	free(next);
	free(t.refs);
	free(t.id);
	return rc;
}
