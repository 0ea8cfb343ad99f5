function __osmodad_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __osmodad_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __osmodad_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __osmodad_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __osmodad_parse_tokens -S
    set -l unparsed_tokens (__osmodad_tokens -pc)
    switch $unparsed_tokens[1]
    case 'osmodad'
        __osmodad_parse_subcommand 0 'recover=' 'checkpoint-every=' 'vault-key-file=' 'vault-credential=' 'user' 'system' 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'help'
            __osmodad_parse_subcommand -r 1 'version'
        end
    end
end

function __osmodad_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __osmodad_parse_subcommand -S -a positional_count
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

function __osmodad_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __osmodad_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__osmodad_tokens -p)
    if test -z "$(__osmodad_tokens -t)"
        set -l index (count (__osmodad_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'osmodad' -f
complete -c 'osmodad' -n '__osmodad_should_offer_completions_for_flags_or_options "osmodad" recover' -l 'recover' -d 'Recover a ledger that failed verification, then exit: archive it unchanged and start a new epoch whose first entry records this acknowledgement and who gave it. Only when no daemon runs.' -rfka ''
complete -c 'osmodad' -n '__osmodad_should_offer_completions_for_flags_or_options "osmodad" checkpoint-every' -l 'checkpoint-every' -d 'Sign a checkpoint this often when entries were appended since the last one (e.g. 30s, 5m); 0 signs only at shutdown and on request.' -rfka ''
complete -c 'osmodad' -n '__osmodad_should_offer_completions_for_flags_or_options "osmodad" vault-key-file' -l 'vault-key-file' -d 'Unlock the key vault at start from this key file (32 bytes, mode 0600, outside the state directory).' -rF
complete -c 'osmodad' -n '__osmodad_should_offer_completions_for_flags_or_options "osmodad" vault-credential' -l 'vault-credential' -d 'Unlock the key vault at start from this systemd credential ($CREDENTIALS_DIRECTORY/NAME, LoadCredential=).' -rfka ''
complete -c 'osmodad' -n '__osmodad_should_offer_completions_for_flags_or_options "osmodad" user' -l 'user' -d 'User mode: the socket under $XDG_RUNTIME_DIR/osmoda, the state under $XDG_STATE_HOME/osmoda.'
complete -c 'osmodad' -n '__osmodad_should_offer_completions_for_flags_or_options "osmodad" system' -l 'system' -d 'System mode: /run/osmoda/osmodad.sock, /var/lib/osmoda, /etc/osmoda.'
complete -c 'osmodad' -n '__osmodad_should_offer_completions_for_flags_or_options "osmodad" version' -l 'version' -d 'Show the version.'
complete -c 'osmodad' -n '__osmodad_should_offer_completions_for_flags_or_options "osmodad" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'osmodad' -n '__osmodad_should_offer_completions_for_positional "osmodad" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'osmodad' -n '__osmodad_should_offer_completions_for_flags_or_options "osmodad help" version' -l 'version' -d 'Show the version.'