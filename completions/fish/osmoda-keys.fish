function __osmoda-keys_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __osmoda-keys_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __osmoda-keys_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __osmoda-keys_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __osmoda-keys_parse_tokens -S
    set -l unparsed_tokens (__osmoda-keys_tokens -pc)
    switch $unparsed_tokens[1]
    case 'osmoda-keys'
        __osmoda-keys_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'init'
            __osmoda-keys_parse_subcommand 0 'passphrase-file=' 'passphrase-fd=' 'key-file=' 'credential=' 'kdf=' 'format=' 'user' 'system' 'version' 'h/help'
        case 'unlock'
            __osmoda-keys_parse_subcommand 0 'passphrase-file=' 'passphrase-fd=' 'key-file=' 'credential=' 'format=' 'user' 'system' 'version' 'h/help'
        case 'lock'
            __osmoda-keys_parse_subcommand 0 'format=' 'user' 'system' 'version' 'h/help'
        case 'status'
            __osmoda-keys_parse_subcommand 0 'format=' 'user' 'system' 'version' 'h/help'
        case 'create'
            __osmoda-keys_parse_subcommand 0 'chain=' 'label=' 'format=' 'user' 'system' 'version' 'h/help'
        case 'list'
            __osmoda-keys_parse_subcommand 0 'format=' 'user' 'system' 'version' 'h/help'
        case 'address'
            __osmoda-keys_parse_subcommand 0 'key=' 'format=' 'user' 'system' 'version' 'h/help'
        case 'delete'
            __osmoda-keys_parse_subcommand 0 'key=' 'format=' 'user' 'system' 'version' 'h/help'
        case 'import'
            __osmoda-keys_parse_subcommand 0 'label=' 'keystore=' 'solana-keypair=' 'password-file=' 'password-fd=' 'format=' 'user' 'system' 'version' 'h/help'
        case 'export'
            __osmoda-keys_parse_subcommand 0 'key=' 'out=' 'scrypt=' 'password-file=' 'password-fd=' 'format=' 'user' 'system' 'version' 'h/help'
        case 'sign-message'
            __osmoda-keys_parse_subcommand 0 'key=' 'message=' 'message-hex=' 'format=' 'user' 'system' 'version' 'h/help'
        case 'sign-typed-data'
            __osmoda-keys_parse_subcommand 1 'key=' 'format=' 'user' 'system' 'version' 'h/help'
        case 'sign-tx'
            __osmoda-keys_parse_subcommand 1 'key=' 'format=' 'user' 'system' 'version' 'h/help'
        case 'sign-transfer'
            __osmoda-keys_parse_subcommand 0 'key=' 'to=' 'lamports=' 'blockhash=' 'format=' 'user' 'system' 'version' 'h/help'
        case 'policy'
            __osmoda-keys_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'show'
                __osmoda-keys_parse_subcommand 0 'format=' 'user' 'system' 'version' 'h/help'
            case 'set'
                __osmoda-keys_parse_subcommand 1 'format=' 'user' 'system' 'version' 'h/help'
            case 'check'
                __osmoda-keys_parse_subcommand 0 'key=' 'kind=' 'amount=' 'destination=' 'chain-id=' 'format=' 'user' 'system' 'version' 'h/help'
            end
        case 'help'
            __osmoda-keys_parse_subcommand -r 1 'version'
        end
    end
end

function __osmoda-keys_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __osmoda-keys_parse_subcommand -S -a positional_count
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

function __osmoda-keys_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __osmoda-keys_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__osmoda-keys_tokens -p)
    if test -z "$(__osmoda-keys_tokens -t)"
        set -l index (count (__osmoda-keys_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'osmoda-keys' -f
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_positional "osmoda-keys" -eq 1' -fa 'init' -d 'Create the vault and leave it unlocked (admin).'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_positional "osmoda-keys" -eq 1' -fa 'unlock' -d 'Unlock the vault (admin).'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_positional "osmoda-keys" -eq 1' -fa 'lock' -d 'Seal the vault: forget the key-encryption key (agent or admin).'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_positional "osmoda-keys" -eq 1' -fa 'status' -d 'Print whether the vault exists and is sealed, and how many keys it holds.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_positional "osmoda-keys" -eq 1' -fa 'create' -d 'Create a key in the vault (admin) and print it as key.created.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_positional "osmoda-keys" -eq 1' -fa 'list' -d 'Print every key as a key.info record.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_positional "osmoda-keys" -eq 1' -fa 'address' -d 'Print one key\'s address as a key.info record.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_positional "osmoda-keys" -eq 1' -fa 'delete' -d 'Delete a key from the vault (admin); print key.deleted.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_positional "osmoda-keys" -eq 1' -fa 'import' -d 'Import a key (admin): an Ethereum v3 keystore or the Solana CLI\'s keypair file.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_positional "osmoda-keys" -eq 1' -fa 'export' -d 'Export a key encrypted under a new password (admin): a v3 keystore file.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_positional "osmoda-keys" -eq 1' -fa 'sign-message' -d 'Sign a message (agent, under policy): EIP-191 personal_sign, or Ed25519 for Solana.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_positional "osmoda-keys" -eq 1' -fa 'sign-typed-data' -d 'Sign EIP-712 typed data, v4 (agent, under policy).'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_positional "osmoda-keys" -eq 1' -fa 'sign-tx' -d 'Sign an Ethereum transaction from its JSON description (agent, under policy).'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_positional "osmoda-keys" -eq 1' -fa 'sign-transfer' -d 'Sign a Solana System Program transfer (agent, under policy).'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_positional "osmoda-keys" -eq 1' -fa 'policy' -d 'Show, set (admin) or dry-run the spend policy.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_positional "osmoda-keys" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys init" passphrase-file' -l 'passphrase-file' -d 'Read the passphrase from this file (\'-\': standard input); one trailing newline is dropped.' -rF
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys init" passphrase-fd' -l 'passphrase-fd' -d 'Read the passphrase from this open descriptor.' -rfka ''
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys init" key-file' -l 'key-file' -d 'Use this key file (absolute path, read by the daemon) instead of a passphrase.' -rF
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys init" credential' -l 'credential' -d 'Use this systemd credential ($CREDENTIALS_DIRECTORY/NAME of the daemon) instead of a passphrase.' -rfka ''
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys init" kdf' -l 'kdf' -d 'Argon2id cost: moderate (256 MiB, 3 passes), or minimum, for tests only.' -rfka ''
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys init" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys init" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys init" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys init" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys init" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys unlock" passphrase-file' -l 'passphrase-file' -d 'Read the passphrase from this file (\'-\': standard input); one trailing newline is dropped.' -rF
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys unlock" passphrase-fd' -l 'passphrase-fd' -d 'Read the passphrase from this open descriptor.' -rfka ''
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys unlock" key-file' -l 'key-file' -d 'Unlock with this key file (absolute path, read by the daemon).' -rF
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys unlock" credential' -l 'credential' -d 'Unlock with this systemd credential of the daemon.' -rfka ''
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys unlock" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys unlock" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys unlock" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys unlock" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys unlock" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys lock" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys lock" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys lock" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys lock" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys lock" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys status" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys status" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys status" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys status" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys status" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys create" chain' -l 'chain' -d 'ethereum or solana.' -rfka ''
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys create" label' -l 'label' -d 'A unique name: 1 to 64 of A-Z a-z 0-9 . _ -.' -rfka ''
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys create" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys create" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys create" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys create" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys create" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys list" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys list" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys list" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys list" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys address" key' -l 'key' -d 'The key: its id, label or address.' -rfka ''
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys address" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys address" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys address" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys address" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys address" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys delete" key' -l 'key' -d 'The key: its id, label or address.' -rfka ''
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys delete" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys delete" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys delete" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys delete" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys delete" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys import" label' -l 'label' -d 'A unique name for the key.' -rfka ''
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys import" keystore' -l 'keystore' -d 'A v3 keystore file.' -rF
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys import" solana-keypair' -l 'solana-keypair' -d 'A Solana CLI keypair file (JSON array of 64 numbers).' -rF
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys import" password-file' -l 'password-file' -d 'Read the keystore password from this file (\'-\': standard input); one trailing newline is dropped.' -rF
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys import" password-fd' -l 'password-fd' -d 'Read the keystore password from this open descriptor.' -rfka ''
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys import" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys import" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys import" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys import" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys import" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys export" key' -l 'key' -d 'The key: its id, label or address.' -rfka ''
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys export" out' -l 'out' -d 'The keystore file to create.' -rF
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys export" scrypt' -l 'scrypt' -d 'scrypt cost: standard (256 MiB) or light (4 MiB).' -rfka ''
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys export" password-file' -l 'password-file' -d 'Read the keystore password from this file (\'-\': standard input); one trailing newline is dropped.' -rF
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys export" password-fd' -l 'password-fd' -d 'Read the keystore password from this open descriptor.' -rfka ''
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys export" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys export" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys export" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys export" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys export" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys sign-message" key' -l 'key' -d 'The key: its id, label or address.' -rfka ''
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys sign-message" message' -l 'message' -d 'The message as text (signed as its UTF-8 bytes).' -rfka ''
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys sign-message" message-hex' -l 'message-hex' -d 'The message as hex bytes.' -rfka ''
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys sign-message" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys sign-message" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys sign-message" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys sign-message" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys sign-message" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys sign-typed-data" key' -l 'key' -d 'The key: its id, label or address.' -rfka ''
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_positional "osmoda-keys sign-typed-data" -eq 1' -F
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys sign-typed-data" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys sign-typed-data" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys sign-typed-data" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys sign-typed-data" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys sign-typed-data" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys sign-tx" key' -l 'key' -d 'The key: its id, label or address.' -rfka ''
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_positional "osmoda-keys sign-tx" -eq 1' -F
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys sign-tx" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys sign-tx" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys sign-tx" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys sign-tx" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys sign-tx" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys sign-transfer" key' -l 'key' -d 'The key: its id, label or address.' -rfka ''
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys sign-transfer" to' -l 'to' -d 'The recipient\'s base58 address.' -rfka ''
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys sign-transfer" lamports' -l 'lamports' -d 'The amount in lamports.' -rfka ''
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys sign-transfer" blockhash' -l 'blockhash' -d 'A recent blockhash (base58), from getLatestBlockhash.' -rfka ''
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys sign-transfer" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys sign-transfer" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys sign-transfer" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys sign-transfer" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys sign-transfer" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys policy" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys policy" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_positional "osmoda-keys policy" -eq 1' -fa 'show' -d 'Print the policy in force as a vault.policy record.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_positional "osmoda-keys policy" -eq 1' -fa 'set' -d 'Put a new policy in force (admin); print vault.policy.set.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_positional "osmoda-keys policy" -eq 1' -fa 'check' -d 'Dry run: would the policy allow this request now? Exit 0 yes, 1 no.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys policy show" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys policy show" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys policy show" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys policy show" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys policy show" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_positional "osmoda-keys policy set" -eq 1' -F
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys policy set" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys policy set" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys policy set" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys policy set" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys policy set" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys policy check" key' -l 'key' -d 'The key: its id, label or address.' -rfka ''
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys policy check" kind' -l 'kind' -d 'transaction, transfer, message or typed_data.' -rfka ''
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys policy check" amount' -l 'amount' -d 'The amount in base units (wei, lamports), a decimal integer.' -rfka ''
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys policy check" destination' -l 'destination' -d 'The destination address.' -rfka ''
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys policy check" chain-id' -l 'chain-id' -d 'The EIP-155 chain id of an Ethereum transaction.' -rfka ''
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys policy check" format' -l 'format' -d 'Output format: auto (a table on a terminal, JSON Lines otherwise), json or table.' -rfka 'auto json table'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys policy check" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys policy check" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys policy check" version' -l 'version' -d 'Show the version.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys policy check" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmoda-keys' -n '__osmoda-keys_should_offer_completions_for_flags_or_options "osmoda-keys help" version' -l 'version' -d 'Show the version.'