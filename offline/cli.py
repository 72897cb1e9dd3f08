"""``aks-mlops`` command line: the offline plan of a stack.

    aks-mlops plan --stack dev        # or: python -m offline.cli plan --stack dev

Runs the real program for the stack under Pulumi's mock runtime (no credentials, no state
backend, no Pulumi CLI), prints what the stack would create grouped by component, and
writes ``build/<stack>/plan.json``. It is an offline plan, not a diff against Azure.
Exit codes: 0 planned; 2 invalid config or unknown stack (nothing written).
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import sys
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

from infra.config import ConfigError, PlatformConfig, parse_config
from infra.config.placeholders import find_placeholders
from offline import compare, cost, identities, images, picture
from offline.manifests import write_manifests
from offline.monitoring_summary import alert_rows, dashboard_titles, record_counts
from offline.policy import findings as policy_findings
from offline.policy import write_pack_config
from offline.runner import (
    BOOTSTRAP_DIR,
    ROOT,
    OfflineRun,
    list_stacks,
    load_stack_config,
    run_bootstrap_stack,
    run_stack,
)
from offline.serving_summary import llm_rows, release_rows
from offline.summary import azure_name, settings_of
from policies.rules import Finding

NOTICE = (
    "OFFLINE PLAN: the real program ran under Pulumi's mock runtime. No Azure calls, no "
    "state, no credentials. This lists what the stack would create; it is not a diff "
    "against what is deployed (use `pulumi preview` for that)."
)
EXIT_CONFIG = 2
EXIT_POLICY = 3


def _short_type(token: str) -> str:
    return token.rsplit(":", maxsplit=1)[-1]


def plan_document(run: OfflineRun, placeholders: list[str] | None = None) -> dict[str, object]:
    """The JSON document written to ``build/<stack>/plan.json``."""
    return {
        "stack": run.stack,
        "offline": True,
        "notice": NOTICE,
        # Documentation placeholders a real deployment refuses (see infra/config/placeholders).
        "placeholders": list(placeholders or []),
        "resourceCount": sum(1 for r in run.resources if r.custom),
        "componentCount": sum(1 for r in run.resources if not r.custom),
        "outputs": run.outputs,
        # Inputs are what would be sent to Azure; mock outputs are not part of the plan.
        "resources": [
            {k: v for k, v in asdict(r).items() if k != "outputs"} for r in run.resources
        ],
    }


def write_plan(run: OfflineRun, out_dir: Path, placeholders: list[str] | None = None) -> Path:
    """Write the plan atomically; returns the plan file's path."""
    stack_dir = out_dir / run.stack
    stack_dir.mkdir(parents=True, exist_ok=True)
    target = stack_dir / "plan.json"
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(
        json.dumps(plan_document(run, placeholders), indent=2, sort_keys=True, default=str) + "\n"
    )
    tmp.replace(target)
    return target


def print_summary(run: OfflineRun, console: Console) -> None:
    """Resources grouped by top-level component, with the settings that matter."""
    console.print(f"[bold]{NOTICE}[/bold]\n", soft_wrap=True)
    by_urn = {r.urn: r for r in run.resources}

    def top_component(urn: str) -> str:
        record = by_urn.get(urn)
        while record and record.parent and record.parent in by_urn:
            record = by_urn[record.parent]
        return record.name if record else "(stack)"

    groups: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for r in run.resources:
        if r.custom:
            groups[top_component(r.urn)].append(
                (_short_type(r.type), azure_name(r), settings_of(r))
            )
    for component in sorted(groups):
        kind = by_urn[next(u for u, r in by_urn.items() if r.name == component)].type
        if not console.is_terminal:
            # CI logs and files: plain lines, no box drawing, no wrapping inside cells.
            console.print(f"\n{component} ({_short_type(kind)})", markup=False, soft_wrap=True)
            for typ, name, settings in groups[component]:
                line = f"  {typ}  {name}  {settings}".rstrip()
                console.print(line, markup=False, soft_wrap=True)
            continue
        table = Table(
            title=f"{component} ({_short_type(kind)})",
            title_justify="left",
            show_lines=False,
            expand=True,
        )
        table.add_column("resource", no_wrap=True)
        table.add_column("name", overflow="fold")
        table.add_column("settings", overflow="fold", ratio=3)
        for row in groups[component]:
            table.add_row(*row)
        console.print(table)
    print_rules_and_dashboards(run, console)
    print_release(run, console)
    custom = sum(1 for r in run.resources if r.custom)
    console.print(
        f"\nstack [bold]{run.stack}[/bold]: {custom} resources in {len(groups)} components "
        "(offline plan)"
    )
    for key, value in sorted(run.outputs.items()):
        console.print(f"  output {key}: {value}")


def print_rules_and_dashboards(run: OfflineRun, console: Console) -> None:
    """The stack's alerts (threshold expression, for, severity), recording rules, dashboards."""
    table = Table(title="Prometheus alerts", title_justify="left", expand=True)
    for column in ("group", "alert", "expression (threshold)", "for", "severity"):
        table.add_column(column, overflow="fold", ratio=3 if column.startswith("expr") else 1)
    rows = alert_rows(run)
    for row in rows:
        table.add_row(row.group, row.alert, row.expression, row.for_, row.severity)
    if rows:
        console.print(table)
    else:
        console.print("\nPrometheus alerts: none registered by this stack")
    for group, count in sorted(record_counts(run).items()):
        console.print(f"recording rules: {group}: {count}")
    titles = dashboard_titles(run)
    console.print(
        "Grafana dashboards: "
        + (", ".join(titles) if titles else "none (no JSON under dashboards/)")
    )


def print_release(run: OfflineRun, console: Console) -> None:
    """The release as the stack would deploy it: model versions, image, serving settings."""
    rows = release_rows(run)
    if not rows:
        console.print("\nRelease: no model served by this stack")
    for row in rows:
        console.print(
            f"\nrelease model {row.model} version {row.version} | image {row.image} | "
            f"replicas {row.replicas} | target {row.target} | {row.resources} | "
            f"on {row.placement} | ingress {row.ingress}",
            markup=False,
            soft_wrap=True,
        )
    for workspace, preset, instance in llm_rows(run):
        console.print(
            f"LLM (KAITO) workspace {workspace} | preset {preset} | instanceType {instance}",
            markup=False,
            soft_wrap=True,
        )


def print_placeholders(stack: str, placeholders: list[str], console: Console) -> None:
    """Warn about documentation placeholders: accepted here, refused by a real deployment."""
    if not placeholders:
        return
    console.print(
        f"\nWARNING: Pulumi.{stack}.yaml has {len(placeholders)} documentation placeholder(s). "
        "The offline plan accepts them; a real `pulumi preview` / `pulumi up` refuses them "
        "before creating anything. Replace:",
        markup=False,
    )
    for line in placeholders:
        console.print(f"  - {line}", markup=False)


def cmd_plan(args: argparse.Namespace) -> int:
    """Run the offline plan of one stack."""
    console = Console(width=args.width, highlight=False, soft_wrap=False)
    err = Console(stderr=True, highlight=False, width=args.width)
    if args.program == "bootstrap":
        return _plan_bootstrap(args, console, err)
    args.stack = args.stack or "dev"
    args.project_dir = args.project_dir or str(ROOT)
    out_dir = Path(args.out)
    try:
        run = run_stack(args.stack, Path(args.project_dir))
    except FileNotFoundError as exc:
        err.print(f"error: {exc}", markup=False)
        return EXIT_CONFIG
    except ConfigError as exc:
        stale = out_dir / args.stack
        if stale.exists():
            # Never leave a previous plan that looks like the result of this run.
            shutil.rmtree(stale)
        err.print(f"error: stack {args.stack}: {exc}", markup=False)
        err.print("nothing was planned or written.", markup=False)
        return EXIT_CONFIG
    # Graphviz draws the picture in the background while the plan does the rest.
    pending = picture.start_render(run, out_dir) if args.picture else None
    config, _ = load_stack_config(args.stack, Path(args.project_dir))
    parsed = parse_config(config)
    placeholders = find_placeholders(parsed)
    path = write_plan(run, out_dir, placeholders)
    manifests = write_manifests(run, out_dir)
    levels = parsed.policy.levels()
    found = policy_findings(run, levels)
    report = cost.estimate(run, budget_usd=parsed.cost.monthly_budget_usd)
    pack_config = write_pack_config(levels, out_dir / run.stack / "policy-config.json")
    with err.status("drawing the architecture picture"):
        pictures = pending.wait() if pending else []
    if args.json:
        document = plan_document(run, placeholders)
        document["policy"] = {"levels": levels, "findings": [asdict(f) for f in found]}
        document["cost"] = report.as_json()
        document["files"] = [str(p) for p in (path, pack_config, *pictures)]
        print(json.dumps(document, indent=2, sort_keys=True, default=str))
        if report.budget_warning():
            err.print(report.budget_warning(), markup=False)
        return EXIT_POLICY if any(f.level == "mandatory" for f in found) else 0
    print_summary(run, console)
    print_findings(found, console)
    print_cost(report, console)
    print_placeholders(args.stack, placeholders, err)
    console.print(f"\nwrote {path}")
    console.print(
        f"wrote {len(manifests)} Kubernetes manifests to {out_dir / run.stack / 'manifests'}"
    )
    console.print(f"wrote {pack_config} (pulumi preview --policy-pack-config)")
    if pictures:
        console.print(f"wrote {', '.join(str(p) for p in pictures)}")
    elif args.picture:
        console.print(
            "no picture: Graphviz's `dot` is not installed (Debian: apt-get install graphviz)"
        )
    warning = report.budget_warning()
    if warning:
        err.print(warning, markup=False)
    if any(f.level == "mandatory" for f in found):
        err.print(
            f"error: stack {args.stack}: mandatory policy violations (see above)", markup=False
        )
        return EXIT_POLICY
    return 0


def _plan_bootstrap(args: argparse.Namespace, console: Console, err: Console) -> int:
    """The offline plan of the bootstrap program (``bootstrap/``): no manifests, no policy."""
    stack = args.stack or "example"
    # Beside the platform's plans, never mixed with a platform stack of the same name.
    out_dir = Path(args.out) / "bootstrap"
    try:
        run = run_bootstrap_stack(stack, Path(args.project_dir or BOOTSTRAP_DIR))
    except FileNotFoundError as exc:
        err.print(f"error: {exc}", markup=False)
        return EXIT_CONFIG
    except ConfigError as exc:
        if (out_dir / stack).exists():
            shutil.rmtree(out_dir / stack)
        err.print(f"error: bootstrap stack {stack}: {exc}", markup=False)
        err.print("nothing was planned or written.", markup=False)
        return EXIT_CONFIG
    path = write_plan(run, out_dir)
    print_summary(run, console)
    console.print(f"\nwrote {path}")
    return 0


def print_cost(report: cost.CostReport, console: Console) -> None:
    """Monthly cost per component at idle and at full scale, with unknowns and assumptions."""
    console.print(
        f"\nestimated monthly cost, stack {report.stack} (offline estimate, USD list prices; "
        "prices and sources in offline/prices.yaml)",
        markup=False,
        soft_wrap=True,
    )
    rows = [(c, i.render(), f.render()) for c, (i, f) in report.component_totals().items()]
    rows.append(("total", report.idle().render(), report.full().render()))
    width = max(len(r[0]) for r in rows)
    console.print(f"  {'component':{width}}  {'idle':>28}  {'full scale':>28}", markup=False)
    for name, idle, full in rows:
        console.print(f"  {name:{width}}  {idle:>28}  {full:>28}", markup=False)
    if report.budget_usd is not None:
        state = "EXCEEDED at idle" if report.over_budget() else "within at idle"
        console.print(f"  budget ${report.budget_usd:,.2f}/month: {state}", markup=False)
    unknown = report.unknown_items()
    if unknown:
        console.print(
            "  unknown prices (no sourced number, shown as unknown, never $0): "
            + ", ".join(unknown),
            markup=False,
            soft_wrap=True,
        )
    for line in report.assumptions():
        console.print(f"  assumes: {line}", markup=False, soft_wrap=True)


def cmd_cost(args: argparse.Namespace) -> int:
    """Estimate the monthly cost of one stack."""
    err = Console(stderr=True, highlight=False, width=args.width)
    project = Path(args.project_dir)
    try:
        config = parse_config(load_stack_config(args.stack, project)[0])
        run = run_stack(args.stack, project)
    except FileNotFoundError as exc:
        err.print(f"error: {exc}", markup=False)
        return EXIT_CONFIG
    except ConfigError as exc:
        err.print(f"error: stack {args.stack}: {exc}", markup=False)
        return EXIT_CONFIG
    report = cost.estimate(run, budget_usd=config.cost.monthly_budget_usd)
    if args.json:
        print(json.dumps(report.as_json(), indent=2, sort_keys=True))
    else:
        print_cost(report, Console(highlight=False, width=args.width, soft_wrap=True))
    warning = report.budget_warning()
    if warning:
        err.print(warning, markup=False)
    return 0


def cmd_prices(args: argparse.Namespace) -> int:
    """The price table's state; with ``--refresh``, fill its unknown rows online."""
    from offline import price_refresh  # noqa: PLC0415 (only this command reads the network)
    from offline.price_pick import PriceTableError  # noqa: PLC0415

    err = Console(stderr=True, highlight=False, width=args.width)
    if (args.all or args.dry_run) and not args.refresh:
        err.print("error: --all and --dry-run apply to --refresh only", markup=False)
        return EXIT_CONFIG
    path = Path(args.file)
    try:
        table = cost.load_prices(path)
    except (OSError, PriceTableError) as exc:
        err.print(f"error: {exc}", markup=False)
        return EXIT_CONFIG
    if not args.refresh:
        unknown = [p.item for p in table.prices if p.usd is None]
        print(f"{path}: {len(table.prices) - len(unknown)} priced rows, {len(unknown)} unknown")
        if unknown:
            print("unknown (read online with `make prices`): " + ", ".join(unknown))
        return 0
    try:
        changes = price_refresh.refresh(
            path, all_rows=args.all, dry_run=args.dry_run, timeout=args.timeout
        )
    except price_refresh.RefreshError as exc:
        err.print(f"error: {exc}", markup=False, soft_wrap=True)
        return 1
    for change in changes:
        print(("would set " if args.dry_run else "set ") + change.describe())
    verb = "would change" if args.dry_run else "changed"
    print(f"{path}: {verb} {len(changes)} row(s)")
    return 0


def print_findings(found: list[Finding], console: Console) -> None:
    """The policy pack's findings, mandatory first."""
    if not found:
        console.print("\npolicy pack (policies/): no violations")
        return
    console.print(f"\npolicy pack (policies/): {len(found)} violation(s)")
    for f in sorted(found, key=lambda f: (f.level != "mandatory", f.rule, f.name)):
        console.print(
            f"  {f.level.upper():9} {f.rule}  {f.name} ({_short_type(f.resource_type)}): "
            f"{f.message}",
            markup=False,
        )


def _show(value: object) -> str:
    if value is None:
        return "-"
    return json.dumps(value) if not isinstance(value, str) else value


def cmd_diff(args: argparse.Namespace) -> int:
    """Compare two stacks side by side."""
    err = Console(stderr=True, highlight=False, width=args.width)
    project = Path(args.project_dir)
    configs: dict[str, PlatformConfig] = {}
    # Both stack files are checked before either program runs: bad input fails in seconds.
    for stack in (args.from_stack, args.to_stack):
        try:
            configs[stack] = parse_config(load_stack_config(stack, project)[0])
        except FileNotFoundError as exc:
            err.print(f"error: {exc}", markup=False)
            return EXIT_CONFIG
        except ConfigError as exc:
            err.print(f"error: stack {stack}: {exc}", markup=False)
            return EXIT_CONFIG
    planned = []
    for stack in (args.from_stack, args.to_stack):
        try:
            planned.append((run_stack(stack, project), configs[stack]))
        except ConfigError as exc:
            err.print(f"error: stack {stack}: {exc}", markup=False)
            return EXIT_CONFIG
    diff = compare.compare(planned[0], planned[1])
    if args.json:
        print(json.dumps(diff.as_json(), indent=2, sort_keys=True, default=str))
        return 0
    out = Console(highlight=False, width=args.width, soft_wrap=True)
    title = f"{diff.left} -> {diff.right} (offline plans of both stacks, not a cloud diff)"
    out.print(title, markup=False)
    if not diff:
        out.print("no differences", markup=False)
        return 0
    section = None
    for s in diff.settings:
        if s.section != section:
            section = s.section
            out.print(f"\n[{section}]", markup=False)
        key = s.key or "(value)"
        out.print(f"  {key:44} {_show(s.left):>28}  ->  {_show(s.right)}", markup=False)
    if diff.resources:
        out.print("\n[resources] (type::logical name: summary settings)", markup=False)
        for r in diff.resources:
            out.print(f"  {r.key}", markup=False)
            out.print(
                f"    {diff.left:6} {r.left if r.left is not None else '(absent)'}", markup=False
            )
            out.print(
                f"    {diff.right:6} {r.right if r.right is not None else '(absent)'}", markup=False
            )
    out.print(
        f"\n{len(diff.settings)} setting(s) and {len(diff.resources)} resource(s) differ",
        markup=False,
    )
    return 0


def cmd_images(args: argparse.Namespace) -> int:
    """The container image inventory of a stack (offline run; no registry calls)."""
    err = Console(stderr=True, highlight=False, width=args.width, soft_wrap=True)
    try:
        run = run_stack(args.stack, Path(args.project_dir))
    except FileNotFoundError as exc:
        err.print(f"error: {exc}", markup=False)
        return EXIT_CONFIG
    except ConfigError as exc:
        err.print(f"error: stack {args.stack}: {exc}", markup=False)
        return EXIT_CONFIG
    uses = images.inventory(run)
    if args.json:
        document = {
            "stack": run.stack,
            "offline": True,
            "hosts": images.upstream_hosts(uses),
            "pulledFrom": images.pulled_hosts(uses),
            "references": images.unique_references(uses),
            "built": images.built_references(uses),
            "images": [u.as_json() for u in uses],
        }
        print(json.dumps(document, indent=2, sort_keys=True))
        return 0
    out = Console(highlight=False, width=args.width, soft_wrap=True)
    out.print(f"stack {run.stack}: container images (offline run)", markup=False)
    for u in uses:
        pin = f"@{u.digest}" if u.digest else ""
        out.print(
            f"  {u.component:18} {u.object:40} {u.container:20} "
            f"{u.host}/{u.repository}  tag={u.tag or '-'}{pin}  via {u.source}",
            markup=False,
        )
    out.print(
        f"{len(uses)} container(s), {len(images.unique_references(uses))} distinct third-party "
        f"image(s) from {', '.join(images.upstream_hosts(uses)) or 'no upstream'}, "
        f"{len(images.built_references(uses))} built by CI; pulled from "
        f"{', '.join(images.pulled_hosts(uses)) or 'no registry'}",
        markup=False,
    )
    return 0


def cmd_identities(args: argparse.Namespace) -> int:
    """Compare (``--check``) or rewrite the golden identity files of stacks."""
    err = Console(stderr=True, highlight=False, width=args.width, soft_wrap=True)
    out = Console(highlight=False, width=args.width, soft_wrap=True)
    stacks = list_stacks(Path(args.project_dir)) if args.stack == "all" else [args.stack]
    directory = Path(args.dir)
    failed = False
    for stack in stacks:
        try:
            run = run_stack(stack, Path(args.project_dir))
            if args.check:
                golden = identities.load_golden(stack, directory)
                diff = identities.compare(golden.identities, identities.identities_of(run))
                problems = identities.history_problems(golden.history, run)
                if diff or problems:
                    failed = True
                    path = identities.golden_path(stack, directory)
                    err.print(f"stack {stack}: identities differ from {path}", markup=False)
                    err.print(diff.render() + "".join(f"\n  {p}" for p in problems), markup=False)
                else:
                    out.print(f"stack {stack}: identities unchanged", markup=False)
                continue
            diff = identities.write_golden(stack, run, args.reason, directory)
        except (FileNotFoundError, ConfigError, identities.IdentityFileError) as exc:
            err.print(f"error: stack {stack}: {exc}", markup=False)
            return EXIT_CONFIG
        except identities.UnexplainedChangeError as exc:
            err.print(f"refused: stack {stack}: {exc}", markup=False)
            return 1
        summary = "no changes" if not diff else diff.render()
        out.print(
            f"stack {stack}: wrote {identities.golden_path(stack, directory)}\n{summary}",
            markup=False,
        )
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``aks-mlops``."""
    parser = argparse.ArgumentParser(prog="aks-mlops", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    plan = sub.add_parser("plan", help="offline plan of a stack (mock runtime, no Azure)")
    plan.add_argument(
        "--stack",
        default=None,
        help=f"stack name ({', '.join(list_stacks())}; bootstrap: "
        f"{', '.join(list_stacks(BOOTSTRAP_DIR))}); default dev / example",
    )
    plan.add_argument(
        "--program",
        choices=("platform", "bootstrap"),
        default="platform",
        help="platform (infra/, default) or bootstrap (bootstrap/: state backend, CI identities)",
    )
    plan.add_argument("--out", default=str(ROOT / "build"), help="output folder (build/)")
    plan.add_argument(
        "--project-dir",
        default=None,
        help="folder with the Pulumi.<stack>.yaml files (default: the program's folder)",
    )
    plan.add_argument("--width", type=int, default=160, help="console width")
    plan.add_argument("--json", action="store_true", help="print the plan document as JSON")
    plan.add_argument(
        "--no-picture", dest="picture", action="store_false", help="skip architecture.svg/png"
    )
    plan.set_defaults(func=cmd_plan)
    diff = sub.add_parser("diff", help="compare two stacks side by side (offline)")
    diff.add_argument("--from", dest="from_stack", required=True, help="first stack, e.g. dev")
    diff.add_argument("--to", dest="to_stack", required=True, help="second stack, e.g. prod")
    diff.add_argument("--json", action="store_true", help="machine-readable output")
    diff.add_argument(
        "--project-dir", default=str(ROOT), help="folder with the Pulumi.<stack>.yaml files"
    )
    diff.add_argument("--width", type=int, default=160, help="console width")
    diff.set_defaults(func=cmd_diff)
    costs = sub.add_parser("cost", help="monthly cost at idle and at full scale (offline)")
    costs.add_argument("--stack", default="dev", help=f"stack name ({', '.join(list_stacks())})")
    costs.add_argument("--json", action="store_true", help="machine-readable output")
    costs.add_argument(
        "--project-dir", default=str(ROOT), help="folder with the Pulumi.<stack>.yaml files"
    )
    costs.add_argument("--width", type=int, default=160, help="console width")
    costs.set_defaults(func=cmd_cost)
    prices = sub.add_parser(
        "prices", help="the price table's unknown rows; --refresh reads them online"
    )
    prices.add_argument(
        "--refresh",
        action="store_true",
        help="read usd: null rows from the Azure Retail Prices API and write them (online)",
    )
    prices.add_argument(
        "--all", action="store_true", help="with --refresh: every row that has a pick"
    )
    prices.add_argument(
        "--dry-run", action="store_true", help="with --refresh: print the changes, write nothing"
    )
    prices.add_argument("--file", default=str(cost.PRICES_FILE), help="the price table")
    prices.add_argument("--timeout", type=float, default=15.0, help="seconds per request")
    prices.add_argument("--width", type=int, default=160, help="console width")
    prices.set_defaults(func=cmd_prices)
    imgs = sub.add_parser("images", help="container image inventory of a stack (offline)")
    imgs.add_argument("--stack", default="dev", help="stack name")
    imgs.add_argument("--json", action="store_true", help="machine-readable output")
    imgs.add_argument(
        "--project-dir", default=str(ROOT), help="folder with the Pulumi.<stack>.yaml files"
    )
    imgs.add_argument("--width", type=int, default=160, help="console width")
    imgs.set_defaults(func=cmd_images)
    ident = sub.add_parser(
        "identities", help="check or rewrite the golden resource identities (identities/)"
    )
    ident.add_argument("--stack", default="all", help="stack name, or all (default)")
    ident.add_argument("--check", action="store_true", help="compare only; exit 1 on a change")
    ident.add_argument(
        "--reason", default=None, help="accept removals/renames without an alias, with this reason"
    )
    ident.add_argument("--dir", default=str(identities.IDENTITIES_DIR), help="golden files folder")
    ident.add_argument(
        "--project-dir", default=str(ROOT), help="folder with the Pulumi.<stack>.yaml files"
    )
    ident.add_argument("--width", type=int, default=160, help="console width")
    ident.set_defaults(func=cmd_identities)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``aks-mlops``."""
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


def console_main() -> int:
    """``aks-mlops`` as a one-shot process: ``main`` with Python's cyclic garbage collector off.

    Every collection walks the objects the SDKs' type modules hold (hundreds of thousands),
    and the interpreter's final collections at exit walk them once more only to free memory
    the process gives back anyway; together about half of a stack's plan CPU time. Without
    the collector a plan keeps the few MB of cycles it leaves (a three-stack ``identities``
    run peaks about 40 MB higher); frozen objects are skipped by the collections at exit.
    (Not in ``main``: tests call it inside their own long-lived process.)
    """
    gc.disable()
    result = main()
    gc.freeze()
    return result


if __name__ == "__main__":
    sys.exit(console_main())
