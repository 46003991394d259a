"""``python -m paihao.install ROLE …``, as ``./install`` runs it (``--root DIR``: into a staging folder)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from paihao.errors import PaihaoError
from paihao.install.roles import ROLES
from paihao.install.steps import install, uninstall
from paihao.install.system import RealSystem, StagedSystem

SOURCE = Path(__file__).resolve().parents[2]  # the checkout, when run from one


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="./install", description="install a paihao role on this Pi")
    parser.add_argument("role", choices=[*ROLES, "uninstall"])
    parser.add_argument("--config", help="the hall config (TOML); validated before anything changes")
    parser.add_argument("--id", help="kiosk, caller and display: this device's id in the config")
    parser.add_argument("--credentials", metavar="FILE", help="broker passwords (account = \"password\"): on a "
                        "device Pi, the server's /etc/paihao/broker/credentials.toml; only its own line is kept")
    parser.add_argument("--purge", action="store_true", help="uninstall: the config, the data and the user too")
    parser.add_argument("--root", metavar="DIR", help="write every file under DIR and run nothing (a dry run)")
    parser.add_argument("--source", default=str(SOURCE), help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.root is None and os.geteuid() != 0:
        print("install: run it as root (sudo), or try it with --root DIR", file=sys.stderr)
        return 2
    system = StagedSystem(Path(args.root)) if args.root else RealSystem()
    try:
        if args.role == "uninstall":
            changes = uninstall(system, purge=args.purge)
        else:
            if not args.config:
                print("install: --config FILE is needed", file=sys.stderr)
                return 2
            changes = install(system, args.role, Path(args.config), Path(args.source), device=args.id,
                              credentials=Path(args.credentials) if args.credentials else None)
    except PaihaoError as exc:
        done = system.changes + system.log
        print(f"install: {exc}", file=sys.stderr)
        print("install: nothing was changed" if not done else f"install: stopped after: {'; '.join(done)}",
              file=sys.stderr)
        return 2
    finally:
        if isinstance(system, StagedSystem) and (system.changes or system.log):
            system.save()
    where = f" under {args.root}" if args.root else ""
    for change in changes:
        print(f"  {change}")
    print(f"{args.role}: {'done' if changes else 'nothing changed, all was in place'}{where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
