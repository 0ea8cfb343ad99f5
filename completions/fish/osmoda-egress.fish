function __osmoda-egress_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __osmoda-egress_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __osmoda-egress_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __osmoda-egress_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __osmoda-egress_parse_tokens -S
    set -l unparsed_tokens (__osmoda-egress_tokens -pc)
    switch $unparsed_tokens[1]
    case 'osmoda-egress'
        __osmoda-egress_parse_subcommand 0 'config=' 'check' 'allow-internal-for-testing=+' 'hosts-file=' 'threads=' 'ledger=' 'user' 'system' 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'help'
            __osmoda-egress_parse_subcommand -r 1 'version'
        end
    end
end

function __osmoda-egress_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __osmoda-egress_parse_subcommand -S -a positional_count
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

function __osmoda-egress_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __osmoda-egress_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__osmoda-egress_tokens -p)
    if test -z "$(__osmoda-egress_tokens -t)"
        set -l index (count (__osmoda-egress_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'osmoda-egress' -f
complete -c 'osmoda-egress' -n '__osmoda-egress_should_offer_completions_for_flags_or_options "osmoda-egress" config' -l 'config' -d 'The config file (JSON; docs/egress.md).' -rF
complete -c 'osmoda-egress' -n '__osmoda-egress_should_offer_completions_for_flags_or_options "osmoda-egress" check' -l 'check' -d 'Check the config file and exit.'
complete -c 'osmoda-egress' -n '__osmoda-egress_should_offer_completions_for_flags_or_options "osmoda-egress"' -l 'allow-internal-for-testing' -d 'DANGEROUS, for tests only: admit addresses in this internal range (repeatable), e.g. 127.0.0.0/8.' -rfka ''
complete -c 'osmoda-egress' -n '__osmoda-egress_should_offer_completions_for_flags_or_options "osmoda-egress" hosts-file' -l 'hosts-file' -d 'For tests only: resolve names from this /etc/hosts-style file instead of the system resolver; names it does not list do not resolve.' -rF
complete -c 'osmoda-egress' -n '__osmoda-egress_should_offer_completions_for_flags_or_options "osmoda-egress" threads' -l 'threads' -d 'Event loop threads.' -rfka ''
complete -c 'osmoda-egress' -n '__osmoda-egress_should_offer_completions_for_flags_or_options "osmoda-egress" ledger' -l 'ledger' -d 'Record decisions in the audit ledger: auto (when osmodad is reachable), on (required at start) or off.' -rfka 'auto on off'
complete -c 'osmoda-egress' -n '__osmoda-egress_should_offer_completions_for_flags_or_options "osmoda-egress" user' -l 'user' -d 'User mode: the daemon\'s socket under $XDG_RUNTIME_DIR/osmoda.'
complete -c 'osmoda-egress' -n '__osmoda-egress_should_offer_completions_for_flags_or_options "osmoda-egress" system' -l 'system' -d 'System mode: the daemon at /run/osmoda/osmodad.sock.'
complete -c 'osmoda-egress' -n '__osmoda-egress_should_offer_completions_for_flags_or_options "osmoda-egress" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-egress' -n '__osmoda-egress_should_offer_completions_for_flags_or_options "osmoda-egress" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-egress' -n '__osmoda-egress_should_offer_completions_for_positional "osmoda-egress" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'osmoda-egress' -n '__osmoda-egress_should_offer_completions_for_flags_or_options "osmoda-egress help" version' -l 'version' -d 'Show the version.'