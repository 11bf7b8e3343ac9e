"""PDF/A-2b for the PDFs the system issues (GB/T 9704 letters, minutes, the 公文处理单).

A reportlab canvas gets, just before it is saved: an sRGB OutputIntent (the ICC profile that lcms2
builds, through Pillow), an XMP metadata packet (pdfaid part 2, conformance B; dc:title, dc:creator,
dc:description, pdf:Keywords, pdf:Producer, xmp:CreatorTool and the dates, equal to the Info
dictionary as PDF/A requires), /Lang zh-CN, and a real creation date (China time). All fonts are
embedded already (the renderers draw with TrueType subsets only). Signing adds an incremental update,
which PDF/A-2 allows, so the signed file stays PDF/A.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from xml.sax.saxutils import escape

from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFStream, PDFString
from reportlab.pdfgen.canvas import Canvas

CHINA = timezone(timedelta(hours=8))
LANG = "zh-CN"
OUTPUT_CONDITION = "sRGB IEC61966-2.1"


def _producer() -> str:
    """The Producer written into Info and XMP: pyHanko's own vendor string. Signing (an incremental
    update) rewrites XMP pdf:Producer to exactly that string and keeps Info /Producer when it already
    contains it, so Info and XMP still agree in the signed file, as PDF/A requires."""
    from pyhanko.pdf_utils.metadata.model import VENDOR

    return VENDOR


@cache
def srgb_icc() -> bytes:
    """An sRGB ICC profile (lcms2's built-in, via Pillow): the OutputIntent's DestOutputProfile."""
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _china(when: datetime) -> datetime:
    if when.tzinfo is None:                      # the system's clocks keep naive UTC
        when = when.replace(tzinfo=UTC)
    return when.astimezone(CHINA).replace(microsecond=0)


def xmp_packet(*, title: str, author: str, subject: str, keywords: str, creator: str, producer: str,
               created: datetime) -> bytes:
    when = _china(created).isoformat()
    x = escape
    return f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
   <pdfaid:part>2</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{x(title)}</rdf:li></rdf:Alt></dc:title>
   <dc:creator><rdf:Seq><rdf:li>{x(author)}</rdf:li></rdf:Seq></dc:creator>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{x(subject)}</rdf:li></rdf:Alt></dc:description>
   <dc:language><rdf:Bag><rdf:li>{LANG}</rdf:li></rdf:Bag></dc:language>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
   <pdf:Producer>{x(producer)}</pdf:Producer>
   <pdf:Keywords>{x(keywords)}</pdf:Keywords>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
   <xmp:CreatorTool>{x(creator)}</xmp:CreatorTool>
   <xmp:CreateDate>{when}</xmp:CreateDate>
   <xmp:ModifyDate>{when}</xmp:ModifyDate>
   <xmp:MetadataDate>{when}</xmp:MetadataDate>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>""".encode()


def make_pdfa(c: Canvas, created: datetime) -> None:
    """Turn what ``c`` will save into PDF/A-2b (call before ``c.save()``)."""
    info = c._doc.info
    info.producer = _producer()
    info.keywords = info.keywords or info.subject or info.title
    info.subject = info.subject or info.title
    local = _china(created)
    stamp = local.strftime("D:%Y%m%d%H%M%S+08'00'")
    c.setDateFormatter(lambda *_ymdhms: stamp)
    doc = c._doc
    icc = PDFStream(PDFDictionary({"N": 3}), srgb_icc())
    intent = PDFDictionary({"Type": PDFName("OutputIntent"), "S": PDFName("GTS_PDFA1"),
                            "OutputConditionIdentifier": PDFString(OUTPUT_CONDITION),
                            "Info": PDFString(OUTPUT_CONDITION), "DestOutputProfile": doc.Reference(icc)})
    catalog = doc.Catalog
    if "OutputIntents" not in catalog.__NoDefault__:   # reportlab writes only the catalog keys it knows
        catalog.__NoDefault__ = [*catalog.__NoDefault__, "OutputIntents"]
    c.setCatalogEntry("OutputIntents", PDFArray([intent]))
    xmp = xmp_packet(title=info.title, author=info.author, subject=info.subject, keywords=info.keywords,
                     creator=info.creator, producer=info.producer, created=created)
    meta = _UnfilteredStream(PDFDictionary({"Type": PDFName("Metadata"), "Subtype": PDFName("XML")}), xmp)
    c.setCatalogEntry("Metadata", doc.Reference(meta))
    c.setCatalogEntry("Lang", PDFString(LANG))


class _UnfilteredStream(PDFStream):
    """A stream written without any /Filter key (PDF/A: the metadata stream is plain text)."""

    def format(self, document):
        saved = document.defaultStreamFilters
        document.defaultStreamFilters = None
        try:
            return super().format(document)
        finally:
            document.defaultStreamFilters = saved


class PdfACanvas(Canvas):
    """A Canvas that saves as PDF/A-2b (for platypus' ``canvasmaker``); ``created`` defaults to now."""

    def __init__(self, *args, created: datetime | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._pdfa_created = created or datetime.now(UTC)

    def save(self) -> None:
        make_pdfa(self, self._pdfa_created)
        super().save()
