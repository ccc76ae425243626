"""Loading checkpoints quietly and checking them: what the model families share.

transformers prints a table of every weight a checkpoint lacks or has to spare. Loading a
pretraining checkpoint into a task model leaves out its decoder and starts a new head by
design, so pixlm says that in one line instead, and raises where a difference means the model
would compute something else (shapes that do not fit).
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import re
from collections import Counter
from contextlib import contextmanager

import torch
from huggingface_hub import snapshot_download
from transformers.utils import logging as hf_logging

from ..options import unknown_keys

logger = logging.getLogger("pixlm")


_HUB_ID = re.compile(r"[\w.-]+/[\w.-]+")


def local_folder(name_or_path: str) -> str:
    """A model folder on this machine: the path itself, or a model on the Hugging Face Hub
    (`owner/name`, e.g. Team-PIXEL/pixel-base) downloaded into huggingface_hub's cache."""
    name_or_path = os.fspath(name_or_path)
    if os.path.isdir(name_or_path):
        return name_or_path
    if _HUB_ID.fullmatch(name_or_path):
        try:
            return snapshot_download(name_or_path)
        except Exception as e:  # offline, unknown repository, gated: all say the same to a user
            raise FileNotFoundError(f"model {name_or_path!r} is not a folder here and could not be downloaded from "
                                    f"the Hugging Face Hub ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None
    raise FileNotFoundError(f"model folder {name_or_path!r} does not exist")


class _NoLoadReport(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "LOAD REPORT" not in str(record.msg)


@contextmanager
def quiet_transformers_loading():
    """Hold back transformers' loading report (a table of every weight) while loading."""
    hf_logger = hf_logging.get_logger("transformers.modeling_utils")
    report_filter = _NoLoadReport()
    hf_logger.addFilter(report_filter)
    try:
        yield
    finally:
        hf_logger.removeFilter(report_filter)


def _groups(keys) -> str:
    """`decoder.* (26), classifier.* (2)`: keys counted by their first name."""
    counts = Counter(k.split(".", 1)[0] for k in keys)
    return ", ".join(f"{name}.* ({n})" for name, n in counts.most_common())


def loading_summary(model, source: str, info: dict) -> str | None:
    """One line on what a checkpoint did not fill and what of it went unused, or None."""
    unused, new = info.get("unexpected_keys") or [], info.get("missing_keys") or []
    if not unused and not new:
        return None
    parts = []
    if unused:
        parts.append(f"not used from the checkpoint: {_groups(unused)}")
    if new:
        parts.append(f"newly initialised: {_groups(new)}")
    return f"{type(model).__name__} from {source}: {'; '.join(parts)}"


def check_mismatches(model, source: str, info: dict) -> None:
    """Refuse a checkpoint whose shapes do not fit the model, naming the first such weight."""
    if not info.get("mismatched_keys"):
        return
    order = {k: i for i, k in enumerate(model.state_dict())}
    key, theirs, ours = min(info["mismatched_keys"], key=lambda m: order.get(m[0], len(order)))
    raise ValueError(
        f"checkpoint {source} does not fit this model's config: first mismatching key {key} has shape "
        f"{tuple(theirs)} in the checkpoint but {tuple(ours)} in the model ({len(info['mismatched_keys'])} "
        "mismatching keys); load it with its own config.json"
    )


def check_model_type(cls, folder: str) -> None:
    """Refuse a folder that holds no model, or a model of another family (whose weights would
    all be left out, leaving a model with random weights), naming both types."""
    config = os.path.join(folder, "config.json")
    if not os.path.isfile(config):
        raise FileNotFoundError(f"{folder} has no config.json: it is not a model folder (give the folder that "
                                "save_pretrained or a training command wrote)")

    with open(config, encoding="utf-8") as f:
        try:
            model_type = json.load(f).get("model_type")
        except ValueError as e:
            raise ValueError(f"{config} is not valid JSON ({e})") from None
    accepted = getattr(cls.config_class, "accepted_model_types", (cls.config_class.model_type,))
    if model_type is not None and model_type not in accepted:
        raise ValueError(f"{folder} holds a {model_type!r} model, but {cls.__name__} loads {cls.config_class.family} "
                         f"models (model_type {', '.join(map(repr, accepted))}); load it with its own family's class "
                         "(transformers' Auto classes pick it)")


def check_finite(model, source: str) -> None:
    """Refuse a checkpoint with NaN or infinite weights (a run that diverged and was saved): it
    would give NaN outputs with no word of why."""
    for name, tensor in model.state_dict().items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise ValueError(f"checkpoint {source} holds NaN or infinite values in {name}: it was saved from a run that "
                             "diverged; use an earlier checkpoint")


def load_checked(cls, parent_from_pretrained, source, *args, **kwargs):
    """`parent_from_pretrained(source, ...)` with the report in one line and mismatching shapes
    refused (unless `ignore_mismatched_sizes=True`); returns (model, loading info)."""
    allow_mismatch = kwargs.pop("ignore_mismatched_sizes", False)
    kwargs.pop("output_loading_info", None)
    if os.path.isdir(source):
        check_model_type(cls, str(source))
    with quiet_transformers_loading():
        model, info = parent_from_pretrained(source, *args, output_loading_info=True, ignore_mismatched_sizes=True,
                                             **kwargs)
    if not allow_mismatch:
        check_mismatches(model, str(source), info)
    check_finite(model, str(source))
    summary = loading_summary(model, str(source), info)
    if summary:
        logger.warning(summary)
    return model, info


def load_model(head, preset_or_folder: str, **overrides):
    """A model of class `head` (e.g. PixelForTokenClassification): built new from one of its
    family's presets, or loaded from a checkpoint folder (or a Hub name, downloaded), with
    config fields `overrides` either way. The one place "preset or checkpoint" is decided."""
    config_class = head.config_class
    unknown_keys(overrides, config_fields(config_class), config_class.__name__)
    if preset_or_folder in config_class.presets:
        return head(config_class.from_preset(preset_or_folder, **overrides))
    if not os.path.isdir(preset_or_folder) and not _HUB_ID.fullmatch(str(preset_or_folder)):
        raise ValueError(f"model must be a {config_class.family} preset ({', '.join(config_class.presets)}) or a "
                         f"checkpoint folder; got {preset_or_folder!r}")
    return head.from_pretrained(local_folder(preset_or_folder), **overrides)


def config_fields(config_class) -> set[str]:
    """The fields a config class knows: what it saves, the arguments of its and its bases'
    constructors, its aliases, and what transformers sets on any config (labels, token ids)."""
    known = set(config_class().to_dict()) | set(getattr(config_class, "attribute_map", {}))
    for cls in config_class.__mro__:
        if "__init__" in cls.__dict__:
            known |= set(inspect.signature(cls.__init__).parameters) - {"self", "args", "kwargs"}
    return known | {"num_labels", "output_attentions", "pad_token_id", "bos_token_id", "eos_token_id", "tie_word_embeddings"}
