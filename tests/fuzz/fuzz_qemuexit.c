// SPDX-License-Identifier: MIT
/*
 * The standalone guest's exit line (vmm/qemu/qemu_guest.c,
 * qemu_guest_exit_parse): what pflab qemu reads on the guest's console to
 * decide how the guest ended. The input is one console line.
 *
 * Properties: an accepted line starts with "pflab-exit status=" and holds
 * no newline; the numbers printed back in the canonical form parse to the
 * same numbers.
 */
#include "fuzz.h"

#include "qemu_guest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1), again[128];
	struct qemu_guest_exit e, f;

	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	if (qemu_guest_exit_parse(line, &e)) {
		FUZZ_CHECK(strncmp(line, "pflab-exit status=", 18) == 0);
		FUZZ_CHECK(strlen(line) != size || !memchr(line, '\n', size));
		snprintf(again, sizeof(again), "pflab-exit status=%u refs=%llu errors=%llu", e.status,
			 (unsigned long long)e.refs, (unsigned long long)e.errors);
		FUZZ_CHECK(qemu_guest_exit_parse(again, &f));
		FUZZ_CHECK(f.status == e.status && f.refs == e.refs && f.errors == e.errors);
	}
	free(line);
	return 0;
}
