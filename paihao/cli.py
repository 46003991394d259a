"""The ``paihao`` command: one console script, a subcommand per process."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from paihao.config import load_config
from paihao.errors import PaihaoError


def _broker(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT")
    return host, int(port)


def _load(args: argparse.Namespace):
    overrides: dict = {}
    if getattr(args, "broker", None):
        overrides["mqtt"] = {"host": args.broker[0], "port": args.broker[1]}
    if getattr(args, "db", None):
        overrides["storage"] = {"db": args.db}
    return load_config(args.config, **overrides)


def cmd_hall(args: argparse.Namespace) -> int:
    from hall.app import run_hall

    run_hall(_load(args))
    return 0


def cmd_kiosk(args: argparse.Namespace) -> int:
    from pathlib import Path

    from kiosk.app import run_kiosk

    screenshots = Path(args.screenshots) if args.screenshots else None
    run_kiosk(_load(args), args.id, screenshots=screenshots, windowed=args.windowed)
    return 0


def cmd_display(args: argparse.Namespace) -> int:
    from pathlib import Path

    from display.app import run_display

    screenshots = Path(args.screenshots) if args.screenshots else None
    run_display(_load(args), args.id, window=args.window, screenshots=screenshots, windowed=args.windowed)
    return 0


def cmd_caller(args: argparse.Namespace) -> int:
    from caller.app import run_caller

    run_caller(_load(args), args.id, tty=args.tty, window=args.window)
    return 0


def cmd_bridge(args: argparse.Namespace) -> int:
    from firmware_bridge.app import run_bridge

    run_bridge(_load(args), args.id, fake_modem=args.fake_modem)
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.dump:
        import json

        from paihao.dump import masked

        print(json.dumps(masked(config), ensure_ascii=False, indent=2))
        return 0
    print(
        f"{args.config}: ok: site {config.site.id} ({config.site.name}), {len(config.departments)} departments, "
        f"{len(config.items)} items, {len(config.windows)} windows, {len(config.clerks)} clerks"
    )
    return 0


def _month(text: str) -> str:
    from hall.reports import check_month

    try:
        return check_month(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_report(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from hall.reporter import is_final, make_report

    config = _load(args)
    now = datetime.now(timezone.utc)
    summary = make_report(config, args.month, final=is_final(config, args.month, now), made_at=now)
    hall = summary["hall"]
    print(f"{config.site.name} {args.month}: {hall['issued']} tickets, {hall['served']} served, "
          f"{hall['eval_answered']} evaluations answered, score {hall['score'] if hall['score'] is not None else '-'}")
    for name in summary["files"].values():
        print(f"{config.reports.folder}/{name}")
    if args.publish:
        from bus.client import BusClient
        from bus.topics import Topics

        topics = Topics(config.site.id)
        from paihao.accounts import HALL
        from paihao.credentials import connection

        # The summary is hall state: only the controller's account may publish it.
        with BusClient(f"paihao-report-{config.site.id}", **connection(config, HALL)) as bus:
            bus.wait_published(topics.report(args.month), summary, retain=True)
        print(f"published on {topics.report(args.month)}")


def cmd_broker_config(args: argparse.Namespace) -> int:
    from pathlib import Path

    from paihao.broker_config import write_broker_config

    config = load_config(args.config)
    credentials = Path(args.credentials) if args.credentials else None
    written = write_broker_config(config, Path(args.out), credentials=credentials, run_user=args.broker_user,
                                  source=str(Path(args.config).resolve()))
    for path, changed in written:
        print(f"{'wrote    ' if changed else 'unchanged'} {path}")
    if not any(changed for _, changed in written):
        print("nothing changed")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from paihao.demo import run_demo

    return run_demo(args.config, speed=args.speed, seconds=args.seconds, seed=args.seed, output=args.output)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paihao", description="queue, evaluation and supervision for a service hall")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    hall = commands.add_parser("hall", help="run the hall controller")
    hall.add_argument("--config", required=True, help="hall config (TOML)")
    hall.add_argument("--broker", type=_broker, help="HOST:PORT, overrides [mqtt]")
    hall.add_argument("--db", help="SQLite file, overrides [storage] db")
    hall.set_defaults(func=cmd_hall)

    kiosk = commands.add_parser("kiosk", help="run a touchscreen ticket kiosk")
    kiosk.add_argument("--config", required=True, help="hall config (TOML)")
    kiosk.add_argument("--id", required=True, help="this kiosk's id in [[kiosks]]")
    kiosk.add_argument("--broker", type=_broker, help="HOST:PORT, overrides [mqtt]")
    kiosk.add_argument("--windowed", action="store_true", help="a window instead of full screen")
    kiosk.add_argument("--screenshots", metavar="DIR", help="no display: write a PNG of every screen into DIR")
    kiosk.set_defaults(func=cmd_kiosk)

    display = commands.add_parser("display", help="run the hall's LED wall or a window's screen, with voice calls")
    display.add_argument("--config", required=True, help="hall config (TOML)")
    display.add_argument("--id", required=True, help="this display's id in [[displays]]")
    display.add_argument("--window", help="show the page for the screen above this window")
    display.add_argument("--broker", type=_broker, help="HOST:PORT, overrides [mqtt]")
    display.add_argument("--windowed", action="store_true", help="a window instead of full screen")
    display.add_argument("--screenshots", metavar="DIR", help="no display: keep a PNG of the screen in DIR")
    display.set_defaults(func=cmd_display)

    caller = commands.add_parser("caller", help="run the call-pads of one or several windows")
    caller.add_argument("--config", required=True, help="hall config (TOML)")
    caller.add_argument("--id", help="this pad's id in [[callers]] (needless if there is only one)")
    caller.add_argument("--broker", type=_broker, help="HOST:PORT, overrides [mqtt]")
    caller.add_argument("--tty", action="store_true", help="a soft-pad in this terminal instead of the hardware")
    caller.add_argument("--window", help="with --tty: the window the keys go to first (Tab moves on)")
    caller.set_defaults(func=cmd_caller)

    bridge = commands.add_parser("bridge", help="run the SMS bridge: a GSM modem <-> the hall's SMS topics")
    bridge.add_argument("--config", required=True, help="hall config (TOML)")
    bridge.add_argument("--id", help="this bridge's id in [[bridges]] (needless if there is only one)")
    bridge.add_argument("--broker", type=_broker, help="HOST:PORT, overrides [mqtt]")
    bridge.add_argument("--fake-modem", action="store_true",
                        help="the fake modem that ships in the package instead of the configured one")
    bridge.set_defaults(func=cmd_bridge)

    check = commands.add_parser("check-config", help="validate a config file without starting anything")
    check.add_argument("config")
    check.add_argument("--dump", action="store_true", help="print the effective config (JSON), secrets masked")
    check.set_defaults(func=cmd_check_config)

    report = commands.add_parser("report", help="write a month's scores as CSV and XLSX into [reports] folder")
    report.add_argument("--config", required=True, help="hall config (TOML)")
    report.add_argument("--month", required=True, type=_month, help="YYYY-MM, e.g. 2026-11 (site timezone)")
    report.add_argument("--db", help="SQLite file, overrides [storage] db (read only; the controller may run)")
    report.add_argument("--publish", action="store_true", help="also publish the summary, retained, on the broker")
    report.add_argument("--broker", type=_broker, help="HOST:PORT, overrides [mqtt] (with --publish)")
    report.set_defaults(func=cmd_report)

    broker = commands.add_parser("broker-config", help="write mosquitto.conf, the password file and the ACL")
    broker.add_argument("--config", required=True, help="hall config (TOML)")
    broker.add_argument("--out", required=True, metavar="DIR", help="where the broker will read them from")
    broker.add_argument("--credentials", metavar="FILE",
                        help="passwords to use (account = \"password\"); missing ones are kept or generated")
    broker.add_argument("--broker-user", default="mosquitto",
                        help="the user mosquitto runs as (it must read the password file and the ACL)")
    broker.set_defaults(func=cmd_broker_config)

    demo = commands.add_parser("demo", help="a private broker, the controller and simulated citizens and clerks")
    demo.add_argument("--config", default="config/rongchang.toml")
    demo.add_argument("--speed", type=float, default=30.0, help="how much faster than real time the hall's clock runs")
    demo.add_argument("--seconds", type=float, default=0, help="stop after this long (0: until Ctrl-C)")
    demo.add_argument("--seed", type=int, default=None, help="random seed for a repeatable run")
    demo.add_argument("--output", default="demo-output", help="where screens are written when there is no display")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stdout,
    )
    try:
        return args.func(args)
    except PaihaoError as exc:
        print(f"paihao: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
