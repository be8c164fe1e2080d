# Distro profile: SUSE Linux Enterprise Server 12.
DISTRO_TITLE := SLES 12
PKG_FORMAT := rpm
PKG_PREFIX := /usr
PKG_ARCH := x86_64
# See ubuntu.mk and rh7.mk for what each list means. The slurm package is the client and
# daemons in one; zypper reads the weak dependencies.
PKG_REQUIRES :=
PKG_RECOMMENDS := slurm
PKG_SUGGESTS := sqlite3
# SLES 12 GA has glibc 2.19; 2.17 is the floor shared with RHEL 7, so one build serves both.
PKG_GLIBC_MIN := 2.17
PKG_BASH_COMPLETION_DIR = $(PREFIX)/share/bash-completion/completions
PKG_ZSH_COMPLETION_DIR = $(PREFIX)/share/zsh/site-functions
RPM_PAYLOAD := w6.xzdio
RPM_FILE_DIGEST := 8
# SUSE's group list and SPDX licence names
RPM_GROUP := Development/Tools/Other
RPM_LICENSE := GPL-3.0+
NUITKA_DISTRO_FLAGS :=
