"""Where each word looks in the image, for a Pixel-BERT model (PNG).

Read TEXT with IMAGE and write a PNG of each word piece's last-layer attention over the image
(averaged over heads), as in Pixel-BERT's Figure 3.
"""

from __future__ import annotations

import os

from .flags import png_path

# Imports inside functions: `pixlm --help` imports this module and stays fast (see pixlm.cli).


def add_arguments(p) -> None:
    p.add_argument("--model", required=True, metavar="DIR", help="a Pixel-BERT folder (pixlm vl ...)")
    p.add_argument("--image", required=True, metavar="FILE", help="the image")
    p.add_argument("--text", required=True, help="the text read with it")
    p.add_argument("--layer", type=int, default=-1, help="encoder layer (default the last)")
    p.add_argument("-o", "--output", type=png_path, default="attention.png", metavar="PNG", help="where to write (default attention.png)")


def run(args) -> int:
    from transformers import AutoTokenizer

    from ..data.vl_collators import ImageTextInputs
    from ..models.pixelbert import PixelBertModel
    from ..viz import attention_figure, save_png, word_to_pixel_attention

    if not os.path.isdir(args.model):
        raise FileNotFoundError(f"model folder {args.model!r} does not exist")
    if not args.text.strip():
        raise ValueError("--text is empty")
    model = PixelBertModel.from_pretrained(args.model).eval()
    layers = model.config.num_hidden_layers
    if not -layers <= args.layer < layers:
        raise ValueError(f"--layer {args.layer} is not a layer of this model: it has {layers} (give 0 to {layers - 1}, "
                         "or -1 for the last)")
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    helper = ImageTextInputs.for_model(tokenizer, model.config)
    image = helper.image(args.image)
    if image is None:
        raise ValueError(f"image {args.image!r} could not be read: {helper.skipped.examples[-1]}")
    batch = {**helper.tokens([args.text]), **helper.pixels([image])}
    maps, grid = word_to_pixel_attention(model, batch["input_ids"], batch["attention_mask"], batch["pixel_values"],
                                         batch["pixel_mask"], args.layer)
    tokens = tokenizer.convert_ids_to_tokens(batch["input_ids"][0])
    keep = [i for i, t in enumerate(tokens) if t not in tokenizer.all_special_tokens]
    # The padded part of the grid is cut away so that the map lies over the image itself.
    rows, cols = (-(-image.size[1] // 64), -(-image.size[0] // 64))
    figure = attention_figure(image, [tokens[i] for i in keep], maps[keep][:, :rows, :cols])
    print(f"{save_png(figure, args.output)}: {len(keep)} word pieces over a {grid[0]} x {grid[1]} grid of cells")
    return 0
