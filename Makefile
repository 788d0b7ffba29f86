# pflab — a page-fault lab.
#
#   make            build build/pflab, the QEMU plugin build/libpflab-qemu.so
#                   and the guest image
#   make run        install what is missing, build, run the main job on a bundled default
#   make test       install what is missing, build, run every test suite
#   make test SAN=1 the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench      the benchmarks of docs/performance.md
#   make fuzz       build the libFuzzer harnesses of tests/fuzz/ in build/fuzz;
#                   with FUZZ_S=N, run each N seconds (docs/testing.md#fuzzing)
#
# Sources are found by wildcard: a new policy under vmm/pager/policy/ or a
# new trace format under traces/ is built without touching this file.

CC      ?= gcc
BUILD   := build
CFLAGS  := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -MMD -MP
LDLIBS  := -lzstd -llzma -lz -lcapstone -lpthread -lm
# libvirt's C API, for vmm/libvirt (docs/libvirt.md).
LDLIBS  += -lvirt

ifeq ($(SAN),1)
BUILD   := build/san
CFLAGS  := $(filter-out -O2,$(CFLAGS)) -O1 -fno-omit-frame-pointer \
	   -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

# Host code: the pager (no KVM in it), its policies, the trace readers,
# the instruction decoder, the KVM host, the pager server (vmm/server), the lab harness (tools/lab) and
# the command line (tools/pflab).
PAGER_SRC := $(wildcard vmm/pager/*.c vmm/pager/policy/*.c)
TRACE_SRC := $(wildcard traces/*.c)
ISA_SRC   := $(wildcard isa/*.c)
VMM_SRC   := $(wildcard vmm/*.c vmm/io/*.c)
# The QEMU plugin's parts that need no QEMU (its arguments, sinks, summary)
# are library code, tested and fuzzed; plugin.c, the glue that QEMU calls,
# goes only into the plugin's shared object.
QEMU_GLUE := vmm/qemu/plugin.c
QEMU_SRC  := $(filter-out $(QEMU_GLUE),$(wildcard vmm/qemu/*.c))
SERVER_SRC := $(wildcard vmm/server/*.c)
UVM_SRC   := $(wildcard vmm/uvm/*.c)
# pflab's guests as libvirt domains (docs/libvirt.md).
LIBVIRT_SRC := $(wildcard vmm/libvirt/*.c)
LAB_SRC   := $(wildcard tools/lab/*.c)
CLI_SRC   := $(filter-out tools/pflab/main.c,$(wildcard tools/pflab/*.c))
LIB_SRC   := $(PAGER_SRC) $(TRACE_SRC) $(ISA_SRC) $(VMM_SRC) $(SERVER_SRC) $(UVM_SRC) $(QEMU_SRC) $(LIBVIRT_SRC) $(LAB_SRC) $(CLI_SRC)
TEST_SRC  := $(wildcard tests/*.c)

LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
MAIN_OBJ  := $(BUILD)/tools/pflab/main.o
TEST_OBJ  := $(TEST_SRC:%.c=$(BUILD)/%.o)

INCLUDES  := -Ivmm/pager -Ivmm/server -Itraces -Iisa -Ivmm -Ivmm/io -Ivmm/qemu -Ivmm/uvm -Ivmm/libvirt -Itools/lab -Itools/pflab

PFLAB      := $(BUILD)/pflab
TEST_BIN   := $(BUILD)/pflab-tests
PLUGIN     := $(BUILD)/libpflab-qemu.so
UVM_LIB    := $(BUILD)/libpflab-uvm.a

.PHONY: all run test check bench clean deps guest fuzz
all: $(PFLAB) $(PLUGIN) guest $(UVM_LIB)

# The user-level paging library (docs/uvm.md): the pager, its policies and
# vmm/uvm/ as one relocatable object in an archive, so that a program that
# calls uvm_map() gets every policy (they register through a linker
# section that nothing names). Its interface is vmm/uvm/uvm.h alone. The
# simulator's machine sets (simset.c, which renames through traces/) are
# not part of it.
UVM_LIB_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(filter-out vmm/pager/simset.c,$(PAGER_SRC)) $(UVM_SRC))
$(UVM_LIB): $(UVM_LIB_OBJ)
	$(LD) -r -o $(BUILD)/pflab-uvm.o $^
	rm -f $@
	ar rcs $@ $(BUILD)/pflab-uvm.o

# The example program of docs/uvm.md, cut out of the page and built against
# the library and its header only; the uvm suite runs it.
UVM_EXAMPLE := $(BUILD)/uvm-example
$(BUILD)/uvm-example.c: docs/uvm.md
	@mkdir -p $(dir $@)
	awk '/^```c$$/{f=1;next} /^```$$/{if(f)exit} f' $< > $@.tmp && mv $@.tmp $@
$(UVM_EXAMPLE): $(BUILD)/uvm-example.c $(UVM_LIB)
	$(CC) $(filter-out -MMD -MP,$(CFLAGS)) $(LDFLAGS) -Ivmm/uvm -o $@ $< $(UVM_LIB) -lpthread

# The library's fault cost against the kernel's (make bench, docs/uvm.md).
$(BUILD)/uvm-bench: tools/uvm-bench.c vmm/uvm/uvm.h $(UVM_LIB)
	$(CC) $(filter-out -MMD -MP,$(CFLAGS)) $(LDFLAGS) -Ivmm/uvm -o $@ $< $(UVM_LIB) -lpthread

$(PFLAB): $(LIB_OBJ) $(MAIN_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(TEST_BIN): $(LIB_OBJ) $(TEST_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcunit

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INCLUDES) -c -o $@ $<

# The QEMU TCG plugin (vmm/qemu/, docs/qemu.md): the pager, the trace
# writers and the plugin, position-independent, in a shared object that
# qemu-x86_64 -plugin loads; only its two entry points are exported. Built
# without sanitizers even with SAN=1 (QEMU cannot load an ASan-built object
# unless ASan is preloaded into QEMU itself), from objects of its own.
PIC_BUILD  := build/pic
PIC_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -MMD -MP -fPIC -fvisibility=hidden
# Of vmm/qemu/, the plugin's own files (plugin*.c); qemu_*.c start QEMU.
PLUGIN_OBJ := $(patsubst %.c,$(PIC_BUILD)/%.o,$(PAGER_SRC) $(TRACE_SRC) $(filter vmm/qemu/plugin%,$(QEMU_SRC)) $(QEMU_GLUE))
.SECONDARY: $(PLUGIN_OBJ)

# vmm/qemu/plugin.map hides the linker's __start_/__stop_ symbols of the policy
# registry too: the plugin exports qemu_plugin_version and qemu_plugin_install only.
$(PLUGIN): $(PLUGIN_OBJ) vmm/qemu/plugin.map
	@mkdir -p $(dir $@)
	$(CC) $(PIC_CFLAGS) -shared -Wl,--version-script=vmm/qemu/plugin.map -o $@ $(PLUGIN_OBJ) -lzstd -llzma -lz -lpthread -lm

$(PIC_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(PIC_CFLAGS) $(INCLUDES) -c -o $@ $<

# The guest is freestanding and has rules of its own.
-include guest/guest.mk

deps:
	@tools/install-deps

# The two commands of the README. Each installs what is missing first, then
# builds in a second make so that the build sees the installed headers.
run:
	@tools/install-deps
	@$(MAKE) --no-print-directory all
	@tools/main-job $(PFLAB)

test:
	@tools/install-deps
	@$(MAKE) --no-print-directory check

# Build and run the tests without the install step: the layering rule
# (tests/layout-check: nothing below tools/ includes a tools/ header), the
# scenario files of tests/scenarios through `pflab regress` (JUnit XML for
# CI systems), the commands of README.md and docs/ (tests/doc-commands),
# then every CUnit suite, whose run summary and "N passed, N failed" line
# close the output. Any of them failing fails the target.
#
# The plain `make test` first runs every fuzz harness FUZZ_TEST_S seconds
# (the SAN=1 run does not repeat it, and runs tests/doc-commands --quick:
# without the few long runs of the docs, which it lists as skipped).
FUZZ_TEST_S := 3
ifeq ($(SAN),1)
DOC_FLAGS   := --quick
FUZZ_STEP   := true
else
FUZZ_STEP   := $(MAKE) --no-print-directory fuzz FUZZ_S=$(FUZZ_TEST_S)
endif

check: $(PFLAB) $(TEST_BIN) $(PLUGIN) guest $(UVM_EXAMPLE)
	@status=0; \
	tests/layout-check $(INCLUDES) || status=1; \
	$(FUZZ_STEP) || status=1; \
	$(PFLAB) regress tests/scenarios --junit $(BUILD)/regress.xml || status=1; \
	tests/doc-commands $(DOC_FLAGS) $(PFLAB) || status=1; \
	PFLAB=$(PFLAB) BUILD=$(BUILD) $(TEST_BIN) || status=1; \
	exit $$status

# What each step of the KVM fault path costs here (make bench, docs/performance.md).
$(BUILD)/kvm-ops-bench: tools/kvm-ops-bench.c
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -MMD -MP,$(CFLAGS)) $(LDFLAGS) -o $@ $<

bench:
	@tools/install-deps
	@$(MAKE) --no-print-directory all $(BUILD)/uvm-bench $(BUILD)/kvm-ops-bench
	@tools/bench $(PFLAB)

# libFuzzer harnesses, one per parser (tests/fuzz/fuzz_*.c), built with
# clang under ASan and UBSan in a build directory of their own; every
# library object is rebuilt there with coverage instrumentation.
FUZZ_BUILD   := build/fuzz
FUZZ_CC      := clang
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer -Wall -Wextra -Werror \
		-Wno-bitwise-instead-of-logical -MMD -MP \
		-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
# The guest image is linked only into pflab; an archive lets each harness
# take just the objects it needs.
FUZZ_LIB_OBJ := $(patsubst %.c,$(FUZZ_BUILD)/%.o,$(filter-out vmm/guest_image.c,$(LIB_SRC)))
FUZZ_LIB     := $(FUZZ_BUILD)/libpflab.a
FUZZ_OBJ     := $(FUZZ_SRC:%.c=$(FUZZ_BUILD)/%.o)
.SECONDARY: $(FUZZ_LIB_OBJ) $(FUZZ_OBJ)

fuzz: $(FUZZ_BINS)
ifneq ($(FUZZ_S),)
	@tools/fuzz-run $(FUZZ_S) $(FUZZ_BINS)
endif

# A command (decode) and the policies are linked whole so that the tables
# cli.c and policy.c walk are never empty.
FUZZ_WHOLE   := $(FUZZ_BUILD)/tools/pflab/cmd_decode.o \
		$(patsubst %.c,$(FUZZ_BUILD)/%.o,$(wildcard vmm/pager/policy/*.c))

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/tests/fuzz/fuzz_%.o $(FUZZ_WHOLE) $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(INCLUDES) -c -o $@ $<

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(PLUGIN_OBJ:.o=.d)
-include $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_OBJ:.o=.d)
