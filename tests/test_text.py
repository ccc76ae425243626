from pixlm.render.text import bidi_levels, end_of_word, graphemes, piece_keys, sanitize, spaced_words, split_words, visual_order


def test_visual_order_reverses_right_to_left_runs():
    # Worked by hand with rule L2: levels 0 0 1 1 1 0 -> the middle three reversed.
    assert visual_order([0, 0, 1, 1, 1, 0]) == [0, 1, 4, 3, 2, 5]
    # Numbers at level 2 inside an RTL run keep their order: reverse >=2, then >=1.
    assert visual_order([1, 1, 2, 2, 1]) == [4, 2, 3, 1, 0]


def test_bidi_levels_of_mixed_text():
    levels = bidi_levels("ab שלום cd")
    assert levels[:2] == [0, 0] and levels[3:7] == [1, 1, 1, 1] and levels[-2:] == [0, 0]
    # A Hebrew paragraph is right to left; the digits inside it sit at level 2.
    he = bidi_levels("שלום 123")
    assert he[0] == 1 and he[-3:] == [2, 2, 2]


def test_sanitize_counts_controls_and_lone_surrogates():
    clean, n = sanitize("a\x00b\ud800c\td")
    assert clean == "a b\ufffdc d" and n == 2
    assert sanitize("plain") == ("plain", 0)


def test_words_and_graphemes():
    assert split_words("  two  words ") == [(2, 5), (7, 12)]
    assert graphemes("e\u0301👍🏽x") == ["e\u0301", "👍🏽", "x"]


def test_long_text_is_split_like_short_text():
    # From 512 characters on, text is split with array operations; the spans must be those of
    # the regular expression \S+, whatever the whitespace (\x1c-\x1f, no-break and ideographic
    # spaces included), for ASCII and for other text.
    import random
    import re

    rng = random.Random(0)
    for alphabet in ("ab.x \t\n\x0b\x1c\x1f", "ab é字\u00a0\u3000\u2009\u200b\x85👍"):
        for _ in range(30):
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(512, 900)))
            assert split_words(text) == [m.span() for m in re.finditer(r"\S+", text)]
    assert split_words(" " * 600) == []
    assert split_words("w" * 600) == [(0, 600)]


def test_piece_keys_are_the_words_with_the_whitespace_before_them():
    # Single-spaced ASCII is split with str methods; everything else with the regular
    # expression \s*\S+. Both must give its matches, for any window that ends at a word's end.
    import random
    import re

    rng = random.Random(1)
    for alphabet in ("ab.x ", "ab.x  ", "ab é\u00a0 ", "ab\u3000字 "):
        for _ in range(40):
            raw = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
            text, _ = sanitize(raw)
            start = rng.randint(0, len(text))
            end = end_of_word(text, rng.randint(start, len(text)))
            assert piece_keys(text, start, end) == re.findall(r"\s*\S+", text[start:end]), (text, start, end)
    assert piece_keys(" a b ") == [" a", " b"]
    assert end_of_word("one two", 1) == 3 and end_of_word("one two", 3) == 3 and end_of_word("one", 9) == 3


def test_spaced_words_name_the_same_pieces_as_piece_keys():
    # Where the words are one space apart, the pieces are the first word (if the chunk does not
    # start with a space) and " " + each other word; elsewhere spaced_words declines.
    import random

    rng = random.Random(2)
    declined = named = 0
    for alphabet in ("ab.x ", "ab.x  ", "ab é "):
        for _ in range(60):
            text, _ = sanitize("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))))
            words = spaced_words(text)
            if words is None:
                declined += 1
                assert not text.isascii() or "  " in text
                continue
            named += 1
            expected = ([words[0]] if words and words[0] else []) + [" " + w for w in words[1:]]
            assert expected == piece_keys(text), text
    assert declined and named
    assert spaced_words(" a b ") == ["", "a", "b"] and spaced_words("a\u00a0b") is None
