"""Alembic, driven from code: one script folder holding two version trees (main, run).

The scripts live in the source tree's top-level alembic/ folder (alembic.ini beside it runs
them by hand); a wheel and the standalone binary carry a copy of that folder inside the
package, as megatest/store/_alembic/ (pyproject.toml's package-dir, and
scripts/dist/build_binary.sh). versions/main owns main.db, versions/run owns every
<run_id>.db. Code migrates one tree at a time: its Config lists only that tree's version
folder, so "head" and "base" mean that tree's, and a db file can never receive the other
tree's revisions. alembic/env.py calls `run_env()`.
"""

from __future__ import annotations

import functools
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

from megatest.errors import StoreError
from megatest.store import sqlite_conn
from megatest.store.revisions import HEADS

TREES = ("main", "run")
# Where a wheel or the binary puts its copy of alembic/, relative to this module's folder (the
# name pyproject.toml's package-dir and scripts/dist/build_binary.sh both give it).
SHIPPED_NAME = "_alembic"


def locate_scripts(store_dir: Path) -> Path:
    """The folder holding env.py and versions/ for the megatest.store package at `store_dir`:
    the copy inside the package when there is one (wheel, binary), else the source tree's
    top-level alembic/ (editable install, tests), two levels up."""
    shipped = store_dir / SHIPPED_NAME
    if (shipped / "env.py").is_file():
        return shipped
    root = store_dir.parent.parent
    source = root / "alembic"
    # alembic.ini must sit beside it: in a site-packages folder, alembic/ is the Alembic library.
    if (root / "alembic.ini").is_file() and (source / "env.py").is_file():
        return source
    raise StoreError(f"the schema migrations are missing (neither {shipped} nor {source} "
                     "holds env.py); reinstall megatest")


@functools.cache
def script_location() -> Path:
    """The migration scripts of this megatest (see locate_scripts)."""
    return locate_scripts(Path(__file__).resolve().parent)


def version_location(tree: str) -> Path:
    """The folder of one tree's revision files."""
    if tree not in TREES:
        raise ValueError(f"unknown schema tree {tree!r}")
    return script_location() / "versions" / tree


def _option(path: Path) -> str:
    return str(path).replace("%", "%%")  # Alembic's options go through configparser


def _config(tree: str, connection=None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", _option(script_location()))
    cfg.set_main_option("version_locations", _option(version_location(tree)))
    cfg.set_main_option("path_separator", "newline")  # one path, which may contain spaces
    cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def _script(tree: str):
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config(tree))


def head(tree: str) -> str:
    """The head revision id of a tree (a constant: no Alembic import, see revisions.py)."""
    if tree not in TREES:
        raise ValueError(f"unknown schema tree {tree!r}")
    return HEADS[tree]


def script_head(tree: str) -> str:
    """The head revision id as Alembic's script directory reports it (imports Alembic)."""
    return _script(tree).get_current_head()


def revisions(tree: str) -> list[str]:
    """Every revision of a tree, oldest first."""
    return [s.revision for s in reversed(list(_script(tree).walk_revisions()))]


def current(db_path: str | os.PathLike) -> str | None:
    return sqlite_conn.alembic_revision(db_path)


def _run(db_path: Path, tree: str, action: str, target: str) -> None:
    from alembic import command

    from megatest.store.engines import make_engine, write_tx

    engine = make_engine(Path(db_path), pool_size=1)
    try:
        with write_tx(engine) as conn:
            cfg = _config(tree, conn)
            getattr(command, action)(cfg, target)
    finally:
        engine.dispose()


def create_at_head(db_path: str | os.PathLike, tree: str) -> None:
    """A new, empty db file at the head of `tree`. From the recorded head schema
    (megatest.store.head_schema: a few milliseconds, no Alembic import) when it is the head's,
    else by running the migrations (half a second, most of it importing Alembic)."""
    from megatest.store import head_schema

    if head_schema.REVISIONS.get(tree) != head(tree):
        upgrade(db_path, tree)
        return
    conn = sqlite3.connect(str(db_path), isolation_level=None)
    try:
        conn.execute("BEGIN")
        for statement in head_schema.STATEMENTS[tree]:
            conn.execute(statement)
        conn.execute("INSERT INTO alembic_version (version_num) VALUES (?)", (head(tree),))
        conn.execute("COMMIT")
    finally:
        conn.close()


def head_statements(tree: str) -> list[str]:
    """The schema the migrations build for `tree`, as the statements that make it again: each
    sqlite_master entry's SQL in creation order (what megatest.store.head_schema records),
    without SQLite's own tables (sqlite_sequence comes with the first AUTOINCREMENT table)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{tree}.db"
        upgrade(path, tree)
        conn = sqlite3.connect(str(path))
        try:
            return [row[0] for row in conn.execute(
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite!_%' "
                "ESCAPE '!' ORDER BY rowid")]
        finally:
            conn.close()


def upgrade(db_path: str | os.PathLike, tree: str, target: str = "head") -> None:
    """Bring one db file to `target` (creating the file when missing), in one transaction."""
    _run(Path(db_path), tree, "upgrade", target)


def downgrade(db_path: str | os.PathLike, tree: str, target: str) -> None:
    _run(Path(db_path), tree, "downgrade", target)


def run_env() -> None:
    """Body of alembic/env.py. Driven from code (`_run`), it migrates the connection handed in;
    run by hand through alembic.ini, it opens the db file named by `-x db=PATH` itself."""
    from alembic import context

    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    _run_env_by_hand(context)


def _run_env_by_hand(context) -> None:
    import logging.config  # here, not at the top: the lean paths import this module too

    from alembic.util import CommandError

    from megatest.store.engines import make_engine, write_tx

    if context.config.config_file_name is not None:  # alembic.ini's [loggers]: INFO lines
        logging.config.fileConfig(context.config.config_file_name,
                                  disable_existing_loggers=False)
    if context.is_offline_mode():  # --sql: print the statements, no db
        context.configure(url="sqlite://", literal_binds=True, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    db = context.get_x_argument(as_dictionary=True).get("db")
    if not db:
        raise CommandError("name the db file: alembic -c alembic.ini -x db=PATH ... "
                           "(an area's .db/main.db or one of its .db/<run_id>.db)")
    path = Path(db)
    if not path.is_file():
        raise CommandError(f"no db file {path} (by hand, only existing files are migrated; "
                           "megatest creates new ones)")
    engine = make_engine(path, pool_size=1)
    try:
        with write_tx(engine) as conn:
            context.configure(connection=conn, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
            # Checked before the commit: `upgrade heads` would stack both trees in one file.
            versions = [row[0] for row in conn.exec_driver_sql(
                "SELECT version_num FROM alembic_version")]
            trees = sorted({Path(context.script.get_revision(v).path).parent.name
                            for v in versions})
            if len(trees) > 1:
                raise CommandError(f"{path} would hold both the {' and the '.join(trees)} "
                                   "schema; nothing was changed: name one tree, e.g. "
                                   "upgrade main@head or upgrade run@head")
    except StoreError as exc:  # a damaged file: one line, as megatest says it
        raise CommandError(str(exc)) from None
    finally:
        engine.dispose()


def build_at_head(final_path: Path, tree: str, *, prepare=None) -> bool:
    """Create `final_path` at the head of `tree` unless it exists; False when it already did.

    The file is built under a temporary name and linked into place, so a reader never sees a
    half-made db and two creators cannot clobber each other (os.link fails if the name exists).
    `prepare(path)` may add to the new file before it is published. A file that cannot be made
    (no permission, no space, ...) is a StoreError naming it and saying why; nothing is left.
    """
    if final_path.exists():
        return False
    try:
        return _build_at_head(final_path, tree, prepare)
    except sqlite3.Error as exc:
        raise sqlite_conn.failure(final_path, exc, "create") from None
    except OSError as exc:
        if exc.errno not in sqlite_conn.STORAGE_ERRNOS:
            raise  # e.g. a file where the folder belongs: the CLI names that path itself
        raise sqlite_conn.failure(final_path, exc, "create") from None


def _build_at_head(final_path: Path, tree: str, prepare) -> bool:
    final_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final_path.name}.", suffix=".new", dir=final_path.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        template = run_template(final_path.parent) if tree == "run" else None
        if template is not None:
            copy_db(template, Path(tmp))
        else:
            create_at_head(tmp, tree)
        if prepare is not None:
            prepare(Path(tmp))
        _settle(Path(tmp))
        try:
            os.link(tmp, final_path)
        except FileExistsError:
            return False
        return True
    finally:
        _remove_temp(tmp)


def _remove_temp(tmp: str) -> None:
    for leftover in (tmp, tmp + "-wal", tmp + "-shm", tmp + "-journal"):
        try:
            os.unlink(leftover)
        except FileNotFoundError:
            pass


def _settle(path: Path) -> None:
    """Checkpoint and leave rollback-journal mode so the file is complete on its own."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()


def copy_db(source: Path, dest: Path) -> None:
    """Byte copy of a settled db file."""
    shutil.copyfile(source, dest)


def template_path(db_dir: Path) -> Path:
    """Where the area's run db template for the current head lives."""
    return db_dir / f".run-template-{head('run')}.db"


def template_problem(path: Path) -> str | None:
    """What is wrong with a run db template (None: a sound empty run db at head): not an
    SQLite file, damaged pages, or another revision. Cheap: the template is an empty db."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(16)
    except OSError as exc:
        return f"cannot read it ({sqlite_conn.failure_reason(path, exc)})"
    if header != b"SQLite format 3\x00":
        return "not an SQLite database (damaged or overwritten)"
    try:
        uri = str(path.resolve()).replace("%", "%25").replace("?", "%3f").replace("#", "%23")
        conn = sqlite3.connect(f"file:{uri}?mode=ro", uri=True)
        try:
            check = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
            if check != ["ok"]:
                return "damaged (" + "; ".join(check[:3]) + ")"
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return f"cannot read it ({exc})"
    if row is None or row[0] != head("run"):
        return f"at revision {row[0] if row else None}, not {head('run')}"
    return None


# Templates found sound by this process, by (path, inode, size, mtime): checked once each.
_sound_templates: set[tuple[str, int, int, int]] = set()


def _template_stamp(path: Path) -> tuple[str, int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (str(path), st.st_ino, st.st_size, st.st_mtime_ns)


def run_template(db_dir: Path) -> Path:
    """An empty run db at head, kept as <db_dir>/.run-template-<head>.db and copied for each new
    run (one creation per area and schema version instead of one per run). The template is
    checked once per process before it is copied; a damaged one is built again from the
    recorded head schema (atomically: a concurrent copier sees the old file or the new)."""
    path = template_path(db_dir)
    stamp = _template_stamp(path)
    if stamp is not None:
        if stamp in _sound_templates:
            return path
        if template_problem(path) is None:
            _sound_templates.add(stamp)
            return path
    return rebuild_template(db_dir)


def rebuild_template(db_dir: Path) -> Path:
    """Build the run db template afresh and put it in place of whatever is there."""
    path = template_path(db_dir)
    fd, tmp = tempfile.mkstemp(prefix=".run-template.", suffix=".new", dir=db_dir)
    os.close(fd)
    os.unlink(tmp)
    try:
        create_at_head(tmp, "run")
        _settle(Path(tmp))
        os.replace(tmp, path)
    finally:
        _remove_temp(tmp)
    stamp = _template_stamp(path)
    if stamp is not None:
        _sound_templates.add(stamp)
    return path
