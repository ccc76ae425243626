"""Bad input at every boundary: each case names the entry point, the input, the exact error
class and what the message must name (the file and line, the field, the rule broken, the fix).
docs/bad-input.md lists the cases by entry point and outcome."""

import contextlib

import numpy as np
import pytest

from pixlm.data import readers


def _conllu(*sentences: list[tuple]) -> str:
    """CoNLL-U text from (id, form, head) rows per sentence."""
    out = []
    for rows in sentences:
        out += [f"{i}\t{form}\t_\tX\t_\t_\t{head}\tdep\t_\t_" for i, form, head in rows] + [""]
    return "\n".join(out) + "\n"


GOOD = [(1, "a", 2), (2, "b", 0)]

READER_CASES = [
    # (case, reader, file name, content (str or bytes), error class, message pattern)
    ("conllu cycle", readers.read_conllu, "x.conllu", _conllu([(1, "a", 2), (2, "b", 3), (3, "c", 2), (4, "d", 0)]),
     ValueError, r"x.conllu:1: sentence: the heads of words \[2, 3\] form a cycle"),
    ("conllu two roots", readers.read_conllu, "x.conllu", _conllu(GOOD, [(1, "a", 0), (2, "b", 0)]),
     ValueError, r"x.conllu:4: sentence: 2 words have HEAD 0 \(\[1, 2\]\); a tree has exactly one root"),
    ("conllu own head", readers.read_conllu, "x.conllu", _conllu([(1, "a", 1), (2, "b", 0)]),
     ValueError, r"word 1 is its own head"),
    ("conllu negative id", readers.read_conllu, "x.conllu", "-2\ta\t_\tX\t_\t_\t0\troot\t_\t_\n\n",
     ValueError, r"x.conllu:1: ID must be a word number .* got '-2'"),
    ("conllu letter range", readers.read_conllu, "x.conllu", "a-b\tab\t_\t_\t_\t_\t_\t_\t_\t_\n1\ta\t_\tX\t_\t_\t0\troot\t_\t_\n\n",
     ValueError, r"x.conllu:1: ID must be .* got 'a-b'"),
    ("conllu some heads missing", readers.read_conllu, "x.conllu", _conllu([(1, "a", "_"), (2, "b", 0)]),
     ValueError, r"word 1 has HEAD _ while other words have heads"),
    ("conllu head beyond", readers.read_conllu, "x.conllu", _conllu([(1, "a", 5), (2, "b", 0)]),
     ValueError, r"word 1 has HEAD 5 beyond its 2 words"),
    ("conllu not utf-8", readers.read_conllu, "x.conllu", "1\tcaf\xe9\t_\tX\t_\t_\t0\troot\t_\t_\n\n".encode("latin-1"),
     ValueError, r"x.conllu:1:6: not UTF-8 \(byte 0xe9\); convert the file to UTF-8"),
    ("glue tab inside a sentence", lambda p: readers.read_glue("SST-2", p), "dev.tsv", "sentence\tlabel\ngood\tfilm\t1\n",
     ValueError, r"dev.tsv:2: 3 tab-separated columns where the header has 2 \(a tab inside a text\?\)"),
    ("glue label not of the task", lambda p: readers.read_glue("SST-2", p), "dev.tsv", "sentence\tlabel\ngood film\tpositive\n",
     ValueError, r"dev.tsv:2: SST-2's label must be one of 0, 1, got 'positive'"),
    ("sts-b score not a number", lambda p: readers.read_glue("STS-B", p), "dev.tsv",
     "sentence1\tsentence2\tscore\na\tb\thigh\n", ValueError, r"dev.tsv:2: STS-B's score must be a number, got 'high'"),
    ("squad duplicate ids", readers.read_squad, "x.json",
     '{"data": [{"paragraphs": [{"context": "a b", "qas": [{"id": "q", "question": "?", "answers": []},'
     ' {"id": "q", "question": "?", "answers": []}]}]}]}', ValueError, r"question id 'q' appears more than once"),
    ("squad no context", readers.read_squad, "x.json", '{"data": [{"paragraphs": [{"qas": []}]}]}',
     ValueError, r"article 0, paragraph 0 has no context text"),
    ("squad answer elsewhere", readers.read_squad, "x.json",
     '{"data": [{"paragraphs": [{"context": "a b", "qas": [{"id": "q", "question": "?", '
     '"answers": [{"text": "b", "answer_start": 0}]}]}]}]}', ValueError, r"question q: answer 'b' is not at 0 in its context"),
    ("jsonl row not an object", lambda p: readers.read_table(p, ["text", "label"]), "x.jsonl",
     '{"text": "a", "label": 1}\n[1, 2]\n', ValueError, r"x.jsonl:2: expected a JSON object per line, got list"),
    ("jsonl value missing", lambda p: readers.read_table(p, ["text", "label"]), "x.jsonl",
     '{"text": "a", "label": 1}\n{"text": "b"}\n', ValueError, r"x.jsonl: row 2 has no value in column\(s\) \['label'\]"),
    ("conll ner bad tag", lambda p: readers.read_conll_ner(p), "x.txt", "Paris LOC\n\n",
     ValueError, r"x.txt:1: tag 'LOC' is not O, B-TYPE or I-TYPE"),
    ("text file not utf-8", lambda p: __import__("pixlm.render.export", fromlist=["x"]).read_lines(p), "x.txt",
     b"fine\ncaf\xe9\n", ValueError, r"x.txt:2:4: not UTF-8"),
]


@pytest.mark.parametrize("case,reader,name,content,error,message", READER_CASES, ids=[c[0] for c in READER_CASES])
def test_readers_refuse_bad_files_naming_the_place_and_the_rule(tmp_path, case, reader, name, content, error, message):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(error, match=message):
        reader(str(path))


def test_iob2_entities_starting_with_i_are_read_as_b_with_a_warning(tmp_path, caplog):
    """Real IOB2 data is sometimes a bit off (MasakhaNER's Yorùbá files have one such tag): warn
    and count, and read it as conlleval does."""
    path = tmp_path / "x.txt"
    path.write_text("in O\nParis I-LOC\n\n", encoding="utf-8")
    with caplog.at_level("WARNING", logger="pixlm"):
        assert readers.read_conll_ner(str(path)) == [(["in", "Paris"], ["O", "B-LOC"])]
    assert "1 entities start with I-" in caplog.text and "--ner-scheme IOB1" in caplog.text


CLI_CASES = [
    # (case, argv, exit code, stderr pattern)
    ("render scale 0", ["render", "x", "--scale", "0"], 2, r"argument --scale: must be a positive integer, got '0'"),
    ("render wrap 0", ["render", "x", "--wrap", "0"], 2, r"argument --wrap: must be a positive integer"),
    ("render limit 0", ["render", "--input", "x.txt", "--limit", "0"], 2, r"argument --limit: must be a positive integer"),
    ("render font size nan", ["render", "x", "--font-size", "nan"], 2, r"argument --font-size: must be a positive number"),
    ("render jpg", ["render", "x", "-o", "x.jpg"], 2, r"-o x.jpg: one text is written as a PNG; give a name ending in .png"),
    ("reconstruct jpg", ["reconstruct", "x", "--model", "m", "-o", "x.jpg"], 2, r"must name a .png file"),
    ("attack severity 5", ["attack", "--attack", "truncate", "--severity", "5", "--input", "a", "--output", "b"], 2,
     r"argument --severity: must be a number from 0 to 1, got '5'"),
    ("finetune task typo", ["finetune", "--task", "nre", "--model", "tiny", "--train", "a", "--validation", "b",
                            "--output-dir", "c"], 2, r"argument --task: invalid choice: 'nre'"),
    ("finetune lr 0", ["finetune", "--task", "pos", "--model", "tiny", "--train", "a", "--validation", "b",
                       "--output-dir", "c", "--lr", "0"], 2, r"learning_rate must be greater than 0, got 0"),
    ("finetune warmup 5", ["finetune", "--task", "pos", "--model", "tiny", "--train", "a", "--validation", "b",
                           "--output-dir", "c", "--warmup", "5"], 2, r"warmup_fraction must be at most 1, got 5"),
    ("pretrain steps 0", ["pretrain", "--corpus", "a", "--output-dir", "b", "--steps", "0"], 2,
     r"max_steps must be a positive integer, got 0"),
    ("pretrain model arg typo", ["pretrain", "--corpus", "CORPUS", "--output-dir", "b", "--model-arg", "mask_ratoi=0.5"], 2,
     r"PixelConfig has no field 'mask_ratoi' \(did you mean 'mask_ratio'\?\)"),
    ("vl steps 0", ["vl", "vqa", "--output-dir", "b", "--steps", "0"], 2, r"max_steps must be a positive integer, got 0"),
    ("vl decay out of order", ["vl", "vqa", "--output-dir", "b", "--decay-at", "0.9", "0.5"], 2,
     r"decay_milestones must be increasing fractions between 0 and 1 \(e.g. 0.6 0.85\), or none; got \(0.9, 0.5\)"),
    ("vl decay none beside numbers", ["vl", "vqa", "--output-dir", "b", "--decay-at", "0.6", "none"], 2,
     r"decay_milestones must be increasing fractions between 0 and 1 \(e.g. 0.6 0.85\), or none; got \(0.6, None\)"),
    ("vl decay not a number", ["vl", "vqa", "--output-dir", "b", "--decay-at", "soon"], 2,
     r"argument --decay-at: must be a number or none, got 'soon'"),
    ("quickstart steps 0", ["quickstart", "--steps", "0"], 2, r"--steps must be at least 1, got 0"),
    ("evaluate missing model", ["evaluate", "--model", "nope", "--task", "pos", "--data", "x"], 2,
     r"model folder 'nope' does not exist"),
    ("baseline missing corpus", ["baseline", "create", "--corpus", "missing.txt", "--output-dir", "b"], 2,
     r"corpus 'missing.txt' does not exist"),
    ("tokenizer missing corpus", ["tokenizer", "train", "--corpus", "missing.txt", "--output-dir", "t"], 2,
     r"corpus 'missing.txt' does not exist"),
    ("generate missing model", ["generate", "x", "--model", "nope"], 2, r"model folder 'nope' does not exist"),
    ("push missing folder", ["push", "nope", "--repo", "a/b"], 2, r"folder 'nope' does not exist"),
    ("read by template a layout it cannot", ["read", "--text", "abc", "--layout", "continuous", "--template"], 2,
     r"layout must be one of bigrams, mono to read patches back; got 'continuous'"),
    ("read missing image", ["read", "nope.png", "--layout", "mono"], 2, r"image 'nope.png' does not exist"),
    ("read train without an output", ["read", "train", "--corpus", "c.txt"], 2, r"pixlm read train needs --output-dir"),
    ("attend missing model", ["attend", "--model", "nope", "--image", "x.png", "--text", "a caption"], 2,
     r"model folder 'nope' does not exist"),
    ("read empty text", ["read", "--text", " "], 2, r"--text is empty: give some text to render and read back"),
    ("read a file that is no picture", ["read", "NOT.png", "--layout", "mono"], 2,
     r"image 'NOT.png' cannot be read as a picture \(.*\); give a PNG strip"),
    ("reconstruct empty text", ["reconstruct", "", "--model", "m"], 2, r"TEXT is empty"),
    ("pretrain empty corpus", ["pretrain", "--corpus", "EMPTY.txt", "--output-dir", "b", "--steps", "2"], 2,
     r"corpus file 'EMPTY.txt' is empty; give a file with one text per line"),
    ("tokenizer empty corpus", ["tokenizer", "train", "--corpus", "EMPTY.txt", "--output-dir", "t"], 2,
     r"corpus file 'EMPTY.txt' is empty"),
    ("render config not UTF-8", ["render", "x", "--config", "LATIN1.json", "-o", "x.png"], 2,
     r"LATIN1.json is not valid JSON in UTF-8, as a renderer config must be"),
    ("diagnose output a folder", ["diagnose", "m", "--output", "FOLDER"], 2, r"--output 'FOLDER' is a folder: give a file path"),
    ("vl data options without data files", ["vl", "vqa", "--output-dir", "b", "--images", "FOLDER"], 2,
     r"images are read with data files \(train\); without train the run uses synthetic scenes"),
    ("vl tokenizer folder without one", ["vl", "pretrain", "--output-dir", "b", "--tokenizer", "FOLDER"], 2,
     r"tokenizer 'FOLDER' holds no tokenizer \(tokenizer.json or vocab.txt\)"),
    ("vl backbone weights that are none", ["vl", "pretrain", "--output-dir", "b", "--backbone-weights", "NOT.png",
                                           "--steps", "1"], 2, r"backbone weights 'NOT.png' cannot be read as a state dict"),
    ("baseline pretrain on a pixel model", ["baseline", "pretrain", "--corpus", "CORPUS", "--output-dir", "b", "--model", "PIXEL"],
     2, r"'PIXEL' holds a 'pixel' model, not a subword baseline \(BERT\)"),
]


@pytest.mark.parametrize("case,argv,code,message", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_refuses_bad_flags_in_one_line(tmp_path, monkeypatch, capsys, case, argv, code, message):
    from pixlm.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "CORPUS").write_text("A text to learn from.\n" * 40)
    (tmp_path / "EMPTY.txt").write_text("")
    (tmp_path / "NOT.png").write_bytes(b"\x89PNG\r\n\x1a\n, then not a picture")
    (tmp_path / "LATIN1.json").write_bytes('{"font_size": "é"}'.encode("latin-1"))
    (tmp_path / "FOLDER").mkdir()
    (tmp_path / "PIXEL").mkdir()
    (tmp_path / "PIXEL" / "config.json").write_text('{"model_type": "pixel"}')
    got = main(argv)
    err = capsys.readouterr().err
    assert got == code
    assert "Traceback" not in err
    import re

    assert re.search(message, err), err


def test_generate_refuses_a_renderer_folder_without_a_renderer(tmp_path, capsys):
    """A renderer the user names must hold one: an empty folder used to be taken as "no config"
    and replaced by PIXEL's published renderer, with exit 0."""
    from pixlm.cli import main

    from golden import golden_dir

    root = golden_dir()
    if root is None:
        pytest.skip("../shared/golden (PixelGPT's tiny checkpoint) is not here")
    (tmp_path / "empty").mkdir()
    got = main(["generate", "hi", "--model", str(root / "pixelgpt-model" / "causal_lm"), "--renderer",
                str(tmp_path / "empty"), "-o", str(tmp_path / "g.png")])
    err = capsys.readouterr().err
    assert got == 2 and "Traceback" not in err
    assert f"no renderer config at {tmp_path / 'empty' / 'text_renderer_config.json'}" in err, err
    assert not (tmp_path / "g.png").exists()


@pytest.mark.parametrize("strip,kwargs,message", [
    (np.full((16, 64), np.nan, np.float32), {}, r"a strip holds NaN or infinite pixel values"),
    (np.full((16, 64), 255, np.uint8), {"num_patches": -1}, r"num_patches must be None or a non-negative integer .* got -1"),
    ([np.full((16, 64), 255, np.uint8)], {"batch_size": 0}, r"batch_size must be a positive integer, got 0"),
], ids=["nan pixels", "negative num_patches", "batch_size 0"])
def test_read_refuses_bad_strips_and_arguments(strip, kwargs, message):
    """NaN strips were read as if they held something; a batch size of 0 ended in range()'s own
    error; a negative patch count read the whole strip."""
    import pixlm

    with pytest.raises(ValueError, match=message):
        pixlm.read(strip, **kwargs)


def test_read_gives_nothing_for_a_strip_of_no_columns():
    """A strip cut to no columns (num_patches=0) used to end in a convolution's RuntimeError."""
    import pixlm

    assert pixlm.read(np.zeros((16, 0), np.uint8)).text == ""
    assert pixlm.read(np.zeros((16, 64), np.uint8), num_patches=0).text == ""


def test_models_refuse_labels_outside_their_label_set():
    import torch

    from pixlm.models.pixel import PixelConfig, PixelForSequenceClassification, PixelForTokenClassification

    config = PixelConfig.from_preset("tiny", num_channels=1, max_patches=8, num_hidden_layers=1, num_labels=3)
    pixels = torch.rand(2, 1, 16, 16 * 8)
    with pytest.raises(ValueError, match=r"labels must be class ids in \[0, 3\) or -100 \(ignored\), got 7"):
        PixelForSequenceClassification(config)(pixel_values=pixels, labels=torch.tensor([0, 7]))
    tags = torch.full((2, 8), -100)
    tags[0, 1] = -3
    with pytest.raises(ValueError, match=r"labels must be class ids in \[0, 3\) or -100 \(ignored\), got -3"):
        PixelForTokenClassification(config)(pixel_values=pixels, labels=tags)
    tags[0, 1] = 2  # in range, and -100 elsewhere: fine
    assert PixelForTokenClassification(config)(pixel_values=pixels, labels=tags).loss.isfinite()


def test_models_refuse_masks_of_the_wrong_length_and_nan_pixels():
    import torch

    from pixlm.models.pixel import PixelConfig, PixelModel

    model = PixelModel(PixelConfig.from_preset("tiny", num_channels=1, max_patches=8, num_hidden_layers=1))
    pixels = torch.rand(2, 1, 16, 16 * 6)
    with pytest.raises(ValueError, match=r"attention_mask must be \(batch, patches\) = \(2, 6\) for these pixel_values, "
                                         r"got shape \(2, 8\)"):
        model(pixel_values=pixels, attention_mask=torch.ones(2, 8))
    pixels[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="pixel_values hold NaN or infinite values"):
        model(pixel_values=pixels)


@contextlib.contextmanager
def mounted_tmpfs(folder, options: str, what: str):
    """A tmpfs mounted on `folder` with `options` for the block (needs root and permission to
    mount: the test is skipped otherwise, saying `what` it simulates)."""
    import os
    import subprocess

    folder.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                                           capture_output=True).returncode != 0:
        pytest.skip(f"{what} is simulated with a tmpfs, which needs root and permission to mount")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


@pytest.fixture
def full_disk(tmp_path):
    """A 256 KiB tmpfs filled to the last byte."""
    with mounted_tmpfs(tmp_path / "disk", "size=256k", "a full disk") as disk:
        (disk / "old.txt").write_text("the old output\n")
        try:
            with open(disk / "filler", "wb") as f:
                while True:
                    f.write(b"\0" * 4096)
                    f.flush()
        except OSError:
            pass
        yield disk


def test_a_full_disk_is_named_and_leaves_no_half_written_file(full_disk):
    import errno
    import os

    from pixlm.files import check_writable, written_whole

    with pytest.raises(ValueError, match=r"cannot write to output folder .*: the disk is full"):
        check_writable(full_disk / "run")
    with pytest.raises(OSError, match=r"the disk is full: .*old.txt was not written") as raised:
        with written_whole(full_disk / "old.txt") as tmp, open(tmp, "w") as f:
            f.write("x" * 100_000)
    assert raised.value.errno == errno.ENOSPC
    assert (full_disk / "old.txt").read_text() == "the old output\n"
    assert not [n for n in os.listdir(full_disk) if n.endswith(".tmp") or n.startswith(".pixlm-write-check")]


@pytest.fixture
def read_only_disk(tmp_path):
    """A read-only tmpfs: unlike a chmod-ed folder it refuses root too."""
    with mounted_tmpfs(tmp_path / "ro", "ro,size=64k", "a read-only disk") as disk:
        yield disk


def test_a_read_only_output_folder_is_named_before_any_work(read_only_disk, tmp_path, capsys):
    from pixlm.cli import main
    from pixlm.files import check_writable

    with pytest.raises(ValueError, match=r"cannot write to output folder '.*ro/run': read-only file system"):
        check_writable(read_only_disk / "run")
    # Through a command: one line naming the folder, exit 2, no traceback.
    corpus = tmp_path / "c.txt"
    corpus.write_text("a line to pretrain on\n" * 20)
    assert main(["pretrain", "--corpus", str(corpus), "--output-dir", str(read_only_disk / "run"), "--steps", "1"]) == 2
    err = capsys.readouterr().err
    assert "read-only file system" in err and str(read_only_disk / "run") in err and "Traceback" not in err
    assert main(["render", "text", "-o", str(read_only_disk / "strip.png")]) == 1
    err = capsys.readouterr().err
    assert f"cannot write {read_only_disk / 'strip.png'}: read-only file system" in err and "Traceback" not in err
    assert "Errno" not in err and ".tmp" not in err  # the output named, not the temporary file beside it


def test_an_output_folder_that_is_a_file_is_refused_before_any_work(tmp_path):
    from pixlm.training import FinetuneConfig, finetune

    (tmp_path / "train.conllu").write_text(_conllu(GOOD))
    (tmp_path / "taken").write_text("a file")
    with pytest.raises(ValueError, match=r"output folder '.*taken' is a file; give a folder"):
        finetune(FinetuneConfig(task="pos", model="tiny", train=str(tmp_path / "train.conllu"),
                                validation=str(tmp_path / "train.conllu"), output_dir=str(tmp_path / "taken")))


def test_reconstruct_refuses_a_checkpoint_without_a_decoder(tmp_path, capsys):
    """A finetuned tagger has PIXEL's encoder but no pretraining decoder: reconstructing with
    a random decoder would draw noise and exit 0."""
    from pixlm.cli import main
    from pixlm.data import PixelProcessor
    from pixlm.models.pixel import PixelConfig, PixelForTokenClassification

    tagger = tmp_path / "tagger"
    PixelForTokenClassification(PixelConfig.from_preset("tiny", num_channels=1, max_patches=32,
                                                        num_hidden_layers=1, num_labels=3)).save_pretrained(tagger)
    PixelProcessor(num_channels=1).save_pretrained(tagger)
    assert main(["reconstruct", "Some text.", "--model", str(tagger), "-o", str(tmp_path / "r.png")]) == 2
    assert "has no pretraining decoder weights (a finetuned checkpoint?)" in capsys.readouterr().err
    assert not (tmp_path / "r.png").exists()


def test_a_font_file_cut_short_is_named_instead_of_drawing_blank(tmp_path):
    import os

    from pixlm.render import RendererConfig, TextRenderer
    from pixlm.render.backends import available_backends
    from pixlm.render.sfnt import FontFileError

    source = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
    if not os.path.isfile(source):
        pytest.skip(f"needs a system font to cut short ({source}: apt install fonts-dejavu-core)")
    cut = tmp_path / "cut.ttf"
    with open(source, "rb") as f:
        data = f.read()
    cut.write_bytes(data[: len(data) // 2])  # its table directory intact, its glyph data cut
    for backend in available_backends():
        with pytest.raises(FontFileError, match=r"cut.ttf' is cut short: its 'glyf' table ends at byte \d+ but the file has"):
            TextRenderer(RendererConfig(fonts=[str(cut)], fallback_fonts=False, backend=backend))("abc")


def test_a_checkpoint_with_nan_weights_is_refused(tmp_path):
    import torch

    from pixlm.models.pixel import PixelConfig, PixelForPreTraining

    model = PixelForPreTraining(PixelConfig.from_preset("tiny", num_channels=1, max_patches=8, num_hidden_layers=1))
    with torch.no_grad():
        model.vit.embeddings.patch_embeddings.projection.weight[0, 0, 0, 0] = float("nan")
    model.save_pretrained(tmp_path / "diverged")
    with pytest.raises(ValueError, match=r"holds NaN or infinite values in vit.embeddings.patch_embeddings.projection.weight"):
        PixelForPreTraining.from_pretrained(tmp_path / "diverged")


def test_a_line_of_a_million_characters_renders_what_fits_on_every_backend():
    """Pango's coordinates overflow past a few hundred thousand characters of one line, which
    used to come out blank (1 patch); only what can show is laid out now, so the strip is the
    same as for a shorter text that also fills the canvas."""
    import warnings

    from pixlm.render import RendererConfig, TextRenderer
    from pixlm.render.backends import available_backends

    for backend in available_backends():
        renderer = TextRenderer(RendererConfig(backend=backend))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "text longer than the canvas was truncated"
            huge, long = renderer("a" * 1_000_000), renderer("a" * 10_000)
        assert huge.truncated and huge.num_text_patches == renderer.config.max_patches - 1, backend
        assert (huge.pixel_values == long.pixel_values).all(), backend


@pytest.mark.parametrize("layout", ["words", "bigrams", "mono"])
def test_a_word_longer_than_the_canvas_is_cut_in_every_word_layout(layout):
    """A first word longer than the strip used to end in a traceback (bigrams, with character
    spans) or to be drawn whole, a million characters of it, and kept in the word cache; it is
    drawn as far as it shows, the same strip as any word that fills the canvas."""
    import warnings

    from pixlm.render import RendererConfig, TextRenderer

    renderer = TextRenderer(RendererConfig(layout=layout, max_patches=64))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "text longer than the canvas was truncated"
        huge, long = renderer("a" * 1_000_000, char_spans=True), renderer("a" * 2_000, char_spans=True)
    assert huge.truncated and huge.num_text_patches == 63
    assert (huge.pixel_values == long.pixel_values).all()
    assert (huge.char_spans == long.char_spans).all() and huge.char_spans[62, 1] > 0
    if layout == "bigrams":
        assert ("a" * 1_000_000, False) not in renderer._layout("bigrams")._words_drawn, "a cut word is not kept"


def _varied_text(words: int, seed: int = 0) -> str:
    import random

    rng = random.Random(seed)
    return " ".join("".join(rng.choice("abcdefghijklmnop") for _ in range(rng.randint(1, 9))) for _ in range(words))


def test_the_windows_of_a_huge_text_are_the_renderings_of_its_rest():
    """A huge text's overflow windows are laid out from a start of the rest (a text of two
    million characters took 40 s, quadratic in its length; now about 1 s): each window is still
    what rendering the rest of the text from its first character gives."""
    import warnings

    from pixlm.render import RendererConfig, TextRenderer
    from pixlm.render.backends import available_backends

    text = _varied_text(60_000)
    for backend in available_backends():
        renderer = TextRenderer(RendererConfig(backend=backend, max_patches=128))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "text longer than the canvas was truncated"
            windows = renderer(text, overflow=True, stride=4).overflow
            starts = [w.segment_chars[0][0] for w in windows]
            assert starts == sorted(set(starts)) and not windows[-1].truncated, backend
            assert windows[-1].segment_chars[0][1] == len(text), backend
            for w in (windows[0], windows[len(windows) // 2], windows[-2]):
                first, end = w.segment_chars[0]
                alone = renderer(text[first:])
                assert (alone.pixel_values == w.pixel_values).all() and alone.segment_chars == [(0, end - first)], backend


def test_a_huge_right_to_left_or_multi_paragraph_text_renders_its_start():
    """Texts that are laid out whole (right-to-left letters anywhere, a line break) go past
    Pango's coordinates when huge; only a start that fills the canvas is laid out, and the strip
    is that of the same text cut to 5,000 characters."""
    import warnings

    from pixlm.render import RendererConfig, TextRenderer
    from pixlm.render.backends import available_backends

    english = "the quick brown fox jumps over the lazy dog " * 7_000
    for backend in available_backends():
        renderer = TextRenderer(RendererConfig(backend=backend))
        for text in (english + "مرحبا بالعالم", "مرحبا بالعالم " * 25_000, english + "\nend"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                whole, start = renderer(text), renderer(text[:5_000])
            assert whole.truncated and (whole.pixel_values == start.pixel_values).all(), (backend, text[-5:])
            assert whole.segment_chars == start.segment_chars, (backend, text[-5:])


def test_pixel_windows_over_a_context_too_wide_for_pango_are_refused():
    """PIXEL's question-answering windows lay out the whole context as one line; past about
    2,097,151 pixels Pango's coordinates overflow and the context came out with no windows at
    all. It is refused, naming the limit and what to do."""
    from pixlm.render import RendererConfig, TextRenderer
    from pixlm.render.backends import available_backends

    if "pango" not in available_backends():
        pytest.skip("the pango backend is not installed")
    renderer = TextRenderer(RendererConfig(backend="pango", window_starts="characters"))
    with pytest.raises(ValueError, match=r"300,000 characters .* past the 2,097,151 pixels Pango can measure; split the text"):
        renderer("what?", "a" * 300_000, overflow=True)


@pytest.mark.parametrize("window_starts", ["characters", "words"])
def test_a_long_word_cut_at_the_canvas_does_not_stand_for_the_whole_word(window_starts):
    """A word longer than the canvas drawn only as far as it shows was remembered as the
    drawing of the whole word; the windows over it (skia) then stopped after two, going back."""
    from pixlm.render import RendererConfig, TextRenderer
    from pixlm.render.backends import available_backends

    got = {}
    for backend in available_backends():
        renderer = TextRenderer(RendererConfig(backend=backend, window_starts=window_starts))
        windows = renderer("what is it?", "a" * 5_000, overflow=True).overflow
        got[backend] = [w.segment_chars for w in windows]
        starts = [w.segment_chars[1][0] for w in windows]
        assert starts == sorted(set(starts)) and windows[-1].segment_chars[1][1] == 5_000, backend
    assert len(set(map(str, got.values()))) == 1, got


def test_the_piece_cache_is_bounded_in_bytes_and_still_draws_the_same():
    """cache_size counts entries; long pieces must not grow a process without bound: the cache
    (and its atlas) also keep to a byte budget, evicting the oldest pieces."""
    import random

    from pixlm.render import RendererConfig, TextRenderer
    from pixlm.render.backends import available_backends

    rng = random.Random(0)
    texts = [" ".join("".join(rng.choice("abcdefghij") for _ in range(rng.randint(20, 60))) for _ in range(8))
             for _ in range(60)]
    for backend in available_backends():
        cached = TextRenderer(RendererConfig(backend=backend))
        pieces = cached.backend.pieces
        if pieces is None:
            continue
        pieces.max_bytes = 64 << 10  # 64 KiB: a few dozen of these long words
        uncached = TextRenderer(RendererConfig(backend=backend, cache_size=0))
        for _ in range(2):  # the second pass finds words cached, evicted, or drawn again
            for text in texts:
                assert (cached(text).pixel_values == uncached(text).pixel_values).all(), backend
                assert pieces.bytes <= pieces.max_bytes
                assert pieces.bytes == sum(p.image.nbytes for p in pieces.cache.values())
                atlas = pieces.atlas
                # at most one piece past the budget (the one whose adding triggers a compaction)
                if atlas is not None:
                    assert (atlas.used - atlas.white) * atlas.columns.strides[0] <= \
                        2 * pieces.bytes + pieces.max_bytes // 4 + 16 * 600
        assert pieces.bytes > pieces.max_bytes // 2, f"{backend}: the cache was used, up to its budget"


@pytest.mark.parametrize("family,field,value,message", [
    ("pixel", "hidden_size", 0, r"PixelConfig.hidden_size must be a positive integer, got 0"),
    ("pixel", "max_patches", -3, r"PixelConfig.max_patches must be a positive integer, got -3"),
    ("pixel", "hidden_dropout_prob", 1.5, r"PixelConfig.hidden_dropout_prob must be a probability in \[0, 1\), got 1.5"),
    ("pixelgpt", "num_hidden_layers", 0, r"PixelGPTConfig.num_hidden_layers must be a positive integer, got 0"),
    ("pixelbert", "num_hidden_layers", 0, r"PixelBertConfig.num_hidden_layers must be a positive integer, got 0"),
])
def test_model_configs_refuse_empty_or_negative_sizes(family, field, value, message):
    import importlib

    module = importlib.import_module(f"pixlm.models.{family}")
    config_class = {"pixel": "PixelConfig", "pixelgpt": "PixelGPTConfig", "pixelbert": "PixelBertConfig"}[family]
    with pytest.raises(ValueError, match=message):
        getattr(module, config_class)(**{field: value})
