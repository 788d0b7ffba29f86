// SPDX-License-Identifier: MIT
/* A trace loaded whole: see loadtrace.h. */
#include "loadtrace.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "idmap.h"

void loaded_trace_free(struct loaded_trace *lt)
{
	free(lt->refs);
	free(lt->ids);
	free(lt->next_use);
	/* Freed twice is harmless: a failed load frees, and so may its caller. */
	lt->refs = NULL;
	lt->ids = NULL;
	lt->next_use = NULL;
}

int lab_load_trace(const char *cmd, const char *path, const struct trace_options *opt,
		   uint32_t max_pages, const char *max_why, struct loaded_trace *lt)
{
	enum { CHUNK = 65536 };
	struct trace_ref *buf = malloc(sizeof(*buf) * CHUNK);
	size_t cap = 0, ids_cap = 0;
	struct idmap ids;
	char err[512];
	struct trace *t;
	ptrdiff_t got;
	int rc = EXIT_USAGE;

	memset(lt, 0, sizeof(*lt));
	if (!buf || idmap_init(&ids) != 0) {
		free(buf);
		return cli_usage_error(cmd, "out of memory");
	}
	t = trace_open(path, opt, err, sizeof(err));
	if (!t) {
		cli_usage_error(cmd, "%s", err);
		goto out;
	}
	while ((got = trace_read(t, buf, CHUNK)) > 0) {
		if (lt->n + (size_t)got > cap) {
			size_t ncap = cap ? cap * 2 : CHUNK;
			vref_t *r;

			while (ncap < lt->n + (size_t)got)
				ncap *= 2;
			r = realloc(lt->refs, ncap * sizeof(*r));
			if (!r) {
				cli_usage_error(cmd, "out of memory for the trace");
				goto out;
			}
			lt->refs = r;
			cap = ncap;
		}
		for (ptrdiff_t i = 0; i < got; i++) {
			uint32_t vpn = idmap_get(&ids, buf[i].page);

			if (vpn == UINT32_MAX || vpn >= max_pages) {
				cli_usage_error(cmd, "%s: more than %u distinct pages (%s)", path,
						max_pages, max_why);
				goto out;
			}
			if (vpn >= ids_cap) {
				size_t ncap = ids_cap ? ids_cap * 2 : 1024;
				uint64_t *p = realloc(lt->ids, ncap * sizeof(*p));

				if (!p) {
					cli_usage_error(cmd, "out of memory for the trace");
					goto out;
				}
				lt->ids = p;
				ids_cap = ncap;
			}
			lt->ids[vpn] = buf[i].page;
			lt->refs[lt->n++] = VREF(vpn, buf[i].write);
		}
	}
	if (got < 0) {
		cli_usage_error(cmd, "%s", trace_error(t));
		goto out;
	}
	if (lt->n == 0) {
		cli_usage_error(cmd, "%s: no references", path);
		goto out;
	}
	lt->npages = ids.count;
	rc = EXIT_OK;
out:
	if (t)
		trace_close(t);
	idmap_fini(&ids);
	free(buf);
	if (rc != EXIT_OK)
		loaded_trace_free(lt);
	return rc;
}

int lab_trace_next_use(const char *cmd, struct loaded_trace *lt)
{
	lt->next_use = malloc(sizeof(*lt->next_use) * lt->n);
	if (!lt->next_use || sim_next_use(lt->refs, lt->n, lt->npages, lt->next_use) != 0)
		return cli_usage_error(cmd, "out of memory for the trace's future");
	return 0;
}
