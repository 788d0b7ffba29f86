// SPDX-License-Identifier: MIT
/* pflab policies: list the replacement policies, one line each. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "policy.h"

static const char policies_help[] =
	"usage: pflab policies [--json]\n\n"
	"List the replacement policies, one per line: name, flags, summary.\n"
	"Flags: future = needs the whole trace (OPT); variable = resident set varies;\n"
	"hits = exact only where every reference is seen (the simulator).\n"
	"Definitions and sources: docs/policies.md.\n";

static int policies_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const struct policy_ops *ops[64];
	bool json = false;
	size_t n;
	int c;

	while ((c = cli_getopt("policies", argc, argv, "jh", longopts)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'h': fputs(policies_help, stdout); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("policies", "unexpected argument '%s'", argv[optind]);

	n = policy_list(ops, 64);
	if (json)
		fputs("[\n", stdout);
	for (size_t i = 0; i < n; i++) {
		unsigned fl = ops[i]->flags;
		char flags[40];

		snprintf(flags, sizeof(flags), "%s%s%s",
			 fl & POLICY_NEEDS_FUTURE ? "future," : "",
			 fl & POLICY_VARIABLE ? "variable," : "",
			 fl & POLICY_NEEDS_HITS ? "hits," : "");
		if (*flags)
			flags[strlen(flags) - 1] = '\0';
		if (json) {
			fputs("  {\"name\": ", stdout);
			json_string(stdout, ops[i]->name);
			fputs(", \"flags\": ", stdout);
			json_string(stdout, flags);
			fputs(", \"summary\": ", stdout);
			json_string(stdout, ops[i]->summary);
			printf("}%s\n", i + 1 < n ? "," : "");
		} else {
			printf("%-10s %-16s %s\n", ops[i]->name, *flags ? flags : "-", ops[i]->summary);
		}
	}
	if (json)
		fputs("]\n", stdout);
	return EXIT_OK;
}

static const struct command policies_cmd = {
	.name = "policies",
	.summary = "list the replacement policies",
	.main = policies_main,
};
COMMAND_REGISTER(policies_cmd);
