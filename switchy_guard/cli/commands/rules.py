"""``rules [CODE]``: the hazard rule catalog, or one rule's docs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from switchy_guard.errors import ConfigError

if TYPE_CHECKING:
    from switchy_guard.cli.context import Context
    from switchy_guard.cli.options import Verbs


def register(verbs: Verbs) -> None:
    """Add ``rules``."""
    rules = verbs.add("rules", "list the hazard rules, or print one rule's docs", run)
    rules.add_argument("rule", nargs="?", metavar="CODE", help="a rule code or name")


def run(ctx: Context) -> int:
    """``rules [CODE]``: the catalog, or one rule's docs."""
    from switchy_guard.rules import all_rules, get_rule

    if ctx.args.rule:
        rule = get_rule(ctx.args.rule)
        if rule is None:
            raise ConfigError(f"unknown rule {ctx.args.rule!r} (see: switchy-guard rules)")
        if ctx.format == "json":
            ctx.emit_json(_rule_json(rule))
        else:
            ctx.out.write(rule.docs() + "\n")
    elif ctx.format == "json":
        ctx.emit_json({"rules": [_rule_json(rule) for rule in all_rules()]})
    else:
        _print_catalog(ctx, all_rules())
    return 0


def _print_catalog(ctx: Context, rules: Any) -> None:
    from rich.table import Table

    table = Table(title="switchy-guard rules", title_justify="left")
    for column in ("code", "name", "severity", "dialects", "what"):
        table.add_column(column)
    for rule in rules:
        table.add_row(rule.code, rule.name, rule.severity.value,
                      ",".join(sorted(rule.dialects)), rule.summary)
    ctx.console().print(table)


def _rule_json(rule: Any) -> dict[str, Any]:
    return {
        "code": rule.code, "name": rule.name, "severity": rule.severity.value,
        "dialects": sorted(rule.dialects), "summary": rule.summary, "why": rule.why,
        "instead": rule.instead, "example": rule.example, "fixed": rule.fixed,
    }
