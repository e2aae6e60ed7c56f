"""The tracker: detections linked by overlap, gaps filled (interpolated), windows before and
after (predicted at constant velocity), growth with motion, windows never exceeded."""

from __future__ import annotations

import pytest

from blur_sdk.core.find.base import FaceDetection
from blur_sdk.core.regions import FACE, PLATE, Region, face_region
from blur_sdk.core.video.track import Tracker, TrackOptions, iou


def face(x: float, y: float, size: float = 40.0) -> Region:
    box = (x, y, x + size, y + size)
    return face_region(FaceDetection(box, box, 0.9), "ellipse")


def plate(x: float, y: float) -> Region:
    quad = ((x, y), (x + 60, y + 2), (x + 60, y + 20), (x, y + 18))
    return Region(PLATE, quad, (x, y, x + 60, y + 20), 0.9)


def covers(region: Region, box: tuple[float, float, float, float], share: float = 1.0) -> bool:
    x0, y0, x1, y1 = region.box
    w = max(0.0, min(x1, box[2]) - max(x0, box[0]))
    h = max(0.0, min(y1, box[3]) - max(y0, box[1]))
    return w * h >= share * (box[2] - box[0]) * (box[3] - box[1]) - 1e-6


def motion(frame: int) -> tuple[float, float]:
    return 20.0 + 6 * frame, 50.0 + 2 * frame


def truth(frame: int) -> tuple[float, float, float, float]:
    x, y = motion(frame)
    return (x, y, x + 40, y + 40)


def test_iou() -> None:
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(1 / 3)
    assert iou((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0


def test_a_gap_is_filled_along_the_motion() -> None:
    tracker = Tracker(TrackOptions(look_ahead=4, look_behind=4))
    seen = [f for f in range(30) if f not in (10, 11, 12, 13, 14, 15, 20)]
    for f in range(30):
        tracker.update(f, [face(*motion(f))] if f in seen else [])
    assert tracker.started == 1  # one object: the gap did not split it
    for f in range(30):
        (region,) = tracker.regions_at(f)
        assert covers(region, truth(f)), f
        if f in seen:
            assert region.box == truth(f)  # as detected
        assert region.shape == "ellipse" and region.kind == FACE


def test_windows_before_and_after_at_the_velocity() -> None:
    tracker = Tracker(TrackOptions(look_ahead=5, look_behind=3))
    for f in range(10, 20):
        tracker.update(f, [face(*motion(f))])
    assert tracker.regions_at(4) == [] and tracker.regions_at(23) == []
    for f in (5, 7, 9, 20, 22):
        (region,) = tracker.regions_at(f)
        assert covers(region, truth(f)), f
    far, near = tracker.regions_at(5)[0], tracker.regions_at(9)[0]
    area = lambda r: (r.box[2] - r.box[0]) * (r.box[3] - r.box[1])  # noqa: E731
    assert area(far) > area(near) > 40 * 40  # grows away from the detections


def test_detections_farther_apart_than_both_windows_are_two_tracks() -> None:
    tracker = Tracker(TrackOptions(look_ahead=2, look_behind=2))
    tracker.update(0, [face(10, 10)])
    tracker.update(5, [face(12, 10)])
    assert tracker.started == 2
    assert len(tracker.regions_at(1)) == 1 and tracker.regions_at(3) != []
    assert [len(tracker.regions_at(f)) for f in range(8)] == [1, 1, 1, 1, 1, 1, 1, 1]


def test_two_objects_and_kinds_stay_apart() -> None:
    tracker = Tracker(TrackOptions(look_ahead=3, look_behind=3))
    for f in range(0, 12, 3):
        tracker.update(f, [face(10 + 4 * f, 10), face(200 - 4 * f, 10), plate(10 + 4 * f, 10)])
    assert tracker.started == 3
    regions = tracker.regions_at(4)
    assert sorted(r.kind for r in regions) == [FACE, FACE, PLATE]
    (moved,) = [r for r in regions if r.kind == PLATE]
    assert len(moved.polygon) == 4 and covers(moved, (26, 10, 86, 30), 0.95)


def test_no_windows_is_no_tracking() -> None:
    tracker = Tracker(TrackOptions(look_ahead=0, look_behind=0))
    tracker.update(0, [face(10, 10)])
    tracker.update(2, [face(14, 10)])
    assert [len(tracker.regions_at(f)) for f in range(4)] == [1, 0, 1, 0]


def test_forgetting_keeps_what_later_frames_need() -> None:
    tracker = Tracker(TrackOptions(look_ahead=2, look_behind=2))
    for f in range(0, 40):
        tracker.update(f, [face(*motion(f))] if f < 30 else [])
        if f >= 2:
            tracker.regions_at(f - 2)
            tracker.forget_before(f - 1)
    assert len(tracker.tracks) <= 1
    assert all(len(t.seen) <= 3 for t in tracker.tracks)
    assert tracker.regions_at(40) == []


@pytest.mark.parametrize("bad", [{"look_ahead": -1}, {"look_behind": 601}, {"iou": 0.0},
                                 {"grow": -1.0}, {"look_ahead": 1.5}])  # fmt: skip
def test_options_are_checked(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        TrackOptions(**bad)  # type: ignore[arg-type]
