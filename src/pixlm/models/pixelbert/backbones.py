"""CNN backbones for Pixel-BERT, with torchvision's parameter names.

torchvision does not import beside the CPU build of torch used here, so the ResNets are built
here with the same module names and shapes as `torchvision.models.resnet*` (the classifier
`fc` left out): a state dict saved from torchvision (an ImageNet `.pth`, or `.safetensors`)
loads as it is, with or without torchvision installed. `small_cnn` is a light stride-32 CNN for
tests and CPU demonstrations.

    backbone = build_backbone("resnet50", weights="resnet50-0676ba61.pth")
    features = backbone(images)  # (B, backbone.out_channels, H/32, W/32)
"""

from __future__ import annotations

import os

import torch
from safetensors.torch import load_file
from torch import nn


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None,
                 groups: int = 1, base_width: int = 64):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class Bottleneck(nn.Module):
    """torchvision's ResNet v1.5 bottleneck: the stride sits on the 3x3 convolution."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None,
                 groups: int = 1, base_width: int = 64):
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + identity)


class ResNet(nn.Module):
    """torchvision's ResNet without `avgpool` and `fc`: images (B, 3, H, W) -> layer4 features
    (B, out_channels, H/32, W/32)."""

    def __init__(self, block, layers: list[int], groups: int = 1, width_per_group: int = 64):
        super().__init__()
        self.inplanes, self.groups, self.base_width = 64, groups, width_per_group
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.out_channels = 512 * block.expansion
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def _make_layer(self, block, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes, groups=self.groups, base_width=self.base_width) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


class SmallCNN(nn.Module):
    """Five stride-2 3x3 convolutions with BatchNorm and ReLU (stride 32 in all): a backbone
    that trains in minutes on a CPU."""

    def __init__(self, channels: tuple[int, ...] = (16, 32, 64, 96, 128)):
        super().__init__()
        layers, previous = [], 3
        for c in channels:
            layers += [nn.Conv2d(previous, c, 3, 2, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
            previous = c
        self.features = nn.Sequential(*layers)
        self.out_channels = previous

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


BACKBONES = {
    "resnet18": lambda: ResNet(BasicBlock, [2, 2, 2, 2]),
    "resnet34": lambda: ResNet(BasicBlock, [3, 4, 6, 3]),
    "resnet50": lambda: ResNet(Bottleneck, [3, 4, 6, 3]),
    "resnet101": lambda: ResNet(Bottleneck, [3, 4, 23, 3]),
    "resnext50_32x4d": lambda: ResNet(Bottleneck, [3, 4, 6, 3], groups=32, width_per_group=4),
    "resnext101_32x8d": lambda: ResNet(Bottleneck, [3, 4, 23, 3], groups=32, width_per_group=8),
    "small_cnn": SmallCNN,
}


def build_backbone(name: str, weights: str | None = None) -> nn.Module:
    """A backbone by name; `weights` is a local state-dict file (torchvision's `.pth`, or
    `.safetensors`) whose `fc.*` entries, if any, are ignored."""
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; backbones: {', '.join(BACKBONES)}")
    model = BACKBONES[name]()
    if weights:
        load_backbone_weights(model, weights)
    return model


def load_backbone_weights(model: nn.Module, path: str) -> None:
    """Load a state dict from `path` into a backbone; every backbone parameter must be in it."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"backbone weights {path!r} do not exist")
    try:
        if path.endswith(".safetensors"):
            state = load_file(path)
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
            state = state.get("state_dict", state) if isinstance(state, dict) else state
    except Exception as e:  # noqa: BLE001  (torch and safetensors raise many kinds for a file that is not weights)
        raise ValueError(f"backbone weights {path!r} cannot be read as a state dict (a torchvision .pth or a "
                         f".safetensors file): {type(e).__name__}: {str(e).splitlines()[0][:200]}") from e
    if not isinstance(state, dict):
        raise ValueError(f"backbone weights {path!r} hold a {type(state).__name__}, not a state dict of tensors")
    state = {k.removeprefix("module."): v for k, v in state.items() if not k.removeprefix("module.").startswith("fc.")}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"backbone weights {path!r} do not fit: missing {sorted(missing)[:5]}, "
                         f"unexpected {sorted(unexpected)[:5]}")
