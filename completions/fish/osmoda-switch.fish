function __osmoda-switch_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __osmoda-switch_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __osmoda-switch_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __osmoda-switch_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __osmoda-switch_parse_tokens -S
    set -l unparsed_tokens (__osmoda-switch_tokens -pc)
    switch $unparsed_tokens[1]
    case 'osmoda-switch'
        __osmoda-switch_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'begin'
            __osmoda-switch_parse_subcommand 1 'build-command=' 'ttl=' 'interval=' 'tolerance=' 'confirm' 'checks=' 'unit=+' 'tcp=+' 'http=+' 'command=+' 'process=+' 'pidfile=+' 'file=+' 'disk=+' 'cert=+' 'check-timeout=' 'timeout=' 'build-timeout=' 'timer=' 'state-dir=' 'profile=' 'booted=' 'backend=' 'config=' 'ledger=' 'user' 'system' 'version' 'h/help'
        case 'status'
            __osmoda-switch_parse_subcommand 1 'state-dir=' 'format=' 'version' 'h/help'
        case 'list'
            __osmoda-switch_parse_subcommand 0 'state-dir=' 'format=' 'version' 'h/help'
        case 'commit'
            __osmoda-switch_parse_subcommand 1 'state-dir=' 'ledger=' 'user' 'system' 'version' 'h/help'
        case 'rollback'
            __osmoda-switch_parse_subcommand 1 'state-dir=' 'ledger=' 'user' 'system' 'version' 'h/help'
        case 'boot-check'
            __osmoda-switch_parse_subcommand 0 'state-dir=' 'ledger=' 'user' 'system' 'version' 'h/help'
        case 'help'
            __osmoda-switch_parse_subcommand -r 1 'version'
        end
    end
end

function __osmoda-switch_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __osmoda-switch_parse_subcommand -S -a positional_count
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

function __osmoda-switch_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __osmoda-switch_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__osmoda-switch_tokens -p)
    if test -z "$(__osmoda-switch_tokens -t)"
        set -l index (count (__osmoda-switch_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'osmoda-switch' -f
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_positional "osmoda-switch" -eq 1' -fa 'begin' -d 'Try a generation on probation; commit it when the checks pass, roll back when they do not.'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_positional "osmoda-switch" -eq 1' -fa 'status' -d 'Write the switch.state record of one switch.'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_positional "osmoda-switch" -eq 1' -fa 'list' -d 'Write one switch.state record per switch, oldest first.'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_positional "osmoda-switch" -eq 1' -fa 'commit' -d 'Confirm a switch on probation: make its generation the boot default now.'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_positional "osmoda-switch" -eq 1' -fa 'rollback' -d 'Return to a switch\'s recorded generation now (also retries a failed rollback).'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_positional "osmoda-switch" -eq 1' -fa 'boot-check' -d 'At boot: roll back every switch left open (in probation, committing or rolling back) to its recorded generation.'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_positional "osmoda-switch" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch begin" build-command' -l 'build-command' -d 'A command, as a JSON array of argv, whose last line of output is the generation to try (a number or a store path).' -rfka ''
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch begin" ttl' -l 'ttl' -d 'How long the probation lasts.' -rfka ''
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch begin" interval' -l 'interval' -d 'How often the checks run.' -rfka ''
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch begin" tolerance' -l 'tolerance' -d 'How many failed rounds in a row are tolerated before rolling back.' -rfka ''
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch begin" confirm' -l 'confirm' -d 'Commit only on an explicit \'osmoda-switch commit ID\' before the TTL; roll back otherwise.'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch begin" checks' -l 'checks' -d 'A JSON file of osmoda-check probe definitions.' -rfa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'json\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch begin"' -l 'unit' -d 'A systemd unit that must be active.' -rfka ''
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch begin"' -l 'tcp' -d 'A TCP endpoint that must accept a connection.' -rfka ''
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch begin"' -l 'http' -d 'A URL whose GET must answer 200.' -rfka ''
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch begin"' -l 'command' -d 'A command, as a JSON array of argv, that must exit 0.' -rfka ''
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch begin"' -l 'process' -d 'A process name that must be running.' -rfka ''
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch begin"' -l 'pidfile' -d 'A pidfile whose process must be running.' -rF
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch begin"' -l 'file' -d 'A file that must exist.' -rF
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch begin"' -l 'disk' -d 'A filesystem that must be used below a percentage.' -rfka ''
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch begin"' -l 'cert' -d 'A TLS certificate that must have days left.' -rfka ''
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch begin" check-timeout' -l 'check-timeout' -d 'The timeout of probes given by flags.' -rfka ''
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch begin" timeout' -l 'timeout' -d 'How long each switch-to-configuration may run before its process group is killed.' -rfka ''
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch begin" build-timeout' -l 'build-timeout' -d 'How long --build-command may run.' -rfka ''
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch begin" timer' -l 'timer' -d 'auto: a transient systemd timer backs the deadline where systemd runs; off: the guardian alone.' -rfka ''
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch begin" state-dir' -l 'state-dir' -d 'Where switches are kept (default $OSMODA_SWITCH_DIR, else /var/lib/osmoda/switch for root, $XDG_STATE_HOME/osmoda/switch for users).' -rfa '(__osmoda-switch_complete_directories)'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch begin" profile' -l 'profile' -d 'The system profile link (default $OSMODA_PROFILE, else /nix/var/nix/profiles/system).' -rF
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch begin" booted' -l 'booted' -d 'The booted system\'s link.' -rF
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch begin" backend' -l 'backend' -d 'nixos (a system profile) or command (argv commands from --config).' -rfka ''
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch begin" config' -l 'config' -d 'The command backend\'s JSON config.' -rfa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'json\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch begin" ledger' -l 'ledger' -d 'Record actions in the audit ledger: auto (when osmodad is reachable), on (required) or off.' -rfka 'auto on off'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch begin" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch begin" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch begin" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch begin" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch status" state-dir' -l 'state-dir' -d 'Where switches are kept (default $OSMODA_SWITCH_DIR, else /var/lib/osmoda/switch for root, $XDG_STATE_HOME/osmoda/switch for users).' -rfa '(__osmoda-switch_complete_directories)'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch status" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch status" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch status" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch list" state-dir' -l 'state-dir' -d 'Where switches are kept (default $OSMODA_SWITCH_DIR, else /var/lib/osmoda/switch for root, $XDG_STATE_HOME/osmoda/switch for users).' -rfa '(__osmoda-switch_complete_directories)'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch list" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch list" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch commit" state-dir' -l 'state-dir' -d 'Where switches are kept (default $OSMODA_SWITCH_DIR, else /var/lib/osmoda/switch for root, $XDG_STATE_HOME/osmoda/switch for users).' -rfa '(__osmoda-switch_complete_directories)'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch commit" ledger' -l 'ledger' -d 'Record actions in the audit ledger: auto (when osmodad is reachable), on (required) or off.' -rfka 'auto on off'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch commit" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch commit" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch commit" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch commit" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch rollback" state-dir' -l 'state-dir' -d 'Where switches are kept (default $OSMODA_SWITCH_DIR, else /var/lib/osmoda/switch for root, $XDG_STATE_HOME/osmoda/switch for users).' -rfa '(__osmoda-switch_complete_directories)'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch rollback" ledger' -l 'ledger' -d 'Record actions in the audit ledger: auto (when osmodad is reachable), on (required) or off.' -rfka 'auto on off'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch rollback" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch rollback" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch rollback" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch rollback" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch boot-check" state-dir' -l 'state-dir' -d 'Where switches are kept (default $OSMODA_SWITCH_DIR, else /var/lib/osmoda/switch for root, $XDG_STATE_HOME/osmoda/switch for users).' -rfa '(__osmoda-switch_complete_directories)'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch boot-check" ledger' -l 'ledger' -d 'Record actions in the audit ledger: auto (when osmodad is reachable), on (required) or off.' -rfka 'auto on off'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch boot-check" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch boot-check" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch boot-check" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch boot-check" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-switch' -n '__osmoda-switch_should_offer_completions_for_flags_or_options "osmoda-switch help" version' -l 'version' -d 'Show the version.'