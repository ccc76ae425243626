"""A multi-script sample: one line per script the renderer must draw with no missing glyph."""

SCRIPT_SAMPLES: dict[str, str] = {
    "english": "Language modelling with pixels: no vocabulary, any script.",
    "vietnamese": "Tiếng Việt có dấu: người, nước, phở, đường.",
    "greek": "Γλωσσικά μοντέλα με εικονοστοιχεία.",
    "russian": "Языковое моделирование на пикселях.",
    "arabic": "نمذجة اللغة باستخدام البكسلات ١٢٣",
    "hebrew": "מידול שפה באמצעות פיקסלים",
    "mixed_rtl": "PIXEL reads عربي and עברית in one line.",
    "hindi": "पिक्सेल के साथ भाषा मॉडलिंग क्षेत्र",
    "tamil": "பிக்சல்களுடன் மொழி மாதிரியாக்கம்",
    "thai": "การสร้างแบบจำลองภาษาด้วยพิกเซล",
    "khmer": "ការធ្វើគំរូភាសាជាមួយភីកសែល",
    "amharic": "የቋንቋ ሞዴሊንግ በፒክሰሎች",
    "coptic": "ⲡⲓⲗⲟⲅⲟⲥ ⲛ̀ⲧⲉ ⲫ̀ⲛⲟⲩϯ",
    "korean": "픽셀을 이용한 언어 모델링",
    "chinese": "用像素进行语言建模",
    "japanese": "ピクセルによる言語モデリング",
    "emoji": "Emoji 👍🏽 👩‍👩‍👧‍👦 ❤️ 🇻🇳 🏳️‍🌈",
}

# CJK is drawn by Noto Sans CJK, which pixlm's default font packages include.
CJK_SAMPLES = ("korean", "chinese", "japanese")
