function __osmoda-cron_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __osmoda-cron_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __osmoda-cron_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __osmoda-cron_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __osmoda-cron_parse_tokens -S
    set -l unparsed_tokens (__osmoda-cron_tokens -pc)
    switch $unparsed_tokens[1]
    case 'osmoda-cron'
        __osmoda-cron_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'next'
            __osmoda-cron_parse_subcommand 1 'count=' 'tz=' 'from=' 'format=' 'version' 'h/help'
        case 'explain'
            __osmoda-cron_parse_subcommand 1 'tz=' 'from=' 'format=' 'version' 'h/help'
        case 'check'
            __osmoda-cron_parse_subcommand 1 'tz=' 'from=' 'format=' 'version' 'h/help'
        case 'help'
            __osmoda-cron_parse_subcommand -r 1 'version'
        end
    end
end

function __osmoda-cron_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __osmoda-cron_parse_subcommand -S -a positional_count
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

function __osmoda-cron_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __osmoda-cron_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__osmoda-cron_tokens -p)
    if test -z "$(__osmoda-cron_tokens -t)"
        set -l index (count (__osmoda-cron_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'osmoda-cron' -f
complete -c 'osmoda-cron' -n '__osmoda-cron_should_offer_completions_for_flags_or_options "osmoda-cron" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-cron' -n '__osmoda-cron_should_offer_completions_for_flags_or_options "osmoda-cron" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-cron' -n '__osmoda-cron_should_offer_completions_for_positional "osmoda-cron" -eq 1' -fa 'next' -d 'Print the next fire times, one cron.next record each.'
complete -c 'osmoda-cron' -n '__osmoda-cron_should_offer_completions_for_positional "osmoda-cron" -eq 1' -fa 'explain' -d 'Print a plain-English reading of the expression as a cron.explain record.'
complete -c 'osmoda-cron' -n '__osmoda-cron_should_offer_completions_for_positional "osmoda-cron" -eq 1' -fa 'check' -d 'Check an expression: a cron.check record, and exit 0 when valid or 65 (with the error) when not.'
complete -c 'osmoda-cron' -n '__osmoda-cron_should_offer_completions_for_positional "osmoda-cron" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'osmoda-cron' -n '__osmoda-cron_should_offer_completions_for_flags_or_options "osmoda-cron next" count' -l 'count' -d 'How many times to print.' -rfka ''
complete -c 'osmoda-cron' -n '__osmoda-cron_should_offer_completions_for_flags_or_options "osmoda-cron next" tz' -l 'tz' -d 'The time zone: an IANA name (Europe/London) or a POSIX TZ string; default the host\'s.' -rfka ''
complete -c 'osmoda-cron' -n '__osmoda-cron_should_offer_completions_for_flags_or_options "osmoda-cron next" from' -l 'from' -d 'Compute from this time: RFC 3339 (2026-03-08T00:00:00Z), or a wall time in the zone (2026-03-08T01:30); default now.' -rfka ''
complete -c 'osmoda-cron' -n '__osmoda-cron_should_offer_completions_for_flags_or_options "osmoda-cron next" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-cron' -n '__osmoda-cron_should_offer_completions_for_flags_or_options "osmoda-cron next" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-cron' -n '__osmoda-cron_should_offer_completions_for_flags_or_options "osmoda-cron next" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-cron' -n '__osmoda-cron_should_offer_completions_for_flags_or_options "osmoda-cron explain" tz' -l 'tz' -d 'The time zone: an IANA name (Europe/London) or a POSIX TZ string; default the host\'s.' -rfka ''
complete -c 'osmoda-cron' -n '__osmoda-cron_should_offer_completions_for_flags_or_options "osmoda-cron explain" from' -l 'from' -d 'Compute from this time: RFC 3339 (2026-03-08T00:00:00Z), or a wall time in the zone (2026-03-08T01:30); default now.' -rfka ''
complete -c 'osmoda-cron' -n '__osmoda-cron_should_offer_completions_for_flags_or_options "osmoda-cron explain" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-cron' -n '__osmoda-cron_should_offer_completions_for_flags_or_options "osmoda-cron explain" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-cron' -n '__osmoda-cron_should_offer_completions_for_flags_or_options "osmoda-cron explain" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-cron' -n '__osmoda-cron_should_offer_completions_for_flags_or_options "osmoda-cron check" tz' -l 'tz' -d 'The time zone: an IANA name (Europe/London) or a POSIX TZ string; default the host\'s.' -rfka ''
complete -c 'osmoda-cron' -n '__osmoda-cron_should_offer_completions_for_flags_or_options "osmoda-cron check" from' -l 'from' -d 'Compute from this time: RFC 3339 (2026-03-08T00:00:00Z), or a wall time in the zone (2026-03-08T01:30); default now.' -rfka ''
complete -c 'osmoda-cron' -n '__osmoda-cron_should_offer_completions_for_flags_or_options "osmoda-cron check" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-cron' -n '__osmoda-cron_should_offer_completions_for_flags_or_options "osmoda-cron check" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-cron' -n '__osmoda-cron_should_offer_completions_for_flags_or_options "osmoda-cron check" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-cron' -n '__osmoda-cron_should_offer_completions_for_flags_or_options "osmoda-cron help" version' -l 'version' -d 'Show the version.'