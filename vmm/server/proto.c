// SPDX-License-Identifier: MIT
/*
 * The pager-server protocol's encoder and decoder: see proto.h, and
 * docs/external-pager.md for the layout of every message. A cursor walks
 * the payload; every read is bounds-checked against the payload's length,
 * which the header gave and proto_decode checked against the type's size
 * before any field is read.
 */
#include "proto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define POLICY_BLOCK 48u /* name[16] seed tick window aging_bits reserved */

/* Fixed payload sizes by type; 0 for the two with a counted tail. */
static const uint32_t fixed_len[PROTO_TYPE_MAX + 1] = {
	[PROTO_HELLO] = 8,
	[PROTO_REGISTER] = 16 + POLICY_BLOCK,
	[PROTO_REGISTERED] = 8,
	[PROTO_REFS] = 8,         /* + 4 * count */
	[PROTO_FAULT] = 12,
	[PROTO_RESOLVED] = 20,    /* + data_len */
	[PROTO_EVICT] = 16,
	[PROTO_DATA_RETURN] = 16, /* + data_len */
	[PROTO_ERROR] = 20 + PROTO_TEXT,
	[PROTO_SET_POLICY] = 8 + POLICY_BLOCK,
	[PROTO_STATS] = 8,
	[PROTO_STATS_REPLY] = 16 + 10 * 8,
	[PROTO_ACK] = 8,
	[PROTO_GOODBYE] = 8,
	[PROTO_SAMPLE] = 16,
	[PROTO_TOUCH] = 8,        /* + 4 * count */
	[PROTO_UFFD] = 16,
	[PROTO_DSM_JOIN] = 16,
	[PROTO_DSM_JOINED] = 16,
	[PROTO_DSM_REQUEST] = 8,
	[PROTO_DSM_GRANT] = 12,     /* + data_len */
	[PROTO_DSM_INVALIDATE] = 8,
	[PROTO_DSM_INV_DONE] = 12,  /* + data_len */
	[PROTO_DSM_LEAVE] = 8,
	[PROTO_DSM_STATS] = 8,
	[PROTO_DSM_STATS_REPLY] = 8 + 8 * 8,
};

static const char *const type_names[PROTO_TYPE_MAX + 1] = {
	[PROTO_HELLO] = "hello", [PROTO_REGISTER] = "register",
	[PROTO_REGISTERED] = "registered", [PROTO_REFS] = "refs",
	[PROTO_FAULT] = "fault", [PROTO_RESOLVED] = "resolved",
	[PROTO_EVICT] = "evict", [PROTO_DATA_RETURN] = "data-return",
	[PROTO_ERROR] = "error", [PROTO_SET_POLICY] = "set-policy",
	[PROTO_STATS] = "stats", [PROTO_STATS_REPLY] = "stats-reply",
	[PROTO_ACK] = "ack", [PROTO_GOODBYE] = "goodbye",
	[PROTO_SAMPLE] = "sample", [PROTO_TOUCH] = "touch", [PROTO_UFFD] = "uffd",
	[PROTO_DSM_JOIN] = "dsm-join", [PROTO_DSM_JOINED] = "dsm-joined",
	[PROTO_DSM_REQUEST] = "dsm-request", [PROTO_DSM_GRANT] = "dsm-grant",
	[PROTO_DSM_INVALIDATE] = "dsm-invalidate", [PROTO_DSM_INV_DONE] = "dsm-inv-done",
	[PROTO_DSM_LEAVE] = "dsm-leave", [PROTO_DSM_STATS] = "dsm-stats",
	[PROTO_DSM_STATS_REPLY] = "dsm-stats-reply",
};

const char *proto_type_name(unsigned type)
{
	return type >= 1 && type <= PROTO_TYPE_MAX && type_names[type] ? type_names[type]
									 : "unknown";
}

/* ---- little-endian fields ------------------------------------------- */

static uint64_t get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* A read cursor over a payload of known length. */
struct rd {
	const uint8_t *p;
	size_t left;
	bool bad; /* a reserved field was nonzero */
};

static uint64_t rd(struct rd *r, unsigned n)
{
	uint64_t v;

	if (r->left < n) { /* unreachable: sizes are checked first */
		r->bad = true;
		return 0;
	}
	v = get_le(r->p, n);
	r->p += n;
	r->left -= n;
	return v;
}

static void rd_zero(struct rd *r, unsigned n)
{
	if (rd(r, n) != 0)
		r->bad = true;
}

/* A NUL-padded text field: printable ASCII, then only NULs. */
static bool rd_text(struct rd *r, char *out, unsigned n)
{
	bool ended = false, ok = r->left >= n;

	for (unsigned i = 0; ok && i < n; i++) {
		uint8_t c = r->p[i];

		if (c == 0)
			ended = true;
		else if (ended || c < 0x20 || c > 0x7e)
			ok = false;
		out[i] = (char)c;
	}
	out[n] = 0;
	if (r->left >= n) {
		r->p += n;
		r->left -= n;
	}
	return ok;
}

struct wr {
	uint8_t *p;
};

static void wr(struct wr *w, uint64_t v, unsigned n)
{
	put_le(w->p, v, n);
	w->p += n;
}

static void wr_text(struct wr *w, const char *s, unsigned n)
{
	size_t len = strnlen(s, n);

	memset(w->p, 0, n);
	memcpy(w->p, s, len);
	w->p += n;
}

/* ---- decoding -------------------------------------------------------- */

static long fail(char *why, size_t whylen, long rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static long fail(char *why, size_t whylen, long rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return rc;
}

bool proto_key_valid(const char *s)
{
	size_t n = strnlen(s, PROTO_KEY);

	if (n == 0 || n >= PROTO_KEY)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

static bool valid_name(const char *s)
{
	return s[0] != 0; /* printable and padded: rd_text checked */
}

/* The policy block of register and set-policy. Ranges as the command line's
 * knobs (tools/pflab/cli.c): tick <= 2^63-1, window 1..2^63-1, aging 1..64. */
static bool rd_policy(struct rd *r, struct proto_policy *pol)
{
	bool ok = rd_text(r, pol->name, PROTO_NAME) && valid_name(pol->name);

	pol->seed = rd(r, 8);
	pol->tick = rd(r, 8);
	pol->window = rd(r, 8);
	pol->aging_bits = (uint32_t)rd(r, 4);
	rd_zero(r, 4);
	return ok && pol->tick <= UINT64_MAX / 2 && pol->window >= 1 &&
	       pol->window <= UINT64_MAX / 2 && pol->aging_bits >= 1 && pol->aging_bits <= 64;
}

static void wr_policy(struct wr *w, const struct proto_policy *pol)
{
	wr_text(w, pol->name, PROTO_NAME);
	wr(w, pol->seed, 8);
	wr(w, pol->tick, 8);
	wr(w, pol->window, 8);
	wr(w, pol->aging_bits, 4);
	wr(w, 0, 4);
}

/* The payload of m->type, of exactly len bytes. false: a field is invalid. */
static bool decode_payload(struct rd *r, uint32_t len, struct proto_msg *m)
{
	switch (m->type) {
	case PROTO_HELLO:
		m->u.hello.min = (uint16_t)rd(r, 2);
		m->u.hello.max = (uint16_t)rd(r, 2);
		m->u.hello.max_payload = (uint32_t)rd(r, 4);
		return m->u.hello.min >= 1 && m->u.hello.min <= m->u.hello.max &&
		       m->u.hello.max_payload >= 1024;
	case PROTO_REGISTER: {
		uint32_t ps;

		m->u.reg.npages = (uint32_t)rd(r, 4);
		ps = m->u.reg.page_size = (uint32_t)rd(r, 4);
		m->u.reg.frames = (uint32_t)rd(r, 4);
		m->u.reg.store = (uint8_t)rd(r, 1);
		m->u.reg.flags = (uint8_t)rd(r, 1);
		rd_zero(r, 2);
		if (!rd_policy(r, &m->u.reg.policy))
			return false;
		/* The key, only with its flag; keep only with a key. */
		if (len != 16 + POLICY_BLOCK + ((m->u.reg.flags & PROTO_REG_KEY) ? PROTO_KEY : 0) ||
		    ((m->u.reg.flags & PROTO_REG_KEEP) && !(m->u.reg.flags & PROTO_REG_KEY)))
			return false;
		if ((m->u.reg.flags & PROTO_REG_KEY) &&
		    (!rd_text(r, m->u.reg.key, PROTO_KEY) || !proto_key_valid(m->u.reg.key)))
			return false;
		return m->u.reg.npages >= 1 &&
		       m->u.reg.npages <= 0x80000000u && ps && !(ps & (ps - 1)) &&
		       ps <= 1u << 30 && m->u.reg.frames >= 1 && m->u.reg.frames < UINT32_MAX &&
		       m->u.reg.store <= PROTO_STORE_MAX && !(m->u.reg.flags & ~PROTO_REG_FLAGS);
	}
	case PROTO_REGISTERED:
		m->u.registered.region = (uint32_t)rd(r, 4);
		m->u.registered.frames = (uint32_t)rd(r, 4);
		return m->u.registered.region != 0 && m->u.registered.frames != 0;
	case PROTO_REFS:
	case PROTO_TOUCH:
		m->u.refs.region = (uint32_t)rd(r, 4);
		m->u.refs.count = (uint32_t)rd(r, 4);
		m->u.refs.refs = r->p;
		return m->u.refs.count >= 1 && m->u.refs.count <= PROTO_MAX_REFS &&
		       len == 8 + 4 * m->u.refs.count;
	case PROTO_FAULT:
		m->u.fault.region = (uint32_t)rd(r, 4);
		m->u.fault.page = (uint32_t)rd(r, 4);
		m->u.fault.access = (uint8_t)rd(r, 1);
		rd_zero(r, 3);
		return m->u.fault.access <= PROTO_ACCESS_MAX;
	case PROTO_RESOLVED:
		m->u.resolved.region = (uint32_t)rd(r, 4);
		m->u.resolved.page = (uint32_t)rd(r, 4);
		m->u.resolved.frame = (uint32_t)rd(r, 4);
		m->u.resolved.access = (uint8_t)rd(r, 1);
		rd_zero(r, 3);
		m->u.resolved.data_len = (uint32_t)rd(r, 4);
		m->u.resolved.data = r->p;
		return m->u.resolved.access <= PROTO_ACCESS_MAX &&
		       m->u.resolved.data_len <= PROTO_MAX_DATA && len == 20 + m->u.resolved.data_len;
	case PROTO_EVICT:
	case PROTO_SAMPLE:
		m->u.evict.region = (uint32_t)rd(r, 4);
		m->u.evict.page = (uint32_t)rd(r, 4);
		m->u.evict.frame = (uint32_t)rd(r, 4);
		m->u.evict.flags = (uint32_t)rd(r, 4);
		return !(m->u.evict.flags & ~PROTO_PAGE_DIRTY) &&
		       (m->type == PROTO_EVICT || !m->u.evict.flags);
	case PROTO_DATA_RETURN:
		m->u.data_return.region = (uint32_t)rd(r, 4);
		m->u.data_return.page = (uint32_t)rd(r, 4);
		m->u.data_return.flags = (uint32_t)rd(r, 4);
		m->u.data_return.data_len = (uint32_t)rd(r, 4);
		m->u.data_return.data = r->p;
		return !(m->u.data_return.flags & ~PROTO_PAGE_DIRTY) &&
		       m->u.data_return.data_len <= PROTO_MAX_DATA &&
		       len == 16 + m->u.data_return.data_len;
	case PROTO_ERROR:
		m->u.error.region = (uint32_t)rd(r, 4);
		m->u.error.page = (uint32_t)rd(r, 4);
		m->u.error.err = (int32_t)(uint32_t)rd(r, 4);
		m->u.error.req_type = (uint16_t)rd(r, 2);
		rd_zero(r, 2);
		m->u.error.req_seq = (uint32_t)rd(r, 4);
		return rd_text(r, m->u.error.text, PROTO_TEXT) && m->u.error.err > 0 &&
		       m->u.error.err < 4096 && m->u.error.req_type <= PROTO_TYPE_MAX &&
		       (!m->u.error.req_type || type_names[m->u.error.req_type]);
	case PROTO_DSM_JOIN:
		m->u.dsm_join.node = (uint32_t)rd(r, 4);
		m->u.dsm_join.nodes = (uint32_t)rd(r, 4);
		m->u.dsm_join.npages = (uint32_t)rd(r, 4);
		rd_zero(r, 4);
		return m->u.dsm_join.nodes >= 1 && m->u.dsm_join.nodes <= PROTO_DSM_MAX_NODES &&
		       m->u.dsm_join.node < m->u.dsm_join.nodes && m->u.dsm_join.npages >= 1 &&
		       m->u.dsm_join.npages <= PROTO_DSM_MAX_PAGES;
	case PROTO_DSM_JOINED:
		m->u.dsm_joined.node = (uint32_t)rd(r, 4);
		m->u.dsm_joined.nodes = (uint32_t)rd(r, 4);
		m->u.dsm_joined.npages = (uint32_t)rd(r, 4);
		m->u.dsm_joined.page_size = (uint32_t)rd(r, 4);
		return m->u.dsm_joined.nodes >= 1 && m->u.dsm_joined.nodes <= PROTO_DSM_MAX_NODES &&
		       m->u.dsm_joined.node < m->u.dsm_joined.nodes && m->u.dsm_joined.npages >= 1 &&
		       m->u.dsm_joined.npages <= PROTO_DSM_MAX_PAGES &&
		       m->u.dsm_joined.page_size == PROTO_DSM_PAGE;
	case PROTO_DSM_REQUEST:
		m->u.dsm_request.page = (uint32_t)rd(r, 4);
		m->u.dsm_request.access = (uint8_t)rd(r, 1);
		rd_zero(r, 3);
		return m->u.dsm_request.access <= PROTO_DSM_WRITE;
	case PROTO_DSM_GRANT:
		m->u.dsm_grant.page = (uint32_t)rd(r, 4);
		m->u.dsm_grant.access = (uint8_t)rd(r, 1);
		rd_zero(r, 3);
		m->u.dsm_grant.data_len = (uint32_t)rd(r, 4);
		m->u.dsm_grant.data = r->p;
		/* Only a write may come without the page (an upgrade). */
		return m->u.dsm_grant.access <= PROTO_DSM_WRITE &&
		       (m->u.dsm_grant.data_len == PROTO_DSM_PAGE ||
			(m->u.dsm_grant.data_len == 0 && m->u.dsm_grant.access == PROTO_DSM_WRITE)) &&
		       len == 12 + m->u.dsm_grant.data_len;
	case PROTO_DSM_INVALIDATE:
		m->u.dsm_invalidate.page = (uint32_t)rd(r, 4);
		m->u.dsm_invalidate.mode = (uint32_t)rd(r, 4);
		return m->u.dsm_invalidate.mode <= PROTO_DSM_MODE_MAX;
	case PROTO_DSM_INV_DONE:
		m->u.dsm_inv_done.page = (uint32_t)rd(r, 4);
		m->u.dsm_inv_done.mode = (uint32_t)rd(r, 4);
		m->u.dsm_inv_done.data_len = (uint32_t)rd(r, 4);
		m->u.dsm_inv_done.data = r->p;
		return m->u.dsm_inv_done.mode <= PROTO_DSM_MODE_MAX &&
		       m->u.dsm_inv_done.data_len ==
			       (m->u.dsm_inv_done.mode == PROTO_DSM_DROP ? 0 : PROTO_DSM_PAGE) &&
		       len == 12 + m->u.dsm_inv_done.data_len;
	case PROTO_DSM_LEAVE:
	case PROTO_DSM_STATS:
		rd_zero(r, 8);
		return true;
	case PROTO_DSM_STATS_REPLY: {
		uint64_t *f = &m->u.dsm_stats_reply.st.requests;

		m->u.dsm_stats_reply.nodes = (uint32_t)rd(r, 4);
		m->u.dsm_stats_reply.joined = (uint32_t)rd(r, 4);
		for (unsigned i = 0; i < 8; i++)
			f[i] = rd(r, 8);
		return true;
	}
	case PROTO_SET_POLICY:
		m->u.set_policy.region = (uint32_t)rd(r, 4);
		rd_zero(r, 4);
		return rd_policy(r, &m->u.set_policy.policy);
	case PROTO_STATS:
		m->u.stats.region = (uint32_t)rd(r, 4);
		rd_zero(r, 4);
		return true;
	case PROTO_STATS_REPLY: {
		uint64_t *f = &m->u.stats_reply.st.refs;

		m->u.stats_reply.region = (uint32_t)rd(r, 4);
		m->u.stats_reply.frames = (uint32_t)rd(r, 4);
		m->u.stats_reply.clients = (uint32_t)rd(r, 4);
		m->u.stats_reply.frames_free = (uint32_t)rd(r, 4);
		for (unsigned i = 0; i < 10; i++)
			f[i] = rd(r, 8);
		return true;
	}
	case PROTO_ACK:
		m->u.ack.req_type = (uint16_t)rd(r, 2);
		rd_zero(r, 2);
		m->u.ack.req_seq = (uint32_t)rd(r, 4);
		return m->u.ack.req_type >= 1 && m->u.ack.req_type <= PROTO_TYPE_MAX &&
		       type_names[m->u.ack.req_type];
	case PROTO_GOODBYE:
		m->u.goodbye.reason = (uint32_t)rd(r, 4);
		rd_zero(r, 4);
		return true;
	case PROTO_UFFD:
		m->u.uffd.region = (uint32_t)rd(r, 4);
		rd_zero(r, 4);
		m->u.uffd.base = rd(r, 8);
		return m->u.uffd.base && !(m->u.uffd.base % 4096);
	}
	return false;
}

long proto_decode(const uint8_t *buf, size_t len, struct proto_msg *m, char *why, size_t whylen)
{
	uint32_t magic, version, type, plen, want;
	struct rd r;

	memset(m, 0, sizeof(*m));
	if (len < PROTO_HDR) {
		/* A prefix of the magic is the only thing a short buffer can
		 * already be wrong about. */
		for (size_t i = 0; i < len && i < 4; i++)
			if (buf[i] != (uint8_t)(PROTO_MAGIC >> (8 * i)))
				return fail(why, whylen, -EBADMSG, "bad magic");
		return 0;
	}
	magic = (uint32_t)get_le(buf, 4);
	version = (uint32_t)get_le(buf + 4, 2);
	type = (uint32_t)get_le(buf + 6, 2);
	m->seq = (uint32_t)get_le(buf + 8, 4);
	plen = (uint32_t)get_le(buf + 12, 4);
	if (magic != PROTO_MAGIC)
		return fail(why, whylen, -EBADMSG, "bad magic 0x%08x", magic);
	m->type = (uint16_t)type;
	if (version != PROTO_VERSION)
		return fail(why, whylen, -EPROTONOSUPPORT, "version %u, this side speaks %u", version,
			    PROTO_VERSION);
	if (type < 1 || type > PROTO_TYPE_MAX || !type_names[type])
		return fail(why, whylen, -EBADMSG, "unknown message type %u", type);
	if (plen > PROTO_MAX_PAYLOAD)
		return fail(why, whylen, -EMSGSIZE, "%s: payload of %u bytes, at most %u",
			    proto_type_name(type), plen, PROTO_MAX_PAYLOAD);
	want = fixed_len[type];
	if (plen < want || (plen != want && type != PROTO_REFS && type != PROTO_TOUCH &&
			    !(type == PROTO_REGISTER && plen == want + PROTO_KEY) &&
			    type != PROTO_RESOLVED && type != PROTO_DATA_RETURN &&
			    type != PROTO_DSM_GRANT && type != PROTO_DSM_INV_DONE))
		return fail(why, whylen, -EBADMSG, "%s: payload of %u bytes, expected %u",
			    proto_type_name(type), plen, want);
	if (len - PROTO_HDR < plen)
		return 0;
	r = (struct rd){ .p = buf + PROTO_HDR, .left = plen };
	if (!decode_payload(&r, plen, m) || r.bad)
		return fail(why, whylen, -EBADMSG, "%s: a field is out of range or reserved bytes are set",
			    proto_type_name(type));
	return (long)(PROTO_HDR + plen);
}

/* ---- encoding -------------------------------------------------------- */

static uint32_t payload_len(const struct proto_msg *m)
{
	switch (m->type) {
	case PROTO_REFS:
	case PROTO_TOUCH: return 8 + 4 * m->u.refs.count;
	case PROTO_RESOLVED: return 20 + m->u.resolved.data_len;
	case PROTO_DATA_RETURN: return 16 + m->u.data_return.data_len;
	case PROTO_DSM_GRANT: return 12 + m->u.dsm_grant.data_len;
	case PROTO_DSM_INV_DONE: return 12 + m->u.dsm_inv_done.data_len;
	case PROTO_REGISTER:
		return fixed_len[m->type] + ((m->u.reg.flags & PROTO_REG_KEY) ? PROTO_KEY : 0);
	default: return fixed_len[m->type];
	}
}

static void encode_payload(const struct proto_msg *m, struct wr *w)
{
	switch (m->type) {
	case PROTO_HELLO:
		wr(w, m->u.hello.min, 2);
		wr(w, m->u.hello.max, 2);
		wr(w, m->u.hello.max_payload, 4);
		break;
	case PROTO_REGISTER:
		wr(w, m->u.reg.npages, 4);
		wr(w, m->u.reg.page_size, 4);
		wr(w, m->u.reg.frames, 4);
		wr(w, m->u.reg.store, 1);
		wr(w, m->u.reg.flags, 1);
		wr(w, 0, 2);
		wr_policy(w, &m->u.reg.policy);
		if (m->u.reg.flags & PROTO_REG_KEY)
			wr_text(w, m->u.reg.key, PROTO_KEY);
		break;
	case PROTO_REGISTERED:
		wr(w, m->u.registered.region, 4);
		wr(w, m->u.registered.frames, 4);
		break;
	case PROTO_REFS:
	case PROTO_TOUCH:
		wr(w, m->u.refs.region, 4);
		wr(w, m->u.refs.count, 4);
		memcpy(w->p, m->u.refs.refs, 4 * (size_t)m->u.refs.count);
		w->p += 4 * (size_t)m->u.refs.count;
		break;
	case PROTO_FAULT:
		wr(w, m->u.fault.region, 4);
		wr(w, m->u.fault.page, 4);
		wr(w, m->u.fault.access, 1);
		wr(w, 0, 3);
		break;
	case PROTO_RESOLVED:
		wr(w, m->u.resolved.region, 4);
		wr(w, m->u.resolved.page, 4);
		wr(w, m->u.resolved.frame, 4);
		wr(w, m->u.resolved.access, 1);
		wr(w, 0, 3);
		wr(w, m->u.resolved.data_len, 4);
		if (m->u.resolved.data_len)
			memcpy(w->p, m->u.resolved.data, m->u.resolved.data_len);
		w->p += m->u.resolved.data_len;
		break;
	case PROTO_EVICT:
	case PROTO_SAMPLE:
		wr(w, m->u.evict.region, 4);
		wr(w, m->u.evict.page, 4);
		wr(w, m->u.evict.frame, 4);
		wr(w, m->u.evict.flags, 4);
		break;
	case PROTO_DATA_RETURN:
		wr(w, m->u.data_return.region, 4);
		wr(w, m->u.data_return.page, 4);
		wr(w, m->u.data_return.flags, 4);
		wr(w, m->u.data_return.data_len, 4);
		if (m->u.data_return.data_len)
			memcpy(w->p, m->u.data_return.data, m->u.data_return.data_len);
		w->p += m->u.data_return.data_len;
		break;
	case PROTO_ERROR:
		wr(w, m->u.error.region, 4);
		wr(w, m->u.error.page, 4);
		wr(w, (uint32_t)m->u.error.err, 4);
		wr(w, m->u.error.req_type, 2);
		wr(w, 0, 2);
		wr(w, m->u.error.req_seq, 4);
		wr_text(w, m->u.error.text, PROTO_TEXT);
		break;
	case PROTO_SET_POLICY:
		wr(w, m->u.set_policy.region, 4);
		wr(w, 0, 4);
		wr_policy(w, &m->u.set_policy.policy);
		break;
	case PROTO_STATS:
		wr(w, m->u.stats.region, 4);
		wr(w, 0, 4);
		break;
	case PROTO_STATS_REPLY: {
		const uint64_t *f = &m->u.stats_reply.st.refs;

		wr(w, m->u.stats_reply.region, 4);
		wr(w, m->u.stats_reply.frames, 4);
		wr(w, m->u.stats_reply.clients, 4);
		wr(w, m->u.stats_reply.frames_free, 4);
		for (unsigned i = 0; i < 10; i++)
			wr(w, f[i], 8);
		break;
	}
	case PROTO_ACK:
		wr(w, m->u.ack.req_type, 2);
		wr(w, 0, 2);
		wr(w, m->u.ack.req_seq, 4);
		break;
	case PROTO_GOODBYE:
		wr(w, m->u.goodbye.reason, 4);
		wr(w, 0, 4);
		break;
	case PROTO_UFFD:
		wr(w, m->u.uffd.region, 4);
		wr(w, 0, 4);
		wr(w, m->u.uffd.base, 8);
		break;
	case PROTO_DSM_JOIN:
		wr(w, m->u.dsm_join.node, 4);
		wr(w, m->u.dsm_join.nodes, 4);
		wr(w, m->u.dsm_join.npages, 4);
		wr(w, 0, 4);
		break;
	case PROTO_DSM_JOINED:
		wr(w, m->u.dsm_joined.node, 4);
		wr(w, m->u.dsm_joined.nodes, 4);
		wr(w, m->u.dsm_joined.npages, 4);
		wr(w, m->u.dsm_joined.page_size, 4);
		break;
	case PROTO_DSM_REQUEST:
		wr(w, m->u.dsm_request.page, 4);
		wr(w, m->u.dsm_request.access, 1);
		wr(w, 0, 3);
		break;
	case PROTO_DSM_GRANT:
		wr(w, m->u.dsm_grant.page, 4);
		wr(w, m->u.dsm_grant.access, 1);
		wr(w, 0, 3);
		wr(w, m->u.dsm_grant.data_len, 4);
		if (m->u.dsm_grant.data_len)
			memcpy(w->p, m->u.dsm_grant.data, m->u.dsm_grant.data_len);
		w->p += m->u.dsm_grant.data_len;
		break;
	case PROTO_DSM_INVALIDATE:
		wr(w, m->u.dsm_invalidate.page, 4);
		wr(w, m->u.dsm_invalidate.mode, 4);
		break;
	case PROTO_DSM_INV_DONE:
		wr(w, m->u.dsm_inv_done.page, 4);
		wr(w, m->u.dsm_inv_done.mode, 4);
		wr(w, m->u.dsm_inv_done.data_len, 4);
		if (m->u.dsm_inv_done.data_len)
			memcpy(w->p, m->u.dsm_inv_done.data, m->u.dsm_inv_done.data_len);
		w->p += m->u.dsm_inv_done.data_len;
		break;
	case PROTO_DSM_LEAVE:
	case PROTO_DSM_STATS:
		wr(w, 0, 8);
		break;
	case PROTO_DSM_STATS_REPLY: {
		const uint64_t *f = &m->u.dsm_stats_reply.st.requests;

		wr(w, m->u.dsm_stats_reply.nodes, 4);
		wr(w, m->u.dsm_stats_reply.joined, 4);
		for (unsigned i = 0; i < 8; i++)
			wr(w, f[i], 8);
		break;
	}
	}
}

size_t proto_encode(const struct proto_msg *m, uint8_t *out, size_t cap)
{
	struct wr w = { out };
	uint32_t plen;

	if (m->type < 1 || m->type > PROTO_TYPE_MAX || !type_names[m->type])
		return 0;
	if ((m->type == PROTO_DSM_GRANT && m->u.dsm_grant.data_len > PROTO_DSM_PAGE) ||
	    (m->type == PROTO_DSM_INV_DONE && m->u.dsm_inv_done.data_len > PROTO_DSM_PAGE) ||
	    ((m->type == PROTO_REFS || m->type == PROTO_TOUCH) && m->u.refs.count > PROTO_MAX_REFS) ||
	    (m->type == PROTO_RESOLVED && m->u.resolved.data_len > PROTO_MAX_DATA) ||
	    (m->type == PROTO_REGISTER && (m->u.reg.flags & PROTO_REG_KEY) &&
	     !proto_key_valid(m->u.reg.key)) ||
	    (m->type == PROTO_DATA_RETURN && m->u.data_return.data_len > PROTO_MAX_DATA))
		return 0;
	plen = payload_len(m);
	if (cap < PROTO_HDR + (size_t)plen)
		return 0;
	wr(&w, PROTO_MAGIC, 4);
	wr(&w, PROTO_VERSION, 2);
	wr(&w, m->type, 2);
	wr(&w, m->seq, 4);
	wr(&w, plen, 4);
	encode_payload(m, &w);
	return PROTO_HDR + (size_t)plen;
}
