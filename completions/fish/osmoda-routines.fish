function __osmoda-routines_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __osmoda-routines_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __osmoda-routines_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __osmoda-routines_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __osmoda-routines_parse_tokens -S
    set -l unparsed_tokens (__osmoda-routines_tokens -pc)
    switch $unparsed_tokens[1]
    case 'osmoda-routines'
        __osmoda-routines_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'add'
            __osmoda-routines_parse_subcommand -r 2 'cron=' 'tz=' 'every=' 'jitter=' 'event=' 'reboot' 'timeout=' 'env=+' 'cwd=' 'overlap=' 'no-catch-up' 'disabled' 'force' 'dir=' 'state=' 'user' 'system' 'format=' 'version' 'h/help'
        case 'list'
            __osmoda-routines_parse_subcommand 0 'dir=' 'state=' 'user' 'system' 'format=' 'version' 'h/help'
        case 'remove'
            __osmoda-routines_parse_subcommand 1 'dir=' 'state=' 'user' 'system' 'version' 'h/help'
        case 'enable'
            __osmoda-routines_parse_subcommand 1 'dir=' 'state=' 'user' 'system' 'version' 'h/help'
        case 'disable'
            __osmoda-routines_parse_subcommand 1 'dir=' 'state=' 'user' 'system' 'version' 'h/help'
        case 'run'
            __osmoda-routines_parse_subcommand 1 'dir=' 'state=' 'ledger=' 'user' 'system' 'version' 'h/help'
        case 'history'
            __osmoda-routines_parse_subcommand 1 'n=' 'dir=' 'state=' 'user' 'system' 'format=' 'version' 'h/help'
        case 'serve'
            __osmoda-routines_parse_subcommand 0 'events' 'seed=' 'dir=' 'state=' 'ledger=' 'user' 'system' 'version' 'h/help'
        case 'run-due'
            __osmoda-routines_parse_subcommand 0 'seed=' 'dir=' 'state=' 'ledger=' 'user' 'system' 'version' 'h/help'
        case 'help'
            __osmoda-routines_parse_subcommand -r 1 'version'
        end
    end
end

function __osmoda-routines_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __osmoda-routines_parse_subcommand -S -a positional_count
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

function __osmoda-routines_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __osmoda-routines_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__osmoda-routines_tokens -p)
    if test -z "$(__osmoda-routines_tokens -t)"
        set -l index (count (__osmoda-routines_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'osmoda-routines' -f
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_positional "osmoda-routines" -eq 1' -fa 'add' -d 'Define a routine: writes NAME.json in the definitions directory.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_positional "osmoda-routines" -eq 1' -fa 'list' -d 'Print every routine as a routine.info record.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_positional "osmoda-routines" -eq 1' -fa 'remove' -d 'Delete a routine\'s definition file (its history stays in the state directory).'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_positional "osmoda-routines" -eq 1' -fa 'enable' -d 'Enable a routine (sets enabled in its JSON file).'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_positional "osmoda-routines" -eq 1' -fa 'disable' -d 'Disable a routine (sets enabled to false in its JSON file).'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_positional "osmoda-routines" -eq 1' -fa 'run' -d 'Run a routine now and wait for it; exit 1 when the run does not succeed.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_positional "osmoda-routines" -eq 1' -fa 'history' -d 'Print past runs as routine.run records, oldest first.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_positional "osmoda-routines" -eq 1' -fa 'serve' -d 'Run routines as they come due until stopped; with --events, fire event routines from records on stdin.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_positional "osmoda-routines" -eq 1' -fa 'run-due' -d 'Run the routines that are due (or were missed) and exit: for cron and systemd timers.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_positional "osmoda-routines" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines add" cron' -l 'cron' -d 'A cron expression (osmoda-cron(1)).' -rfka ''
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines add" tz' -l 'tz' -d 'The cron expression\'s time zone.' -rfka ''
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines add" every' -l 'every' -d 'Run at this interval, e.g. 5m.' -rfka ''
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines add" jitter' -l 'jitter' -d 'Add up to this much random delay to each interval.' -rfka ''
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines add" event' -l 'event' -d 'Run when a record read by serve --events matches this expression.' -rfka ''
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines add" reboot' -l 'reboot' -d 'Run once per boot.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines add" timeout' -l 'timeout' -d 'Kill the process group after this long (default 1h).' -rfka ''
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines add"' -l 'env' -d 'Set a variable for the command (repeatable).' -rfka ''
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines add" cwd' -l 'cwd' -d 'The command\'s working directory.' -rfka ''
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines add" overlap' -l 'overlap' -d 'skip, queue or parallel (default skip).' -rfka ''
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines add" no-catch-up' -l 'no-catch-up' -d 'Do not run missed times after downtime.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines add" disabled' -l 'disabled' -d 'Write the routine disabled.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines add" force' -l 'force' -d 'Replace an existing definition of the same name.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines add" dir' -l 'dir' -d 'The definitions directory; default routines/ in the config directory.' -rfa '(__osmoda-routines_complete_directories)'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines add" state' -l 'state' -d 'The state directory; default routines/ in the state directory.' -rfa '(__osmoda-routines_complete_directories)'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines add" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines add" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines add" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines add" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines add" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines list" dir' -l 'dir' -d 'The definitions directory; default routines/ in the config directory.' -rfa '(__osmoda-routines_complete_directories)'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines list" state' -l 'state' -d 'The state directory; default routines/ in the state directory.' -rfa '(__osmoda-routines_complete_directories)'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines list" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines list" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines list" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines list" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines remove" dir' -l 'dir' -d 'The definitions directory; default routines/ in the config directory.' -rfa '(__osmoda-routines_complete_directories)'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines remove" state' -l 'state' -d 'The state directory; default routines/ in the state directory.' -rfa '(__osmoda-routines_complete_directories)'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines remove" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines remove" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines remove" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines remove" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines enable" dir' -l 'dir' -d 'The definitions directory; default routines/ in the config directory.' -rfa '(__osmoda-routines_complete_directories)'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines enable" state' -l 'state' -d 'The state directory; default routines/ in the state directory.' -rfa '(__osmoda-routines_complete_directories)'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines enable" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines enable" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines enable" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines enable" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines disable" dir' -l 'dir' -d 'The definitions directory; default routines/ in the config directory.' -rfa '(__osmoda-routines_complete_directories)'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines disable" state' -l 'state' -d 'The state directory; default routines/ in the state directory.' -rfa '(__osmoda-routines_complete_directories)'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines disable" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines disable" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines disable" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines disable" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines run" dir' -l 'dir' -d 'The definitions directory; default routines/ in the config directory.' -rfa '(__osmoda-routines_complete_directories)'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines run" state' -l 'state' -d 'The state directory; default routines/ in the state directory.' -rfa '(__osmoda-routines_complete_directories)'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines run" ledger' -l 'ledger' -d 'Record actions in the audit ledger: auto (when osmodad is reachable), on (required) or off.' -rfka 'auto on off'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines run" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines run" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines run" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines run" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines history" n' -s 'n' -d 'At most this many runs per routine (the latest).' -rfka ''
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines history" dir' -l 'dir' -d 'The definitions directory; default routines/ in the config directory.' -rfa '(__osmoda-routines_complete_directories)'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines history" state' -l 'state' -d 'The state directory; default routines/ in the state directory.' -rfa '(__osmoda-routines_complete_directories)'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines history" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines history" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines history" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines history" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines history" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines serve" events' -l 'events' -d 'Read records on standard input and fire the event routines that match.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines serve" seed' -l 'seed' -d 'Seed the interval jitter (for tests).' -rfka ''
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines serve" dir' -l 'dir' -d 'The definitions directory; default routines/ in the config directory.' -rfa '(__osmoda-routines_complete_directories)'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines serve" state' -l 'state' -d 'The state directory; default routines/ in the state directory.' -rfa '(__osmoda-routines_complete_directories)'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines serve" ledger' -l 'ledger' -d 'Record actions in the audit ledger: auto (when osmodad is reachable), on (required) or off.' -rfka 'auto on off'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines serve" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines serve" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines serve" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines serve" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines run-due" seed' -l 'seed' -d 'Seed the interval jitter (for tests).' -rfka ''
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines run-due" dir' -l 'dir' -d 'The definitions directory; default routines/ in the config directory.' -rfa '(__osmoda-routines_complete_directories)'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines run-due" state' -l 'state' -d 'The state directory; default routines/ in the state directory.' -rfa '(__osmoda-routines_complete_directories)'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines run-due" ledger' -l 'ledger' -d 'Record actions in the audit ledger: auto (when osmodad is reachable), on (required) or off.' -rfka 'auto on off'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines run-due" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines run-due" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines run-due" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines run-due" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-routines' -n '__osmoda-routines_should_offer_completions_for_flags_or_options "osmoda-routines help" version' -l 'version' -d 'Show the version.'