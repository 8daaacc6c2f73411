# bash completion for smsctl. Install: `smsctl completion bash --install`, or copy to
# ~/.local/share/bash-completion/completions/smsctl, or add to ~/.bashrc:
#   eval "$(smsctl completion bash)"
# Every TAB asks `smsctl` itself, which answers from its generated command tree and the
# config file without loading the command framework (a few ms).

_smsctl_completion() {
    local IFS=$'\n' out
    out=$(env COMP_WORDS="${COMP_WORDS[*]}" COMP_CWORD="$COMP_CWORD" \
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
