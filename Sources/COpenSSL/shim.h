#ifndef OSMODA_COPENSSL_SHIM_H
#define OSMODA_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/evp.h>

/* SSL_set_tlsext_host_name is a macro over SSL_ctrl, which Swift cannot import. */
static inline long osmoda_ssl_set_sni(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}
#endif
