# Distro profile: SUSE Linux Enterprise Server 11.
DISTRO_TITLE := SLES 11
PKG_FORMAT := rpm
PKG_PREFIX := /usr
PKG_ARCH := x86_64
# See ubuntu.mk and rh7.mk for what each list means. SLES 11 ships no Slurm.
PKG_REQUIRES :=
PKG_RECOMMENDS :=
PKG_SUGGESTS := sqlite3
PKG_GLIBC_MIN := 2.11
PKG_BASH_COMPLETION_DIR = $(SYSCONFDIR)/bash_completion.d
PKG_ZSH_COMPLETION_DIR = $(PREFIX)/share/zsh/site-functions
# rpm 4.4 reads neither xz payloads nor SHA-256 file digests: gzip payload, MD5 digests (1).
RPM_PAYLOAD := w9.gzdio
RPM_FILE_DIGEST := 1
RPM_GROUP := Development/Tools/Other
RPM_LICENSE := GPL-3.0+
NUITKA_DISTRO_FLAGS :=
