# SPDX-License-Identifier: GPL-2.0-only
# tcpstate build. Everything generated goes to $(OUTPUT); `make V=1` shows the commands.

# SANITIZE=1: tcpstate, unit tests and tools with AddressSanitizer and UBSan, in build-san/.
# FUZZ_BUILD=1 (set by `make fuzz`): clang with libFuzzer coverage as well, in build-fuzz/.
ifeq ($(FUZZ_BUILD),1)
OUTPUT ?= build-fuzz
SAN_FLAGS := -fsanitize=fuzzer-no-link,address,undefined
else ifeq ($(SANITIZE),1)
OUTPUT ?= build-san
SAN_FLAGS := -fsanitize=address,undefined
endif
ifneq ($(SAN_FLAGS),)
SAN_FLAGS += -fno-sanitize-recover=all -fno-omit-frame-pointer
endif
OUTPUT ?= build
prefix ?= /usr/local
DESTDIR ?=
CLANG ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL ?= bpftool
CC ?= cc
VERSION := 0.1.0

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VMLINUX_DIR := bpf/vmlinux/$(ARCH)

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

CFLAGS ?= -O2 -g
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Iinclude -I$(OUTPUT) \
	-DTCPSTATE_VERSION='"$(VERSION)"' -D_GNU_SOURCE $(SAN_FLAGS) \
	$(shell pkg-config --cflags json-c ncursesw 2>/dev/null)
LDLIBS += $(shell pkg-config --libs libbpf libmicrohttpd json-c libcurl ncursesw gnutls yaml-0.1 \
		  libcrypt libcap 2>/dev/null \
		  || echo -lbpf -lmicrohttpd -ljson-c -lcurl -lncursesw -ltinfo -lgnutls -lyaml \
		  -lcrypt -lcap) \
	-lelf -lz -lm
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(VMLINUX_DIR) -Iinclude \
	-Wall -Werror -Wno-unused-function

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(BPF_SRCS:bpf/%.bpf.c=$(OUTPUT)/bpf/%.bpf.o)
SKELS := $(BPF_SRCS:bpf/%.bpf.c=$(OUTPUT)/%.skel.h)
SRCS := $(wildcard src/*.c)
OBJS := $(SRCS:src/%.c=$(OUTPUT)/src/%.o)
LIB_OBJS := $(filter-out $(OUTPUT)/src/main.o,$(OBJS))
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(wildcard tests/unit/test_*.c))
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
# Each harness also replays its committed corpus as a unit test (tests/fuzz/replay.c).
REPLAY_BINS := $(FUZZ_TARGETS:%=$(OUTPUT)/tests/test_fuzz_%)
FUZZ_SECONDS ?= 60
TOOL_BINS := $(patsubst tests/tools/%.c,$(OUTPUT)/tools/%,$(wildcard tests/tools/*.c))
BENCH_BINS := $(patsubst tests/bench/%.c,$(OUTPUT)/bench/%,$(filter-out %.bpf.c,$(wildcard tests/bench/*.c)))
HDRS := $(wildcard include/*.h) $(wildcard src/*.h) $(wildcard bpf/*.h)

.SECONDARY:
.PHONY: all deps test-deps check test check-kernels unit bench run install clean vmlinux format \
	fuzz fuzz-build check-san-quick

all: $(OUTPUT)/tcpstate

deps:
	$(Q)scripts/deps.sh

test-deps:
	$(Q)scripts/deps.sh --test

$(OUTPUT)/bpf/%.bpf.o: bpf/%.bpf.c $(HDRS) | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(OUTPUT)/src/%.o: src/%.c $(HDRS) $(SKELS) | $(OUTPUT)/src
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUTPUT)/tcpstate: $(OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(OUTPUT)/tests/%: tests/unit/%.c tests/unit/testlib.h $(LIB_OBJS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit -DFIXTURES='"tests/fixtures"' $< $(LIB_OBJS) -o $@ $(LDLIBS)

$(OUTPUT)/tests/test_fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz.h $(LIB_OBJS) \
		| $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/fuzz -DFUZZ_TARGET='"$*"' $< tests/fuzz/replay.c $(LIB_OBJS) \
		-o $@ $(LDLIBS)

$(OUTPUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(LIB_OBJS) | $(OUTPUT)/fuzz
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -fsanitize=fuzzer -DFUZZ_LIBFUZZER -Itests/fuzz $< $(LIB_OBJS) -o $@ \
		$(LDLIBS)

$(OUTPUT)/tools/%: tests/tools/%.c | $(OUTPUT)/tools
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@ -lpthread

# replay drives the tracker itself, so it links the same objects as the unit tests.
$(OUTPUT)/bench/replay: tests/bench/replay.c $(LIB_OBJS) | $(OUTPUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LIB_OBJS) -o $@ $(LDLIBS)

# floor: the benchmark's reference tracers, a BPF skeleton of their own.
$(OUTPUT)/bench/floor.bpf.o: tests/bench/floor.bpf.c $(HDRS) | $(OUTPUT)/bench
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(OUTPUT)/bench/floor.skel.h: $(OUTPUT)/bench/floor.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name floor_bpf > $@.tmp && mv $@.tmp $@

$(OUTPUT)/bench/floor: tests/bench/floor.c $(OUTPUT)/bench/floor.skel.h | $(OUTPUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -I$(OUTPUT)/bench $< -o $@ $(LDLIBS)

$(OUTPUT)/bench/%: tests/bench/%.c | $(OUTPUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@ -lpthread -lm

$(OUTPUT)/bpf $(OUTPUT)/src $(OUTPUT)/tests $(OUTPUT)/tools $(OUTPUT)/bench $(OUTPUT)/fuzz:
	$(Q)mkdir -p $@

unit: $(UNIT_BINS) $(REPLAY_BINS)

# The whole test suite: unit tests (no root) and integration tests (root, real BPF).
check: test-deps
	$(Q)$(MAKE) --no-print-directory all unit $(TOOL_BINS) $(BENCH_BINS)
	$(Q)python3 tests/run.py --build $(OUTPUT)

test: check

# What CI runs under ASan+UBSan when the whole `make check SANITIZE=1` is too long: every unit
# test (fuzz corpus replays included) and the serve, trace and escaping integration tests.
check-san-quick: test-deps
	$(Q)$(MAKE) --no-print-directory SANITIZE=1 OUTPUT=build-san all unit build-san/tools/tcpwork
	$(Q)python3 tests/run.py --build build-san --only unit/ --only test_serve/ \
		--only test_trace/ --only test_escaping/

# The libFuzzer harnesses (tests/fuzz/), built with clang in build-fuzz/, each run for
# FUZZ_SECONDS from its committed corpus; crashes are saved under build-fuzz/artifacts/.
fuzz-build:
	$(Q)$(MAKE) --no-print-directory FUZZ_BUILD=1 CC=$(CLANG) OUTPUT=build-fuzz \
		$(FUZZ_TARGETS:%=build-fuzz/fuzz/fuzz_%)

fuzz: test-deps fuzz-build
	$(Q)bash tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The integration suite under Debian's kernels in QEMU (tests/vm): KERNELS="5.10 6.1 6.12".
KERNELS ?= 5.10 6.1 6.12
check-kernels: test-deps
	$(Q)$(MAKE) --no-print-directory all unit $(TOOL_BINS) $(BENCH_BINS)
	$(Q)bash tests/vm/check-kernels.sh --build $(OUTPUT) $(KERNELS)

# Benchmarks: prints a table of figures measured side by side with peers.
bench: test-deps
	$(Q)$(MAKE) --no-print-directory all $(TOOL_BINS) $(BENCH_BINS)
	$(Q)python3 tests/bench/run_bench.py --build $(OUTPUT)

# The main job with defaults.
run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(OUTPUT)/tcpstate serve $(ARGS)

install: $(OUTPUT)/tcpstate
	install -D -m 0755 $(OUTPUT)/tcpstate $(DESTDIR)$(prefix)/sbin/tcpstate

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX_DIR)/vmlinux.h

format:
	clang-format -i src/*.c include/*.h bpf/*.bpf.c bpf/*.h tests/unit/*.c tests/tools/*.c tests/bench/*.c

clean:
	rm -rf $(OUTPUT) build-san build-fuzz
