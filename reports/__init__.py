from . import crm_win_loss_report
