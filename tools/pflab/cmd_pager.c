// SPDX-License-Identifier: MIT
/* pflab pager: run the paging server (vmm/server/server.h) until SIGINT or SIGTERM. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli.h"
#include "server.h"
#include "store_inject.h"

static const char pager_help[] =
	"usage: pflab pager --listen ADDR --frames N [options]\n"
	"\n"
	"Serve page faults to clients over a socket: each region a client registers\n"
	"gets its own pager (policy, counters) in a fixed partition of the N frames.\n"
	"Runs until SIGINT or SIGTERM; removes the Unix socket it made.\n"
	"\n"
	"  -l, --listen ADDR    unix:PATH (PATH must not exist) or tcp:HOST:PORT\n"
	"                       (tcp::PORT listens on 127.0.0.1 only)\n"
	"  -n, --frames N       the frame budget shared by every client\n"
	"      --max-pages P    the pages of all regions together, at most (default\n"
	"                       16777216): bounds what clients make the server allocate\n"
	"      --allow-uid U    accept Unix clients of uid U too (besides the server's\n"
	"                       own; up to 8 times)\n"
	"      --inject SPEC    each region's store fails chosen page-ins and write-backs\n"
	"                       (docs/faults.md): a failed page-in is an error to the\n"
	"                       faulting client, a failed write-back is reported to it\n"
	"      --port-file F    write the TCP port listened on into F (for tcp:HOST:0)\n"
	"  -v, --verbose        one line on stderr per connection and per error sent\n"
	"  -h, --help           this text\n"
	"\n"
	"Protocol and clients (pflab remote): docs/external-pager.md.\n";

static int pager_main(int argc, char **argv)
{
	enum { OPT_ALLOW_UID = 256, OPT_PORT_FILE, OPT_MAX_PAGES, OPT_INJECT };
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "frames", required_argument, NULL, 'n' },
		{ "allow-uid", required_argument, NULL, OPT_ALLOW_UID },
		{ "port-file", required_argument, NULL, OPT_PORT_FILE },
		{ "max-pages", required_argument, NULL, OPT_MAX_PAGES },
		{ "inject", required_argument, NULL, OPT_INJECT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct pserver_config cfg = { .max_pages = 1u << 24 };
	const char *addr = NULL, *port_file = NULL;
	struct pserver *s;
	char err[256];
	sigset_t set;
	uint64_t v;
	int c, sfd, rc;

	while ((c = cli_getopt("pager", argc, argv, "l:n:vh", longopts)) != -1) {
		switch (c) {
		case 'l': addr = optarg; break;
		case 'n':
			if (cli_parse_u64(optarg, 1, UINT32_MAX - 1, &v, err, sizeof(err)))
				return cli_usage_error("pager", "--frames: %s", err);
			cfg.frames = (uint32_t)v;
			break;
		case OPT_ALLOW_UID:
			if (cfg.nallow == PSERVER_MAX_UIDS)
				return cli_usage_error("pager", "--allow-uid: at most %d", PSERVER_MAX_UIDS);
			if (cli_parse_u64(optarg, 0, UINT32_MAX - 1, &v, err, sizeof(err)))
				return cli_usage_error("pager", "--allow-uid: %s", err);
			cfg.allow_uid[cfg.nallow++] = (uid_t)v;
			break;
		case OPT_PORT_FILE: port_file = optarg; break;
		case OPT_INJECT: {
			struct inject_rule *rules = NULL;
			size_t n = 0;

			if (inject_parse(optarg, &rules, &n, err, sizeof(err)) != 0)
				return cli_usage_error("pager", "--inject: %s", err);
			free(rules);
			cfg.inject = optarg;
			break;
		}
		case OPT_MAX_PAGES:
			if (cli_parse_u64(optarg, 1, 1ull << 40, &v, err, sizeof(err)))
				return cli_usage_error("pager", "--max-pages: %s", err);
			cfg.max_pages = v;
			break;
		case 'v': cfg.verbose = true; break;
		case 'h': fputs(pager_help, stdout); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("pager", "unexpected argument '%s'", argv[optind]);
	if (!addr)
		return cli_usage_error("pager", "--listen is required");
	if (!cfg.frames)
		return cli_usage_error("pager", "--frames is required");

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		return cli_fail("pager", "signalfd: %s", strerror(errno));
	s = pserver_create(addr, &cfg, err, sizeof(err));
	if (!s) {
		close(sfd);
		return cli_usage_error("pager", "%s", err);
	}
	if (port_file) {
		FILE *f = fopen(port_file, "wx"); /* never replaces a file */

		if (!f || fprintf(f, "%d\n", pserver_port(s)) < 0 || fclose(f) != 0) {
			pserver_destroy(s);
			close(sfd);
			return cli_usage_error("pager", "--port-file %s: %s", port_file, strerror(errno));
		}
	}
	rc = pserver_run(s, sfd, err, sizeof(err));
	pserver_destroy(s);
	close(sfd);
	return rc ? cli_fail("pager", "%s", err) : EXIT_OK;
}

static const struct command pager_cmd = {
	.name = "pager",
	.summary = "run the paging server: serve page faults to clients over a socket",
	.main = pager_main,
};
COMMAND_REGISTER(pager_cmd);
