#ifndef OSMODA_CSECP256K1_SHIM_H
#define OSMODA_CSECP256K1_SHIM_H
#include <secp256k1.h>
#include <secp256k1_recovery.h>

/* The context flags are macros Swift does not import; signing and verifying
   need no precomputation flags since libsecp256k1 0.2. */
static inline secp256k1_context *osmoda_secp256k1_context_create(void) {
    return secp256k1_context_create(SECP256K1_CONTEXT_NONE);
}
static inline unsigned int osmoda_secp256k1_uncompressed(void) { return SECP256K1_EC_UNCOMPRESSED; }
#endif
