from . import crm_lead_lost
from . import crm_lead_restore
from . import crm_lead_won
from . import crm_lost_settings
