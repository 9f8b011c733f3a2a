"""pytest plugin used by tools/test.

- Importing ``odoo.tests`` logs an error unless Odoo runs in test mode, so
  tools/test starts Odoo with ``test-enable``; but with test mode on while
  pytest-odoo loads the registry, Odoo would also run the at_install tests
  of every installed module. So test mode is switched off once pytest has
  collected (imported) the tests, before the registry is loaded; pytest-odoo
  enables it again around each test module.
- The threaded HTTP server of the tours reads every module manifest on its
  first static file request. CPython 3.11 can fail ("AST constructor recursion
  depth mismatch") when several threads parse at once, which breaks a random
  request of a tour: read the manifests once, here, before any request.
"""

import odoo


def pytest_collection_finish(session):
    odoo.tools.config["test_enable"] = False
    from odoo.http import root

    len(root.statics)  # a cached property: computed once, now
