// SPDX-License-Identifier: MIT
/*
 * `--inject` rules (vmm/pager/store_inject.c): the input is the SPEC.
 * Properties: success gives at least one rule, each with a known operation
 * and trigger, a positive errno that has a name, and a failure limit; a
 * failure gives a one-line reason.
 */
#include "fuzz.h"

#include "store_inject.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *spec = fuzz_string(data, size), why[256] = "";
	struct inject_rule *rules = NULL;
	size_t n = 0;

	if (!spec)
		return 0;
	if (inject_parse(spec, &rules, &n, why, sizeof(why)) == 0) {
		FUZZ_CHECK(n >= 1 && rules);
		for (size_t i = 0; i < n; i++) {
			FUZZ_CHECK(rules[i].op == INJECT_READ || rules[i].op == INJECT_WRITE);
			FUZZ_CHECK(rules[i].trigger <= INJECT_PAGE);
			FUZZ_CHECK(rules[i].err > 0 && inject_errno_name(rules[i].err));
			FUZZ_CHECK(rules[i].times >= 1 && rules[i].fired == 0);
		}
	} else {
		FUZZ_CHECK(why[0]);
	}
	free(rules);
	free(spec);
	return 0;
}
