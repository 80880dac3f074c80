"""Blocks of an event page's body: text, a programme, documents and links."""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.documents.blocks import DocumentChooserBlock


class ProgrammeItemBlock(blocks.StructBlock):
    time = blocks.CharBlock(label=_("Time"), max_length=32, required=False)
    topic = blocks.CharBlock(label=_("Topic"), max_length=255)
    speaker = blocks.CharBlock(label=_("Speaker"), max_length=255, required=False)

    class Meta:
        icon = "time"
        label = _("Programme item")


class LinkBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("Title"), max_length=255)
    url = blocks.URLBlock(label=_("Address"))

    class Meta:
        icon = "link"
        label = _("Link")


class EventBodyBlock(blocks.StreamBlock):
    heading = blocks.CharBlock(label=_("Heading"), max_length=255, form_classname="title")
    paragraph = blocks.RichTextBlock(
        label=_("Text"), features=["bold", "italic", "link", "ol", "ul", "document-link"]
    )
    programme = blocks.ListBlock(ProgrammeItemBlock(), label=_("Programme"), icon="list-ol")
    document = DocumentChooserBlock(label=_("Document"))
    link = LinkBlock()

    class Meta:
        template = "wagtail_iom/blocks/event_body.html"
