/* sign.h — Standard Webhooks signatures (https://www.standardwebhooks.com):
 * HMAC-SHA256 over "msg_id.timestamp.body" with the base64-decoded secret
 * (the part after "whsec_"), sent as "v1,<base64>" in webhook-signature.
 * OpenSSL's libcrypto does the cryptography. Pure. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* Room for "v1," and the base64 of 32 bytes, and a NUL. */
#define SIGN_MAX 64

/* Write the signature of body into out. Returns 0, or -1 when the secret is
 * not valid base64 (with or without the "whsec_" prefix) or is empty. */
int sign_standard_webhook(const char *secret, const char *msg_id, int64_t timestamp,
                          const char *body, char out[SIGN_MAX]);
