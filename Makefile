# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# XLB: one Makefile. Output goes to build/; V=1 shows the commands.

BUILD     ?= build
# `make` alone builds the programs, whatever rule comes first below.
.DEFAULT_GOAL := all
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

PKGS      := libbpf libxdp jansson yaml-0.1 libmicrohttpd
PKGS      += libsystemd
PKGS      += libmnl
PKGS      += libsodium
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
LIB_NAMES := log addr maglev settings config maps state decap loop
# One line per module added later, so that parallel work does not collide.
LIB_NAMES += sdnotify
LIB_NAMES += affinity
LIB_NAMES += health
LIB_NAMES += probe
LIB_NAMES += metrics
LIB_NAMES += node
LIB_NAMES += routes
LIB_NAMES += sync
LIB_NAMES += sysctl
LIB_NAMES += config_dump
LIB_NAMES += reload
LIB_NAMES += census views reconcile adopt cluster_sessions
LIB_NAMES += nexthop
LIB_OBJS  := $(patsubst %,$(BUILD)/user/%.o,$(LIB_NAMES))
LIBXLB    := $(BUILD)/libxlb.a
USER_HDRS := $(wildcard user/*.h) $(wildcard include/*.h)

XLBD_OBJS := $(patsubst %,$(BUILD)/user/%.o,xlbd xlbd_start xlbd_cmds xlbd_health \
	       xlbd_sysctl xlbd_cluster control)
LBCTL_OBJS := $(BUILD)/user/lbctl.o $(BUILD)/user/lbctl_cli.o

# Unit tests: each links only the objects it names, so that a test of one
# module builds while another module is being worked on.
UNIT_TESTS := test_maglev test_config test_lbctl test_health
unit_deps_test_maglev := maglev log
unit_deps_test_config := settings config config_dump addr log maglev
unit_deps_test_lbctl  := settings lbctl_cli control addr log maglev loop
unit_deps_test_health := health settings maglev probe addr loop
UNIT_TESTS += test_metrics
unit_deps_test_metrics := metrics loop
UNIT_TESTS += test_affinity test_sdnotify
unit_deps_test_affinity := affinity
unit_deps_test_sdnotify := sdnotify loop
UNIT_TESTS += test_nat_agent
unit_deps_test_nat_agent := state census views reconcile adopt \
	cluster_sessions maps maglev settings config addr log
UNIT_TESTS += test_routes
unit_deps_test_routes := routes addr log
UNIT_TESTS += test_sync
unit_deps_test_sync := sync addr
UNIT_TESTS += test_sysctl
UNIT_TESTS += test_probe
UNIT_TESTS += test_hash
unit_deps_test_hash :=
UNIT_TESTS += test_reload
unit_deps_test_reload := reload state census views reconcile adopt \
	cluster_sessions maps maglev settings config config_dump addr log
UNIT_TESTS += test_settings
unit_deps_test_settings := settings config addr log maglev
unit_deps_test_probe := probe addr
unit_deps_test_sysctl := sysctl maps log
UNIT_TESTS += test_views
unit_deps_test_views := metrics lbctl_cli control state census views reconcile \
	adopt cluster_sessions maps maglev settings config addr log loop node routes
# test_views builds the data-path tests' packets with their pkt.c.
$(BUILD)/tests/unit/test_views: tests/datapath/pkt.c tests/datapath/pkt.h
UNIT_BINS := $(patsubst %,$(BUILD)/tests/unit/%,$(UNIT_TESTS))
DP_BIN    := $(BUILD)/tests/datapath/test_datapath
DP_SRCS   := $(wildcard tests/datapath/*.c)

.PHONY: all clean deps test bench bench-nexthop test-unit test-datapath test-e2e check-format \
	format demo demo-cluster install
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
$(BUILD)/tests/unit/%: tests/unit/%.c $$(addprefix $(BUILD)/user/,$$(addsuffix .o,$$(unit_deps_$$*))) $(USER_HDRS) \
		$(wildcard tests/lib/*.h)
	@mkdir -p $(@D)
	$(call msg,TEST-CC,$@)
	$(Q)$(CC) $(XCFLAGS) -o $@ $< $(patsubst %,$(BUILD)/user/%.o,$(unit_deps_$*)) \
		$(LDLIBS) -lcriterion -lm

$(DP_BIN): $(DP_SRCS) $(wildcard tests/datapath/*.h tests/lib/*.h) $(LIBXLB) $(SKELS)
	@mkdir -p $(@D)
	$(call msg,TEST-CC,$@)
	$(Q)$(CC) $(XCFLAGS) -Wno-override-init -Itests/datapath -o $@ $(DP_SRCS) $(LIBXLB) \
		$(LDLIBS) -lcriterion

# --- Benchmarks (tools/bench/, docs/PERFORMANCE.md) -------------------------
# Bench-only BPF objects: never installed, never loaded by xlbd.
BENCH_BPF   := bench_wrapper bench_baseline bench_gen bench_node bench_sink
BENCH_OBJS  := $(patsubst %,$(BUILD)/bpf/%.bpf.o,$(BENCH_BPF))
BENCH_SKELS := $(patsubst %,$(BUILD)/%.skel.h,$(BENCH_BPF))
BENCH_SRCS  := $(wildcard tools/bench/*.c)
BENCH_BIN   := $(BUILD)/bench/xlb-bench

# Their sources live with the bench (tools/bench/bpf/), not in bpf/.
$(BENCH_OBJS): $(BUILD)/bpf/%.bpf.o: tools/bench/bpf/%.bpf.c $(BPF_HDRS) \
		tools/bench/bench_abi.h
	@mkdir -p $(@D)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -Itools/bench -c $< -o $@
# The wrapper compiles the balancer's own source.
$(BUILD)/bpf/bench_wrapper.bpf.o: bpf/xlb.bpf.c

$(BENCH_BIN): $(BENCH_SRCS) $(wildcard tools/bench/*.h) $(LIBXLB) $(SKELS) \
		$(BENCH_SKELS)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(XCFLAGS) -Itools/bench -o $@ $(BENCH_SRCS) $(LIBXLB) \
		$(LDLIBS) -lm -lpthread

# Every figure of docs/PERFORMANCE.md, its baselines and plots (root,
# under 10 minutes on 2 CPUs): build/bench/results.json, docs/plots/.
bench: $(BENCH_BIN)
	$(Q)tools/bench/run.sh $(BUILD)

# bpf_fib_lookup against a configured gateway MAC, same run (root).
bench-nexthop: $(BENCH_BIN)
	$(Q)$(BENCH_BIN) nexthop
# --- end of benchmarks -------------------------------------------------------

# The README's test command. Root is required (BPF, namespaces).
# The e2e flood test drives xlb-bench's traffic generator.
test: all $(UNIT_BINS) $(DP_BIN) $(BENCH_BIN)
	$(Q)tests/run-all.sh $(BUILD)

test-unit: $(UNIT_BINS)
	$(Q)set -e; for t in $(UNIT_BINS); do $$t; done

test-datapath: $(DP_BIN)
	$(Q)$(DP_BIN)

test-e2e: all $(BENCH_BIN)
	$(Q)tests/e2e/run.sh $(BUILD)

demo: all
	$(Q)tools/lab.sh demo $(BUILD)

# The cluster lab: three nodes behind an FRR router (docs/CLUSTER.md).
demo-cluster: all
	$(Q)tools/lab-cluster.sh demo tunnel $(BUILD)
	$(Q)tools/lab-cluster.sh demo fullnat $(BUILD)

deps:
	$(Q)tools/install-deps.sh

FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
check-format:
	$(Q)clang-format --dry-run -Werror $(FORMAT_FILES)

format:
	$(Q)clang-format -i $(FORMAT_FILES)

# `make install [PREFIX=/usr/local] [DESTDIR=/tmp/pkg]`, docs/OPERATIONS.md.
# The unit goes under PREFIX as well: systemd reads both
# /usr/local/lib/systemd/system and /usr/lib/systemd/system (set UNITDIR
# for any other PREFIX). The configuration is never overwritten.
SBINDIR    ?= $(PREFIX)/sbin
XLBLIBDIR  ?= $(PREFIX)/lib/xlb
UNITDIR    ?= $(PREFIX)/lib/systemd/system
MANDIR     ?= $(PREFIX)/share/man
COMPDIR    ?= $(PREFIX)/share/bash-completion/completions
SYSCONFDIR ?= /etc
COMPLETION := tools/completion/lbctl.bash

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(XLBLIBDIR) \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR)/xlb \
		$(DESTDIR)$(SYSCONFDIR)/iproute2/rt_protos.d
	install -m 0755 $(BUILD)/xlbd $(BUILD)/lbctl dist/xlb-stop-hook \
		$(DESTDIR)$(SBINDIR)/
	install -m 0644 $(BPF_OBJS) $(DESTDIR)$(XLBLIBDIR)/
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		dist/xlbd.service.in >$(BUILD)/xlbd.service
	install -m 0644 $(BUILD)/xlbd.service $(DESTDIR)$(UNITDIR)/
	install -m 0644 man/xlbd.8 man/lbctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 man/xlb.yaml.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 dist/iproute2/rt_protos.d/xlb.conf \
		$(DESTDIR)$(SYSCONFDIR)/iproute2/rt_protos.d/
	if [ -e $(DESTDIR)$(SYSCONFDIR)/xlb/xlb.yaml ]; then \
		echo "keeping $(DESTDIR)$(SYSCONFDIR)/xlb/xlb.yaml"; \
	else \
		install -m 0640 dist/xlb.yaml $(DESTDIR)$(SYSCONFDIR)/xlb/; \
	fi
	if [ -f $(COMPLETION) ]; then \
		install -d $(DESTDIR)$(COMPDIR) && \
		install -m 0644 $(COMPLETION) $(DESTDIR)$(COMPDIR)/lbctl; \
	fi

clean:
	rm -rf $(BUILD)

# ---- Fuzzing (tests/fuzz/run.sh, docs/OPERATIONS.md) ------------------------
# libFuzzer harnesses built with clang, ASan and UBSan into build/fuzz/; the
# modules they test are compiled again there with the same sanitizers.
# `make fuzz` runs each harness for FUZZ_SECONDS on top of its committed
# corpus; a crash or a leak fails and leaves its reproducer in build/fuzz/.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 45
FUZZ_BUILD   := $(BUILD)/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer
FUZZ_CFLAGS   = -g -O1 $(FUZZ_SAN) -std=gnu11 -Wall -Wextra -Werror \
		-Wno-unused-parameter -Wno-missing-field-initializers \
		-Iinclude -Iuser $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZERS      := fuzz_config fuzz_control
fuzz_deps_fuzz_config  := settings config addr maglev log
fuzz_deps_fuzz_control := settings control addr maglev log loop
FUZZ_BINS    := $(patsubst %,$(FUZZ_BUILD)/%,$(FUZZERS))

.PHONY: fuzz fuzz-build

$(FUZZ_BUILD)/obj/%.o: user/%.c $(USER_HDRS)
	@mkdir -p $(@D)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BINS): $(FUZZ_BUILD)/%: tests/fuzz/%.c \
		$$(addprefix $(FUZZ_BUILD)/obj/,$$(addsuffix .o,$$(fuzz_deps_$$*))) \
		$(USER_HDRS)
	$(call msg,FUZZ-LD,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
		$(patsubst %,$(FUZZ_BUILD)/obj/%.o,$(fuzz_deps_$*)) $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	$(Q)tests/fuzz/run.sh $(BUILD) $(FUZZ_SECONDS)

# ---- Data-path fuzzer (tests/fuzz/datapath/, issue 13) -----------------------
# Mutated frames through the real balancer (BPF_PROG_TEST_RUN) with maps
# written by the agent's code, every run judged by an oracle. Root.
# `make fuzz-datapath [FUZZ_DP_PACKETS=N] [SEED=S]`; replay one case alone
# with `build/tests/fuzz_datapath -s SEED -c CASE`. make test runs a
# shorter pass (tests/run-all.sh: FUZZ_DP_PACKETS, FUZZ_DATAPATH=0 skips).
FUZZ_DP_BIN     := $(BUILD)/tests/fuzz_datapath
FUZZ_DP_SRCS    := $(wildcard tests/fuzz/datapath/*.c) tests/datapath/pkt.c
FUZZ_DP_PACKETS ?= 1000000
.PHONY: fuzz-datapath

$(FUZZ_DP_BIN): $(FUZZ_DP_SRCS) $(wildcard tests/fuzz/datapath/*.h) \
		tests/datapath/pkt.h $(LIBXLB) $(SKELS)
	@mkdir -p $(@D)
	$(call msg,TEST-CC,$@)
	$(Q)$(CC) $(XCFLAGS) -Itests/datapath -Itests/fuzz/datapath -o $@ \
		$(FUZZ_DP_SRCS) $(LIBXLB) $(LDLIBS)

test: $(FUZZ_DP_BIN)

fuzz-datapath: $(FUZZ_DP_BIN)
	$(Q)$(FUZZ_DP_BIN) -n $(FUZZ_DP_PACKETS) $(if $(SEED),-s $(SEED))
# --- end of the data-path fuzzer ---------------------------------------------
