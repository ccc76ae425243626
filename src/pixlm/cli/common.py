"""What several commands share: printing a pretraining run's results, loading a model folder."""

from __future__ import annotations

# Imports inside functions: `pixlm --help` imports this module and stays fast (see pixlm.cli).


def print_results(results: dict) -> None:
    a, b = results.get("initial_eval_loss"), results.get("final_eval_loss")
    kind = "next-patch" if results.get("config", {}).get("model_type") == "pixelgpt" else "masked-patch"
    if a is not None and b is not None:
        print(f"held-out {kind} loss: {a:.4f} at step 0 -> {b:.4f} at step {results['steps']} "
              f"({100 * (a - b) / a:.1f}% lower)")
    if results.get("reading_ratio") is not None:
        print(f"R = {results['reading_ratio']:.3f}: held-out loss with the real input / with blank patches (1: it "
              "predicts from position alone; the lower, the more it reads its context; pixlm diagnose for more)")
    if results.get("masked_character_accuracy") is not None:
        white = results.get("white_character_accuracy")
        scale = f"; left white, they read back as {100 * white:.1f}%" if white is not None else ""
        print(f"its reconstructions of masked patches read back as {100 * results['masked_character_accuracy']:.1f}% "
              f"of the characters there (pixlm read{scale}; pixlm reconstruct shows them)")
    print(f"model and renderer config: {results['output_dir']}")
    if results.get("loss_curve"):
        print(f"loss curve: {results['loss_curve']}")
    shots = results.get("reconstructions") or []
    if shots:
        label = "generations" if kind == "next-patch" else "reconstructions"
        print(f"{label}: {shots[0]} (start), {shots[-1]} (end)" if len(shots) > 1 else f"{label}: {shots[0]} (end)")


def load_folder(model_cls, folder: str, needs: str | None = None, what: str = ""):
    """A model from a folder, or from the Hub by its name (downloaded). `needs`: the weights
    (by name prefix) the command cannot do without; a checkpoint that lacks them (a finetuned
    encoder where a pretraining decoder is needed) is refused instead of used with random ones."""
    from ..models.loading import local_folder

    model, info = model_cls.from_pretrained(local_folder(folder), output_loading_info=True)
    if needs and any(k.startswith(needs) for k in info.get("missing_keys") or ()):
        raise ValueError(f"{folder} has no {what or needs} weights (a finetuned checkpoint?); give a checkpoint that "
                         f"{model_cls.__name__} was saved from, such as the output of pixlm pretrain")
    return model
