# faultline - build, test, bench, demo.
#
#   make            build ./faultline (and the node-side helper daemons)
#   make deps       install missing Debian packages (apt-get), quiet when all present
#   make test       unit + integration tests; ends with "N passed, N failed"
#   make demo       a real 5-node etcd test with faults; prints the report path
#   make bench      benchmarks (printing numbers)
#   make fuzz       libFuzzer harnesses
#   make install PREFIX=/usr/local ; make clean
#   SANITIZE=1      build everything with ASan + UBSan

PREFIX ?= /usr/local
CC ?= cc
PKGS := libssh libcurl jansson libnl-3.0 libnl-route-3.0 libnl-nf-3.0 libnetfilter_queue \
	libpq hiredis fuse3
# Debian packages the build, the tests and the local cluster need.
DEPS_PKGS := build-essential pkg-config libssh-dev libcurl4-openssl-dev libjansson-dev \
	libnl-3-dev libnl-route-3-dev libnl-nf-3-dev libnetfilter-queue-dev libcmocka-dev \
	openssh-server openssh-client iptables iproute2 etcd-server etcd-client \
	libfaketime chromium clang libclang-rt-14-dev procps jq sudo libxml2-utils \
	postgresql libpq-dev patroni redis-server redis-sentinel libhiredis-dev \
	libfuse3-dev fuse3 python3-redis

CFLAGS ?= -O2 -g
# Source folders (design.md, Layout v2); every folder's headers are visible
# to the compiler, and tests/layout.sh enforces who may include what.
SRC_DIRS := src src/history src/report src/cluster src/db workloads nemesis checkers
INCLUDES := $(SRC_DIRS:%=-I%)
HEADERS = $(wildcard $(SRC_DIRS:%=%/*.h))
CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -pthread $(INCLUDES)
# A sanitized build lives wholly in build-san/ (binaries too), so it never
# replaces the normal ./faultline.
ifeq ($(SANITIZE),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
BUILD := build-san
BINDIR := build-san/
# Sanitizer reports go to files, which tests/run.sh counts as failures of
# the program that was running (an expected exit code cannot hide them).
# Its results go to test-output-san/, next to the plain run's test-output/.
SAN_DIR := $(CURDIR)/test-output-san/sanitizer
SAN_ENV := TEST_OUTPUT=test-output-san SAN_LOG_DIR=$(SAN_DIR) \
	ASAN_OPTIONS=log_path=$(SAN_DIR)/asan:detect_leaks=1:strict_init_order=1 \
	UBSAN_OPTIONS=log_path=$(SAN_DIR)/ubsan:print_stacktrace=1:halt_on_error=1
else
BUILD := build
BINDIR :=
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LDLIBS += $(PKG_LIBS) -lm -pthread

LIB_SRC := $(filter-out src/main.c,$(wildcard $(SRC_DIRS:%=%/*.c)))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
DAEMON_SRC := $(wildcard nemesis/daemons/*.c)
DAEMONS := $(patsubst nemesis/daemons/%.c,$(BINDIR)faultline-%,$(DAEMON_SRC))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# Test drivers (tests/tools/*.c): small programs integration tests call.
TOOL_BIN := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(wildcard tests/tools/*.c))
BENCH_SRC := $(wildcard bench/bench_*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all deps test unit bench demo demo-rate soak fuzz install clean
all: $(BINDIR)faultline $(DAEMONS)

deps:
	@missing=""; for p in $(DEPS_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  apt-get update -qq >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi

$(BUILD)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

# report.html inlines these two files (src/report_assets.c .incbin's them).
$(BUILD)/src/report/report_assets.o: src/report/report.css src/report/report.js

$(BUILD)/libfaultline.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BINDIR)faultline: $(BUILD)/src/main.o $(BUILD)/libfaultline.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Node-side helpers are uploaded to nodes: --as-needed keeps them to the
# libraries they use (packetd: libnetfilter_queue), not the controller's.
$(BINDIR)faultline-%: nemesis/daemons/%.c $(BUILD)/libfaultline.a
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(LDFLAGS) -Wl,--as-needed -o $@ $< $(BUILD)/libfaultline.a $(LDLIBS)

$(BUILD)/tests/tools/%: tests/tools/%.c $(BUILD)/libfaultline.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libfaultline.a $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libfaultline.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libfaultline.a $(LDLIBS) -lcmocka

$(BUILD)/bench/%: bench/%.c $(BUILD)/libfaultline.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libfaultline.a $(LDLIBS)

unit: $(UNIT_BIN) $(TOOL_BIN)

test: deps
	@$(MAKE) --no-print-directory all unit
	@$(SAN_ENV) BUILD=$(BUILD) FAULTLINE=$(CURDIR)/$(BINDIR)faultline bash tests/run.sh

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_BIN) $(TOOL_BIN)
	@BUILD=$(BUILD) FAULTLINE=$(CURDIR)/$(BINDIR)faultline bash bench/run.sh

# make demo DB=postgres (or redis): that database's demo, examples/demo-DB.sh.
demo: deps
	@$(MAKE) --no-print-directory all
	@bash examples/demo$(if $(DB),$(if $(filter etcd,$(DB)),,-$(DB))).sh

demo-%: deps
	@$(MAKE) --no-print-directory all
	@bash examples/demo-$*.sh

# Reliability soak: kill -9, SIGINT, cluster down and a deleted bridge
# under runs for SOAK_MINUTES (default 10); prints what it checked and what
# was left (nothing).
soak: deps
	@$(MAKE) --no-print-directory all
	@FAULTLINE=$(CURDIR)/$(BINDIR)faultline bash tests/soak.sh

# How often the demo's serializable run is invalid over RUNS seeds (slow:
# about 2 minutes per seed; not part of make bench).
demo-rate: deps
	@$(MAKE) --no-print-directory all
	@bash examples/demo_rate.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 faultline $(DAEMONS) $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf build build-san build-fuzz faultline faultline-*

# libFuzzer harnesses (tests/fuzz/fuzz_*.c) over a clang-built library with
# ASan + UBSan (a UBSan finding aborts, so libFuzzer keeps it as a crasher);
# FUZZ_SECONDS per harness (default 300). See tests/fuzz/run.sh.
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O2 $(INCLUDES) \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
FUZZ_OBJ := $(LIB_SRC:%.c=build-fuzz/%.o)
FUZZ_BIN := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
build-fuzz/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $(PKG_CFLAGS) -c -o $@ $<
build-fuzz/libfaultline.a: $(FUZZ_OBJ)
	rm -f $@ && ar rcs $@ $^
build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h build-fuzz/libfaultline.a
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer $(PKG_CFLAGS) -o $@ $< build-fuzz/libfaultline.a $(LDLIBS)
fuzz: deps $(FUZZ_BIN)
	@bash tests/fuzz/run.sh
