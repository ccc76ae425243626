"""Named pretraining recipes: a model preset, the config and renderer changes and the training
settings of a published result, so that reproducing it is one flag (`pixlm pretrain --recipe
NAME`). Adding a recipe is adding an entry here; docs/results.md says what each one gave."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace


@dataclass(frozen=True)
class Recipe:
    """A recipe: `model` (a preset), `model_overrides` and `renderer_overrides` (merged under the
    user's own), and `settings`, other `PretrainConfig` fields (learning_rate, max_steps, ...)."""

    description: str
    model: str = "tiny"
    model_type: str = "pixel"
    model_overrides: dict = field(default_factory=dict)
    renderer_overrides: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)


# The quickstart's recipe: PIXEL's objective on a tiny model at CPU scale (grayscale, 128
# patches, no dropout, a learning rate for batch 32 rather than PIXEL's 1.5e-4 x 32 / 256).
_CPU_TINY = dict(num_channels=1, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)

RECIPES: dict[str, Recipe] = {
    "pixel": Recipe("PIXEL as published (Rust et al. 2022): pixel-base, RGB strips of 529 patches, span masking at "
                    "25%, learning rate 1.5e-4 x total batch / 256, 1M steps (at a total batch of 256)",
                    model="base", settings={"max_steps": 1_000_000}),
    "cpu-tiny": Recipe("the quickstart's: PIXEL's objective on the tiny preset, grayscale, 128 patches, no dropout, "
                       "learning rate 1e-3 at batch 32",
                       model_overrides=_CPU_TINY, renderer_overrides={"max_patches": 128},
                       settings={"learning_rate": 1e-3, "batch_size": 32}),
    "cpu-reader": Recipe("cpu-tiny plus pixlm's character head on the patches the encoder sees (it learns to read "
                         "them; weight 1): transfers to every task tried at CPU scale (docs/results.md)",
                         model_overrides={**_CPU_TINY, "character_loss_weight": 1.0, "character_patches": "visible"},
                         renderer_overrides={"max_patches": 128},
                         settings={"learning_rate": 1e-3, "batch_size": 32}),
}
RECIPES["cpu-reader-words"] = replace(
    RECIPES["cpu-reader"], renderer_overrides={**RECIPES["cpu-reader"].renderer_overrides, "layout": "words"},
    description="cpu-reader in the words layout (each word from a patch boundary, as pixlm finetune draws word-level "
                "tasks; the saved renderer draws classification inputs so too): the best transfer at CPU scale in "
                "docs/results.md, SST-2 above all (dev 75.1-76.3 over 3 pretraining seeds, cpu-reader 62.6-65.0); on pcm NER a "
                "little behind cpu-reader (32.3 against 34.1, the ranges overlapping)")

RECIPES["cpu-reader-mono"] = Recipe(
    "cpu-reader made to fill in text: the mono layout (two fixed-width characters a patch), single masked patches "
    "(15%), and the decoder's attention biased toward near patches (decoder_position_bias=local); the first recipe "
    "whose reconstructions of held-out English read back letters, and the quickstart's (docs/results.md). Taggers "
    "finetune from it in the words layout, as from every model (mono does not start each word on a patch): UPOS "
    "vi_vtb 76.7 after the quickstart's 1,300 steps against cpu-reader's 78.2 and 68.9 from scratch",
    model_overrides={**RECIPES["cpu-reader"].model_overrides, "mask_ratio": 0.15, "decoder_position_bias": "local"},
    renderer_overrides={"max_patches": 128, "layout": "mono"},
    settings={"learning_rate": 1e-3, "batch_size": 32, "span_masking": False})


def apply_recipe(cfg):
    """`cfg` (a PretrainConfig) with its recipe's values where the user left a field at its
    default; the recipe's model and renderer overrides lie under the user's own."""
    if cfg.recipe is None:
        return cfg
    recipe = RECIPES[cfg.recipe]
    defaults = {f.name: f.default for f in fields(cfg)}
    values = {"model": recipe.model, "model_type": recipe.model_type, **recipe.settings}
    for name, value in values.items():
        if name not in defaults:
            raise ValueError(f"recipe {cfg.recipe!r} sets {name!r}, which is not a pretraining setting")
        if getattr(cfg, name) == defaults[name]:
            setattr(cfg, name, value)
    cfg.model_overrides = {**recipe.model_overrides, **cfg.model_overrides}
    cfg.renderer_overrides = {**recipe.renderer_overrides, **cfg.renderer_overrides}
    return cfg
