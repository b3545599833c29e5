"""Pagination-by-limit, the decisions: the API has no cursor and returns at most ``PAGE_MAX``
numbers a request (the spec's ``limit`` maximum, 50), so a search for N numbers repeats the
request, de-duplicating by phoneNumber, until a stop rule holds. Everything here is pure;
``_pages.py`` does the I/O.

The API may sample its inventory at random (each page a fresh sample: pages bring fewer new
numbers as the inventory is used up) or repeat itself (the same first numbers every time). Both
are handled by one rule: every page is a capture-recapture sample, and the search stops when the
estimated share of the matching inventory not yet seen falls below a threshold.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from numbers_api.models import AvailableNumber

from numbers_api.spec_facts import PAGE_MAX as PAGE_MAX  # the spec's limit maximum

StopReason = Literal["limit", "short_page", "no_progress"]
"""Why a search ended: ``limit`` reached; a ``short_page`` (fewer numbers than asked on the
first page, or on two pages in a row of numbers mostly seen: the inventory is smaller than a
page); ``no_progress`` (recent pages bring almost nothing new, or the server repeats the same
numbers). The last two mean the inventory ran out."""

EXHAUSTED_REASONS: frozenset[StopReason] = frozenset({"short_page", "no_progress"})

MIN_NEW_SHARE = 0.005
"""Default no-progress threshold. Measured against a server sampling 600 numbers at random
(300 seeds, limit 5,000): 0.005 collects a median 99.7 % (min 98.2 %) of the inventory in a
median 65 requests; 0.01 gives 99.5 % (min 98.0 %) in 59; 0.002 gives 99.8 % in 78."""

RECENT_PAGES = 10
"""How many recent pages (after the first) estimate the share of new numbers: 500 numbers, so
a 0.5 % threshold means fewer than 3 new ones among them."""

REPEAT_FACTOR = 0.95
"""A server is repeating itself when capture-recapture estimates its inventory below this
share of the numbers already seen (a random sampler's estimate stays near its true size)..."""

REPEAT_NEW_SHARE = 0.1
"""... and its recent pages bring fewer than this share of new numbers (5 of 50). The estimate
assumes every number is as likely to come back; a server listing the same 30 numbers first on
every page, favouring some, or whose inventory grows, pulls it below the count seen while each
page still brings 13-40 % new numbers: without this bound such searches of 1,000 ended at 210
numbers, "exhausted". A trickle of 1 new number per page (2 %) still ends in 8 pages."""


def first_page_size(limit: int) -> int:
    """The first request asks for what is wanted, at most a page: a search for 10 is one
    request of 10."""
    return min(limit, PAGE_MAX)


def continuation_page_size() -> int:
    """Every later request asks for a full page, whatever is missing: a random-sampling server
    answers a request for 1 number with one already seen far more often than a request for 50
    with nothing new, so small requests would end searches early."""
    return PAGE_MAX


def pages_wanted_in_flight(missing: int, window: int) -> int:
    """How many continuation requests may be in flight: the window, but no more pages than the
    numbers still missing could fill (a search sends about ``ceil(limit / 50)`` requests)."""
    return min(window, math.ceil(missing / PAGE_MAX))


def inventory_estimate(weighted_marked: int, recaptured: int) -> float:
    """Schnabel's capture-recapture estimate of the inventory's size, with Chapman's +1:
    ``sum(distinct_in_page * seen_before_page) / (sum(recaptured) + 1)`` over every page."""
    return weighted_marked / (recaptured + 1)


class PagePlan:
    """The state of one search's paging and its stop rule; pure (no I/O), fed page by page.

    ``record()`` takes each page's outcome in request order and returns the reason to stop, or
    None to go on. The search has made no progress when

    - the pages after the first, over the last ``RECENT_PAGES``, brought fewer than
      ``min_new_share`` of new numbers: for a random sampler that share estimates what is left
      unseen of the inventory (a page of 50 with 1 % new means about 1 % is left); or
    - the server repeats itself: its inventory, estimated by capture-recapture over every page,
      is smaller than what was already seen, and the recent pages bring fewer than
      ``REPEAT_NEW_SHARE`` of new numbers (a server trickling 1 new number among 49 old ones
      keeps a steady 2 % of new numbers, but this estimate falls below the count seen); or
    - ``RECENT_PAGES`` pages in a row brought nothing new (what ends the search when
      ``min_new_share`` is 0).
    """

    __slots__ = (
        "_recaptured",
        "_recent",
        "_recent_distinct",
        "_recent_new",
        "_spent",
        "_weighted_marked",
        "collected",
        "limit",
        "min_new_share",
        "pages",
        "seen",
        "stop_reason",
    )

    def __init__(self, limit: int, min_new_share: float = MIN_NEW_SHARE) -> None:
        self.limit = limit
        self.min_new_share = min_new_share
        self.collected = 0  # numbers kept for the caller (at most limit)
        self.seen = 0  # distinct numbers seen, kept or not
        self.pages = 0
        self.stop_reason: StopReason | None = None
        self._weighted_marked = 0
        self._recaptured = 0
        self._recent: deque[tuple[int, int]] = deque()  # (distinct, new) of recent pages
        self._recent_distinct = 0
        self._recent_new = 0
        self._spent = False  # the last page recorded was short, of numbers mostly seen

    @property
    def missing(self) -> int:
        """Numbers still wanted."""
        return self.limit - self.collected

    def record(
        self, asked: int, returned: int, distinct: int, new: int, kept: int
    ) -> StopReason | None:
        """One page's outcome: ``returned`` numbers for ``asked`` (``distinct`` different ones,
        ``new`` of them never seen before, ``kept`` of those added to the result). Returns why
        to stop, or None; the reason stays in ``stop_reason``."""
        self.pages += 1
        self._weighted_marked += distinct * self.seen
        self._recaptured += distinct - new
        self.seen += new
        self.collected += kept
        if self.pages > 1:  # the first page is all new: it says nothing about what is left
            self._remember(distinct, new)
        # A short page of numbers mostly seen before (or none): the inventory looks spent.
        spent = returned < asked and 2 * new <= distinct
        self.stop_reason = self._stop(returned < asked, spent)
        self._spent = spent
        return self.stop_reason

    def _remember(self, distinct: int, new: int) -> None:
        self._recent.append((distinct, new))
        self._recent_distinct += distinct
        self._recent_new += new
        if len(self._recent) > RECENT_PAGES:
            old_distinct, old_new = self._recent.popleft()
            self._recent_distinct -= old_distinct
            self._recent_new -= old_new

    def _stop(self, short: bool, spent: bool) -> StopReason | None:
        if self.collected >= self.limit:
            return "limit"
        # A short first page: the inventory is smaller than a page (one request for a small
        # one). After full pages a short page may be a server's slip (a provider's page of 49,
        # or an empty one, even two in a row): only two in a row of numbers mostly seen end
        # the search; meanwhile each counts as any page does.
        if (short and self.pages == 1) or (spent and self._spent):
            return "short_page"
        if not self._recent:
            return None
        if self._recent_new < self.min_new_share * self._recent_distinct:
            return "no_progress"
        if (
            self._recent_new < REPEAT_NEW_SHARE * self._recent_distinct
            and inventory_estimate(self._weighted_marked, self._recaptured)
            < REPEAT_FACTOR * self.seen
        ):
            return "no_progress"
        if self._recent_new == 0 and len(self._recent) == RECENT_PAGES:
            return "no_progress"
        return None


class Deduplicator:
    """Keeps the first occurrence of each phone number across pages, in server order."""

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def new_numbers(self, page: list[AvailableNumber]) -> tuple[list[AvailableNumber], int]:
        """The numbers of ``page`` not seen before (each once), now marked seen, and how many
        different numbers the page held."""
        seen = self._seen
        phones = [number.phone_number for number in page]
        distinct = set(phones)
        if len(distinct) == len(phones) and seen.isdisjoint(distinct):  # as a rule: set operations
            seen |= distinct
            return list(page), len(phones)
        fresh: list[AvailableNumber] = []
        for number in page:
            if number.phone_number not in seen:
                seen.add(number.phone_number)
                fresh.append(number)
        return fresh, len(distinct)
