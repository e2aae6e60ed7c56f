"""The plate recogniser: a small CNN with a CTC output over two rows of columns.

Input [N, 3, 48, W] float32 RGB 0..1 (the plate crop resized, aspect ignored; W = 96 for the
first, small architecture "s", 128 for "m"). The features end as a 2 x W/4 map; read top row left
to right, then bottom row, it is a sequence of W/2 steps scored over BLANK + ALPHABET (softmax).
Trained with CTC, a one-row plate's characters come out in one of the rows and a two-row plate's
top row before its bottom row: greedy CTC decoding of the sequence reads either in order.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # class i + 1; class 0 is the CTC blank
CLASSES = len(ALPHABET) + 1
MAX_CHARS = 10
INPUT_H = 48
BANK_H, BANK_W = 64, 128  # the synthetic bank is stored at this size


@dataclass(frozen=True)
class Arch:
    """A size of the network: its stages' channels, the context conv's, the input width."""

    channels: tuple[int, int, int, int, int, int]
    context: int
    input_w: int


ARCHS = {
    "s": Arch((16, 32, 48, 48, 80, 80), 128, 96),  # 33 M multiply-adds (weights/platerec.md)
    "m": Arch((24, 48, 64, 64, 96, 96), 160, 128),  # 76 M
}


def block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


class PlateRec(nn.Module):
    """Conv stages down to 2 x 24, a horizontal context conv, per-step class logits."""

    def __init__(self, arch: str = "s") -> None:
        super().__init__()
        self.arch = ARCHS[arch]
        c1, c2, c3, c4, c5, c6 = self.arch.channels
        context = self.arch.context
        self.features = nn.Sequential(
            block(3, c1),
            nn.MaxPool2d(2),  # 24 x W/2
            block(c1, c2),
            nn.MaxPool2d(2),  # 12 x W/4
            block(c2, c3),
            block(c3, c4),
            nn.MaxPool2d((2, 1)),  # 6 x W/4
            block(c4, c5),
            block(c5, c6),
            nn.MaxPool2d((3, 1)),  # 2 x W/4
            nn.Conv2d(c6, context, (1, 5), 1, (0, 2), bias=False),
            nn.BatchNorm2d(context),
            nn.ReLU(inplace=True),
            nn.Dropout(0.1),
        )
        self.classify = nn.Conv2d(context, CLASSES, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits [N, T = 2 x 24, CLASSES]."""
        logits = self.classify(self.features(x))  # N, C, 2, 24
        return logits.flatten(2).transpose(1, 2)


class Exported(nn.Module):
    """The network as shipped: softmax probabilities [N, T, CLASSES]."""

    def __init__(self, net: PlateRec) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(x), dim=-1)
