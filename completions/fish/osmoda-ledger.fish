function __osmoda-ledger_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __osmoda-ledger_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __osmoda-ledger_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __osmoda-ledger_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __osmoda-ledger_parse_tokens -S
    set -l unparsed_tokens (__osmoda-ledger_tokens -pc)
    switch $unparsed_tokens[1]
    case 'osmoda-ledger'
        __osmoda-ledger_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'append'
            __osmoda-ledger_parse_subcommand -r 1 'type=' 'strict' 'max-line=' 'format=' 'user' 'system' 'version' 'h/help'
        case 'tail'
            __osmoda-ledger_parse_subcommand 0 'n=' 'f' 'format=' 'user' 'system' 'version' 'h/help'
        case 'query'
            __osmoda-ledger_parse_subcommand 0 'type=' 'actor=' 'since=' 'until=' 'where=' 'format=' 'user' 'system' 'version' 'h/help'
        case 'verify'
            __osmoda-ledger_parse_subcommand 0 'db=' 'export=' 'checkpoint=+' 'key=' 'format=' 'user' 'system' 'version' 'h/help'
        case 'prove'
            __osmoda-ledger_parse_subcommand 1 'size=' 'format=' 'user' 'system' 'version' 'h/help'
        case 'consistency'
            __osmoda-ledger_parse_subcommand 2 'format=' 'user' 'system' 'version' 'h/help'
        case 'checkpoint'
            __osmoda-ledger_parse_subcommand 0 'append-to=' 'format=' 'user' 'system' 'version' 'h/help'
        case 'stats'
            __osmoda-ledger_parse_subcommand 0 'format=' 'user' 'system' 'version' 'h/help'
        case 'export'
            __osmoda-ledger_parse_subcommand 0 'db=' 'user' 'system' 'version' 'h/help'
        case 'help'
            __osmoda-ledger_parse_subcommand -r 1 'version'
        end
    end
end

function __osmoda-ledger_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __osmoda-ledger_parse_subcommand -S -a positional_count
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

function __osmoda-ledger_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __osmoda-ledger_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__osmoda-ledger_tokens -p)
    if test -z "$(__osmoda-ledger_tokens -t)"
        set -l index (count (__osmoda-ledger_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'osmoda-ledger' -f
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_positional "osmoda-ledger" -eq 1' -fa 'append' -d 'Append every input record to the ledger and print a ledger.entry acknowledgement for each.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_positional "osmoda-ledger" -eq 1' -fa 'tail' -d 'Print the last entries; with -f, follow new ones as they land.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_positional "osmoda-ledger" -eq 1' -fa 'query' -d 'Print the entries that match every filter given.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_positional "osmoda-ledger" -eq 1' -fa 'verify' -d 'Verify the whole chain and Merkle tree, and the checkpoints; exit 1 when anything fails.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_positional "osmoda-ledger" -eq 1' -fa 'prove' -d 'Print an inclusion proof of entry SEQ in the tree of the given size (default: the whole ledger).'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_positional "osmoda-ledger" -eq 1' -fa 'consistency' -d 'Print a consistency proof between the trees of sizes OLD and NEW (default: the whole ledger).'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_positional "osmoda-ledger" -eq 1' -fa 'checkpoint' -d 'Sign and print a checkpoint of the ledger (a C2SP signed note).'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_positional "osmoda-ledger" -eq 1' -fa 'stats' -d 'Print the ledger\'s statistics.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_positional "osmoda-ledger" -eq 1' -fa 'export' -d 'Write every entry as JSON Lines that verify --export checks without SQLite.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_positional "osmoda-ledger" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger append" type' -l 'type' -d 'The entry type for every record (noun.event), instead of each record\'s own type.' -rfka ''
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger append" strict' -l 'strict' -d 'Stop at the first bad input line instead of skipping it.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger append" max-line' -l 'max-line' -d 'The longest input line accepted, in bytes.' -rfka ''
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_positional "osmoda-ledger append" -ge 1' -F
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger append" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger append" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger append" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger append" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger append" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger tail" n' -s 'n' -d 'How many entries to print.' -rfka ''
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger tail" f' -s 'f' -d 'Follow: keep printing entries as they are appended.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger tail" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger tail" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger tail" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger tail" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger tail" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger query" type' -l 'type' -d 'Only entries of this type.' -rfka ''
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger query" actor' -l 'actor' -d 'Only entries whose actor has this uid.' -rfka ''
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger query" since' -l 'since' -d 'Only entries at or after this RFC 3339 time.' -rfka ''
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger query" until' -l 'until' -d 'Only entries before this RFC 3339 time.' -rfka ''
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger query" where' -l 'where' -d 'Only entries for which this osmoda-expr(7) expression is true.' -rfka ''
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger query" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger query" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger query" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger query" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger query" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger verify" db' -l 'db' -d 'Verify this database file offline.' -rF
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger verify" export' -l 'export' -d 'Verify this export file offline.' -rF
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger verify"' -l 'checkpoint' -d 'A witness file of checkpoints kept elsewhere (repeatable).' -rF
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger verify" key' -l 'key' -d 'The checkpoint verifier key (name+id+key) to trust, offline.' -rfka ''
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger verify" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger verify" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger verify" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger verify" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger verify" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger prove" size' -l 'size' -d 'The tree size to prove against.' -rfka ''
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger prove" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger prove" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger prove" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger prove" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger prove" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger consistency" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger consistency" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger consistency" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger consistency" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger consistency" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger checkpoint" append-to' -l 'append-to' -d 'Also append the checkpoint record to this witness file (fsynced).' -rF
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger checkpoint" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger checkpoint" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger checkpoint" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger checkpoint" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger checkpoint" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger stats" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger stats" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger stats" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger stats" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger stats" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger export" db' -l 'db' -d 'Export this database file offline, with no daemon.' -rF
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger export" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger export" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger export" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger export" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-ledger' -n '__osmoda-ledger_should_offer_completions_for_flags_or_options "osmoda-ledger help" version' -l 'version' -d 'Show the version.'