# Distro profile: Red Hat Enterprise Linux 7 (and CentOS 7).
DISTRO_TITLE := RHEL 7
PKG_FORMAT := rpm
PKG_PREFIX := /usr
PKG_ARCH := x86_64
# See ubuntu.mk for what each list means. RHEL names the SQLite tool package "sqlite".
PKG_REQUIRES := sqlite slurm
PKG_RECOMMENDS :=
PKG_GLIBC_MIN := 2.17
PKG_BASH_COMPLETION_DIR = $(PREFIX)/share/bash-completion/completions
PKG_ZSH_COMPLETION_DIR = $(PREFIX)/share/zsh/site-functions
RPM_PAYLOAD := w6.xzdio
RPM_FILE_DIGEST := 8
NUITKA_DISTRO_FLAGS :=
