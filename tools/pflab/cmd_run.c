// SPDX-License-Identifier: MIT
/*
 * pflab run: boot the bundled guest under KVM with more data pages than
 * frames, serve its faults with the host pager, print one row like
 * `pflab sim` does, plus what only a real run has (soft faults, latencies,
 * wall time). The machinery is in vmm/; docs/vmm.md describes it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cmd_run_dsm.h"
#include "loadtrace.h"
#include "outfile.h"
#include "proto.h"
#include "sim.h"
#include "trace.h"
#include "vmm.h"

#include "../../guest/abi.h"

#define DEFAULT_PAGES 256
#define DEFAULT_FRAMES 64

static const char run_help[] =
	"usage: pflab run [--workload W | --trace FILE] [--policy P] [--frames N] [options]\n"
	"\n"
	"Run the guest under KVM: its data region is paged by the host pager with\n"
	"real faults, its data verified. One row of results, like pflab sim's.\n"
	"\n"
	"  -w, --workload W       scan random stride matmul list copy (default scan);\n"
	"                         gather (indexed reads), blockio (read_pages, write_pages,\n"
	"                         sync_pages; with --disk-depth, docs/async.md);\n"
	"                         prefetch-script: prefetch_page()'s scripted case (tests);\n"
	"                         mapfile (with --map-file, docs/mapped-files.md), dma (with\n"
	"                         --dma, docs/dma.md), shared (two address spaces sharing\n"
	"                         pages, docs/mapped-files.md); or a restart scenario:\n"
	"                         restart-movsb restart-repmovsb restart-push\n"
	"                         restart-straddle restart-fetch (docs/restart.md);\n"
	"                         touch: touch every page once, then --nops bare exits\n"
	"                         (the benchmark of docs/performance.md); keep-write,\n"
	"                         keep-check: pages that outlive the run (--pager-keep,\n"
	"                         docs/external-pager.md)\n"
	"  -t, --trace FILE       replay a trace in the guest, one pass over the page per\n"
	"                         reference, every word written or checked\n"
	"  -f, --format F         the trace's format (default: detected)\n"
	"  -p, --policy P         replacement policy (default clock; pflab policies)\n"
	"  -n, --frames N         frames for the data region (default 64)\n"
	"      --pages N          data-region pages of a workload (default 256)\n"
	"      --passes N         workload repetitions (default per workload)\n"
	"      --seed N           guest PRNG and random policy seed (default 1)\n"
	"      --trap T           kvm (exits; default) or uffd (userfaultfd)\n"
	"      --swap PATH        swap file, created by the run and removed at its end; an\n"
	"                         existing PATH is refused (default: a temporary file,\n"
	"                         never left behind)\n"
	"      --swap-reuse       --swap PATH exists: use it as the swap area (its bytes\n"
	"                         are overwritten, the file is never removed)\n"
	"      --store S          file (default) or memory: where evicted pages go\n"
	"      --disk-latency D   add a modelled device latency to each swap I/O (e.g. 100us)\n"
	"      --timeout D        give up on a guest still running after D (e.g. 5s)\n"
	"      --record FILE      write the faults as an rw trace, for pflab sim\n"
	"      --fault-log FILE   each trap in detail: instruction, access, registers\n"
	"                         (the format: docs/restart.md)\n"
	"      --inject SPEC      fail chosen swap (or --map-file) I/Os, e.g.\n"
	"                         read:eio@every=1000,write:enospc@at=50\n"
	"                         (docs/faults.md: rules, what the guest sees, the summary)\n"
	"      --pool-low L, --pool-high H\n"
	"                         a paging daemon thread keeps L to H frames free or in a\n"
	"                         free pool; faults on pool pages need no I/O (kvm trap)\n"
	"      --pool-sync        run the daemon's work between faults, no thread:\n"
	"                         deterministic, as pflab sim --pool-low/--pool-high\n"
	"                         (docs/pager-daemon.md)\n"
	"      --swap-layout L    static (slot = page, the default) or dynamic (any free\n"
	"                         slot, write-backs clustered; docs/swap.md)\n"
	"      --swap-slots N     the swap area's size in slots (at least the pages)\n"
	"      --disk-seek D      add a modelled seek to each swap I/O that does not\n"
	"                         follow the previous one on the disk (e.g. 2ms)\n"
	"      --disk-depth Q     swap I/O through the host I/O engine: a modelled disk\n"
	"                         with Q requests in service at once, each on a worker\n"
	"                         thread (1..256; docs/async.md); adds the disk columns\n"
	"      --vcpus N          N vCPUs (1..8), a host thread each; the workload's\n"
	"                         pages split among them (scan random stride list);\n"
	"                         adds per-vCPU columns (docs/vmm.md#several-vcpus)\n"
	"      --threads T        T green threads per vCPU (1..16), a cooperative\n"
	"                         scheduler in the guest; each runs the workload on its\n"
	"                         part of the vCPU's pages (scan random stride list)\n"
	"      --async-pf         async page faults: a fault that needs I/O parks the\n"
	"                         faulting thread and the vCPU runs another (kvm trap;\n"
	"                         docs/async.md); with --threads these add the columns\n"
	"                         threads,async_pf,async_faults,...,refs_per_s\n"
	"      --disk-sched S     the disk's scheduler: fifo (default) or elevator (LOOK)\n"
	"      --map-file FILE    back the data region with FILE instead of the swap file:\n"
	"                         pages fault in from it, dirty ones go back to it; with\n"
	"                         --workload mapfile (--pages: default the file's pages;\n"
	"                         docs/mapped-files.md). The workload checks the file's\n"
	"                         bytes: make it with --map-create\n"
	"      --map-create       first write FILE with the pattern the mapfile workload\n"
	"                         checks, --pages pages (default 256); FILE must be absent,\n"
	"                         empty or such a file not yet run on (else refused)\n"
	"      --dma MODE         a DMA device (kvm trap; --workload dma): pin (a transfer's\n"
	"                         pages are pinned) or fault (the device faults them in\n"
	"                         as it reaches them; docs/dma.md)\n"
	"      --dma-latency D    the device's bus time per page copied (e.g. 50us)\n"
	"      --pager ADDR       the paging server (pflab pager) at unix:PATH or\n"
	"                         tcp:HOST:PORT resolves the faults: its policy, frames\n"
	"                         and store; adds the columns pager_writeback_errors,\n"
	"                         pager_pagein_errors, pgerr_delivered, pgerr_reported\n"
	"                         (docs/external-pager.md)\n"
	"      --pager-timeout MS longest wait for the server (default 5000)\n"
	"      --pager-forward    with --trap uffd: forward each fault over the socket\n"
	"                         (default: hand the userfaultfd over to the server)\n"
	"      --pager-keep KEY   start with the pages the server keeps under KEY (yours,\n"
	"                         by uid), if any, and have it keep the region's pages\n"
	"                         under KEY at the end, also if this run dies (--trap uffd,\n"
	"                         handed over); KEY: 1 to 31 of A-Z a-z 0-9 . _ -\n"
	"      --pager-take KEY   start with the pages kept under KEY, drop them at the end\n"
	"      --prefetch D       gather and list: prefetch_page() D elements ahead (0: the\n"
	"                         same code, no prefetches); needs --disk-depth; adds the\n"
	"                         prefetch columns (docs/async.md#prefetch_page)\n"
	"      --read-batch N     blockio: pages per read_pages() call (default: the whole\n"
	"                         slice; 0: none, every page faults in on its own)\n"
	RUN_DSM_HELP
	"  -v, --verbose          log each fault: address, kind, instruction, frame, victim\n"
	"      --csv              CSV with a header; first columns as pflab sim's:\n"
	"                         trace,policy,frames,refs,faults,miss_ratio,writebacks\n"
	"      --json             a JSON object\n"
	"      --tick N, --window N, --aging-bits N   policy knobs, as pflab sim's;\n"
	"                         the tick counts trace references, or faults without\n"
	"                         a trace (docs/vmm.md)\n"
	"      --nops N           touch workload: NOP hypercalls after the touches\n"
	"      --corrupt-page N   test knob: flip byte 123 of page N's swap slot after\n"
	"                         its first write-back (the guest must notice)\n"
	"  -h, --help             this text\n"
	"\n"
	"faults counts every fault the pager served, as pflab sim does: major (read\n"
	"from the swap file) plus minor (a workload's first touch, zero-filled). A\n"
	"trace's pages exist before the run, so its first touches are major, as in\n"
	"the simulator. soft_faults are traps that only set a referenced bit.\n"
	"Exit status: 0 ok, 1 the guest failed (bad data, crash, timeout), 2 bad usage\n"
	"or no usable /dev/kvm.\n";

enum output { OUT_TABLE, OUT_CSV, OUT_JSON };

struct run_opts {
	struct vmm_config vm;
	const char *trace_path;
	const char *record_path;
	const char *fault_log_path;
	struct trace_options trace;
	const char *policy;
	enum output output;
	bool pages_given;
	bool map_create;      /* write the map file's initial pattern first */
	struct inject_rule *inject;  /* --inject, parsed */
	size_t ninject;
	bool layout_given;           /* --swap-layout: report the layout's columns */
	bool sched_given;
	bool read_batch_given;
};

static int load_trace(const struct run_opts *o, struct loaded_trace *lt)
{
	char why[64];

	snprintf(why, sizeof(why), "the guest's data region holds %u", PFLAB_DATA_MAX_PAGES);
	return lab_load_trace("run", o->trace_path, &o->trace, PFLAB_DATA_MAX_PAGES, why, lt);
}

static int parse_args(int argc, char **argv, struct run_opts *o)
{
	enum { OPT_PAGES = 256, OPT_PASSES, OPT_SEED, OPT_TRAP, OPT_SWAP, OPT_SWAP_REUSE, OPT_STORE,
	       OPT_DISK_LATENCY, OPT_TIMEOUT, OPT_RECORD, OPT_CSV, OPT_JSON, OPT_CORRUPT, OPT_NOPS, OPT_INJECT, OPT_FAULT_LOG,
	       OPT_POOL_LOW, OPT_POOL_HIGH, OPT_POOL_SYNC, OPT_SWAP_LAYOUT, OPT_SWAP_SLOTS,
	       OPT_DISK_SEEK, OPT_MAP_FILE, OPT_MAP_CREATE,
	       OPT_DMA, OPT_DMA_LATENCY, OPT_DISK_DEPTH, OPT_DISK_SCHED, OPT_VCPUS,
	       OPT_THREADS, OPT_ASYNC_PF, OPT_PAGER, OPT_PAGER_TIMEOUT, OPT_PAGER_FORWARD,
	       OPT_PAGER_KEEP, OPT_PAGER_TAKE,
	       OPT_PREFETCH, OPT_READ_BATCH,
	       OPT_DSM, OPT_DSM_LAST = OPT_DSM + RUN_DSM_TIMEOUT };
	static const struct option longopts[] = {
		{ "workload", required_argument, NULL, 'w' },
		{ "trace", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, 'f' },
		{ "policy", required_argument, NULL, 'p' },
		{ "frames", required_argument, NULL, 'n' },
		{ "pages", required_argument, NULL, OPT_PAGES },
		{ "passes", required_argument, NULL, OPT_PASSES },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "trap", required_argument, NULL, OPT_TRAP },
		{ "swap", required_argument, NULL, OPT_SWAP },
		{ "swap-reuse", no_argument, NULL, OPT_SWAP_REUSE },
		{ "store", required_argument, NULL, OPT_STORE },
		{ "disk-latency", required_argument, NULL, OPT_DISK_LATENCY },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "record", required_argument, NULL, OPT_RECORD },
		{ "fault-log", required_argument, NULL, OPT_FAULT_LOG },
		{ "inject", required_argument, NULL, OPT_INJECT },
		{ "pool-low", required_argument, NULL, OPT_POOL_LOW },
		{ "pool-high", required_argument, NULL, OPT_POOL_HIGH },
		{ "pool-sync", no_argument, NULL, OPT_POOL_SYNC },
		{ "swap-layout", required_argument, NULL, OPT_SWAP_LAYOUT },
		{ "swap-slots", required_argument, NULL, OPT_SWAP_SLOTS },
		{ "disk-seek", required_argument, NULL, OPT_DISK_SEEK },
		{ "map-file", required_argument, NULL, OPT_MAP_FILE },
		{ "map-create", no_argument, NULL, OPT_MAP_CREATE },
		{ "dma", required_argument, NULL, OPT_DMA },
		{ "dma-latency", required_argument, NULL, OPT_DMA_LATENCY },
		{ "disk-depth", required_argument, NULL, OPT_DISK_DEPTH },
		{ "disk-sched", required_argument, NULL, OPT_DISK_SCHED },
		{ "vcpus", required_argument, NULL, OPT_VCPUS },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ "async-pf", no_argument, NULL, OPT_ASYNC_PF },
		{ "pager", required_argument, NULL, OPT_PAGER },
		{ "pager-timeout", required_argument, NULL, OPT_PAGER_TIMEOUT },
		{ "pager-forward", no_argument, NULL, OPT_PAGER_FORWARD },
		{ "pager-keep", required_argument, NULL, OPT_PAGER_KEEP },
		{ "pager-take", required_argument, NULL, OPT_PAGER_TAKE },
		{ "prefetch", required_argument, NULL, OPT_PREFETCH },
		{ "read-batch", required_argument, NULL, OPT_READ_BATCH },
		{ "dsm", required_argument, NULL, OPT_DSM + RUN_DSM_ADDR },
		{ "node", required_argument, NULL, OPT_DSM + RUN_DSM_NODE },
		{ "nodes", required_argument, NULL, OPT_DSM + RUN_DSM_NODES },
		{ "dsm-timeout", required_argument, NULL, OPT_DSM + RUN_DSM_TIMEOUT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "json", no_argument, NULL, OPT_JSON },
		CLI_POLICY_KNOBS,
		/* Test and benchmark knobs, described in docs/vmm.md. */
		{ "corrupt-page", required_argument, NULL, OPT_CORRUPT },
		{ "nops", required_argument, NULL, OPT_NOPS },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct vmm_config *vm = &o->vm;
	const char *workload = NULL, *frames = NULL;
	char why[1200];
	uint64_t v;
	int c;

	while ((c = cli_getopt("run", argc, argv, "w:t:f:p:n:vh", longopts)) != -1) {
		switch (c) {
		case 'w': workload = optarg; break;
		case 't': o->trace_path = optarg; break;
		case 'f':
			if (trace_format_parse(optarg, &o->trace.format) != 0)
				return cli_usage_error("run", "unknown trace format '%s'", optarg);
			break;
		case 'p': o->policy = optarg; break;
		case 'n': frames = optarg; break; /* its range depends on --trap */
		case OPT_PAGES:
			if (cli_opt_u32("run", "--pages", optarg, 1, PFLAB_DATA_MAX_PAGES,
					&vm->npages))
				return EXIT_USAGE;
			o->pages_given = true;
			break;
		case OPT_PASSES:
			if (cli_opt_u32("run", "--passes", optarg, 1, 1000000, &vm->passes))
				return EXIT_USAGE;
			break;
		case OPT_SEED:
			if (cli_opt_u64("run", "--seed", optarg, 0, UINT64_MAX, &v))
				return EXIT_USAGE;
			vm->seed = v;
			vm->params.seed = v;
			break;
		case OPT_TRAP:
			if (strcmp(optarg, "kvm") == 0)
				vm->trap = &trap_kvm_ops;
			else if (strcmp(optarg, "uffd") == 0)
				vm->trap = &trap_uffd_ops;
			else
				return cli_usage_error("run", "--trap: '%s' is not kvm or uffd", optarg);
			break;
		case OPT_SWAP: vm->swap_path = optarg; break;
		case OPT_SWAP_REUSE: vm->swap_reuse = true; break;
		case OPT_STORE:
			if (strcmp(optarg, "memory") == 0)
				vm->store_in_memory = true;
			else if (strcmp(optarg, "file") == 0)
				vm->store_in_memory = false;
			else
				return cli_usage_error("run", "--store: '%s' is not file or memory", optarg);
			break;
		case OPT_DISK_LATENCY:
			if (cli_parse_duration_ns(optarg, &vm->disk_latency_ns, why, sizeof(why)))
				return cli_usage_error("run", "--disk-latency: %s", why);
			break;
		case OPT_TIMEOUT:
			if (cli_parse_duration_ns(optarg, &vm->timeout_ns, why, sizeof(why)))
				return cli_usage_error("run", "--timeout: %s", why);
			if (vm->timeout_ns == 0)
				return cli_usage_error("run", "--timeout: must be more than 0");
			break;
		case OPT_RECORD: o->record_path = optarg; break;
		case OPT_FAULT_LOG: o->fault_log_path = optarg; break;
		case OPT_POOL_LOW:
		case OPT_POOL_HIGH:
			if (cli_opt_u32("run", c == OPT_POOL_LOW ? "--pool-low" : "--pool-high", optarg,
					1, UINT32_MAX - 1,
					c == OPT_POOL_LOW ? &vm->pool_low : &vm->pool_high))
				return EXIT_USAGE;
			break;
		case OPT_POOL_SYNC: vm->pool_sync = true; break;
		case OPT_SWAP_LAYOUT:
			if (swap_layout_parse(optarg, &vm->swap_layout) != 0)
				return cli_usage_error("run", "--swap-layout: '%s' is not static or dynamic",
						       optarg);
			o->layout_given = true;
			break;
		case OPT_SWAP_SLOTS:
			if (cli_opt_u32("run", "--swap-slots", optarg, 1, UINT32_MAX - 1,
					&vm->swap_slots))
				return EXIT_USAGE;
			break;
		case OPT_DISK_SEEK:
			if (cli_parse_duration_ns(optarg, &vm->disk_seek_ns, why, sizeof(why)))
				return cli_usage_error("run", "--disk-seek: %s", why);
			break;
		case OPT_MAP_FILE: vm->map_path = optarg; break;
		case OPT_MAP_CREATE: o->map_create = true; break;
		case OPT_DMA:
			if (!dma_mode_parse(optarg, &vm->dma))
				return cli_usage_error("run", "--dma: '%s' is not pin or fault", optarg);
			break;
		case OPT_DISK_DEPTH:
			if (cli_opt_u32("run", "--disk-depth", optarg, 1, IO_MAX_DEPTH,
					&vm->disk_depth))
				return EXIT_USAGE;
			break;
		case OPT_VCPUS:
			if (cli_opt_u32("run", "--vcpus", optarg, 1, VMM_MAX_VCPUS, &vm->vcpus))
				return EXIT_USAGE;
			break;
		case OPT_THREADS:
			if (cli_opt_u32("run", "--threads", optarg, 1, PFLAB_MAX_THREADS,
					&vm->threads))
				return EXIT_USAGE;
			break;
		case OPT_ASYNC_PF: vm->async_pf = true; break;
		case OPT_DISK_SCHED:
			if (io_sched_parse(optarg, &vm->disk_sched) != 0)
				return cli_usage_error("run", "--disk-sched: '%s' is not fifo or elevator",
						       optarg);
			o->sched_given = true;
			break;
		case OPT_PREFETCH:
			if (cli_opt_u32("run", "--prefetch", optarg, 0, PFLAB_DATA_MAX_PAGES,
					&vm->prefetch))
				return EXIT_USAGE;
			vm->prefetch_given = true;
			break;
		case OPT_READ_BATCH:
			if (cli_opt_u32("run", "--read-batch", optarg, 0, PFLAB_DATA_MAX_PAGES,
					&vm->read_batch))
				return EXIT_USAGE;
			o->read_batch_given = true;
			break;
		case OPT_DMA_LATENCY:
			if (cli_parse_duration_ns(optarg, &vm->dma_page_ns, why, sizeof(why)))
				return cli_usage_error("run", "--dma-latency: %s", why);
			break;
		case OPT_INJECT:
			free(o->inject);
			o->inject = NULL;
			if (inject_parse(optarg, &o->inject, &o->ninject, why, sizeof(why)) != 0)
				return cli_usage_error("run", "--inject: %s", why);
			break;
		case 'v': vm->verbose = true; break;
		case OPT_CSV:
		case OPT_JSON:
			if (o->output != OUT_TABLE)
				return cli_usage_error("run", "give one of --csv and --json, once");
			o->output = c == OPT_CSV ? OUT_CSV : OUT_JSON;
			break;
		case CLI_OPT_TICK:
		case CLI_OPT_WINDOW:
		case CLI_OPT_AGING_BITS:
			if (cli_policy_knob("run", c, optarg, &vm->params))
				return EXIT_USAGE;
			break;
		case OPT_PAGER:
			vm->pager_addr = optarg;
			break;
		case OPT_PAGER_FORWARD:
			vm->pager_forward = true;
			break;
		case OPT_PAGER_KEEP:
		case OPT_PAGER_TAKE:
			if (vm->pager_key)
				return cli_usage_error("run", "give one of --pager-keep and --pager-take, once");
			if (!proto_key_valid(optarg))
				return cli_usage_error("run", "%s: '%.40s' is not a key (1 to %u of A-Z a-z "
						       "0-9 . _ -)", c == OPT_PAGER_KEEP ? "--pager-keep"
						       : "--pager-take", optarg, PROTO_KEY - 1);
			vm->pager_key = optarg;
			vm->pager_keep = c == OPT_PAGER_KEEP;
			break;
		case OPT_PAGER_TIMEOUT:
			if (cli_opt_u64("run", "--pager-timeout", optarg, 1, 3600000, &v))
				return EXIT_USAGE;
			vm->pager_timeout_ms = (int)v;
			break;
		case OPT_CORRUPT:
			if (cli_opt_u64("run", "--corrupt-page", optarg, 0,
					PFLAB_DATA_MAX_PAGES - 1, &v))
				return EXIT_USAGE;
			vm->corrupt_page = (int64_t)v;
			break;
		case OPT_NOPS:
			if (cli_opt_u32("run", "--nops", optarg, 0, 100000000, &vm->nops))
				return EXIT_USAGE;
			break;
		case 'h': fputs(run_help, stdout); return -1;
		default:
			if (c >= OPT_DSM && c <= OPT_DSM_LAST) {
				if (run_dsm_option((enum run_dsm_opt)(c - OPT_DSM), optarg, vm))
					return EXIT_USAGE;
				break;
			}
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
	if (frames) {
		bool kvm = vm->trap == &trap_kvm_ops;

		if (cli_parse_u64(frames, 1, kvm ? VMM_KVM_MAX_FRAMES : UINT32_MAX - 1, &v, why,
				  sizeof(why)))
			return cli_usage_error("run", "--frames: %s%s", why,
					       kvm ? " with --trap kvm (each resident page is a host "
						     "mapping of its own)" : "");
		vm->nframes = (uint32_t)v;
	}
	if (workload && o->trace_path)
		return cli_usage_error("run", "--workload and --trace exclude each other");
	if (vm->swap_reuse && !vm->swap_path)
		return cli_usage_error("run", "--swap-reuse needs --swap PATH");
	if (vm->swap_path) {
		struct stat st;
		bool exists = lstat(vm->swap_path, &st) == 0;

		if (exists && !vm->swap_reuse)
			return cli_usage_error("run", "--swap %s: the file exists; pflab uses only a swap "
					       "file it creates (--swap-reuse to use this one)", vm->swap_path);
		if (!exists && vm->swap_reuse)
			return cli_usage_error("run", "--swap-reuse: %s: %s", vm->swap_path, strerror(errno));
		if (exists && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
			return cli_usage_error("run", "--swap %s: not a regular file or a block device",
					       vm->swap_path);
	}
	if (o->trace_path) {
		if (o->pages_given)
			return cli_usage_error("run", "--pages is for workloads: a trace has its own pages");
		vm->workload = WL_TRACE;
	} else {
		vm->workload = vmm_workload_find(workload ? workload : "scan");
		if (!vm->workload || vm->workload == WL_TRACE)
			return cli_usage_error("run", "unknown workload '%s' (see pflab run --help)",
					       workload);
	}
	vm->policy = policy_find(o->policy);
	if (!vm->policy)
		return cli_usage_error("run", "unknown policy '%s' (see pflab policies)", o->policy);
	if (!vm->passes)
		vm->passes = vmm_workload_passes(vm->workload);
	if (run_dsm_check(vm, o->pages_given, frames != NULL))
		return EXIT_USAGE;
	for (size_t i = 0; i < o->ninject; i++)
		if (o->inject[i].op == INJECT_READ && vm->trap == &trap_uffd_ops)
			return cli_usage_error("run", "--inject: read errors need --trap kvm: under "
					       "uffd the vCPU sleeps in the kernel and cannot be "
					       "sent to its error handler");
	vm->inject = o->inject;
	vm->ninject = o->ninject;
	if (!vm->pool_low != !vm->pool_high)
		return cli_usage_error("run", "--pool-low and --pool-high go together");
	if (vm->pool_sync && !vm->pool_high)
		return cli_usage_error("run", "--pool-sync needs --pool-low and --pool-high");
	if (vm->pager_forward && (!vm->pager_addr || vm->trap != &trap_uffd_ops))
		return cli_usage_error("run", "--pager-forward goes with --pager and --trap uffd");
	if (vm->pager_key && !vm->pager_addr)
		return cli_usage_error("run", "--pager-keep and --pager-take go with --pager");
	if (vm->pager_keep && (vm->trap != &trap_uffd_ops || vm->pager_forward))
		return cli_usage_error("run", "--pager-keep needs the uffd handed over (--trap uffd, "
				       "without --pager-forward)");
	if (vm->pager_timeout_ms && !vm->pager_addr)
		return cli_usage_error("run", "--pager-timeout goes with --pager");
	if (vm->map_path && vm->workload != WL_MAPFILE)
		return cli_usage_error("run", "--map-file goes with --workload mapfile");
	if (vm->workload == WL_MAPFILE && !vm->map_path)
		return cli_usage_error("run", "workload mapfile needs --map-file FILE");
	if (o->map_create && !vm->map_path)
		return cli_usage_error("run", "--map-create needs --map-file FILE");
	if (vm->disk_depth && vm->map_path)
		return cli_usage_error("run", "--disk-depth models the swap device: --map-file "
				       "reads its file directly");
	if (vm->workload == WL_DMA && !vm->dma)
		return cli_usage_error("run", "workload dma needs --dma pin or --dma fault");
	if (vm->dma_page_ns && !vm->dma)
		return cli_usage_error("run", "--dma-latency needs --dma");
	if (vm->dma && vm->workload != WL_DMA)
		return cli_usage_error("run", "--dma goes with --workload dma");
	if (o->sched_given && !vm->disk_depth)
		return cli_usage_error("run", "--disk-sched needs --disk-depth Q");
	if (vm->store_in_memory && vm->swap_path)
		return cli_usage_error("run", "--store memory keeps no swap file: --swap goes with --store file");
	if (vm->dma && vm->trap == &trap_uffd_ops)
		return cli_usage_error("run", "--dma needs --trap kvm: under uffd, a device write "
				       "to a write-protected page would wait on the fault handler");
	if (vm->workload == WL_PREFETCH_SCRIPT)
		vm->prefetch_given = true; /* the test's script: it prefetches on its own */
	if (vm->prefetch_given && vm->workload != WL_GATHER && vm->workload != WL_LIST &&
	    vm->workload != WL_PREFETCH_SCRIPT)
		return cli_usage_error("run", "--prefetch goes with --workload gather or list");
	if (o->read_batch_given && vm->workload != WL_BLOCKIO)
		return cli_usage_error("run", "--read-batch goes with --workload blockio");
	if (vm->workload == WL_BLOCKIO && !o->read_batch_given)
		vm->read_batch = vm->npages;
	if ((vm->prefetch_given || vm->workload == WL_BLOCKIO) && !vm->disk_depth)
		return cli_usage_error("run", "%s starts reads on the I/O engine: give --disk-depth Q",
				       vm->prefetch_given ? "--prefetch" : "workload blockio");
	if ((vm->prefetch_given || vm->workload == WL_BLOCKIO) && vm->trap != &trap_kvm_ops)
		return cli_usage_error("run", "%s needs --trap kvm",
				       vm->prefetch_given ? "--prefetch" : "workload blockio");
	if ((vm->prefetch_given || vm->workload == WL_BLOCKIO) && (vm->threads > 1 || vm->async_pf))
		return cli_usage_error("run", "%s runs on one thread per vCPU: not with --threads or "
				       "--async-pf", vm->prefetch_given ? "--prefetch" : "workload blockio");
	if (vm->pool_high && vm->trap == &trap_uffd_ops)
		return cli_usage_error("run", "the free pool needs --trap kvm: under uffd, taking a "
				       "page from a running guest copies it out first, and a write "
				       "could slip in between");
	if (o->record_path && outfile_check(o->record_path, why, sizeof(why)) != 0)
		return cli_usage_error("run", "--record %s", why);
	if (o->fault_log_path && outfile_check(o->fault_log_path, why, sizeof(why)) != 0)
		return cli_usage_error("run", "--fault-log %s", why);
	/* Last: every usage check above refuses before a file is made. */
	if (o->map_create && mapfile_create(vm->map_path, vm->npages, why, sizeof(why)) != 0)
		return cli_usage_error("run", "%s", why);
	if (vm->map_path && !o->pages_given &&
	    mapfile_pages(vm->map_path, &vm->npages, why, sizeof(why)) != 0)
		return cli_usage_error("run", "%s", why);
	if (vm->map_path && mapfile_check(vm->map_path, vm->npages, why, sizeof(why)) != 0)
		return cli_usage_error("run", "%s", why);
	return 0;
}

/*
 * --inject: every injected error and what became of it, on stderr after
 * the result row (docs/faults.md). A write-back error is resolved by a
 * later write of the same page; a page-in error is delivered to the guest,
 * reported by its handler, and resolved by a later read of the page.
 */
static void print_io_errors(const struct vmm_result *r)
{
	uint64_t n[2] = { 0 }, retried[2] = { 0 }, resident = 0, lost = 0;
	uint64_t delivered = 0, reported = 0;

	if (r->n_io_errors)
		fputs("I/O errors injected, each with what became of it:\n", stderr);
	for (size_t i = 0; i < r->n_io_errors; i++) {
		const struct inject_error *e = &r->io_errors[i];
		bool rd = e->op == INJECT_READ;

		n[e->op]++;
		fprintf(stderr, "  %-5s #%-8llu page %-7u %-9s ", rd ? "read" : "write",
			(unsigned long long)e->seq, e->vpn, inject_errno_name(e->err));
		if (rd) {
			if (e->where) {
				delivered++;
				fprintf(stderr, "delivered to the guest (rip 0x%llx)",
					(unsigned long long)e->where);
			} else {
				fprintf(stderr, "not delivered (the run stopped)");
			}
			if (e->reported) {
				reported++;
				fprintf(stderr, ", reported by its handler");
			}
		} else {
			fprintf(stderr, "kept resident and dirty");
		}
		if (e->retry_seq) {
			retried[e->op]++;
			fprintf(stderr, "; %s by %s #%llu\n", rd ? "read in" : "written back",
				rd ? "read" : "write", (unsigned long long)e->retry_seq);
		} else if (rd) {
			fprintf(stderr, "; never read in\n");
		} else if (e->resident_at_end) {
			resident++;
			fprintf(stderr, "; still resident when the run ended\n");
		} else {
			lost++;
			fprintf(stderr, "; LOST: neither written back nor resident\n");
		}
	}
	fprintf(stderr,
		"I/O errors injected: %llu write-backs failed: %llu written on retry, %llu still "
		"resident at the end, %llu lost; %llu page-ins failed: %llu delivered to the guest, "
		"%llu reported by its handler, %llu read in on retry\n",
		(unsigned long long)n[INJECT_WRITE], (unsigned long long)retried[INJECT_WRITE],
		(unsigned long long)resident, (unsigned long long)lost,
		(unsigned long long)n[INJECT_READ], (unsigned long long)delivered,
		(unsigned long long)reported, (unsigned long long)retried[INJECT_READ]);
}

static double miss_ratio(const struct pager_stats *st)
{
	return st->refs ? (double)st->faults / (double)st->refs : 0.0;
}

static double vcpu_cpu_s(const struct vmm_result *r)
{
	double s = 0;

	for (uint32_t i = 0; i < r->nvcpus; i++)
		s += r->vcpu[i].cpu_s;
	return s;
}

static double refs_per_s(const struct vmm_result *r)
{
	return r->wall_s > 0 ? (double)r->stats.refs / r->wall_s : 0.0;
}

/* gather, list --prefetch, blockio: from the guest's mark 1 (the set-up
 * done) to its mark 2 (every element or page read and checked). */
static double phase_s(const struct vmm_result *r)
{
	const uint64_t *m = r->bio.mark_ns;

	return m[2] > m[1] ? (double)(m[2] - m[1]) / 1e9 : 0.0;
}

static void print_result(const struct run_opts *o, const char *name, const struct vmm_result *r)
{
	const struct pager_stats *st = &r->stats;
	const struct vmm_config *vm = &o->vm;

	if (vm->dsm_addr) { /* a DSM node's row: its own columns */
		run_dsm_print(o->output == OUT_CSV ? 1 : o->output == OUT_JSON ? 2 : 0, vm, r);
		return;
	}
	switch (o->output) {
	case OUT_CSV:
		fputs("trace,policy,frames,refs,faults,miss_ratio,writebacks,major,minor,"
		      "soft_faults,lat_mean_us,lat_p50_us,lat_p99_us,wall_s,trap,exit_rtt_us", stdout);
		/* Only with --inject or a pool, so that other runs keep their columns. */
		if (o->ninject)
			fputs(",pagein_errors,writeback_errors,pgerr_delivered,pgerr_reported", stdout);
		if (vm->pool_high)
			fputs(",pool_reclaims,pool_waits,direct_reclaims", stdout);
		if (o->layout_given)
			fputs(",swap_layout,slot_writes,write_runs,slot_moves,swap_seeks", stdout);
		if (vm->disk_depth)
			fputs(",disk_depth,disk_sched,disk_requests,disk_batches,disk_mean_queue,"
			      "disk_seeks,disk_seek_distance", stdout);
		if (vm->pager_addr)
			fputs(",pager_writeback_errors,pager_pagein_errors,pgerr_delivered,"
			      "pgerr_reported", stdout);
		if (vm->prefetch_given)
			fputs(",prefetch,pf_calls,pf_accessible,pf_issued,pf_inflight,pf_pressure,"
			      "pf_useful,pf_late,pf_wasted,pf_failed,pf_unused,phase_s", stdout);
		if (vm->workload == WL_BLOCKIO)
			fputs(",read_batch,bio_requests,bio_reads,bio_read_errors,bio_upcalls,"
			      "bio_upcalls_acked,bio_writes,bio_write_errors,bio_syncs,bio_sync_errors,"
			      "phase_s", stdout);
		if (vm->vcpus) {
			fputs(",vcpus,collided", stdout);
			for (uint32_t i = 0; i < r->nvcpus; i++)
				printf(",vcpu%u_refs,vcpu%u_faults,vcpu%u_major,vcpu%u_stall_s", i, i, i, i);
		}
		if (vm->threads || vm->async_pf)
			fputs(",threads,async_pf,async_faults,apf_ready,apf_failed,apf_halts,"
			      "apf_idle_s,apf_idle_cpu_s,vcpu_cpu_s,refs_per_s,apf_sync_major", stdout);
		putchar('\n');
		csv_field(stdout, name);
		printf(",%s,%u,%llu,%llu,%.6f,%llu,%llu,%llu,%llu,%.2f,%.2f,%.2f,%.6f,%s,%.2f",
		       vm->policy->name, vm->nframes, (unsigned long long)st->refs,
		       (unsigned long long)st->faults, miss_ratio(st),
		       (unsigned long long)st->writebacks, (unsigned long long)st->major,
		       (unsigned long long)st->minor, (unsigned long long)r->soft_faults,
		       r->lat_mean_us, r->lat_p50_us, r->lat_p99_us, r->wall_s, vm->trap->name,
		       r->exit_rtt_us);
		if (o->ninject)
			printf(",%llu,%llu,%llu,%llu", (unsigned long long)st->pagein_errors,
			       (unsigned long long)st->writeback_errors,
			       (unsigned long long)r->pgerr_delivered,
			       (unsigned long long)r->pgerr_reported);
		if (vm->pool_high)
			printf(",%llu,%llu,%llu", (unsigned long long)st->pool_reclaims,
			       (unsigned long long)st->pool_waits,
			       (unsigned long long)st->direct_reclaims);
		if (o->layout_given)
			printf(",%s,%llu,%llu,%llu,%llu", swap_layout_name(vm->swap_layout),
			       (unsigned long long)r->swap_layout.writes,
			       (unsigned long long)r->swap_layout.runs,
			       (unsigned long long)r->swap_layout.moves,
			       (unsigned long long)r->swap_seeks);
		if (vm->disk_depth)
			printf(",%u,%s,%llu,%llu,%.3f,%llu,%llu", vm->disk_depth,
			       io_sched_name(vm->disk_sched), (unsigned long long)r->disk.requests,
			       (unsigned long long)r->disk.batches, io_mean_queue(&r->disk),
			       (unsigned long long)r->disk.seeks,
			       (unsigned long long)r->disk.seek_distance);
		if (vm->pager_addr)
			printf(",%llu,%llu,%llu,%llu", (unsigned long long)r->remote_writeback_errors,
			       (unsigned long long)st->pagein_errors,
			       (unsigned long long)r->pgerr_delivered,
			       (unsigned long long)r->pgerr_reported);
		if (vm->prefetch_given) {
			const struct blockio_stats *b = &r->bio;

			printf(",%u,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%.6f", vm->prefetch,
			       (unsigned long long)b->pf_calls, (unsigned long long)b->pf_accessible,
			       (unsigned long long)b->pf_issued, (unsigned long long)b->pf_inflight,
			       (unsigned long long)b->pf_pressure, (unsigned long long)b->pf_useful,
			       (unsigned long long)b->pf_late,
			       (unsigned long long)b->pf_wasted, (unsigned long long)b->pf_failed,
			       (unsigned long long)b->pf_unused, phase_s(r));
		}
		if (vm->workload == WL_BLOCKIO) {
			const struct blockio_stats *b = &r->bio;

			printf(",%u,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%.6f", vm->read_batch,
			       (unsigned long long)b->read_requests, (unsigned long long)b->reads,
			       (unsigned long long)b->read_errors, (unsigned long long)b->upcalls,
			       (unsigned long long)b->upcalls_acked, (unsigned long long)b->writes,
			       (unsigned long long)b->write_errors, (unsigned long long)b->syncs,
			       (unsigned long long)b->sync_errors, phase_s(r));
		}
		if (vm->vcpus) {
			printf(",%u,%llu", r->nvcpus, (unsigned long long)st->collided);
			for (uint32_t i = 0; i < r->nvcpus; i++)
				printf(",%llu,%llu,%llu,%.6f", (unsigned long long)r->vcpu[i].refs,
				       (unsigned long long)r->vcpu[i].faults,
				       (unsigned long long)r->vcpu[i].major, r->vcpu[i].stall_s);
		}
		if (vm->threads || vm->async_pf)
			printf(",%u,%d,%llu,%llu,%llu,%llu,%.6f,%.6f,%.6f,%.1f,%llu",
			       vm->threads ? vm->threads : 1, vm->async_pf,
			       (unsigned long long)r->async_faults, (unsigned long long)r->apf_ready,
			       (unsigned long long)r->apf_failed, (unsigned long long)r->apf_halts,
			       r->apf_idle_s, r->apf_idle_cpu_s, vcpu_cpu_s(r), refs_per_s(r),
			       (unsigned long long)r->apf_sync_major);
		putchar('\n');
		break;
	case OUT_JSON:
		fputs("{\"trace\": ", stdout);
		json_string(stdout, name);
		printf(", \"policy\": \"%s\", \"frames\": %u, \"refs\": %llu, \"faults\": %llu, "
		       "\"miss_ratio\": %.6f, \"writebacks\": %llu, \"major\": %llu, \"minor\": %llu, "
		       "\"soft_faults\": %llu, \"lat_mean_us\": %.2f, \"lat_p50_us\": %.2f, "
		       "\"lat_p99_us\": %.2f, \"wall_s\": %.6f, \"trap\": \"%s\", "
		       "\"exit_rtt_us\": %.2f",
		       vm->policy->name, vm->nframes, (unsigned long long)st->refs,
		       (unsigned long long)st->faults, miss_ratio(st),
		       (unsigned long long)st->writebacks, (unsigned long long)st->major,
		       (unsigned long long)st->minor, (unsigned long long)r->soft_faults,
		       r->lat_mean_us, r->lat_p50_us, r->lat_p99_us, r->wall_s, vm->trap->name,
		       r->exit_rtt_us);
		if (o->ninject)
			printf(", \"pagein_errors\": %llu, \"writeback_errors\": %llu, "
			       "\"pgerr_delivered\": %llu, \"pgerr_reported\": %llu",
			       (unsigned long long)st->pagein_errors,
			       (unsigned long long)st->writeback_errors,
			       (unsigned long long)r->pgerr_delivered,
			       (unsigned long long)r->pgerr_reported);
		if (vm->pool_high)
			printf(", \"pool_reclaims\": %llu, \"pool_waits\": %llu, "
			       "\"direct_reclaims\": %llu", (unsigned long long)st->pool_reclaims,
			       (unsigned long long)st->pool_waits,
			       (unsigned long long)st->direct_reclaims);
		if (o->layout_given)
			printf(", \"swap_layout\": \"%s\", \"slot_writes\": %llu, "
			       "\"write_runs\": %llu, \"slot_moves\": %llu, \"swap_seeks\": %llu",
			       swap_layout_name(vm->swap_layout),
			       (unsigned long long)r->swap_layout.writes,
			       (unsigned long long)r->swap_layout.runs,
			       (unsigned long long)r->swap_layout.moves,
			       (unsigned long long)r->swap_seeks);
		if (vm->disk_depth)
			printf(", \"disk_depth\": %u, \"disk_sched\": \"%s\", \"disk_requests\": %llu, "
			       "\"disk_batches\": %llu, \"disk_mean_queue\": %.3f, \"disk_seeks\": %llu, "
			       "\"disk_seek_distance\": %llu", vm->disk_depth,
			       io_sched_name(vm->disk_sched), (unsigned long long)r->disk.requests,
			       (unsigned long long)r->disk.batches, io_mean_queue(&r->disk),
			       (unsigned long long)r->disk.seeks,
			       (unsigned long long)r->disk.seek_distance);
		if (vm->pager_addr)
			printf(", \"pager_writeback_errors\": %llu, \"pager_pagein_errors\": %llu, "
			       "\"pgerr_delivered\": %llu, \"pgerr_reported\": %llu",
			       (unsigned long long)r->remote_writeback_errors,
			       (unsigned long long)st->pagein_errors,
			       (unsigned long long)r->pgerr_delivered,
			       (unsigned long long)r->pgerr_reported);
		if (vm->prefetch_given) {
			const struct blockio_stats *b = &r->bio;

			printf(", \"prefetch\": %u, \"pf_calls\": %llu, \"pf_accessible\": %llu, "
			       "\"pf_issued\": %llu, \"pf_inflight\": %llu, \"pf_pressure\": %llu, "
			       "\"pf_useful\": %llu, \"pf_late\": %llu, \"pf_wasted\": %llu, \"pf_failed\": %llu, "
			       "\"pf_unused\": %llu, \"phase_s\": %.6f", vm->prefetch,
			       (unsigned long long)b->pf_calls, (unsigned long long)b->pf_accessible,
			       (unsigned long long)b->pf_issued, (unsigned long long)b->pf_inflight,
			       (unsigned long long)b->pf_pressure, (unsigned long long)b->pf_useful,
			       (unsigned long long)b->pf_late,
			       (unsigned long long)b->pf_wasted, (unsigned long long)b->pf_failed,
			       (unsigned long long)b->pf_unused, phase_s(r));
		}
		if (vm->workload == WL_BLOCKIO) {
			const struct blockio_stats *b = &r->bio;

			printf(", \"read_batch\": %u, \"bio_requests\": %llu, \"bio_reads\": %llu, "
			       "\"bio_read_errors\": %llu, \"bio_upcalls\": %llu, "
			       "\"bio_upcalls_acked\": %llu, \"bio_writes\": %llu, "
			       "\"bio_write_errors\": %llu, \"bio_syncs\": %llu, "
			       "\"bio_sync_errors\": %llu, \"phase_s\": %.6f", vm->read_batch,
			       (unsigned long long)b->read_requests, (unsigned long long)b->reads,
			       (unsigned long long)b->read_errors, (unsigned long long)b->upcalls,
			       (unsigned long long)b->upcalls_acked, (unsigned long long)b->writes,
			       (unsigned long long)b->write_errors, (unsigned long long)b->syncs,
			       (unsigned long long)b->sync_errors, phase_s(r));
		}
		if (vm->vcpus) {
			printf(", \"vcpus\": %u, \"collided\": %llu, \"vcpu\": [", r->nvcpus,
			       (unsigned long long)st->collided);
			for (uint32_t i = 0; i < r->nvcpus; i++)
				printf("%s{\"refs\": %llu, \"faults\": %llu, \"major\": %llu, "
				       "\"stall_s\": %.6f}", i ? ", " : "",
				       (unsigned long long)r->vcpu[i].refs,
				       (unsigned long long)r->vcpu[i].faults,
				       (unsigned long long)r->vcpu[i].major, r->vcpu[i].stall_s);
			putchar(']');
		}
		if (vm->threads || vm->async_pf)
			printf(", \"threads\": %u, \"async_pf\": %s, \"async_faults\": %llu, "
			       "\"apf_ready\": %llu, \"apf_failed\": %llu, \"apf_halts\": %llu, "
			       "\"apf_idle_s\": %.6f, \"apf_idle_cpu_s\": %.6f, \"vcpu_cpu_s\": %.6f, "
			       "\"refs_per_s\": %.1f", vm->threads ? vm->threads : 1,
			       vm->async_pf ? "true" : "false", (unsigned long long)r->async_faults,
			       (unsigned long long)r->apf_ready, (unsigned long long)r->apf_failed,
			       (unsigned long long)r->apf_halts, r->apf_idle_s, r->apf_idle_cpu_s,
			       vcpu_cpu_s(r), refs_per_s(r));
		fputs("}\n", stdout);
		break;
	case OUT_TABLE:
		printf("%-12s %-8s %7s %10s %9s %10s %10s %9s %9s %9s %9s %9s %9s %8s\n", "trace",
		       "policy", "frames", "refs", "faults", "miss_ratio", "writebacks", "major",
		       "minor", "soft", "lat_us", "p50_us", "p99_us", "wall_s");
		printf("%-12s %-8s %7u %10llu %9llu %10.6f %10llu %9llu %9llu %9llu %9.1f %9.1f %9.1f %8.3f\n",
		       name, vm->policy->name, vm->nframes, (unsigned long long)st->refs,
		       (unsigned long long)st->faults, miss_ratio(st),
		       (unsigned long long)st->writebacks, (unsigned long long)st->major,
		       (unsigned long long)st->minor, (unsigned long long)r->soft_faults,
		       r->lat_mean_us, r->lat_p50_us, r->lat_p99_us, r->wall_s);
		if (r->exit_rtt_us > 0)
			printf("bare exit round trip: %.2f us\n", r->exit_rtt_us);
		if (o->ninject)
			printf("I/O errors: %llu page-in (%llu delivered to the guest, %llu reported "
			       "by it), %llu write-back\n", (unsigned long long)st->pagein_errors,
			       (unsigned long long)r->pgerr_delivered,
			       (unsigned long long)r->pgerr_reported,
			       (unsigned long long)st->writeback_errors);
		if (vm->pool_high)
			printf("pool: %llu faults reclaimed from the pool (minor, no I/O), %llu waited "
			       "for a write-back, %llu ran the policy themselves\n",
			       (unsigned long long)st->pool_reclaims,
			       (unsigned long long)st->pool_waits,
			       (unsigned long long)st->direct_reclaims);
		if (o->layout_given)
			printf("swap: %s layout, %llu slot writes in %llu runs of consecutive slots, "
			       "%llu moves, %llu seeks\n", swap_layout_name(vm->swap_layout),
			       (unsigned long long)r->swap_layout.writes,
			       (unsigned long long)r->swap_layout.runs,
			       (unsigned long long)r->swap_layout.moves,
			       (unsigned long long)r->swap_seeks);
		if (vm->disk_depth)
			printf("disk: depth %u, %s, %llu requests in %llu batches, mean queue %.3f, "
			       "%llu seeks over %llu blocks\n", vm->disk_depth,
			       io_sched_name(vm->disk_sched), (unsigned long long)r->disk.requests,
			       (unsigned long long)r->disk.batches, io_mean_queue(&r->disk),
			       (unsigned long long)r->disk.seeks,
			       (unsigned long long)r->disk.seek_distance);
		if (vm->prefetch_given) {
			const struct blockio_stats *b = &r->bio;

			printf("prefetch: distance %u, %llu calls: %llu accessible, %llu reads started "
			       "(%llu useful, %llu of them late, %llu wasted, %llu failed, %llu unused at the end), %llu "
			       "already in flight, %llu refused under memory pressure; reads took %.6f s\n",
			       vm->prefetch,
			       (unsigned long long)b->pf_calls, (unsigned long long)b->pf_accessible,
			       (unsigned long long)b->pf_issued, (unsigned long long)b->pf_useful,
			       (unsigned long long)b->pf_late,
			       (unsigned long long)b->pf_wasted, (unsigned long long)b->pf_failed,
			       (unsigned long long)b->pf_unused, (unsigned long long)b->pf_inflight,
			       (unsigned long long)b->pf_pressure, phase_s(r));
		}
		if (vm->workload == WL_BLOCKIO) {
			const struct blockio_stats *b = &r->bio;

			printf("blockio: %llu read_pages requests started %llu reads in %.6f s "
			       "(batch %u), %llu failed (%llu upcalls, %llu acknowledged); %llu "
			       "write-behinds, %llu failed; %llu syncs, %llu returned an error\n",
			       (unsigned long long)b->read_requests, (unsigned long long)b->reads,
			       phase_s(r), vm->read_batch, (unsigned long long)b->read_errors,
			       (unsigned long long)b->upcalls, (unsigned long long)b->upcalls_acked,
			       (unsigned long long)b->writes, (unsigned long long)b->write_errors,
			       (unsigned long long)b->syncs, (unsigned long long)b->sync_errors);
		}
		if (vm->vcpus) {
			printf("vcpus: %u, %llu faults waited for another's read of their page\n",
			       r->nvcpus, (unsigned long long)st->collided);
			for (uint32_t i = 0; i < r->nvcpus; i++)
				printf("  vcpu %u: %llu refs, %llu faults (%llu major), stalled %.3f s\n",
				       i, (unsigned long long)r->vcpu[i].refs,
				       (unsigned long long)r->vcpu[i].faults,
				       (unsigned long long)r->vcpu[i].major, r->vcpu[i].stall_s);
		}
		if (vm->threads || vm->async_pf)
			printf("threads: %u per vCPU, async PF %s: %llu faults taken asynchronously "
			       "(%llu reads failed), %llu halts for %.3f s (%.3f s of CPU), "
			       "%.0f refs/s\n", vm->threads ? vm->threads : 1,
			       vm->async_pf ? "on" : "off", (unsigned long long)r->async_faults,
			       (unsigned long long)r->apf_failed, (unsigned long long)r->apf_halts,
			       r->apf_idle_s, r->apf_idle_cpu_s, refs_per_s(r));
		break;
	}
}

static int run_main(int argc, char **argv)
{
	struct run_opts o = {
		.vm = {
			.npages = DEFAULT_PAGES,
			.nframes = DEFAULT_FRAMES,
			.seed = 1,
			.params = POLICY_PARAMS_DEFAULT,
			.trap = &trap_kvm_ops,
			.corrupt_page = -1,
		},
		.policy = "clock",
	};
	struct loaded_trace lt = { 0 };
	struct outfile record_of, fault_log_of;
	struct vmm_result res;
	char err[700];
	bool ran;
	int rc;

	rc = parse_args(argc, argv, &o);
	if (rc) {
		free(o.inject);
		return rc < 0 ? EXIT_OK : rc;
	}
	if (o.trace_path) {
		rc = load_trace(&o, &lt);
		if (rc) {
			free(o.inject);
			return rc;
		}
		o.vm.trace = lt.refs;
		o.vm.trace_len = lt.n;
		o.vm.npages = lt.npages;
		o.vm.page_ids = lt.ids;
		if (o.vm.policy->flags & POLICY_NEEDS_FUTURE) {
			lt.next_use = malloc(sizeof(*lt.next_use) * lt.n);
			if (!lt.next_use || sim_next_use(lt.refs, lt.n, lt.npages, lt.next_use) != 0) {
				loaded_trace_free(&lt);
				free(o.inject);
				return cli_usage_error("run", "out of memory for the trace's future");
			}
			o.vm.next_use = lt.next_use;
		}
	}
	if (o.record_path) {
		o.vm.record = outfile_fopen(&record_of, o.record_path, err, sizeof(err));
		if (!o.vm.record) {
			rc = cli_usage_error("run", "--record %s", err);
			loaded_trace_free(&lt);
			free(o.inject);
			return rc;
		}
	}
	if (o.fault_log_path) {
		o.vm.fault_log = outfile_fopen(&fault_log_of, o.fault_log_path, err, sizeof(err));
		if (!o.vm.fault_log) {
			rc = cli_usage_error("run", "--fault-log %s", err);
			if (o.vm.record) {
				outfile_abort(&record_of);
				fclose(o.vm.record);
			}
			loaded_trace_free(&lt);
			free(o.inject);
			return rc;
		}
	}

	switch (vmm_run(&o.vm, &res, err, sizeof(err))) {
	case VMM_OK: rc = EXIT_OK; break;
	case VMM_NOT_STARTED: rc = EXIT_USAGE; break;
	default: rc = EXIT_FAIL; break;
	}
	ran = rc == EXIT_OK || res.guest_errors || res.guest_gave_up;
	if (ran)
		print_result(&o, o.trace_path ? o.trace_path : vmm_workload_name(o.vm.workload), &res);
	if (o.ninject)
		print_io_errors(&res);
	if (res.remote && res.remote_writeback_errors)
		fprintf(stderr, "pflab run: the pager server reported %llu failed write-backs (the "
			"pages stay dirty at the server)\n",
			(unsigned long long)res.remote_writeback_errors);
	if (o.vm.map_path && (rc == EXIT_OK || res.guest_errors))
		mapfile_print(stderr, o.vm.map_path, &res.mapfile, res.stats.writebacks);
	if (o.vm.dma && (rc == EXIT_OK || res.guest_errors))
		dma_print(stderr, o.vm.dma, &res.dma, &res.stats);
	free(res.io_errors);
	free(o.inject);
	if (rc != EXIT_OK)
		fprintf(stderr, "pflab run: %s\n", err);
	/* The record (a trace) is kept when the guest ran to its end, a
	 * failed check's too: it is what the guest did. The fault log is kept
	 * once the guest started, a crash's or a timeout's too: it says what
	 * happened up to then. A run that never started leaves neither. */
	rc = cli_output_close("run", "--record", &record_of, o.vm.record, ran, rc);
	rc = cli_output_close("run", "--fault-log", &fault_log_of, o.vm.fault_log, rc != EXIT_USAGE, rc);
	loaded_trace_free(&lt);
	return rc;
}

static const struct command run_cmd = {
	.name = "run",
	.summary = "run the guest under KVM, its faults served by the host pager",
	.main = run_main,
};
COMMAND_REGISTER(run_cmd);
