from . import crm_win_loss_report
from . import crm_competitive_report
