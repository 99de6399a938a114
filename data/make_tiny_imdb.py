"""Generate a tiny synthetic sentiment dataset in the aclImdb folder layout.

The fixture is meant for unit tests and quick smoke runs of
``fnet_classification.py``: it has the same directory structure and file
naming as the real Large Movie Review Dataset (``train/pos``, ``train/neg``,
``test/pos``, ``test/neg`` holding ``{index}_{rating}.txt`` files), but it is
small enough to load in a fraction of a second.

Every review is assembled from the templates and word lists in this script.
It contains no IMDb text. Positive reviews mostly use positive sentiment words
and negative reviews mostly negative ones, embedded in neutral movie
vocabulary shared by both classes, with some noise (opposite-polarity words,
negated opposites such as "not boring at all") so the signal is learnable but
not trivially separable by a single word (about 12% of the sentiment words in
the fixture are of the opposite polarity, but in every review the words of its
own polarity outnumber them). Reviews use mixed case, punctuation
and occasional ``<br /><br />`` line breaks like real IMDb reviews, and exactly
one ``train/pos`` and one ``test/neg`` review contain non-ASCII characters.

The output is deterministic for a given seed and number of reviews per folder.
It is written to a temporary folder next to the target and then renamed into
place, so an interrupted run never leaves a half-written fixture behind.

Usage::

    python data/make_tiny_imdb.py
    python data/make_tiny_imdb.py --output-dir /tmp/tiny_imdb --per-folder 20
"""

import argparse
import os
import random
import re
import shutil
import tempfile

DEFAULT_SEED = 1337
DEFAULT_PER_FOLDER = 50
DEFAULT_OUTPUT_DIR = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "tiny_imdb"
)

SPLITS = ("train", "test")
LABELS = ("pos", "neg")

# Probability that a sentiment slot is filled from the opposite word list.
OPPOSITE_WORD_RATE = 0.12
# Probability that a sentence is a negated opposite ("not boring at all").
NEGATION_RATE = 0.10
# Probability that two sentences are separated by an IMDb-style line break.
LINE_BREAK_RATE = 0.15
MIN_WORDS = 15
MAX_WORDS = 60

POSITIVE_WORDS = [
    "wonderful",
    "brilliant",
    "moving",
    "superb",
    "delightful",
    "excellent",
    "beautiful",
    "charming",
    "gripping",
    "masterful",
    "touching",
    "fantastic",
    "stunning",
    "memorable",
    "heartfelt",
]

NEGATIVE_WORDS = [
    "awful",
    "boring",
    "dull",
    "terrible",
    "clumsy",
    "tedious",
    "dreadful",
    "lifeless",
    "predictable",
    "forgettable",
    "painful",
    "horrible",
    "pointless",
    "bland",
    "messy",
]

POSITIVE_SET = frozenset(POSITIVE_WORDS)
NEGATIVE_SET = frozenset(NEGATIVE_WORDS)

POSITIVE_VERDICTS = [
    "I loved it",
    "highly recommended",
    "a real treat",
    "worth every minute",
    "I would watch it again",
    "a must see",
]

NEGATIVE_VERDICTS = [
    "I hated it",
    "avoid this one",
    "a total waste of time",
    "I want those two hours back",
    "I nearly walked out",
    "skip it",
]

NOUNS = [
    "plot",
    "acting",
    "director",
    "script",
    "soundtrack",
    "cinematography",
    "ending",
    "dialogue",
    "cast",
    "pacing",
    "story",
    "editing",
    "lead actress",
    "lead actor",
    "score",
    "screenplay",
    "final act",
    "opening scene",
    "camera work",
    "villain",
]

PLURAL_NOUNS = [
    "actors",
    "scenes",
    "characters",
    "performances",
    "special effects",
    "action sequences",
    "costumes",
    "jokes",
    "flashbacks",
    "supporting roles",
]

FILMS = ["movie", "film", "picture", "flick", "sequel", "drama", "comedy", "thriller"]

INTENSIFIERS = ["", "", "", "really ", "truly ", "very ", "quite ", "so ", "simply "]

OPENERS = [
    "",
    "",
    "",
    "Honestly, ",
    "Well, ",
    "To be fair, ",
    "In my opinion, ",
    "Overall, ",
    "Frankly, ",
]

CONTEXTS = [
    "I watched this {film} last weekend with my family.",
    "I saw this {film} at a late screening.",
    "My friend recommended this {film} to me.",
    "I rented this {film} on a rainy Sunday.",
    "This {film} came out a few years ago.",
    "I went in knowing nothing about this {film}.",
    "The trailer for this {film} caught my eye.",
]

# Sentence templates. {adj}/{adj2} are sentiment slots, {neg_adj} is a
# negated opposite-polarity slot, {verdict} is a polarity-matching verdict.
SENTENCES = [
    "This {film} was {int}{adj}.",
    "The {noun} was {int}{adj}.",
    "The {plural} were {int}{adj}.",
    "The {noun} was {adj} and the {plural} were {adj2}.",
    "What a {adj} {film}.",
    "I found the {noun} {int}{adj}, and the {noun2} was {adj2} too.",
    "The {noun} is {adj}, {verdict}.",
    "The {plural} felt {int}{adj} from start to finish.",
    "It is a {adj} {film} with a {adj2} {noun}.",
    "{verdict}, the {noun} alone is {adj}.",
    "From the {noun} to the {plural}, everything was {adj}.",
    "The {noun} made the whole {film} {int}{adj}.",
]

NEGATED_SENTENCES = [
    "The {noun} was not {neg_adj} at all.",
    "It was never {neg_adj}, not even for a minute.",
    "The {plural} were not {neg_adj} in the slightest.",
    "Nothing about the {noun} felt {neg_adj}.",
]

# The only non-ASCII text in the fixture: one sentence per class, used once.
UNICODE_SENTENCES = {
    "pos": "It has an Am\u00e9lie-like charm that never feels na\u00efve \u2014 a caf\u00e9 "
    "full of delightful moments.",
    "neg": "The na\u00efve script reaches for Am\u00e9lie-like charm and misses \u2014 "
    "the clich\u00e9s are tedious.",
}
UNICODE_SLOTS = {("train", "pos"), ("test", "neg")}

README_TEXT = """\
tiny_imdb: a tiny SYNTHETIC sentiment dataset in the aclImdb folder layout.

It is generated by data/make_tiny_imdb.py from templates and word lists in
that script; it contains no IMDb text. It exists for unit tests and smoke runs
of fnet_classification.py.

Layout: {{train,test}}/{{pos,neg}}/{{index}}_{{rating}}.txt, {per_folder} reviews
per folder (ratings 7-10 for pos, 1-4 for neg), generated with seed {seed}.

To regenerate (output is byte-identical for the same options):

    python data/make_tiny_imdb.py

Run `python data/make_tiny_imdb.py --help` for the available options.
"""


def style_word(rng, word):
    """Randomly shout or capitalise a word, as real reviewers do."""
    roll = rng.random()
    if roll < 0.12:
        return word.upper()
    if roll < 0.22:
        return word.capitalize()
    return word


def sentiment_word(rng, label):
    """Pick a sentiment word, occasionally from the opposite polarity."""
    own, other = (
        (POSITIVE_WORDS, NEGATIVE_WORDS)
        if label == "pos"
        else (NEGATIVE_WORDS, POSITIVE_WORDS)
    )
    pool = other if rng.random() < OPPOSITE_WORD_RATE else own
    return style_word(rng, rng.choice(pool))


def make_sentence(rng, label):
    """Build one sentence carrying the sentiment of ``label``."""
    opposite = NEGATIVE_WORDS if label == "pos" else POSITIVE_WORDS
    verdicts = POSITIVE_VERDICTS if label == "pos" else NEGATIVE_VERDICTS
    if rng.random() < NEGATION_RATE:
        template = rng.choice(NEGATED_SENTENCES)
    else:
        template = rng.choice(SENTENCES)
    noun, noun2 = rng.sample(NOUNS, 2)
    sentence = template.format(
        film=style_word(rng, rng.choice(FILMS)),
        noun=style_word(rng, noun),
        noun2=noun2,
        plural=rng.choice(PLURAL_NOUNS),
        int=rng.choice(INTENSIFIERS),
        adj=sentiment_word(rng, label),
        adj2=sentiment_word(rng, label),
        neg_adj=style_word(rng, rng.choice(opposite)),
        verdict=rng.choice(verdicts),
    )
    # Fix the article in front of a vowel ("a excellent" -> "an excellent").
    sentence = re.sub(r"\b([Aa]) (?=[AEIOUaeiou])", r"\1n ", sentence)
    opener = rng.choice(OPENERS)
    if opener and not sentence.startswith("I "):
        sentence = sentence[0].lower() + sentence[1:]
    sentence = opener + sentence
    sentence = sentence[0].upper() + sentence[1:]
    if sentence.endswith(".") and rng.random() < 0.15:
        sentence = sentence[:-1] + rng.choice(["!", "!!", "..."])
    return sentence


def polarity_counts(text):
    """Count positive and negative sentiment words in ``text``."""
    words = re.findall(r"[a-z]+", text.lower())
    n_pos = sum(word in POSITIVE_SET for word in words)
    n_neg = sum(word in NEGATIVE_SET for word in words)
    return n_pos, n_neg


def make_review(rng, label, extra_sentence=None):
    """Build a review of 1-4 sentences with MIN_WORDS..MAX_WORDS words."""
    while True:
        n_sentences = rng.randint(1, 4)
        sentences = []
        if rng.random() < 0.3:
            film = rng.choice(FILMS)
            sentences.append(rng.choice(CONTEXTS).format(film=film))
        while len(sentences) < n_sentences:
            sentences.append(make_sentence(rng, label))
        if extra_sentence is not None:
            sentences[rng.randrange(len(sentences))] = extra_sentence
        text = sentences[0]
        for sentence in sentences[1:]:
            sep = "<br /><br />" if rng.random() < LINE_BREAK_RATE else " "
            text += sep + sentence
        n_words = len(text.replace("<br /><br />", " ").split())
        if not MIN_WORDS <= n_words <= MAX_WORDS:
            continue
        # Keep the review's overall polarity: own-polarity sentiment words
        # (as written, ignoring negation) must outnumber opposite ones.
        n_pos, n_neg = polarity_counts(text)
        n_own, n_other = (n_pos, n_neg) if label == "pos" else (n_neg, n_pos)
        if n_own > n_other:
            return text


def generate(per_folder, seed):
    """Return {(split, label): [(filename, text), ...]} for the whole fixture."""
    rng = random.Random(seed)
    seen = set()
    data = {}
    for split in SPLITS:
        for label in LABELS:
            unicode_index = (
                rng.randrange(per_folder) if (split, label) in UNICODE_SLOTS else -1
            )
            reviews = []
            for index in range(per_folder):
                extra = UNICODE_SENTENCES[label] if index == unicode_index else None
                text = make_review(rng, label, extra)
                # Redraw duplicates so no review appears twice (within or
                # across splits).
                while text in seen:
                    text = make_review(rng, label, extra)
                seen.add(text)
                rating = rng.randint(7, 10) if label == "pos" else rng.randint(1, 4)
                reviews.append((f"{index}_{rating}.txt", text))
            data[(split, label)] = reviews
    return data


def write_fixture(output_dir, per_folder, seed):
    """Generate the fixture and atomically move it into ``output_dir``."""
    output_dir = os.path.abspath(output_dir)
    parent = os.path.dirname(output_dir)
    os.makedirs(parent, exist_ok=True)
    data = generate(per_folder, seed)
    base = os.path.basename(output_dir)
    tmp_dir = tempfile.mkdtemp(prefix=f".{base}.tmp-", dir=parent)
    old_dir = None
    try:
        for (split, label), reviews in data.items():
            folder = os.path.join(tmp_dir, split, label)
            os.makedirs(folder)
            for filename, text in reviews:
                path = os.path.join(folder, filename)
                with open(path, "w", encoding="utf-8", newline="") as f:
                    f.write(text)
        with open(
            os.path.join(tmp_dir, "README"), "w", encoding="utf-8", newline=""
        ) as f:
            f.write(README_TEXT.format(per_folder=per_folder, seed=seed))
        # mkdtemp creates the folder as 0o700; use ordinary permissions.
        os.chmod(tmp_dir, 0o755)
        if os.path.exists(output_dir):
            old_dir = tempfile.mkdtemp(prefix=f".{base}.old-", dir=parent)
            os.rmdir(old_dir)
            os.rename(output_dir, old_dir)
        os.rename(tmp_dir, output_dir)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        if old_dir is not None and not os.path.exists(output_dir):
            os.rename(old_dir, output_dir)
        raise
    if old_dir is not None:
        shutil.rmtree(old_dir, ignore_errors=True)


def positive_int(value):
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return number


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=(
            "Generate a tiny synthetic IMDb-like sentiment dataset "
            "({train,test}/{pos,neg}/{index}_{rating}.txt) for tests and smoke "
            "runs of fnet_classification.py. Contains no IMDb text. Output is "
            "deterministic for a given seed and size."
        )
    )
    parser.add_argument(
        "--output-dir",
        default=DEFAULT_OUTPUT_DIR,
        help="folder to create or replace (default: tiny_imdb beside this script)",
    )
    parser.add_argument(
        "--per-folder",
        type=positive_int,
        default=DEFAULT_PER_FOLDER,
        metavar="N",
        help=f"reviews per split/label folder (default: {DEFAULT_PER_FOLDER})",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help=f"random seed (default: {DEFAULT_SEED})",
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    write_fixture(args.output_dir, args.per_folder, args.seed)
    total = args.per_folder * len(SPLITS) * len(LABELS)
    print(f"Wrote {total} reviews to {os.path.abspath(args.output_dir)}")


if __name__ == "__main__":
    main()
