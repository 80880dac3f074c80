"""The printed route as a Word file (python-docx), from the structure of :mod:`.structure`."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _

from wagtail_iom.routes.documents.structure import DocumentUnavailable

#: Word has this font on every computer and it has Cyrillic.
DOCX_FONT = "Times New Roman"


def render_docx(document) -> bytes:
    """The document as a Word file (python-docx), from the same structure as the HTML.

    :raises DocumentUnavailable: python-docx is not installed.
    """
    try:
        import docx  # noqa: F401
    except ImportError as exc:  # pragma: no cover - the docx extra is installed in CI
        raise DocumentUnavailable(
            _("Word files cannot be made on this site: python-docx is not installed.")
        ) from exc
    return _DocxWriter(document).write()


class _DocxWriter:
    PORTRAIT = (210, 297)  # A4, mm
    MARGINS = (20, 15, 15, 15)  # left, right, top, bottom, mm

    def __init__(self, document):
        from docx import Document

        self.document = document
        self.doc = Document()
        self._styles()

    # Page setup -----------------------------------------------------------------------------

    def _page(self, section, landscape):
        from docx.enum.section import WD_ORIENT
        from docx.shared import Mm

        width, height = self.PORTRAIT
        if landscape:
            width, height = height, width
        section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(width), Mm(height)
        left, right, top, bottom = self.MARGINS
        section.left_margin, section.right_margin = Mm(left), Mm(right)
        section.top_margin, section.bottom_margin = Mm(top), Mm(bottom)
        self.usable_width = Mm(width - left - right)

    def _new_section(self, landscape):
        from docx.enum.section import WD_SECTION

        self._page(self.doc.add_section(WD_SECTION.NEW_PAGE), landscape)

    # Styles ---------------------------------------------------------------------------------

    @staticmethod
    def _font(rpr_parent_font, element, size=None, bold=None):
        from docx.oxml.ns import qn
        from docx.shared import Pt, RGBColor

        rpr_parent_font.name = DOCX_FONT
        rpr_parent_font.color.rgb = RGBColor(0, 0, 0)
        if size:
            rpr_parent_font.size = Pt(size)
        if bold is not None:
            rpr_parent_font.bold = bold
        # Theme fonts win over a named font: drop them, so that the named font applies.
        rpr = element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is not None:
            for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
                fonts.attrib.pop(qn(attribute), None)

    def _styles(self):
        from docx.oxml.ns import qn
        from docx.shared import Pt

        styles = self.doc.styles
        # The document defaults name theme fonts too.
        defaults = self.doc.styles.element.find(qn("w:docDefaults"))
        if defaults is not None:
            for fonts in defaults.iter(qn("w:rFonts")):
                for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
                    fonts.attrib.pop(qn(attribute), None)
                fonts.set(qn("w:ascii"), DOCX_FONT)
                fonts.set(qn("w:hAnsi"), DOCX_FONT)
        normal = styles["Normal"]
        self._font(normal.font, normal.element, size=11)
        normal.paragraph_format.space_after = Pt(3)
        for name, size in (("Heading 1", 13), ("Heading 2", 12), ("Title", 15)):
            style = styles[name]
            self._font(style.font, style.element, size=size, bold=True)
            style.paragraph_format.space_before = Pt(10)
            style.paragraph_format.space_after = Pt(4)
        title = styles["Title"]
        # The default Title has a coloured bottom border; an official form has none.
        ppr = title.element.find(qn("w:pPr"))
        if ppr is not None:
            border = ppr.find(qn("w:pBdr"))
            if border is not None:
                ppr.remove(border)

    # Writing --------------------------------------------------------------------------------

    def write(self) -> bytes:
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        document = self.document
        self._page(self.doc.sections[0], document.landscape)
        title = self.doc.add_paragraph(document.title, style="Title")
        title.alignment = WD_ALIGN_PARAGRAPH.CENTER
        for line in document.subtitle.splitlines():
            subtitle = self.doc.add_paragraph()
            subtitle.alignment = WD_ALIGN_PARAGRAPH.CENTER
            subtitle.add_run(line).bold = True
        for label, value in document.facts:
            paragraph = self.doc.add_paragraph()
            paragraph.add_run(f"{label}: ").bold = True
            paragraph.add_run(value)
        for section in document.sections:
            switch = section.wide and not document.landscape
            if switch:
                self._new_section(landscape=True)
            if section.title:
                self.doc.add_heading(section.title, level=1)
            for block in section.blocks:
                getattr(self, f"_{block.kind}")(block)
            if switch:
                self._new_section(landscape=False)
        self._signatures()
        output = io.BytesIO()
        self.doc.save(output)
        return output.getvalue()

    def _heading(self, block):
        self.doc.add_heading(block.text, level=2)

    def _paragraph(self, block):
        label = self.doc.add_paragraph()
        label.add_run(block.label).bold = True
        for line in block.lines:
            self.doc.add_paragraph(line)

    def _note(self, block):
        from docx.shared import Pt

        run = self.doc.add_paragraph().add_run(block.text)
        run.italic = True
        run.font.size = Pt(9)

    def _chart(self, block):
        # The competency profile table that follows the chart holds every value.
        return

    @staticmethod
    def _cell_text(cell, text, bold=False, size=10):
        from docx.shared import Pt

        lines = text.split("\n") if text else [""]
        paragraph = cell.paragraphs[0]
        for index, line in enumerate(lines):
            if index:
                paragraph = cell.add_paragraph()
            paragraph.paragraph_format.space_after = Pt(0)
            run = paragraph.add_run(line)
            run.font.size = Pt(size)
            run.bold = bold

    @staticmethod
    def _shade(cell, fill):
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        shading = OxmlElement("w:shd")
        shading.set(qn("w:val"), "clear")
        shading.set(qn("w:color"), "auto")
        shading.set(qn("w:fill"), fill)
        cell._tc.get_or_add_tcPr().append(shading)

    @staticmethod
    def _repeat_as_header(row):
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        marker = OxmlElement("w:tblHeader")
        marker.set(qn("w:val"), "true")
        row._tr.get_or_add_trPr().append(marker)

    def _table(self, table):
        from docx.shared import Mm

        if not table.rows:
            if table.empty_text:
                self._caption(table.caption)
                self.doc.add_paragraph(table.empty_text)
            return
        self._caption(table.caption)
        size = 9 if (self.document.landscape or table.column_count > 5) else 10
        grid = self.doc.add_table(rows=0, cols=table.column_count)
        grid.style = "Table Grid"
        grid.autofit = False
        total = sum(table.widths) or table.column_count
        widths = [
            int(self.usable_width * (w / total)) for w in (table.widths or [1] * table.column_count)
        ]
        if table.header:
            row = grid.add_row()
            self._repeat_as_header(row)
            for cell, text in zip(row.cells, table.columns, strict=True):
                self._cell_text(cell, text, bold=True, size=size)
                self._shade(cell, "E7E6E6")
        for item in table.rows:
            row = grid.add_row()
            if item.group:
                merged = (
                    row.cells[0].merge(row.cells[-1]) if table.column_count > 1 else row.cells[0]
                )
                self._cell_text(merged, item.cells[0], bold=True, size=size)
                self._shade(merged, "F2F2F2")
                continue
            if item.message:
                merged = (
                    row.cells[0].merge(row.cells[-1]) if table.column_count > 1 else row.cells[0]
                )
                self._cell_text(merged, item.cells[0], size=size)
                for run in merged.paragraphs[0].runs:
                    run.italic = True
                continue
            if item.blank:
                row.height = Mm(9)
            for index, (cell, text) in enumerate(zip(row.cells, item.cells, strict=True)):
                if index not in item.covered:
                    self._cell_text(cell, text, bold=not table.header and index == 0, size=size)
        # The form's merged cells (a stage over its levels): merged once every row is there.
        offset = 1 if table.header else 0
        for number, item in enumerate(table.rows):
            for index, span in item.spans.items():
                top = grid.cell(offset + number, index)
                top.merge(grid.cell(offset + number + span - 1, index))
        for row in grid.rows:
            for cell, width in zip(row.cells, widths, strict=False):
                cell.width = width

    def _caption(self, text):
        from docx.shared import Pt

        paragraph = self.doc.add_paragraph()
        paragraph.paragraph_format.space_before = Pt(8)
        paragraph.paragraph_format.keep_with_next = True
        paragraph.add_run(text).bold = True

    def _signatures(self):
        from docx.enum.text import WD_TAB_ALIGNMENT
        from docx.shared import Mm, Pt

        document = self.document
        self.doc.add_paragraph()
        line_end = Mm(115)
        for signature in document.signatures:
            paragraph = self.doc.add_paragraph()
            paragraph.paragraph_format.space_before = Pt(10)
            paragraph.paragraph_format.keep_with_next = True
            stops = paragraph.paragraph_format.tab_stops
            stops.add_tab_stop(Mm(60))
            stops.add_tab_stop(line_end)
            paragraph.add_run(f"{signature.role}:").bold = True
            paragraph.add_run("\t" + "_" * 22 + "\t" + (signature.name or "_" * 26))
            captions = self.doc.add_paragraph()
            captions.paragraph_format.space_after = Pt(0)
            captions.paragraph_format.tab_stops.add_tab_stop(Mm(70), WD_TAB_ALIGNMENT.LEFT)
            captions.paragraph_format.tab_stops.add_tab_stop(Mm(125), WD_TAB_ALIGNMENT.LEFT)
            run = captions.add_run("\t" + _("(signature)") + "\t" + _("(full name)"))
            run.font.size = Pt(8)
            run.italic = True
        closing = self.doc.add_paragraph()
        closing.paragraph_format.space_before = Pt(14)
        closing.add_run(f"{document.date_label}: ").bold = True
        closing.add_run(document.date)
