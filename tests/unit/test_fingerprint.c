/* test_fingerprint.c — SimHash distances: copies with small edits are near,
 * different stories are far, in English, Urdu and Chinese. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fingerprint.h"

static const char *const besham =
    "Five Chinese nationals and their driver killed as suicide bomber rams convoy near Besham";
static const char *const besham_summary =
    "A suicide bomber rammed an explosives-laden car into a convoy carrying Chinese engineers from "
    "Islamabad to the Dasu hydropower project in Shangla district on Tuesday, police said.";
/* The same wire copy with two words changed by a second outlet. */
static const char *const besham_edited =
    "A suicide bomber rammed an explosives-laden vehicle into a convoy carrying Chinese engineers "
    "from Islamabad to the Dasu hydropower project in Shangla district on Tuesday, officials said.";
static const char *const cricket = "Pakistan beat Sri Lanka by six wickets in second Test";
static const char *const cricket_summary =
    "Pakistan's batters chased down 212 on the final day to win the second Test by six wickets "
    "and level the series.";

static void test_identical_and_case_and_markup_are_zero(void **state)
{
    (void)state;
    uint64_t a = fp_item(besham, besham_summary);
    assert_int_not_equal(a, 0);
    assert_int_equal(fp_distance(a, fp_item(besham, besham_summary)), 0);
    /* normalisation: case, punctuation and spacing do not count */
    assert_int_equal(fp_distance(fp_item("Chinese convoy attacked near Besham!", NULL),
                                 fp_item("CHINESE  convoy, attacked near BESHAM", "")), 0);
}

static void test_small_edit_is_near_other_story_is_far(void **state)
{
    (void)state;
    uint64_t a = fp_item(besham, besham_summary);
    uint64_t b = fp_item(besham, besham_edited);
    uint64_t c = fp_item(cricket, cricket_summary);
    int near = fp_distance(a, b);
    assert_in_range(near, 1, 10);
    assert_in_range(fp_distance(a, c), 20, 64);
    assert_in_range(fp_distance(b, c), 20, 64);
}

static void test_chinese_and_urdu_edits(void **state)
{
    (void)state;
    uint64_t z1 = fp_item("巴基斯坦奎达火车站发生自杀式爆炸 至少26人死亡",
                          "当地时间9日上午，巴基斯坦俾路支省奎达火车站发生自杀式爆炸袭击。");
    uint64_t z2 = fp_item("巴基斯坦奎达火车站发生自杀式爆炸 至少26人死亡",
                          "当地时间9日上午，巴基斯坦俾路支省首府奎达火车站发生自杀式爆炸袭击。");
    uint64_t z3 = fp_item("中巴联合反恐演习在巴基斯坦举行", "两国陆军开展为期两周的联合训练。");
    assert_in_range(fp_distance(z1, z2), 1, 10);
    assert_in_range(fp_distance(z1, z3), 20, 64);
    uint64_t u1 = fp_item("کوئٹہ ریلوے اسٹیشن پر خودکش دھماکا، 26 افراد جاں بحق",
                          "پولیس کے مطابق دھماکا صبح کے وقت پلیٹ فارم پر ہوا جب مسافر ٹرین کا انتظار کر رہے تھے");
    uint64_t u2 = fp_item("کوئٹہ ریلوے اسٹیشن پر خودکش دھماکا، 26 افراد جاں بحق",
                          "پولیس کے مطابق دھماکا صبح کے وقت پلیٹ فارم پر ہوا جب مسافر ٹرین کا انتظار کر رہے تھے۔");
    assert_int_equal(fp_distance(u1, u2), 0);
    assert_in_range(fp_distance(u1, z1), 20, 64);
}

static void test_empty_and_short_texts(void **state)
{
    (void)state;
    assert_int_equal(fp_simhash(""), 0);
    assert_int_equal(fp_item(NULL, NULL), 0);
    /* fewer tokens than a shingle still make one shingle */
    assert_int_not_equal(fp_item("blast", NULL), 0);
    assert_int_not_equal(fp_item("blast", NULL), fp_item("attack", NULL));
    assert_int_equal(fp_distance(0, ~0ULL), 64);
    assert_int_equal(fp_distance(0x0fULL, 0x0eULL), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identical_and_case_and_markup_are_zero),
        cmocka_unit_test(test_small_edit_is_near_other_story_is_far),
        cmocka_unit_test(test_chinese_and_urdu_edits),
        cmocka_unit_test(test_empty_and_short_texts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
