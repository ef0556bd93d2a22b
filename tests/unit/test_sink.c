/* test_sink.c — the pure parts of the sinks: Standard Webhooks signatures
 * (the specification's published test vector), the token bucket, routing,
 * the request for one attempt (URL, headers), receivers' "hold off" answers,
 * and keeping secrets out of messages. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"
#include "sign.h"
#include "sink.h"

/* From the Standard Webhooks specification's reference test suite. */
static void test_sign_published_vector(void **state)
{
    (void)state;
    char sig[SIGN_MAX];
    assert_int_equal(sign_standard_webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                           "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                                           "{\"test\": 2432232314}", sig), 0);
    assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    /* the prefix is optional; the key is the same */
    assert_int_equal(sign_standard_webhook("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                           "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                                           "{\"test\": 2432232314}", sig), 0);
    assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    /* any change to id, time or body changes it */
    assert_int_equal(sign_standard_webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                           "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331,
                                           "{\"test\": 2432232314}", sig), 0);
    assert_string_not_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    /* not base64, or empty */
    assert_int_equal(sign_standard_webhook("whsec_not base64!", "m", 1, "{}", sig), -1);
    assert_int_equal(sign_standard_webhook("whsec_", "m", 1, "{}", sig), -1);
}

static void test_ratelimit_discord_five_per_two_seconds(void **state)
{
    (void)state;
    struct ratelimit r;
    ratelimit_init(&r, 5, 2, 1000);
    for (int i = 0; i < 5; i++)
        assert_int_equal(ratelimit_take(&r, 1000), 0);   /* a burst of 5 */
    assert_int_equal(ratelimit_take(&r, 1000), 400);      /* then one per 400 ms */
    assert_int_equal(ratelimit_take(&r, 1399), 1);
    assert_int_equal(ratelimit_take(&r, 1400), 0);
    assert_int_equal(ratelimit_take(&r, 1400), 400);
    /* a long quiet time refills to 5, never more */
    for (int i = 0; i < 5; i++)
        assert_int_equal(ratelimit_take(&r, 100000), 0);
    assert_int_equal(ratelimit_take(&r, 100000), 400);
    /* a receiver's "wait": nothing before it, even with tokens */
    ratelimit_pause(&r, 200000);
    assert_int_equal(ratelimit_take(&r, 150000), 50000);
    ratelimit_pause(&r, 160000);   /* an earlier pause does not shorten it */
    assert_int_equal(ratelimit_take(&r, 150000), 50000);
    assert_int_equal(ratelimit_take(&r, 200000), 0);
}

static void test_ratelimit_slack_and_none(void **state)
{
    (void)state;
    struct ratelimit r;
    ratelimit_init(&r, 1, 1, 0);
    assert_int_equal(ratelimit_take(&r, 0), 0);
    assert_int_equal(ratelimit_take(&r, 0), 1000);
    assert_int_equal(ratelimit_take(&r, 999), 1);
    assert_int_equal(ratelimit_take(&r, 1000), 0);
    ratelimit_init(&r, 0, 0, 0);   /* no limit */
    for (int i = 0; i < 100; i++)
        assert_int_equal(ratelimit_take(&r, 0), 0);
}

static json_t *alert_of(const char *kind, const char *severity, const char *tag)
{
    return json_pack("{s:s, s:s, s:s, s:[s]}", "id", "i-00000000000000aa/2", "kind", kind,
                     "severity", severity, "tags", tag);
}

static void test_routing(void **state)
{
    (void)state;
    struct sink_conf k = { .name = "ops", .min_severity = SEV_HIGH };
    json_t *crit = alert_of("new", "critical", "attack"), *med = alert_of("new", "medium", "attack");
    json_t *pol = alert_of("update", "critical", "policy"), *down = alert_of("source-down", "none", "x");
    assert_true(sink_wants(&k, crit));
    assert_false(sink_wants(&k, med));
    assert_true(sink_wants(&k, pol));
    assert_false(sink_wants(&k, down));
    k.source_health = true;
    assert_true(sink_wants(&k, down));
    k.include_tags[0] = "attack";
    k.n_include_tags = 1;
    assert_true(sink_wants(&k, crit));
    assert_false(sink_wants(&k, pol));
    k.n_include_tags = 0;
    k.exclude_tags[0] = "policy";
    k.n_exclude_tags = 1;
    assert_true(sink_wants(&k, crit));
    assert_false(sink_wants(&k, pol));
    json_decref(crit);
    json_decref(med);
    json_decref(pol);
    json_decref(down);
}

static void test_prepare_signed_webhook(void **state)
{
    (void)state;
    const struct sink_conf k = { .name = "hook", .type = SINK_WEBHOOK, .url = "http://127.0.0.1:9/h",
                                 .secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" };
    json_t *a = alert_of("new", "high", "attack");
    const char *payload = "{\"id\":\"i-00000000000000aa/2\"}";
    struct sink_request r;
    char err[128], sig[SIGN_MAX];
    assert_int_equal(sink_prepare(&k, a, payload, 2, 1700000000, &r, err, sizeof err), 0);
    assert_string_equal(r.url, "http://127.0.0.1:9/h");
    assert_string_equal(r.body, payload);   /* the stored alert, byte for byte */
    assert_int_equal(r.n_headers, 5);
    assert_string_equal(r.headers[0], "Idempotency-Key: i-00000000000000aa/2");
    assert_string_equal(r.headers[1], "Cpecwatch-Attempt: 2");
    assert_string_equal(r.headers[2], "webhook-id: i-00000000000000aa/2");
    assert_string_equal(r.headers[3], "webhook-timestamp: 1700000000");
    sign_standard_webhook(k.secret, "i-00000000000000aa/2", 1700000000, payload, sig);
    assert_true(strncmp(r.headers[4], "webhook-signature: v1,", 22) == 0);
    assert_string_equal(r.headers[4] + 19, sig);
    assert_null(r.headers[5]);
    sink_request_clear(&r);

    const struct sink_conf bad = { .name = "hook", .type = SINK_WEBHOOK, .url = "http://h/", .secret = "%%%" };
    assert_int_equal(sink_prepare(&bad, a, payload, 1, 1, &r, err, sizeof err), -1);
    assert_string_equal(err, "sink hook: the secret is not base64 (whsec_...)");
    json_decref(a);
}

static void test_prepare_telegram_and_ntfy(void **state)
{
    (void)state;
    const struct sink_conf tg = { .name = "tg", .type = SINK_TELEGRAM, .url = "https://api.telegram.org",
                                  .secret = "123456:ABC-token", .chat_id = "-100200300" };
    const struct sink_conf nt = { .name = "nt", .type = SINK_NTFY, .url = "https://ntfy.example/cpec-alerts" };
    json_t *a = alert_of("new", "critical", "attack");
    struct sink_request r;
    char err[128];
    assert_int_equal(sink_prepare(&tg, a, "{}", 1, 1, &r, err, sizeof err), 0);
    assert_string_equal(r.url, "https://api.telegram.org/bot123456:ABC-token/sendMessage");
    json_t *body = json_loads(r.body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(body, "chat_id")), "-100200300");
    assert_string_equal(json_string_value(json_object_get(body, "parse_mode")), "HTML");
    json_decref(body);
    assert_int_equal(r.n_headers, 2);   /* no signature headers */
    sink_request_clear(&r);
    assert_int_equal(sink_prepare(&nt, a, "{}", 1, 1, &r, err, sizeof err), 0);
    assert_string_equal(r.url, "https://ntfy.example/");
    body = json_loads(r.body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(body, "topic")), "cpec-alerts");
    assert_int_equal(json_integer_value(json_object_get(body, "priority")), 5);
    json_decref(body);
    sink_request_clear(&r);
    json_decref(a);
}

static void test_hold_off(void **state)
{
    (void)state;
    assert_int_equal(sink_hold_off_ms("0", "1.5", 200, ""), 1500);
    assert_int_equal(sink_hold_off_ms("3", "1.5", 200, ""), -1);   /* requests left */
    assert_int_equal(sink_hold_off_ms(NULL, NULL, 200, ""), -1);
    assert_int_equal(sink_hold_off_ms(NULL, NULL, 429,
                     "{\"message\": \"You are being rate limited.\", \"retry_after\": 0.64, \"global\": false}"), 640);
    assert_int_equal(sink_hold_off_ms(NULL, NULL, 429,
                     "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: retry after 5\","
                     "\"parameters\":{\"retry_after\":5}}"), 5000);
    assert_int_equal(sink_hold_off_ms("0", "0.25", 429, "{\"retry_after\": 2}"), 2000);   /* the longer */
    assert_int_equal(sink_hold_off_ms(NULL, NULL, 429, "not json"), -1);
    assert_int_equal(sink_hold_off_ms("0", "nan", 200, ""), -1);
}

static void test_secrets_stay_out(void **state)
{
    (void)state;
    char shown[128];
    sink_redact_url("https://hooks.slack.com/services/T000/B000/XXXXSECRET", shown, sizeof shown);
    assert_string_equal(shown, "https://hooks.slack.com/\xe2\x80\xa6");
    const struct sink_conf k = { .name = "tg", .type = SINK_TELEGRAM,
                                 .url = "https://hooks.example/services/T000/B000/XXXXSECRET",
                                 .secret = "123456:ABC-token" };
    char msg[256] = "POST https://hooks.example/services/T000/B000/XXXXSECRET failed; bot123456:ABC-token/sendMessage";
    sink_scrub(&k, msg);
    assert_string_equal(msg, "POST https://hooks.example/\xe2\x80\xa6 failed; bot\xe2\x80\xa6/sendMessage");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_published_vector),
        cmocka_unit_test(test_ratelimit_discord_five_per_two_seconds),
        cmocka_unit_test(test_ratelimit_slack_and_none),
        cmocka_unit_test(test_routing),
        cmocka_unit_test(test_prepare_signed_webhook),
        cmocka_unit_test(test_prepare_telegram_and_ntfy),
        cmocka_unit_test(test_hold_off),
        cmocka_unit_test(test_secrets_stay_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
