// SPDX-License-Identifier: MIT
/*
 * The balloon (pvirt.h): a domain's memory set step by step with
 * virDomainSetMemory, and at each step the guest kernel's own counters read
 * with virDomainMemoryStats. The counters are what Linux's virtio balloon
 * driver reports from /proc/vmstat and /proc/meminfo (pgmajfault,
 * pgfault - pgmajfault, pswpin and pswpout in KiB, MemFree): libvirt's
 * VIR_DOMAIN_MEMORY_STAT_* tags, documented in libvirt-domain.h; "actual"
 * is the balloon's size as QEMU sees it.
 */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pvirt_internal.h"

static const struct {
	int tag;
	const char *name;
} stats[PVIRT_NSTATS] = {
	[PVIRT_ACTUAL] = { VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON, "actual_kib" },
	[PVIRT_UNUSED] = { VIR_DOMAIN_MEMORY_STAT_UNUSED, "unused_kib" },
	[PVIRT_AVAILABLE] = { VIR_DOMAIN_MEMORY_STAT_AVAILABLE, "available_kib" },
	[PVIRT_MAJOR_FAULT] = { VIR_DOMAIN_MEMORY_STAT_MAJOR_FAULT, "major_fault" },
	[PVIRT_MINOR_FAULT] = { VIR_DOMAIN_MEMORY_STAT_MINOR_FAULT, "minor_fault" },
	[PVIRT_SWAP_IN] = { VIR_DOMAIN_MEMORY_STAT_SWAP_IN, "swap_in_kib" },
	[PVIRT_SWAP_OUT] = { VIR_DOMAIN_MEMORY_STAT_SWAP_OUT, "swap_out_kib" },
};

const char *pvirt_stat_name(enum pvirt_stat s)
{
	return s < PVIRT_NSTATS ? stats[s].name : "?";
}

void pvirt_memstats_decode(const virDomainMemoryStatStruct *raw, int n,
			   struct pvirt_memstats *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < n; i++)
		for (int s = 0; s < PVIRT_NSTATS; s++)
			if (raw[i].tag == stats[s].tag) {
				out->v[s] = raw[i].val;
				out->have |= 1u << s;
			}
}

int pvirt_memstats(struct pvirt_dom *d, struct pvirt_memstats *out, char *err, size_t errlen)
{
	virDomainMemoryStatStruct raw[VIR_DOMAIN_MEMORY_STAT_NR];
	int n = virDomainMemoryStats(pvirt_dom_raw(d), raw, VIR_DOMAIN_MEMORY_STAT_NR, 0);

	if (n < 0) {
		memset(out, 0, sizeof(*out));
		snprintf(err, errlen, "domain '%s': memory stats: %s", pvirt_dom_name(d),
			 virGetLastErrorMessage());
		return -1;
	}
	pvirt_memstats_decode(raw, n, out);
	return 0;
}

int pvirt_balloon_step(struct pvirt_dom *d, uint64_t kib, uint64_t settle_ns,
		       struct pvirt_memstats *out, char *err, size_t errlen)
{
	if (virDomainSetMemory(pvirt_dom_raw(d), (unsigned long)kib) != 0) {
		snprintf(err, errlen, "domain '%s': set memory to %llu KiB: %s", pvirt_dom_name(d),
			 (unsigned long long)kib, virGetLastErrorMessage());
		return -1;
	}
	if (settle_ns)
		nanosleep(&(struct timespec){ .tv_sec = (time_t)(settle_ns / 1000000000),
					      .tv_nsec = (long)(settle_ns % 1000000000) },
			  NULL);
	return pvirt_memstats(d, out, err, errlen);
}

int pvirt_sweep_sizes(uint64_t from, uint64_t to, size_t steps, uint64_t *sizes, char *err,
		      size_t errlen)
{
	if (steps < 2 || from == 0 || to == 0) {
		snprintf(err, errlen, "a sweep needs two sizes or more, none of them 0");
		return -1;
	}
	for (size_t i = 0; i < steps; i++) {
		unsigned __int128 span = from > to ? from - to : to - from;
		uint64_t delta = (uint64_t)(span * i / (steps - 1));

		sizes[i] = from > to ? from - delta : from + delta;
	}
	return 0;
}
