// SPDX-License-Identifier: MIT
/* The registry of replacement policies, gathered by the linker. */
#include "policy.h"

#include <stdlib.h>
#include <string.h>

/* Defined by the linker for the section POLICY_REGISTER() fills. */
extern const struct policy_ops *const __start_pflab_policies[];
extern const struct policy_ops *const __stop_pflab_policies[];

const struct policy_ops *policy_find(const char *name)
{
	for (const struct policy_ops *const *op = __start_pflab_policies;
	     op < __stop_pflab_policies; op++)
		if (strcmp((*op)->name, name) == 0)
			return *op;
	return NULL;
}

static int by_name(const void *a, const void *b)
{
	const struct policy_ops *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

size_t policy_list(const struct policy_ops **out, size_t max)
{
	size_t n = 0;

	for (const struct policy_ops *const *op = __start_pflab_policies;
	     op < __stop_pflab_policies && n < max; op++)
		out[n++] = *op;
	qsort(out, n, sizeof(*out), by_name);
	return n;
}
