"""Shell completion answered without the command framework (docs/performance.md, "How smsctl
meets them").

The shells call `smsctl` back on every TAB with Typer's/Click's environment protocol:

- bash: ``_SMSCTL_COMPLETE=complete_bash``, ``COMP_WORDS`` (the words joined by newlines, as the
  shell has them, quotes included) and ``COMP_CWORD`` (index of the word under the cursor).
- zsh: ``_SMSCTL_COMPLETE=complete_zsh``, ``_TYPER_COMPLETE_ARGS`` (the words up to the cursor).
- fish: ``_SMSCTL_COMPLETE=complete_fish``, ``_TYPER_COMPLETE_ARGS`` (``commandline -cp``) and
  ``_TYPER_COMPLETE_FISH_ACTION`` (``get-args`` or ``is-args``).
- ``_SMSCTL_COMPLETE=source_bash|source_zsh|source_fish`` prints the script to install.

The command tree comes from `_command_tree.json`, generated from the real Typer app by
`scripts/gen_command_tree.py` (a test fails when it is stale); live names (accounts, signatures,
templates, apps, rules) come from the config file read with stdlib tomllib. Only stdlib modules
that a bare interpreter has already loaded, plus json/shlex/tomllib and the parsed-config cache
(smsctl.core.config_cache: hashlib and marshal), are imported here.

Exit status: 0 with one candidate per line (zsh: a line of zsh code), or 1 with no output when the
shell should complete file names itself (also what any unexpected failure degrades to).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

TREE_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_command_tree.json")
APP_NAME = "smsctl"


class WantFiles(Exception):
    """The word under the cursor is a file name: let the shell complete it."""


class NoCandidates(Exception):
    """Nothing the CLI would accept can be offered here."""


# --- entry -------------------------------------------------------------------------------------


def main(instruction: str) -> int:
    if instruction.startswith("source_"):
        script = SCRIPTS.get(instruction[len("source_") :])
        if script is None:
            return 1
        _write(script)
        return 0
    shell = instruction[len("complete_") :] if instruction.startswith("complete_") else ""
    if shell not in SCRIPTS:
        return 1
    try:
        if shell == "bash":
            args, incomplete, raw = bash_args(
                os.environ.get("COMP_WORDS", ""), os.environ.get("COMP_CWORD", "0")
            )
        else:
            args, incomplete = line_args(os.environ.get("_TYPER_COMPLETE_ARGS", ""))
            raw = incomplete
        candidates = complete(load_tree(), args, incomplete)
    except NoCandidates:
        candidates = []
    except WantFiles:
        return 1
    except Exception:  # never a traceback under the user's prompt: fall back to file names
        if os.environ.get("SMSCTL_DEBUG"):
            raise
        return 1
    if shell == "bash":
        _write("".join(bash_quote(value, raw) + "\n" for value, _help in candidates))
    elif shell == "zsh":
        _write(zsh_code(candidates))
    else:
        if os.environ.get("_TYPER_COMPLETE_FISH_ACTION") == "is-args":
            return 0 if candidates else 1
        _write("".join(fish_line(value, help_) for value, help_ in candidates))
    return 0


def _write(text: str) -> None:
    sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape"))
    sys.stdout.flush()


def load_tree() -> dict[str, Any]:
    with open(TREE_FILE, encoding="utf-8") as handle:
        return json.load(handle)


# --- reading the command line --------------------------------------------------------------------


def unquote(word: str) -> str:
    """A word as the program will receive it; an unclosed quote is closed (it is being typed)."""
    if not any(c in word for c in "'\"\\"):
        return word
    import shlex

    lexer = shlex.shlex(word, posix=True)
    lexer.whitespace_split = True
    lexer.whitespace = ""
    lexer.commenters = ""
    try:
        return "".join(lexer)
    except ValueError:  # no closing quotation / escaped end of line
        return lexer.token


def split_line(line: str) -> list[str]:
    """Click's split_arg_string: shell words, the last one possibly unterminated."""
    import shlex

    lexer = shlex.shlex(line, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    out: list[str] = []
    try:
        for token in lexer:
            out.append(token)
    except ValueError:
        out.append(lexer.token)
    return out


def bash_args(comp_words: str, comp_cword: str) -> tuple[list[str], str, str]:
    """(args before the cursor, the word under it unquoted, that word as typed)."""
    words = comp_words.split("\n")
    cword = int(comp_cword or 0)
    raw = words[cword] if cword < len(words) else ""
    before = words[1:cword]
    # COMP_WORDBREAKS splits `--opt=value` into `--opt`, `=`, `value`: join them again, and
    # for `--opt=<TAB>` complete the value alone (bash replaces just the word after `=`).
    if raw == "=":
        raise NoCandidates
    if before and before[-1] == "=" and len(before) >= 2 and before[-2].startswith("--"):
        before = before[:-1]
    joined: list[str] = []
    index = 0
    while index < len(before):
        word = before[index]
        if word == "=" and joined and joined[-1].startswith("--") and index + 1 < len(before):
            joined[-1] += "=" + unquote(before[index + 1])
            index += 2
            continue
        joined.append(unquote(word))
        index += 1
    return joined, unquote(raw), raw


def line_args(line: str) -> tuple[list[str], str]:
    words = split_line(line)
    args = words[1:]
    if args and not line.endswith((" ", "\t")):
        return args[:-1], args[-1]
    return args, ""


# --- walking the tree ----------------------------------------------------------------------------


def complete(tree: dict[str, Any], args: list[str], incomplete: str) -> list[tuple[str, str]]:
    """Candidates (value, help) for the word `incomplete` after `args`."""
    node = tree["root"]
    path: list[str] = []
    globals_ = {opt: spec for spec in tree["globals"] for opt in spec["opts"]}
    values: dict[str, list[str]] = {}  # option's first flag -> values given
    positional: list[str] = []
    expecting: dict[str, Any] | None = None
    only_positional = False
    for arg in args:
        if expecting is not None:
            values.setdefault(expecting["opts"][0], []).append(arg)
            expecting = None
            continue
        if not only_positional and arg == "--":
            only_positional = True
            continue
        if not only_positional and arg.startswith("-") and arg != "-":
            flag, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
            option = _option(node, flag) or globals_.get(flag)
            if option is None:
                for index, char in enumerate(arg[1:]):  # short options bundled: -qv, -yq
                    short = _option(node, "-" + char) or globals_.get("-" + char)
                    if short and not short.get("flag"):
                        rest = arg[index + 2 :]
                        if rest:
                            values.setdefault(short["opts"][0], []).append(rest)
                        else:
                            expecting = short
                        break
                continue
            if option.get("flag"):
                values.setdefault(option["opts"][0], []).append(flag)
            elif eq:
                values.setdefault(option["opts"][0], []).append(value)
            else:
                expecting = option
            continue
        if node.get("commands") is not None and not positional:
            child = node["commands"].get(arg)
            if child is None:
                raise NoCandidates  # not a command: the CLI would reject it
            node, path = child, [*path, arg]
            continue
        positional.append(arg)

    context = Context(tree, node, path, values, positional)
    if expecting is not None:
        return context.values_for(expecting.get("complete"), incomplete)
    if incomplete.startswith("-") and not only_positional:
        flag, eq, value = incomplete.partition("=")
        if eq and flag.startswith("--"):
            option = _option(node, flag) or globals_.get(flag)
            if option is None or option.get("flag"):
                return []
            found = context.values_for(option.get("complete"), value)
            return [(f"{flag}={v}", h) for v, h in found]
        return context.options(incomplete, globals_)
    if node.get("commands") is not None:
        if positional:
            return []
        return [
            (name, child.get("help", ""))
            for name, child in node["commands"].items()
            if name.startswith(incomplete) and not child.get("hidden")
        ]
    argument = context.argument_at(len(positional))
    if argument is None:
        return []
    return context.values_for(argument.get("complete"), incomplete)


def _option(node: dict[str, Any], flag: str) -> dict[str, Any] | None:
    for option in node.get("options", ()):
        if flag in option["opts"] or flag in option.get("secondary", ()):
            return option
    return None


class Context:
    def __init__(
        self,
        tree: dict[str, Any],
        node: dict[str, Any],
        path: list[str],
        values: dict[str, list[str]],
        positional: list[str],
    ) -> None:
        self.tree = tree
        self.node = node
        self.path = path
        self.values = values
        self.positional = positional

    def options(self, incomplete: str, globals_: dict[str, Any]) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        seen: set[str] = set()
        own = [o for o in self.node.get("options", ()) if not o.get("hidden")]
        shared = [] if not self.path else list({id(o): o for o in globals_.values()}.values())
        for option in [*own, *shared]:
            if option["opts"][0] in self.values and not option.get("multiple"):
                continue  # given already; the CLI takes it once
            for flag in [*option["opts"], *option.get("secondary", ())]:
                if flag.startswith(incomplete) and flag not in seen:
                    seen.add(flag)
                    out.append((flag, option.get("help", "")))
        return out

    def argument_at(self, index: int) -> dict[str, Any] | None:
        for argument in self.node.get("arguments", ()):
            nargs = argument.get("nargs", 1)
            if nargs == -1 or index < nargs:
                return argument
            index -= nargs
        return None

    def argument_value(self, name: str) -> str | None:
        index = 0
        for argument in self.node.get("arguments", ()):
            if argument["name"] == name:
                return self.positional[index] if index < len(self.positional) else None
            index += max(argument.get("nargs", 1), 1)
        return None

    def values_for(self, spec: dict[str, Any] | None, incomplete: str) -> list[tuple[str, str]]:
        if not spec:
            return []
        if "by_argument" in spec:
            chosen = self.argument_value(spec["by_argument"])
            return self.values_for(spec["cases"].get(chosen or ""), incomplete)
        if spec.get("files"):
            raise WantFiles
        if "choices" in spec:
            found = [c for c in spec["choices"] if c.startswith(incomplete)]
        elif "names" in spec:
            channel, kind = spec["names"]
            found = [n for n in self.live_names(channel, kind) if n.startswith(incomplete)]
        else:
            return []
        return [(value, "") for value in found]

    def live_names(self, channel: str | None, kind: str) -> list[str]:
        if channel == "@channel":
            first = self.path[0] if self.path else ""
            channel = first if first in self.tree["channels"] else "sms"
        elif channel is not None and channel.startswith("--"):
            given = self.values.get(channel)
            channel = given[-1] if given else "sms"
            if channel not in self.tree["channels"]:
                return []
        data = read_config(self.config_flag())
        table = data if channel is None else data.get(channel, {})
        if not isinstance(table, dict):
            return []
        names = table.get(kind, {})
        if not isinstance(names, dict):
            return []
        from smsctl.core.terminal_text import is_clean

        # A name with a control or format character would be shown raw in the shell's list of
        # candidates (and a newline would split it in two): never offered.
        return sorted(name for name in names if is_clean(name))

    def config_flag(self) -> str | None:
        given = self.values.get("--config")
        return given[-1] if given else None


# --- the config file -----------------------------------------------------------------------------


def config_path(flag_value: str | None) -> str:
    """smsctl.core.paths.config_path without platformdirs on Linux (same answer, tested)."""
    if flag_value:
        return os.path.expanduser(flag_value)
    env_value = os.environ.get("SMSCTL_CONFIG")
    if env_value:
        return os.path.expanduser(env_value)
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        base = os.environ.get("XDG_CONFIG_HOME", "").strip()
        if not base:
            base = os.path.expanduser("~/.config")
        return os.path.join(base, APP_NAME, "config.toml")
    from smsctl.core.paths import config_path as full

    return str(full(None)[0])


def read_config(flag_value: str | None) -> dict[str, Any]:
    """The config's tables, or {} when it cannot be read. Never blocks: a FIFO, a device or
    anything else that is not a regular file is not read (`smsctl` itself refuses it, exit 3)."""
    import stat

    path = config_path(flag_value)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return {}
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            return {}
        with os.fdopen(fd, "rb") as handle:
            text = handle.read()
    except OSError:
        return {}
    text = text.removeprefix(b"\xef\xbb\xbf")  # a BOM, as smsctl itself reads it
    from smsctl.core import config_cache

    cached = config_cache.load(path, text)
    if cached is not None:  # what the last command parsed and validated from these very bytes
        return cached
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        return tomllib.loads(text.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {}


# --- answering each shell ------------------------------------------------------------------------

_BASH_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.,/+@%")


def bash_quote(value: str, raw: str) -> str:
    """`value` written so that bash, replacing the word `raw` with it, passes `value` on.

    Continues the quote the user opened; otherwise escapes with backslashes. Non-ASCII
    characters (a Chinese signature name) need no escaping.
    """
    if raw.startswith("'"):
        return "'" + value.replace("'", "'\\''") + "'"
    if raw.startswith('"'):
        return '"' + "".join("\\" + c if c in '"$`\\' else c for c in value) + '"'
    return "".join(c if c in _BASH_SAFE or ord(c) > 127 else "\\" + c for c in value)


def zsh_code(candidates: list[tuple[str, str]]) -> str:
    """One line of zsh code for the completion function to eval: `_describe` does the quoting."""
    if not candidates:
        return "return 1\n"
    items = " ".join(_zsh_single(_zsh_item(v, h)) for v, h in candidates)
    return f"local -a _smsctl_c; _smsctl_c=({items}); _describe -t values smsctl _smsctl_c\n"


def _zsh_item(value: str, help_: str) -> str:
    value = value.replace("\\", "\\\\").replace(":", "\\:")
    help_ = " ".join(help_.split())
    return f"{value}:{help_}" if help_ else value


def _zsh_single(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def fish_line(value: str, help_: str) -> str:
    help_ = " ".join(help_.split())
    return f"{value}\t{help_}\n" if help_ else f"{value}\n"


# --- the scripts users install (completions/ is generated from these) -----------------------------

SCRIPTS = {
    "bash": """\
# bash completion for smsctl. Install: `smsctl completion bash --install`, or copy to
# ~/.local/share/bash-completion/completions/smsctl, or add to ~/.bashrc:
#   eval "$(smsctl completion bash)"
# Every TAB asks `smsctl` itself, which answers from its generated command tree and the
# config file without loading the command framework (a few ms).

_smsctl_completion() {
    local IFS=$'\\n' out
    out=$(env COMP_WORDS="${COMP_WORDS[*]}" COMP_CWORD="$COMP_CWORD" \\
        _SMSCTL_COMPLETE=complete_bash "$1" 2>/dev/null)
    if [[ $? -ne 0 ]]; then
        # a file name is expected: let bash complete it
        COMPREPLY=()
        compopt -o default 2>/dev/null
        return 0
    fi
    COMPREPLY=()
    if [[ -n $out ]]; then
        mapfile -t COMPREPLY <<<"$out"
    fi
    return 0
}

complete -F _smsctl_completion smsctl
""",
    "zsh": """\
#compdef smsctl
# zsh completion for smsctl. Install: `smsctl completion zsh --install`, or copy to a directory
# in $fpath as `_smsctl` (e.g. ~/.zfunc/_smsctl with `fpath+=~/.zfunc; autoload -Uz compinit;
# compinit` in ~/.zshrc), or after compinit: eval "$(smsctl completion zsh)"
# Every TAB asks `smsctl` itself, which answers from its generated command tree and the
# config file without loading the command framework (a few ms).

_smsctl() {
    local out
    out="$(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _SMSCTL_COMPLETE=complete_zsh \\
        "${words[1]}" 2>/dev/null)" || { _files; return }
    eval "$out"
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _smsctl "$@"
else
    compdef _smsctl smsctl
fi
""",
    "fish": """\
# fish completion for smsctl. Install: `smsctl completion fish --install`, or copy to
# ~/.config/fish/completions/smsctl.fish (smsctl completion fish > that file)
# Every TAB asks `smsctl` itself, once, which answers from its generated command tree and the
# config file without loading the command framework (a few ms).

function __smsctl_complete
    set -l out (env _SMSCTL_COMPLETE=complete_fish _TYPER_COMPLETE_FISH_ACTION=get-args \\
        _TYPER_COMPLETE_ARGS=(commandline -cp) smsctl 2>/dev/null)
    or begin
        __fish_complete_path (commandline -ct)
        return
    end
    string join \\n -- $out
end

complete --command smsctl --no-files --arguments '(__smsctl_complete)'
""",
}
