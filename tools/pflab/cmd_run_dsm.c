// SPDX-License-Identifier: MIT
/*
 * pflab run --dsm: the options and the result row of a DSM node (see
 * cmd_run_dsm.h). The node itself is vmm/vmm_dsm.c and vmm/server/dsm_node.c.
 */
#include "cmd_run_dsm.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

#include "../../guest/abi.h"

#define DSM_DEFAULT_PAGES 64
#define DSM_DEFAULT_TIMEOUT_MS 5000

int run_dsm_option(enum run_dsm_opt opt, const char *arg, struct vmm_config *vm)
{
	char why[200];
	uint64_t v;

	switch (opt) {
	case RUN_DSM_ADDR:
		vm->dsm_addr = arg;
		return 0;
	case RUN_DSM_NODE:
		if (cli_opt_u32("run", "--node", arg, 0, PFLAB_DSM_MAX_NODES - 1, &vm->dsm_node))
			return EXIT_USAGE;
		return 0;
	case RUN_DSM_NODES:
		if (cli_opt_u32("run", "--nodes", arg, 1, PFLAB_DSM_MAX_NODES, &vm->dsm_nodes))
			return EXIT_USAGE;
		return 0;
	case RUN_DSM_TIMEOUT:
		if (cli_parse_duration_ns(arg, &v, why, sizeof(why)))
			return cli_usage_error("run", "--dsm-timeout: %s", why);
		if (v < 1000000 || v > 3600000000000ull)
			return cli_usage_error("run", "--dsm-timeout: from 1ms to 1h");
		vm->dsm_timeout_ms = (int)(v / 1000000);
		return 0;
	}
	return 0;
}

static bool dsm_workload(uint32_t w)
{
	return w == WL_DSM_SC || w == WL_DSM_COUNTER || w == WL_DSM_FALSE || w == WL_DSM_APART;
}

int run_dsm_check(struct vmm_config *vm, bool pages_given, bool frames_given)
{
	if (!vm->dsm_addr) {
		if (dsm_workload(vm->workload))
			return cli_usage_error("run", "workload %s needs --dsm ADDR",
					       vmm_workload_name(vm->workload));
		if (vm->dsm_nodes || vm->dsm_node || vm->dsm_timeout_ms)
			return cli_usage_error("run", "--node, --nodes and --dsm-timeout need --dsm ADDR");
		return 0;
	}
	if (!dsm_workload(vm->workload))
		return cli_usage_error("run", "--dsm goes with a dsm-* workload (dsm-sc dsm-counter "
				       "dsm-false dsm-apart)");
	if (!vm->dsm_nodes)
		vm->dsm_nodes = 2;
	if (!vm->dsm_timeout_ms)
		vm->dsm_timeout_ms = DSM_DEFAULT_TIMEOUT_MS;
	if (vm->dsm_node >= vm->dsm_nodes)
		return cli_usage_error("run", "--node %u: the nodes are 0..%u", vm->dsm_node,
				       vm->dsm_nodes - 1);
	if (!pages_given)
		vm->npages = DSM_DEFAULT_PAGES;
	if (vm->npages < PFLAB_DSM_MIN_PAGES + vm->dsm_nodes || vm->npages > 65536)
		return cli_usage_error("run", "--pages: %u nodes share %u to 65536 pages", vm->dsm_nodes,
				       PFLAB_DSM_MIN_PAGES + vm->dsm_nodes);
	if (frames_given && vm->nframes != vm->npages)
		return cli_usage_error("run", "--dsm: every shared page has a frame (--frames is "
				       "--pages)");
	if (vm->trap != &trap_kvm_ops || vm->vcpus > 1 || vm->map_path || vm->dma ||
	    vm->pool_high || vm->ninject || vm->disk_depth || vm->pager_addr)
		return cli_usage_error("run", "--dsm: the kvm trap and one vCPU, without --map-file, "
				       "--dma, a pool, --inject, --disk-depth or --pager");
	vm->nframes = vm->npages;
	return 0;
}

void run_dsm_print(int output, const struct vmm_config *vm, const struct vmm_result *r)
{
	const struct dsm_node_stats *d = &r->dsm;
	uint64_t faults = d->read_faults + d->write_faults;
	double mean = faults ? (double)d->lat_sum_ns / (double)faults / 1e3 : 0;
	const char *wl = vmm_workload_name(vm->workload);

	if (output == 1) { /* CSV */
		puts("workload,node,nodes,pages,passes,checks,read_faults,write_faults,upgrades,"
		     "pages_in,pages_out,invalidations,lat_mean_us,lat_p50_us,lat_p99_us,lat_max_us,"
		     "wall_s");
		printf("%s,%u,%u,%u,%u,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%.2f,%.2f,%.2f,%.2f,%.6f\n",
		       wl, vm->dsm_node, vm->dsm_nodes, vm->npages, vm->passes,
		       (unsigned long long)r->guest_checks, (unsigned long long)d->read_faults,
		       (unsigned long long)d->write_faults, (unsigned long long)d->upgrades,
		       (unsigned long long)d->pages_in, (unsigned long long)d->pages_out,
		       (unsigned long long)d->invalidations, mean, r->dsm_lat_p50_us,
		       r->dsm_lat_p99_us, (double)d->lat_max_ns / 1e3, r->wall_s);
	} else if (output == 2) { /* JSON */
		printf("{\"workload\": \"%s\", \"node\": %u, \"nodes\": %u, \"pages\": %u, "
		       "\"passes\": %u, \"checks\": %llu, \"read_faults\": %llu, \"write_faults\": %llu, "
		       "\"upgrades\": %llu, \"pages_in\": %llu, \"pages_out\": %llu, "
		       "\"invalidations\": %llu, \"lat_mean_us\": %.2f, \"lat_p50_us\": %.2f, "
		       "\"lat_p99_us\": %.2f, \"lat_max_us\": %.2f, \"wall_s\": %.6f}\n",
		       wl, vm->dsm_node, vm->dsm_nodes, vm->npages, vm->passes,
		       (unsigned long long)r->guest_checks, (unsigned long long)d->read_faults,
		       (unsigned long long)d->write_faults, (unsigned long long)d->upgrades,
		       (unsigned long long)d->pages_in, (unsigned long long)d->pages_out,
		       (unsigned long long)d->invalidations, mean, r->dsm_lat_p50_us,
		       r->dsm_lat_p99_us, (double)d->lat_max_ns / 1e3, r->wall_s);
	} else {
		printf("workload %s, node %u of %u, %u shared pages, %u passes: %llu checks passed\n",
		       wl, vm->dsm_node, vm->dsm_nodes, vm->npages, vm->passes,
		       (unsigned long long)r->guest_checks);
		printf("faults: %llu read, %llu write (%llu upgrades without data); pages in %llu, "
		       "out %llu; invalidations received %llu\n",
		       (unsigned long long)d->read_faults, (unsigned long long)d->write_faults,
		       (unsigned long long)d->upgrades, (unsigned long long)d->pages_in,
		       (unsigned long long)d->pages_out, (unsigned long long)d->invalidations);
		printf("fault latency: mean %.2f us, p50 %.2f us, p99 %.2f us, max %.2f us; wall %.3f s\n",
		       mean, r->dsm_lat_p50_us, r->dsm_lat_p99_us, (double)d->lat_max_ns / 1e3,
		       r->wall_s);
	}
}
