"""Closed sets of values shared by several layers. Enums have string values; every
function that takes one also accepts the string (``ViewPosition("CC")``)."""

from __future__ import annotations

from enum import StrEnum


class Laterality(StrEnum):
    """Which breast: DICOM ImageLaterality values."""

    L = "L"
    R = "R"


class ViewPosition(StrEnum):
    """Mammographic view positions used in ductography (DICOM ViewPosition values).

    CC: cranio-caudal; ML: medio-lateral (90°, beam from medial to lateral);
    MLO: medio-lateral oblique; LM: latero-medial (90°, beam from lateral to medial).
    """

    CC = "CC"
    ML = "ML"
    MLO = "MLO"
    LM = "LM"
