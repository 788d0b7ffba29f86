// SPDX-License-Identifier: MIT
/*
 * The pager-server protocol's decoder (vmm/server/proto.c): the input is a
 * byte stream as a client would send it, decoded message after message as
 * the server does. Properties: a message decoded re-encodes to exactly its
 * bytes (the encoding is canonical: every field is checked, reserved bytes
 * are zero, names NUL-padded); a refusal gives a reason; "more bytes
 * needed" comes only for a prefix shorter than a header or than the length
 * the header announces, within the maximum.
 */
#include "fuzz.h"

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[PROTO_MAX_MSG];
	size_t off = 0;

	while (off < size) {
		struct proto_msg m;
		char why[160] = "";
		long used = proto_decode(data + off, size - off, &m, why, sizeof(why));

		if (used < 0) {
			FUZZ_CHECK(why[0]);
			break;
		}
		if (used == 0) {
			size_t left = size - off;

			FUZZ_CHECK(left < PROTO_HDR ||
				   left < PROTO_HDR + ((size_t)data[off + 12] | (size_t)data[off + 13] << 8 |
						       (size_t)data[off + 14] << 16 |
						       (size_t)data[off + 15] << 24));
			break;
		}
		FUZZ_CHECK((size_t)used >= PROTO_HDR && (size_t)used <= PROTO_MAX_MSG &&
			   (size_t)used <= size - off);
		FUZZ_CHECK(proto_encode(&m, out, sizeof(out)) == (size_t)used);
		FUZZ_CHECK(memcmp(out, data + off, (size_t)used) == 0);
		off += (size_t)used;
	}
	return 0;
}
