# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# XLB: one Makefile. Output goes to build/; V=1 shows the commands.

BUILD     ?= build
CC        ?= gcc
CLANG     ?= clang
BPFTOOL   ?= bpftool
PREFIX    ?= /usr/local
ARCH_INC  = /usr/include/$(shell $(CC) -dumpmachine)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

PKGS      := libbpf libxdp jansson yaml-0.1
CFLAGS    ?= -O2 -g
# Recursive (=): pkg-config runs only when something is compiled, so that
# `make deps` works before the packages it installs are there.
XCFLAGS   = $(CFLAGS) -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
	     -Wno-missing-field-initializers \
	     -Iinclude -Iuser -I$(BUILD) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lelf -lz
BPF_CFLAGS := -O2 -g -target bpf -Wall -Werror -Iinclude -Ibpf -I$(ARCH_INC)

BPF_PROGS := xlb decap
BPF_OBJS  := $(patsubst %,$(BUILD)/bpf/%.bpf.o,$(BPF_PROGS))
SKELS     := $(patsubst %,$(BUILD)/%.skel.h,$(BPF_PROGS))
BPF_HDRS  := $(wildcard bpf/*.h) $(wildcard include/*.h)

# Userspace library shared by xlbd, lbctl and the tests.
LIB_NAMES := log addr maglev config maps state decap
# One line per module added later, so that parallel work does not collide.
LIB_OBJS  := $(patsubst %,$(BUILD)/user/%.o,$(LIB_NAMES))
LIBXLB    := $(BUILD)/libxlb.a
USER_HDRS := $(wildcard user/*.h) $(wildcard include/*.h)

XLBD_OBJS := $(BUILD)/user/xlbd.o $(BUILD)/user/control.o
LBCTL_OBJS := $(BUILD)/user/lbctl.o $(BUILD)/user/lbctl_cli.o

# Unit tests: each links only the objects it names, so that a test of one
# module builds while another module is being worked on.
UNIT_TESTS := test_maglev test_config test_lbctl
unit_deps_test_maglev := maglev log
unit_deps_test_config := config addr log maglev
unit_deps_test_lbctl  := lbctl_cli control addr log maglev
UNIT_BINS := $(patsubst %,$(BUILD)/tests/unit/%,$(UNIT_TESTS))
DP_BIN    := $(BUILD)/tests/datapath/test_datapath
DP_SRCS   := $(wildcard tests/datapath/*.c)

BENCH_NEXTHOP := $(BUILD)/bench/nexthop

.PHONY: all clean deps test bench-nexthop test-unit test-datapath test-e2e check-format \
	format demo install
.DELETE_ON_ERROR:

all: $(BUILD)/xlbd $(BUILD)/lbctl $(BPF_OBJS)

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS)
	@mkdir -p $(@D)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

$(BUILD)/user/%.o: user/%.c $(USER_HDRS)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(XCFLAGS) -c $< -o $@

# Only the modules that hold a skeleton wait for the BPF build.
$(BUILD)/user/maps.o $(BUILD)/user/decap.o: $(SKELS)

$(LIBXLB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(BUILD)/xlbd: $(XLBD_OBJS) $(LIBXLB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(XCFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/lbctl: $(LBCTL_OBJS) $(LIBXLB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(XCFLAGS) -o $@ $^ $(LDLIBS)

.SECONDEXPANSION:
$(BUILD)/tests/unit/%: tests/unit/%.c $$(addprefix $(BUILD)/user/,$$(addsuffix .o,$$(unit_deps_$$*))) $(USER_HDRS)
	@mkdir -p $(@D)
	$(call msg,TEST-CC,$@)
	$(Q)$(CC) $(XCFLAGS) -o $@ $< $(patsubst %,$(BUILD)/user/%.o,$(unit_deps_$*)) \
		$(LDLIBS) -lcriterion -lm

$(DP_BIN): $(DP_SRCS) $(wildcard tests/datapath/*.h) $(LIBXLB) $(SKELS)
	@mkdir -p $(@D)
	$(call msg,TEST-CC,$@)
	$(Q)$(CC) $(XCFLAGS) -Wno-override-init -Itests/datapath -o $@ $(DP_SRCS) $(LIBXLB) \
		$(LDLIBS) -lcriterion

$(BENCH_NEXTHOP): tools/bench/nexthop.c $(LIBXLB) $(SKELS)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(XCFLAGS) -o $@ $< $(LIBXLB) $(LDLIBS)

# bpf_fib_lookup against a configured gateway MAC, same run (root).
bench-nexthop: $(BENCH_NEXTHOP)
	$(Q)$(BENCH_NEXTHOP)

# The README's test command. Root is required (BPF, namespaces).
test: all $(UNIT_BINS) $(DP_BIN)
	$(Q)tests/run-all.sh $(BUILD)

test-unit: $(UNIT_BINS)
	$(Q)set -e; for t in $(UNIT_BINS); do $$t; done

test-datapath: $(DP_BIN)
	$(Q)$(DP_BIN)

test-e2e: all
	$(Q)tests/e2e/run.sh $(BUILD)

demo: all
	$(Q)tools/lab.sh demo $(BUILD)

deps:
	$(Q)tools/install-deps.sh

FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
check-format:
	$(Q)clang-format --dry-run -Werror $(FORMAT_FILES)

format:
	$(Q)clang-format -i $(FORMAT_FILES)

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/lib/xlb
	install -m 0755 $(BUILD)/xlbd $(BUILD)/lbctl $(DESTDIR)$(PREFIX)/sbin/
	install -m 0644 $(BPF_OBJS) $(DESTDIR)$(PREFIX)/lib/xlb/

clean:
	rm -rf $(BUILD)
