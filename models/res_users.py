# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api, models


class ResUsers(models.Model):
    _inherit = "res.users"

    @api.model
    def _get_activity_groups(self):
        """Activities on lost (archived) leads, such as a due revisit, are
        counted under "Lead/Opportunity" but the lead list that group opens
        hides archived leads, so the user could not reach them (see
        odoo/odoo#214942). Count them under "Other activities", which lists
        the activities themselves."""
        groups = super()._get_activity_groups()
        lead_group = next((g for g in groups if g["model"] == "crm.lead"), None)
        if not lead_group:
            return groups
        activities = self.env["mail.activity"].search(
            [("user_id", "=", self.env.uid), ("res_model", "=", "crm.lead")]
        )
        archived_ids = set(
            self.env["crm.lead"]
            .with_context(active_test=False)
            .search([("id", "in", activities.mapped("res_id")), ("active", "=", False)])
            .ids
        )
        moved = activities.filtered(lambda activity: activity.res_id in archived_ids)
        if not moved:
            return groups
        other = next((g for g in groups if g["model"] == "mail.activity"), None)
        if not other:
            other = dict(
                lead_group,
                id=self.env["ir.model"]._get_id("mail.activity"),
                name=self.env._("Other activities"),
                model="mail.activity",
                icon=lead_group["icon"],
                activity_ids=[],
                total_count=0,
                today_count=0,
                overdue_count=0,
                planned_count=0,
            )
            groups.append(other)
        for activity in moved:
            for group, sign in ((lead_group, -1), (other, 1)):
                group[f"{activity.state}_count"] += sign
                if activity.state in ("today", "overdue"):
                    group["total_count"] += sign
        other["activity_ids"] = list(other.get("activity_ids", [])) + moved.ids
        if not any(
            lead_group[key]
            for key in ("total_count", "today_count", "overdue_count", "planned_count")
        ):
            groups.remove(lead_group)
        return groups
