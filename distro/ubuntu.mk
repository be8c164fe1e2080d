# Distro profile: Ubuntu (and Debian) build hosts and farm nodes.
# Read by configure (PKG_FORMAT, PKG_PREFIX) and by make (everything) via config.mk.
DISTRO_TITLE := Ubuntu
PKG_FORMAT := deb
PKG_PREFIX := /usr
PKG_ARCH := amd64
# Dependencies. The libraries come from what the binary links (objdump -p NEEDED) minus what
# its folder carries: glibc's become libc6 at the version the binary needs, the others are
# named here (soname=package; `make package` stops on a library not listed). PKG_REQUIRES adds
# hard requirements by hand (none: the binary carries its own Python and SQLite). The Slurm
# client serves the slurm launcher; sqlite3 is the tool people inspect .db files with.
PKG_LIBRARIES := libz.so.1=zlib1g libgcc_s.so.1=libgcc-s1
PKG_REQUIRES :=
PKG_RECOMMENDS := slurm-client
PKG_SUGGESTS := sqlite3
# Oldest C library on the farm nodes, `host` for the build host's. `make package` refuses a
# binary that needs a newer one.
PKG_GLIBC_MIN := host
PKG_BASH_COMPLETION_DIR = $(PREFIX)/share/bash-completion/completions
PKG_ZSH_COMPLETION_DIR = $(PREFIX)/share/zsh/vendor-completions
# Build flags, added to the Nuitka command line.
NUITKA_DISTRO_FLAGS :=
