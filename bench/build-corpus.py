#!/usr/bin/env python3
# Builds bench/corpus-vi.txt, the word stream tram-loadgen's `--text varied` draws report text
# from: the words of the programme itself (UBND Sơn La 2045/CTr-UBND, ../shared/seed/), so the
# benchmark's text has the vocabulary, diacritics and word frequencies officials' reports have,
# instead of three repeated sentences that gzip squeezes 13x.
# One line per paragraph of the programme, words separated by single spaces, NFC-normalized
# (the engine rejects text that is not NFC), digits-only tokens and punctuation kept attached as
# the text has them. Usage: bench/build-corpus.py [SEED_TEXT] > bench/corpus-vi.txt
import glob, os, re, sys, unicodedata

here = os.path.dirname(os.path.abspath(__file__))
default = sorted(glob.glob(os.path.join(here, "..", "..", "shared", "seed", "*.txt")))
path = sys.argv[1] if len(sys.argv) > 1 else (default[0] if default else None)
if not path:
    sys.exit("build-corpus: give the programme's text (../shared/seed/*.txt)")
text = unicodedata.normalize("NFC", open(path, encoding="utf-8").read())
out = []
for para in text.splitlines():
    words = [w for w in re.split(r"\s+", para.strip()) if w]
    # Headings and numbering alone ("Số:", "I.", "1.1") are not report text.
    if len(words) >= 4:
        out.append(" ".join(words))
sys.stdout.write("\n".join(out) + "\n")
