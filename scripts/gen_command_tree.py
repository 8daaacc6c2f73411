"""Generate the completion fast path's data from the real Typer app.

    python scripts/gen_command_tree.py           # rewrite the files below
    python scripts/gen_command_tree.py --check   # exit 1 when one is stale

Writes `smsctl/_command_tree.json` (commands, options with their flags, arguments, what each
parameter completes to: choices, live config names per `smsctl/completion_names.py`, or file
names, and the `calls_alibaba` marks that start the provider worker, see
`smsctl/providers/worker.py`) and the shell scripts users install: `completions/smsctl.bash`,
`completions/_smsctl` (zsh), `completions/smsctl.fish` (their text lives in
`smsctl.completion.SCRIPTS`).
Run it after adding or changing a command; tests/test_generated_files.py fails until you do.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TREE = ROOT / "smsctl" / "_command_tree.json"
SCRIPT_FILES = {
    "bash": ROOT / "completions" / "smsctl.bash",
    "zsh": ROOT / "completions" / "_smsctl",
    "fish": ROOT / "completions" / "smsctl.fish",
}
FILE_METAVARS = {"PATH", "FILE", "DIR", "PEM"}
COMMAND = "python scripts/gen_command_tree.py"


def build_tree() -> dict[str, Any]:
    import typer.main
    from typer._click import core

    from smsctl.cli import app as app_module
    from smsctl.core.schema import CHANNELS

    root = typer.main.get_command(app_module.app)
    ctx = core.Context(root, info_name="smsctl", **root.context_settings)
    tree_root = _node(root, ctx, ())
    global_flags = {"--config", *app_module.BOOLEAN_GLOBALS}
    globals_ = [
        option
        for option in tree_root["options"]
        if set(option["opts"]) & global_flags and set(option["opts"]) <= global_flags
    ]
    missing = global_flags - {flag for option in globals_ for flag in option["opts"]}
    if missing:
        raise SystemExit(f"global options not on the root command: {sorted(missing)}")
    return {
        "generated_by": COMMAND,
        "channels": list(CHANNELS),
        "globals": globals_,
        "root": tree_root,
    }


def _node(command: Any, ctx: Any, path: tuple[str, ...]) -> dict[str, Any]:
    from typer._click import core

    node: dict[str, Any] = {}
    if path:
        node["help"] = command.get_short_help_str(limit=60)
        if command.hidden:
            node["hidden"] = True
    options: list[dict[str, Any]] = []
    arguments: list[dict[str, Any]] = []
    for param in command.get_params(ctx):
        if param.param_type_name == "argument":
            name = param.name.upper()
            argument: dict[str, Any] = {"name": name, "nargs": param.nargs}
            spec = _spec(path, name, param)
            if spec:
                argument["complete"] = spec
            arguments.append(argument)
            continue
        opts = sorted(param.opts, key=lambda flag: (not flag.startswith("--"), flag))
        option: dict[str, Any] = {"opts": opts}
        if param.secondary_opts:
            option["secondary"] = list(param.secondary_opts)
        if param.is_flag or param.count:
            option["flag"] = True
        if param.multiple:
            option["multiple"] = True
        if param.hidden:
            option["hidden"] = True
        if param.help:
            option["help"] = " ".join(param.help.split())
        long_flags = [flag for flag in opts if flag.startswith("--")]
        if not option.get("flag"):
            spec = _spec(path, long_flags[0] if long_flags else opts[0], param)
            if spec:
                option["complete"] = spec
        options.append(option)
    node["options"] = options
    if arguments:
        node["arguments"] = arguments
    mark = _alibaba_mark(command, options, path)
    if mark:
        node[mark_key()] = mark
    if hasattr(command, "list_commands"):
        commands = {}
        for name in command.list_commands(ctx):
            child = command.get_command(ctx, name)
            child_ctx = core.Context(child, parent=ctx, info_name=name)
            commands[name] = _node(child, child_ctx, (*path, name))
        node["commands"] = commands
    return node


def mark_key() -> str:
    from smsctl.providers.worker import MARK

    return MARK


def _alibaba_mark(
    command: Any, options: list[dict[str, Any]], path: tuple[str, ...]
) -> dict[str, Any] | None:
    """The command's `calls_alibaba` mark (smsctl.providers.worker), checked against the
    command itself: a flag it names must be one of the command's options."""
    mark = getattr(command.callback, mark_key(), None) if command.callback else None
    if not mark:
        return None
    where = "smsctl " + " ".join(path)
    unknown = set(mark["channels"]) - {"sms", "voice"}
    if unknown or not mark["channels"]:
        raise SystemExit(f"{where}: calls_alibaba names unknown channels {sorted(unknown)}")
    flags = {flag for option in options for flag in (*option["opts"], *option.get("secondary", []))}
    named = [*mark.get("unless", []), mark.get("only_with"), mark.get("chosen_by")]
    missing = sorted(flag for flag in named if flag and flag not in flags)
    if missing:
        raise SystemExit(f"{where}: calls_alibaba names options it does not have: {missing}")
    return dict(mark)


def _spec(path: tuple[str, ...], key: str, param: Any) -> dict[str, Any] | None:
    from smsctl.completion_names import lookup

    spec = lookup(path, key)
    if spec is not None:
        return spec or None
    choices = getattr(param.type, "choices", None)
    if choices:
        return {"choices": [str(choice) for choice in choices]}
    if type(param.type).__name__ == "Path" or (param.metavar or "").upper() in FILE_METAVARS:
        return {"files": True}
    return None


def render() -> dict[Path, str]:
    """Every generated file and its expected content."""
    from smsctl.completion import SCRIPTS

    files = {TREE: json.dumps(build_tree(), ensure_ascii=False, separators=(",", ":")) + "\n"}
    for shell, path in SCRIPT_FILES.items():
        files[path] = SCRIPTS[shell]
    return files


def stale() -> list[Path]:
    return [
        path
        for path, text in render().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    if "--check" in argv:
        outdated = stale()
        for path in outdated:
            print(f"stale: {path.relative_to(ROOT)} (run `{COMMAND}`)", file=sys.stderr)
        return 1 if outdated else 0
    for path, text in render().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
