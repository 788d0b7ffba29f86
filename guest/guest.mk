# SPDX-License-Identifier: MIT
# The guest: freestanding x86-64 code with its own flags (never the host's,
# never the sanitizers': a SAN=1 build makes the very same guest). Included
# by the top-level Makefile.
#
# The ELF is carried inside the pflab binary: vmm/guest_image.c includes
# it with .incbin, so it is a prerequisite of that object.

GUEST_CC      := $(CC)
GUEST_CFLAGS  := -std=c11 -O2 -g -Wall -Wextra -Werror -MMD -MP \
		 -ffreestanding -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only \
		 -mcmodel=small -fno-stack-protector -fno-asynchronous-unwind-tables \
		 -fcf-protection=none -fno-tree-loop-distribute-patterns -Iguest
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,-T,guest/guest.ld -Wl,--build-id=none \
		 -Wl,-z,noexecstack -Wl,-z,max-page-size=4096 -Wl,--no-warn-rwx-segments
GUEST_SRC     := $(wildcard guest/*.c guest/*.S)
GUEST_OBJ     := $(GUEST_SRC:%=$(BUILD)/%.o)
GUEST_ELF     := $(BUILD)/guest/pflab-guest.elf

guest: $(GUEST_ELF)

$(GUEST_ELF): $(GUEST_OBJ) guest/guest.ld
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -o $@ $(GUEST_OBJ)

$(BUILD)/guest/%.c.o: guest/%.c
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c -o $@ $<

$(BUILD)/guest/%.S.o: guest/%.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c -o $@ $<

$(BUILD)/vmm/guest_image.o: $(GUEST_ELF)
$(BUILD)/vmm/guest_image.o: CFLAGS += -DPFLAB_GUEST_ELF='"$(GUEST_ELF)"'

-include $(GUEST_OBJ:.o=.d)
