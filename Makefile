# pyspy - build, test and install.  GNU make, one non-recursive Makefile.
#
#   make                 build bin/pyspy-capture, bin/pyspy-analyze, man pages
#   make check           install missing build/test packages, build, run all tests
#   make demo            build, capture examples/workload.py, write reports
#   make bench           benchmarks -> docs/performance.md (release build)
#   make accuracy        profile accuracy, pyspy and peers -> docs/accuracy.md
#   make install PREFIX=/usr/local DESTDIR=   (also DOCDIR: schema, format, queries)
#   make SANITIZE=address,undefined check
#   make V=1             show commands; DEVELOPER=1 turns warnings into errors

VERSION := 0.1.0

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
# The documents the man pages cite (schema, format, example queries).
DOCDIR ?= $(PREFIX)/share/doc/pyspy
INSTALL_DOCS := docs/schema.md docs/format.md docs/capture.md docs/exports.md
INSTALL ?= install
INSTALL_PROGRAM ?= $(INSTALL) -m 755
INSTALL_DATA ?= $(INSTALL) -m 644
PKG_CONFIG ?= pkg-config
CC ?= cc
AR ?= ar

ifdef SANITIZE
BUILD ?= build/san
SANFLAGS := -fsanitize=$(SANITIZE) -fno-sanitize-recover=$(SANITIZE) -fno-omit-frame-pointer -g
else
BUILD ?= build/default
SANFLAGS :=
endif

WARNINGS := -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wformat=2 -Wvla -Wwrite-strings -Wcast-qual -Wundef
ifeq ($(DEVELOPER),1)
WARNINGS += -Werror
endif
OPTFLAGS ?= -O2 -g
DEPFLAGS = -MT $@ -MMD -MP -MF $(@:.o=.d)
BASE_CFLAGS = $(WARNINGS) $(OPTFLAGS) $(SANFLAGS) -D_GNU_SOURCE -DPYSPY_VERSION='"$(VERSION)"'
BASE_LDFLAGS = $(SANFLAGS)

# Libraries are evaluated lazily (=) so `make check` can install them first.
ZSTD_CFLAGS = $(shell $(PKG_CONFIG) --cflags libzstd)
ZSTD_LIBS = $(shell $(PKG_CONFIG) --libs libzstd)
ELF_CFLAGS = $(shell $(PKG_CONFIG) --cflags libelf)
ELF_LIBS = $(shell $(PKG_CONFIG) --libs libelf)
SQLITE_CFLAGS = $(shell $(PKG_CONFIG) --cflags sqlite3)
SQLITE_LIBS = $(shell $(PKG_CONFIG) --libs sqlite3)

ifeq ($(V),1)
Q :=
else
Q := @
endif

# ---------------------------------------------------------------- sources
FORMAT_SRC := $(wildcard format/*.c)
CAPTURE_SRC := $(wildcard capture/*.c capture/python/*.c)
ANALYZE_SRC := $(wildcard analyze/*.c)

FORMAT_OBJ := $(FORMAT_SRC:%.c=$(BUILD)/%.o)
CAPTURE_OBJ := $(CAPTURE_SRC:%.c=$(BUILD)/%.o)
ANALYZE_OBJ := $(ANALYZE_SRC:%.c=$(BUILD)/%.o)
CAPTURE_LIBOBJ := $(filter-out $(BUILD)/capture/main.o,$(CAPTURE_OBJ))
ANALYZE_LIBOBJ := $(filter-out $(BUILD)/analyze/main.o,$(ANALYZE_OBJ))

LIBFMT := $(BUILD)/libpyspyfmt.a
LIBCAPTURE := $(BUILD)/libcapture.a
LIBANALYZE := $(BUILD)/libanalyze.a
# The default build puts the tools in bin/; other builds (sanitizers, or
# BUILD=... for a private tree) keep them in $(BUILD)/bin unless BIN is set.
ifeq ($(BUILD),build/default)
BIN ?= bin
else
BIN ?= $(BUILD)/bin
endif
CAPTURE_BIN := $(BIN)/pyspy-capture
ANALYZE_BIN := $(BIN)/pyspy-analyze

MAN_SRC := $(wildcard docs/*.1.md)
MAN_OUT := $(MAN_SRC:docs/%.md=$(BUILD)/man/%)

# Unit tests: tests/unit/<module>_*.c links the matching library.
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
HELPER_SRC := $(wildcard tests/helpers/*.c)
HELPER_BIN := $(HELPER_SRC:tests/helpers/%.c=$(BUILD)/tests/%)
EXAMPLE_SRC := $(wildcard examples/*.c)
EXAMPLE_BIN := $(EXAMPLE_SRC:examples/%.c=$(BUILD)/examples/%)
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all check test tests deps demo install uninstall clean examples \
	check-headers fuzz bench bench-smoke bench-tools accuracy update-golden man

all: $(CAPTURE_BIN) $(ANALYZE_BIN) $(MAN_OUT)

# ---------------------------------------------------------------- rules
$(BUILD)/format/%.o: format/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo '  CC      $<')
	$(Q)$(CC) $(BASE_CFLAGS) $(ZSTD_CFLAGS) -Iformat $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(BUILD)/capture/%.o: capture/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo '  CC      $<')
	$(Q)$(CC) $(BASE_CFLAGS) $(ELF_CFLAGS) -Iformat -Icapture $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(BUILD)/analyze/%.o: analyze/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo '  CC      $<')
	$(Q)$(CC) $(BASE_CFLAGS) $(SQLITE_CFLAGS) -Iformat -Ianalyze $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(LIBFMT): $(FORMAT_OBJ)
	$(Q)rm -f $@ && $(AR) rcs $@ $^
$(LIBCAPTURE): $(CAPTURE_LIBOBJ)
	$(Q)rm -f $@ && $(AR) rcs $@ $^
$(LIBANALYZE): $(ANALYZE_LIBOBJ)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(CAPTURE_BIN): $(BUILD)/capture/main.o $(LIBCAPTURE) $(LIBFMT)
	@mkdir -p $(@D)
	@$(if $(Q),echo '  LINK    $@')
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $^ $(ELF_LIBS) $(ZSTD_LIBS) -lm

$(ANALYZE_BIN): $(BUILD)/analyze/main.o $(LIBANALYZE) $(LIBFMT)
	@mkdir -p $(@D)
	@$(if $(Q),echo '  LINK    $@')
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $^ $(SQLITE_LIBS) $(ZSTD_LIBS) -lm

# Unit tests named format_*.c use only the format library; capture_*.c and
# analyze_*.c also link the tool's own modules (never both tools).
$(BUILD)/tests/format_%: tests/unit/format_%.c $(LIBFMT)
	@mkdir -p $(@D)
	@$(if $(Q),echo '  TEST    $@')
	$(Q)$(CC) $(BASE_CFLAGS) -Iformat -Itests/unit $(CFLAGS) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $< $(LIBFMT) $(ZSTD_LIBS) -lm
$(BUILD)/tests/capture_%: tests/unit/capture_%.c $(LIBCAPTURE) $(LIBFMT)
	@mkdir -p $(@D)
	@$(if $(Q),echo '  TEST    $@')
	$(Q)$(CC) $(BASE_CFLAGS) $(ELF_CFLAGS) -Iformat -Icapture -Itests/unit $(CFLAGS) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $< $(LIBCAPTURE) $(LIBFMT) $(ELF_LIBS) $(ZSTD_LIBS) -lm
$(BUILD)/tests/analyze_%: tests/unit/analyze_%.c $(LIBANALYZE) $(LIBFMT)
	@mkdir -p $(@D)
	@$(if $(Q),echo '  TEST    $@')
	$(Q)$(CC) $(BASE_CFLAGS) $(SQLITE_CFLAGS) -Iformat -Ianalyze -Itests/unit $(CFLAGS) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $< $(LIBANALYZE) $(LIBFMT) $(SQLITE_LIBS) $(ZSTD_LIBS) -lm
# Test helpers (e.g. capture-file generators) use only the public format API.
$(BUILD)/tests/%: tests/helpers/%.c $(LIBFMT)
	@mkdir -p $(@D)
	@$(if $(Q),echo '  CC      $@')
	$(Q)$(CC) $(BASE_CFLAGS) -Iformat $(CFLAGS) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $< $(LIBFMT) $(ZSTD_LIBS) -lm

# examples/ use only the public header, like any outside program would.
$(BUILD)/examples/%: examples/%.c $(LIBFMT)
	@mkdir -p $(@D)
	@$(if $(Q),echo '  CC      $@')
	$(Q)$(CC) $(BASE_CFLAGS) -Iformat $(CFLAGS) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $< $(LIBFMT) $(ZSTD_LIBS) -lm

$(BUILD)/bench/%: bench/%.c $(LIBFMT)
	@mkdir -p $(@D)
	@$(if $(Q),echo '  CC      $@')
	$(Q)$(CC) $(BASE_CFLAGS) -Iformat $(CFLAGS) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $< $(LIBFMT) $(ZSTD_LIBS) -lm

$(BUILD)/man/%.1: docs/%.1.md scripts/md2man.sh
	@mkdir -p $(@D)
	@$(if $(Q),echo '  MAN     $@')
	$(Q)scripts/md2man.sh $< > $@.tmp && mv $@.tmp $@

man: $(MAN_OUT)
examples: $(EXAMPLE_BIN)
tests: all $(UNIT_BIN) $(HELPER_BIN) $(EXAMPLE_BIN) $(BENCH_BIN)

# Every header compiles on its own.
HEADERS := $(wildcard format/*.h capture/*.h capture/python/*.h analyze/*.h)
check-headers:
	$(Q)for h in $(HEADERS); do \
		printf '#include "%s"\n' "$$h" | $(CC) $(BASE_CFLAGS) $(ZSTD_CFLAGS) $(ELF_CFLAGS) $(SQLITE_CFLAGS) \
			-I. -Iformat -Icapture -Ianalyze -x c -fsyntax-only - || exit 1; \
	done; echo "check-headers: $(words $(HEADERS)) headers ok"

# ---------------------------------------------------------------- fuzzing
FUZZ_CC ?= clang
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE \
	-DPYSPY_VERSION='"$(VERSION)"'
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fix_crcs.h $(FORMAT_SRC) $(wildcard format/*.h)
	@mkdir -p $(@D)
	@$(if $(Q),echo '  FUZZ    $@')
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) $(ZSTD_CFLAGS) -Iformat -o $@ $< $(FORMAT_SRC) $(ZSTD_LIBS)
# The loader target also links the analyzer (not its main) and SQLite.
ANALYZE_FUZZ_SRC = $(filter-out analyze/main.c,$(ANALYZE_SRC))
build/fuzz/fuzz_loader: tests/fuzz/fuzz_loader.c tests/fuzz/fix_crcs.h $(FORMAT_SRC) $(ANALYZE_SRC) $(wildcard format/*.h analyze/*.h)
	@mkdir -p $(@D)
	@$(if $(Q),echo '  FUZZ    $@')
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) $(ZSTD_CFLAGS) $(SQLITE_CFLAGS) -Iformat -Ianalyze -o $@ $< \
		$(FORMAT_SRC) $(ANALYZE_FUZZ_SRC) $(SQLITE_LIBS) $(ZSTD_LIBS) -lm
# The capture's targets (walkers, ELF and version discovery) link the
# capture (not its main), the format library and libelf; fakepy.h builds
# their process images.
CAPTURE_FUZZ_SRC = $(filter-out capture/main.c,$(CAPTURE_SRC))
CAPTURE_FUZZ_BIN := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_walk.c tests/fuzz/fuzz_discover.c))
$(CAPTURE_FUZZ_BIN): build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FORMAT_SRC) $(CAPTURE_SRC) \
		$(wildcard format/*.h capture/*.h capture/python/*.h tests/unit/fakepy.h tests/unit/debug_offsets.h)
	@mkdir -p $(@D)
	@$(if $(Q),echo '  FUZZ    $@')
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -DSCAN_MAX='(1u << 20)' $(ZSTD_CFLAGS) $(ELF_CFLAGS) -Iformat -Icapture -Itests/unit -o $@ $< \
		$(FORMAT_SRC) $(CAPTURE_FUZZ_SRC) $(ELF_LIBS) $(ZSTD_LIBS) -lm
fuzz: $(FUZZ_BIN)

# ---------------------------------------------------------------- top-level jobs
deps:
	$(Q)scripts/install-deps.sh

# Installs what is missing first, then builds in a fresh make so pkg-config
# sees the new packages; tests/run prints the closing "N passed, M failed".
check test: deps
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)MAKE="$(MAKE)" BUILD="$(BUILD)" BIN="$(BIN)" tests/run

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)examples/demo.sh

# bench/run.sh: see bench/README.md.  The full run rewrites docs/performance.md
# and docs/perf/; the smoke run (CI) writes $(BUILD)/bench-smoke/ only.
bench-tools: all $(BENCH_BIN) $(EXAMPLE_BIN)

bench: deps
	$(Q)$(MAKE) --no-print-directory BUILD=build/release OPTFLAGS='-O2 -g -DNDEBUG' bench-tools
	$(Q)BUILD=build/release BIN=build/release/bin bench/run.sh

bench-smoke: deps
	$(Q)$(MAKE) --no-print-directory bench-tools
	$(Q)BUILD="$(BUILD)" BIN="$(BIN)" bench/run.sh --smoke

# bench/accuracy/run.sh: see bench/accuracy/README.md.  Rewrites
# docs/accuracy.md and docs/accuracy/ (ACCURACY_QUICK=1: a few minutes,
# written to $(BUILD)/accuracy-quick/ only).
accuracy: deps
	$(Q)$(MAKE) --no-print-directory BUILD=build/release OPTFLAGS='-O2 -g -DNDEBUG' all
	$(Q)BUILD=build/release BIN=build/release/bin bench/accuracy/run.sh

update-golden: tests
	$(Q)tests/update-golden.sh

# The man pages name the documents by their default installed path
# (/usr/local/share/doc/pyspy/...); it is rewritten to DOCDIR here.
install: all
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DOCDIR)/examples
	$(INSTALL_PROGRAM) $(CAPTURE_BIN) $(ANALYZE_BIN) $(DESTDIR)$(BINDIR)/
	$(foreach m,$(MAN_OUT),sed 's|/usr/local/share/doc/pyspy|$(DOCDIR)|g' $(m) \
		> $(DESTDIR)$(MANDIR)/man1/$(notdir $(m)) && chmod 644 $(DESTDIR)$(MANDIR)/man1/$(notdir $(m));)
	$(INSTALL_DATA) $(INSTALL_DOCS) $(DESTDIR)$(DOCDIR)/
	$(INSTALL_DATA) examples/queries.sql $(DESTDIR)$(DOCDIR)/examples/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/pyspy-capture $(DESTDIR)$(BINDIR)/pyspy-analyze
	rm -f $(DESTDIR)$(MANDIR)/man1/pyspy-capture.1 $(DESTDIR)$(MANDIR)/man1/pyspy-analyze.1
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(INSTALL_DOCS))) $(DESTDIR)$(DOCDIR)/examples/queries.sql
	-rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null

clean:
	rm -rf build bin

-include $(wildcard $(BUILD)/*/*.d $(BUILD)/*/*/*.d)
