# Distro profile: Red Hat Enterprise Linux 7 (and CentOS 7).
DISTRO_TITLE := RHEL 7
PKG_FORMAT := rpm
PKG_PREFIX := /usr
PKG_ARCH := x86_64
# See ubuntu.mk for what each list means. rpm packages require the libraries by soname
# (libz.so.1()(64bit)), so they need no PKG_LIBRARIES. RHEL names the SQLite tool "sqlite";
# rpm 4.11 ignores the weak dependencies, yum on RHEL 7 too (they document the launchers).
PKG_REQUIRES :=
PKG_RECOMMENDS := slurm
PKG_SUGGESTS := sqlite
PKG_GLIBC_MIN := 2.17
PKG_BASH_COMPLETION_DIR = $(PREFIX)/share/bash-completion/completions
PKG_ZSH_COMPLETION_DIR = $(PREFIX)/share/zsh/site-functions
RPM_PAYLOAD := w6.xzdio
RPM_FILE_DIGEST := 8
# Fedora/RHEL group and licence names, as RHEL 7's rpmlint knows them
RPM_GROUP := Development/Tools
RPM_LICENSE := GPLv3+
NUITKA_DISTRO_FLAGS :=
