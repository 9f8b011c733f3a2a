# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import fields, models


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
