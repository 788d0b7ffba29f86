// SPDX-License-Identifier: MIT
/* pflab pager: run the paging server (vmm/server/server.h) until SIGINT or SIGTERM. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "outfile.h"
#include "server.h"
#include "store_inject.h"

static const char pager_help[] =
	"usage: pflab pager --listen ADDR --frames N [options]\n"
	"\n"
	"Serve page faults to clients over a socket: each region a client registers\n"
	"gets its own pager (policy, counters); the N frames are shared as --alloc says.\n"
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
	"      --port-file F    write the TCP port listened on into F (for tcp:HOST:0);\n"
	"                       F must not exist; it is removed when the server ends\n"
	"      --alloc S        fixed (default: each region its frames, granted at\n"
	"                       registration), global (one CLOCK over every client's\n"
	"                       pages; regions may ask more than N together) or pff\n"
	"                       (global, and load control: a client is suspended while\n"
	"                       clients thrash; docs/external-pager.md) or ws (global,\n"
	"                       and load control by working set: clients are suspended\n"
	"                       while their working sets together exceed N)\n"
	"      --pff-high R     pff: faults/s above which a client thrashes (default 500)\n"
	"      --tau MS         ws: the working set's window (default 500)\n"
	"      --quantum MS     pff, ws: the longest suspension (default 1000; keep it below\n"
	"                       the clients' timeout)\n"
	"      --period MS      pff, ws and --series: the measuring period (default 100)\n"
	"      --series FILE    each period, a line per client: seconds, client,\n"
	"                       faults/s, suspended (0/1); written at exit\n"
	"      --keep-regions K regions whose pages may be kept past their client's\n"
	"                       close (a client's --pager-keep KEY; default 4, at most 64)\n"
	"      --keep-pages P   the pages of all kept regions together (default 65536)\n"
	"  -v, --verbose        one line on stderr per connection and per error sent\n"
	"  -h, --help           this text\n"
	"\n"
	"Protocol and clients (pflab remote): docs/external-pager.md.\n";

/*
 * --port-file: the port, written whole to a temporary file beside path and
 * then linked to path, which fails if path exists (a file is never
 * replaced); the temporary name is removed either way. *id gets the file's
 * identity, for remove_port_file. 0, or -1 with "path: reason".
 */
static int write_port_file(const char *path, int port, struct stat *id, char *err, size_t errlen)
{
	struct outfile f;
	char line[16];
	int n = snprintf(line, sizeof(line), "%d\n", port), e = 0;

	if (outfile_open(&f, path, err, errlen) != 0)
		return -1;
	if (write(f.fd, line, (size_t)n) != n)
		e = errno ? errno : EIO;
	if (close(f.fd) != 0 && !e)
		e = errno;
	f.fd = -1;
	if (!e && link(f.tmp, path) != 0)
		e = errno;
	outfile_abort(&f); /* the temporary name only; path, if linked, stays */
	if (!e && lstat(path, id) != 0)
		e = errno; /* (its ctime now: after the link and the unlink) */
	if (e) {
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -1;
	}
	return 0;
}

/* Remove the port file when the server ends, if it still is the one
 * written, not a file someone put there since (which may have got the
 * same inode number: its times tell it apart). */
static void remove_port_file(const char *path, const struct stat *id)
{
	struct stat st;

	if (lstat(path, &st) == 0 && st.st_dev == id->st_dev && st.st_ino == id->st_ino &&
	    st.st_size == id->st_size && st.st_nlink == id->st_nlink &&
	    st.st_mtim.tv_sec == id->st_mtim.tv_sec && st.st_mtim.tv_nsec == id->st_mtim.tv_nsec &&
	    st.st_ctim.tv_sec == id->st_ctim.tv_sec && st.st_ctim.tv_nsec == id->st_ctim.tv_nsec)
		unlink(path);
}

static int pager_main(int argc, char **argv)
{
	enum { OPT_ALLOW_UID = 256, OPT_PORT_FILE, OPT_MAX_PAGES, OPT_INJECT, OPT_ALLOC,
	       OPT_PFF_HIGH, OPT_QUANTUM, OPT_PERIOD, OPT_SERIES, OPT_KEEP_REGIONS,
	       OPT_KEEP_PAGES, OPT_TAU };
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "frames", required_argument, NULL, 'n' },
		{ "allow-uid", required_argument, NULL, OPT_ALLOW_UID },
		{ "port-file", required_argument, NULL, OPT_PORT_FILE },
		{ "max-pages", required_argument, NULL, OPT_MAX_PAGES },
		{ "inject", required_argument, NULL, OPT_INJECT },
		{ "alloc", required_argument, NULL, OPT_ALLOC },
		{ "pff-high", required_argument, NULL, OPT_PFF_HIGH },
		{ "quantum", required_argument, NULL, OPT_QUANTUM },
		{ "period", required_argument, NULL, OPT_PERIOD },
		{ "series", required_argument, NULL, OPT_SERIES },
		{ "keep-regions", required_argument, NULL, OPT_KEEP_REGIONS },
		{ "keep-pages", required_argument, NULL, OPT_KEEP_PAGES },
		{ "tau", required_argument, NULL, OPT_TAU },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct pserver_config cfg = { .max_pages = 1u << 24, .pff_high = 500, .quantum_ms = 1000,
				      .period_ms = 100, .keep_regions = 4, .keep_pages = 65536,
				      .tau_ms = 500 };
	const char *addr = NULL, *port_file = NULL, *series = NULL;
	struct outfile series_of;
	struct stat port_id;
	struct pserver *s;
	char err[1024];
	sigset_t set;
	uint64_t v;
	int c, sfd, rc;

	while ((c = cli_getopt("pager", argc, argv, "l:n:vh", longopts)) != -1) {
		switch (c) {
		case 'l': addr = optarg; break;
		case 'n':
			if (cli_opt_u32("pager", "--frames", optarg, 1, UINT32_MAX - 1,
					&cfg.frames))
				return EXIT_USAGE;
			break;
		case OPT_ALLOW_UID:
			if (cfg.nallow == PSERVER_MAX_UIDS)
				return cli_usage_error("pager", "--allow-uid: at most %d", PSERVER_MAX_UIDS);
			if (cli_opt_u64("pager", "--allow-uid", optarg, 0, UINT32_MAX - 1, &v))
				return EXIT_USAGE;
			cfg.allow_uid[cfg.nallow++] = (uid_t)v;
			break;
		case OPT_PORT_FILE: port_file = optarg; break;
		case OPT_ALLOC:
			if (strcmp(optarg, "fixed") == 0)
				cfg.alloc = PSERVER_FIXED;
			else if (strcmp(optarg, "global") == 0)
				cfg.alloc = PSERVER_GLOBAL;
			else if (strcmp(optarg, "pff") == 0)
				cfg.alloc = PSERVER_PFF;
			else if (strcmp(optarg, "ws") == 0)
				cfg.alloc = PSERVER_WS;
			else
				return cli_usage_error("pager", "--alloc: '%s' is not fixed, global, pff "
						       "or ws", optarg);
			break;
		case OPT_PFF_HIGH:
		case OPT_QUANTUM:
		case OPT_PERIOD:
		case OPT_TAU: {
			bool pff = c == OPT_PFF_HIGH, quantum = c == OPT_QUANTUM, tau = c == OPT_TAU;

			if (cli_opt_u32("pager", pff ? "--pff-high" : quantum ? "--quantum" :
					tau ? "--tau" : "--period", optarg, 1, 3600000,
					pff ? &cfg.pff_high : quantum ? &cfg.quantum_ms :
					tau ? &cfg.tau_ms : &cfg.period_ms))
				return EXIT_USAGE;
			break;
		}
		case OPT_SERIES: series = optarg; break;
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
		case OPT_KEEP_PAGES: {
			bool keep = c == OPT_KEEP_PAGES;

			if (cli_opt_u64("pager", keep ? "--keep-pages" : "--max-pages", optarg, !keep,
					1ull << 40, keep ? &cfg.keep_pages : &cfg.max_pages))
				return EXIT_USAGE;
			break;
		}
		case OPT_KEEP_REGIONS:
			if (cli_opt_u32("pager", "--keep-regions", optarg, 0, PSERVER_MAX_KEPT,
					&cfg.keep_regions))
				return EXIT_USAGE;
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
	if (series && outfile_check(series, err, sizeof(err)) != 0)
		return cli_usage_error("pager", "--series %s", err);
	if (port_file && !strcmp(port_file, "-"))
		return cli_usage_error("pager", "--port-file -: give a file, not standard output");
	if (port_file && outfile_check(port_file, err, sizeof(err)) != 0)
		return cli_usage_error("pager", "--port-file %s", err);
	if (port_file && access(port_file, F_OK) == 0)
		return cli_usage_error("pager", "--port-file %s: the file exists; pflab writes "
				       "only a port file it creates (and removes it at exit)",
				       port_file);

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		return cli_fail("pager", "signalfd: %s", strerror(errno));
	if (series) {
		cfg.series = outfile_fopen(&series_of, series, err, sizeof(err));
		if (!cfg.series) {
			close(sfd);
			return cli_usage_error("pager", "--series %s", err);
		}
		fputs("# seconds client faults_per_s suspended\n", cfg.series);
	}
	s = pserver_create(addr, &cfg, err, sizeof(err));
	if (!s) {
		if (cfg.series) {
			outfile_abort(&series_of);
			fclose(cfg.series);
		}
		close(sfd);
		return cli_usage_error("pager", "%s", err);
	}
	if (port_file && write_port_file(port_file, pserver_port(s), &port_id, err, sizeof(err))) {
		pserver_destroy(s);
		close(sfd);
		if (cfg.series) {
			outfile_abort(&series_of);
			fclose(cfg.series);
		}
		return cli_usage_error("pager", "--port-file %s", err);
	}
	rc = pserver_run(s, sfd, err, sizeof(err));
	pserver_destroy(s);
	close(sfd);
	if (port_file)
		remove_port_file(port_file, &port_id);
	if (rc && cfg.series) {
		outfile_abort(&series_of);
		fclose(cfg.series);
	}
	if (rc)
		return cli_fail("pager", "%s", err);
	if (cfg.series && outfile_fclose(&series_of, cfg.series, err, sizeof(err)) != 0)
		return cli_fail("pager", "--series %s", err);
	return EXIT_OK;
}

static const struct command pager_cmd = {
	.name = "pager",
	.summary = "run the paging server: serve page faults to clients over a socket",
	.main = pager_main,
};
COMMAND_REGISTER(pager_cmd);
