# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import _, api, fields, models
from odoo.exceptions import UserError


class CrmLostReasonCategory(models.Model):
    _name = "crm.lost.reason.category"
    _description = "Lost Reason Category"
    _order = "sequence, name, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    color = fields.Integer()
    active = fields.Boolean(default=True)
    description = fields.Text(translate=True)
    reason_ids = fields.One2many(
        "crm.lost.reason", "category_id", string="Lost Reasons"
    )
    reason_count = fields.Integer(compute="_compute_reason_count")

    _sql_constraints = [
        ("name_uniq", "unique (name)", "A lost reason category with this name exists."),
    ]

    def _compute_reason_count(self):
        data = self.env["crm.lost.reason"]._read_group(
            [("category_id", "in", self.ids)], ["category_id"], ["__count"]
        )
        counts = {category.id: count for category, count in data}
        for category in self:
            category.reason_count = counts.get(category.id, 0)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_used(self):
        # archived reasons, and reasons or losses of companies the user does
        # not see, count too
        used_by_reasons = (
            self.env["crm.lost.reason"]
            .sudo()
            .with_context(active_test=False)
            ._read_group([("category_id", "in", self.ids)], ["category_id"])
        )
        used_by_losses = (
            self.env["crm.lead.loss"]
            .sudo()
            ._read_group([("category_id", "in", self.ids)], ["category_id"])
        )
        used_by_won_reasons = (
            self.env["crm.won.reason"]
            .sudo()
            .with_context(active_test=False)
            ._read_group([("category_id", "in", self.ids)], ["category_id"])
        )
        used_by_wins = (
            self.env["crm.lead.win"]
            .sudo()
            ._read_group([("category_id", "in", self.ids)], ["category_id"])
        )
        used = self.browse(
            {
                category.id
                for (category,) in used_by_reasons
                + used_by_losses
                + used_by_won_reasons
                + used_by_wins
            }
        )
        if used:
            raise UserError(
                _(
                    "You cannot delete the reason categories %(categories)s: lost "
                    "or won reasons (archived ones included), loss or win records "
                    "use them. Archive them instead.",
                    categories=", ".join(used.mapped("name")),
                )
            )
