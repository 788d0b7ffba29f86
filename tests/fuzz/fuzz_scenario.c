// SPDX-License-Identifier: MIT
/*
 * Scenario files of `pflab regress` (tools/lab/lab_scenario.c): the
 * input is the file, parsed by scn_parse_file() as regress reads it.
 * Properties: a file that fails contributes nothing; each scenario parsed
 * has a name, its file and a command.
 */
#include "fuzz.h"

#include "lab_scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scn_set set = { 0 };
	char path[64];
	int fd = fuzz_memfile(data, size, path, sizeof(path));
	int rc;

	if (fd < 0)
		return 0;
	rc = scn_parse_file(&set, path);
	FUZZ_CHECK(rc == 0 || set.n == 0);
	for (size_t i = 0; i < set.n; i++) {
		const struct scenario *s = &set.s[i];

		FUZZ_CHECK(s->name && s->file && strcmp(s->file, path) == 0);
		FUZZ_CHECK(s->command == SCN_SIM || s->command == SCN_RUN);
	}
	scn_set_free(&set);
	close(fd);
	return 0;
}
