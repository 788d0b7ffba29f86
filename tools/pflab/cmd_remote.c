// SPDX-License-Identifier: MIT
/*
 * pflab remote: replay a trace through the paging server (pflab pager): the
 * trace-driven client of vmm/server/client.h. The trace is loaded whole and
 * its page ids renamed densely, as pflab sim does, so that one region of
 * exactly its pages is registered; with the same policy and frames, the
 * counts are pflab sim's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "idmap.h"
#include "policy.h"
#include "trace.h"

#define CHUNK 65536

static const char remote_help[] =
	"usage: pflab remote TRACE --pager ADDR --policy P --frames N [options]\n"
	"\n"
	"Replay TRACE through a paging server (pflab pager): misses are faults sent\n"
	"to the server, hits are reported to it in batches, and its evictions unmap\n"
	"pages here. Prints one row, with the server's counts.\n"
	"\n"
	"  -a, --pager ADDR     unix:PATH or tcp:HOST:PORT\n"
	"  -p, --policy P       the region's policy (not opt, ws: see the docs)\n"
	"  -n, --frames N       frames asked (the server grants at most the trace's pages)\n"
	"  -f, --format F       trace format (default: detected)\n"
	"      --page-size N    bytes per page for address traces (default 4096)\n"
	"      --seed N, --tick N, --window N, --aging-bits N   policy knobs, as pflab sim\n"
	"      --zero-fill      first touches are minor faults\n"
	"      --timeout MS     longest wait for the server (default 5000)\n"
	"      --csv            CSV with a header:\n"
	"                       trace,policy,frames,refs,faults,miss_ratio,writebacks,\n"
	"                       major,minor,evictions,data_returns\n"
	"      --json           a JSON object\n"
	"  -h, --help           this text\n"
	"\n"
	"A server that closes the connection or does not answer within the timeout\n"
	"fails the run (exit 1). See docs/external-pager.md.\n";

struct remote_opts {
	const char *trace_path, *addr;
	struct trace_options trace;
	struct proto_policy policy;
	uint32_t frames;
	int timeout_ms;
	bool zero_fill;
	int output; /* 0 table, 1 csv, 2 json */
};

static int parse_args(int argc, char **argv, struct remote_opts *o)
{
	enum { OPT_PAGE_SIZE = 256, OPT_CSV, OPT_JSON, OPT_ZERO_FILL, OPT_TIMEOUT };
	static const struct option longopts[] = {
		{ "pager", required_argument, NULL, 'a' },
		{ "policy", required_argument, NULL, 'p' },
		{ "frames", required_argument, NULL, 'n' },
		{ "format", required_argument, NULL, 'f' },
		{ "page-size", required_argument, NULL, OPT_PAGE_SIZE },
		{ "seed", required_argument, NULL, CLI_OPT_SEED },
		CLI_POLICY_KNOBS,
		{ "zero-fill", no_argument, NULL, OPT_ZERO_FILL },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct policy_params params = POLICY_PARAMS_DEFAULT;
	const char *policy = NULL;
	uint64_t v;
	int c;

	*o = (struct remote_opts){ .trace.page_size = 4096, .timeout_ms = 5000 };
	while ((c = cli_getopt("remote", argc, argv, "a:p:n:f:h", longopts)) != -1) {
		switch (c) {
		case 'a': o->addr = optarg; break;
		case 'p': policy = optarg; break;
		case 'n':
			if (cli_opt_u32("remote", "--frames", optarg, 1, UINT32_MAX - 1,
					&o->frames))
				return EXIT_USAGE;
			break;
		case 'f':
			if (trace_format_parse(optarg, &o->trace.format) != 0)
				return cli_usage_error("remote", "unknown trace format '%s'", optarg);
			break;
		case OPT_PAGE_SIZE:
			if (cli_parse_page_size("remote", optarg, &o->trace.page_size))
				return EXIT_USAGE;
			break;
		case CLI_OPT_SEED:
		case CLI_OPT_TICK:
		case CLI_OPT_WINDOW:
		case CLI_OPT_AGING_BITS:
			if (cli_policy_knob("remote", c, optarg, &params))
				return EXIT_USAGE;
			break;
		case OPT_ZERO_FILL: o->zero_fill = true; break;
		case OPT_TIMEOUT:
			if (cli_opt_u64("remote", "--timeout", optarg, 1, 3600000, &v))
				return EXIT_USAGE;
			o->timeout_ms = (int)v;
			break;
		case OPT_CSV:
		case OPT_JSON:
			if (o->output)
				return cli_usage_error("remote", "give one of --csv and --json, once");
			o->output = c == OPT_CSV ? 1 : 2;
			break;
		case 'h': fputs(remote_help, stdout); return -1;
		default: return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_error("remote", "no trace given (see --help)");
	if (optind + 1 < argc)
		return cli_usage_error("remote", "unexpected argument '%s'", argv[optind + 1]);
	o->trace_path = argv[optind];
	if (!o->addr)
		return cli_usage_error("remote", "--pager is required");
	if (!policy)
		return cli_usage_error("remote", "--policy is required (see pflab policies)");
	if (!policy_find(policy))
		return cli_usage_error("remote", "unknown policy '%s' (see pflab policies)", policy);
	if (!o->frames)
		return cli_usage_error("remote", "--frames is required");
	snprintf(o->policy.name, sizeof(o->policy.name), "%s", policy);
	o->policy.seed = params.seed;
	o->policy.tick = params.tick;
	o->policy.window = params.window;
	o->policy.aging_bits = params.aging_bits;
	return 0;
}

/* The whole trace as dense page numbers with the write bit on top. */
static int load(const struct remote_opts *o, uint32_t **refs_out, size_t *n_out, uint32_t *npages)
{
	struct trace_ref *raw = malloc(sizeof(*raw) * CHUNK);
	uint32_t *refs = NULL;
	size_t len = 0, cap = 0;
	struct idmap ids;
	struct trace *t;
	char err[256];
	bool dense;
	ptrdiff_t n;
	int rc = EXIT_USAGE;

	if (!raw || idmap_init(&ids) != 0) {
		free(raw);
		return cli_fail("remote", "out of memory");
	}
	*npages = 0;
	t = trace_open(o->trace_path, &o->trace, err, sizeof(err));
	if (!t) {
		rc = cli_usage_error("remote", "%s", err);
		goto out;
	}
	dense = trace_dense(t);
	while ((n = trace_read(t, raw, CHUNK)) > 0) {
		if (cap - len < (size_t)n) {
			uint32_t *bigger;

			cap = cap ? cap * 2 : 4 * CHUNK;
			bigger = realloc(refs, sizeof(*refs) * cap);
			if (!bigger) {
				rc = cli_fail("remote", "out of memory holding the trace");
				goto out;
			}
			refs = bigger;
		}
		for (ptrdiff_t i = 0; i < n; i++) {
			uint64_t vpn = dense ? raw[i].page : idmap_get(&ids, raw[i].page);

			if (vpn >= 0x7fffffffu) {
				rc = cli_usage_error("remote", "%s: too many distinct pages", o->trace_path);
				goto out;
			}
			if (vpn >= *npages)
				*npages = (uint32_t)vpn + 1;
			refs[len++] = (uint32_t)vpn | (raw[i].write ? PROTO_REF_WRITE : 0);
		}
	}
	if (n < 0) {
		rc = cli_usage_error("remote", "%s", trace_error(t));
		goto out;
	}
	*refs_out = refs;
	*n_out = len;
	refs = NULL;
	rc = 0;
out:
	trace_close(t);
	idmap_fini(&ids);
	free(raw);
	free(refs);
	return rc;
}

static void print_row(const struct remote_opts *o, const struct proto_stats *st)
{
	double miss = st->refs ? (double)st->faults / (double)st->refs : 0;

	if (o->output == 1) {
		puts("trace,policy,frames,refs,faults,miss_ratio,writebacks,major,minor,evictions,"
		     "data_returns");
		printf("%s,%s,%u,%llu,%llu,%.6f,%llu,%llu,%llu,%llu,%llu\n", o->trace_path,
		       o->policy.name, o->frames, (unsigned long long)st->refs,
		       (unsigned long long)st->faults, miss, (unsigned long long)st->writebacks,
		       (unsigned long long)st->major, (unsigned long long)st->minor,
		       (unsigned long long)st->evictions, (unsigned long long)st->data_returns);
	} else if (o->output == 2) {
		fputs("{\"trace\": ", stdout);
		json_string(stdout, o->trace_path);
		printf(", \"policy\": \"%s\", \"frames\": %u, \"refs\": %llu, \"faults\": %llu, "
		       "\"miss_ratio\": %.6f, \"writebacks\": %llu, \"major\": %llu, \"minor\": %llu, "
		       "\"evictions\": %llu, \"data_returns\": %llu}\n",
		       o->policy.name, o->frames, (unsigned long long)st->refs,
		       (unsigned long long)st->faults, miss, (unsigned long long)st->writebacks,
		       (unsigned long long)st->major, (unsigned long long)st->minor,
		       (unsigned long long)st->evictions, (unsigned long long)st->data_returns);
	} else {
		printf("%-12s %6s %12s %12s %10s %12s\n", "policy", "frames", "refs", "faults",
		       "miss_ratio", "writebacks");
		printf("%-12s %6u %12llu %12llu %10.6f %12llu\n", o->policy.name, o->frames,
		       (unsigned long long)st->refs, (unsigned long long)st->faults, miss,
		       (unsigned long long)st->writebacks);
	}
}

static int remote_main(int argc, char **argv)
{
	struct remote_opts o;
	struct pclient *c = NULL;
	struct pclient_region r = { 0 };
	struct proto_msg st;
	uint32_t *refs = NULL, npages = 0;
	size_t n = 0;
	char err[256];
	int rc = parse_args(argc, argv, &o);

	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	if ((rc = load(&o, &refs, &n, &npages)) != 0)
		return rc;
	c = pclient_connect(o.addr, o.timeout_ms, err, sizeof(err));
	if (!c) {
		free(refs);
		return cli_fail("remote", "%s", err);
	}
	if (pclient_register(c, npages ? npages : 1, o.frames, o.zero_fill ? PROTO_REG_ZERO_FILL : 0,
			     &o.policy, &r) != 0 ||
	    pclient_replay(c, &r, refs, n) != 0 || pclient_stats(c, r.id, &st) != 0) {
		rc = cli_fail("remote", "%s", c->err);
	} else {
		print_row(&o, &st.u.stats_reply.st);
		rc = EXIT_OK;
	}
	pclient_region_fini(&r);
	pclient_close(c);
	free(refs);
	return rc;
}

static const struct command remote_cmd = {
	.name = "remote",
	.summary = "replay a trace through a paging server (pflab pager)",
	.main = remote_main,
};
COMMAND_REGISTER(remote_cmd);
