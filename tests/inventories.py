"""The kinds of server the API may be, as functions from the ``limit`` asked to the phone
numbers answered (for ``LoopbackServer(inventory=...)`` or a MockTransport handler). Each
records the limits it was asked for."""

from __future__ import annotations

import random

from numbers_async._pagination import PAGE_MAX


def phone(index: int) -> str:
    return f"+1415{index:07d}"


class Inventory:
    """Base: records every ``limit`` asked."""

    def __init__(self) -> None:
        self.limits: list[int] = []

    def __call__(self, limit: int) -> list[str]:
        self.limits.append(limit)
        return self.answer(limit)

    def answer(self, limit: int) -> list[str]:
        raise NotImplementedError


class RandomSample(Inventory):
    """Samples ``size`` numbers at random for each answer, as the sandbox and a provider do."""

    def __init__(self, size: int, seed: int = 0) -> None:
        super().__init__()
        self.numbers = [phone(index) for index in range(size)]
        self._random = random.Random(seed)

    def answer(self, limit: int) -> list[str]:
        return self._random.sample(self.numbers, min(limit, len(self.numbers)))


class Repeating(Inventory):
    """Answers with the same first numbers every time (a server without paging or sampling)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.numbers = [phone(index) for index in range(size)]

    def answer(self, limit: int) -> list[str]:
        return self.numbers[:limit]


class Trickle(Inventory):
    """A full page of numbers already sent but 1 new one, every time."""

    def answer(self, limit: int) -> list[str]:
        old = [phone(index) for index in range(PAGE_MAX - 1)]
        return [*old, phone(PAGE_MAX * 1000 + len(self.limits))]


class IgnoresLimit(Inventory):
    """Sends a full page of new numbers whatever was asked."""

    def answer(self, limit: int) -> list[str]:
        start = PAGE_MAX * len(self.limits)
        return [phone(index) for index in range(start, start + PAGE_MAX)]


class FeaturedFirst(Inventory):
    """The same ``featured`` numbers first in every answer, the rest sampled at random from the
    other numbers of ``size``: a server favouring some of its inventory."""

    def __init__(self, featured: int, size: int, seed: int = 0) -> None:
        super().__init__()
        self.featured = [phone(index) for index in range(featured)]
        self.others = [phone(index) for index in range(featured, size)]
        self._random = random.Random(seed)

    def answer(self, limit: int) -> list[str]:
        sampled = self._random.sample(self.others, max(0, limit - len(self.featured)))
        return [*self.featured, *sampled][:limit]


class Growing(RandomSample):
    """Samples at random from an inventory that grows by ``per_answer`` numbers each answer."""

    def __init__(self, size: int, per_answer: int, seed: int = 0) -> None:
        super().__init__(size, seed)
        self.per_answer = per_answer

    def answer(self, limit: int) -> list[str]:
        numbers = super().answer(limit)
        start = len(self.numbers)
        self.numbers += [phone(index) for index in range(start, start + self.per_answer)]
        return numbers


class Slips(RandomSample):
    """Samples at random, but its second answer is empty and every fifth one a number short (a
    provider's slips: a page of 49, or none once, from an inventory far larger)."""

    def answer(self, limit: int) -> list[str]:
        numbers = super().answer(limit)
        count = len(self.limits)
        if count == 2:
            return []
        return numbers[:-1] if count % 5 == 0 else numbers


class BoughtOut(RandomSample):
    """Samples at random until ``after`` answers, then from the ``left`` numbers others did not
    buy meanwhile."""

    def __init__(self, size: int, after: int, left: int, seed: int = 0) -> None:
        super().__init__(size, seed)
        self.after, self.left = after, left

    def answer(self, limit: int) -> list[str]:
        if len(self.limits) == self.after + 1:
            self.numbers = self.numbers[: self.left]
        return super().answer(limit)
