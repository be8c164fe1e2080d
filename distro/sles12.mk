# Distro profile: SUSE Linux Enterprise Server 12.
DISTRO_TITLE := SLES 12
PKG_FORMAT := rpm
PKG_PREFIX := /usr
PKG_ARCH := x86_64
# See ubuntu.mk for what each list means. The slurm package is the client and daemons in one.
PKG_REQUIRES := sqlite3 slurm
PKG_RECOMMENDS :=
PKG_GLIBC_MIN := 2.22
PKG_BASH_COMPLETION_DIR = $(PREFIX)/share/bash-completion/completions
PKG_ZSH_COMPLETION_DIR = $(PREFIX)/share/zsh/site-functions
RPM_PAYLOAD := w6.xzdio
RPM_FILE_DIGEST := 8
NUITKA_DISTRO_FLAGS :=
