# Distro profile: Ubuntu (and Debian) build hosts and farm nodes.
# Read by configure (PKG_FORMAT, PKG_PREFIX) and by make (everything) via config.mk.
DISTRO_TITLE := Ubuntu
PKG_FORMAT := deb
PKG_PREFIX := /usr
PKG_ARCH := amd64
# Runtime packages for the package metadata: hard requirements, then the optional ones
# (deb Recommends). The binary carries its own Python and SQLite library, so sqlite3 is only
# the command-line tool people use to inspect .db files; the Slurm client serves the slurm launcher.
PKG_REQUIRES := sqlite3
PKG_RECOMMENDS := slurm-client
# Oldest C library on the farm nodes. `make package` warns (STRICT_GLIBC=1: fails) when the
# binary needs a newer one, and the package always requires the glibc the binary needs.
PKG_GLIBC_MIN := 2.35
PKG_BASH_COMPLETION_DIR = $(PREFIX)/share/bash-completion/completions
PKG_ZSH_COMPLETION_DIR = $(PREFIX)/share/zsh/vendor-completions
# Build flags, added to the Nuitka command line.
NUITKA_DISTRO_FLAGS :=
