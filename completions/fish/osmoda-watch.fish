function __osmoda-watch_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __osmoda-watch_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __osmoda-watch_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __osmoda-watch_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __osmoda-watch_parse_tokens -S
    set -l unparsed_tokens (__osmoda-watch_tokens -pc)
    switch $unparsed_tokens[1]
    case 'osmoda-watch'
        __osmoda-watch_parse_subcommand -r 1 'rules=' 'state=' 'dry-run' 'pass-matched' 'gen-command=' 'ledger=' 'user' 'system' 'strict' 'max-line=' 'format=' 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'help'
            __osmoda-watch_parse_subcommand -r 1 'version'
        end
    end
end

function __osmoda-watch_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __osmoda-watch_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __osmoda-watch_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __osmoda-watch_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__osmoda-watch_tokens -p)
    if test -z "$(__osmoda-watch_tokens -t)"
        set -l index (count (__osmoda-watch_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'osmoda-watch' -f
complete -c 'osmoda-watch' -n '__osmoda-watch_should_offer_completions_for_flags_or_options "osmoda-watch" rules' -l 'rules' -d 'The rules file (JSON; see docs/watch.md).' -rfa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'json\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'osmoda-watch' -n '__osmoda-watch_should_offer_completions_for_flags_or_options "osmoda-watch" state' -l 'state' -d 'The state file (default: $XDG_STATE_HOME/osmoda/watch/NAME.state.json after the rules file\'s name).' -rF
complete -c 'osmoda-watch' -n '__osmoda-watch_should_offer_completions_for_flags_or_options "osmoda-watch" dry-run' -l 'dry-run' -d 'Decide, and write what would be done, without running any step; the default state file is read but not written.'
complete -c 'osmoda-watch' -n '__osmoda-watch_should_offer_completions_for_flags_or_options "osmoda-watch" pass-matched' -l 'pass-matched' -d 'Pass the records the watchers matched through too (by default only the unmatched ones are).'
complete -c 'osmoda-watch' -n '__osmoda-watch_should_offer_completions_for_flags_or_options "osmoda-watch" gen-command' -l 'gen-command' -d 'The osmoda-gen program for rollback steps (default: beside this program, else on PATH).' -rF
complete -c 'osmoda-watch' -n '__osmoda-watch_should_offer_completions_for_flags_or_options "osmoda-watch" ledger' -l 'ledger' -d 'Record actions in the audit ledger: auto (when osmodad is reachable), on (required) or off.' -rfka 'auto on off'
complete -c 'osmoda-watch' -n '__osmoda-watch_should_offer_completions_for_flags_or_options "osmoda-watch" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-watch' -n '__osmoda-watch_should_offer_completions_for_flags_or_options "osmoda-watch" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-watch' -n '__osmoda-watch_should_offer_completions_for_flags_or_options "osmoda-watch" strict' -l 'strict' -d 'Stop at the first bad input line instead of skipping it.'
complete -c 'osmoda-watch' -n '__osmoda-watch_should_offer_completions_for_flags_or_options "osmoda-watch" max-line' -l 'max-line' -d 'The longest input line accepted, in bytes.' -rfka ''
complete -c 'osmoda-watch' -n '__osmoda-watch_should_offer_completions_for_positional "osmoda-watch" -ge 1' -F
complete -c 'osmoda-watch' -n '__osmoda-watch_should_offer_completions_for_flags_or_options "osmoda-watch" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-watch' -n '__osmoda-watch_should_offer_completions_for_flags_or_options "osmoda-watch" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-watch' -n '__osmoda-watch_should_offer_completions_for_flags_or_options "osmoda-watch" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-watch' -n '__osmoda-watch_should_offer_completions_for_positional "osmoda-watch" -eq 2' -fa 'help' -d 'Show subcommand help information.'
complete -c 'osmoda-watch' -n '__osmoda-watch_should_offer_completions_for_flags_or_options "osmoda-watch help" version' -l 'version' -d 'Show the version.'