"""IdentityMemo: one computation per object, equal objects kept apart."""

from __future__ import annotations

from axon_lab._memo import IdentityMemo


class _Box:
    def __init__(self, value: int) -> None:
        self.value = value


def test_each_object_is_computed_once() -> None:
    calls: list[int] = []

    def make(box: _Box) -> int:
        calls.append(box.value)
        return box.value * 10

    memo: IdentityMemo[_Box, int] = IdentityMemo(make)
    a, b = _Box(1), _Box(2)
    assert [memo(a), memo(b), memo(a), memo(b)] == [10, 20, 10, 20]
    assert calls == [1, 2]


def test_equal_but_distinct_objects_are_computed_apart() -> None:
    memo: IdentityMemo[list[int], int] = IdentityMemo(lambda items: id(items))
    first, second = [1], [1]
    assert memo(first) == id(first)
    assert memo(second) == id(second)


def test_a_full_memo_starts_over_and_stays_correct() -> None:
    memo: IdentityMemo[_Box, int] = IdentityMemo(lambda box: box.value, size=3)
    boxes = [_Box(i) for i in range(10)]
    assert [memo(box) for box in boxes] == list(range(10))
    assert len(memo) <= 3
    assert [memo(box) for box in boxes] == list(range(10))


def test_many_is_each_call_in_order() -> None:
    calls: list[int] = []

    def make(box: _Box) -> int:
        calls.append(box.value)
        return box.value * 10

    memo: IdentityMemo[_Box, int] = IdentityMemo(make, size=4)
    boxes = [_Box(i) for i in range(6)]
    assert memo.many(boxes[:3]) == [0, 10, 20]
    assert memo.many(reversed(boxes)) == [50, 40, 30, 20, 10, 0]  # the memo starts over on the way
    assert calls == [0, 1, 2, 5, 4, 3, 2, 1, 0]  # (full at 4: cleared, so 2, 1, 0 are made again)
    assert memo.many([]) == []
