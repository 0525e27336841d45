#!/usr/bin/env python3
"""Tokenize a deterministic, varied text corpus with llama.cpp as a reference.

Makes: Tests/Fixtures/tokenizer/corpus.json

The corpus (well over 1,200 strings) is built in this file from hand-written
samples (prose, questions, many scripts, emoji incl. ZWJ / skin tones /
flags, code, numbers, whitespace runs, contractions, punctuation, URLs, JSON,
markdown, embedded and partial special tokens, edge cases such as the empty
string, combining marks and unicode spaces), systematic variants of those
samples (leading/trailing spaces, newline joins, case changes), and random
mixtures drawn from character pools with a fixed-seed RNG. The corpus itself
is stored in the JSON, so Tern's tests never need to rebuild it.

Each string is tokenized by llama.cpp through llama-cpp-python with the
vocabulary of SmolLM2-135M-Instruct (GPT-2 byte-level BPE, pre-tokenizer
"smollm"):

    llm = llama_cpp.Llama(model, vocab_only=True, verbose=False)
    ids       = llm.tokenize(text.encode(), add_bos=False, special=True)
    ids_plain = llm.tokenize(text.encode(), add_bos=False, special=False)

``detok`` (llm.detokenize(ids_plain) decoded as UTF-8 with errors="replace")
is recorded only where it differs from the text.

Rerun (from the repository root):

    python3 scripts/reference/make_tokenizer_corpus.py [MODEL.gguf] [--out PATH]

MODEL defaults to $TERN_HOME/models/SmolLM2-135M-Instruct.Q4_1.gguf; _common.py
gives the TERN_HOME default and the model's expected sha256.

Versions used for the committed fixture: Python 3.11.7,
llama-cpp-python 0.3.36 (recorded in the JSON as well).
"""

from __future__ import annotations

import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import MODEL_FILE, parse_model_args, sha256_file, write_json  # noqa: E402

SEED = 1234567


# --------------------------------------------------------------------------
# Hand-written samples
# --------------------------------------------------------------------------

PROSE = [
    "Hello world",
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "It was a bright cold day in April, and the clocks were striking thirteen.",
    "Call me Ishmael.",
    "In the beginning the Universe was created. This has made a lot of people very angry.",
    "She sells sea shells by the sea shore.",
    "Machine learning models are trained on large datasets.",
    "The mitochondria is the powerhouse of the cell.",
    "A journey of a thousand miles begins with a single step.",
    "We hold these truths to be self-evident, that all men are created equal.",
    "To be, or not to be, that is the question.",
    "The rain in Spain stays mainly in the plain.",
    "Photosynthesis converts light energy into chemical energy.",
    "Once upon a time, in a land far, far away, there lived a dragon.",
    "The meeting has been rescheduled to next Tuesday afternoon.",
    "Please remember to bring your umbrella tomorrow.",
    "Tokenization splits text into smaller units called tokens.",
    "Byte-pair encoding merges the most frequent pairs of symbols.",
    "antidisestablishmentarianism",
    "Supercalifragilisticexpialidocious",
    "pneumonoultramicroscopicsilicovolcanoconiosis",
    "ALL CAPS SENTENCE WITH SHOUTING",
    "mIxEd CaSe TeXt iS hArD tO rEaD",
    "The U.S.A. and the U.K. signed the treaty in Washington, D.C.",
    "Dr. Smith, Ph.D., arrived at 5 p.m. sharp.",
    "e.g. i.e. etc. vs. cf. al.",
    "self-driving well-known state-of-the-art mother-in-law",
    "The cat sat on the mat. The dog sat on the log.",
    "Ants, bees, and wasps are all insects in the order Hymenoptera.",
    "SmolLM is a family of small language models.",
    "Hugging Face hosts many open models.",
    "The temperature dropped below freezing overnight.",
    "He said, \"I'll be back,\" and walked out.",
    "'Single quoted' and \"double quoted\" text",
    "Parentheses (like these) and brackets [like these] and braces {like these}",
    "a b c d e f g h i j k l m n o p q r s t u v w x y z",
    "A B C D E F G H I J K L M N O P Q R S T U V W X Y Z",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "abababababababababababababababab",
    "the the the the the the the the",
    "I",
    "a",
    "Z",
    "OK",
    "Yes.",
    "No!",
    "Wait...",
    "Hmm?!",
    "word",
    " word",
    "  word",
    "word ",
    "word  ",
]

QUESTIONS = [
    "What is the capital of France?",
    "How do I reverse a linked list in Python?",
    "Why is the sky blue?",
    "Can you explain quantum entanglement in simple terms?",
    "Who wrote 'Pride and Prejudice'?",
    "When did the Second World War end?",
    "Where is Mount Kilimanjaro?",
    "Which is heavier, a kilogram of feathers or a kilogram of steel?",
    "Is it going to rain tomorrow?",
    "What's the difference between TCP and UDP?",
    "How many legs does a spider have?",
    "Could you summarize this article for me, please?",
    "What time is it in Tokyo right now?",
    "Do you know the way to San Jose?",
    "Why don't scientists trust atoms? Because they make up everything!",
    "What are the first 10 prime numbers?",
    "How do you say 'thank you' in Japanese?",
    "WHAT IS THIS?",
    "what is this",
    "huh?",
]

SCRIPTS = [
    # Chinese
    "你好，世界！", "我爱自然语言处理。", "今天天气很好，我们去公园散步吧。", "北京是中国的首都。",
    "人工智能正在改变世界", "机器学习和深度学习有什么区别？", "中华人民共和国", "一二三四五六七八九十",
    # Japanese
    "こんにちは世界", "日本語のテキストをトークン化します。", "カタカナとひらがなと漢字", "東京タワーは赤いです。",
    "ｶﾀｶﾅ半角", "すみません、駅はどこですか？", "ありがとうございました！",
    # Korean
    "안녕하세요 세계", "한국어 텍스트를 토큰화합니다.", "서울은 대한민국의 수도입니다.", "감사합니다!",
    # Arabic
    "مرحبا بالعالم", "اللغة العربية جميلة.", "السلام عليكم ورحمة الله", "١٢٣٤٥٦٧٨٩٠",
    # Hebrew
    "שלום עולם", "עברית נכתבת מימין לשמאל.", "תודה רבה",
    # Cyrillic
    "Привет, мир!", "Москва — столица России.", "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "Україна, Київ, їжак, ґанок", "Здравей свят", "ПРОПИСНЫЕ БУКВЫ",
    # Greek
    "Γειά σου Κόσμε", "Η γλώσσα είναι ελληνική.", "αβγδεζηθικλμνξοπρστυφχψω", "ΑΒΓΔΕΖΗΘ",
    # Devanagari & Indic
    "नमस्ते दुनिया", "हिन्दी भाषा बहुत सुंदर है।", "संस्कृतम्", "বাংলা ভাষা", "தமிழ் மொழி", "తెలుగు", "ಕನ್ನಡ", "മലയാളം", "ਪੰਜਾਬੀ", "ગુજરાતી",
    # Thai & SE Asian
    "สวัสดีชาวโลก", "ภาษาไทยไม่มีช่องว่างระหว่างคำ", "ລາວ", "ភាសាខ្មែរ", "မြန်မာဘာသာ",
    "Tiếng Việt có nhiều dấu thanh: à á ả ã ạ", "Xin chào thế giới",
    # Accented Latin & others
    "Café crème brûlée à la française", "naïve résumé coöperate façade", "Ångström Ørsted Æsir",
    "Straße Größe Fußgänger Übermaß", "¿Dónde está la biblioteca?", "¡Olá! Tudo bem? Ação, coração",
    "Zażółć gęślą jaźń", "Příliš žluťoučký kůň úpěl ďábelské ódy", "İstanbul'da ığdır şişli",
    "Þetta er íslenska", "Ελληνικά και English mixed", "Ça va? Très bien, merci!",
    "ქართული ენა", "Հայերեն լեզու", "አማርኛ", "ᐃᓄᒃᑎᑐᑦ", "ᚠᚢᚦᚨᚱᚲ", "ꦧꦱꦗꦮ",
    "Mixed: English 中文 日本語 한국어 العربية עברית русский",
]

EMOJI = [
    "😀", "😀😃😄😁", "I love pizza 🍕!", "🔥🔥🔥", "👍", "👍🏻👍🏼👍🏽👍🏾👍🏿",
    "👨‍👩‍👧‍👦", "👩‍💻", "🧑🏽‍🚀", "🏳️‍🌈", "🏴‍☠️", "❤️", "♥", "✔️✅❌", "⭐️🌟✨",
    "🇫🇷🇩🇪🇯🇵🇺🇸🇬🇧", "🇺🇳", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "1️⃣2️⃣3️⃣#️⃣*️⃣", "👋 Hello! 🌍",
    "Good morning ☀️, have a nice day 😊", "🤷‍♀️🤷‍♂️", "🙇🏻‍♂️", "👩🏾‍❤️‍💋‍👨🏻", "😂😂😂😂😂😂😂😂",
    "🎉 Congrats! 🎊🥳", "🐍 Python + 🦀 Rust = ❤️", "emoji at end 🚀", "🚀 emoji at start",
    "text😀text", "☕", "©®™", "↑↓←→↔", "∀x∈ℝ: x²≥0", "∑∫∂√∞≈≠≤≥", "♠♣♥♦", "★☆", "⌘⌥⇧⌃",
]

CODE = [
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
    "import numpy as np\nx = np.zeros((3, 4), dtype=np.float32)\nprint(x.shape)",
    "for i in range(10):\n\tprint(i)\n",
    "class Foo:\n    def __init__(self, x):\n        self.x = x\n\n    def __repr__(self):\n        return f\"Foo({self.x!r})\"\n",
    "if __name__ == \"__main__\":\n    main()\n",
    "func greet(_ name: String) -> String {\n    return \"Hello, \\(name)!\"\n}\n",
    "let xs: [Int] = [1, 2, 3].map { $0 * 2 }",
    "struct Point: Equatable { var x: Double; var y: Double }",
    "#include <stdio.h>\n\nint main(void) {\n\tprintf(\"Hello, world!\\n\");\n\treturn 0;\n}\n",
    "for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; }",
    "const add = (a, b) => a + b;\nconsole.log(add(2, 3));",
    "function foo() {\n  return { bar: 42, baz: [1, 2, 3] };\n}",
    "fn main() {\n    let v: Vec<u32> = (0..10).collect();\n    println!(\"{:?}\", v);\n}\n",
    "impl<T: Clone> Stack<T> { pub fn push(&mut self, x: T) { self.items.push(x); } }",
    "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hi\")\n}\n",
    "SELECT id, name FROM users WHERE age >= 18 ORDER BY name ASC LIMIT 10;",
    "#!/bin/bash\nset -euo pipefail\nfor f in *.txt; do\n  echo \"$f\"\ndone\n",
    "ls -la | grep '^d' | awk '{print $9}'",
    "<!DOCTYPE html>\n<html>\n  <body>\n    <p class=\"x\">Hi</p>\n  </body>\n</html>",
    "<div id=\"main\"><span>text</span></div>",
    ".container { display: flex; justify-content: center; }",
    "x = 1;y=2;z  =  3",
    "a==b && c!=d || e<=f >= g",
    "i++; j--; k += 1; l -= 2; m *= 3; n /= 4; o %= 5;",
    "arr[0][1] = {\"key\": [1, 2, {\"nested\": true}]}",
    "\tindented with tab",
    "\t\tdouble tab",
    "    four spaces",
    "        eight spaces",
    "                sixteen spaces",
    "if x:\n        deep\n\t\tmixed\n    \t  weird",
    "// single line comment\n/* block\n   comment */",
    "# Python comment\n\"\"\"docstring\"\"\"",
    "lambda x: x**2 + 2*x + 1",
    "0x1F 0b1010 0o777 1e-9 3.14f 42u 7L",
    "std::vector<std::string> v{\"a\", \"b\"};",
    "@objc dynamic var isEnabled: Bool = false",
    "try { await fetch(url) } catch (e) { console.error(e) }",
    "match x { Some(y) => y, None => 0 }",
    "public static void main(String[] args) { System.out.println(\"Hi\"); }",
    "print('hello')\nprint(\"world\")\r\nprint(`template`)",
]

NUMBERS = [
    "0", "1", "12", "123", "1234", "12345", "123456", "1234567", "12345678901234567890",
    "3.14159265358979323846", "2.718281828", "-42", "+7", "1,234,567", "1.234.567,89", "1 000 000",
    "$1,000.00", "€99.99", "£5", "¥10000", "100%", "50 % off", "1/2 3/4 7/8", "½ ¼ ¾",
    "+1 (555) 123-4567", "555-0100", "+44 20 7946 0958", "2024-01-15", "15/01/2024", "01.15.2024",
    "12:30:45", "2024-01-15T12:30:45Z", "2024-01-15T12:30:45.123+05:30", "v1.2.3", "1.2.3-beta.4+build.5",
    "192.168.0.1", "::1", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "1e10", "6.022e23", "1.6e-19",
    "000000", "007", "9999999999999999999999999999999999999999", "3.0", "0.5", ".5", "5.",
    "Room 101, Floor 3", "ISBN 978-3-16-148410-0", "Call 911 now", "Year 1999 and 2000",
    "٣٤٥", "१२३४", "一百二十三", "Ⅻ ⅻ", "①②③", "𝟘𝟙𝟚𝟛",
]

WHITESPACE = [
    "", " ", "  ", "   ", "    ", "          ", "\n", "\n\n", "\n\n\n", "\n\n\n\n\n\n\n\n",
    "\t", "\t\t", "\r\n", "\r\n\r\n", "\r", " \n", "\n ", " \n ", "\t\n", "\n\t",
    " \t \n \r\n ", "a\nb", "a\n\nb", "a\r\nb", "a\tb", "a  b", "a   b", "a    b",
    "  leading spaces", "trailing spaces  ", "  both sides  ", "\nleading newline", "trailing newline\n",
    "line1\nline2\nline3", "line1\r\nline2\r\nline3\r\n", "para one\n\npara two\n\n\npara three",
    "tab\tseparated\tvalues", "col1\tcol2\n1\t2\n3\t4", "spaces    in    between", "a \n b \n c",
    "end with spaces and newline   \n", "\n\n  indented after blank\n", "mixed \t\r\n whitespace \t ",
    "\u00a0", "a\u00a0b", "non\u00a0breaking\u00a0space", "thin\u2009space", "ideographic\u3000space",
    "\u3000\u3000", "em\u2003space en\u2002space", "zero\u200bwidth", "line\u2028separator", "para\u2029separator",
    "\u202f narrow nbsp", "\u205fmath space", "\u180emongolian", "\ufeffBOM at start", "tab\u000bvtab\u000cff",
]

CONTRACTIONS = [
    "It's", "it's", "IT'S", "It'S", "don't", "DON'T", "Don'T", "they're", "THEY'RE", "we've", "WE'VE",
    "I'm", "I'M", "you'll", "YOU'LL", "he'd", "HE'D", "can't won't shouldn't", "y'all'd've",
    "rock 'n' roll", "'tis the season", "the '90s", "John's book", "James' car", "o'clock",
    "It’s a unicode apostrophe", "don’t", "they’re", "I’m", "we’ve", "you’ll", "she’d",
    "It‘s reversed", "It`s backtick", "It´s acute", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d",
    "'S", "'T", "'RE", "'VE", "'M", "'LL", "'D", "''", "'''", "'", "'hello'", "\"'\"",
    "I'd've", "ma'am", "ne'er-do-well", "l'homme d'affaires", "Ma'a salama", "O'Neill's",
    "x's y't z're", "123's", "it''s", " 's", "  've", "\n'll",
]

PUNCT = [
    "!!!", "???", "...", "?!?!", "!?", "---", "___", "***", "###", "===", "~~~", "```", "<<<>>>", "(((", ")))",
    "...!!!???", "—", "–", "―", "…", "«guillemets»", "„German quotes“", "「Japanese quotes」", "『double』",
    "【brackets】", "《book》", "、。，！？；：", "¡¿", "§¶†‡•", "@#$%^&*()", "[]{}<>", "\\//\\//", "|||", "^_^",
    ":-) ;-) :-D :P", "<3", "-_-", "o_O", "¯\\_(ツ)_/¯", "(╯°□°）╯︵ ┻━┻", "=>", "->", "<-", "<=>", "::", ";;",
    "a.b.c", "a,b,c", "a;b;c", "a:b:c", "a-b-c", "a_b_c", "a/b/c", "a\\b\\c", "a|b|c", "a+b=c", "a*b^c",
    "Hello!!! How are you???", "Really?!?!?!", "Wait... what...", "end.", ".start", ",comma", "!bang",
]

URLS_JSON_MD = [
    "https://www.example.com/path/to/page?query=1&other=two#fragment",
    "http://localhost:8080/api/v1/users/42",
    "ftp://files.example.org/pub/file.tar.gz",
    "www.github.com/huggingface/transformers",
    "user.name+tag@example.co.uk",
    "mailto:someone@example.com",
    "/usr/local/bin/python3",
    "C:\\Users\\Admin\\Documents\\file.txt",
    "~/.cache/tern/models/SmolLM2-135M-Instruct.Q4_1.gguf",
    "../relative/path/./file.md",
    "https://en.wikipedia.org/wiki/Byte_pair_encoding",
    "data:text/plain;base64,SGVsbG8gV29ybGQ=",
    "{\"name\": \"Tern\", \"version\": 1, \"tags\": [\"llm\", \"swift\"], \"ok\": true, \"none\": null}",
    "{\"a\":{\"b\":{\"c\":[1,2,3]}}}",
    "[1, 2.5, -3e4, \"x\", false]",
    "{\n  \"key\": \"value\",\n  \"list\": [\n    1,\n    2\n  ]\n}",
    "{\"unicode\": \"\\u00e9\\u4e2d\", \"escaped\": \"line\\nbreak\"}",
    "# Heading 1\n## Heading 2\n### Heading 3",
    "- item one\n- item two\n  - nested item\n* star item",
    "1. first\n2. second\n3. third",
    "**bold** and *italic* and ~~strike~~ and `code`",
    "[link text](https://example.com) and ![image](img.png)",
    "> blockquote line one\n> blockquote line two",
    "```python\nprint('hi')\n```",
    "| col a | col b |\n|-------|-------|\n| 1     | 2     |",
    "---\ntitle: Front matter\ntags: [a, b]\n---",
    "<br/> &amp; &lt; &gt; &quot; &#39; &nbsp;",
    "key1=value1&key2=value2",
    "name: tern\nversion: 0.1.0\ndependencies:\n  - swift\n",
    "[section]\nkey = \"value\"\nnumber = 42",
    "$ pip install llama-cpp-python==0.3.36",
    "LaTeX: $E = mc^2$ and $$\\int_0^\\infty e^{-x^2} dx = \\frac{\\sqrt{\\pi}}{2}$$",
]

SPECIAL = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<repo_name>", "<reponame>", "<file_sep>", "<filename>",
    "<gh_stars>", "<issue_start>", "<issue_comment>", "<issue_closed>", "<jupyter_start>", "<jupyter_text>",
    "<jupyter_code>", "<jupyter_output>", "<jupyter_script>", "<empty_output>",
    "<|im_start|>user\nhi<|im_end|>",
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|>assistant\n4<|im_end|>\n",
    "Hello<|endoftext|>World", "text <|endoftext|> text", "<|endoftext|><|endoftext|>",
    "<|im_start|><|im_end|>", " <|im_start|> ", "\n<|im_end|>\n", "<file_sep>main.py\nprint(1)",
    "<reponame>huggingface/smollm<file_sep>README.md\n# SmolLM",
    "<jupyter_code>x = 1<jupyter_output>1<empty_output>",
    "<|im_sta", "<|im_end", "<|im_end|", "|im_end|>", "<|endoftext", "<|endof", "<|", "|>", "<>", "<||>",
    "<|im_start >", "< |im_start|>", "<|IM_START|>", "<|im_start|x", "<<|im_start|>>", "<|im_start|><|im_sta",
    "<file_sep", "file_sep>", "<filesep>", "<s>", "</s>", "<unk>", "<pad>", "[INST]", "<|user|>", "<|assistant|>",
    "im_start", "endoftext", "<|im_start|>user\n<|im_start|>", "a<|im_end|>b<|im_start|>c",
]

EDGE = [
    "𝐇𝐞𝐥𝐥𝐨 𝕎𝕠𝕣𝕝𝕕", "𝒜𝒷𝒸", "𓀀𓀁𓀂", "𠀀𠀁𠀂", "𝄞 music", "𐍈 gothic", "🀄🃏", "\U0010fffd",
    "e\u0301", "é", "a\u0300\u0301\u0302\u0303", "Z\u0351\u0352\u0353a\u0354\u0355l\u0356\u0357g\u0358o",
    "n\u0303o", "\u0915\u094d\u0937", "\u05e9\u05c1\u05b8", "\u0627\u064e", "ﬁ ﬂ ﬀ", "Å Å", "Ω Ω", "K K",
    "\u200d", "\u200c", "a\u200db", "\ufe0f", "\u00ad soft hyphen", "\u2060word joiner",
    "\u202eRTL override\u202c", "\u200fRLM", "\x01\x02\x03", "\x7f", "\x1b[31mred\x1b[0m", "a\x00b",
    "\u0085next line", "ÿ", "\u00ff\u00fe", "Ā", "ſ", "ǅ", "ẞ", "ß", "İ", "ı", "µ", "\u0000",
]


# --------------------------------------------------------------------------
# Random mixtures
# --------------------------------------------------------------------------

POOLS = {
    "ascii_lower": "abcdefghijklmnopqrstuvwxyz",
    "ascii_upper": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "digits": "0123456789",
    "punct": "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    "space": "    \t\n\r",
    "latin_ext": "àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿœšžłđćčęąőűğış",
    "greek": "αβγδεζηθικλμνξοπρστυφχψωΑΒΓΔΩ",
    "cyrillic": "абвгдежзийклмнопрстуфхцчшщъыьэюяАБВГДЯЁё",
    "cjk": "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年",
    "kana": "あいうえおかきくけこアイウエオカキクケコンー",
    "hangul": "가나다라마바사아자차카타파하한국어",
    "arabic": "ابتثجحخدذرزسشصضطظعغفقكلمنهوي",
    "devanagari": "अआइईउऊकखगघचछजझटठडढणतथदधनपफबभमयरलवशषसह्ािीुू",
    "thai": "กขคงจฉชซญดตถทธนบปผพฟภมยรลวศษสหอฮะาิีึืุู",
    "emoji": "😀😂🥲😍🤔👍🔥🎉🚀🌍❤✨🍕🐍🦀",
    "modifiers": "\u0301\u0308\u200d\ufe0f\U0001f3fb\U0001f3fd",
    "unicode_space": "\u00a0\u2009\u3000\u2003\u200b",
    "special_bits": "<|>_",
}

SPECIAL_SNIPPETS = ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<file_sep>", "<|im_sta", "'s", "'ll", "’re"]


def random_mixtures(rng: random.Random, count: int) -> list[str]:
    names = sorted(POOLS)
    out = []
    for _ in range(count):
        k = rng.randint(1, 4)
        chosen = [names[rng.randrange(len(names))] for _ in range(k)]
        length = rng.randint(1, 48)
        chars = []
        for _ in range(length):
            pool = POOLS[chosen[rng.randrange(len(chosen))]]
            chars.append(pool[rng.randrange(len(pool))])
            if rng.random() < 0.03:
                chars.append(SPECIAL_SNIPPETS[rng.randrange(len(SPECIAL_SNIPPETS))])
        out.append("".join(chars))
    return out


def random_word_salad(rng: random.Random, words: list[str], count: int) -> list[str]:
    seps = [" ", " ", " ", "  ", "\n", "\t", ", ", ". ", "\n\n", " - ", "", "   "]
    out = []
    for _ in range(count):
        n = rng.randint(2, 14)
        parts = []
        for i in range(n):
            parts.append(words[rng.randrange(len(words))])
            if i + 1 < n:
                parts.append(seps[rng.randrange(len(seps))])
        out.append("".join(parts))
    return out


def build_corpus() -> list[str]:
    base_groups = [PROSE, QUESTIONS, SCRIPTS, EMOJI, CODE, NUMBERS, WHITESPACE, CONTRACTIONS,
                   PUNCT, URLS_JSON_MD, SPECIAL, EDGE]
    corpus: list[str] = []
    for g in base_groups:
        corpus.extend(g)

    # Systematic variants of the short single-line samples.
    single = [s for g in (PROSE, QUESTIONS, SCRIPTS, EMOJI, NUMBERS, CONTRACTIONS, PUNCT)
              for s in g if s and "\n" not in s]
    for s in single:
        corpus.append(" " + s)
    for s in single[::2]:
        corpus.append(s + " ")
    for s in single[::3]:
        corpus.append("\n" + s + "\n")
    for s in single[1::4]:
        corpus.append(s.upper() if s.upper() != s else s.lower())
    for s in single[::5]:
        corpus.append("  " + s + "\t")
    # Pairs joined by various separators (multi-line mixtures).
    rng = random.Random(SEED)
    joins = ["\n", "\n\n", "\r\n", " ", "\t", "  \n", ""]
    for _ in range(120):
        a = single[rng.randrange(len(single))]
        b = single[rng.randrange(len(single))]
        corpus.append(a + joins[rng.randrange(len(joins))] + b)
    # Special tokens embedded in ordinary text.
    for _ in range(60):
        a = single[rng.randrange(len(single))]
        sp = SPECIAL[rng.randrange(len(SPECIAL))]
        b = single[rng.randrange(len(single))]
        corpus.append(a + sp + b)
    # Digit runs of every length 1..40 and spaces/newlines runs.
    for n in range(1, 41):
        corpus.append("".join(str((i * 7 + 3) % 10) for i in range(n)))
    for n in range(1, 17):
        corpus.append("x" + " " * n + "y")
        corpus.append("x" + "\n" * n + "y")
        corpus.append(" " * n + "z")
    # Random word salads and random character mixtures.
    words = [w for s in PROSE + QUESTIONS + SCRIPTS + CONTRACTIONS + NUMBERS for w in s.split() if w]
    corpus.extend(random_word_salad(rng, words, 150))
    corpus.extend(random_mixtures(rng, 350))
    # A couple of long texts.
    corpus.append(" ".join(PROSE[:20]))
    corpus.append("\n".join(CODE[:6]))
    corpus.append("".join(SCRIPTS[:12]))

    # Deduplicate while keeping order.
    seen = set()
    unique = []
    for s in corpus:
        if s not in seen:
            seen.add(s)
            unique.append(s)
    return unique


def main() -> None:
    args = parse_model_args(__doc__, "Tests/Fixtures/tokenizer/corpus.json")

    import llama_cpp

    corpus = build_corpus()
    llm = llama_cpp.Llama(model_path=args.model, vocab_only=True, verbose=False)
    lines = []
    n_detok_diff = 0
    n_special_diff = 0
    for text in corpus:
        raw = text.encode("utf-8")
        ids = llm.tokenize(raw, add_bos=False, special=True)
        ids_plain = llm.tokenize(raw, add_bos=False, special=False)
        if text:
            assert ids and ids_plain, repr(text)
        else:
            assert not ids and not ids_plain
        entry = {"text": text, "ids": list(ids), "ids_plain": list(ids_plain)}
        detok = llm.detokenize(ids_plain).decode("utf-8", errors="replace")
        if detok != text:
            entry["detok"] = detok
            n_detok_diff += 1
        if ids != ids_plain:
            n_special_diff += 1
        lines.append(entry)

    doc = {
        "generator": "scripts/reference/make_tokenizer_corpus.py",
        "llama_cpp_python": llama_cpp.__version__,
        "python_version": sys.version.split()[0],
        "model": MODEL_FILE,
        "model_sha256": sha256_file(args.model),
        "seed": SEED,
        "tokenize": "llm.tokenize(text.encode('utf-8'), add_bos=False, special=True|False) "
                    "with llama_cpp.Llama(model, vocab_only=True)",
        "lines": lines,
    }
    write_json(args.out, doc, "lines")
    print(f"wrote {args.out}: {len(lines)} strings, {n_special_diff} differ special vs plain, "
          f"{n_detok_diff} with detok != text")


if __name__ == "__main__":
    main()
