# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import threading


def commit_cron_progress(env, done, remaining):
    """Report a cron's progress and commit the batch just done, as Odoo 18
    crons do, so that a crash loses nothing and a rerun continues. Tests
    (which may not commit) only get the work done."""
    if getattr(threading.current_thread(), "testing", False):
        return
    env["ir.cron"]._notify_progress(done=done, remaining=remaining)
    env.cr.commit()  # pylint: disable=invalid-commit
