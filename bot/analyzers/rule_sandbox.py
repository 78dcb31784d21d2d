"""The repository's rules run in a child process, so a rule that runs past its time can be stopped.

ast-grep matches in native code that holds the GIL for the whole call: a rule built to be slow (a
relational rule with `stopBy: end` on every node is quadratic) takes a minute on a 3,000-line file and
would freeze every thread of the App meanwhile; no deadline inside the process can interrupt it. So
the team's rules run in one child process per review (`python -m bot.analyzers.rule_sandbox FD`: a fresh
interpreter, not a fork, as the App has threads, and not multiprocessing's spawn, which re-runs the parent's
main script; started on first use and reused for every file), talking over a socket pair. The parent waits
for each rule at most what is left of its budget; past it, it kills the child, names the rule, and runs
the file's remaining rules in a fresh one.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection

from bot.analyzers.astgrep import AstGrepAnalyzer
from bot.analyzers.base import FileInput
from bot.analyzers.rule_pack import AstGrepRule
from bot.core.deadline import DeadlineExceeded
from bot.core.model import Finding

START, RESULT, DONE, FAILED, OUT_OF_TIME = "start", "result", "done", "failed", "out-of-time"
ANSWER_SECONDS = 30.0  # a fresh child importing ast-grep and parsing the file, before its first rule starts


class RuleProcessError(RuntimeError):
    """The child failed on a file (a bug, or it died): the engine reports the analyzer as failed on it."""


def _serve(conn: Connection) -> None:
    """The child: the rules come first; then for each (file, rule ids to skip) it is sent, announce each rule,
    then send its findings."""
    try:
        analyzer = AstGrepAnalyzer(conn.recv())
    except (EOFError, OSError):
        return
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        file, skip = message
        try:
            for rule_id, findings in analyzer.rule_runs(file, skip, before=lambda rid: conn.send((START, rid))):
                conn.send((RESULT, rule_id, findings))
        except DeadlineExceeded:
            conn.send((OUT_OF_TIME,))
            continue
        except Exception as exc:  # reported to the parent, which names the analyzer as failed on the file
            conn.send((FAILED, f"{type(exc).__name__}: {exc}"))
            continue
        conn.send((DONE,))


class RuleSandbox:
    """One child process running a fixed set of rules; `run` bounds each rule's time on each file."""

    def __init__(self, rules: Sequence[AstGrepRule]) -> None:
        self.rules = list(rules)
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None

    def _start(self) -> Connection:
        ours, theirs = socket.socketpair()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}  # the same `bot` package
        with theirs:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "bot.analyzers.rule_sandbox", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, env=env,
            )
        self._conn = Connection(ours.detach())
        self._conn.send(self.rules)
        return self._conn

    def _kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(5)
        if self._conn is not None:
            self._conn.close()
        self._process, self._conn = None, None

    def close(self) -> None:
        """Ask the child to stop (killed if it does not)."""
        if self._conn is not None:
            try:
                self._conn.send(None)
            except OSError:
                pass
        if self._process is not None:
            try:
                self._process.wait(1)
            except subprocess.TimeoutExpired:
                pass
        self._kill()

    def run(
        self, file: FileInput, skip: set[str], left: Callable[[str], float], spend: Callable[[str, float], None]
    ) -> tuple[list[Finding], list[str]]:
        """The findings of every rule not in `skip` on `file`, and the rules stopped on it: a rule still running
        when `left(rule id)` seconds have passed is stopped (the child is killed, the file's remaining rules run
        in a fresh one). `spend(rule id, seconds)` is told each rule's time."""
        findings: list[Finding] = []
        stopped: list[str] = []
        done = set(skip)
        while True:
            conn = self._conn or self._start()
            conn.send((file, frozenset(done)))
            overran = self._collect(conn, file, left, spend, findings, done)
            if overran is None:
                return findings, stopped
            self._kill()
            stopped.append(overran)
            done.add(overran)

    def _collect(
        self, conn: Connection, file: FileInput, left: Callable[[str], float], spend: Callable[[str, float], None],
        findings: list[Finding], done: set[str],
    ) -> str | None:
        """Read the child's answers about one file; the id of a rule that ran out of time, or None when done."""
        current: str | None = None
        started = time.perf_counter()
        while True:
            allowed = ANSWER_SECONDS if current is None else left(current) - (time.perf_counter() - started)
            allowed = min(allowed, file.deadline.remaining())
            if not conn.poll(max(0.0, allowed)):
                if current is not None and left(current) <= time.perf_counter() - started:
                    spend(current, time.perf_counter() - started)
                    return current
                self._kill()
                if file.deadline.expired():
                    raise DeadlineExceeded()
                raise RuleProcessError("the repository rules' process did not answer")
            try:
                message = conn.recv()
            except (EOFError, OSError) as exc:
                self._kill()
                raise RuleProcessError("the repository rules' process died") from exc
            if message[0] == START:
                current, started = message[1], time.perf_counter()
            elif message[0] == RESULT:
                spend(message[1], time.perf_counter() - started)
                findings.extend(message[2])
                done.add(message[1])
                current, started = None, time.perf_counter()
            elif message[0] == OUT_OF_TIME:
                raise DeadlineExceeded()
            elif message[0] == FAILED:
                raise RuleProcessError(message[1])
            else:
                return None


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1])))
