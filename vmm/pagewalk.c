// SPDX-License-Identifier: MIT
/* The host's walk of the guest's page tables: see pagewalk.h. Definition:
 * Intel SDM vol. 3A, 4.5 "4-level paging" (AMD APM vol. 2, 5.3 the same). */
#include "pagewalk.h"

#include <string.h>

#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LMA (1ull << 10)
#define PTE_P (1ull << 0)
#define PTE_PS (1ull << 7)
#define ADDR_MASK 0x000ffffffffff000ull /* bits 12..51 */

/* A page-table entry at guest-physical gpa, from wired memory only. */
static int read_entry(const struct guest_ram *ram, uint64_t gpa, uint64_t *e)
{
	if (gpa >= ram->wired_size || ram->wired_size - gpa < sizeof(*e))
		return -1;
	memcpy(e, ram->wired + gpa, sizeof(*e));
	return 0;
}

int pagewalk(const struct guest_ram *ram, const struct kvm_sregs *s, uint64_t la, uint64_t *gpa)
{
	uint64_t table = s->cr3 & ADDR_MASK;
	int64_t high = (int64_t)la >> 47;

	if (!(s->cr0 & CR0_PG) || !(s->cr4 & CR4_PAE) || !(s->efer & EFER_LMA) ||
	    (s->cr4 & CR4_LA57) || (high != 0 && high != -1))
		return -1; /* another mode, or not canonical: KVM_TRANSLATE says */
	for (int level = 3; level >= 0; level--) {
		uint64_t e, size = 1ull << (12 + 9 * level);

		if (read_entry(ram, table + ((la >> (12 + 9 * level)) & 511) * 8, &e) != 0 ||
		    !(e & PTE_P))
			return -1;
		if (level == 0 || (e & PTE_PS)) {
			if (level == 3)
				return -1; /* PS in a PML4 entry is reserved */
			*gpa = (e & ADDR_MASK & ~(size - 1)) | (la & (size - 1));
			return 0;
		}
		table = e & ADDR_MASK;
	}
	return -1; /* not reached */
}
