# cpecwatch — see README.md. Plain GNU make, pkg-config driven.
.SUFFIXES:

VERSION   = 0.1.0
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
UNITDIR  ?= /lib/systemd/system
CATALOGDIR ?= /usr/lib/systemd/catalog
MANDIR   ?= $(PREFIX)/share/man
DESTDIR  ?=

CC       ?= cc
CFLAGS   ?= -O2 -g
PKGS      = libcurl libsystemd libconfig libxml-2.0 jansson libpcre2-8 libutf8proc sqlite3 libcrypto
TEST_PKGS = cmocka
# pkg-config name -> Debian package, for `make deps`
DEB_libcurl     = libcurl4-openssl-dev
DEB_libsystemd  = libsystemd-dev
DEB_libconfig   = libconfig-dev
DEB_libxml-2.0  = libxml2-dev
DEB_jansson     = libjansson-dev
DEB_libpcre2-8  = libpcre2-dev
DEB_libutf8proc = libutf8proc-dev
DEB_sqlite3     = libsqlite3-dev
DEB_libcrypto   = libssl-dev
DEB_cmocka      = libcmocka-dev

BUILD    ?= build
SAN      ?=
WARN      = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
ifeq ($(CI),true)
WARN     += -Werror
endif
ifneq ($(SAN),)
SANFLAGS  = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = $(WARN) $(CFLAGS) $(SANFLAGS) -DCPECWATCH_VERSION='"$(VERSION)"' -Isrc $(PKG_CFLAGS) -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)

MAINS     = src/cpecwatchd.c src/cpecwatch.c
CORE_SRCS = $(filter-out $(MAINS),$(wildcard src/*.c))
CORE_OBJS = $(CORE_SRCS:src/%.c=$(BUILD)/obj/%.o)
CORE_LIB  = $(BUILD)/libcpecwatch.a
UNIT_SRCS = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all run demo check asan bench bench-deps install uninstall clean deps fuzz fuzz-build
all: $(BUILD)/cpecwatchd $(BUILD)/cpecwatch

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(CORE_LIB): $(CORE_OBJS)
	@rm -f $@
	$(AR) rcs $@ $(CORE_OBJS)

$(BUILD)/cpecwatchd $(BUILD)/cpecwatch: $(BUILD)/%: $(BUILD)/obj/%.o $(CORE_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(CORE_LIB) $(PKG_LIBS) -lm

$(BUILD)/tests/%: tests/unit/%.c $(CORE_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(shell pkg-config --cflags $(TEST_PKGS)) -o $@ $< \
	  $(ALL_LDFLAGS) $(CORE_LIB) $(PKG_LIBS) $(shell pkg-config --libs $(TEST_PKGS)) -lm

-include $(CORE_OBJS:.o=.d) $(BUILD)/obj/cpecwatchd.d $(BUILD)/obj/cpecwatch.d

# libFuzzer harnesses (tests/fuzz/fuzz_*.c): the core compiled again with
# clang, instrumented for the fuzzer and ASan+UBSan, into build/fuzz/.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 20
FUZZ_BUILD    = build/fuzz
FUZZ_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS   = $(WARN) -O1 -g $(FUZZ_SAN) -DCPECWATCH_VERSION='"$(VERSION)"' -Isrc $(PKG_CFLAGS) -MMD -MP
FUZZ_OBJS     = $(CORE_SRCS:src/%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_BINS     = $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(wildcard tests/fuzz/fuzz_*.c))

$(FUZZ_BUILD)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/libcpecwatch.a: $(FUZZ_OBJS)
	@rm -f $@
	$(AR) rcs $@ $(FUZZ_OBJS)

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_BUILD)/libcpecwatch.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -DFUZZ_RULES='"$(CURDIR)/etc/rules.conf"' -o $@ $< \
	  $(FUZZ_BUILD)/libcpecwatch.a $(PKG_LIBS) -lm

-include $(FUZZ_OBJS:.o=.d)

fuzz-build: $(FUZZ_BINS)

# make fuzz FUZZ_SECONDS=N: every harness for N seconds (make check: 20 each).
fuzz: deps fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) python3 tests/fuzz/run $(FUZZ_BUILD)

# Debian packages, installed only when pkg-config (or a test tool) lacks them.
deps:
	@missing=""; \
	for p in $(PKGS) $(TEST_PKGS); do \
	  pkg-config --exists $$p 2>/dev/null || case $$p in \
	    libcurl) missing="$$missing $(DEB_libcurl)";; libsystemd) missing="$$missing $(DEB_libsystemd)";; \
	    libconfig) missing="$$missing $(DEB_libconfig)";; libxml-2.0) missing="$$missing $(DEB_libxml-2.0)";; \
	    jansson) missing="$$missing $(DEB_jansson)";; libpcre2-8) missing="$$missing $(DEB_libpcre2-8)";; \
	    libutf8proc) missing="$$missing $(DEB_libutf8proc)";; sqlite3) missing="$$missing $(DEB_sqlite3)";; \
	    libcrypto) missing="$$missing $(DEB_libcrypto)";; \
	    cmocka) missing="$$missing $(DEB_cmocka)";; esac; \
	done; \
	command -v pkg-config >/dev/null || missing="$$missing pkg-config"; \
	command -v $(CC) >/dev/null || missing="$$missing gcc"; \
	command -v python3 >/dev/null || missing="$$missing python3"; \
	command -v $(FUZZ_CC) >/dev/null || missing="$$missing clang"; \
	ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1 || \
	  missing="$$missing libclang-rt-14-dev"; \
	command -v valgrind >/dev/null || missing="$$missing valgrind"; \
	command -v openssl >/dev/null || missing="$$missing openssl"; \
	command -v man >/dev/null || missing="$$missing man-db"; \
	command -v nroff >/dev/null || missing="$$missing groff-base"; \
	command -v brotli >/dev/null || missing="$$missing brotli"; \
	command -v sfeed >/dev/null || missing="$$missing sfeed"; \
	test -d /usr/lib/python3/dist-packages/feedparser || missing="$$missing python3-feedparser"; \
	command -v journalctl >/dev/null && test -x /lib/systemd/systemd-journald || missing="$$missing systemd"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "make deps: missing packages; as root run: apt-get install -y$$missing" >&2; exit 1; fi; \
	echo "make deps: installing$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing

run: deps all
	@mkdir -p var
	$(BUILD)/cpecwatchd -c etc/cpecwatch.conf --state-dir ./var

demo: deps all
	python3 tests/lib/demo.py --bin $(BUILD)


asan:
	$(MAKE) BUILD=build/asan SAN=1 all $(UNIT_SRCS:tests/unit/%.c=build/asan/tests/%)

# Unit tests on the plain build, then unit and integration tests on the
# ASan+UBSan build; tests/run prints one "N passed, N failed" line.
check: deps
	$(MAKE) all $(UNIT_BINS)
	$(MAKE) asan
	$(MAKE) fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) python3 tests/run $(BUILD) build/asan

bench: deps bench-deps all
	@bash tests/bench/run $(BUILD)

# What the benchmarks compare with and run on (Debian packages): nginx serves
# the generated feeds, sfeed and rss2email are the baselines, GNU time measures.
# A benchmark whose tool is missing says so in its section instead of failing.
bench-deps:
	@missing=""; \
	command -v nginx >/dev/null || test -x /usr/sbin/nginx || missing="$$missing nginx-light"; \
	command -v sfeed_update >/dev/null || missing="$$missing sfeed"; \
	command -v r2e >/dev/null || missing="$$missing rss2email"; \
	test -x /usr/bin/time || missing="$$missing time"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "make bench-deps: missing; as root run: apt-get install -y$$missing" >&2; exit 0; fi; \
	echo "make bench-deps: installing$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSCONFDIR)/cpecwatch $(DESTDIR)$(UNITDIR) $(DESTDIR)$(CATALOGDIR)
	install -m 755 $(BUILD)/cpecwatchd $(BUILD)/cpecwatch $(DESTDIR)$(BINDIR)
	install -m 644 etc/rules.conf $(DESTDIR)$(SYSCONFDIR)/cpecwatch/rules.conf
	test -e $(DESTDIR)$(SYSCONFDIR)/cpecwatch/cpecwatch.conf || \
	  install -m 644 etc/cpecwatch.conf $(DESTDIR)$(SYSCONFDIR)/cpecwatch/cpecwatch.conf
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' systemd/cpecwatch.service > $(DESTDIR)$(UNITDIR)/cpecwatch.service
	install -m 644 systemd/cpecwatch.catalog $(DESTDIR)$(CATALOGDIR)/cpecwatch.catalog
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 644 docs/man/cpecwatch.1 $(DESTDIR)$(MANDIR)/man1/cpecwatch.1
	install -m 644 docs/man/cpecwatch.conf.5 $(DESTDIR)$(MANDIR)/man5/cpecwatch.conf.5
	install -m 644 docs/man/cpecwatchd.8 $(DESTDIR)$(MANDIR)/man8/cpecwatchd.8

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/cpecwatchd $(DESTDIR)$(BINDIR)/cpecwatch \
	  $(DESTDIR)$(UNITDIR)/cpecwatch.service $(DESTDIR)$(CATALOGDIR)/cpecwatch.catalog \
	  $(DESTDIR)$(MANDIR)/man1/cpecwatch.1 $(DESTDIR)$(MANDIR)/man5/cpecwatch.conf.5 \
	  $(DESTDIR)$(MANDIR)/man8/cpecwatchd.8

clean:
	rm -rf build
