#!/usr/bin/env python3
"""Write a synthetic news text for the matching benchmark: one
headline-like item per line, in English, Urdu and Chinese, assembled from
small phrase tables with a fixed seed, so every run sees the same bytes.
Most lines are ordinary news (as in real feeds); some name attacks, places
and tolls so that the rules and extractors do real work.

usage: gen_text.py MEGABYTES OUT
"""
import random
import sys

EN_SUBJ = ["Chinese engineers", "A convoy of Chinese workers", "Police", "The provincial cabinet",
           "Traders", "Security forces", "Students", "The State Bank", "Farmers", "A CPEC project",
           "Gunmen", "The cricket board", "Militants", "Officials", "Residents"]
EN_VERB = ["attacked near", "met in", "protested in", "opened a new office in", "were ambushed in",
           "launched a fund for", "reported a blast in", "discussed tariffs in", "stormed a post in",
           "celebrated a win in", "inspected roads in", "warned of threats in"]
EN_PLACE = ["Gwadar", "Karachi", "Quetta", "Peshawar", "Lahore", "Turbat", "Dasu", "Islamabad",
            "Gilgit", "Hyderabad", "Bannu", "Multan", "Khuzdar", "Skardu", "Sukkur"]
EN_TAIL = ["on Monday", "after talks", "killing {n} people", "with {n} injured", "amid rain",
           "as prices rose", "; {n} dead", "despite a strike", "before the budget", "in the morning",
           "leaving {n} wounded", "for the third time"]
UR_SUBJ = ["چینی انجینئرز", "پولیس", "تاجروں", "طلبہ", "سیکیورٹی فورسز", "کسانوں", "حکومت", "مسلح افراد"]
UR_VERB = ["پر حملہ", "کا اجلاس", "کا احتجاج", "میں دھماکا", "کی تقریب", "پر فائرنگ", "کا دورہ"]
UR_PLACE = ["گوادر", "کراچی", "کوئٹہ", "پشاور", "لاہور", "تربت", "اسلام آباد", "گلگت"]
UR_TAIL = ["{n} افراد جاں بحق", "{n} زخمی", "بارش کے بعد", "قیمتوں میں اضافہ", "پیر کے روز", "مذاکرات جاری"]
ZH_SUBJ = ["中国公民", "当地警方", "商人", "学生", "安全部队", "农民", "政府", "武装分子"]
ZH_VERB = ["遭遇袭击", "举行会议", "参观项目", "发生爆炸", "签署协议", "开展演习", "庆祝节日"]
ZH_PLACE = ["瓜达尔", "卡拉奇", "奎达", "白沙瓦", "拉合尔", "伊斯兰堡", "吉尔吉特"]
ZH_TAIL = ["造成{n}人死亡", "{n}人受伤", "天气晴朗", "价格上涨", "周一", "会谈继续"]


def line(rng):
    n = rng.randint(1, 40)
    lang = rng.random()
    if lang < 0.7:
        return " ".join([rng.choice(EN_SUBJ), rng.choice(EN_VERB), rng.choice(EN_PLACE),
                         rng.choice(EN_TAIL).format(n=n)])
    if lang < 0.85:
        return " ".join([rng.choice(UR_PLACE), rng.choice(UR_SUBJ), rng.choice(UR_VERB) + "،",
                         rng.choice(UR_TAIL).format(n=n)])
    return (rng.choice(ZH_PLACE) + rng.choice(ZH_SUBJ) + rng.choice(ZH_VERB) + "，" +
            rng.choice(ZH_TAIL).format(n=n))


def main():
    megabytes, out = float(sys.argv[1]), sys.argv[2]
    rng = random.Random(20240326)
    limit = int(megabytes * 1_000_000)
    size = 0
    with open(out, "w", encoding="utf-8") as f:
        while size < limit:
            s = line(rng) + "\n"
            f.write(s)
            size += len(s.encode("utf-8"))


if __name__ == "__main__":
    main()
