# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import fields, models

MERGED_TEXT_FIELDS = ("strengths", "weaknesses", "note")


class CrmLeadCompetitor(models.Model):
    """A competitor an opportunity faces (its *Competition* tab): several per
    deal, one line per competitor. The lines go with their lead (deleted,
    copied, merged with it) and are read and written by whoever may read and
    write the lead."""

    _name = "crm.lead.competitor"
    _description = "Competitor Faced"
    _order = "sequence, id"
    _rec_name = "competitor_id"
    _check_company_auto = True

    sequence = fields.Integer(default=10)
    lead_id = fields.Many2one(
        "crm.lead",
        string="Lead/Opportunity",
        required=True,
        index=True,
        ondelete="cascade",
        context={"active_test": False},
    )
    competitor_id = fields.Many2one(
        "crm.lost.competitor",
        string="Competitor",
        required=True,
        index=True,
        ondelete="restrict",
        check_company=True,
    )
    strengths = fields.Text(help="Where this competitor is stronger on this deal.")
    weaknesses = fields.Text(help="Where this competitor is weaker on this deal.")
    note = fields.Text("Notes")
    # follows the lead: its users, and only them, read its competition
    company_id = fields.Many2one(
        "res.company",
        string="Company",
        related="lead_id.company_id",
        store=True,
        index=True,
    )

    _sql_constraints = [
        (
            "lead_competitor_uniq",
            "UNIQUE (lead_id, competitor_id)",
            "This competitor is already on the Competition tab of this deal: add "
            "the new notes to its line instead of adding it twice.",
        ),
    ]

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _merge_into(self, lead):
        """Give ``lead`` the competitors of the lines ``self`` (of leads being
        merged into it): a competitor it does not face yet gets a new line, one
        it faces keeps its line, completed with the texts it did not have
        (texts that differ are kept one after the other). The lines ``self``
        stay with their leads, which a merge deletes by default."""
        lead.ensure_one()
        own = {line.competitor_id: line for line in lead.competitor_line_ids}
        to_create = []
        for competitor, lines in self.grouped("competitor_id").items():
            line = own.get(competitor)
            values = {}
            for name in MERGED_TEXT_FIELDS:
                texts = ([line[name]] if line else []) + lines.mapped(name)
                merged = _join_texts(texts)
                if not line or merged != (line[name] or False):
                    values[name] = merged
            if line:
                if values:
                    line.write(values)
            else:
                to_create.append(
                    {
                        "lead_id": lead.id,
                        "competitor_id": competitor.id,
                        "sequence": lines[0].sequence,
                        **values,
                    }
                )
        return self.create(to_create)


def _join_texts(texts):
    """The distinct non-empty ``texts``, in order, one paragraph each."""
    kept = []
    for text in texts:
        if text and text not in kept:
            kept.append(text)
    return "\n\n".join(kept) or False
