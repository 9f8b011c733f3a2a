"""pytest plugin of the system tests (tools/test, second stage).

They live in crm_lost_management/tests/system, inside the addon's Python
package, but run outside Odoo: pytest must not import the addon's
``__init__.py`` files (Odoo models can only be imported as
``odoo.addons.crm_lost_management``). Collect every directory as a plain
directory, not as a Python package.
"""

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_collect_directory(path, parent):
    return pytest.Dir.from_parent(parent, path=path)
