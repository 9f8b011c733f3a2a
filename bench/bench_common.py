"""Helpers shared by the benchmarks of bench/."""


def bench_manager(env):
    """The sales manager the benchmarks act as (created once, committed)."""
    manager = env["res.users"].search([("login", "=", "bench_manager")])
    if not manager:
        manager = env["res.users"].create(
            {
                "name": "Bench Manager",
                "login": "bench_manager",
                "groups_id": [(4, env.ref("sales_team.group_sale_manager").id)],
            }
        )
        env.cr.commit()
    return manager


def update_module(odoo_bin, addons_path, db, module):
    """A reused scratch database gets the current code of ``module``."""
    import subprocess

    print(f"Updating {module} in {db}...", flush=True)
    subprocess.run(
        [
            odoo_bin,
            f"--addons-path={addons_path}",
            "-d",
            db,
            "-u",
            module,
            "--stop-after-init",
            "--log-level=warn",
        ],
        check=True,
    )
