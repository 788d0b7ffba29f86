// SPDX-License-Identifier: MIT
/*
 * pflab: a page-fault lab. This file only dispatches to the subcommands;
 * each lives in cmd_<name>.c and registers itself.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lab_proc.h"
#include "outfile.h"

/*
 * SIGINT, SIGTERM or SIGHUP: remove the temporary file of every output
 * being written (traces/outfile.h) and every temporary directory with what
 * it holds (lab_tempdir(): mrc's, the plot's, regress's, capture's, qemu's,
 * fleet's), then die of the signal as before, so that an interrupted
 * command leaves nothing behind, not even a hidden temporary file.
 * Commands that must stop a child first (capture and qemu while QEMU runs,
 * regress for SIGINT and SIGTERM) install their own handlers meanwhile and
 * remove their files themselves.
 */
static void remove_outputs(int sig)
{
	outfile_remove_all();
	lab_tempdir_remove_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void on_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction was;

		/* A signal ignored from the start (nohup's SIGHUP) stays so. */
		if (sigaction(sigs[i], NULL, &was) == 0 && was.sa_handler == SIG_IGN)
			continue;
		sigaction(sigs[i], &(struct sigaction){ .sa_handler = remove_outputs }, NULL);
	}
}

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
	on_signals();
	return cmd->main(argc - 1, argv + 1);
}
