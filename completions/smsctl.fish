# fish completion for smsctl. Install: `smsctl completion fish --install`, or copy to
# ~/.config/fish/completions/smsctl.fish (smsctl completion fish > that file)
# Every TAB asks `smsctl` itself, once, which answers from its generated command tree and the
# config file without loading the command framework (a few ms).

function __smsctl_complete
    set -l out (env _SMSCTL_COMPLETE=complete_fish _TYPER_COMPLETE_FISH_ACTION=get-args \
        _TYPER_COMPLETE_ARGS=(commandline -cp) smsctl 2>/dev/null)
    or begin
        __fish_complete_path (commandline -ct)
        return
    end
    string join \n -- $out
end

complete --command smsctl --no-files --arguments '(__smsctl_complete)'
