/* SPDX-License-Identifier: MIT */
/*
 * What `pflab capture` and `pflab qemu` share to drive pflab's QEMU plugin
 * (vmm/qemu/, docs/qemu.md): its key=value arguments built from the
 * options and checked by the plugin's own parser, where the plugin is, its
 * results file read back and printed as `pflab sim`'s table, and the
 * temporary files a killed QEMU leaves. Command-line helpers: errors are
 * printed as "pflab CMD: ..." and returned as exit statuses.
 */
#ifndef PFLAB_QEMU_CLI_H
#define PFLAB_QEMU_CLI_H

#include <stdbool.h>

#include "plugin_results.h"

#define QEMU_CLI_MAX_ARGS 64  /* plugin arguments: a few, plus policies and frames */

/* The plugin's arguments, key=value each, malloc'ed strings. */
struct plugin_argv {
	char *v[QEMU_CLI_MAX_ARGS];
	int n;
};

/* What becomes plugin arguments; NULL fields are left out. */
struct plugin_opts {
	const char *out;       /* the (temporary) trace file */
	bool rw, zstd;
	const char *kind, *range, *page_size;
	const char *results;
	const char *policy;    /* a list, or all */
	const char *frames;    /* as pflab sim takes them */
};

int plugin_argv_add(const char *cmd, struct plugin_argv *a, const char *key, const char *val);
/* Build, then check with plugin_args_parse(): 0 or an exit status (said why). */
int plugin_argv_build(const char *cmd, const struct plugin_opts *o, struct plugin_argv *a);
void plugin_argv_free(struct plugin_argv *a);

/* $PFLAB_QEMU_PLUGIN, else libpflab-qemu.so beside pflab; malloc'ed or NULL. */
char *plugin_default_path(void);

/* Read and check the plugin's results file: 0 or an exit status. */
int plugin_results_read(const char *cmd, const char *path, struct plugin_results *r);
/* The live machines' counts as pflab sim's table (csv, json or text). */
int plugin_results_print(const char *cmd, const char *name, const struct plugin_results *r,
			 bool csv, bool json);

/* Remove the plugin's own temporary files beside our temporary tmp. */
void plugin_remove_temporaries(const char *tmp);

#endif /* PFLAB_QEMU_CLI_H */
