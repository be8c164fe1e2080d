"""Reports of runs: JUnit XML, TeamCity service messages, static HTML pages, run diffs.

Each reads the store through megatest.report.cases (one streaming query of a run's tests)
and writes its format; the live writers of `runs start --junit/--teamcity` are run-event
listeners (megatest.engine.run_events).
"""
