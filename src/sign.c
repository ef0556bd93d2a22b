/* sign.c — see sign.h. */
#include "sign.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

#define SIGN_SECRET_MAX 256   /* bytes of key; the specification asks for 24 to 64 */

/* Base64 (standard alphabet, padded) into key; returns its length or -1. */
static int decode_secret(const char *b64, unsigned char *key, size_t keymax)
{
    size_t len = strlen(b64);
    if (len == 0 || len % 4 != 0 || len / 4 * 3 > keymax)
        return -1;
    int n = EVP_DecodeBlock(key, (const unsigned char *)b64, (int)len);
    if (n < 0)
        return -1;
    /* EVP_DecodeBlock counts the padding as zero bytes */
    for (size_t i = len; i > 0 && b64[i - 1] == '='; i--)
        n--;
    return n > 0 ? n : -1;
}

int sign_standard_webhook(const char *secret, const char *msg_id, int64_t timestamp,
                          const char *body, char out[SIGN_MAX])
{
    unsigned char key[SIGN_SECRET_MAX], mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    const char *b64 = strncmp(secret, "whsec_", 6) == 0 ? secret + 6 : secret;
    int key_len = decode_secret(b64, key, sizeof key);
    if (key_len < 0)
        return -1;
    struct sbuf msg = {0};
    sbuf_printf(&msg, "%s.%lld.%s", msg_id, (long long)timestamp, body);
    unsigned char *r = HMAC(EVP_sha256(), key, key_len, (const unsigned char *)msg.data, msg.len,
                            mac, &mac_len);
    sbuf_free(&msg);
    OPENSSL_cleanse(key, sizeof key);
    if (!r || mac_len != 32)
        return -1;
    memcpy(out, "v1,", 3);
    EVP_EncodeBlock((unsigned char *)out + 3, mac, (int)mac_len);   /* 44 chars and a NUL */
    return 0;
}
