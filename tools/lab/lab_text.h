/* SPDX-License-Identifier: MIT */
/*
 * Text in and out, shared by the lab harness (tools/lab/) and the command
 * line (tools/pflab/): strict numbers, comma-separated lists, CSV and JSON
 * fields. Nothing here prints to stderr or knows a command; the callers
 * word the errors. The names keep the cli_ prefix they had when these lived
 * in tools/pflab/cli.c (docs/architecture.md says why).
 */
#ifndef PFLAB_LAB_TEXT_H
#define PFLAB_LAB_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Strict numbers: decimal digits only, no sign, no trailing junk, no
 * overflow, within [min, max]. On error return -1 with a reason in why.
 */
int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *why, size_t whylen);
/* A decimal fraction like 0.8 or 1. */
int cli_parse_double(const char *s, double min, double max, double *out, char *why, size_t whylen);
/* A duration: a number with a unit ns, us, ms, s, m (e.g. 50us, 2s). */
int cli_parse_duration_ns(const char *s, uint64_t *ns, char *why, size_t whylen);

/* Split a comma-separated list in place, empty items included; returns the
 * count, *items malloc'ed. */
size_t cli_split(char *s, char ***items);

/* Write a CSV field, quoting it if it needs to be. */
void csv_field(FILE *out, const char *s);
/* Write a JSON string literal. */
void json_string(FILE *out, const char *s);

#endif /* PFLAB_LAB_TEXT_H */
