/* test_extract.c — casualty figures in English, Urdu and Chinese. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>

#include "extract.h"
#include "normalize.h"

struct toll_case {
    const char *text;
    int killed;
    int injured;
};

static const struct toll_case cases[] = {
    {"At least 13 people were killed and 20 wounded in the blast.", 13, 20},
    {"Bomber kills at least 70 at hospital", 70, -1},
    {"The attack killed two dozen people.", 24, -1},
    {"A roadside bomb exploded, killing three soldiers.", 3, -1},
    {"Death toll rises to 13 after bus attack", 13, -1},
    {"Mosque bombing toll reaches one hundred", 100, -1},
    {"Twenty-one passengers and four soldiers lost their lives.", 25, -1},
    {"Eight militants, two soldiers killed in port attack", 2, -1},
    {"Two attackers were killed and no one else lost their life.", 0, -1},
    {"Thirteen people, nine of them foreigners, were killed.", 13, -1},
    {"Nine engineers among 13 dead as bus plunges into ravine", 13, -1},
    {"Four hotel workers and a navy sailor were killed.", 5, -1},
    {"A foreign engineer was shot dead in his car.", 1, -1},
    {"Gunmen killed nine people and wounded more than 20.", 9, 20},
    {"Two engineers killed. Seventeen people were injured.", 2, 17},
    {"The blast wounded a dozen bystanders.", -1, 12},
    {"Police said two guards were hurt.", -1, 2},
    {"The market reopened on Monday after 3 days.", -1, -1},
    {"Stock index jumps 1,200 points", -1, -1},
    {"26 افراد جاں بحق، 62 زخمی", 26, 62},
    {"۳۳ دہشت گرد ہلاک، ۲۱ مسافر جاں بحق", 21, -1},
    {"دو چینی شہری زخمی", -1, 2},
    {"آٹھ دہشت گرد هلاک، دو فوجی شہید", 2, -1},          /* Arabic heh in هلاک */
    {"پانچ چینی شہریوں سمیت چھ افراد جاں بحق", 6, -1},
    {"جاں بحق افراد کی تعداد 100 ہو گئی", 100, -1},
    {"事件造成至少26人死亡、62人受伤。", 26, 62},
    {"33名武装分子被击毙，21名乘客和4名边防军人员遇难。", 25, -1},
    {"造成3名中方教师和1名巴方司机遇难，另有1名中方教师受伤。", 4, 1},
    {"三名中方教师遇难", 3, -1},
    {"二十六人死亡", 26, -1},
    {"卡拉奇连日高温，医院接诊大量中暑患者。", -1, -1},
    /* a conjunct without a numeral counts one: "and their driver", "and a guard" */
    {"Five Chinese nationals and their driver were killed.", 6, -1},
    {"The bomber struck, killing five Chinese engineers and their Pakistani driver.", 6, -1},
    {"Gunmen opened fire, killing three soldiers and a policeman.", 4, -1},
    {"The attack killed two and wounded five.", 2, 5},
    {"The four victims killed on Monday, along with their driver, were buried.", 5, -1},
    {"تین چینی اساتذہ اور ان کا پاکستانی ڈرائیور جاں بحق ہو گئے", 4, -1},
    {"پانچ چینی شہری اور ڈرائیور ہلاک", 6, -1},
    {"造成5名中国公民和1名巴方司机遇难", 6, -1},
    /* a singular subject counts one; an attacker does not */
    {"Chinese national wounded in Karachi shooting", -1, 1},
    {"A police officer was critically injured.", -1, 1},
    {"Militant commander killed in raid", -1, -1},
    /* the head figure before "including" */
    {"Five people, including three Chinese engineers, were injured.", -1, 5},
    {"Nine people were killed, including two Chinese nationals.", 9, -1},
    /* Pakistani English and Urdu for soldiers killed in action */
    {"Five soldiers martyred in Bannu attack", 5, -1},
    {"چار اہلکار شہید", 4, -1},
    /* numbers not attached to a casualty word are not tolls */
    {"Chinese firm wins 3 contracts worth 2 billion", -1, -1},
};

static void test_tolls(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *n = norm_text(cases[i].text);
        struct tolls t = extract_tolls(n);
        print_message("%s\n", cases[i].text);
        assert_int_equal(t.killed, cases[i].killed);
        assert_int_equal(t.injured, cases[i].injured);
        free(n);
    }
}

static void test_merge(void **state)
{
    (void)state;
    struct tolls a = {.killed = -1, .injured = 4};
    extract_merge(&a, (struct tolls){.killed = 2, .injured = 3});
    assert_int_equal(a.killed, 2);
    assert_int_equal(a.injured, 4);
    extract_merge(&a, (struct tolls){.killed = -1, .injured = -1});
    assert_int_equal(a.killed, 2);
    assert_int_equal(a.injured, 4);
}

static void test_empty(void **state)
{
    (void)state;
    struct tolls t = extract_tolls("");
    assert_int_equal(t.killed, -1);
    assert_int_equal(t.injured, -1);
    t = extract_tolls(NULL);
    assert_int_equal(t.killed, -1);
    assert_int_equal(t.injured, -1);
}

/* bsearch() over an unsorted table misses words without any error: a cue
 * or number word added out of order would simply never be recognised. */
static void test_tables_sorted(void **state)
{
    (void)state;
    assert_true(extract_tables_sorted());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tolls),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_tables_sorted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
