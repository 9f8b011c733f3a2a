from . import crm_lost_reason_category
from . import crm_lost_competitor
from . import crm_lost_reason
from . import crm_lead_loss
from . import crm_lead
from . import res_company
from . import res_config_settings
