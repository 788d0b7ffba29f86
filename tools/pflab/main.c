// SPDX-License-Identifier: MIT
/*
 * pflab: a page-fault lab. This file only dispatches to the subcommands;
 * each lives in cmd_<name>.c and registers itself.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *out)
{
	const struct command *cmds[64];
	size_t n = command_list(cmds, 64);

	fputs("usage: pflab COMMAND [OPTIONS]\n\n"
	      "A page-fault lab: replacement policies on traces and on real KVM guest faults.\n\n"
	      "commands:\n", out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "  %-10s %s\n", cmds[i]->name, cmds[i]->summary);
	fputs("\n'pflab COMMAND --help' describes each. Documentation: docs/.\n", out);
}

int main(int argc, char **argv)
{
	const struct command *cmd;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	cmd = command_find(argv[1]);
	if (!cmd)
		return cli_usage_error(NULL, "unknown command '%s' (see pflab --help)", argv[1]);
	return cmd->main(argc - 1, argv + 1);
}
