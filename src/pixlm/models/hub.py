"""Publishing a trained folder on the Hugging Face Hub with everything needed to use it."""

from __future__ import annotations

import os

from huggingface_hub import HfApi

# What stays on this machine: training state, logs and pictures.
LOCAL_ONLY = ["checkpoint-*", "checkpoint-*/**", ".staging/**", "runs/**", "reconstructions/**", "generations/**",
              "*.png", "predictions-*", "*.tmp"]
NEEDED = ("config.json",)
PROCESSORS = ("text_renderer_config.json", "tokenizer_config.json")


def push_folder(folder: str, repo_id: str, *, private: bool = False, message: str = "Upload with pixlm push") -> str:
    """Upload a model folder written by a pixlm training command: the weights and config, the
    processor (renderer config and fonts, `preprocessor_config.json`, or a tokenizer), the model
    card and the results. Returns the repository's URL."""
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"folder {folder!r} does not exist")
    present = set(os.listdir(folder))
    missing = [name for name in NEEDED if name not in present]
    if missing or not any(n.endswith((".safetensors", ".bin")) for n in present):
        raise ValueError(f"{folder} holds no saved model (config.json and weights); give the output folder of "
                         "pixlm pretrain, finetune or vl once the run has finished")
    if not any(name in present for name in PROCESSORS):
        raise ValueError(f"{folder} holds no processor (text_renderer_config.json or a tokenizer): the model could "
                         "not be fed from the Hub; save one with PixelProcessor.save_pretrained(folder)")
    api = HfApi()
    url = api.create_repo(repo_id, private=private, exist_ok=True)
    api.upload_folder(repo_id=repo_id, folder_path=folder, commit_message=message, ignore_patterns=LOCAL_ONLY)
    return str(url)
