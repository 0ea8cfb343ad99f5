function __osmoda-gen_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __osmoda-gen_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __osmoda-gen_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __osmoda-gen_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __osmoda-gen_parse_tokens -S
    set -l unparsed_tokens (__osmoda-gen_tokens -pc)
    switch $unparsed_tokens[1]
    case 'osmoda-gen'
        __osmoda-gen_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'list'
            __osmoda-gen_parse_subcommand 0 'profile=' 'booted=' 'backend=' 'config=' 'format=' 'version' 'h/help'
        case 'current'
            __osmoda-gen_parse_subcommand 0 'profile=' 'booted=' 'backend=' 'config=' 'format=' 'version' 'h/help'
        case 'diff'
            __osmoda-gen_parse_subcommand 2 'profile=' 'booted=' 'backend=' 'config=' 'format=' 'version' 'h/help'
        case 'switch'
            __osmoda-gen_parse_subcommand 1 'timeout=' 'profile=' 'booted=' 'backend=' 'config=' 'ledger=' 'user' 'system' 'version' 'h/help'
        case 'rollback'
            __osmoda-gen_parse_subcommand 0 'to=' 'timeout=' 'profile=' 'booted=' 'backend=' 'config=' 'ledger=' 'user' 'system' 'version' 'h/help'
        case 'help'
            __osmoda-gen_parse_subcommand -r 1 'version'
        end
    end
end

function __osmoda-gen_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __osmoda-gen_parse_subcommand -S -a positional_count
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

function __osmoda-gen_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __osmoda-gen_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__osmoda-gen_tokens -p)
    if test -z "$(__osmoda-gen_tokens -t)"
        set -l index (count (__osmoda-gen_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'osmoda-gen' -f
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_positional "osmoda-gen" -eq 1' -fa 'list' -d 'Write one gen.generation record per generation, oldest first.'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_positional "osmoda-gen" -eq 1' -fa 'current' -d 'Write the gen.generation record of the current generation.'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_positional "osmoda-gen" -eq 1' -fa 'diff' -d 'Write one gen.diff record per package that differs between generations A and B (nix store diff-closures).'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_positional "osmoda-gen" -eq 1' -fa 'switch' -d 'Make generation N current: replace the profile link atomically, then switch-to-configuration switch.'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_positional "osmoda-gen" -eq 1' -fa 'rollback' -d 'Return to the explicit generation given by --to (never "one back").'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_positional "osmoda-gen" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen list" profile' -l 'profile' -d 'The system profile link (default $OSMODA_PROFILE, else /nix/var/nix/profiles/system).' -rF
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen list" booted' -l 'booted' -d 'The booted system\'s link.' -rF
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen list" backend' -l 'backend' -d 'nixos (a system profile) or command (argv commands from --config).' -rfka ''
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen list" config' -l 'config' -d 'The command backend\'s JSON config.' -rfa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'json\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen list" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen list" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen current" profile' -l 'profile' -d 'The system profile link (default $OSMODA_PROFILE, else /nix/var/nix/profiles/system).' -rF
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen current" booted' -l 'booted' -d 'The booted system\'s link.' -rF
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen current" backend' -l 'backend' -d 'nixos (a system profile) or command (argv commands from --config).' -rfka ''
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen current" config' -l 'config' -d 'The command backend\'s JSON config.' -rfa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'json\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen current" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen current" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen current" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen diff" profile' -l 'profile' -d 'The system profile link (default $OSMODA_PROFILE, else /nix/var/nix/profiles/system).' -rF
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen diff" booted' -l 'booted' -d 'The booted system\'s link.' -rF
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen diff" backend' -l 'backend' -d 'nixos (a system profile) or command (argv commands from --config).' -rfka ''
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen diff" config' -l 'config' -d 'The command backend\'s JSON config.' -rfa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'json\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen diff" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen diff" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen diff" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen switch" timeout' -l 'timeout' -d 'How long switch-to-configuration may run before its process group is killed.' -rfka ''
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen switch" profile' -l 'profile' -d 'The system profile link (default $OSMODA_PROFILE, else /nix/var/nix/profiles/system).' -rF
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen switch" booted' -l 'booted' -d 'The booted system\'s link.' -rF
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen switch" backend' -l 'backend' -d 'nixos (a system profile) or command (argv commands from --config).' -rfka ''
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen switch" config' -l 'config' -d 'The command backend\'s JSON config.' -rfa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'json\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen switch" ledger' -l 'ledger' -d 'Record actions in the audit ledger: auto (when osmodad is reachable), on (required) or off.' -rfka 'auto on off'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen switch" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen switch" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen switch" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen switch" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen rollback" to' -l 'to' -d 'The generation to return to.' -rfka ''
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen rollback" timeout' -l 'timeout' -d 'How long switch-to-configuration may run before its process group is killed.' -rfka ''
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen rollback" profile' -l 'profile' -d 'The system profile link (default $OSMODA_PROFILE, else /nix/var/nix/profiles/system).' -rF
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen rollback" booted' -l 'booted' -d 'The booted system\'s link.' -rF
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen rollback" backend' -l 'backend' -d 'nixos (a system profile) or command (argv commands from --config).' -rfka ''
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen rollback" config' -l 'config' -d 'The command backend\'s JSON config.' -rfa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'json\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen rollback" ledger' -l 'ledger' -d 'Record actions in the audit ledger: auto (when osmodad is reachable), on (required) or off.' -rfka 'auto on off'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen rollback" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen rollback" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen rollback" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen rollback" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-gen' -n '__osmoda-gen_should_offer_completions_for_flags_or_options "osmoda-gen help" version' -l 'version' -d 'Show the version.'