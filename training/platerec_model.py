"""The plate recogniser: a small CNN with a CTC output over two rows of columns.

Input [N, 3, 48, 96] float32 RGB 0..1 (the plate crop resized, aspect ignored). The features
end as a 2 x 24 map; read top row left to right, then bottom row, it is a sequence of 48 steps
scored over BLANK + ALPHABET (softmax). Trained with CTC, a one-row plate's characters come out
in one of the rows and a two-row plate's top row before its bottom row: greedy CTC decoding of
the sequence reads either in order.
"""

from __future__ import annotations

import torch
from torch import nn

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # class i + 1; class 0 is the CTC blank
CLASSES = len(ALPHABET) + 1
MAX_CHARS = 10
INPUT_H, INPUT_W = 48, 96
BANK_H, BANK_W = 64, 128  # the synthetic bank is stored at this size


def block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


class PlateRec(nn.Module):
    """Conv stages down to 2 x 24, a horizontal context conv, per-step class logits."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            block(3, 16),
            nn.MaxPool2d(2),  # 24 x 48
            block(16, 32),
            nn.MaxPool2d(2),  # 12 x 24
            block(32, 48),
            block(48, 48),
            nn.MaxPool2d((2, 1)),  # 6 x 24
            block(48, 80),
            block(80, 80),
            nn.MaxPool2d((3, 1)),  # 2 x 24
            nn.Conv2d(80, 128, (1, 5), 1, (0, 2), bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
            nn.Dropout(0.1),
        )
        self.classify = nn.Conv2d(128, CLASSES, 1)

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
