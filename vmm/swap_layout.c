// SPDX-License-Identifier: MIT
/* Swap layouts, static and dynamic: see swap_layout.h. */
#include "swap_layout.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE_SLOT (-1)

int swap_layout_parse(const char *name, enum swap_layout_kind *kind)
{
	if (strcmp(name, "static") == 0)
		*kind = SWAP_STATIC;
	else if (strcmp(name, "dynamic") == 0)
		*kind = SWAP_DYNAMIC;
	else
		return -1;
	return 0;
}

const char *swap_layout_name(enum swap_layout_kind kind)
{
	return kind == SWAP_DYNAMIC ? "dynamic" : "static";
}

uint32_t swap_layout_default_slots(enum swap_layout_kind kind, uint32_t npages)
{
	uint64_t n = npages;

	if (kind == SWAP_DYNAMIC)
		n += n / 4 + 64;
	return n > UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)n;
}

int swap_layout_init(struct swap_layout *l, enum swap_layout_kind kind, uint32_t npages,
		     uint32_t nslots, char *err, size_t errlen)
{
	*l = (struct swap_layout){
		.kind = kind, .npages = npages, .nslots = nslots, .nfree = nslots,
		.last_write = -2,
	};
	pthread_mutex_init(&l->lock, NULL);
	if (nslots < npages) {
		snprintf(err, errlen, "a swap area of %u slots cannot hold the %u pages", nslots,
			 npages);
		return -1;
	}
	if (kind == SWAP_STATIC)
		return 0;
	l->dir = calloc(npages ? npages : 1, sizeof(*l->dir));
	l->owner = calloc(nslots ? nslots : 1, sizeof(*l->owner));
	l->used = calloc((nslots + 63) / 64 + 1, sizeof(*l->used));
	if (!l->dir || !l->owner || !l->used) {
		swap_layout_fini(l);
		snprintf(err, errlen, "out of memory for a swap directory of %u slots", nslots);
		return -1;
	}
	return 0;
}

void swap_layout_fini(struct swap_layout *l)
{
	free(l->dir);
	free(l->owner);
	free(l->used);
	l->dir = l->owner = NULL;
	l->used = NULL;
	pthread_mutex_destroy(&l->lock);
}

int64_t swap_layout_lookup(struct swap_layout *l, vpn_t vpn)
{
	int64_t slot;

	if (l->kind == SWAP_STATIC)
		return (int64_t)(l->base + vpn);
	pthread_mutex_lock(&l->lock);
	slot = l->dir[vpn] ? (int64_t)l->dir[vpn] - 1 : NONE_SLOT;
	pthread_mutex_unlock(&l->lock);
	return slot;
}

static void take(struct swap_layout *l, uint32_t slot)
{
	l->used[slot / 64] |= 1ull << (slot % 64);
	l->nfree--;
}

static void release(struct swap_layout *l, uint32_t slot)
{
	l->used[slot / 64] &= ~(1ull << (slot % 64));
	l->owner[slot] = 0;
	l->nfree++;
}

/* The first free slot at or after the cursor, wrapping; a word of the
 * bitmap at a time. Called with nfree > 0. */
static uint32_t next_free(const struct swap_layout *l)
{
	uint32_t words = (l->nslots + 63) / 64, w = l->cursor / 64;
	uint64_t mask = ~0ull << (l->cursor % 64);

	for (uint32_t k = 0; k <= words; k++, w = (w + 1) % words, mask = ~0ull) {
		uint64_t free_bits = ~l->used[w] & mask;

		while (free_bits) {
			uint32_t slot = w * 64 + (uint32_t)__builtin_ctzll(free_bits);

			if (slot < l->nslots)
				return slot;
			free_bits &= free_bits - 1;
		}
	}
	return UINT32_MAX; /* not reached while nfree > 0 */
}

static void count_write(struct swap_layout *l, int64_t slot)
{
	l->stats.writes++;
	if (slot != l->last_write + 1)
		l->stats.runs++;
	l->last_write = slot;
}

int64_t swap_layout_write_begin(struct swap_layout *l, vpn_t vpn)
{
	int64_t slot;

	if (l->kind == SWAP_STATIC)
		return (int64_t)(l->base + vpn);
	pthread_mutex_lock(&l->lock);
	if (l->nfree) {
		uint32_t s = next_free(l);

		take(l, s);
		l->owner[s] = vpn + 1;
		l->cursor = s + 1 == l->nslots ? 0 : s + 1;
		slot = s;
	} else if (l->dir[vpn]) {
		slot = (int64_t)l->dir[vpn] - 1; /* full: rewrite in place */
	} else {
		slot = -ENOSPC; /* cannot happen while nslots >= npages */
	}
	pthread_mutex_unlock(&l->lock);
	return slot;
}

void swap_layout_write_end(struct swap_layout *l, vpn_t vpn, int64_t slot, bool ok)
{
	uint32_t old;

	pthread_mutex_lock(&l->lock);
	if (l->kind == SWAP_STATIC) {
		if (ok)
			count_write(l, slot);
		pthread_mutex_unlock(&l->lock);
		return;
	}
	old = l->dir[vpn];
	if (old && (int64_t)old - 1 == slot) {
		/* In place: the slot was and stays the page's. */
		if (ok) {
			l->stats.in_place++;
			count_write(l, slot);
		}
	} else if (ok) {
		l->dir[vpn] = (uint32_t)slot + 1;
		if (old) {
			release(l, old - 1);
			l->stats.moves++;
		}
		count_write(l, slot);
	} else {
		/* The old copy, if any, stays. The next write fills the slot,
		 * so that a failed write leaves no hole in the cluster. */
		release(l, (uint32_t)slot);
		l->cursor = (uint32_t)slot;
	}
	pthread_mutex_unlock(&l->lock);
}

struct swap_layout_stats swap_layout_stats(struct swap_layout *l)
{
	struct swap_layout_stats st;

	pthread_mutex_lock(&l->lock);
	st = l->stats;
	pthread_mutex_unlock(&l->lock);
	return st;
}
