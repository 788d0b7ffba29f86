// SPDX-License-Identifier: MIT
/*
 * The host side of the standalone guest's protocol (qemu_guest.h; the
 * guest side is guest/standalone.c, which shares guest/abi.h with it).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../guest/abi.h"
#include "qemu_guest.h"

#define MIB (1024u * 1024u)
#define SLACK_MIB 16u   /* above the data region: the module, QEMU's ACPI tables */

int qemu_guest_cmdline(const struct qemu_guest_params *p, char *buf, size_t len)
{
	int n = snprintf(buf, len, "workload=%s pages=%" PRIu32 " passes=%" PRIu32 " seed=%" PRIu64
			 " nops=%" PRIu32, p->workload, p->pages, p->passes, p->seed, p->nops);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int qemu_guest_data_range(uint32_t pages, char *buf, size_t len)
{
	uint64_t end = PFLAB_DATA_BASE + (uint64_t)pages * PFLAB_PAGE_SIZE;
	int n = snprintf(buf, len, "%#x-%#" PRIx64, PFLAB_DATA_BASE, end);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

uint32_t qemu_guest_memory_mib(uint32_t pages, uint64_t module_bytes)
{
	uint64_t data = (uint64_t)pages * PFLAB_PAGE_SIZE;

	return (uint32_t)(PFLAB_DATA_BASE / MIB + (data + MIB - 1) / MIB +
			  (module_bytes + MIB - 1) / MIB + SLACK_MIB);
}

/* "KEY" then decimal digits (at most 19, no sign, no space) at *p; advances *p. */
static bool field(const char **p, const char *key, uint64_t *v)
{
	size_t n = strlen(key), digits = 0;

	if (strncmp(*p, key, n) != 0)
		return false;
	*p += n;
	*v = 0;
	while (**p >= '0' && **p <= '9' && digits < 19) {
		*v = *v * 10 + (uint64_t)(**p - '0');
		(*p)++;
		digits++;
	}
	return digits > 0 && !(**p >= '0' && **p <= '9');
}

bool qemu_guest_exit_parse(const char *line, struct qemu_guest_exit *e)
{
	uint64_t status, refs, errors;

	if (!field(&line, "pflab-exit status=", &status) || status > UINT32_MAX ||
	    !field(&line, " refs=", &refs) || !field(&line, " errors=", &errors) || *line)
		return false;
	*e = (struct qemu_guest_exit){ (uint32_t)status, refs, errors };
	return true;
}

int qemu_guest_module_write(int fd, const uint32_t *refs, size_t n)
{
	const char *p = (const char *)refs;
	size_t left = n * sizeof(*refs);

	/* x86-64 hosts only (QEMU runs the x86-64 guest here): already little-endian. */
	while (left) {
		ssize_t w = write(fd, p, left);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		p += w;
		left -= (size_t)w;
	}
	return 0;
}
