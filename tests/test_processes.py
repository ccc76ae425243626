"""The renderer in data loaders: pickling, forked DataLoader workers, spawned batch workers."""

import pickle

import numpy as np
import torch

from pixlm.render import TextRenderer

TEXTS = [f"Sentence number {k} for the workers, with ümlauts and שלום." for k in range(24)]


def test_renderer_pickles_and_renders_the_same():
    r = TextRenderer(layout="words")
    before = r("Pickled renderers render alike")
    clone = pickle.loads(pickle.dumps(r))
    assert clone.config == r.config
    assert np.array_equal(clone("Pickled renderers render alike").pixel_values, before.pixel_values)


class _Rendered(torch.utils.data.Dataset):
    def __init__(self, renderer):
        self.renderer = renderer

    def __len__(self):
        return len(TEXTS)

    def __getitem__(self, i):
        return torch.from_numpy(self.renderer(TEXTS[i]).pixel_values)


def test_dataloader_workers_after_the_parent_rendered():
    r = TextRenderer()
    serial = [r(t).pixel_values for t in TEXTS]  # the parent's backend exists before the fork
    loader = torch.utils.data.DataLoader(_Rendered(r), batch_size=4, num_workers=2, timeout=120)
    batches = torch.cat(list(loader))
    assert batches.shape == (len(TEXTS), 16, 8464)
    assert all(np.array_equal(batches[i].numpy(), serial[i]) for i in range(len(TEXTS)))


def test_render_batch_with_processes_matches_serial():
    r = TextRenderer()
    items = TEXTS + [("a pair", "of texts")]
    serial = r.render_batch(items)
    parallel = r.render_batch(items, num_workers=2, chunksize=5)
    assert len(parallel) == len(items)
    for a, b in zip(serial, parallel):
        assert np.array_equal(a.pixel_values, b.pixel_values) and a.sep_patches == b.sep_patches


def test_an_unguarded_script_fails_at_once_with_the_fix(tmp_path):
    """Spawned workers import the calling script; without a __main__ guard they would re-run it
    (and a pool that replaces dead workers would spawn for ever)."""
    import subprocess
    import sys
    import time

    script = tmp_path / "unguarded.py"
    script.write_text("from pixlm.render import TextRenderer\n"
                      "TextRenderer().render_batch(['one', 'two', 'three'], num_workers=2)\n"
                      "print('finished')\n")
    started = time.perf_counter()
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert res.returncode != 0 and "finished" not in res.stdout
    assert 'if __name__ == "__main__":' in res.stderr.splitlines()[-1], res.stderr[-2000:]
    assert time.perf_counter() - started < 120


def test_pool_reads_items_lazily():
    r = TextRenderer()
    consumed = []

    def items():
        for k in range(1000):
            consumed.append(k)
            yield f"text {k}"

    with r.pool(2) as pool:
        first = next(pool.imap(items(), chunksize=4))
    assert first.num_text_patches > 0
    assert len(consumed) <= 4 * 2 * 2 + 4, len(consumed)  # a few chunks per worker, not the whole stream
