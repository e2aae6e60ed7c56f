"""Carry faces and plates across frames: a small IoU tracker with constant-velocity prediction.

Detections (regions) of sampled frames are linked into tracks, per kind, by the overlap of each
detection with where each track is predicted to be. A track hides its object:

- on the frames where it was detected, as detected;
- between two of its detections, at the positions interpolated between them (constant velocity);
- up to `look_ahead` frames before its first detection and `look_behind` frames after its last,
  moved on at the velocity of its first (last) two detections.

Away from a detection a region grows: by `grow` of its size per frame, plus `speed_slack` of its
motion per frame, at most by `max_grow`. Two detections are linked only when at most
look_ahead + look_behind frames apart, so every frame within the window of a detection is hidden
whether or not the frames between were searched or the detector missed the object in them.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from blur_sdk.core.geometry import Box
from blur_sdk.core.regions import POLYGON, Region

State = npt.NDArray[np.float64]  # (cx, cy, w, h)
MAX_WINDOW = 600  # frames: the most look_ahead or look_behind may be
MIN_SCALE, MAX_SCALE = 0.5, 2.0  # how much a predicted region may shrink or grow in size
# How far a detection may be from a track's prediction (centre offset in sizes, per frame unseen)
REACH_UNKNOWN, REACH_KNOWN, MAX_REACH = 0.35, 0.1, 2.5


@dataclass(frozen=True)
class TrackOptions:
    """How far detections are carried (frames) and how predicted regions grow."""

    look_ahead: int = 8  # frames before a detection that hide it too
    look_behind: int = 8  # frames after a detection that hide it too
    iou: float = 0.2  # least overlap of a detection with a track's predicted box to extend it
    grow: float = 0.03  # growth per frame away from a detection, share of the region's size
    speed_slack: float = 0.5  # more growth per frame away, share of the per-frame motion
    unknown_speed: float = 0.1  # growth per frame of a track seen once (its motion unknown)
    max_grow: float = 0.6  # the most a region grows (share of its size)

    def __post_init__(self) -> None:
        for name in ("look_ahead", "look_behind"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be an int, got {value!r}")
            if not 0 <= value <= MAX_WINDOW:
                raise ValueError(f"{name} must be in 0..{MAX_WINDOW}, got {value}")
        if not 0.0 < self.iou <= 1.0:
            raise ValueError(f"iou must be in (0, 1], got {self.iou!r}")
        for name in ("grow", "speed_slack", "unknown_speed", "max_grow"):
            if not 0.0 <= getattr(self, name) <= 10.0:
                raise ValueError(f"{name} must be in 0..10, got {getattr(self, name)!r}")

    @property
    def max_gap(self) -> int:
        """The most frames between two detections of one track."""
        return self.look_ahead + self.look_behind


def state_of(box: Box) -> State:
    """(cx, cy, w, h) of a box."""
    x0, y0, x1, y1 = box
    return np.array([(x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, 1.0), max(y1 - y0, 1.0)])


def box_of_state(s: State) -> Box:
    """The box (x0, y0, x1, y1) of a state."""
    cx, cy, w, h = (float(v) for v in s)
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


@dataclass
class Track:
    """One object: its detections (frame, region), oldest first."""

    kind: str
    seen: list[tuple[int, Region]] = field(default_factory=list)

    @property
    def first(self) -> int:
        """The frame of its first detection still kept."""
        return self.seen[0][0]

    @property
    def last(self) -> int:
        """The frame of its last detection."""
        return self.seen[-1][0]

    def velocity(self, at_end: bool) -> State:
        """Per-frame change of (cx, cy, w, h) between its last (first) two detections."""
        if len(self.seen) < 2:
            return np.zeros(4)
        (f0, r0), (f1, r1) = self.seen[-2:] if at_end else self.seen[:2]
        return (state_of(r1.box) - state_of(r0.box)) / max(f1 - f0, 1)

    def predicted_box(self, frame: int) -> Box:
        """Where the object should be at a later frame (constant velocity from its end)."""
        s = state_of(self.seen[-1][1].box) + self.velocity(True) * (frame - self.last)
        return box_of_state(_clamped(s, state_of(self.seen[-1][1].box)))


def _clamped(s: State, ref: State) -> State:
    out = s.copy()
    out[2:] = np.clip(s[2:], ref[2:] * MIN_SCALE, ref[2:] * MAX_SCALE)
    return out


def _placed(region: Region, target: State, growth: npt.NDArray[np.float64]) -> Region:
    """The region moved and scaled so that its box is `target`, then grown by `growth` (x, y)."""
    ref = state_of(region.box)
    final = target.copy()
    final[2:] = target[2:] * (1.0 + growth)
    box = box_of_state(final)
    if region.shape != POLYGON:
        x0, y0, x1, y1 = box
        corners = ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
        return Region(region.kind, corners, box, region.score, region.shape, region.detection)
    pts = np.asarray(region.polygon, dtype=np.float64)
    pts = (pts - ref[:2]) * (final[2:] / ref[2:]) + final[:2]
    polygon = tuple((float(x), float(y)) for x, y in pts)
    return Region(region.kind, polygon, box, region.score, POLYGON, region.detection)


def _between(a: Region, b: Region, t: float, growth: npt.NDArray[np.float64]) -> Region:
    """The region at share t of the way from a to b (polygons of as many points: each point)."""
    target = state_of(a.box) * (1 - t) + state_of(b.box) * t
    if a.shape != POLYGON or len(a.polygon) != len(b.polygon):
        return _placed(a if t < 0.5 else b, target, growth)
    pa, pb = np.asarray(a.polygon, np.float64), np.asarray(b.polygon, np.float64)
    pts = pa * (1 - t) + pb * t
    centre = target[:2]
    pts = (pts - centre) * (1.0 + growth) + centre
    polygon = tuple((float(x), float(y)) for x, y in pts)
    box = (float(pts[:, 0].min()), float(pts[:, 1].min()),
           float(pts[:, 0].max()), float(pts[:, 1].max()))  # fmt: skip
    near = a if t < 0.5 else b
    return Region(a.kind, polygon, box, near.score, POLYGON, near.detection)


class Tracker:
    """Links the detections of sampled frames into tracks and says what to hide in any frame.

    update() takes the frames in increasing order; regions_at(f) is final once every searched
    frame up to f + look_ahead has been given (or the video ended), and best with one searched
    frame more (the velocity of a track first found in f + look_ahead is then known).
    """

    def __init__(self, options: TrackOptions | None = None) -> None:
        self.options = options or TrackOptions()
        self.tracks: list[Track] = []
        self.started = 0  # tracks made so far

    def _growth(
        self, region: Region, velocity: State, frames: float, known: bool = True
    ) -> npt.NDArray[np.float64]:
        o = self.options
        size = state_of(region.box)[2:]
        motion = np.abs(velocity[:2]) + np.abs(velocity[2:]) / 2
        per_frame = o.grow + o.speed_slack * motion / size + (0.0 if known else o.unknown_speed)
        return np.asarray(np.minimum(per_frame * frames, o.max_grow), dtype=np.float64)

    def _reach(self, track: Track, frame: int) -> float:
        """How far (centre offset / size) a detection may lie from the track's predicted box
        and still continue it: wider the longer unseen, widest for an unknown velocity."""
        frames = frame - track.last
        per_frame = REACH_UNKNOWN if len(track.seen) < 2 else REACH_KNOWN
        return min(MAX_REACH, 0.5 + per_frame * frames)

    def update(self, frame: int, regions: Sequence[Region]) -> None:
        """The regions found in a searched frame (none found is news too: nothing is added)."""
        o = self.options
        for kind in dict.fromkeys(r.kind for r in regions):
            found = [r for r in regions if r.kind == kind]
            open_tracks = [
                t for t in self.tracks
                if t.kind == kind and t.last < frame and frame - t.last <= o.max_gap
            ]  # fmt: skip
            pairs = []
            for ti, track in enumerate(open_tracks):
                predicted = track.predicted_box(frame)
                reach = self._reach(track, frame)
                for ri, region in enumerate(found):
                    score = iou(predicted, region.box)
                    if score < o.iou:  # no overlap enough: near enough, it is still a candidate
                        a, b = state_of(predicted), state_of(region.box)
                        off = float(np.hypot(*(a[:2] - b[:2]))) / float(np.mean(a[2:]))
                        score = o.iou * (1.0 - off / reach) / 2 if off < reach else 0.0
                    if score > 0:
                        pairs.append((score, ti, ri))
            used_tracks: set[int] = set()
            used_regions: set[int] = set()
            for _, ti, ri in sorted(pairs, key=lambda p: -p[0]):
                if ti in used_tracks or ri in used_regions:
                    continue
                used_tracks.add(ti)
                used_regions.add(ri)
                open_tracks[ti].seen.append((frame, found[ri]))
            for ri, region in enumerate(found):
                if ri not in used_regions:
                    self.tracks.append(Track(kind, [(frame, region)]))
                    self.started += 1

    def regions_at(self, frame: int) -> list[Region]:
        """What hides each tracked object in this frame (detected, interpolated or predicted)."""
        o = self.options
        out = []
        for track in self.tracks:
            seen = track.seen
            if frame < track.first:
                d = track.first - frame
                if d <= o.look_ahead:
                    region, v = seen[0][1], track.velocity(False)
                    target = _clamped(state_of(region.box) - v * d, state_of(region.box))
                    known = len(seen) > 1
                    out.append(_placed(region, target, self._growth(region, v, d, known)))
            elif frame > track.last:
                d = frame - track.last
                if d <= o.look_behind:
                    region, v = seen[-1][1], track.velocity(True)
                    target = _clamped(state_of(region.box) + v * d, state_of(region.box))
                    known = len(seen) > 1
                    out.append(_placed(region, target, self._growth(region, v, d, known)))
            else:
                out.append(self._inside(track, frame))
        return out

    def _inside(self, track: Track, frame: int) -> Region:
        seen = track.seen
        for (f0, r0), (f1, r1) in itertools.pairwise(seen):
            if f0 < frame < f1:
                v = (state_of(r1.box) - state_of(r0.box)) / (f1 - f0)
                d = min(frame - f0, f1 - frame)
                return _between(r0, r1, (frame - f0) / (f1 - f0), self._growth(r0, v, d))
        return next(r for f, r in seen if f == frame)

    def forget_before(self, frame: int) -> None:
        """Drop what frames before this one needed and later ones cannot: ended tracks, and
        detections no frame from here on interpolates from."""
        o = self.options
        horizon = max(o.look_behind, o.max_gap)
        self.tracks = [t for t in self.tracks if t.last + horizon >= frame]
        for track in self.tracks:
            while len(track.seen) > 2 and track.seen[1][0] < frame:
                track.seen.pop(0)
