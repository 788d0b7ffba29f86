/* SPDX-License-Identifier: MIT */
/*
 * Child processes for the lab commands: compare runs `pflab sim` per cell,
 * mrc falls back to it, regress runs `pflab sim` / `pflab run` per scenario,
 * and all of them run gnuplot. Output goes to files, never to pipes, so that
 * any number of children can run without a select loop or a deadlock.
 */
#ifndef PFLAB_LAB_PROC_H
#define PFLAB_LAB_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Exit status of a child that could not be started (as the shell's). */
#define LAB_STATUS_NOEXEC 127

/*
 * Start argv (argv[0] is looked up in PATH unless it has a slash) with its
 * stdout and stderr sent to files (NULL: /dev/null) and stdin from
 * /dev/null. The files are created: one that exists is never truncated
 * (the child then says so and exits LAB_STATUS_NOEXEC), so name them in a
 * directory pflab made; err_path may be out_path (one file for both).
 * Returns the pid, or -1 with errno set. If exec fails, the child writes
 * the reason to its stderr file and exits LAB_STATUS_NOEXEC.
 */
pid_t lab_spawn(char *const argv[], const char *out_path, const char *err_path);

/* A wait status as one number: the exit status, or 128 + the signal. */
int lab_exit_status(int wstatus);

/*
 * Run argv to completion (see lab_spawn), killing it after timeout_ns
 * (0: no limit). Returns its status as lab_exit_status(), or -1 if it
 * could not be started; *timed_out tells whether it was killed.
 */
int lab_run(char *const argv[], const char *out_path, const char *err_path,
	    uint64_t timeout_ns, bool *timed_out);

/* The path of the running pflab, to run its other commands. 0 or -1. */
int lab_self_path(char *buf, size_t len);

/* Write word as one sh word ('...' quoted where needed). */
void lab_shell_quote(FILE *out, const char *word);

/* A file's whole contents, NUL-terminated, malloc'ed; NULL with errno set. */
char *lab_read_file(const char *path, size_t *len);

/* The last non-empty line of text (copied into buf, at most len - 1 bytes). */
void lab_last_line(const char *text, char *buf, size_t len);

/* mkdir -p. 0, or -1 with errno set. */
int lab_mkdirs(const char *path);

/*
 * A fresh private directory under $TMPDIR (or /tmp), registered so that
 * lab_tempdir_remove_all() removes it on a signal; remove it with
 * lab_rmtree(). At most LAB_TEMPDIR_SLOTS at once: NULL with errno set
 * (EMFILE past that) and no directory made.
 */
#define LAB_TEMPDIR_SLOTS 4
char *lab_tempdir(const char *prefix);
/* The same in directory parent (a file renamed from there into parent's
 * tree stays on its file system). */
char *lab_tempdir_in(const char *parent, const char *prefix);
/*
 * Remove a directory and what it holds, down to LAB_RMTREE_DEPTH levels of
 * subdirectories (symbolic links are removed, not followed); a directory
 * from lab_tempdir() is forgotten by lab_tempdir_remove_all() once emptied.
 */
#define LAB_RMTREE_DEPTH 4
void lab_rmtree(const char *dir);
/*
 * For a signal handler (async-signal-safe, errno kept): remove every
 * directory this process's lab_tempdir() made and lab_rmtree() has not
 * removed, with what it holds (as lab_rmtree() does). No allocation.
 */
void lab_tempdir_remove_all(void);

/* Seconds on the monotonic clock. */
double lab_now(void);

#endif /* PFLAB_LAB_PROC_H */
