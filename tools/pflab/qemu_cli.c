// SPDX-License-Identifier: MIT
/* Driving pflab's QEMU plugin from the command line: qemu_cli.h. */
#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lab_frames.h"
#include "lab_proc.h"
#include "lab_simtable.h"
#include "lab_text.h"
#include "plugin_args.h"
#include "qemu_cli.h"
#include "sim.h"

#define MAX_RESULTS (1u << 20) /* bytes: a results file is a few KiB at most */

int plugin_argv_add(const char *cmd, struct plugin_argv *a, const char *key, const char *val)
{
	if (a->n == QEMU_CLI_MAX_ARGS)
		return cli_usage_error(cmd, "too many policies or frame counts");
	if (asprintf(&a->v[a->n], "%s=%s", key, val) < 0)
		return cli_fail(cmd, "out of memory");
	a->n++;
	return 0;
}

void plugin_argv_free(struct plugin_argv *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->v[i]);
	a->n = 0;
}

static int add_live(const char *cmd, const struct plugin_opts *o, struct plugin_argv *a)
{
	char why[160], num[16], *list, **names;
	uint32_t *frames = NULL;
	size_t n, nframes;
	int rc = 0;

	if (lab_frames_parse(o->frames, VREF_VPN_MAX, &frames, &nframes, why, sizeof(why)) != 0)
		return cli_usage_error(cmd, "--frames: %s", why);
	for (size_t i = 0; i < nframes && !rc; i++) {
		snprintf(num, sizeof(num), "%u", frames[i]);
		rc = plugin_argv_add(cmd, a, "frames", num);
	}
	free(frames);
	list = strdup(o->policy);
	if (!list)
		return rc ? rc : cli_fail(cmd, "out of memory");
	n = cli_split(list, &names);
	for (size_t i = 0; i < n && !rc; i++)
		rc = plugin_argv_add(cmd, a, "policy", names[i]);
	free(names);
	free(list);
	return rc;
}

int plugin_argv_build(const char *cmd, const struct plugin_opts *o, struct plugin_argv *a)
{
	struct plugin_args *check;
	char err[600];
	int rc = 0;

	if (o->out && ((rc = plugin_argv_add(cmd, a, "out", o->out)) ||
		       (rc = plugin_argv_add(cmd, a, "format", o->rw ? "rw" : "pft")) ||
		       (rc = plugin_argv_add(cmd, a, "zstd", o->zstd ? "on" : "off"))))
		return rc;
	if ((o->kind && (rc = plugin_argv_add(cmd, a, "kind", o->kind))) ||
	    (o->range && (rc = plugin_argv_add(cmd, a, "range", o->range))) ||
	    (o->page_size && (rc = plugin_argv_add(cmd, a, "page-size", o->page_size))) ||
	    (o->results && (rc = plugin_argv_add(cmd, a, "results", o->results))))
		return rc;
	if (o->policy && (rc = add_live(cmd, o, a)))
		return rc;
	/* The plugin's own parser, so that a bad argument fails here, with its reason. */
	check = malloc(sizeof(*check));
	if (!check)
		return cli_fail(cmd, "out of memory");
	rc = plugin_args_parse(a->n, a->v, check, err, sizeof(err));
	free(check);
	return rc ? cli_usage_error(cmd, "%s", err) : 0;
}

char *plugin_default_path(void)
{
	char self[4096], *slash, *so;

	if (getenv("PFLAB_QEMU_PLUGIN") && *getenv("PFLAB_QEMU_PLUGIN"))
		return strdup(getenv("PFLAB_QEMU_PLUGIN"));
	if (lab_self_path(self, sizeof(self)) != 0 || !(slash = strrchr(self, '/')))
		return NULL;
	*slash = '\0';
	return asprintf(&so, "%s/libpflab-qemu.so", self) < 0 ? NULL : so;
}

int plugin_results_print(const char *cmd, const char *name, const struct plugin_results *r,
			 bool csv, bool json)
{
	struct sim_row *rows = calloc(r->nruns ? r->nruns : 1, sizeof(*rows));
	struct sim_table t = {
		.trace = name,
		.format = "qemu",
		.pages = r->pages,
		.trace_writes = r->writes,
		.rows = rows,
		.nrows = r->nruns,
	};

	if (!rows)
		return cli_fail(cmd, "out of memory");
	for (size_t i = 0; i < r->nruns; i++)
		rows[i] = (struct sim_row){ r->runs[i].policy, r->runs[i].frames, r->runs[i].st,
					    r->runs[i].seconds };
	sim_table_print(stdout, &t, csv ? SIM_OUT_CSV : json ? SIM_OUT_JSON : SIM_OUT_TABLE);
	free(rows);
	return 0;
}

int plugin_results_read(const char *cmd, const char *path, struct plugin_results *r)
{
	char err[200];
	size_t len;
	char *text = lab_read_file(path, &len);
	int rc;

	if (!text)
		return cli_fail(cmd, "the plugin wrote no results (%s): the run did not finish",
				strerror(errno));
	if (len > MAX_RESULTS) {
		free(text);
		return cli_fail(cmd, "the plugin's results file is too large");
	}
	rc = plugin_results_parse(text, len, r, err, sizeof(err));
	free(text);
	return rc ? cli_fail(cmd, "the plugin's results: %s", err) : 0;
}

/*
 * The plugin writes the trace through a temporary file of its own beside
 * ours (traces/outfile.h names it after ours): a QEMU killed by a signal
 * never removes it. Its name derives from our unique temporary's, so
 * whatever matches is a file this run created.
 */
void plugin_remove_temporaries(const char *tmp)
{
	char *copy = strdup(tmp), *pattern = NULL;
	glob_t g;

	if (copy && asprintf(&pattern, "%s/.%s.pflab-??????", dirname(copy), strrchr(tmp, '/') ?
			     strrchr(tmp, '/') + 1 : tmp) >= 0 &&
	    glob(pattern, GLOB_NOSORT, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++)
			unlink(g.gl_pathv[i]);
		globfree(&g);
	}
	free(pattern);
	free(copy);
}
