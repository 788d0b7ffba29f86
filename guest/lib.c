// SPDX-License-Identifier: MIT
/*
 * What a freestanding guest lacks and every file of it uses: memset and
 * memcpy (which the compiler may call on its own), console output and a
 * seedable PRNG. Declared in guest.h.
 */
#include "guest.h"
#include "workload_gen.h"

/* String instructions, so that the compiler cannot turn these back into
 * calls to themselves. */
void *memset(void *d, int c, size_t n)
{
	void *ret = d;

	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return ret;
}

void *memcpy(void *d, const void *s, size_t n)
{
	void *ret = d;

	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
	return ret;
}

void puts_serial(const char *s)
{
	while (*s)
		console_putc(*s++);
}

void put_u64(uint64_t v)
{
	char buf[21], *p = buf + sizeof(buf) - 1;

	*p = '\0';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	puts_serial(p);
}

/* xorshift64*, the workloads' generator (workload_gen.h). */
uint64_t rand64(struct guest *g)
{
	return wlg_rand64(&g->rng);
}
