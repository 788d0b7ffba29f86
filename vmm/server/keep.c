// SPDX-License-Identifier: MIT
/*
 * Kept regions: a client's pages kept past its close, as its REGISTER said
 * (issue 12: "nothing is lost ... also when a client disconnects mid-way:
 * its dirty pages are written back or kept, as its registration said";
 * docs/external-pager.md, "Keeping a client's pages"). Mach's memory
 * objects outlived the tasks that mapped them in the same way: the pager,
 * not the kernel, decided when an object's data went away
 * (memory_object_terminate let the pager keep it for the next
 * memory_object_init of the same object).
 *
 * A REGISTER with PROTO_REG_KEY names a key of its uid (SO_PEERCRED: one
 * uid never sees another's keys); with PROTO_REG_KEEP its pages are kept
 * under that key when it closes, for whatever reason, the client killed
 * included. The region must have handed its uffd over: then every page's
 * bytes are at the server (its frames, the client's memfd it holds, its
 * store), and a close writes every resident page to the store before the
 * frames go back to the budget. A slot and its pages are reserved at the
 * REGISTER, within --keep-regions and --keep-pages, so that no close ever
 * drops pages for want of room: past a limit the REGISTER is refused.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "server_internal.h"

static struct kept *find(struct pserver *s, uid_t uid, const char *key)
{
	for (uint32_t i = 0; i < s->cfg.keep_regions; i++) {
		struct kept *k = &s->kept[i];

		if (k->used && k->uid == uid && strcmp(k->key, key) == 0)
			return k;
	}
	return NULL;
}

static struct kept *free_slot(struct pserver *s)
{
	for (uint32_t i = 0; i < s->cfg.keep_regions; i++)
		if (!s->kept[i].used)
			return &s->kept[i];
	return NULL;
}

static void release(struct pserver *s, struct kept *k, bool unmap)
{
	if (unmap && k->data)
		munmap(k->data, (size_t)k->npages * k->page_size);
	s->kept_pages_free += k->npages;
	memset(k, 0, sizeof(*k));
}

int keep_check(struct pserver *s, const struct client *c, const struct proto_msg *m,
	       struct kept **out, char *why, size_t whylen)
{
	const char *key = m->u.reg.key;
	bool keep = m->u.reg.flags & PROTO_REG_KEEP;
	struct kept *k;

	*out = NULL;
	if (!c->cred_known) {
		snprintf(why, whylen, "a key needs a Unix socket: keys are per uid");
		return -EACCES;
	}
	if (m->u.reg.store != PROTO_STORE_MEMORY) {
		snprintf(why, whylen, "a key needs the memory store");
		return -EINVAL;
	}
	if (keep && !(m->u.reg.flags & PROTO_REG_HANDOVER)) {
		snprintf(why, whylen, "keeping pages needs the uffd handed over");
		return -EINVAL;
	}
	k = find(s, c->uid, key);
	if (k && k->r) {
		snprintf(why, whylen, "key '%s' is in use by another region", key);
		return -EBUSY;
	}
	if (k && (k->npages != m->u.reg.npages || k->page_size != m->u.reg.page_size)) {
		snprintf(why, whylen, "key '%s' keeps %u pages of %u bytes, not %u of %u", key,
			 k->npages, k->page_size, m->u.reg.npages, m->u.reg.page_size);
		return -EINVAL;
	}
	if (k && k->lost) {
		snprintf(why, whylen, "key '%s': page %u was lost at its region's close", key,
			 k->lost_page);
		release(s, k, true); /* said once; the key is free again */
		return -EIO;
	}
	if (!k && keep && !free_slot(s)) {
		snprintf(why, whylen, "all %u kept regions of --keep-regions are taken",
			 s->cfg.keep_regions);
		return -ENOSPC;
	}
	if (!k && keep && m->u.reg.npages > s->kept_pages_free) {
		snprintf(why, whylen, "keeping %u pages: %llu of --keep-pages free",
			 m->u.reg.npages, (unsigned long long)s->kept_pages_free);
		return -ENOSPC;
	}
	*out = k;
	return 0;
}

void keep_attach(struct pserver *s, struct region *r, struct kept *k, const struct proto_msg *m)
{
	r->keep = m->u.reg.flags & PROTO_REG_KEEP;
	if (!k && r->keep) {
		k = free_slot(s); /* keep_check saw one */
		*k = (struct kept){ .used = true, .uid = r->c->uid, .npages = r->npages,
				    .page_size = r->page_size };
		snprintf(k->key, sizeof(k->key), "%s", m->u.reg.key);
		s->kept_pages_free -= r->npages;
	}
	if (k)
		k->r = r;
	r->kept = k;
}

void keep_close(struct pserver *s, struct region *r)
{
	struct kept *k = r->kept;
	vpn_t bad = 0;

	if (!k)
		return;
	r->kept = NULL;
	if (!r->keep) { /* taken back, not kept again: the region's store goes */
		release(s, k, false);
		return;
	}
	if (r->ho && handover_save(r->ho, r->pager, &bad) != 0) {
		k->lost = true;
		k->lost_page = bad;
	}
	k->data = r->data;
	k->filled = true;
	k->r = NULL;
	r->data = NULL; /* the slot's now */
}

void keep_destroy(struct pserver *s)
{
	for (uint32_t i = 0; i < PSERVER_MAX_KEPT; i++)
		if (s->kept[i].used)
			release(s, &s->kept[i], true);
}
