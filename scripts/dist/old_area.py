"""Make an area whose databases are at the oldest schema revisions, for check_dist.sh.

The built binary runs Alembic only when a database is behind its head (a new area's databases
are made from the recorded head schema), so check-dist needs such an area to prove that the
binary finds and runs the migrations it ships. This uses the source tree's megatest: a run
with two tests is recorded at head, then main.db and the run db are taken down to the first
revision of their trees.

usage: .venv/bin/python scripts/dist/old_area.py AREA
Prints one line per database (tree, file name, revision it was left at), then the target and
the run name, for check_dist.sh to read.
"""

from __future__ import annotations

import sys
from pathlib import Path

from megatest.store import migrations, open_store

FIELDS = ["OS", "COMPILER"]
TARGET_TEXT = "ubuntu/gcc12"
RUNNAME = "oldrun"


def make(area: Path) -> list[tuple[str, str, str]]:
    """(tree, db file name, revision it was left at) for each database of the new area."""
    area.mkdir(parents=True, exist_ok=True)
    (area / "megatest.config").write_text(
        "[fields]\n" + "".join(f"{name} TEXT\n" for name in FIELDS))
    (area / "runconfigs.config").write_text(f"[default]\n\n[{TARGET_TEXT}]\n")
    with open_store(area, fields=FIELDS) as store:
        run_id = store.get_or_create_run(dict(zip(FIELDS, TARGET_TEXT.split("/"), strict=True)),
                                         RUNNAME)
        store.register_tests(run_id, [("hello", ""), ("after", "")])
    db_dir = area / ".db"
    for template in db_dir.glob(".run-template-*.db"):
        template.unlink()  # made at today's head; an old area's would be older anyway
    left = []
    for tree, path in (("main", db_dir / "main.db"), ("run", db_dir / f"{run_id}.db")):
        migrations.downgrade(path, tree, migrations.revisions(tree)[0])
        left.append((tree, path.name, migrations.current(path) or "-"))
    return left


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: old_area.py AREA", file=sys.stderr)
        return 2
    for tree, name, revision in make(Path(argv[0])):
        print(f"{tree} {name} {revision}")
    print(f"target {TARGET_TEXT}")
    print(f"runname {RUNNAME}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
