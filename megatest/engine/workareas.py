"""The work-area pipeline: work areas made for launched tests, and ahead for the next ones.

Work areas are made by a forked copy of the runner (engine/preparer.py) unless
MEGATEST_PREPARER=0 or fork is not possible: then the runner makes them itself. With a
preparer, the work areas of up to PREFETCH_MAX next ready tests (at most the job limit) are
made ahead while the running ones run; those tests are LAUNCHED only when a slot frees. A
launched test whose work area was not made ahead is made here and now: a launch never waits
for the preparer to get a turn on cores the tests keep busy.

The preparer's pipes are registered in the runner's Selector, so a result ends the runner's
wait like a test's end does.
"""

from __future__ import annotations

import os
import pickle
import select
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from megatest.engine.model import Key
from megatest.engine.preparer import Outcome, PreparationFailed
from megatest.errors import MegatestError

if TYPE_CHECKING:
    from megatest.config.items import Item
    from megatest.config.testconfig import TestConfig
    from megatest.engine.launching import LaunchContext
    from megatest.engine.preparer import PreparerProcess
    from megatest.engine.scheduler import Launch
    from megatest.engine.session import TestConfigs
    from megatest.executor.reporter import TestRef
    from megatest.launch.base import Selector

PREPARER_ENV = "MEGATEST_PREPARER"
PREFETCH_MAX = 8


class Preparing(NamedTuple):
    """A work area being made: its result, the test, the config and item it is made from."""

    outcome: Outcome
    ref: TestRef
    config: TestConfig
    item: Item | None


def preparer_wanted() -> bool:
    return os.environ.get(PREPARER_ENV, "1") != "0"


class WorkAreas:
    """Work areas of one run: for launched tests (`launched`) and made ahead (`ahead`)."""

    def __init__(self, ctx: LaunchContext, configs: TestConfigs, selector: Selector):
        from megatest.executor.prepare import PreparedReceiver, PreparedSender

        self.ctx = ctx
        self.configs = configs
        self.selector = selector
        self.launched: dict[Key, Preparing] = {}  # LAUNCHED, work area on its way
        self.ahead: dict[Key, Preparing] = {}  # ready, not launched, work area made ahead
        self._not_ahead: set[Key] = set()  # ready tests whose work area waits for their launch
        self._preparer: PreparerProcess | None = None
        # the preparer's results: encoded in its process, decoded here (executor.prepare)
        self._sender = PreparedSender()
        self._receiver = PreparedReceiver()
        self._forked_configs: frozenset[str] = frozenset()

    # -- the preparer's life ------------------------------------------------------------------

    def start_preparer(self) -> None:
        """Fork the preparer once the configs are read (it keeps a copy of them)."""
        from megatest.engine.preparer import PreparerProcess

        self._forked_configs = frozenset(self.configs.read)
        self._preparer = PreparerProcess.start(self._prepare_in_child, _error_text)
        if self._preparer is not None:
            self.selector.register(self._preparer.results_fd)

    def close(self) -> None:
        preparer, self._preparer = self._preparer, None
        if preparer is not None:
            self.selector.unregister(preparer.results_fd)
            self.selector.unregister(preparer.requests_fd)
            preparer.close()

    @property
    def has_preparer(self) -> bool:
        return self._preparer is not None

    def _prepare_in_child(self, payload: tuple) -> object:
        from megatest.engine.launching import prepare_work
        from megatest.executor.reporter import TestRef

        name, config, ref_values, item = payload
        prepared = prepare_work(self.ctx, config if config is not None else self.configs.read[name],
                                TestRef(*ref_values), item)
        return self._sender.encode(prepared)

    # -- requests -----------------------------------------------------------------------------

    def for_launch(self, key: Key, ref: TestRef, config: TestConfig, item: Item | None,
                   made_ahead: Preparing | None) -> None:
        """The work area of a test just LAUNCHED: the one made ahead, or made now."""
        if made_ahead is not None:
            self.launched[key] = made_ahead
        else:
            self._prepare(key, ref, config, item)

    def take_ahead(self, key: Key) -> Preparing | None:
        return self.ahead.pop(key, None)

    def prefetch(self, upcoming: Callable[[int], list[Launch]], want: int,
                 ref_of: Callable[[Key], TestRef]) -> None:
        """Have the work areas of the next ready tests (`upcoming(want)`, asked only when
        there is room) made while the running ones run.

        Only with a preparer (it works on the other core), never for a test with `[skip]`
        rules (they are judged at launch), and at most `want` ahead."""
        if self._preparer is None or len(self.ahead) >= want:
            return
        for launch in upcoming(want):
            key = launch.key
            if key in self.ahead or key in self.launched or key in self._not_ahead:
                continue
            config = self._config_ahead(launch)
            if config is None:
                self._not_ahead.add(key)  # decided once: the queue is looked at every turn
                continue
            self._prepare(key, ref_of(key), config, launch.item, ahead=True)

    def _config_ahead(self, launch: Launch) -> TestConfig | None:
        """The launch-time config of a test whose work area may be made ahead, else None:
        `[skip]` rules are judged at launch, and a read that fails is reported at launch."""
        from megatest.engine.launching import launch_config

        plan_config = launch.plan.payload
        if plan_config.skip is not None:  # type: ignore[union-attr]
            return None  # no launch-time read needed to know
        try:
            config = launch_config(self.ctx, plan_config, launch.item)  # type: ignore[arg-type]
        except (MegatestError, OSError):
            return None
        return config if config.skip is None else None

    def _prepare(self, key: Key, ref: TestRef, config: TestConfig, item: Item | None,
                 ahead: bool = False) -> None:
        """Have the test's work area made: ahead by the preparer, picked up in collect();
        for a launched test, here and now."""
        entry = Preparing(Outcome(), ref, config, item)
        table = self.ahead if ahead else self.launched
        table[key] = entry
        preparer = self._preparer
        if ahead and preparer is not None and not preparer.broken:
            name = key[0]
            # the child has its own copy of the configs read before the fork
            known = name in self._forked_configs and self.configs.read.get(name) is config
            try:
                # plain values pickle faster than the TestRef
                ref_values = (ref.test_name, ref.item_path, ref.test_id, ref.run_id)
                preparer.submit(key, (name, None if known else config, ref_values, item))
                return
            except (pickle.PicklingError, TypeError, AttributeError):
                pass  # a config the child cannot be sent: made here
        if ahead:
            del table[key]  # not made ahead after all: made when it launches
            return
        self._prepare_here(key)

    def _prepare_here(self, key: Key) -> None:
        from megatest.engine.launching import prepare_work

        outcome, ref, config, item = self.launched[key]
        try:
            outcome.set_result(prepare_work(self.ctx, config, ref, item))
        except (MegatestError, OSError) as exc:
            outcome.set_exception(exc)

    # -- around the runner's wait -------------------------------------------------------------

    def before_wait(self) -> None:
        """Watch the request pipe for room while requests wait to be sent."""
        preparer = self._preparer
        if preparer is None:
            return
        if preparer.wants_to_send:
            self.selector.register(preparer.requests_fd, select.POLLOUT)
        else:
            self.selector.unregister(preparer.requests_fd)

    def collect(self) -> None:
        """Results of the preparer; if it is gone, what it had is made here."""
        preparer = self._preparer
        if preparer is None:
            return
        if preparer.results_fd not in self.selector.ready and not preparer.wants_to_send:
            return  # the wait ended for a child or a timer: nothing to read or send
        for key, ok, result in preparer.pump():
            if ok:
                result = self._receiver.decode(result)  # every one, in order: see PreparedSender
            entry = self.launched.get(key) or self.ahead.get(key)
            if entry is None or entry.outcome.done():
                continue  # cancelled meanwhile
            if ok:
                entry.outcome.set_result(result)
            else:
                entry.outcome.set_exception(PreparationFailed(result))
        if preparer.broken:
            print("megatest: warning: the work-area preparer ended; the runner goes on alone",
                  file=sys.stderr)
            lost = preparer.in_flight
            self.close()
            for key in lost:
                made = self.ahead.get(key)
                if made is not None and not made.outcome.done():
                    del self.ahead[key]  # made when it launches
            for key in lost:
                if key in self.launched and not self.launched[key].outcome.done():
                    self._prepare_here(key)

    def done(self) -> list[tuple[Key, Preparing]]:
        """Launched tests whose work area is made (or failed), each once."""
        if not self.launched:
            return []  # most turns: a test ended, nothing was launched
        ready = [(key, entry) for key, entry in self.launched.items() if entry.outcome.done()]
        for key, _entry in ready:
            del self.launched[key]
        return ready

    def cancel(self) -> list[TestRef]:
        """Drop everything on its way (the runner stops); the launched tests' refs."""
        for entry in self.ahead.values():
            entry.outcome.cancel()
        self.ahead.clear()
        refs = []
        for entry in self.launched.values():
            entry.outcome.cancel()
            refs.append(entry.ref)
        self.launched.clear()
        return refs


def _error_text(exc: BaseException) -> str | None:
    """The one line of an error preparing a test (None: not an expected error)."""
    if isinstance(exc, MegatestError):
        return exc.one_line()
    if isinstance(exc, OSError):
        return str(exc)
    return None
