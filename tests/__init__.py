from . import test_lost_reason
from . import test_lost_wizard
from . import test_loss_records
from . import test_restore
from . import test_access
from . import test_ui
from . import test_reports
from . import test_reports_ui
