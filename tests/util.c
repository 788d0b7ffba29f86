// SPDX-License-Identifier: MIT
/* Helpers shared by the test files: running the CLI, scratch files. */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

const char *pflab_path(void)
{
	const char *p = getenv("PFLAB");

	return p && *p ? p : "build/pflab";
}

const char *build_dir(void)
{
	const char *b = getenv("BUILD");

	return b && *b ? b : "build";
}

const char *shared_traces(void)
{
	const char *d = getenv("PFLAB_SHARED_TRACES");
	struct stat st;

	if (!d || !*d)
		d = "../shared/traces";
	return stat(d, &st) == 0 && S_ISDIR(st.st_mode) ? d : NULL;
}

static char scratch[256];

static void remove_scratch(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", scratch);
}

const char *scratch_dir(void)
{
	if (!scratch[0]) {
		snprintf(scratch, sizeof(scratch), "%s/test-scratch-XXXXXX", build_dir());
		if (!mkdtemp(scratch)) {
			perror("mkdtemp");
			exit(2);
		}
		atexit(remove_scratch);
	}
	return scratch;
}

void check_refused(const struct refused *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct cmd_result r = run_pflab("%s", cases[i].args);

		CU_ASSERT_EQUAL(r.status, 2);
		CU_ASSERT_STRING_EQUAL(r.err, cases[i].err);
		if (r.status != 2 || strcmp(r.err, cases[i].err))
			printf("\n  pflab %s: status %d, stderr \"%s\"\n", cases[i].args, r.status,
			       r.err);
		cmd_result_free(&r);
	}
}

char *write_file(const char *name, const char *text)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", scratch_dir(), name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) == EOF || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
	return path;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t cap = 4096, len = 0, n;
	char *buf = malloc(cap);

	if (!f || !buf) {
		perror(path);
		exit(2);
	}
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 2 && !(buf = realloc(buf, cap *= 2))) {
			perror("realloc");
			exit(2);
		}
	}
	buf[len] = '\0';
	fclose(f);
	return buf;
}

static struct cmd_result run_vshell(const char *prefix, const char *fmt, va_list ap)
{
	struct cmd_result r = { 0 };
	char out[512], err[512], *args, *cmd;
	int st;

	snprintf(out, sizeof(out), "%s/cmd.out", scratch_dir());
	snprintf(err, sizeof(err), "%s/cmd.err", scratch_dir());
	if (vasprintf(&args, fmt, ap) < 0 ||
	    asprintf(&cmd, "%s%s </dev/null >'%s' 2>'%s'", prefix, args, out, err) < 0) {
		perror("asprintf");
		exit(2);
	}
	st = system(cmd);
	free(args);
	free(cmd);
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r.out = slurp(out);
	r.err = slurp(err);
	return r;
}

struct cmd_result run_pflab(const char *fmt, ...)
{
	char prefix[600];
	struct cmd_result r;
	va_list ap;

	snprintf(prefix, sizeof(prefix), "'%s' ", pflab_path());
	va_start(ap, fmt);
	r = run_vshell(prefix, fmt, ap);
	va_end(ap);
	return r;
}

struct cmd_result run_shell(const char *fmt, ...)
{
	struct cmd_result r;
	va_list ap;

	va_start(ap, fmt);
	r = run_vshell("", fmt, ap);
	va_end(ap);
	return r;
}

void cmd_result_free(struct cmd_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

bool kvm_usable(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		test_skip("no /dev/kvm: cannot open it read-write");
		return false;
	}
	close(fd);
	return true;
}

long long csv_value(const char *csv, const char *column)
{
	char header[1024], row[1024], *h, *r, *hs, *rs, *end;
	const char *nl = strchr(csv, '\n');
	size_t hl;

	if (!nl || (hl = (size_t)(nl - csv)) >= sizeof(header)) {
		printf("\n  csv_value(%s): no header line in \"%.80s\"\n", column, csv);
		CU_FAIL("csv_value: no header line");
		return -1;
	}
	memcpy(header, csv, hl);
	header[hl] = '\0';
	snprintf(row, sizeof(row), "%s", nl + 1);
	row[strcspn(row, "\n")] = '\0';
	for (h = strtok_r(header, ",", &hs), r = strtok_r(row, ",", &rs); h && r;
	     h = strtok_r(NULL, ",", &hs), r = strtok_r(NULL, ",", &rs)) {
		long long v;

		if (strcmp(h, column) != 0)
			continue;
		v = strtoll(r, &end, 10);
		if (end == r || (*end && *end != '.')) {
			printf("\n  csv_value(%s): \"%s\" is not a number\n", column, r);
			CU_FAIL("csv_value: not a number");
			return -1;
		}
		return v;
	}
	printf("\n  csv_value(%s): no such column (or no value) in \"%.200s\"\n", column, csv);
	CU_FAIL("csv_value: no such column");
	return -1;
}

uint64_t test_rng_next(struct test_rng *r)
{
	uint64_t z = (r->x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint32_t test_rng_below(struct test_rng *r, uint32_t n)
{
	return (uint32_t)(test_rng_next(r) % n);
}

bool pager_srv_start(struct pager_srv *s, unsigned frames, const char *extra)
{
	char fr[16];

	s->pid = -1;
	snprintf(s->dir, sizeof(s->dir), "/tmp/pflab-srv.XXXXXX");
	if (!mkdtemp(s->dir))
		return false;
	chmod(s->dir, 0755); /* for the tests that connect as another uid */
	snprintf(s->path, sizeof(s->path), "%s/p.sock", s->dir);
	snprintf(s->addr, sizeof(s->addr), "unix:%s", s->path);
	snprintf(fr, sizeof(fr), "%u", frames);
	s->pid = fork();
	if (s->pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		/* Dies with the tests, and holds none of their pipes. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(null, 1);
		dup2(null, 2);
		char words[256], *w[4] = { NULL }, *save = NULL;

		/* EXTRA: up to three options, separated by spaces. */
		snprintf(words, sizeof(words), "%s", extra ? extra : "");
		for (int k = 0; k < 3; k++)
			w[k] = strtok_r(k ? NULL : words, " ", &save);
		execl(pflab_path(), "pflab", "pager", "--listen", s->addr, "--frames", fr, w[0], w[1],
		      w[2], (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 1000; i++) { /* until it accepts: bound is not listening */
		struct sockaddr_un un = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

		memcpy(un.sun_path, s->path, strlen(s->path) + 1);
		ok = connect(fd, (struct sockaddr *)&un, sizeof(un)) == 0;
		close(fd);
		if (ok)
			return true;
		usleep(10000);
	}
	return false;
}

bool pager_srv_stop(struct pager_srv *s)
{
	int st = 0;
	struct stat sb;
	bool removed;

	if (s->pid <= 0) /* never started: kill(0) would stop the tests themselves */
		return false;
	kill(s->pid, SIGTERM);
	waitpid(s->pid, &st, 0);
	removed = stat(s->path, &sb) != 0;
	unlink(s->path);
	rmdir(s->dir);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 && removed;
}
