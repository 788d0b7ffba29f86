// SPDX-License-Identifier: MIT
/*
 * pflab regress: run a directory of regression scenarios (lab_scenario.h,
 * docs/lab.md#scenarios) through `pflab sim` or `pflab run`, report each as
 * PASS, FAIL (with a unified diff of what was expected against what came)
 * or SKIP (with the reason), and optionally write JUnit XML for CI.
 *
 * Every command runs in its own process, the pflab under test given by
 * --pflab, with a time limit: a hang or a crash is one failed scenario,
 * not a stuck run. Scenarios that need the KVM host are skipped, visibly,
 * where /dev/kvm or `pflab run` is not there.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "lab_diff.h"
#include "cmd_regress_faultseq.h"
#include "lab_junit.h"
#include "lab_outcome.h"
#include "lab_proc.h"
#include "lab_scenario.h"
#include "lab_table.h"
#include "outfile.h"
#include "trace.h"

#define DIFF_CONTEXT 3
#define MAX_ARGS 64

static const char regress_help[] =
	"usage: pflab regress DIR|FILE... [--junit FILE] [--pflab PATH]\n"
	"\n"
	"Run the regression scenarios of each DIR (its *.scenario files, in name\n"
	"order) or FILE through pflab sim or pflab run, and report each one:\n"
	"PASS, FAIL with a unified diff of expected against actual, or SKIP with\n"
	"the reason (a `command: run` scenario where /dev/kvm or pflab run is not\n"
	"available).\n"
	"\n"
	"  -j, --junit FILE     also write the results as JUnit XML, for CI\n"
	"      --pflab PATH     the pflab to test (default: this one)\n"
	"  -h, --help           this text\n"
	"\n"
	"The scenario format is in docs/lab.md#scenarios. Exit status: 0 every\n"
	"scenario passed (or was skipped), 1 some failed, 2 bad usage or a malformed\n"
	"scenario file (each problem reported as file:line: reason).\n";

struct regress {
	const char *pflab;
	char *tmp;
	int kvm_state;           /* 0 unknown, 1 usable, -1 not (why in no_kvm) */
	char no_kvm[300];
};

struct result {
	enum lab_outcome outcome;
	char message[400];       /* one line: the first thing wrong, or why skipped */
	char *detail;            /* the diffs (malloc'ed), or NULL */
	double seconds;
};

/* Lines of a text, trailing blanks and \r removed; in place. */
struct lines {
	char **v;
	size_t n;
};

/* Split text into its lines, in place. On running out of memory the
 * lines so far are kept: a comparison then fails, visibly. */
static void split_lines(char *text, struct lines *l)
{
	size_t cap = 16;

	*l = (struct lines){ .v = malloc(sizeof(*l->v) * cap) };
	if (!l->v)
		return;
	for (char *rest = text; rest && *rest;) {
		char *line = strsep(&rest, "\n"), *end = line + strlen(line);

		while (end > line && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (l->n == cap) {
			char **bigger = realloc(l->v, sizeof(*bigger) * cap * 2);

			if (!bigger)
				return;
			l->v = bigger;
			cap *= 2;
		}
		l->v[l->n++] = line;
	}
}

/* ------------------------------------------------------------ running */

static bool kvm_usable(struct regress *g)
{
	char out[PATH_MAX], err[PATH_MAX];
	char *argv[] = { (char *)g->pflab, "run", "--help", NULL };
	bool timed_out;
	int fd;

	if (g->kvm_state)
		return g->kvm_state > 0;
	g->kvm_state = -1;
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(g->no_kvm, sizeof(g->no_kvm), "no usable /dev/kvm (%s)", strerror(errno));
		return false;
	}
	close(fd);
	snprintf(out, sizeof(out), "%s/run-help.out", g->tmp);
	snprintf(err, sizeof(err), "%s/run-help.err", g->tmp);
	if (lab_run(argv, out, err, 30ull * 1000000000, &timed_out) != 0) {
		snprintf(g->no_kvm, sizeof(g->no_kvm), "pflab run is not available in %s", g->pflab);
		return false;
	}
	g->kvm_state = 1;
	return true;
}

/* Write an inline reference string as a trace: txt, or rw if it has writes. */
static int write_refs(const char *path, const char *refs, const char **format)
{
	char *copy = strdup(refs), *save = NULL;
	bool writes = strpbrk(refs, "wW") != NULL;
	FILE *f = fopen(path, "w");
	int rc = 0;

	if (!copy || !f) {
		free(copy);
		if (f)
			fclose(f);
		return -1;
	}
	*format = writes ? "rw" : "txt";
	for (char *tok = strtok_r(copy, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
		size_t len = strlen(tok);
		bool w = len > 1 && (tok[len - 1] == 'w' || tok[len - 1] == 'W');

		if (w)
			tok[len - 1] = '\0';
		if (writes)
			fprintf(f, "%c %s\n", w ? 'W' : 'R', tok);
		else
			fprintf(f, "%s\n", tok);
	}
	free(copy);
	if (ferror(f))
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

/* The command line of a scenario's main command. */
static int build_argv(const struct regress *g, const struct scenario *s, const char *trace,
		      const char *format, const char *record, char **argv, char *frames_buf)
{
	int argc = 0;

	argv[argc++] = (char *)g->pflab;
	argv[argc++] = s->command == SCN_RUN ? "run" : "sim";
	if (s->command == SCN_SIM) {
		argv[argc++] = (char *)trace;
	} else if (s->workload) {
		argv[argc++] = "--workload";
		argv[argc++] = s->workload;
	} else {
		argv[argc++] = "--trace";
		argv[argc++] = (char *)trace;
	}
	if (format) {
		argv[argc++] = "--format";
		argv[argc++] = (char *)format;
	}
	if (s->policy) {
		argv[argc++] = "--policy";
		argv[argc++] = s->policy;
	}
	if (s->frames) {
		sprintf(frames_buf, "%u", s->frames);
		argv[argc++] = "--frames";
		argv[argc++] = frames_buf;
	}
	if (s->trap) {
		argv[argc++] = "--trap";
		argv[argc++] = s->trap;
	}
	if (record) {
		argv[argc++] = "--record";
		argv[argc++] = (char *)record;
	}
	argv[argc++] = "--csv";
	for (size_t i = 0; i < s->nargs && argc < MAX_ARGS - 1; i++)
		argv[argc++] = s->args[i];
	argv[argc] = NULL;
	return argc;
}

static void print_command(FILE *out, char *const *argv)
{
	fputs("    $", out);
	for (int i = 0; argv[i]; i++) {
		fputc(' ', out);
		lab_shell_quote(out, argv[i]);
	}
	fputc('\n', out);
}

struct check {
	FILE *detail;            /* the diffs so far */
	struct result *r;
	const struct scenario *s;
};

/* Record a mismatch: the first one names the failure. */
static void mismatch(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void mismatch(struct check *c, const char *fmt, ...)
{
	va_list ap;

	if (c->r->outcome == LAB_FAIL)
		return;
	c->r->outcome = LAB_FAIL;
	va_start(ap, fmt);
	vsnprintf(c->r->message, sizeof(c->r->message), fmt, ap);
	va_end(ap);
}

static void diff_block(struct check *c, const char *what, unsigned line, const char *source,
		       const char *const *exp, size_t ne, const char *const *act, size_t na,
		       lab_line_eq *eq)
{
	fprintf(c->detail, "    --- expected %s (%s:%u)\n    +++ actual (%s)\n", what, c->s->file,
		line, source);
	lab_diff(c->detail, "    ", exp, ne, act, na, eq, DIFF_CONTEXT);
}

static void check_status(struct check *c, int status, bool timed_out, const char *err_text)
{
	int want = c->s->status_line ? c->s->status : 0;
	char e[32], a[64], tail[300];
	const char *ev = e, *av = a;

	if (timed_out) {
		mismatch(c, "timed out after %.0f s", (double)c->s->timeout_ns * 1e-9);
		fprintf(c->detail, "    timed out after %.3f s: killed\n",
			(double)c->s->timeout_ns * 1e-9);
		return;
	}
	if (status == want)
		return;
	lab_last_line(err_text, tail, sizeof(tail));
	mismatch(c, "exit status %d, expected %d%s%s", status, want, *tail ? ": " : "", tail);
	snprintf(e, sizeof(e), "exit status: %d", want);
	snprintf(a, sizeof(a), "exit status: %d", status);
	diff_block(c, "exit status", c->s->status_line ? c->s->status_line : c->s->line,
		   "the command", &ev, 1, &av, 1, lab_line_equal);
	if (*tail)
		fprintf(c->detail, "    (its last line on stderr: %s)\n", tail);
}

/* `expect COLUMN: VALUE` against the first row of the command's CSV. */
static void check_columns(struct check *c, const char *out_text, const char *source)
{
	const struct scenario *s = c->s;
	char *head[64], *row[64];
	const char *p = out_text;
	int nh, nr;
	char **exp, **act;
	bool differ = false;

	if (!s->ncolumns)
		return;
	nh = lab_csv_record(&p, head, 64);
	nr = nh > 0 ? lab_csv_record(&p, row, 64) : 0;
	exp = calloc(s->ncolumns, sizeof(*exp));
	act = calloc(s->ncolumns, sizeof(*act));
	for (size_t i = 0; exp && act && i < s->ncolumns; i++) {
		const char *name = s->columns[i].name, *got = NULL;

		for (int k = 0; k < nh && k < nr && !got; k++)
			if (!strcmp(head[k], name))
				got = row[k];
		if (asprintf(&exp[i], "%s: %s", name, s->columns[i].value) < 0)
			exp[i] = NULL;
		if (got ? asprintf(&act[i], "%s: %s", name, got) < 0
			: asprintf(&act[i], "%s: (%s)", name,
				   nr <= 0 ? "no CSV row in the output" : "no such column") < 0)
			act[i] = NULL;
		if (!exp[i] || !act[i])
			break;
		if (strcmp(exp[i], act[i])) {
			if (!differ)
				mismatch(c, "%s: expected %s, got %s", name, s->columns[i].value,
					 got ? got : "nothing");
			differ = true;
		}
	}
	if (differ)
		diff_block(c, "CSV columns", s->columns[0].line, source, (const char *const *)exp,
			   s->ncolumns, (const char *const *)act, s->ncolumns, lab_line_equal);
	for (size_t i = 0; i < s->ncolumns; i++) {
		if (exp)
			free(exp[i]);
		if (act)
			free(act[i]);
	}
	free(exp);
	free(act);
	if (nh > 0)
		lab_csv_free(head, nh);
	if (nr > 0)
		lab_csv_free(row, nr);
}

/* Expected lines must appear in order among the actual ones, others between. */
static void check_lines(struct check *c, const char *what, const struct scn_line *want,
			size_t nwant, const struct lines *got, const char *source)
{
	const char **exp;
	size_t k = 0;

	if (!nwant)
		return;
	for (size_t i = 0; i < got->n && k < nwant; i++)
		k += lab_line_glob(want[k].text, got->v[i]);
	if (k == nwant)
		return;
	mismatch(c, "%s lacks the line '%s'", what, want[k].text);
	exp = malloc(sizeof(*exp) * nwant);
	if (!exp)
		return;
	for (size_t i = 0; i < nwant; i++)
		exp[i] = want[i].text;
	diff_block(c, what, want[0].line, source, exp, nwant, (const char *const *)got->v, got->n,
		   lab_line_glob);
	fputs("    (expected lines must appear in this order; other lines may come between)\n",
	      c->detail);
	free(exp);
}

/* The page ids of a trace file (the faults pflab run recorded). */
static int read_ids(const char *path, struct lines *ids, char **storage, char *err, size_t errlen)
{
	struct trace_options opt = { .format = TRACE_AUTO, .page_size = 4096 };
	struct trace *t = trace_open(path, &opt, err, errlen);
	struct trace_ref buf[4096];
	size_t len = 0, cap = 4096;
	char *text = malloc(cap);
	ptrdiff_t n;

	if (!t || !text) {
		free(text);
		if (t)
			trace_close(t);
		return -1;
	}
	text[0] = '\0';
	while ((n = trace_read(t, buf, 4096)) > 0) {
		for (ptrdiff_t i = 0; i < n; i++) {
			if (cap - len < 32) {
				char *bigger = realloc(text, cap *= 2);

				if (!bigger) {
					n = -1;
					break;
				}
				text = bigger;
			}
			len += (size_t)snprintf(text + len, cap - len, "%llu\n",
						(unsigned long long)buf[i].page);
		}
		if (n < 0)
			break;
	}
	if (n < 0) {
		snprintf(err, errlen, "%s", trace_error(t));
		trace_close(t);
		free(text);
		return -1;
	}
	trace_close(t);
	*storage = text;
	split_lines(text, ids);
	return 0;
}

static void check_faults(struct check *c, struct regress *g, const char *trace, const char *format,
			 const char *record, size_t idx)
{
	const struct scenario *s = c->s;
	struct lines got = { 0 };
	char *text = NULL, why[600] = "", **exp;
	const char *source;
	size_t na;

	if (!s->seq_line)
		return;
	if (s->command == SCN_RUN) {
		source = "the faults pflab run --record wrote";
		if (read_ids(record, &got, &text, why, sizeof(why)) != 0) {
			mismatch(c, "no fault record: %s", why);
			fprintf(c->detail, "    no fault record: %s\n", why);
			return;
		}
	} else {
		char out[PATH_MAX], err[PATH_MAX], frames[16], *argv[MAX_ARGS + 16];
		int argc = 0, st;
		bool timed_out;

		source = "pflab regress --fault-sequence";
		snprintf(out, sizeof(out), "%s/%04zu.seq", g->tmp, idx);
		snprintf(err, sizeof(err), "%s/%04zu.seqerr", g->tmp, idx);
		snprintf(frames, sizeof(frames), "%u", s->frames);
		argv[argc++] = (char *)g->pflab;
		argv[argc++] = "regress";
		argv[argc++] = "--fault-sequence";
		argv[argc++] = (char *)trace;
		argv[argc++] = "--policy";
		argv[argc++] = s->policy;
		argv[argc++] = "--frames";
		argv[argc++] = frames;
		if (format) {
			argv[argc++] = "--format";
			argv[argc++] = (char *)format;
		}
		for (size_t i = 0; i < s->nargs && argc < MAX_ARGS; i++)
			argv[argc++] = s->args[i];
		argv[argc] = NULL;
		st = lab_run(argv, out, err, s->timeout_ns, &timed_out);
		if (st != 0) {
			char *e = lab_read_file(err, NULL);

			lab_last_line(e ? e : "", why, sizeof(why));
			free(e);
			mismatch(c, "no fault sequence: %s", *why ? why : "the replay failed");
			fprintf(c->detail, "    no fault sequence (status %d): %s\n", st, why);
			return;
		}
		text = lab_read_file(out, NULL);
		if (!text) {
			mismatch(c, "no fault sequence: %s", strerror(errno));
			return;
		}
		split_lines(text, &got);
	}
	exp = malloc(sizeof(*exp) * (s->nfaults_seq ? s->nfaults_seq : 1));
	for (size_t i = 0; exp && i < s->nfaults_seq; i++)
		if (asprintf(&exp[i], "%llu", (unsigned long long)s->faults_seq[i]) < 0)
			exp[i] = NULL;
	/* A prefix is compared with as many faults as it lists. */
	na = s->seq_is_prefix && got.n > s->nfaults_seq ? s->nfaults_seq : got.n;
	if (exp) {
		bool same = na == s->nfaults_seq;

		for (size_t i = 0; same && i < na; i++)
			same = exp[i] && !strcmp(exp[i], got.v[i]);
		if (!same) {
			size_t first = 0;

			while (first < na && first < s->nfaults_seq && exp[first] &&
			       !strcmp(exp[first], got.v[first]))
				first++;
			mismatch(c, "the fault sequence%s differs at fault %zu",
				 s->seq_is_prefix ? "'s prefix" : "", first + 1);
			diff_block(c, s->seq_is_prefix ? "fault-prefix" : "fault-seq", s->seq_line,
				   source, (const char *const *)exp, s->nfaults_seq,
				   (const char *const *)got.v, na, lab_line_equal);
			if (s->seq_is_prefix && got.n > na)
				fprintf(c->detail, "    (%zu later faults not compared)\n", got.n - na);
		}
		for (size_t i = 0; i < s->nfaults_seq; i++)
			free(exp[i]);
	}
	free(exp);
	free(got.v);
	free(text);
}

static void run_scenario(struct regress *g, const struct scenario *s, size_t idx, struct result *r)
{
	char trace_buf[PATH_MAX], out[PATH_MAX], err[PATH_MAX], rec[PATH_MAX], frames[16];
	char *argv[MAX_ARGS + 1], *out_text = NULL, *err_text = NULL, *detail = NULL;
	const char *trace = s->trace, *format = s->format, *record = NULL;
	struct lines err_lines = { 0 }, guest = { 0 }, out_lines = { 0 };
	char *out_copy = NULL, *err_copy = NULL;
	size_t detail_len = 0;
	struct check c = { .r = r, .s = s };
	double t0 = lab_now();
	bool timed_out;
	int status;

	*r = (struct result){ .outcome = LAB_PASS };
	if (s->command == SCN_RUN && !kvm_usable(g)) {
		r->outcome = LAB_SKIP;
		snprintf(r->message, sizeof(r->message), "%s", g->no_kvm);
		return;
	}
	c.detail = open_memstream(&detail, &detail_len);
	if (!c.detail) {
		r->outcome = LAB_FAIL;
		snprintf(r->message, sizeof(r->message), "out of memory");
		return;
	}
	if (s->refs) {
		const char *inline_format;

		snprintf(trace_buf, sizeof(trace_buf), "%s/%04zu.trace", g->tmp, idx);
		if (write_refs(trace_buf, s->refs, &inline_format) != 0) {
			mismatch(&c, "cannot write the reference string to %s", trace_buf);
			goto done;
		}
		trace = trace_buf;
		format = format ? format : inline_format;
	}
	snprintf(out, sizeof(out), "%s/%04zu.out", g->tmp, idx);
	snprintf(err, sizeof(err), "%s/%04zu.err", g->tmp, idx);
	if (s->command == SCN_RUN && s->seq_line) {
		snprintf(rec, sizeof(rec), "%s/%04zu.rec", g->tmp, idx);
		record = rec;
	}
	build_argv(g, s, trace, format, record, argv, frames);
	status = lab_run(argv, out, err, s->timeout_ns, &timed_out);
	if (status < 0) {
		mismatch(&c, "cannot run %s: %s", g->pflab, strerror(errno));
		goto done;
	}
	out_text = lab_read_file(out, NULL);
	err_text = lab_read_file(err, NULL);
	out_copy = out_text ? strdup(out_text) : NULL;
	err_copy = err_text ? strdup(err_text) : NULL;
	if (!out_text || !err_text || !out_copy || !err_copy) {
		mismatch(&c, "cannot read the command's output");
		goto done;
	}
	split_lines(out_copy, &out_lines);
	split_lines(err_copy, &err_lines);
	/* pflab run shows the guest's console on stderr as "guest| LINE". */
	guest.v = malloc(sizeof(*guest.v) * (err_lines.n ? err_lines.n : 1));
	for (size_t i = 0; guest.v && i < err_lines.n; i++)
		if (!strncmp(err_lines.v[i], "guest| ", 7))
			guest.v[guest.n++] = err_lines.v[i] + 7;

	check_status(&c, status, timed_out, err_text);
	if (!timed_out) {
		const char *source = s->command == SCN_RUN ? "pflab run --csv" : "pflab sim --csv";

		check_columns(&c, out_text, source);
		check_faults(&c, g, trace, format, record, idx);
		check_lines(&c, "stdout", s->out_lines, s->nout, &out_lines, "standard output");
		check_lines(&c, "stderr", s->err_lines, s->nerr, &err_lines, "standard error");
		check_lines(&c, "guest output", s->guest_lines, s->nguest, &guest,
			    "the guest's console, 'guest| ' lines on stderr");
	}
	if (r->outcome == LAB_FAIL) {
		print_command(c.detail, argv);
		if (s->refs)
			fprintf(c.detail, "    (%s: the scenario's refs, written for the run and removed)\n",
				trace);
	}
done:
	fclose(c.detail);
	r->detail = detail && *detail ? detail : NULL;
	if (!r->detail)
		free(detail);
	r->seconds = lab_now() - t0;
	free(out_text);
	free(err_text);
	free(out_copy);
	free(err_copy);
	free(out_lines.v);
	free(err_lines.v);
	free(guest.v);
}

/* ------------------------------------------------------------ the command */

/* The files of scenario idx in the temporary directory, removed once it is judged. */
static void remove_scenario_files(const struct regress *g, size_t idx)
{
	static const char *const ext[] = { "trace", "out", "err", "rec", "seq", "seqerr" };
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		snprintf(path, sizeof(path), "%s/%04zu.%s", g->tmp, idx, ext[i]);
		unlink(path);
	}
}

/*
 * SIGINT or SIGTERM: finish the scenario under way (its command has its
 * time limit), then stop, remove the temporary files and exit 128 + signal.
 * A signal handler can only leave a note: this is it.
 */
static volatile sig_atomic_t interrupted;

static void note_signal(int sig)
{
	interrupted = sig;
}

static int regress_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "junit", required_argument, NULL, 'j' },
		{ "pflab", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct regress g = { 0 };
	struct scn_set set = { 0 };
	struct result *res = NULL;
	struct lab_junit_case *cases = NULL;
	const char *junit = NULL;
	char self[PATH_MAX], why[700];
	struct lab_tally tally = { 0 };
	bool malformed = false;
	double t0 = lab_now();
	int c, rc = EXIT_OK;

	if (argc > 1 && !strcmp(argv[1], "--fault-sequence"))
		return regress_fault_sequence_main(argc - 1, argv + 1);
	while ((c = cli_getopt("regress", argc, argv, "j:h", longopts)) != -1) {
		switch (c) {
		case 'j': junit = optarg; break;
		case 'P': g.pflab = optarg; break;
		case 'h': fputs(regress_help, stdout); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_error("regress", "no scenario directory given (see --help)");
	if (junit && outfile_check(junit, why, sizeof(why)) != 0)
		return cli_usage_error("regress", "--junit %s", why);
	if (!g.pflab) {
		if (lab_self_path(self, sizeof(self)) != 0)
			return cli_fail("regress", "cannot find the pflab binary: give --pflab");
		g.pflab = self;
	} else if (access(g.pflab, X_OK) != 0) {
		return cli_usage_error("regress", "--pflab %s: %s", g.pflab, strerror(errno));
	}
	for (int i = optind; i < argc; i++) {
		if (scn_collect(&set, argv[i], &malformed, why, sizeof(why)) != 0) {
			rc = cli_usage_error("regress", "%s", why);
			goto out;
		}
	}
	if (malformed) {
		rc = cli_usage_error("regress", "malformed scenarios (above): nothing was run");
		goto out;
	}
	g.tmp = lab_tempdir("pflab-regress");
	res = calloc(set.n ? set.n : 1, sizeof(*res));
	cases = calloc(set.n ? set.n : 1, sizeof(*cases));
	if (!g.tmp || !res || !cases) {
		rc = cli_fail("regress", "cannot set up: %s", strerror(errno));
		goto out;
	}
	sigaction(SIGINT, &(struct sigaction){ .sa_handler = note_signal }, NULL);
	sigaction(SIGTERM, &(struct sigaction){ .sa_handler = note_signal }, NULL);
	for (size_t i = 0; i < set.n && !interrupted; i++) {
		const struct scenario *s = &set.s[i];
		struct result *r = &res[i];

		run_scenario(&g, s, i + 1, r);
		remove_scenario_files(&g, i + 1);
		cases[i] = (struct lab_junit_case){
			.seconds = r->seconds, .outcome = r->outcome, .message = r->message,
			.detail = r->detail,
		};
		lab_outcome_report(stdout, s, &cases[i], true, &tally);
	}
	if (interrupted) {
		cli_fail("regress", "interrupted (signal %d) after %zu of %zu scenarios",
			 (int)interrupted, tally.pass + tally.fail + tally.skip, set.n);
		rc = 128 + (int)interrupted;
		goto out;
	}
	printf("regress: %zu passed, %zu failed, %zu skipped (%zu scenarios, %.1f s)\n", tally.pass,
	       tally.fail, tally.skip, set.n, lab_now() - t0);
	if (junit && lab_junit_write(junit, "pflab regress", cases, set.n, why, sizeof(why)) != 0) {
		rc = cli_fail("regress", "--junit %s", why);
		goto out;
	}
	rc = tally.fail ? EXIT_FAIL : EXIT_OK;
out:
	for (size_t i = 0; res && i < set.n; i++)
		free(res[i].detail);
	free(res);
	free(cases);
	if (g.tmp) {
		lab_rmtree(g.tmp);
		free(g.tmp);
	}
	scn_set_free(&set);
	return rc;
}

static const struct command regress_cmd = {
	.name = "regress",
	.summary = "run regression scenarios of fault handling: pass/fail, diffs, JUnit XML",
	.main = regress_main,
};
COMMAND_REGISTER(regress_cmd);
