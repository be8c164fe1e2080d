# megatest: developer and packaging entry points.
#   make demo    set up the venv and run the bundled example area
#   make test    set up the venv and run the test suite
#   make bench   run the benchmarks under scripts/bench/
#   ./configure && make          build/megatest, the standalone binary (Nuitka)
#   make install DESTDIR=... PREFIX=...   make package   make check-dist   make dist-bench
-include config.mk

# The distribution goals need config.mk: stop before anything is installed or built when
# ./configure has not run (`make` alone is `all`).
DIST_GOALS := all build install package check-dist dist-bench
ifeq ($(DISTRO),)
ifneq ($(filter $(DIST_GOALS),$(or $(MAKECMDGOALS),all)),)
$(error no config.mk: run ./configure first (see ./configure --help))
endif
endif

PYTHON ?= python3
VENV   ?= .venv
VPY    := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEMO_AREA ?= examples/demo

.PHONY: venv demo test lint bench clean
.DEFAULT_GOAL := all

venv: $(STAMP)

# Not `pip install -e`: scripts/dev_venv.py says why.
$(STAMP): pyproject.toml scripts/dev_venv.py
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) scripts/dev_venv.py dev
	$(VPY) -m compileall -q megatest >/dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(VPY) -m compileall -q megatest >/dev/null
	rm -rf $(DEMO_AREA)/.db $(DEMO_AREA)/links $(DEMO_AREA)/runs
	mkdir -p $(DEMO_AREA)/runs
	$(VENV)/bin/megatest --area $(DEMO_AREA) runs start --target ubuntu/gcc12 --runname demo

test: $(STAMP)
	$(VPY) -m ruff check megatest tests scripts
	$(VPY) -m pytest tests

lint: $(STAMP)
	$(VPY) -m ruff check megatest tests scripts

bench: $(STAMP)
	@$(VPY) -m compileall -q megatest >/dev/null
	@for b in scripts/bench/bench_*.py scripts/bench/engine/bench.py; do echo "== $$b"; $(VPY) $$b || exit 1; done

clean:
	rm -rf build dist *.egg-info

# --- distribution: standalone binary, install, packages ------------------------------------
# `make test` never depends on anything below; only `all`/`build` and later compile.
BUILD_DIR   := build
NUITKA_OUT  := $(BUILD_DIR)/nuitka
DIST_DIR    := $(NUITKA_OUT)/megatest.dist
BINARY      := $(BUILD_DIR)/megatest
BUILD_STAMP := $(VENV)/.build-installed
DIST_SOURCES := $(shell find megatest alembic -type f ! -path '*/__pycache__/*' ! -name '*.pyc' 2>/dev/null) \
	scripts/dist/megatest_main.py scripts/dist/build_binary.sh
MANPAGE     := $(BUILD_DIR)/share/megatest.1.gz
COMPLETIONS := $(BUILD_DIR)/share/megatest.bash $(BUILD_DIR)/share/_megatest
DIST_PY     := $(VPY) scripts/dist/distpkg.py

.PHONY: all build install package check-dist dist-bench dist-clean FORCE

all: build

build: $(BINARY) $(MANPAGE) $(COMPLETIONS)
	@$(VPY) scripts/dist/figures.py --binary $(BINARY) --python $(VPY) --out $(BUILD_DIR)/figures.txt

# The `build` extra's requirements, by the same script as the dev venv's (megatest itself
# stays installed as $(STAMP) did it: the source tree on a .pth line).
$(BUILD_STAMP): $(STAMP) pyproject.toml
	$(VPY) scripts/dev_venv.py build
	touch $@

# Rebuild when the profile's build flags change, not whenever ./configure rewrites config.mk
# (switching between profiles with the same flags only repackages).
FLAGS_STAMP := $(BUILD_DIR)/nuitka-flags.txt
$(FLAGS_STAMP): FORCE
	@mkdir -p $(@D)
	@echo '$(NUITKA_DISTRO_FLAGS)' | cmp -s - $@ || echo '$(NUITKA_DISTRO_FLAGS)' > $@

FORCE:

$(BINARY): $(BUILD_STAMP) $(DIST_SOURCES) $(FLAGS_STAMP)
	CC=$(CC) STRIP=$(STRIP) sh scripts/dist/build_binary.sh $(VPY) $(NUITKA_OUT) $(NUITKA_DISTRO_FLAGS)
	ln -sfn nuitka/megatest.dist/megatest.bin $@
	touch -h $@

$(MANPAGE): $(BINARY) scripts/dist/make_manpage.py
	@mkdir -p $(@D)
	$(VPY) scripts/dist/make_manpage.py $(BINARY) | gzip -9n > $@

$(BUILD_DIR)/share/megatest.bash: $(BINARY)
	@mkdir -p $(@D)
	_MEGATEST_COMPLETE=source_bash $(BINARY) > $@

$(BUILD_DIR)/share/_megatest: $(BINARY)
	@mkdir -p $(@D)
	_MEGATEST_COMPLETE=source_zsh $(BINARY) > $@

# Layout: the program folder in LIBDIR/megatest, a BINDIR/megatest symlink to its executable
# megatest.bin (inside the folder, `megatest/` is the package's data directory).
install: $(BINARY) $(MANPAGE) $(COMPLETIONS)
	$(DIST_PY) install --dist $(DIST_DIR) --destdir "$(DESTDIR)" \
		--libdir "$(LIBDIR)" --bindir "$(BINDIR)" --mandir "$(MANDIR)" \
		--man $(MANPAGE) --bash-completion $(BUILD_DIR)/share/megatest.bash \
		--bash-completion-dir "$(PKG_BASH_COMPLETION_DIR)" \
		--zsh-completion $(BUILD_DIR)/share/_megatest \
		--zsh-completion-dir "$(PKG_ZSH_COMPLETION_DIR)"

package: build
	rm -rf $(BUILD_DIR)/pkgroot
	$(MAKE) --no-print-directory install DESTDIR=$(abspath $(BUILD_DIR)/pkgroot)
	$(DIST_PY) package --profile distro/$(DISTRO).mk --root $(BUILD_DIR)/pkgroot \
		--binary $(BINARY) --out $(BUILD_DIR) \
		--prefix "$(PREFIX)" --sysconfdir "$(SYSCONFDIR)" --libdir "$(LIBDIR)" \
		--maintainer "$(PKG_MAINTAINER)" --objdump "$(OBJDUMP)"

# The built binary, then the same checks on a copy installed into a fresh staging root in /tmp
# (what a package installs: the layout, the relative link, the program found from itself).
# DESTDIR, not PREFIX: configured absolute directories (--libdir=/usr/lib64) stay inside it.
check-dist: build
	sh scripts/dist/check_dist.sh $(BINARY)
	@root=$$(mktemp -d "$${TMPDIR:-/tmp}/megatest-check-dist-root.XXXXXX") && \
	$(MAKE) --no-print-directory install DESTDIR="$$root" >/dev/null && \
	echo "installed under $$root" && \
	sh scripts/dist/check_dist.sh "$$root$(BINDIR)/megatest"; status=$$?; rm -rf "$$root"; exit $$status

# Two full builds (cold caches, then warm); the figures are printed by the `build` it ends with.
dist-bench: $(BUILD_STAMP)
	CC=$(CC) STRIP=$(STRIP) sh scripts/dist/dist_bench.sh $(VPY) $(BUILD_DIR)
	@$(MAKE) --no-print-directory build

dist-clean:
	rm -rf $(BUILD_DIR) config.mk
