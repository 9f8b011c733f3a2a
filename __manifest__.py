# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "CRM Lost Management",
    "summary": "Lost reasons with policies, loss history, competitors and restore "
    "for leads and opportunities",
    "version": "18.0.1.2.0",
    "category": "Sales/CRM",
    "website": "https://github.com/crm-lost-management/crm_lost_management",
    "author": "crm_lost_management contributors",
    "license": "LGPL-3",
    "application": False,
    "installable": True,
    "depends": ["crm"],
    "data": [
        "security/crm_lost_management_security.xml",
        "security/ir.model.access.csv",
        "data/crm_lost_reason_category_data.xml",
        "data/crm_lost_reason_data.xml",
        "data/crm_won_reason_data.xml",
        "data/mail_activity_type_data.xml",
        "data/ir_cron_data.xml",
        "wizards/crm_lead_lost_views.xml",
        "wizards/crm_lead_restore_views.xml",
        "wizards/crm_lead_won_views.xml",
        "wizards/crm_lost_settings_views.xml",
        "views/crm_lead_loss_views.xml",
        "views/crm_lost_reason_views.xml",
        "views/crm_won_reason_views.xml",
        "views/crm_lost_reason_category_views.xml",
        "views/crm_lost_competitor_views.xml",
        "views/crm_lead_views.xml",
        "views/crm_team_views.xml",
        "views/res_config_settings_views.xml",
        "reports/crm_win_loss_report_views.xml",
        "reports/crm_competitive_report_views.xml",
        "views/crm_lost_management_menus.xml",
    ],
    "demo": [
        "demo/crm_lost_management_demo.xml",
    ],
    "post_init_hook": "post_init_hook",
    "assets": {
        "web.assets_backend": [
            "crm_lost_management/static/src/**/*",
        ],
        "web.assets_tests": [
            "crm_lost_management/static/tests/tours/**/*",
        ],
    },
}
