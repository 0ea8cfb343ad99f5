/// The vault's methods on the daemon socket (docs/vault.md). Secrets travel only as hex
/// members named `*_hex`, decoded by the daemon straight into locked memory.
public enum VaultMethod {
    /// `{"source": "passphrase"|"keyfile"|"credential", "passphrase_hex"?, "key_file"?, "credential"?, "kdf"?: "moderate"|"minimum"}`; admin.
    public static let initialize = "vault.init"
    /// `{"passphrase_hex"?, "key_file"?, "credential"?}` (none: the header's key file or credential); admin.
    public static let unlock = "vault.unlock"
    /// `{}`: forget the KEK; agent (sealing only takes power away).
    public static let lock = "vault.lock"
    /// `{}` → `{"initialized", "sealed", "kek_source", "keys", "format"}`; reader.
    public static let status = "vault.status"
    /// `{"chain", "label"}` → the key; admin.
    public static let create = "vault.keys.create"
    /// `{}` → `{"keys": [key…]}`; reader.
    public static let list = "vault.keys.list"
    /// `{"key"}` → the key; reader.
    public static let address = "vault.keys.address"
    /// `{"key"}` → the deleted key; admin.
    public static let delete = "vault.keys.delete"
    /// `{"label", "keystore_json", "password_hex"}` or `{"label", "solana_keypair_hex"}` → the key; admin.
    public static let importKey = "vault.keys.import"
    /// `{"key", "password_hex", "scrypt"?: "standard"|"light"}` → `{"keystore": {…}}`; admin.
    public static let export = "vault.keys.export"
    /// `{"key", "message_hex"}` or `{"key", "message"}` (UTF-8 text) → signature; agent, under policy.
    public static let signMessage = "vault.sign.message"
    /// `{"key", "typed_data": {…}}` (EIP-712 v4) → signature; agent, under policy.
    public static let signTypedData = "vault.sign.typed_data"
    /// `{"key", "transaction": {…}}` → raw signed transaction and hash; agent, under policy.
    public static let signTransaction = "vault.sign.transaction"
    /// `{"key", "to", "lamports", "recent_blockhash"}` → base64 transaction and signature; agent, under policy.
    public static let signTransfer = "vault.sign.transfer"
    /// `{}` → `{"policy", "version"}`; reader.
    public static let policyShow = "vault.policy.show"
    /// `{"policy": {…}}` → `{"version", "seq"}`; admin.
    public static let policySet = "vault.policy.set"
    /// `{"key", "kind", "amount"?, "destination"?}` → `{"allowed", "rule", "reason"}`; agent.
    public static let policyCheck = "vault.policy.check"
}
