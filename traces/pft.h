/* SPDX-License-Identifier: MIT */
/*
 * pft, pflab's compact binary trace: the layout shared by its reader
 * (fmt_pft.c) and its writer (trace_writer.c). docs/formats.md has the
 * layout byte by byte; in short, all little-endian:
 *
 *   header   48 bytes: magic, version, header size, flags, page size,
 *            and (when FLAG_COUNTS) the counts of the trailer
 *   records  one uint32 per reference: (write << 31) | dense page id
 *   marker   uint32 0xffffffff: the records end here
 *   trailer  uint64 refs, writes, pages
 *   ids      pages x uint64: the original id of dense page 0, 1, ...
 *   end      8 bytes "PFT-END\n"
 *
 * The counts come after the records so that a writer can stream to a pipe
 * or through a compressor; a writer on a plain file also fills them in the
 * header (FLAG_COUNTS) so that a reader can size its arrays up front.
 */
#ifndef PFLAB_PFT_H
#define PFLAB_PFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PFT_MAGIC       "\x89PFT\r\n\x1a\n"
#define PFT_MAGIC_LEN   8
#define PFT_VERSION     1
#define PFT_HEADER_SIZE 48
/* Room a later version may take for a longer header. */
#define PFT_HEADER_MAX  4096
#define PFT_FLAG_COUNTS 0x1u
#define PFT_FLAGS_KNOWN PFT_FLAG_COUNTS

#define PFT_WRITE_BIT   0x80000000u
#define PFT_PAGE_MASK   0x7fffffffu
#define PFT_END_MARKER  0xffffffffu
/* Dense ids run 0 .. PFT_MAX_PAGES - 1, so no record equals the marker. */
#define PFT_MAX_PAGES   0x7fffffffu

#define PFT_TRAILER_SIZE 24
#define PFT_END_MAGIC   "PFT-END\n"
#define PFT_END_LEN     8

struct pft_header {
	uint16_t version;
	uint16_t header_size;
	uint32_t flags;
	uint32_t page_size;  /* of the byte addresses the ids came from; 0: unknown */
	uint64_t refs, writes, pages; /* valid with PFT_FLAG_COUNTS */
};

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static inline void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

void pft_header_encode(const struct pft_header *h, uint8_t out[PFT_HEADER_SIZE]);
/* Decode the first PFT_HEADER_SIZE bytes. 0, or -1 with a reason in why. */
int pft_header_decode(const uint8_t *p, struct pft_header *h, char *why, size_t whylen);

#endif /* PFLAB_PFT_H */
