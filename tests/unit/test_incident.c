/* test_incident.c — grouping and update decisions of the incident book, on
 * match results written by hand (the rules are tested elsewhere), and the
 * book's round trip through the state database. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "incident.h"
#include "incstore.h"
#include "store.h"

#define HOUR 3600
#define DAY 86400
#define T0 1711440000   /* 2024-03-26T08:00:00Z */

static const struct incident_params params = { .window = 72 * HOUR, .retention = 30 * DAY,
                                               .near_threshold = 10 };

/* One report: an item, its match result, and the verdict it got. */
struct rep {
    struct feed_item item;
    struct match_result m;
    struct verdict v;
};

static struct rep report(const char *id, const char *link, const char *title, int64_t published,
                         enum severity sev, const char *province, int killed, int injured)
{
    struct rep r = {
        .item = { .id = (char *)id, .link = (char *)link, .title = (char *)title,
                  .summary = NULL, .published = published, .updated = published },
        .m = { .severity = sev, .province = province, .killed = killed, .injured = injured },
    };
    return r;
}

static void tag(struct rep *r, const char *t)
{
    r->m.tags[r->m.n_tags++] = t;
}

static struct rep attack(const char *id, const char *title, int64_t t, const char *province,
                         int killed, int injured)
{
    struct rep r = report(id, NULL, title, t, killed > 0 ? SEV_CRITICAL : SEV_HIGH, province,
                          killed, injured);
    tag(&r, "cpec");
    tag(&r, "attack");
    return r;
}

/* Decide and record, as the daemon and `cpecwatch match` do. */
static void judge(struct incident_book *b, const char *feed, struct rep *r, int64_t seen)
{
    struct incident_report ir;
    incident_report_of(&ir, feed, &r->item, seen);
    incident_decide(b, &ir, &r->m, &r->v);
    incident_record(b, &ir, &r->v);
}

static void assert_verdict(const struct verdict *v, enum verdict_kind kind, int version)
{
    assert_int_equal(v->kind, kind);
    assert_int_equal(v->version, version);
    assert_int_equal(v->alert, kind == VERDICT_NEW || kind == VERDICT_UPDATE);
    assert_int_equal(v->update, kind == VERDICT_UPDATE);
    assert_int_equal(v->duplicate, kind == VERDICT_DUPLICATE);
    assert_int_equal(v->incident[0] != '\0', kind != VERDICT_NONE);
}

static void test_not_an_incident(void **state)
{
    (void)state;
    struct incident_book *b = incident_book_new(&params);
    struct rep r = report("x", "https://wire.example/cricket", "Pakistan win the Test", T0, SEV_NONE,
                          NULL, -1, -1);
    judge(b, "wire", &r, T0);
    assert_verdict(&r.v, VERDICT_NONE, 0);
    assert_int_equal(r.v.n_changes, 0);
    assert_int_equal(incident_book_size(b), 0);
    incident_book_free(b);
}

/* Three outlets, three languages, one incident; the toll rises once. */
static void test_outlets_group_and_toll_rise_updates(void **state)
{
    (void)state;
    struct incident_book *b = incident_book_new(&params);
    struct rep a = attack("a", "Convoy of Chinese engineers bombed near Besham", T0, "Khyber Pakhtunkhwa", 2, -1);
    struct rep u = attack("u", "بشام کے قریب چینی انجینئرز کے قافلے پر خودکش حملہ", T0 + 3 * HOUR,
                          "Khyber Pakhtunkhwa", 2, -1);
    struct rep z = attack("z", "中方人员车队遭自杀式袭击 5名中国公民遇难", T0 + 20 * HOUR,
                          "Khyber Pakhtunkhwa", 5, -1);
    struct rep z2 = attack("z2", "另一家媒体：车队遇袭 5人遇难", T0 + 30 * HOUR, "Khyber Pakhtunkhwa", 5, -1);
    judge(b, "dawn", &a, T0 + 60);
    judge(b, "awaz", &u, T0 + 4 * HOUR);
    judge(b, "silu", &z, T0 + 21 * HOUR);
    judge(b, "other", &z2, T0 + 31 * HOUR);
    assert_verdict(&a.v, VERDICT_NEW, 1);
    assert_verdict(&u.v, VERDICT_DUPLICATE, 1);
    assert_verdict(&z.v, VERDICT_UPDATE, 2);
    assert_verdict(&z2.v, VERDICT_DUPLICATE, 2);
    assert_string_equal(u.v.incident, a.v.incident);
    assert_string_equal(z.v.incident, a.v.incident);
    assert_string_equal(z2.v.incident, a.v.incident);
    assert_int_equal(z.v.n_changes, 1);
    char text[64];
    incident_change_text(&z.v.changes[0], text, sizeof text);
    assert_string_equal(text, "killed 2 → 5");

    const struct incident *in = incident_book_get(b, a.v.incident);
    assert_non_null(in);
    assert_int_equal(in->n_sources, 4);
    assert_string_equal(in->sources[0].feed, "dawn");
    assert_string_equal(in->sources[2].feed, "silu");
    assert_int_equal(in->sources[2].seen, T0 + 21 * HOUR);
    assert_int_equal(in->killed, 5);
    assert_int_equal(in->first, T0);
    assert_int_equal(in->last, T0 + 30 * HOUR);
    assert_int_equal(in->version, 2);
    incident_book_free(b);
}

/* Apart: another province, outside the window, another type, a stated fact
 * that differs ("place:"). */
static void test_what_keeps_incidents_apart(void **state)
{
    (void)state;
    struct incident_book *b = incident_book_new(&params);
    struct rep a = attack("a", "Blast hits Chinese convoy", T0, "Balochistan", -1, 3);
    struct rep other_province = attack("b", "Blast hits Chinese convoy", T0 + HOUR, "Sindh", -1, 3);
    struct rep late = attack("c", "Gunmen fire at Chinese engineers", T0 + 4 * DAY, "Balochistan", -1, -1);
    struct rep corridor = report("d", NULL, "Militants storm army post", T0 + 2 * HOUR, SEV_MEDIUM,
                                 "Balochistan", 7, -1);
    tag(&corridor, "corridor");
    tag(&corridor, "attack");
    struct rep p1 = attack("e", "Attack on Chinese site repulsed", T0 + 5 * HOUR, "Balochistan", -1, -1);
    tag(&p1, "place:turbat");
    struct rep p2 = attack("f", "Attack on Chinese site repulsed", T0 + 6 * HOUR, "Balochistan", -1, -1);
    tag(&p2, "place:gwadar");
    struct rep p3 = attack("g", "Chinese site attack: all safe", T0 + 7 * HOUR, "Balochistan", -1, -1);
    tag(&p3, "place:gwadar");
    struct rep *all[] = { &a, &other_province, &late, &corridor, &p1, &p2, &p3 };
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        judge(b, "wire", all[i], all[i]->item.published);
    /* p1 joins a (no place stated there), p2 states another place than the
     * incident now holds: its own; p3 the same place as p2. */
    assert_verdict(&other_province.v, VERDICT_NEW, 1);
    assert_verdict(&late.v, VERDICT_NEW, 1);
    assert_verdict(&corridor.v, VERDICT_NEW, 1);
    assert_verdict(&p1.v, VERDICT_DUPLICATE, 1);
    assert_string_equal(p1.v.incident, a.v.incident);
    assert_verdict(&p2.v, VERDICT_NEW, 1);
    assert_verdict(&p3.v, VERDICT_DUPLICATE, 1);
    assert_string_equal(p3.v.incident, p2.v.incident);
    assert_int_equal(incident_book_size(b), 5);
    incident_book_free(b);
}

/* Follow-ups join the attack they follow within retention; later ones and
 * general policy items stand alone (and group only as near-duplicates). */
static void test_followups_and_policy(void **state)
{
    (void)state;
    struct incident_book *b = incident_book_new(&params);
    struct rep a = attack("a", "Chinese engineers killed in Karachi airport bombing", T0, "Sindh", 2, 17);
    struct rep f1 = report("f1", NULL, "Suspects held over airport bombing", T0 + 18 * DAY, SEV_LOW,
                           "Sindh", 2, -1);
    tag(&f1, "cpec");
    tag(&f1, "follow-up");
    struct rep f2 = report("f2", NULL, "Court sentences airport bombing planner", T0 + 45 * DAY, SEV_LOW,
                           "Sindh", -1, -1);
    tag(&f2, "cpec");
    tag(&f2, "follow-up");
    struct rep p1 = report("p1", "https://wire.example/warrior-drill", "China and Pakistan begin joint "
                           "counter-terrorism drill to protect CPEC projects in Punjab this week",
                           T0 + DAY, SEV_LOW, NULL, -1, -1);
    tag(&p1, "cpec");
    tag(&p1, "policy");
    struct rep p2 = p1;
    p2.item.id = "p2";
    p2.item.link = "https://other.example/drill";
    p2.item.title = "China and Pakistan begin joint counter-terrorism drill to protect CPEC projects "
                    "in Punjab this week, army says";
    struct rep p3 = p1;
    p3.item.id = "p3";
    p3.item.link = "https://other.example/escorts";
    p3.item.title = "Sindh police to add escorts for Chinese nationals";
    struct rep *all[] = { &a, &p1, &p2, &p3, &f1, &f2 };
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        judge(b, "wire", all[i], all[i]->item.published);
    assert_verdict(&f1.v, VERDICT_DUPLICATE, 1);
    assert_string_equal(f1.v.incident, a.v.incident);
    assert_verdict(&f2.v, VERDICT_NEW, 1);
    assert_verdict(&p1.v, VERDICT_NEW, 1);
    assert_verdict(&p2.v, VERDICT_DUPLICATE, 1);
    assert_string_equal(p2.v.incident, p1.v.incident);
    assert_verdict(&p3.v, VERDICT_NEW, 1);
    assert_string_not_equal(p3.v.incident, p1.v.incident);
    incident_book_free(b);
}

/* The same article through another link is the same incident, whatever
 * the report says; a severity rise and a claim are new facts; a first
 * "nobody hurt" is not. */
static void test_same_article_claims_and_severity(void **state)
{
    (void)state;
    struct incident_book *b = incident_book_new(&params);
    struct rep a = attack("a", "Gunmen attack Chinese convoy in Gwadar", T0, "Balochistan", -1, -1);
    a.item.link = "https://wire.example/2024/03/gwadar-convoy?utm_source=rss";
    struct rep same = report("b", "https://www.wire.example/2024/03/gwadar-convoy/?fbclid=1#top",
                             "Convoy attacked", T0 + 10 * DAY, SEV_HIGH, "Sindh", -1, 0);
    struct rep claim = attack("c", "BLA claims Gwadar convoy attack", T0 + 5 * HOUR, "Balochistan", -1, -1);
    tag(&claim, "claimed");
    tag(&claim, "group:bla");
    struct rep worse = attack("d", "Chinese engineer dies of wounds after Gwadar attack", T0 + 30 * HOUR,
                              "Balochistan", 1, -1);
    struct rep *all[] = { &a, &same, &claim, &worse };
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        judge(b, "wire", all[i], all[i]->item.published);
    assert_verdict(&same.v, VERDICT_DUPLICATE, 1);
    assert_string_equal(same.v.incident, a.v.incident);
    assert_verdict(&claim.v, VERDICT_UPDATE, 2);
    assert_int_equal(claim.v.n_changes, 1);
    char text[64];
    incident_change_text(&claim.v.changes[0], text, sizeof text);
    assert_string_equal(text, "claimed by bla");
    assert_verdict(&worse.v, VERDICT_UPDATE, 3);
    assert_int_equal(worse.v.n_changes, 2);
    incident_change_text(&worse.v.changes[0], text, sizeof text);
    assert_string_equal(text, "killed ? → 1");
    incident_change_text(&worse.v.changes[1], text, sizeof text);
    assert_string_equal(text, "severity high → critical");
    const struct incident *in = incident_book_get(b, a.v.incident);
    assert_string_equal(in->claimed, "bla");
    assert_int_equal(in->severity, SEV_CRITICAL);
    assert_int_equal(in->injured, 0);
    incident_book_free(b);
}

/* Attack types and cities (tags the matcher earns from the text): a
 * shooting and a bombing are two incidents, unless the second comes
 * within INCIDENT_TYPE_SLACK of the first in a city they share (one
 * complex attack); two cities of one province are two incidents. */
static void test_types_and_cities(void **state)
{
    (void)state;
    struct incident_book *b = incident_book_new(&params);
    struct rep blast = attack("a", "Blast near Chinese convoy in Karachi", T0, "Sindh", -1, 2);
    tag(&blast, "type:bombing");
    tag(&blast, "place:karachi");
    struct rep gunmen = attack("b", "Gunmen fire on Chinese convoy after Karachi blast", T0 + 2 * HOUR,
                               "Sindh", -1, 2);
    tag(&gunmen, "type:shooting");
    tag(&gunmen, "place:karachi");
    struct rep hyd = attack("c", "Gunmen fire on Chinese engineers in Hyderabad", T0 + 3 * HOUR, "Sindh",
                            -1, 2);
    tag(&hyd, "type:shooting");
    tag(&hyd, "place:hyderabad");
    struct rep hyd2 = attack("d", "Hyderabad: grenade thrown at Chinese engineers' car", T0 + 4 * HOUR,
                             "Sindh", -1, 2);
    tag(&hyd2, "type:bombing");
    tag(&hyd2, "place:hyderabad");
    struct rep *all[] = { &blast, &gunmen, &hyd, &hyd2 };
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        judge(b, "wire", all[i], all[i]->item.published);
    assert_verdict(&blast.v, VERDICT_NEW, 1);
    assert_verdict(&gunmen.v, VERDICT_DUPLICATE, 1);
    assert_string_equal(gunmen.v.incident, blast.v.incident);
    assert_verdict(&hyd.v, VERDICT_NEW, 1);
    assert_string_not_equal(hyd.v.incident, blast.v.incident);
    assert_verdict(&hyd2.v, VERDICT_DUPLICATE, 1);
    assert_string_equal(hyd2.v.incident, hyd.v.incident);
    incident_book_free(b);

    /* hours later, or without a shared city, another type is another attack */
    struct rep later = gunmen, nowhere = gunmen;
    later.item.published = T0 + 30 * HOUR;
    nowhere.m.n_tags = 3;   /* cpec, attack, type:shooting: no city */
    struct rep *apart[] = { &later, &nowhere };
    for (size_t i = 0; i < sizeof apart / sizeof *apart; i++) {
        b = incident_book_new(&params);
        struct rep first = blast;
        judge(b, "wire", &first, T0);
        judge(b, "wire", apart[i], apart[i]->item.published);
        assert_verdict(&apart[i]->v, VERDICT_NEW, 1);
        assert_string_not_equal(apart[i]->v.incident, first.v.incident);
        assert_int_equal(incident_book_size(b), 2);
        incident_book_free(b);
    }
}

/* A claim is a new fact once: the first claim raises an update naming the
 * claimant, later claims (by the same group or another) are silent; a
 * claim in the first report is part of the first alert. */
static void test_claims_once(void **state)
{
    (void)state;
    struct incident_book *b = incident_book_new(&params);
    struct rep a = attack("a", "Suicide bomber hits Chinese teachers' van in Karachi", T0, "Sindh", 4, -1);
    struct rep c1 = attack("c1", "BLA claims Karachi van bombing", T0 + 6 * HOUR, "Sindh", 4, -1);
    tag(&c1, "group:BLA");
    tag(&c1, "claimed");
    struct rep c2 = attack("c2", "Majeed Brigade says it carried out Karachi attack", T0 + 8 * HOUR, "Sindh",
                           4, -1);
    tag(&c2, "claimed");
    tag(&c2, "group:BLA");
    struct rep c3 = attack("c3", "TTP also claims the Karachi attack", T0 + 9 * HOUR, "Sindh", 4, -1);
    tag(&c3, "group:TTP");
    tag(&c3, "claimed");
    struct rep named = attack("n", "BLA named in Karachi van bombing probe", T0 + 10 * HOUR, "Sindh", 4, -1);
    tag(&named, "group:BLA");
    struct rep *all[] = { &a, &named, &c1, &c2, &c3 };
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        judge(b, "wire", all[i], all[i]->item.published);
    assert_verdict(&named.v, VERDICT_DUPLICATE, 1);   /* a group named is no claim */
    assert_verdict(&c1.v, VERDICT_UPDATE, 2);
    assert_int_equal(c1.v.n_changes, 1);
    char text[64];
    incident_change_text(&c1.v.changes[0], text, sizeof text);
    assert_string_equal(text, "claimed by BLA");
    assert_verdict(&c2.v, VERDICT_DUPLICATE, 2);
    assert_verdict(&c3.v, VERDICT_DUPLICATE, 2);
    assert_string_equal(incident_book_get(b, a.v.incident)->claimed, "BLA");
    incident_book_free(b);

    b = incident_book_new(&params);
    struct rep claimed_first = c1, later_claim = c2;
    claimed_first.item.published = T0;
    judge(b, "wire", &claimed_first, T0);
    judge(b, "wire", &later_claim, later_claim.item.published);
    assert_verdict(&claimed_first.v, VERDICT_NEW, 1);
    assert_verdict(&later_claim.v, VERDICT_DUPLICATE, 1);
    incident_book_free(b);
}

/* "Death toll rises to 84" four days on joins the attack it revises (past
 * the window, like a follow-up); the same report without the tag is taken
 * for a new attack. */
static void test_toll_update_joins_late(void **state)
{
    (void)state;
    struct incident_book *b = incident_book_new(&params);
    struct rep a = report("a", NULL, "Suicide blast in Peshawar police mosque", T0, SEV_MEDIUM,
                          "Khyber Pakhtunkhwa", 30, -1);
    tag(&a, "corridor");
    tag(&a, "attack");
    tag(&a, "type:bombing");
    tag(&a, "place:peshawar");
    struct rep toll = a, plain = a;
    toll.item.id = "toll";
    toll.item.title = "Peshawar mosque bombing toll rises to 84";
    toll.item.published = T0 + 4 * DAY;
    toll.m.killed = 84;
    tag(&toll, "toll-update");
    plain.item.id = "plain";
    plain.item.title = "Suicide blast in Peshawar mosque kills 84";
    plain.item.published = T0 + 4 * DAY + HOUR;
    plain.m.killed = 84;
    judge(b, "wire", &a, T0);
    judge(b, "wire", &toll, toll.item.published);
    assert_verdict(&toll.v, VERDICT_UPDATE, 2);
    assert_string_equal(toll.v.incident, a.v.incident);
    char text[64];
    incident_change_text(&toll.v.changes[0], text, sizeof text);
    assert_string_equal(text, "killed 30 → 84");
    incident_book_free(b);

    b = incident_book_new(&params);
    judge(b, "wire", &a, T0);
    judge(b, "wire", &plain, plain.item.published);
    assert_verdict(&plain.v, VERDICT_NEW, 1);
    assert_string_not_equal(plain.v.incident, a.v.incident);
    incident_book_free(b);
}

static void test_prune_by_last_seen(void **state)
{
    (void)state;
    struct incident_book *b = incident_book_new(&params);
    struct rep old = attack("a", "Old attack", T0, "Sindh", 1, -1);
    struct rep recent = attack("b", "Recent attack", T0 + 20 * DAY, "Balochistan", 1, -1);
    judge(b, "wire", &old, T0);
    judge(b, "wire", &recent, T0 + 20 * DAY);
    assert_int_equal(incident_book_prune(b, T0 + 29 * DAY), 0);
    assert_int_equal(incident_book_prune(b, T0 + 31 * DAY), 1);
    assert_null(incident_book_get(b, old.v.incident));
    assert_non_null(incident_book_get(b, recent.v.incident));
    incident_book_free(b);
}

/* A restart: the book saved row by row and loaded again decides the same. */
static void test_book_survives_the_database(void **state)
{
    (void)state;
    char err[256];
    struct store *st = store_open(":memory:", err, sizeof err);
    assert_non_null(st);
    struct incident_book *b = incident_book_new(&params);
    struct rep a = attack("a", "Bus carrying Chinese engineers bombed near Dasu", T0, "Khyber Pakhtunkhwa", 9, -1);
    a.item.link = "https://wire.example/dasu";
    struct rep c = attack("c", "Dasu toll rises", T0 + 5 * HOUR, "Khyber Pakhtunkhwa", 13, -1);
    tag(&c, "claimed");
    judge(b, "wire", &a, T0);
    assert_int_equal(incstore_save(st, &a.v), 0);
    judge(b, "wire", &c, T0 + 5 * HOUR);
    assert_int_equal(incstore_save(st, &c.v), 0);
    incident_book_free(b);

    b = incstore_load(st, &params, T0 + DAY);
    assert_non_null(b);
    assert_int_equal(incident_book_size(b), 1);
    const struct incident *in = incident_book_get(b, a.v.incident);
    assert_non_null(in);
    assert_int_equal(in->killed, 13);
    assert_int_equal(in->version, 2);
    assert_int_equal(in->cls, INCIDENT_ATTACK);
    assert_string_equal(in->province, "Khyber Pakhtunkhwa");
    assert_string_equal(in->claimed, "yes");
    assert_int_equal(in->n_tags, 3);
    assert_int_equal(in->n_sources, 2);
    assert_string_equal(in->sources[0].link, "https://wire.example/dasu");
    assert_null(in->sources[1].link);
    /* the same article again, and a report with nothing new: silent */
    struct rep again = attack("a2", "Dasu bus bombing", T0 + 30 * HOUR, "Khyber Pakhtunkhwa", 13, -1);
    again.item.link = "https://www.wire.example/dasu?utm_source=x";
    judge(b, "mirror", &again, T0 + DAY);
    assert_verdict(&again.v, VERDICT_DUPLICATE, 2);
    assert_string_equal(again.v.incident, a.v.incident);
    incident_book_free(b);

    /* past retention the database forgets it too */
    b = incstore_load(st, &params, T0 + DAY);
    assert_int_equal(incstore_prune(b, st, &params, T0 + 40 * DAY), 1);
    assert_int_equal(incident_book_size(b), 0);
    incident_book_free(b);
    b = incstore_load(st, &params, T0 + DAY);
    assert_int_equal(incident_book_size(b), 0);
    incident_book_free(b);
    store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_an_incident),
        cmocka_unit_test(test_outlets_group_and_toll_rise_updates),
        cmocka_unit_test(test_what_keeps_incidents_apart),
        cmocka_unit_test(test_followups_and_policy),
        cmocka_unit_test(test_same_article_claims_and_severity),
        cmocka_unit_test(test_types_and_cities),
        cmocka_unit_test(test_claims_once),
        cmocka_unit_test(test_toll_update_joins_late),
        cmocka_unit_test(test_prune_by_last_seen),
        cmocka_unit_test(test_book_survives_the_database),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
