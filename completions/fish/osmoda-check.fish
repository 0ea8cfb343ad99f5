function __osmoda-check_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __osmoda-check_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __osmoda-check_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __osmoda-check_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __osmoda-check_parse_tokens -S
    set -l unparsed_tokens (__osmoda-check_tokens -pc)
    switch $unparsed_tokens[1]
    case 'osmoda-check'
        __osmoda-check_parse_subcommand 0 'probes=' 'unit=+' 'tcp=+' 'http=+' 'command=+' 'process=+' 'pidfile=+' 'file=+' 'disk=+' 'cert=+' 'timeout=' 'every=' 'count=' 'format=' 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'help'
            __osmoda-check_parse_subcommand -r 1 'version'
        end
    end
end

function __osmoda-check_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __osmoda-check_parse_subcommand -S -a positional_count
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

function __osmoda-check_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __osmoda-check_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__osmoda-check_tokens -p)
    if test -z "$(__osmoda-check_tokens -t)"
        set -l index (count (__osmoda-check_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'osmoda-check' -f
complete -c 'osmoda-check' -n '__osmoda-check_should_offer_completions_for_flags_or_options "osmoda-check" probes' -l 'probes' -d 'A JSON file of probe definitions.' -rfa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'json\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'osmoda-check' -n '__osmoda-check_should_offer_completions_for_flags_or_options "osmoda-check"' -l 'unit' -d 'A systemd unit that must be active.' -rfka ''
complete -c 'osmoda-check' -n '__osmoda-check_should_offer_completions_for_flags_or_options "osmoda-check"' -l 'tcp' -d 'A TCP endpoint that must accept a connection.' -rfka ''
complete -c 'osmoda-check' -n '__osmoda-check_should_offer_completions_for_flags_or_options "osmoda-check"' -l 'http' -d 'A URL whose GET must answer 200.' -rfka ''
complete -c 'osmoda-check' -n '__osmoda-check_should_offer_completions_for_flags_or_options "osmoda-check"' -l 'command' -d 'A command, as a JSON array of argv, that must exit 0.' -rfka ''
complete -c 'osmoda-check' -n '__osmoda-check_should_offer_completions_for_flags_or_options "osmoda-check"' -l 'process' -d 'A process name that must be running.' -rfka ''
complete -c 'osmoda-check' -n '__osmoda-check_should_offer_completions_for_flags_or_options "osmoda-check"' -l 'pidfile' -d 'A pidfile whose process must be running.' -rF
complete -c 'osmoda-check' -n '__osmoda-check_should_offer_completions_for_flags_or_options "osmoda-check"' -l 'file' -d 'A file that must exist.' -rF
complete -c 'osmoda-check' -n '__osmoda-check_should_offer_completions_for_flags_or_options "osmoda-check"' -l 'disk' -d 'A filesystem that must be used below a percentage.' -rfka ''
complete -c 'osmoda-check' -n '__osmoda-check_should_offer_completions_for_flags_or_options "osmoda-check"' -l 'cert' -d 'A TLS certificate that must have days left (port 443 and 14 days by default).' -rfka ''
complete -c 'osmoda-check' -n '__osmoda-check_should_offer_completions_for_flags_or_options "osmoda-check" timeout' -l 'timeout' -d 'The timeout of probes given by flags.' -rfka ''
complete -c 'osmoda-check' -n '__osmoda-check_should_offer_completions_for_flags_or_options "osmoda-check" every' -l 'every' -d 'Run again at this interval, e.g. 500ms, 10s, 5m.' -rfka ''
complete -c 'osmoda-check' -n '__osmoda-check_should_offer_completions_for_flags_or_options "osmoda-check" count' -l 'count' -d 'Stop after this many runs (with --every).' -rfka ''
complete -c 'osmoda-check' -n '__osmoda-check_should_offer_completions_for_flags_or_options "osmoda-check" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-check' -n '__osmoda-check_should_offer_completions_for_flags_or_options "osmoda-check" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-check' -n '__osmoda-check_should_offer_completions_for_flags_or_options "osmoda-check" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-check' -n '__osmoda-check_should_offer_completions_for_positional "osmoda-check" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'osmoda-check' -n '__osmoda-check_should_offer_completions_for_flags_or_options "osmoda-check help" version' -l 'version' -d 'Show the version.'