"""The spec in SageMaker terms, derived once per object generation instead of on every poll.

A settled GuardedEndpoint is looked at every few minutes, and its spec has not changed since the
last pass: validating it again and hashing it into names and requests would be the same work
with the same result (about a tenth of a settled poll's CPU). ``metadata.generation`` changes
with every change of the spec, so ``(uid, generation)`` names one spec for good; the Region and
the names recorded in status (what :func:`~sagemaker_guardrails.core.migration.in_use` looks at)
complete the key. Entries are evicted least recently used first, so the memo stays small
whatever the number of objects; a spec that does not validate is never kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from sagemaker_guardrails.core.desired import Desired

__all__ = ["DesiredMemo"]


class DesiredMemo:
    """A thread-safe, bounded LRU of derived specs; ``get`` builds what it does not hold."""

    def __init__(self, size: int = 2048) -> None:
        self._size = size
        self._entries: OrderedDict[Hashable, tuple[Desired, Desired]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], tuple[Desired, Desired]]) -> tuple[Desired, Desired]:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        made = build()  # outside the lock: workers build different keys side by side
        with self._lock:
            self._entries[key] = made
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return made

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
