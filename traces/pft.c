// SPDX-License-Identifier: MIT
/* The pft header, encoded and checked: see pft.h and docs/formats.md. */
#include "pft.h"

#include <stdio.h>

/*
 *  0  8  magic "\x89PFT\r\n\x1a\n"
 *  8  2  version
 * 10  2  header size (48 in version 1)
 * 12  4  flags
 * 16  4  page size
 * 20  4  reserved, 0
 * 24  8  refs    }
 * 32  8  writes  } with PFT_FLAG_COUNTS, else 0
 * 40  8  pages   }
 */
void pft_header_encode(const struct pft_header *h, uint8_t out[PFT_HEADER_SIZE])
{
	memset(out, 0, PFT_HEADER_SIZE);
	memcpy(out, PFT_MAGIC, PFT_MAGIC_LEN);
	put_le16(out + 8, h->version);
	put_le16(out + 10, h->header_size);
	put_le32(out + 12, h->flags);
	put_le32(out + 16, h->page_size);
	put_le64(out + 24, h->refs);
	put_le64(out + 32, h->writes);
	put_le64(out + 40, h->pages);
}

int pft_header_decode(const uint8_t *p, struct pft_header *h, char *why, size_t whylen)
{
	if (memcmp(p, PFT_MAGIC, PFT_MAGIC_LEN) != 0) {
		snprintf(why, whylen, "not a pft trace (bad magic)");
		return -1;
	}
	h->version = (uint16_t)(p[8] | p[9] << 8);
	h->header_size = (uint16_t)(p[10] | p[11] << 8);
	h->flags = get_le32(p + 12);
	h->page_size = get_le32(p + 16);
	h->refs = get_le64(p + 24);
	h->writes = get_le64(p + 32);
	h->pages = get_le64(p + 40);
	if (h->version != PFT_VERSION) {
		snprintf(why, whylen, "pft version %u is not supported (this pflab reads version %u)",
			 h->version, PFT_VERSION);
		return -1;
	}
	if (h->header_size < PFT_HEADER_SIZE || h->header_size > PFT_HEADER_MAX) {
		snprintf(why, whylen, "bad pft header size %u", h->header_size);
		return -1;
	}
	if (h->flags & ~PFT_FLAGS_KNOWN) {
		snprintf(why, whylen, "unknown pft flags 0x%x", h->flags & ~PFT_FLAGS_KNOWN);
		return -1;
	}
	if (h->page_size & (h->page_size - 1)) {
		snprintf(why, whylen, "page size %u in the pft header is not a power of two",
			 h->page_size);
		return -1;
	}
	if ((h->flags & PFT_FLAG_COUNTS) &&
	    (h->writes > h->refs || h->pages > h->refs || h->pages > PFT_MAX_PAGES)) {
		snprintf(why, whylen, "inconsistent counts in the pft header");
		return -1;
	}
	return 0;
}
