/* SPDX-License-Identifier: MIT */
/*
 * The pager-server protocol (docs/external-pager.md): versioned,
 * length-prefixed messages over a stream socket. Encoding and decoding only:
 * no I/O here, so that the decoder can be fuzzed (tests/fuzz/fuzz_proto.c).
 *
 * Every message is a 16-byte header followed by `len` bytes of payload,
 * all integers little-endian:
 *
 *   off size field
 *     0    4 magic    "PFPG" (0x47504650)
 *     4    2 version  PROTO_VERSION
 *     6    2 type     enum proto_type
 *     8    4 seq      the sender's request number; a reply carries the
 *                     request's
 *    12    4 len      payload bytes, at most PROTO_MAX_PAYLOAD
 *
 * Each type's payload has an exact size (or an exact size plus a counted
 * tail; REGISTER: 64 bytes, or 96 with PROTO_REG_KEY's key); reserved bytes
 * must be zero; names are NUL-padded and printable.
 * proto_decode() checks all of this; what needs the server's state (the
 * region exists, the page is in range) is the server's to check.
 */
#ifndef PFLAB_PROTO_H
#define PFLAB_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_MAGIC       0x47504650u /* "PFPG" */
#define PROTO_VERSION     1u
#define PROTO_HDR         16u
#define PROTO_MAX_DATA    65536u      /* page bytes carried by one message */
#define PROTO_MAX_REFS    16384u      /* references in one REFS message */
#define PROTO_MAX_PAYLOAD (16u + PROTO_MAX_DATA)
#define PROTO_MAX_MSG     (PROTO_HDR + PROTO_MAX_PAYLOAD)
#define PROTO_NAME        16u         /* policy name field, NUL-padded */
#define PROTO_TEXT        64u         /* error text field, NUL-padded */

enum proto_type {
	PROTO_HELLO = 1,       /* both ways: versions spoken */
	PROTO_REGISTER = 2,    /* c->s: a region */
	PROTO_REGISTERED = 3,  /* s->c: its id and frames */
	PROTO_REFS = 4,        /* c->s: references to resident pages (hits) */
	PROTO_FAULT = 5,       /* c->s: a page is missing (Mach: data_request) */
	PROTO_RESOLVED = 6,    /* s->c: map it (Mach: data_provided / data_unavailable) */
	PROTO_EVICT = 7,       /* s->c: give a page back (Mach: lock_request, flush) */
	PROTO_DATA_RETURN = 8, /* c->s: the page given back (Mach: data_return) */
	PROTO_ERROR = 9,       /* both ways (Mach: data_error) */
	PROTO_SET_POLICY = 10, /* c->s: change a region's policy now */
	PROTO_STATS = 11,      /* c->s: ask for a region's counters */
	PROTO_STATS_REPLY = 12,/* s->c */
	PROTO_ACK = 13,        /* s->c: a request without data of its own succeeded */
	PROTO_GOODBYE = 14,    /* both ways: the sender closes */
	/* 15-23: unused */
	PROTO_SAMPLE = 24,     /* s->c: unmap a page, keep its data: its referenced bit
				  is cleared (Mach: lock_request, no flush) */
	PROTO_TOUCH = 25,      /* c->s: accesses that set a page's referenced or dirty bit
				  but are not references the policy sees (soft faults,
				  first writes), as REFS */
	PROTO_UFFD = 26,       /* c->s, with SCM_RIGHTS: the client's userfaultfd and the
				  memfd behind the region: the server resolves its
				  faults itself (Firecracker's handler) */
	/* Distributed shared memory (vmm/server/dsm.h, docs/external-pager.md,
	 * "Distributed shared memory"): numbered from 32 so that the pager's
	 * own types can grow without renumbering these; 15..31 are unknown. */
	PROTO_DSM_JOIN = 32,       /* c->s: node i of n joins the shared region */
	PROTO_DSM_JOINED = 33,     /* s->c */
	PROTO_DSM_REQUEST = 34,    /* c->s: a read or write fault on a shared page */
	PROTO_DSM_GRANT = 35,      /* s->c: the access, with the page unless an upgrade */
	PROTO_DSM_INVALIDATE = 36, /* s->c: drop your copy (and return it, if yours) */
	PROTO_DSM_INV_DONE = 37,   /* c->s: dropped (with the page, if asked) */
	PROTO_DSM_LEAVE = 38,      /* c->s: take my pages back, then ACK */
	PROTO_DSM_STATS = 39,      /* c->s */
	PROTO_DSM_STATS_REPLY = 40,/* s->c: the manager's counters */
	PROTO_TYPE_MAX = 40,
};

/* DSM: at most this many nodes (a copy set is a 32-bit mask) and pages. */
#define PROTO_DSM_MAX_NODES 32u
#define PROTO_DSM_MAX_PAGES 65536u
#define PROTO_DSM_PAGE      4096u
/* PROTO_DSM_REQUEST and PROTO_DSM_GRANT .access */
enum proto_dsm_access { PROTO_DSM_READ = 0, PROTO_DSM_WRITE = 1 };
/* PROTO_DSM_INVALIDATE and PROTO_DSM_INV_DONE .mode */
enum proto_dsm_mode {
	PROTO_DSM_DROP = 0,      /* a read copy: drop it, no data back */
	PROTO_DSM_RETURN = 1,    /* the owner's: send the page, drop it */
	PROTO_DSM_DOWNGRADE = 2, /* the owner's: send the page, keep it read-only */
	PROTO_DSM_MODE_MAX = 2,
};

struct proto_dsm_stats {
	uint64_t requests, reads, writes, pages_sent, pages_returned, invalidations,
		upgrades, errors;
};

/* PROTO_REGISTER .store */
enum proto_store {
	PROTO_STORE_NONE = 0,   /* count only: no page data moves */
	PROTO_STORE_MEMORY = 1, /* the server keeps the pages: RESOLVED of a major fault
				   carries the page, DATA_RETURN of a dirty one its bytes */
	PROTO_STORE_MAX = 1,
};
/* PROTO_REGISTER .flags */
#define PROTO_REG_ZERO_FILL 0x1u /* first touches are minor (anonymous memory) */
#define PROTO_REG_SAMPLED   0x2u /* the client sees faults only (the KVM host): the
				    server clears a referenced bit by SAMPLE, the client
				    reports the next access by TOUCH */
#define PROTO_REG_HANDOVER  0x4u /* the client will hand its uffd over (PROTO_UFFD): the
				    server maps and unmaps the pages; needs the memory store */
#define PROTO_REG_KEY       0x8u /* a key follows the policy block (PROTO_KEY bytes): the
				    region gets back the pages kept under it, if any */
#define PROTO_REG_KEEP      0x10u /* at the close, keep the region's pages under its key
				     (needs PROTO_REG_KEY and PROTO_REG_HANDOVER) */
#define PROTO_REG_FLAGS     0x1fu
/* The key of a kept region: 1 to PROTO_KEY - 1 characters of [A-Za-z0-9._-],
 * NUL-padded to PROTO_KEY bytes; a key is the client uid's own. */
#define PROTO_KEY           32u
/* PROTO_EVICT and PROTO_DATA_RETURN .flags */
#define PROTO_PAGE_DIRTY 0x1u
/* access, in PROTO_FAULT and PROTO_RESOLVED, as enum access_kind */
#define PROTO_ACCESS_MAX 2u
/* a reference in PROTO_REFS: the page with the write bit on top */
#define PROTO_REF_WRITE 0x80000000u

struct proto_policy {
	char name[PROTO_NAME + 1]; /* NUL-terminated */
	uint64_t seed, tick, window;
	uint32_t aging_bits;
};

struct proto_stats {
	uint64_t refs, faults, major, minor, evictions, writebacks, resident;
	uint64_t pagein_errors, writeback_errors, data_returns;
};

struct proto_msg {
	uint16_t type;
	uint32_t seq;
	union {
		struct { uint16_t min, max; uint32_t max_payload; } hello;
		struct {
			uint32_t npages, page_size, frames;
			uint8_t store, flags;
			struct proto_policy policy;
			char key[PROTO_KEY + 1]; /* with PROTO_REG_KEY, NUL-terminated */
		} reg;
		struct { uint32_t region, frames; } registered;
		struct { uint32_t region, count; const uint8_t *refs; } refs; /* count LE u32s */
		struct { uint32_t region, page; uint8_t access; } fault;
		struct {
			uint32_t region, page, frame;
			uint8_t access;
			uint32_t data_len;
			const uint8_t *data;
		} resolved;
		struct { uint32_t region, page, frame, flags; } evict; /* and sample */
		struct {
			uint32_t region, page, flags, data_len;
			const uint8_t *data;
		} data_return;
		struct {
			uint32_t region, page;
			int32_t err;          /* positive errno */
			uint16_t req_type;
			uint32_t req_seq;
			char text[PROTO_TEXT + 1];
		} error;
		struct { uint32_t region; struct proto_policy policy; } set_policy;
		struct { uint32_t region; } stats;
		struct {
			uint32_t region, frames, clients, frames_free;
			struct proto_stats st;
		} stats_reply;
		struct { uint16_t req_type; uint32_t req_seq; } ack;
		struct { uint32_t reason; } goodbye;
		struct { uint32_t region; uint64_t base; } uffd; /* base: the region's address
								    in the client, page-aligned */
		struct { uint32_t node, nodes, npages; } dsm_join;
		struct { uint32_t node, nodes, npages, page_size; } dsm_joined;
		struct { uint32_t page; uint8_t access; } dsm_request;
		struct {
			uint32_t page;
			uint8_t access;
			uint32_t data_len; /* 0 (an upgrade) or PROTO_DSM_PAGE */
			const uint8_t *data;
		} dsm_grant;
		struct { uint32_t page, mode; } dsm_invalidate;
		struct {
			uint32_t page, mode;
			uint32_t data_len; /* PROTO_DSM_PAGE for RETURN and DOWNGRADE, else 0 */
			const uint8_t *data;
		} dsm_inv_done;
		struct { uint32_t nodes, joined; struct proto_dsm_stats st; } dsm_stats_reply;
	} u;
};

/*
 * Decode the message at the start of buf[0, len). Returns the message's
 * total size (header + payload) with *m filled (its data and refs point into
 * buf), 0 if buf holds only part of a valid message so far, or a negative
 * errno with a one-line reason in why:
 *   -EBADMSG          bad magic, unknown type, wrong payload size, nonzero
 *                     reserved bytes, a field out of its range
 *   -EPROTONOSUPPORT  another version
 *   -EMSGSIZE         len above PROTO_MAX_PAYLOAD
 * After an error, m->type and m->seq hold the header's (0 if unreadable).
 */
long proto_decode(const uint8_t *buf, size_t len, struct proto_msg *m, char *why, size_t whylen);

/* Encode m into out[0, cap). Returns the bytes written, or 0 if cap is too
 * small or m is not a message proto_decode would accept. */
size_t proto_encode(const struct proto_msg *m, uint8_t *out, size_t cap);

/* Whether s is a valid key of a kept region (PROTO_KEY above). */
bool proto_key_valid(const char *s);

/* The name of a type ("fault"), or "unknown". */
const char *proto_type_name(unsigned type);

#endif /* PFLAB_PROTO_H */
