"""pytest plugin used by tools/test.

- Test modules import ``odoo.tests``, which logs an error unless Odoo runs in
  test mode; but with test mode on while pytest-odoo loads the registry, Odoo
  would also run the at_install tests of every installed module. So test mode
  is on while pytest collects (imports) the tests, and off again before the
  registry is loaded; pytest-odoo enables it around each test module.
- The threaded HTTP server of the tours reads every module manifest on its
  first static file request. CPython 3.11 can fail ("AST constructor recursion
  depth mismatch") when several threads parse at once, which breaks a random
  request of a tour: read the manifests once, here, before any request.
"""

import odoo


def pytest_collection(session):
    odoo.tools.config["test_enable"] = True


def pytest_collection_finish(session):
    odoo.tools.config["test_enable"] = False
    from odoo.http import root

    len(root.statics)  # a cached property: computed once, now
