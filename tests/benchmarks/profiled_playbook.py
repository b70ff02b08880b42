# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``ansible-playbook`` under cProfile: the main process and every forked worker, one stats file each.

    python profiled_playbook.py OUT_DIR ansible-playbook-arguments...

Ansible forks a worker per task and host; cProfile in the main process alone would miss the workers, where the
action plugins (and most of the CPU) run, so ``WorkerProcess.run`` is wrapped too.
"""

from __future__ import annotations

import cProfile
import os
import sys
import time
import typing as t


def main() -> None:
    out = sys.argv[1]
    from ansible.cli.playbook import PlaybookCLI
    from ansible.executor.process import worker

    run = worker.WorkerProcess.run
    profile = cProfile.Profile(time.process_time)  # CPU time: waiting on the host is not the cost here

    def profiled_run(self: t.Any) -> None:
        profile.disable()  # the forked worker inherits the main process's profiler: its own starts afresh
        own = cProfile.Profile(time.process_time)
        own.enable()
        try:
            run(self)
        finally:
            own.disable()
            own.dump_stats(os.path.join(out, f"worker-{os.getpid()}.prof"))

    worker.WorkerProcess.run = profiled_run  # type: ignore[method-assign]
    profile.enable()
    try:
        PlaybookCLI.cli_executor(["ansible-playbook", *sys.argv[2:]])  # type: ignore[no-untyped-call]
    finally:
        profile.disable()
        profile.dump_stats(os.path.join(out, "main.prof"))


if __name__ == "__main__":
    main()
