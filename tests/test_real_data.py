"""The renderer on real treebank text (skipped with a reason when the shared data is absent)."""

import pytest

from pixlm.render import TextRenderer


def sentences(path, limit):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("# text = "):
                out.append(line[len("# text = ") :].rstrip("\n"))
                if len(out) == limit:
                    break
    return out


@pytest.mark.parametrize("treebank", ["en_ewt", "vi_vtb", "zh_gsd", "ja_gsd"])
def test_treebank_sentences_render_without_missing_glyphs(shared_data, treebank):
    texts = sentences(shared_data / "ud" / treebank / "dev.conllu", 300)
    assert len(texts) == 300
    r = TextRenderer()
    outs = r.render_batch(texts)
    assert sum(o.missing_glyphs for o in outs) == 0
    assert not any(o.truncated for o in outs)
    # Every sentence's word starts are in order and inside its text patches.
    for o in outs:
        ws = o.word_starts
        assert (ws[1:] >= ws[:-1]).all() and (ws < max(o.num_text_patches, 1)).all()
