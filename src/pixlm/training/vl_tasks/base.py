"""What `pixlm vl` (pixlm.training.pixelbert.run_pixelbert) needs to know about a Pixel-BERT
task, and the registry naming them. A task is a `VLTask` subclass in its own module, registered
with `register_vl_task`; the run loop never tests a task's name.

As for the text tasks, modules import torch and the collators inside their methods: the CLI
reads this registry for its choices and `pixlm --help` stays fast."""

from __future__ import annotations

from ...registry import Registry

# Imports inside functions: the CLI reads this registry for its choices without torch or datasets.


class VLTask:
    """One Pixel-BERT task: its model head, examples (from synthetic scenes or files), labels,
    collator and held-out scores."""

    name: str = ""
    head: str = ""  # the pixlm.models.pixelbert class
    text_key: str = "text"  # the example field holding its text
    image_key: str = "image"  # the example field holding its image(s)
    groups_by_image: bool = False  # --group-by-image applies

    def scene_examples(self, scenes, seed: int) -> list[dict]:
        """Examples drawn from synthetic scenes (pixlm.data.scenes)."""
        raise NotImplementedError

    def read(self, path: str, annotations: str | None, cfg) -> list[dict]:
        """Examples of a file, their images under `cfg.images`."""
        raise NotImplementedError

    def prepare(self, train: list[dict], validation: list[dict]) -> list[str] | None:
        """Normalise the examples in place if the task needs it; return the label set, if any."""
        return None

    def collator(self, model, tokenizer, train: list[dict], labels: list[str] | None, cfg):
        raise NotImplementedError

    def evaluate(self, model, tokenizer, examples: list[dict], batch_size: int, candidates: int, seed: int) -> dict:
        """Held-out scores, with the model in eval mode and no gradients."""
        raise NotImplementedError

    def summary(self, cfg) -> str:
        """What the run trained, for the model card: "finetuned for vqa"."""
        return f"finetuned for {self.name}"


VL_TASKS: Registry[VLTask] = Registry("task")
register_vl_task = VL_TASKS.register  # class decorator: makes a task known to `pixlm vl`
get_vl_task = VL_TASKS.lookup


class CaptionTask(VLTask):
    """A task over captioned images (pretraining, retrieval): one example per image and caption."""

    def scene_examples(self, scenes, seed):
        return [{"image": s, "text": s.caption(), "image_id": k} for k, s in enumerate(scenes)]

    def read(self, path, annotations, cfg):
        from ...data.vl_readers import read_captions

        return read_captions(path, cfg.images, sentences_dir=cfg.sentences)
