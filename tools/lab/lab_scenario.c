// SPDX-License-Identifier: MIT
/* The scenario file format of pflab regress: see lab_scenario.h and docs/lab.md#scenarios. */
#include "lab_scenario.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lab_text.h"
#include "lab_proc.h"
#include "policy.h"
#include "sim.h"
#include "trace.h"

/* One `key: value` line, kept until its section is complete. */
struct entry {
	char *key;    /* "policy", "expect faults", ... */
	char *value;
	unsigned line;
};

struct section {
	char *name;   /* NULL for the file's defaults */
	unsigned line;
	struct entry *e;
	size_t n, cap;
};

struct parser {
	const char *path;
	char *dir;            /* the file's directory, for relative traces */
	struct section *sec;
	size_t nsec;
	unsigned errors;
	bool quiet;           /* the defaults again, for a later scenario: said once */
};

/* The file's bytes, quoted in a message, must not drive the terminal:
 * anything but printable ASCII is written as \xNN. */
static void put_printable(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c < 0x7f && c != '\\')
			fputc(c, out);
		else
			fprintf(out, "\\x%02x", c);
	}
}

static int complain(struct parser *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int complain(struct parser *p, unsigned line, const char *fmt, ...)
{
	va_list ap;

	char msg[1024];

	p->errors++;
	if (p->quiet)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	put_printable(stderr, p->path);
	fprintf(stderr, ":%u: ", line);
	put_printable(stderr, msg);
	fputc('\n', stderr);
	return -1;
}

static const char *const sim_columns[] = {
	"refs", "faults", "miss_ratio", "writebacks", "major", "minor", "evictions",
	"resident_mean", "resident_max",
};

bool scn_sim_column(const char *name)
{
	for (size_t i = 0; i < sizeof(sim_columns) / sizeof(sim_columns[0]); i++)
		if (!strcmp(name, sim_columns[i]))
			return true;
	return false;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int add_entry(struct section *sec, const char *key, const char *value, unsigned line)
{
	if (sec->n == sec->cap) {
		size_t cap = sec->cap ? sec->cap * 2 : 16;
		struct entry *bigger = realloc(sec->e, sizeof(*bigger) * cap);

		if (!bigger)
			return -1;
		sec->e = bigger;
		sec->cap = cap;
	}
	sec->e[sec->n] = (struct entry){ strdup(key), strdup(value), line };
	if (!sec->e[sec->n].key || !sec->e[sec->n].value) {
		free(sec->e[sec->n].key);
		free(sec->e[sec->n].value);
		return -1;
	}
	sec->n++;
	return 0;
}

static struct section *new_section(struct parser *p, const char *name, unsigned line)
{
	struct section *bigger = realloc(p->sec, sizeof(*bigger) * (p->nsec + 1));

	if (!bigger)
		return NULL;
	p->sec = bigger;
	p->sec[p->nsec] = (struct section){ .name = name ? strdup(name) : NULL, .line = line };
	return &p->sec[p->nsec++];
}

static bool name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._+-", *s))
			return false;
	return true;
}

static bool column_name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* Split the file into sections of entries; syntax errors are reported here. */
static int read_sections(struct parser *p)
{
	char *text = lab_read_file(p->path, NULL), *raw;
	struct section *cur;
	unsigned line = 0;

	if (!text) {
		fprintf(stderr, "%s: %s\n", p->path, strerror(errno));
		p->errors++;
		return -1;
	}
	cur = new_section(p, NULL, 1);
	if (!cur)
		goto oom;
	/* strsep keeps empty lines, so line numbers stay true. */
	for (char *rest = text; (raw = strsep(&rest, "\n"));) {
		char *s = trim(raw), *colon, *key, *value;

		line++;
		if (!*s || *s == '#')
			continue;
		if (!strncmp(s, "scenario", 8) && (!s[8] || isspace((unsigned char)s[8]))) {
			char *name = trim(s + 8);

			if (!name_ok(name)) {
				complain(p, line, "'scenario' needs a name of letters, digits and . _ + -");
				continue;
			}
			for (size_t i = 1; i < p->nsec; i++)
				if (!strcmp(p->sec[i].name, name))
					complain(p, line, "scenario '%s' is already defined at line %u", name,
						 p->sec[i].line);
			cur = new_section(p, name, line);
			if (!cur)
				goto oom;
			continue;
		}
		colon = strchr(s, ':');
		if (!colon) {
			complain(p, line, "expected 'key: value' or 'scenario NAME', got '%.60s'", s);
			continue;
		}
		*colon = '\0';
		key = trim(s);
		value = trim(colon + 1);
		/* "expect   faults" and "expect faults" are the same key */
		if (!strncmp(key, "expect", 6) && isspace((unsigned char)key[6])) {
			char norm[128];

			snprintf(norm, sizeof(norm), "expect %s", trim(key + 7));
			if (add_entry(cur, norm, value, line) != 0)
				goto oom;
		} else if (add_entry(cur, key, value, line) != 0) {
			goto oom;
		}
	}
	free(text);
	return 0;
oom:
	free(text);
	fprintf(stderr, "%s: out of memory\n", p->path);
	p->errors++;
	return -1;
}

static int push_line(struct scn_line **v, size_t *n, const char *text, unsigned line)
{
	struct scn_line *bigger = realloc(*v, sizeof(**v) * (*n + 1));

	if (!bigger)
		return -1;
	*v = bigger;
	(*v)[*n] = (struct scn_line){ strdup(text), line };
	if (!(*v)[*n].text)
		return -1;
	(*n)++;
	return 0;
}

static int set_string(char **field, const char *value)
{
	char *copy = strdup(value);

	if (!copy)
		return -1;
	free(*field);
	*field = copy;
	return 0;
}

/* A reference string: page ids, each optionally followed by w (a write). */
static int check_refs(struct parser *p, const char *value, unsigned line)
{
	char *copy = strdup(value), *save = NULL;
	int rc = 0;

	if (!copy)
		return -1;
	for (char *tok = strtok_r(copy, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
		size_t len = strlen(tok);
		uint64_t v;
		char why[160];

		if (len > 1 && (tok[len - 1] == 'w' || tok[len - 1] == 'W'))
			tok[len - 1] = '\0';
		if (cli_parse_u64(tok, 0, UINT64_MAX, &v, why, sizeof(why)) != 0) {
			rc = complain(p, line, "refs: %s (page ids, a trailing w for a write)", why);
			break;
		}
	}
	free(copy);
	return rc;
}

static int add_ids(struct parser *p, struct scenario *s, const char *value, unsigned line)
{
	char *copy = strdup(value), *save = NULL;
	int rc = 0;

	if (!copy)
		return -1;
	for (char *tok = strtok_r(copy, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
		uint64_t v, *bigger;
		char why[160];

		if (cli_parse_u64(tok, 0, UINT64_MAX, &v, why, sizeof(why)) != 0) {
			rc = complain(p, line, "a fault sequence is page ids: %s", why);
			break;
		}
		bigger = realloc(s->faults_seq, sizeof(*bigger) * (s->nfaults_seq + 1));
		if (!bigger) {
			rc = -1;
			break;
		}
		s->faults_seq = bigger;
		s->faults_seq[s->nfaults_seq++] = v;
	}
	free(copy);
	return rc;
}

static int add_args(struct scenario *s, const char *value)
{
	char *copy = strdup(value), *save = NULL;

	if (!copy)
		return -1;
	for (char *tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char **bigger = realloc(s->args, sizeof(*bigger) * (s->nargs + 1));

		if (!bigger || !(bigger[s->nargs] = strdup(tok))) {
			if (bigger)
				s->args = bigger;
			free(copy);
			return -1;
		}
		s->args = bigger;
		s->nargs++;
	}
	free(copy);
	return 0;
}

static char *resolve(const struct parser *p, const char *path)
{
	size_t len;
	char *full;

	if (path[0] == '/' || !p->dir)
		return strdup(path);
	len = strlen(p->dir) + strlen(path) + 2;
	full = malloc(len);
	if (full)
		snprintf(full, len, "%s/%s", p->dir, path);
	return full;
}

/* Keys that may appear several times in a section, each adding to the last. */
static bool repeatable(const char *key)
{
	static const char *const keys[] = {
		"refs", "args", "expect fault-seq", "expect fault-prefix",
		"expect stdout", "expect stderr", "expect guest",
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(key, keys[i]))
			return true;
	return false;
}

/* Apply one entry to s. Returns 0, or -1 after complaining. */
static int apply(struct parser *p, struct scenario *s, const struct entry *e)
{
	const char *k = e->key, *v = e->value;
	char why[200];
	uint64_t n;
	int rc = 0;

	if (!strncmp(k, "expect ", 7)) {
		const char *what = k + 7;

		if (!strcmp(what, "status")) {
			if (cli_parse_u64(v, 0, 255, &n, why, sizeof(why)) != 0)
				return complain(p, e->line, "expect status: %s", why);
			s->status = (int)n;
			s->status_line = e->line;
		} else if (!strcmp(what, "fault-seq") || !strcmp(what, "fault-prefix")) {
			bool prefix = what[6] == 'p';

			if (s->seq_line && s->seq_is_prefix != prefix)
				return complain(p, e->line, "a scenario expects fault-seq or fault-prefix, "
						"not both");
			s->seq_is_prefix = prefix;
			if (!s->seq_line)
				s->seq_line = e->line;
			rc = add_ids(p, s, v, e->line);
		} else if (!strcmp(what, "stdout")) {
			rc = push_line(&s->out_lines, &s->nout, v, e->line);
		} else if (!strcmp(what, "stderr")) {
			rc = push_line(&s->err_lines, &s->nerr, v, e->line);
		} else if (!strcmp(what, "guest")) {
			rc = push_line(&s->guest_lines, &s->nguest, v, e->line);
		} else if (column_name_ok(what)) {
			struct scn_column *bigger;

			if (!*v)
				return complain(p, e->line, "expect %s: no value", what);
			bigger = realloc(s->columns, sizeof(*bigger) * (s->ncolumns + 1));
			if (!bigger)
				return -1;
			s->columns = bigger;
			s->columns[s->ncolumns] = (struct scn_column){ strdup(what), strdup(v), e->line };
			s->ncolumns++;
		} else {
			return complain(p, e->line, "unknown expectation '%s': a CSV column (faults, "
					"writebacks, ...), status, fault-seq, fault-prefix, stdout, stderr "
					"or guest", what);
		}
		return rc;
	}
	if (!*v)
		return complain(p, e->line, "%s: no value", k);
	if (!strcmp(k, "command")) {
		if (strcmp(v, "sim") && strcmp(v, "run"))
			return complain(p, e->line, "command: '%s' is not sim or run", v);
		s->command = !strcmp(v, "run") ? SCN_RUN : SCN_SIM;
	} else if (!strcmp(k, "trace")) {
		char *full = resolve(p, v);

		if (!full)
			return -1;
		free(s->trace);
		s->trace = full;
	} else if (!strcmp(k, "refs")) {
		if (check_refs(p, v, e->line) != 0)
			return -1;
		if (s->refs) {
			size_t len = strlen(s->refs) + strlen(v) + 2;
			char *joined = malloc(len);

			if (!joined)
				return -1;
			snprintf(joined, len, "%s %s", s->refs, v);
			free(s->refs);
			s->refs = joined;
		} else {
			rc = set_string(&s->refs, v);
		}
	} else if (!strcmp(k, "workload")) {
		rc = set_string(&s->workload, v);
	} else if (!strcmp(k, "format")) {
		enum trace_format f;

		if (trace_format_parse(v, &f) != 0)
			return complain(p, e->line, "format: unknown trace format '%s'", v);
		rc = set_string(&s->format, v);
	} else if (!strcmp(k, "policy")) {
		if (!policy_find(v))
			return complain(p, e->line, "policy: unknown policy '%s' (see pflab policies)", v);
		rc = set_string(&s->policy, v);
	} else if (!strcmp(k, "frames")) {
		if (cli_parse_u64(v, 1, VREF_VPN_MAX, &n, why, sizeof(why)) != 0)
			return complain(p, e->line, "frames: %s", why);
		s->frames = (uint32_t)n;
	} else if (!strcmp(k, "trap")) {
		if (strcmp(v, "kvm") && strcmp(v, "uffd"))
			return complain(p, e->line, "trap: '%s' is not kvm or uffd", v);
		rc = set_string(&s->trap, v);
	} else if (!strcmp(k, "args")) {
		rc = add_args(s, v);
	} else if (!strcmp(k, "timeout")) {
		if (cli_parse_duration_ns(v, &n, why, sizeof(why)) != 0 || n == 0)
			return complain(p, e->line, "timeout: %s", n == 0 && !*why ? "must be above 0" : why);
		s->timeout_ns = n;
	} else {
		return complain(p, e->line, "unknown key '%s' (see docs/lab.md#scenarios)", k);
	}
	return rc;
}

static bool section_has(const struct section *sec, const char *key)
{
	for (size_t i = 0; i < sec->n; i++)
		if (!strcmp(sec->e[i].key, key))
			return true;
	return false;
}

static void forget_inputs(struct scenario *s)
{
	free(s->trace);
	free(s->refs);
	free(s->workload);
	s->trace = s->refs = s->workload = NULL;
}

/*
 * Apply a section's entries over what s holds (the defaults, for a
 * scenario's own section), refusing a key given twice in one section. A
 * scenario that names its input (trace, refs or workload) or its args
 * replaces the defaults' instead of adding to them.
 */
static int apply_section(struct parser *p, struct scenario *s, const struct section *sec,
			 bool expectations)
{
	int rc = 0;

	if (section_has(sec, "trace") || section_has(sec, "refs") || section_has(sec, "workload"))
		forget_inputs(s);
	if (section_has(sec, "args")) {
		for (size_t i = 0; i < s->nargs; i++)
			free(s->args[i]);
		s->nargs = 0;
	}
	for (size_t i = 0; i < sec->n; i++) {
		const struct entry *e = &sec->e[i];
		bool twice = false;

		if (!expectations && !strncmp(e->key, "expect ", 7)) {
			rc = complain(p, e->line, "expectations belong to a scenario: put this below a "
				      "'scenario NAME' line");
			continue;
		}
		for (size_t j = 0; j < i && !repeatable(e->key) && !twice; j++)
			twice = !strcmp(sec->e[j].key, e->key);
		if (twice) {
			rc = complain(p, e->line, "'%s' is given twice", e->key);
			continue;
		}
		if (apply(p, s, e) != 0)
			rc = -1;
	}
	return rc;
}

/* What a complete scenario must have. */
static int validate(struct parser *p, struct scenario *s)
{
	unsigned inputs = !!s->trace + !!s->refs + !!s->workload;
	int rc = 0;

	if (s->command == SCN_SIM) {
		if (s->workload)
			rc = complain(p, s->line, "scenario %s: a workload needs 'command: run'", s->name);
		if (s->trap)
			rc = complain(p, s->line, "scenario %s: a trap mechanism needs 'command: run'",
				      s->name);
		if (!s->trace && !s->refs)
			rc = complain(p, s->line, "scenario %s: no 'trace:' or 'refs:' to replay", s->name);
		if (!s->policy)
			rc = complain(p, s->line, "scenario %s: no 'policy:'", s->name);
		if (!s->frames)
			rc = complain(p, s->line, "scenario %s: no 'frames:'", s->name);
		for (size_t i = 0; i < s->ncolumns; i++)
			if (!scn_sim_column(s->columns[i].name))
				rc = complain(p, s->columns[i].line, "pflab sim has no column '%s'",
					      s->columns[i].name);
		if (s->nguest)
			rc = complain(p, s->guest_lines[0].line, "'expect guest' needs 'command: run'");
	} else if (inputs == 0) {
		rc = complain(p, s->line, "scenario %s: no 'workload:', 'trace:' or 'refs:'", s->name);
	}
	if (inputs > 1)
		rc = complain(p, s->line, "scenario %s: give one of 'trace:', 'refs:' and 'workload:'",
			      s->name);
	if (!s->ncolumns && !s->status_line && !s->seq_line && !s->nout && !s->nerr && !s->nguest)
		rc = complain(p, s->line, "scenario %s expects nothing: a test that cannot fail "
			      "tests nothing", s->name);
	return rc;
}

static void scenario_free(struct scenario *s)
{
	free(s->file);
	free(s->group);
	free(s->name);
	free(s->trace);
	free(s->refs);
	free(s->workload);
	free(s->format);
	free(s->policy);
	free(s->trap);
	for (size_t i = 0; i < s->nargs; i++)
		free(s->args[i]);
	free(s->args);
	for (size_t i = 0; i < s->ncolumns; i++) {
		free(s->columns[i].name);
		free(s->columns[i].value);
	}
	free(s->columns);
	free(s->faults_seq);
	for (size_t i = 0; i < s->nout; i++)
		free(s->out_lines[i].text);
	for (size_t i = 0; i < s->nerr; i++)
		free(s->err_lines[i].text);
	for (size_t i = 0; i < s->nguest; i++)
		free(s->guest_lines[i].text);
	free(s->out_lines);
	free(s->err_lines);
	free(s->guest_lines);
}

static char *group_of(const char *path)
{
	const char *base = strrchr(path, '/');
	char *g = strdup(base ? base + 1 : path), *dot;

	if (g && (dot = strrchr(g, '.')) && !strcmp(dot, ".scenario"))
		*dot = '\0';
	return g;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : NULL;
}

static int set_push(struct scn_set *set, const struct scenario *s)
{
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 16;
		struct scenario *bigger = realloc(set->s, sizeof(*bigger) * cap);

		if (!bigger)
			return -1;
		set->s = bigger;
		set->cap = cap;
	}
	set->s[set->n++] = *s;
	return 0;
}

int scn_parse_file(struct scn_set *set, const char *path)
{
	struct parser p = { .path = path, .dir = dir_of(path) };
	size_t first = set->n;
	bool single;

	read_sections(&p);
	single = p.nsec == 1;
	for (size_t i = single ? 0 : 1; i < p.nsec; i++) {
		unsigned errors = p.errors;
		struct scenario s = {
			.file = strdup(path),
			.group = group_of(path),
			.timeout_ns = SCN_DEFAULT_TIMEOUT_NS,
		};

		s.name = strdup(single ? (s.group ? s.group : "") : p.sec[i].name);
		s.line = p.sec[i].line;
		if (!s.file || !s.group || !s.name) {
			fprintf(stderr, "%s: out of memory\n", path);
			p.errors++;
		} else {
			/* The defaults first, then the scenario's own keys over them. */
			if (!single) {
				p.quiet = i > 1;
				apply_section(&p, &s, &p.sec[0], false);
				p.quiet = false;
			}
			apply_section(&p, &s, &p.sec[i], true);
			if (p.errors == errors)
				validate(&p, &s);
		}
		if (p.errors != errors || set_push(set, &s) != 0) {
			scenario_free(&s);
			p.errors += p.errors == errors; /* out of memory in set_push */
		}
	}
	for (size_t i = 0; i < p.nsec; i++) {
		for (size_t j = 0; j < p.sec[i].n; j++) {
			free(p.sec[i].e[j].key);
			free(p.sec[i].e[j].value);
		}
		free(p.sec[i].e);
		free(p.sec[i].name);
	}
	free(p.sec);
	free(p.dir);
	if (!p.errors)
		return 0;
	/* A malformed file contributes nothing. */
	while (set->n > first)
		scenario_free(&set->s[--set->n]);
	return -1;
}

void scn_set_free(struct scn_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		scenario_free(&set->s[i]);
	free(set->s);
	*set = (struct scn_set){ 0 };
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_scenario_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n >= 9 && !strcmp(name + n - 9, ".scenario");
}

/* The paths of dir's *.scenario files, malloc'ed, unsorted; -1 with errno set. */
static int scenario_paths(const char *dir, char ***names, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	*names = NULL;
	*n = 0;
	if (!d)
		return -1;
	while (rc == 0 && (e = readdir(d))) {
		char **bigger;

		if (!is_scenario_name(e->d_name))
			continue;
		bigger = realloc(*names, sizeof(**names) * (*n + 1));
		if (bigger)
			*names = bigger;
		if (!bigger || asprintf(&bigger[*n], "%s/%s", dir, e->d_name) < 0)
			rc = -1;
		else
			(*n)++;
	}
	closedir(d);
	if (rc != 0)
		errno = ENOMEM;
	return rc;
}

int scn_collect(struct scn_set *set, const char *path, bool *malformed, char *why,
		size_t whylen)
{
	struct stat st;
	char **names;
	size_t n;
	int rc = 0;

	if (stat(path, &st) != 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		*malformed |= scn_parse_file(set, path) != 0;
		return 0;
	}
	if (scenario_paths(path, &names, &n) != 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		rc = -1;
	} else if (!n) {
		snprintf(why, whylen, "%s: no *.scenario files in it", path);
		rc = -1;
	} else {
		qsort(names, n, sizeof(*names), by_string);
		for (size_t i = 0; i < n; i++)
			*malformed |= scn_parse_file(set, names[i]) != 0;
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}
