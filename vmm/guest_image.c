// SPDX-License-Identifier: MIT
/* The bundled guest and the ELF loader: see guest_image.h. */
#include "guest_image.h"

#include <elf.h>
#include <stdio.h>
#include <string.h>

#ifndef PFLAB_GUEST_ELF
#error "PFLAB_GUEST_ELF names the guest image: build through guest/guest.mk"
#endif

/* The image as read-only data of this object; guest/guest.mk makes the
 * image a prerequisite of this object so that a new guest relinks pflab. */
__asm__(".pushsection .rodata.pflab_guest, \"a\"\n"
	".balign 64\n"
	"pflab_guest_start:\n"
	".incbin \"" PFLAB_GUEST_ELF "\"\n"
	"pflab_guest_end:\n"
	".popsection\n");

extern const uint8_t pflab_guest_start[] __asm__("pflab_guest_start");
extern const uint8_t pflab_guest_end[] __asm__("pflab_guest_end");

const uint8_t *guest_image(size_t *len)
{
	*len = (size_t)(pflab_guest_end - pflab_guest_start);
	return pflab_guest_start;
}

int elf_load(const uint8_t *img, size_t len, uint8_t *mem, uint64_t mem_size, uint64_t *entry,
	     char *err, size_t errlen)
{
	Elf64_Ehdr eh;

	if (len < sizeof(eh)) {
		snprintf(err, errlen, "guest image: %zu bytes is too short for an ELF header", len);
		return -1;
	}
	memcpy(&eh, img, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_machine != EM_X86_64 || eh.e_type != ET_EXEC) {
		snprintf(err, errlen, "guest image: not an x86-64 ELF64 executable");
		return -1;
	}
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > len ||
	    (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > len - eh.e_phoff) {
		snprintf(err, errlen, "guest image: program headers out of the file");
		return -1;
	}
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, img + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_filesz > ph.p_memsz || ph.p_offset > len || ph.p_filesz > len - ph.p_offset ||
		    ph.p_paddr > mem_size || ph.p_memsz > mem_size - ph.p_paddr) {
			snprintf(err, errlen,
				 "guest image: segment %u (0x%llx, %llu bytes) does not fit in 0x%llx bytes of wired memory",
				 i, (unsigned long long)ph.p_paddr, (unsigned long long)ph.p_memsz,
				 (unsigned long long)mem_size);
			return -1;
		}
		memcpy(mem + ph.p_paddr, img + ph.p_offset, ph.p_filesz);
		memset(mem + ph.p_paddr + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
	}
	*entry = eh.e_entry;
	return 0;
}
